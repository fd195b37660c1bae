"""The "optimizer" target kind: a hand-written optimizer step against keras.optimizers.

    nn-compare check my_adam.py [--steps N] [--dtype float64|float32] [--json out.json]

The contract is in `optimizer_user.py`.  The user's update and Keras' real optimizer
(`apply` on keras.Variables) take the same N steps (default 20) of a fixed gradient
sequence from a real training run (`optimizer_steps.py`), in float64 and float32,
from the same start.  Agreement: every element of every parameter at every step
within the measured round-off allowance (`optimizer_steps.RTOL`).

When they disagree, the named variants (`optimizer_variants.py`: conventions, bugs,
hyper-parameters at another library's default, a learning rate off by a fitted
factor) run on the same gradients and the smallest one that reproduces the user's
numbers is named.  A set of conventions alone agrees (exit 0, each named with the
size of its difference from Keras); a bug disagrees (exit 1) with its name; when
nothing reproduces the numbers, the first step, parameter and elements are given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from handrolled import optimizers as hr
from handrolled.errors import SpecError

from . import optimizer_steps as steps
from . import optimizer_variants as variants
from .kinds import CheckOptions, target_kind
from .text import wrap
from .optimizer_user import CONTRACT, describe_form, form_of, run_user
from .differences import fitted_factor
from .errors import TargetError

DTYPES = ("float64", "float32")


@dataclass
class Match:
    """A named candidate that reproduces the user's numbers in `dtypes`."""

    candidate: variants.Candidate
    dtypes: tuple


@dataclass
class OptimizerOutcome:
    target: str
    optimizer: hr.Optimizer
    form: str
    steps: int
    seed: int
    comparisons: dict                       # dtype -> Comparison against Keras
    match: Match | None = None              # what reproduces the user's numbers, if not Keras
    notes: list = field(default_factory=list)

    @property
    def agree(self) -> bool:
        if all(c.agree for c in self.comparisons.values()):
            return True
        return self.match is not None and self.match.candidate.deviation is None

    # ------------------------------------------------------------ findings
    def diagnosis(self) -> list[dict]:
        if self.match is None or self.match.candidate.deviation is None:
            return []
        v, fit = self.match.candidate.deviation, self.match.candidate.fit
        return [{"bug": v.id, "label": v.label, "kind": v.kind,
                 "message": v.message(self.optimizer, fit)}]

    def conventions(self) -> list[dict]:
        if self.match is None:
            return []
        first = self._reference()
        out = []
        conventions = self.match.candidate.conventions
        for v in conventions:
            message = v.message(self.optimizer, self.match.candidate.fit)
            if self.match.candidate.deviation is not None:  # matched together with a bug
                message = ("besides the bug above, your code differs from Keras by this "
                           "convention (not a bug): " + message)
            if self.match.candidate.deviation is None and first is not None \
                    and v is conventions[-1]:  # their difference together, said once
                message += (f" (difference from Keras {first.step1_diff:.2g} at step 1, "
                            f"{first.max_abs:.2g} after {self.steps} steps, {first.dtype})")
            out.append({"name": v.id, "message": message})
        return out

    def _reference(self):
        for dtype in DTYPES:
            if dtype in self.comparisons and not self.comparisons[dtype].agree:
                return self.comparisons[dtype]
        return None

    def unexplained(self) -> list[str]:
        if self.agree or self.match is not None:
            return []
        listed = ", ".join(v.label for v in variants.VARIANTS
                           if v.applies(self.optimizer))
        lines = [f"none of the named variants reproduces your numbers ({listed}, and "
                 f"other libraries' defaults for epsilon, beta_2, rho, the accumulator)."]
        for dtype, c in self.comparisons.items():
            if c.agree:
                continue
            w = c.where
            lines.append(f"{dtype}: first outside round-off at step {c.first_step}, in "
                         f"{w['parameter']}: {w['elements']} of {w['of']} elements, the "
                         f"largest at {tuple(w['largest_at'])}: yours {w['yours']:.10g}, "
                         f"Keras {w['keras']:.10g}.")
        return lines

    # ------------------------------------------------------------ output
    def to_dict(self) -> dict:
        return {"kind": "optimizer", "agree": self.agree, "target": self.target,
                "optimizer": self.optimizer.text, "keras": f"keras.optimizers."
                                                           f"{self.optimizer.keras_name}",
                "form": self.form, "steps": self.steps, "seed": self.seed,
                "tolerance": {d: steps.RTOL[d] for d in self.comparisons},
                "comparisons": {d: c.to_dict() for d, c in self.comparisons.items()},
                "matched": None if self.match is None else {
                    "variants": list(self.match.candidate.ids),
                    "dtypes": list(self.match.dtypes), "fit": self.match.candidate.fit},
                "diagnosis": self.diagnosis(), "conventions": self.conventions(),
                "unexplained": self.unexplained(), "notes": self.notes}

    def format(self) -> str:
        dtypes = list(self.comparisons)
        lines = [f"optimizer check: {Path(self.target).name}",
                 f"  {self.optimizer.text} against keras.optimizers.{self.optimizer.keras_name}, "
                 f"{self.steps} steps of the gradients of a small CNN trained by handrolled code",
                 f"  your code: {describe_form(self.form)}", ""]
        header = f"{'parameter':<16}{'shape':<16}" + "".join(f"{d + ' max |diff|':>22}"
                                                             for d in dtypes)
        lines.append(header)
        first = next(iter(self.comparisons.values()))
        for name in first.per_parameter:
            shape = str(self.shapes[name])
            lines.append(f"{name:<16}{shape:<16}" + "".join(
                f"{self.comparisons[d].per_parameter[name]:>22.3g}" for d in dtypes))
        lines.append("")
        for d, c in self.comparisons.items():
            what = ("identical" if c.identical else "agree within round-off" if c.agree
                    else f"disagree from step {c.first_step}")
            if not c.agree and self.match is not None and self.match.candidate.deviation is None:
                what = (f"differs from step {c.first_step} by the convention(s) below; agrees "
                        f"with them within round-off")
            lines.append(f"  {d}: {what} (allowance {steps.RTOL[d]:g} x (|w_0| + sum of "
                         f"|steps|) per element)")
        lines.append("")
        lines.append(f"verdict: {'AGREE' if self.agree else 'DISAGREE'}")
        for finding in self.diagnosis():
            lines.append(f"diagnosis: {finding['message']}.")
        for convention in self.conventions():
            lines.append(f"convention: {convention['message']}.")
        lines += self.unexplained()
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(wrap(line) for line in lines)

    shapes: dict = field(default_factory=dict)




# ---------------------------------------------------------------- the check
def declared_optimizer(declared: dict) -> hr.Optimizer:
    text = declared.get("OPTIMIZER")
    if not isinstance(text, str):
        raise TargetError(f"OPTIMIZER is {text!r}; expected the optimizer's text, e.g. "
                          f"\"adam(learning_rate=0.001)\"; {CONTRACT}")
    try:
        optimizer = hr.get(text)
    except SpecError as error:
        raise TargetError(f"OPTIMIZER = {text!r}: {error}") from None
    if not optimizer.keras_name:
        raise TargetError(f"OPTIMIZER = {text!r} has no Keras twin; declare 'adam(...)': "
                          f"the textbook form is recognised as a convention")
    return optimizer


def _dtypes(options: CheckOptions) -> tuple:
    if options.dtype is None:
        return DTYPES
    if options.dtype not in DTYPES:
        raise TargetError(f"dtype {options.dtype!r}; accepted: {', '.join(DTYPES)}")
    return (options.dtype,)


def check_optimizer(user, options: CheckOptions) -> OptimizerOutcome:
    declared = user.declared
    optimizer = declared_optimizer(declared)
    form = form_of(declared)
    n = options.steps or steps.DEFAULT_STEPS
    if not 1 <= n <= 1000:
        raise TargetError(f"--steps {n}: accepted 1 to 1000")
    problem = steps.gradient_problem(n, options.seed)
    ours = {}
    for dtype in _dtypes(options):  # the user's side first: a broken target fails before TF
        start, grads = problem.cast(dtype)
        ours[dtype] = run_user(user, form, start, grads, declared)
    comparisons, scales, keras = {}, {}, {}
    for dtype, trajectory in ours.items():
        keras[dtype] = keras_trajectory(optimizer.text, n, options.seed, dtype)
        scales[dtype] = steps.scales(keras[dtype], problem.cast(dtype)[0])
        comparisons[dtype] = steps.compare_trajectories(trajectory, keras[dtype], scales[dtype],
                                                        dtype)
    outcome = OptimizerOutcome(str(user.path), optimizer, form, n, options.seed, comparisons,
                               shapes=problem.shapes())
    if not outcome.agree:
        outcome.match = find_match(optimizer, problem, ours, scales, comparisons)
    return outcome


_KERAS_RUNS: dict = {}


def keras_trajectory(text: str, n: int, seed: int, dtype: str) -> list[dict]:
    """Keras' run, kept for the process' life (the same text, steps, seed and dtype always
    give the same numbers; a test suite checks many targets against the same twin)."""
    key = (text, n, seed, dtype)
    if key not in _KERAS_RUNS:
        _KERAS_RUNS[key] = steps.keras_trajectory(text, steps.gradient_problem(n, seed), dtype)
    return _KERAS_RUNS[key]


def step_factor(user: list[dict], reference: list[dict], start: dict) -> float | None:
    """c minimising |user step 1 - c x reference step 1| over every element
    (`differences.fitted_factor`), or None when the steps are not a positive multiple
    other than 1."""
    du = np.concatenate([(user[0][k] - start[k]).ravel() for k in start])
    dr = np.concatenate([(reference[0][k] - start[k]).ravel() for k in start])
    c = fitted_factor(du, dr)
    return c if c is not None and np.isfinite(c) and c > 0 and abs(c - 1) > 1e-6 else None


def find_match(optimizer, problem, ours: dict, scales: dict, comparisons: dict) -> Match | None:
    """The smallest candidate reproducing the user's numbers in every dtype where they
    differ from Keras' (float64 first: it separates what float32 round-off hides).
    A learning-rate factor is fitted on step 1 against each set of conventions."""
    from keras_impl import installed_conventions  # Keras ran already: keras_trajectory

    keras_rounding = installed_conventions()  # the candidates start from Keras' roundings
    differing = [d for d in DTYPES if d in comparisons and not comparisons[d].agree]
    first = differing[0]
    start = problem.cast(first)[0]
    found = []
    for candidate in variants.candidates(optimizer):
        try:
            runs = {d: steps.handrolled_trajectory(candidate.optimizer(), problem, d,
                                                   keras_rounding) for d in differing}
        except (ValueError, ZeroDivisionError, FloatingPointError):
            continue
        if candidate.variants and _reproduces(runs, ours, scales):
            found.append(candidate)
        factor = (step_factor(ours[first], runs[first], start)
                  if candidate.deviation is None else None)
        rescaled = variants.scaled(candidate, factor) if factor else None
        if rescaled is not None and _reproduces(
                {d: steps.handrolled_trajectory(rescaled.optimizer(), problem, d,
                                                keras_rounding) for d in differing},
                ours, scales):
            found.append(rescaled)
    if not found:
        return None
    # a named bug before a bare factor (momentum as an average IS a factor 1 - mu)
    best = min(found, key=lambda c: (c.deviation is not None,
                                     c.deviation is not None and "factor" in c.fit,
                                     len(c.conventions)))
    return Match(best, tuple(differing))


def _reproduces(runs: dict, ours: dict, scales: dict) -> bool:
    return all(steps.compare_trajectories(ours[d], run, scales[d], d).agree
               for d, run in runs.items())


@target_kind("optimizer", detect=lambda declared: "OPTIMIZER" in declared and "update" in declared
             and "train_step" not in declared, order=30,
             declares="OPTIMIZER, update(w, g, state)")
def run_optimizer_check(user, options: CheckOptions) -> OptimizerOutcome:
    return check_optimizer(user, options)
