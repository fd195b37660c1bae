"""`run_check`: the user's network against Keras on one batch, layer by layer.

Weights: drawn by the checker with the book's scheme (`init_weights(spec,
"book", seed)`) whatever the layout: every entry, biases included, ~ N(0,
1/(n_in + 1)), so a bias handled wrongly shows (zero biases would hide it) and
no pre-activation is exactly 0 by accident (so `z >= 0` vs `z > 0` only
matters where a bug makes it matter).  They reach the user's code in the
declared layout; their gradients come back to W/b per layer for comparison.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field

import numpy as np

from handrolled import NetworkSpec, Params
from handrolled.weights import to_legacy

from ..gradients import GradientRow, compare_gradient_dicts
from ..tolerances import Tolerance, max_diffs, tolerance_for
from .backprop import Backprop
from .conventions import (Convention, describe as describe_conventions, find_convention,
                          same_numbers)
from .diagnosis import FITTED_BUGS, HYPOTHESES, Diagnosis, diagnose
from .differences import describe
from .objective import Objective, describe_network
from .stats import LayerStats, activation_stats
from .target import Target
from .user_side import UserSide, run_user_side
from .witness import UserForwardDifferences

# Agreement tolerance.  A learner's code is float64 NumPy like ours, so we
# start from the project's float64 tolerance (1e-12, measured: ~6e-14 between
# OpenBLAS and TensorFlow's Eigen on a 5-layer network) and loosen it 1000x:
# hand-written code sums in its own order and often uses less stable formulas
# (softmax without the max shift, a gradient through p instead of the
# logits), each costing a few more digits.  Every listed bug changes a
# gradient by a relative amount of order 1, so 1e-9 hides none of them.
# Gradients returned in float32 are judged by the float32 tolerance instead.
CHECK_TOLERANCES = {
    "float64": dataclasses.replace(tolerance_for("float64"), rtol=1e-9),
    "float32": tolerance_for("float32"),
}


@dataclass
class ForwardRow:
    shape: tuple[int, ...]
    max_abs_diff: float
    max_rel_diff: float
    agree: bool


@dataclass
class CheckResult:
    target: Target
    data: str                        # where the batch came from, in words
    batch: int
    seed: int
    tolerance: Tolerance
    loss_keras: float
    forward: ForwardRow | None       # None: the target defines no forward()
    rows: list[GradientRow]          # layer 1..L, W then b
    diagnosis: Diagnosis
    stats: list[LayerStats]
    unexplained: list[str] = field(default_factory=list)  # sentences about that layer
    notes: list[str] = field(default_factory=list)
    objective: Objective | None = None   # the loss compared: declared, or the convention found
    conventions: list[Convention] = field(default_factory=list)

    @property
    def agree(self) -> bool:
        return all(row.agree for row in self.rows) and (self.forward is None
                                                         or self.forward.agree)

    @property
    def first_mismatch(self) -> GradientRow | None:
        """The first disagreeing row counting back from the output, W before b."""
        for row in sorted(self.rows, key=lambda r: (-r.layer, r.param != "W")):
            if not row.agree:
                return row
        return None

    def format(self) -> str:
        from .report import format_report
        return format_report(self)

    def to_dict(self) -> dict:
        first = self.first_mismatch
        spec = self.target.spec
        objective = self.objective or self.target.objective
        return {
            "kind": "network",
            "agree": self.agree,
            "target": str(self.target.path),
            "network": describe_network(spec, objective),
            "layout": self.target.layout,
            "loss": objective.describe(),
            "conventions": [asdict(convention) for convention in self.conventions],
            "data": self.data,
            "batch": self.batch,
            "seed": self.seed,
            "tolerance": asdict(self.tolerance),
            "loss_keras": self.loss_keras,
            "forward": None if self.forward is None else dict(
                asdict(self.forward), shape=list(self.forward.shape)),
            "first_mismatch": None if first is None else {"layer": first.layer,
                                                          "param": first.param},
            "forward_agrees": None if self.forward is None else self.forward.agree,
            "diagnosis": [asdict(finding) for finding in self.diagnosis.findings],
            "unexplained": (None if self.diagnosis.unexplained is None else
                            {"layer": self.diagnosis.unexplained,
                             "details": self.unexplained}),
            "layers": [dict(asdict(row), shape=list(row.shape)) for row in self.rows],
            "activation_stats": [asdict(stats) for stats in self.stats],
            "notes": self.notes,
        }


def run_check(target: Target, dataset: str = "mnist-sample", batch: int = 32, seed: int = 0,
              finite_differences: bool = True, user_side: UserSide | None = None) -> CheckResult:
    """Compare the target's forward and gradients with Keras; diagnose what differs.
    `user_side`: what `run_user_side` already computed (the command line runs it first)."""
    side = user_side or run_user_side(target, dataset, batch, seed)  # their errors: exit 2
    spec, X, Y, data, notes, params = side.spec, side.X, side.Y, side.data, side.notes, \
        side.params
    user, user_p = side.gradients, side.probabilities
    tolerance = CHECK_TOLERANCES["float64"]
    if any(array.dtype != np.float64 for array in user.values()):
        tolerance = CHECK_TOLERANCES["float32"]
        notes.append("your gradients are in float32, so the float32 tolerance applies.")
    narrowed = keras_narrowing_notes(spec)  # Keras on JAX/torch: part of it in float32
    if narrowed and tolerance is CHECK_TOLERANCES["float64"]:
        tolerance = CHECK_TOLERANCES["float32"]
        notes += [*narrowed, "so the float32 tolerance applies to the comparison with Keras."]

    objective, conventions = target.objective, []

    def against(objective):
        """The comparison with Keras built for `objective` (declared or a convention)."""
        loss_k, keras_grads, keras_p, keras_notes = _keras_side(spec, objective, params, X, Y)
        witness = (UserForwardDifferences(target, spec, params, X, Y, seed=seed,
                                          objective=objective)
                   if user_p is not None and finite_differences else None)
        rows = compare_gradient_dicts(spec, user, keras_grads, witness, tolerance,
                                      loss=loss_k)
        return loss_k, keras_grads, keras_p, keras_notes, rows

    loss_k, keras_grads, keras_p, keras_notes, rows = against(objective)
    bp = Backprop(spec, params, X, Y, target.layout, objective)
    if not all(row.agree for row in rows):
        found = find_convention(bp, user)
        if found is not None:  # the comparison and the diagnosis under that convention
            found, layers = found
            conventions = describe_conventions(objective, found, spec.outputs, X.shape[0],
                                               None if len(layers) == spec.depth else layers,
                                               same_numbers(bp, found))
            objective, bp = found, Backprop(spec, params, X, Y, target.layout, found)
            loss_k, keras_grads, keras_p, keras_notes, rows = against(found)
    notes += keras_notes
    forward = None
    if user_p is not None:
        abs_diff, rel_diff = max_diffs(user_p, keras_p)
        forward = ForwardRow(user_p.shape, abs_diff, rel_diff, rel_diff <= tolerance.rtol)

    disagreeing = {row.layer for row in rows if row.max_rel_diff > tolerance.rtol}
    diagnosis = diagnose(bp, user, disagreeing)
    result = CheckResult(target, data, X.shape[0], seed, tolerance, loss_k, forward, rows,
                         diagnosis, activation_stats(bp, diagnosis, user), notes=notes,
                         objective=objective, conventions=conventions)
    _explain(result, user, keras_grads)
    return result


def keras_narrowing_notes(spec: NetworkSpec) -> list[str]:
    """Where Keras on this backend computes part of a float64 network in float32
    (keras_impl/narrowing.py), the note `nn-compare gradients` prints too."""
    from ..commands.gradients import narrowing_notes

    return narrowing_notes(spec)


def _keras_side(spec: NetworkSpec, objective: Objective, params: Params, X, Y):
    """Keras' loss, gradients and outputs for the declared loss: the Keras model of the
    network (a linear output layer: the logits z), Keras' output activation on z where
    the loss does not take logits (mse), Keras' loss (from_logits for the cross-entropies)
    times the declared scale (objective.py), plus Keras' regularizer of every kernel.

    Keras rounds a regularizer's factor to float32 (l2(0.001) applies 0.0010000000475);
    the user's code uses the factor as written, so that rounding is taken back out of
    Keras' kernel gradients (r'(W) as written minus r'(W) as Keras applies it, both by
    handrolled.regularizers) and a note says by how much."""
    import keras_impl
    from keras_impl import activations as keras_activations
    from keras_impl.model import keras_loss, matched_variables
    from keras_impl.regularizers import keras_regularizer
    from keras_impl.runtime import BACKEND, keras

    # build_model resolves every activation before it builds a layer, so an
    # activation with no Keras twin is a clear SpecError, not a failure inside Keras.
    model = keras_impl.build_model(spec, params)
    output = (keras_activations.get(objective.output, dtype=spec.dtype)
              if objective.output_function is not None else None)
    loss_fn = keras_loss(spec.loss, spec.dtype)
    scale = objective.scale(*Y.shape)
    variables = matched_variables(model, spec.param_shapes())
    kernels = {l: variables[spec.legacy_names()[f"W{l}"]] for l in range(1, spec.depth + 1)}
    Y_t = keras.ops.convert_to_tensor(np.asarray(Y, dtype=spec.dtype))

    X_t = keras.ops.convert_to_tensor(np.asarray(X, dtype=spec.dtype))

    def loss_of(z, _):
        loss = scale * loss_fn(Y_t, z if output is None else output(z))
        for l, regularizer in enumerate(objective.regularizers, start=1):
            if regularizer is not None:
                loss = loss + keras_regularizer(regularizer)(kernels[l])
        return loss

    loss, _, _, by_variable = BACKEND.call_and_gradients(model, np.asarray(X, dtype=spec.dtype),
                                                         loss_of)
    grads = to_legacy(spec, {name: by_variable[id(v)] for name, v in variables.items()})
    notes, largest, installed = [], 0.0, keras_impl.installed_conventions()
    for l, regularizer in enumerate(objective.regularizers, start=1):
        if regularizer is not None:
            W = params[f"W{l}"]
            rounding = objective.penalty_gradient(l, W) - regularizer.gradient(W, installed)
            grads[f"W{l}"] = grads[f"W{l}"] + rounding
            largest = max(largest, float(np.abs(rounding).max()))
    if largest > 0:
        notes.append(f"Keras rounds the regularizer's factor to float32; its kernel "
                     f"gradients are compared with that rounding taken out (it moved them by "
                     f"at most {largest:.2g}), so your factor counts as written.")
    z = model(X_t, training=False)
    if output is not None:
        outputs = output(z)
    elif spec.loss == "binary_crossentropy":
        outputs = keras.activations.sigmoid(z)
    else:
        outputs = keras.activations.softmax(z)
    return float(loss), grads, keras.ops.convert_to_numpy(outputs), notes


def _explain(result: CheckResult, user: Params, keras_grads: Params) -> None:
    """Sentences for the parts of the verdict that need more than a table row."""
    diagnosis, notes = result.diagnosis, result.notes
    fd_rows = [row for row in result.rows if row.fd_max_rel_diff is not None]
    if result.forward is not None and not result.forward.agree and fd_rows and all(
            row.fd_max_rel_diff <= result.tolerance.fd_rtol for row in fd_rows):
        notes.append("your gradients agree with finite differences of your own forward(): "
                     "backprop is right for the network your forward() computes, but that "
                     "is not the network LAYERS describes.")
    if diagnosis.inherited:
        layers = ", ".join(map(str, diagnosis.inherited))
        notes.append(f"layer(s) {layers} disagree only because they inherit the bug found "
                     f"above (backprop passes delta down); no separate bug there.")
    if diagnosis.rounding:
        layers = ", ".join(map(str, diagnosis.rounding))
        notes.append(f"layer(s) {layers} differ by more than the tolerance but by less than "
                     f"any bug would: is part of your computation in lower precision?")
    l = diagnosis.unexplained
    if l is None:
        return
    listed = [*HYPOTHESES, *FITTED_BUGS,
              "one tensor or the whole layer scaled, sign-flipped or zero"]
    result.unexplained.append(f"none of the listed bugs ({', '.join(listed)}) "
                              f"reproduces layer {l}'s gradient.")
    result.unexplained += describe(user[f"W{l}"], user[f"b{l}"], keras_grads[f"W{l}"],
                                   keras_grads[f"b{l}"], l, result.target.layout,
                                   result.tolerance.rtol, result.batch)
    stop = diagnosis.stopped
    if stop is not None:
        result.unexplained.append(f"layer {stop} differs too, and nothing listed explains it "
                                  f"from the right delta either, so layers {stop} and below "
                                  f"were not diagnosed.")
    elif l > 1:
        result.unexplained.append(f"the layers below are consistent with receiving the right "
                                  f"delta from layer {l}: the error stays in layer {l}'s "
                                  f"gradient.")
    if result.forward is None:
        result.unexplained.append("there is no forward() to compare: if the forward pass "
                                  "differs from LAYERS, no backprop bug can match.")
    elif not result.forward.agree:
        result.unexplained.append("the forward pass already disagrees with Keras: fix it "
                                  "first, the gradients cannot match while the outputs differ.")
