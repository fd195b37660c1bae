"""Named variants of the project's optimizers: the bugs and conventions a hand-written
optimizer is matched against.  The one home of them (optimizer targets and
training-loop targets both use it).

A variant is a small deviation of a hand-written Keras twin (handrolled/optimizers),
written once, as a mixin placed in front of the project's class, through the hooks
the project's optimizers keep for this (`keras_cast`, `bias_corrections`, `root`,
`current_learning_rate`, `apply`, `update`):

    for candidate in candidates("adam(learning_rate=0.001)", fitted):
        candidate.optimizer()        # a fresh handrolled Optimizer that deviates as named
        candidate.bugs, candidate.conventions, candidate.declared

Each candidate is a set of conventions (documented differences that agree once
used: `Kind.CONVENTION`, never a bug) with at most one bug (`Kind.BUG`) or one
hyper-parameter the code uses otherwise than declared (`Kind.DECLARE`).  The
checker runs every candidate on the user's gradients and names the smallest one
that reproduces the user's numbers; the variants never look at the user's file.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from itertools import combinations
from typing import Callable

import numpy as np

from handrolled import optimizers as hr
from handrolled.optimizers.base import exact, via_float32

BUG, CONVENTION, DECLARE = "bug", "convention", "declare"


# ---------------------------------------------------------------- the deviations
class ExactHyperParameters:
    """beta_1, beta_2, momentum, weight_decay, initial_accumulator_value used as given
    (NumPy code with Python floats), where Keras rounds them through float32."""

    keras_cast = staticmethod(exact)


class EpsilonOutsideRoot:
    """RMSprop/Adagrad: g / (sqrt(v) + epsilon), where Keras takes sqrt(v + epsilon)."""

    def root(self, mean_square, out=None):
        return np.sqrt(mean_square) + self.applied["epsilon"]


class PyTorchMomentum:
    """SGD momentum as PyTorch writes it: v <- mu v + g; w <- w - lr v
    (Nesterov: w <- w - lr (g + mu v)).  Keras keeps m = -lr v; the two take the same
    steps while the learning rate is constant."""

    def update(self, w, g, lr, s):
        if self.momentum == 0:
            return super().update(w, g, lr, s)
        mu, v = self.applied["momentum"], s["m"]
        np.add(mu * v, g, out=v)
        w -= lr * (g + mu * v) if self.nesterov else lr * v


class StepCounterOffByOne:
    """Adam's bias corrections at t + 1: the first step uses t = 2."""

    def bias_corrections(self):
        self.iterations += 1
        try:
            return super().bias_corrections()
        finally:
            self.iterations -= 1


class BiasCorrectionMissing:
    """m and v used without dividing by 1 - beta**t."""

    def bias_corrections(self):
        one = self.dtype.type(1)
        return one, one


class FirstMomentCorrectionMissing:
    def bias_corrections(self):
        return self.dtype.type(1), super().bias_corrections()[1]


class SecondMomentCorrectionMissing:
    def bias_corrections(self):
        return super().bias_corrections()[0], self.dtype.type(1)


class CorrectionWithoutPower:
    """(1 - beta) where (1 - beta**t) belongs: m / (1 - beta_1), v / (1 - beta_2)."""

    def bias_corrections(self):
        return self.applied["1 - beta_1"], self.applied["1 - beta_2"]


class LearningRateFactor:
    """Every step `factor` times the right one (set on the built class)."""

    factor = 1.0

    def current_learning_rate(self):
        return super().current_learning_rate() * self.dtype.type(self.factor)


class CoupledWeightDecay:
    """Weight decay as an L2 term in the gradient, g + wd w, through the moments
    (Adam with L2), where AdamW decays the weights directly: w - lr wd w."""

    def apply(self, params, grads):
        if not self.built:
            self.build(params)
        wd = self.applied["weight_decay"]
        grads = {name: np.asarray(g, dtype=self.dtype) + wd * params[name]
                 for name, g in grads.items()}
        decay, self.weight_decay = self.weight_decay, None
        try:
            super().apply(params, grads)
        finally:
            self.weight_decay = decay


class DecayWithoutLearningRate:
    """w <- w - wd w, not times the learning rate."""

    def apply(self, params, grads):
        if not self.built:
            self.build(params)
        wd = self.applied["weight_decay"]
        for w in params.values():
            w -= w * wd
        decay, self.weight_decay = self.weight_decay, None
        try:
            super().apply(params, grads)
        finally:
            self.weight_decay = decay


class AveragedMomentum:
    """Momentum as an exponential average (deeplearning.ai's convention):
    v <- mu v + (1 - mu) g; w <- w - lr v.  Keras' SGD adds the whole gradient."""

    def update(self, w, g, lr, s):
        mu, v = self.applied["momentum"], s["m"]
        np.add(mu * v, (1 - mu) * g, out=v)
        w -= lr * v


# ---------------------------------------------------------------- the registry
@dataclass(frozen=True)
class Variant:
    """One named deviation.  `applies(optimizer)`: whether it means anything for that
    optimizer; `mixin`: the class put in front; `options`: changed options instead;
    `message(optimizer, fit)`: the sentence (fit: what was fitted, e.g. the factor)."""

    id: str
    kind: str
    label: str
    applies: Callable[[hr.Optimizer], bool]
    message: Callable[[hr.Optimizer, dict], str]
    mixin: type | None = None
    options: Callable[[hr.Optimizer], dict] | None = None
    base: type | None = None          # the project class it replaces the declared one with


def _is(*names):
    return lambda opt: opt.name in names


def _adam(opt):
    return opt.name in ("adam", "adamw") and not opt.amsgrad


def _momentum(opt):
    return opt.name == "sgd" and opt.momentum > 0


def _rounded(opt) -> list[str]:
    """The hyper-parameters Keras rounds through float32, as 'beta_1 = 0.9 -> 0.8999999761581421'."""
    keys = {"adam": ("beta_1", "beta_2"), "adamw": ("beta_1", "beta_2"),
            "sgd": ("momentum",), "adagrad": ("initial_accumulator_value",)}.get(opt.name, ())
    keys = [k for k in keys if getattr(opt, k)] + (["weight_decay"] if opt.weight_decay else [])
    return [f"{k} = {getattr(opt, k):g} as {float(via_float32(getattr(opt, k), 'float64')):.17g}"
            for k in keys if float(via_float32(getattr(opt, k), "float64")) != getattr(opt, k)]


def _factor_text(opt, fit) -> str:
    c = fit.get("factor", 1.0)
    lr = opt.learning_rate if isinstance(opt.learning_rate, float) else None
    if lr and abs(c / lr - 1) < 1e-6:
        return (f"the learning rate is applied twice: every step is lr = {lr:g} times "
                f"Keras' (lr^2 = {lr * lr:g} where Keras uses {lr:g})")
    return f"the learning rate is off by a constant factor: every step is {c:.6g} times Keras'"


VARIANTS: list[Variant] = [
    # conventions
    Variant("exact_hyperparameters", CONVENTION, "hyper-parameters not rounded to float32",
            lambda opt: bool(_rounded(opt)),
            lambda opt, fit: (f"agrees with {opt.text} computed with its hyper-parameters as "
                              f"written; Keras rounds them through float32 first "
                              f"({'; '.join(_rounded(opt))}): expected"),
            mixin=ExactHyperParameters),
    Variant("textbook_epsilon", CONVENTION, "epsilon after the bias correction (Kingma & Ba)",
            _adam,
            lambda opt, fit: ("agrees with Adam as written in Kingma & Ba (epsilon after bias "
                              "correction: m_hat / (sqrt(v_hat) + epsilon)); Keras puts epsilon "
                              "before it (alpha m / (sqrt(v) + epsilon)): expected"),
            base=hr.AdamTextbook),
    Variant("epsilon_outside_root", CONVENTION, "epsilon outside the square root",
            _is("rmsprop", "adagrad"),
            lambda opt, fit: (f"agrees with {opt.name} written g / (sqrt(v) + epsilon), as "
                              f"PyTorch and most notes write it; Keras takes sqrt(v + epsilon): "
                              f"expected"),
            mixin=EpsilonOutsideRoot),
    Variant("pytorch_momentum", CONVENTION, "PyTorch's momentum (v = mu v + g; w -= lr v)",
            _momentum,
            lambda opt, fit: ("agrees with momentum as PyTorch writes it (v = mu v + g; "
                              "w -= lr v); Keras keeps m = mu m - lr g; w += m, the same steps "
                              "while the learning rate is constant: expected"),
            mixin=PyTorchMomentum),
    # bugs
    Variant("step_counter_off_by_one", BUG, "step counter off by one", _adam,
            lambda opt, fit: ("Adam's step counter is off by one: the first bias correction "
                              "uses t = 2, not t = 1 (count the step before the update, "
                              "starting from 0)"),
            mixin=StepCounterOffByOne),
    Variant("bias_correction_missing", BUG, "bias correction missing", _adam,
            lambda opt, fit: ("Adam's bias correction is missing: m and v are used without "
                              "dividing by 1 - beta_1**t and 1 - beta_2**t"),
            mixin=BiasCorrectionMissing),
    Variant("first_moment_correction_missing", BUG, "m's bias correction missing", _adam,
            lambda opt, fit: "Adam's m is used without its bias correction 1 - beta_1**t",
            mixin=FirstMomentCorrectionMissing),
    Variant("second_moment_correction_missing", BUG, "v's bias correction missing", _adam,
            lambda opt, fit: "Adam's v is used without its bias correction 1 - beta_2**t",
            mixin=SecondMomentCorrectionMissing),
    Variant("correction_without_power", BUG, "(1 - beta) where (1 - beta**t) belongs", _adam,
            lambda opt, fit: ("Adam's bias correction divides by (1 - beta_1) and "
                              "(1 - beta_2) where (1 - beta_1**t) and (1 - beta_2**t) belong"),
            mixin=CorrectionWithoutPower),
    Variant("learning_rate_factor", BUG, "learning rate off by a factor",
            lambda opt: not isinstance(opt.learning_rate, hr.Schedule),
            _factor_text, mixin=LearningRateFactor),
    Variant("weight_decay_coupled", BUG, "weight decay coupled (L2 in the gradient)",
            lambda opt: bool(opt.weight_decay),
            lambda opt, fit: (f"the weight decay is added to the gradient (g + wd w, an L2 "
                              f"term passed through the optimizer's moments); {opt.name} "
                              f"decays the weights directly, w -= lr wd w (decoupled, as "
                              f"Loshchilov & Hutter)"),
            mixin=CoupledWeightDecay),
    Variant("weight_decay_without_lr", BUG, "weight decay not times the learning rate",
            lambda opt: bool(opt.weight_decay),
            lambda opt, fit: ("the weight decay is applied as w -= wd w; Keras multiplies it "
                              "by the learning rate: w -= lr wd w"),
            mixin=DecayWithoutLearningRate),
    Variant("momentum_averaged", BUG, "momentum as an average (v = mu v + (1 - mu) g)",
            lambda opt: _momentum(opt) and not opt.nesterov,
            lambda opt, fit: (f"momentum in the exponential-average convention (v = mu v + "
                              f"(1 - mu) g; w -= lr v): Keras' SGD adds the whole gradient "
                              f"(m = mu m - lr g), so your steps are about (1 - mu) = "
                              f"{1 - opt.momentum:g} times Keras' once momentum builds up"),
            mixin=AveragedMomentum),
    Variant("nesterov_missing", BUG, "Nesterov momentum missing",
            lambda opt: _momentum(opt) and opt.nesterov,
            lambda opt, fit: ("the update is plain momentum; nesterov=true asks for the "
                              "look-ahead step w += mu m - lr g"),
            options=lambda opt: {"nesterov": False}),
    Variant("nesterov_unexpected", BUG, "Nesterov momentum where plain momentum is declared",
            lambda opt: _momentum(opt) and not opt.nesterov,
            lambda opt, fit: ("the update is Nesterov's (w += mu m - lr g); the declared "
                              "optimizer has nesterov=false"),
            options=lambda opt: {"nesterov": True}),
]

# hyper-parameters that hand-written code often has at another library's default
OTHER_DEFAULTS = {"epsilon": (1e-8, 1e-7, 1e-6, 1e-10), "initial_accumulator_value": (0.0,),
                  "beta_2": (0.99, 0.999), "rho": (0.9, 0.99, 0.95)}


def declared_variants(opt: hr.Optimizer) -> list[Variant]:
    """One DECLARE variant per common value of a hyper-parameter other than the declared."""
    out = []
    for key, values in OTHER_DEFAULTS.items():
        if key not in opt.options():
            continue
        for value in values:
            if value == getattr(opt, key):
                continue
            out.append(Variant(
                f"{key}={value:g}", DECLARE, f"{key} = {value:g}", lambda o: True,
                lambda o, fit, key=key, value=value: (
                    f"your code uses {key} = {value:g}; the declared optimizer has "
                    f"{key} = {getattr(o, key):g}: declare {_with(o, key, value)} if you mean it"),
                options=lambda o, key=key, value=value: {key: value}))
    return out


def _with(opt, key, value) -> str:
    changed = dict(opt.options(), **{key: value})
    return type(opt)(**changed).text


def get(variant_id: str) -> Variant:
    for v in VARIANTS:
        if v.id == variant_id:
            return v
    raise KeyError(variant_id)


# ---------------------------------------------------------------- candidates
@dataclass
class Candidate:
    """Conventions (any number) and at most one bug or declared-option difference."""

    declared: hr.Optimizer
    conventions: tuple[Variant, ...] = ()
    deviation: Variant | None = None
    fit: dict = field(default_factory=dict)

    @property
    def variants(self) -> tuple[Variant, ...]:
        return self.conventions + ((self.deviation,) if self.deviation else ())

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(v.id for v in self.variants)

    def optimizer(self) -> hr.Optimizer:
        """A fresh handrolled optimizer deviating as named."""
        opt = self.declared
        options = dict(opt.options())
        base = type(opt)
        mixins = []
        for v in self.variants:
            if v.options:
                options.update(v.options(opt))
            if v.base:
                base = v.base
            if v.mixin:
                mixins.append(v.mixin)
        if base is hr.AdamTextbook:        # exact betas already; the textbook takes no amsgrad
            mixins = [m for m in mixins if m is not ExactHyperParameters]
        cls = type("_".join(self.ids) or base.__name__, (*mixins, base),
                   {"factor": self.fit.get("factor", 1.0)} if LearningRateFactor in mixins else {})
        accepted = inspect.signature(base.__init__).parameters
        return cls(**{k: v for k, v in options.items() if k in accepted})

    def describe(self) -> str:
        return " + ".join(v.label for v in self.variants) or f"Keras' {self.declared.name}"


def candidates(declared: hr.Optimizer) -> list[Candidate]:
    """Every combination of the conventions that apply with at most one deviation, the
    smallest first (Keras' own form first of all).  The learning-rate factor is not
    among them: it is fitted (`scaled`)."""
    conventions = [v for v in VARIANTS if v.kind == CONVENTION and v.applies(declared)]
    deviations = [v for v in VARIANTS if v.kind == BUG and v.applies(declared)
                  and v.id != "learning_rate_factor"]
    deviations += declared_variants(declared)
    sets = [c for r in range(len(conventions) + 1) for c in combinations(conventions, r)]
    out = [Candidate(declared, tuple(c), None) for c in sets]
    out += [Candidate(declared, tuple(c), d) for d in deviations for c in sets]
    return out


def scaled(candidate: Candidate, factor: float) -> Candidate | None:
    """The candidate's conventions with every step `factor` times as large, or None where a
    factor means nothing (a schedule)."""
    variant = get("learning_rate_factor")
    if not variant.applies(candidate.declared):
        return None
    lr = candidate.declared.learning_rate
    if abs(factor / lr - 1) < 1e-9:
        factor = lr                                   # the learning rate applied twice
    else:
        nice = float(f"{factor:.3g}")
        factor = nice if abs(nice / factor - 1) < 1e-9 else factor
    return Candidate(candidate.declared, candidate.conventions, variant, {"factor": factor})
