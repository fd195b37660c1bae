"""The "training_loop" target kind: the user's whole training step against Keras' `fit`.

    INPUTS = 784; LAYERS = [(32, "relu"), (10, "softmax")]; LAYOUT = "bias_row"   # as a
    OPTIMIZER = "sgd(learning_rate=0.1,momentum=0.9)"                               # network
    def train_step(X, Y, weights, state):          # one mini-batch: forward, backward, update
        ...                                        # state: None at the first step, then
        return weights, state, loss                #   whatever this returned last time

`nn-compare check FILE [--steps N]` runs N steps (default 10) of the user's loop and of
Keras' real `model.fit` (shuffle=False, the same batches of `--batch` rows, the optimizer
OPTIMIZER names, compiled as the project's training runs are) from the same weights (the
book's seeded draw, in the user's layout).  The user's code runs once, its state passed
explicitly (None at the start), so nothing mixes between runs.  The round-off envelope
comes from the project's own hand-written loop run twice (each batch's rows reversed the
second time), never from the user's code: step t agrees when |yours - Keras| (the loss,
every weight) stays within `ROUNDOFF_RULES[dtype].factor` x the envelope's running
maximum, or `floor_ulps` eps x the size of the numbers.

When they disagree, the same loop runs with the named variants (`optimizer_variants.py`,
one home: the optimizer's bugs and conventions) and with the update applied before the
gradient of the same step is finished (`premature_update_step`), and the smallest variant
reproducing the user's numbers is named; conventions alone agree (exit 0).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from handrolled import Network, init_weights
from handrolled import optimizers as hr
from handrolled.weights import rename_legacy, to_legacy

from . import optimizer_variants as variants
from .errors import ContractError, TargetError
from .kinds import CheckOptions, target_kind
from .optimizer_kind import declared_optimizer
from .target import LAYOUTS, Target, _spec, _value
from .text import wrap

DEFAULT_STEPS = 10
CONTRACT = ("a training-loop target defines INPUTS, LAYERS, LAYOUT, OPTIMIZER and "
            "train_step(X, Y, weights, state) -> (weights, state, loss) "
            "(see docs/checking/training-loop.md)")


# ---------------------------------------------------------------- runs
@dataclass
class Run:
    """Per step: the loss of the step's forward pass, and the weights after the update
    (the book's names, W1, b1, ...)."""

    losses: list = field(default_factory=list)
    weights: list = field(default_factory=list)


def batches(X, Y, batch: int, n: int):
    return [(X[t * batch:(t + 1) * batch], Y[t * batch:(t + 1) * batch]) for t in range(n)]


def user_run(target: Target, user, data, params, dtype: str = "float64") -> Run:
    run, state = Run(), None
    weights = [w.astype(dtype) for w in target.user_weights(params)]  # in the run's dtype
    shapes = target.expected_shapes()
    for t, (X, Y) in enumerate(data, start=1):
        where = f"train_step at step {t}"
        try:
            weights, state, loss = user.call(
                "train_step", X, Y, weights, state,
                returns=("tuple", [("list", "array"), "handle", "float"]))
        except ContractError as error:
            raise TargetError(f"{where} returned something else than the contract: "
                              f"{_named(error.path, target)} {error.problem}; {CONTRACT}"
                              ) from None
        if [w.shape for w in weights] != shapes:
            raise TargetError(f"{where} returned weights of shapes {[w.shape for w in weights]}"
                              f"; expected {shapes} for LAYOUT '{target.layout}'")
        if not np.isfinite(loss) or any(not np.all(np.isfinite(w)) for w in weights):
            raise TargetError(f"{where} returned NaN or inf (the loss {loss:g} or the "
                              f"weights); they must stay finite")
        run.losses.append(float(loss))
        run.weights.append({k: np.asarray(v, np.float64) for k, v in
                            target.to_params(weights).items()})
    return run


def _named(path: tuple, target: Target) -> str:
    """A place in train_step's result in the user's terms: 'weights[0] (w1 ...)', 'loss'."""
    if not path:
        return "the result"
    if path[0] == 0 and len(path) > 1 and isinstance(path[1], int) \
            and path[1] < len(target.array_names()):
        return f"weights[{path[1]}], {target.array_names()[path[1]]},"
    return {0: "weights", 1: "state", 2: "loss"}.get(path[0], "the result")


def reference_run(spec, params, data, optimizer: hr.Optimizer, premature=False,
                  reverse=False) -> Run:
    """The project's own loop (handrolled.Network, the optimizer given)."""
    network = Network(spec, {k: v.copy() for k, v in rename_legacy(spec, params).items()})
    optimizer.build(network.params, network.conventions)  # rounded as the spec's Keras
    run = Run()
    with np.errstate(all="ignore"):
        for X, Y in data:
            if reverse:
                X, Y = X[::-1], Y[::-1]
            if premature:
                loss = premature_update_step(network, optimizer, X, Y)
            else:
                loss, grads = network.loss_and_gradients(X, Y)
                optimizer.apply(network.params, grads)
            run.losses.append(float(loss))
            run.weights.append(to_legacy(spec, {k: v.copy() for k, v in network.params.items()}))
    return run


def premature_update_step(network: Network, optimizer: hr.Optimizer, X, Y) -> float:
    """The bug: each layer's weights are updated as soon as its gradient is known, and the
    delta passed down is computed through the updated weights.  Each layer's update is
    what this step's update gives it (a scratch copy of the optimizer, elementwise)."""
    cache = network.forward(X, training=True)
    loss = network.loss_of(cache, Y)
    dy = network.loss_function.delta(cache.output, Y)
    grads = {}
    for index in range(len(network.layers) - 1, -1, -1):
        layer = network.layers[index]
        params = network.layer_params(layer)
        _, layer_grads = layer.backward(params, dy, cache.layers[index], input_gradient=False)
        for variable, g in layer_grads.items():
            grads[f"{layer.name}/{variable}"] = g
        if index == 0:
            break
        scratch, weights = copy.deepcopy(optimizer), {k: v.copy() for k, v in
                                                       network.params.items()}
        scratch.apply(weights, {k: grads.get(k, np.zeros_like(v)) for k, v in weights.items()})
        updated = {variable: weights[f"{layer.name}/{variable}"] for variable in params}
        dy, _ = layer.backward(updated, dy, cache.layers[index], input_gradient=True)
    optimizer.apply(network.params, grads)
    return loss


def keras_run(spec, params, data, text: str) -> Run:
    """Keras' real fit, one epoch over the batches in order (shuffle=False), with the
    weights read after every step."""
    import keras_impl
    from keras_impl.runtime import keras
    from keras_impl.train import compile_for_training, fit_epoch

    model = keras_impl.build_model(spec, rename_legacy(spec, params))
    compile_for_training(model, spec, hr.get(text))
    run = Run()

    class Weights(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            run.weights.append(to_legacy(spec, {k: np.array(v, np.float64) for k, v in
                                                keras_impl.read_weights(model, spec).items()}))

    X = np.concatenate([x for x, _ in data])
    Y = np.concatenate([y for _, y in data])
    epoch = fit_epoch(model, spec, X, Y, batch_size=len(data[0][0]), callbacks=[Weights()])
    run.losses = [float(v) for v in epoch.losses]
    return run


# ---------------------------------------------------------------- judging
@dataclass
class Judgement:
    first_step: int | None          # the first step outside its band (from 1)
    identical: bool                 # within the first-step floor everywhere
    max_loss: float
    max_weight: float
    reason: str = ""
    rows: list = field(default_factory=list)   # per step: loss yours, Keras, |d loss|,
                                               # max |d weight|, the weights' allowance

    @property
    def agree(self) -> bool:
        return self.first_step is None


def judge(run: Run, reference: Run, envelope: tuple[Run, Run], dtype: str) -> Judgement:
    """run against reference, step by step, within max(factor x the envelope's running
    maximum (a little ahead, as verdict.py), floor_ulps x eps x the size)."""
    from ..training.tolerances import ROUNDOFF_RULES

    rule = ROUNDOFF_RULES[dtype]
    eps = np.finfo(dtype).eps
    a, b = envelope
    n = len(reference.losses)
    e_loss = np.maximum.accumulate([abs(x - y) for x, y in zip(a.losses, b.losses)])
    e_w = np.maximum.accumulate([max(float(np.max(np.abs(x[k] - y[k]))) for k in x)
                                 for x, y in zip(a.weights, b.weights)])
    first, identical, max_l, max_w, reason, rows = None, True, 0.0, 0.0, "", []
    for t in range(n):
        ahead = min(t + rule.onset_lag // 2, n - 1)
        d_l = abs(run.losses[t] - reference.losses[t])
        floor_l = rule.floor_ulps * eps * max(abs(reference.losses[t]), 1.0)
        d_w, size = 0.0, 0.0
        for k, w in reference.weights[t].items():
            d_w = max(d_w, float(np.max(np.abs(run.weights[t][k] - w))))
            size = max(size, float(np.max(np.abs(w))))
        floor_w = rule.floor_ulps * eps * max(size, 1.0)
        max_l, max_w = max(max_l, d_l), max(max_w, d_w)
        identical = identical and d_l <= floor_l and d_w <= floor_w
        band_l = max(rule.factor * e_loss[ahead], floor_l)
        band_w = max(rule.factor * e_w[ahead], floor_w)
        rows.append((run.losses[t], reference.losses[t], d_l, d_w, band_w))
        if first is None and not (d_l <= band_l and d_w <= band_w):
            first = t + 1
            reason = (f"loss |yours - Keras| = {d_l:.3g} (allowed {band_l:.3g}), weights "
                      f"{d_w:.3g} (allowed {band_w:.3g})")
    return Judgement(first, identical, max_l, max_w, reason, rows)


# ---------------------------------------------------------------- outcome
@dataclass
class TrainingOutcome:
    target: str
    optimizer: hr.Optimizer
    layout: str
    network: str
    steps: int
    batch: int
    dtype: str
    data: str
    verdict: Judgement
    match: variants.Candidate | None = None
    premature: bool = False
    step1: float = 0.0

    @property
    def agree(self) -> bool:
        return self.verdict.agree or (self.match is not None and self.match.deviation is None
                                      and not self.premature)

    def diagnosis(self) -> list[dict]:
        out = []
        if self.premature:
            out.append({"bug": "update_before_gradient", "label":
                        "update before the gradient is finished", "message":
                        "each layer's weights are updated before the delta is passed down "
                        "through them: backprop runs through weights already updated in the "
                        "same step (compute every gradient first, then update)"})
        if self.match is not None and self.match.deviation is not None:
            v = self.match.deviation
            out.append({"bug": v.id, "label": v.label, "kind": v.kind,
                        "message": v.message(self.optimizer, self.match.fit)})
        return out

    def conventions(self) -> list[dict]:
        if self.match is None:
            return []
        tail = (f" (difference from Keras {self.step1:.2g} in the weights at step 1)"
                if self.agree else "")
        return [{"name": v.id, "message": v.message(self.optimizer, self.match.fit) + tail}
                for v in self.match.conventions]

    def verdict_text(self) -> str:
        v = self.verdict
        if v.agree:
            return "identical" if v.identical else "agree within round-off"
        if self.agree:
            return (f"differs from step {v.first_step} by the convention(s) below; agrees "
                    f"with them within round-off")
        return f"disagree from step {v.first_step}"

    def to_dict(self) -> dict:
        return {"kind": "training_loop", "agree": self.agree, "target": self.target,
                "network": self.network, "layout": self.layout,
                "optimizer": self.optimizer.text, "steps": self.steps, "batch": self.batch,
                "dtype": self.dtype, "data": self.data,
                "verdict": {"text": self.verdict_text(), "first_step": self.verdict.first_step,
                            "identical": self.verdict.identical, "reason": self.verdict.reason,
                            "max_loss_diff": self.verdict.max_loss,
                            "max_weight_diff": self.verdict.max_weight},
                "per_step": [{"step": t, "loss": a, "loss_keras": b, "loss_diff": c,
                              "weight_diff": d, "weight_allowed": e}
                             for t, (a, b, c, d, e) in enumerate(self.verdict.rows, start=1)],
                "matched": None if self.match is None and not self.premature else {
                    "variants": list(self.match.ids) if self.match else [],
                    "update_before_gradient": self.premature},
                "diagnosis": self.diagnosis(), "conventions": self.conventions()}

    def format(self) -> str:
        lines = [f"training-loop check: {Path(self.target).name}",
                 f"  {self.network}, LAYOUT {self.layout!r}, {self.optimizer.text}; {self.steps} "
                 f"steps of {self.batch} rows ({self.data}), {self.dtype}",
                 f"  your train_step against Keras' fit (shuffle=False, the same batches)", "",
                 f"{'step':>6}{'loss (yours)':>20}{'loss (Keras)':>20}{'|loss diff|':>14}"
                 f"{'max |weight diff|':>20}{'allowed':>12}"]
        for t, (mine, theirs, d_l, d_w, band) in enumerate(self.verdict.rows, start=1):
            lines.append(f"{t:>6}{mine:>20.15g}{theirs:>20.15g}{d_l:>14.3g}{d_w:>20.3g}"
                         f"{band:>12.3g}")
        lines += ["",
                 f"  max |loss diff| {self.verdict.max_loss:.3g}, max |weight diff| "
                 f"{self.verdict.max_weight:.3g}",
                 f"  {self.verdict_text()}" + (f": {self.verdict.reason}"
                                               if not self.verdict.agree else ""), "",
                 f"verdict: {'AGREE' if self.agree else 'DISAGREE'}"]
        lines += [f"diagnosis: {d['message']}." for d in self.diagnosis()]
        lines += [f"convention: {c['message']}." for c in self.conventions()]
        if not self.agree and not self.diagnosis():
            lines.append(f"none of the named variants (the optimizer's bugs and conventions, "
                         f"the update before the gradient is finished) reproduces your "
                         f"numbers; they first leave Keras' at step {self.verdict.first_step}.")
        return "\n".join(wrap(line) for line in lines)


# ---------------------------------------------------------------- the check
_KERAS_RUNS: dict = {}   # Keras' fit, kept for the process' life (a test suite repeats them)


def check_training_loop(user, options: CheckOptions) -> TrainingOutcome:
    from ..batch import sample_batch

    declared = user.declared
    missing = [n for n in ("INPUTS", "LAYERS", "LAYOUT", "OPTIMIZER", "train_step")
               if n not in declared]
    if missing:
        raise TargetError(f"{user.path.name} does not define {', '.join(missing)}; {CONTRACT}")
    spec = _spec(_value(declared, "INPUTS"), _value(declared, "LAYERS"))
    layout = _value(declared, "LAYOUT")
    if layout not in LAYOUTS:
        raise TargetError(f"LAYOUT is {layout!r}; accepted: {', '.join(LAYOUTS)}")
    optimizer = declared_optimizer(declared)
    dtype = options.dtype or "float64"
    if dtype not in ("float64", "float32"):
        raise TargetError(f"dtype {dtype!r}; accepted: float64 (the default), float32")
    spec = dataclasses.replace(spec, dtype=dtype)
    n = options.steps or DEFAULT_STEPS
    if not 1 <= n <= 1000:
        raise TargetError(f"--steps {n}: accepted 1 to 1000")
    target = Target(user.path, spec, layout, user, False)
    X, Y, data_text, _ = sample_batch(spec, options.dataset, n * options.batch, options.seed)
    data = batches(X.astype(dtype), Y.astype(dtype), options.batch, n)
    params = to_legacy(spec, init_weights(spec, "book", options.seed))
    ours = user_run(target, user, data, params, dtype)   # before TensorFlow
    key = (spec.describe(), optimizer.text, n, options.batch, options.seed, options.dataset,
           dtype)
    if key not in _KERAS_RUNS:  # the same key always makes the same weights, batches, run
        _KERAS_RUNS[key] = keras_run(spec, params, data, optimizer.text)
    keras = _KERAS_RUNS[key]
    from keras_impl import installed_conventions  # Keras ran: its roundings, measured

    spec = spec.with_conventions(installed_conventions())
    envelope = (reference_run(spec, params, data, hr.get(optimizer.text)),
                reference_run(spec, params, data, hr.get(optimizer.text), reverse=True))
    verdict = judge(ours, keras, envelope, dtype)
    outcome = TrainingOutcome(str(user.path), optimizer, layout, spec.describe(), n,
                              options.batch, dtype, data_text, verdict)
    outcome.step1 = max(float(np.max(np.abs(ours.weights[0][k] - keras.weights[0][k])))
                        for k in keras.weights[0])
    if not verdict.agree:
        outcome.match, outcome.premature = find_match(spec, params, data, optimizer, ours,
                                                      envelope, dtype)
    return outcome


def find_match(spec, params, data, optimizer, ours: Run, envelope, dtype):
    """(candidate, premature): the smallest named variant of the loop reproducing the
    user's run, or (None, False)."""
    found = []
    for premature in (False, True):
        for candidate in variants.candidates(optimizer):
            if not candidate.variants and not premature:
                reference = reference_run(spec, params, data, candidate.optimizer())
                factor = _factor(ours, reference, params)
                scaled = variants.scaled(candidate, factor) if factor else None
                if scaled is not None and judge(ours, reference_run(
                        spec, params, data, scaled.optimizer()), envelope, dtype).agree:
                    found.append((scaled, False))
                continue
            try:
                run = reference_run(spec, params, data, candidate.optimizer(), premature)
            except (ValueError, ZeroDivisionError, FloatingPointError):
                continue
            if judge(ours, run, envelope, dtype).agree:
                found.append((candidate, premature))
        if found:
            break
    if not found:
        return None, False
    best = min(found, key=lambda f: (f[0].deviation is not None,
                                     f[0].deviation is not None and "factor" in f[0].fit,
                                     len(f[0].conventions)))
    return best


def _factor(ours: Run, reference: Run, params) -> float | None:
    du = np.concatenate([(ours.weights[0][k] - params[k]).ravel() for k in params])
    dr = np.concatenate([(reference.weights[0][k] - params[k]).ravel() for k in params])
    if float(dr @ dr) == 0:
        return None
    c = float(du @ dr) / float(dr @ dr)
    return c if np.isfinite(c) and c > 0 and abs(c - 1) > 1e-6 else None


@target_kind("training_loop", detect=lambda declared: "train_step" in declared, order=10,
             declares="INPUTS, LAYERS, LAYOUT, OPTIMIZER, train_step(X, Y, weights, state)")
def run_training_loop_check(user, options: CheckOptions) -> TrainingOutcome:
    return check_training_loop(user, options)
