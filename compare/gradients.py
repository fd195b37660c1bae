"""Gradient parity: handrolled vs Keras vs finite differences, one row per tensor.

    result = compare_gradients(spec, weights, X, Y)
    result.agree          # every row within the dtype's tolerance
    result.rows[0]        # GradientRow(layer='dense1', param='kernel', ...)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

import keras_impl  # lazy: Keras is imported by `keras_side`, the first name used
from handrolled import SpecError, Network, NetworkSpec, Params, check_batch, validate
from handrolled.conventions import KERAS, Conventions

from .finite_diff import FiniteDifferences
from .tolerances import (ROUNDOFF_FACTOR, Tolerance, depth_rtol, max_diffs,
                         resolution_floor, tolerance_for)


@dataclass
class GradientRow:
    layer: str | int                 # the layer's name: "conv1", "dense3", ... (check: 1, 2, ...)
    param: str                       # the variable: "kernel" or "bias" (check: "W" or "b")
    shape: tuple[int, ...]
    max_abs_diff: float              # handrolled vs keras
    max_rel_diff: float
    fd_max_rel_diff: float | None    # handrolled vs finite differences (None: all at kinks / off)
    fd_checks: int
    fd_kinks: int
    agree: bool
    roundoff: float | None = None    # the hand-written side against itself, rows reversed
    limit: float | None = None       # the max rel diff this row was allowed (see below)

    @property
    def name(self) -> str:
        return f"{self.layer}/{self.param}" if isinstance(self.layer, str) \
            else f"{self.param}{self.layer}"


@dataclass
class GradientComparison:
    spec: NetworkSpec
    tolerance: Tolerance
    loss_handrolled: float
    loss_keras: float
    batch: int
    rows: list[GradientRow] = field(default_factory=list)
    data: str = ""  # where the batch came from, e.g. "32 rows of mnist-sample"
    # Keras' own gradients and its backend (compare/witnesses.py compares backends with them)
    keras_gradients: dict = field(default_factory=dict, repr=False)
    backend: str = ""

    @property
    def agree(self) -> bool:
        """Every row agrees, and both losses are finite numbers."""
        return finite(self.loss_handrolled, self.loss_keras) and \
            all(row.agree for row in self.rows)

    def to_dict(self) -> dict:
        return {
            "agree": self.agree,
            "dtype": self.spec.dtype,
            "network": self.spec.describe(),
            "hidden": self.spec.body_text,
            "seed": self.spec.seed,
            "batch": self.batch,
            "data": self.data,
            "tolerance": asdict(self.tolerance),
            "loss": {"handrolled": self.loss_handrolled, "keras": self.loss_keras},
            "backend": self.backend,
            "gradients": [dict(asdict(row), shape=list(row.shape)) for row in self.rows],
        }


def finite(*values) -> bool:
    """No NaN or inf in any of `values` (numbers or arrays)."""
    return all(bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))
               for value in values)


def split_param_name(name: str) -> tuple[str | int, str]:
    """'conv1/kernel' -> ('conv1', 'kernel');  the book's 'W2' -> (2, 'W')."""
    if "/" in name:
        layer, param = name.split("/", 1)
        return layer, param
    return int(name[1:]), name[0]


def compare_gradient_dicts(spec: NetworkSpec, handrolled: Params, keras: Params,
                           fd: FiniteDifferences | None = None,
                           tolerance: Tolerance | None = None,
                           reordered: Params | None = None,
                           loss: float | None = None) -> list[GradientRow]:
    """One row per parameter: the same loop over the same keys for both sides.

    `tolerance` defaults to the dtype's; `nn-compare check` passes its own (a
    learner's float64 code is not held to 1e-12).  `fd` may be any
    FiniteDifferences, e.g. check's witness on the user's own forward().
    `reordered`: the hand-written gradients once more, with the batch's rows in
    another order; their difference is each row's round-off (see tolerances.py).
    `loss`: the loss these are the gradients of; with it, elements below
    `resolution_floor` (depth * eps * max(|L|, 1)) are judged against that floor.

    A row agrees with Keras when its max rel diff is at most its `limit`, the
    largest of: the tolerance's rtol; `depth_rtol` (ROUNDOFF_FACTOR * depth *
    eps, the round-off of a deep backprop); ROUNDOFF_FACTOR times the row's
    own round-off (when `reordered` is given)."""
    tol = tolerance if tolerance is not None else tolerance_for(spec.dtype)
    floor = resolution_floor(tol.dtype, spec.depth, loss) if loss is not None else 0.0
    deep = depth_rtol(tol.dtype, spec.depth)
    if set(handrolled) != set(keras):
        raise SpecError(f"the two sides have different parameters: {sorted(handrolled)} vs "
                        f"{sorted(keras)}")
    rows = []
    for name in handrolled:  # the spec's names, or W1, b1, ... from `check`
        abs_diff, rel_diff = max_diffs(handrolled[name], keras[name], floor)
        witness = fd.check(name, handrolled[name]) if fd is not None else None
        fd_rel = witness.max_rel_diff if witness else None
        roundoff = max_diffs(handrolled[name], reordered[name], floor)[1] if reordered else None
        # a round-off that is not a number allows nothing, and a NaN or inf on either side
        # is never agreement (inf - inf is no difference of round-off)
        limit = max(tol.rtol, deep, ROUNDOFF_FACTOR * roundoff if roundoff is not None and
                    np.isfinite(roundoff) else 0.0)
        agree = bool(finite(handrolled[name], keras[name]) and rel_diff <= limit and
                     (fd_rel is None or fd_rel <= tol.fd_rtol))
        layer, param = split_param_name(name)
        rows.append(GradientRow(
            layer=layer, param=param, shape=tuple(handrolled[name].shape),
            max_abs_diff=abs_diff, max_rel_diff=rel_diff, fd_max_rel_diff=fd_rel,
            fd_checks=witness.checks if witness else 0, fd_kinks=witness.kinks if witness else 0,
            agree=agree, roundoff=roundoff, limit=limit))
    return rows


@dataclass
class KerasSide:
    """Keras' half of a gradient comparison: its loss and gradients on the batch, the
    dropout masks it drew, its backend and the roundings its Keras was measured to use,
    which the hand-written half follows (computed here, or in Keras' own process:
    compare/training/keras_process.py)."""

    loss: float
    gradients: Params
    masks: dict
    backend: str
    conventions: Conventions = KERAS


def keras_side(spec: NetworkSpec, weights: Params, X: np.ndarray, Y: np.ndarray) -> KerasSide:
    """Keras' loss and gradients on (X, Y) from `weights`, in training mode, and the
    dropout masks it drew (recovered first, keras_impl/dropout.py, and checked)."""
    from keras_impl.dropout import dropout_shapes, next_masks

    keras_impl.seed_everything(spec.seed)  # the dropout masks Keras draws: the seed's
    model = keras_impl.build_model(spec, weights)
    masks = next_masks(model, dropout_shapes(spec), X.shape[0])
    loss_k, grads_k, drawn = keras_impl.loss_gradients_and_masks(model, spec, X, Y)
    if any(not np.array_equal(masks[name], drawn[name]) for name in masks):
        raise RuntimeError("Keras drew other dropout masks than the ones recovered for it")
    return KerasSide(loss_k, grads_k, masks, keras_impl.BACKEND.NAME,
                     keras_impl.installed_conventions())


def compare_gradients(spec: NetworkSpec, weights: Params, X: np.ndarray, Y: np.ndarray,
                      finite_differences: bool = True, network: Network | None = None,
                      data: str = "", keras: KerasSide | None = None) -> GradientComparison:
    """Gradients of the loss (with its penalties) on (X, Y) from both implementations,
    in training mode.

    `network` lets a caller substitute its own hand-written network (for
    example a deliberately broken one in a test); by default it is
    `handrolled.Network(spec, weights)`.  The dropout masks Keras' layers will draw
    are recovered first (keras_impl/dropout.py), applied by the hand-written side and
    held still by the finite-difference witness.  `keras`: Keras' half, if it was
    computed elsewhere (`keras_side` in Keras' own process); by default here.
    """
    weights = validate(spec, weights)
    X, Y = check_batch(spec, X, Y)
    keras = keras or keras_side(spec, weights, X, Y)
    spec = spec.with_conventions(keras.conventions)  # that Keras' roundings, on both sides
    masks = keras.masks
    network = network or Network(spec, weights)
    network.use_dropout_masks(masks)
    loss_h, grads_h = network.loss_and_gradients(X, Y)
    # the round-off witness: the same network, the rows (and their masks) reversed
    network.use_dropout_masks({name: mask[::-1] for name, mask in masks.items()})
    _, grads_reordered = network.loss_and_gradients(X[::-1], Y[::-1])
    loss_k, grads_k = keras.loss, keras.gradients
    fd = FiniteDifferences(spec, weights, X, Y, seed=spec.seed, state=network.state,
                           masks=masks) if finite_differences else None
    rows = compare_gradient_dicts(spec, grads_h, grads_k, fd, reordered=grads_reordered,
                                  loss=loss_h)
    return GradientComparison(spec, tolerance_for(spec.dtype), loss_h, loss_k, X.shape[0], rows,
                              data, keras_gradients=grads_k, backend=keras.backend)
