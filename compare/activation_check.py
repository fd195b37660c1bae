"""Is a hand-written activation derivative right?  Three witnesses per function.

For each elementwise activation (zoo or user-registered) on a grid of z:

    handrolled   f.derivative(z, f.value(z))            the hand-written one
    keras        d f(z)/dz by tf.GradientTape           TensorFlow's automatic one
    finite diff  [-f(z+2h) + 8f(z+h) - 8f(z-h) + f(z-2h)] / 12h   of the NumPy value

Points near a kink, or where the stencil at h and at h/2 disagree (f is not
smooth there), are left out of the finite-difference check (the stencil
would average two slopes) but kept in the Keras check, where
both sides must pick the same one-sided value (relu'(0) = 0, relu_ge'(0) = 1).
Differences use compare.tolerances.max_diffs and the per-dtype tolerances.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from handrolled import activations

from .tolerances import max_diffs, tolerance_for

GRID = np.linspace(-6.0, 6.0, 2401)   # step 0.005: hits 0 and the small integers exactly
RANDOM_POINTS = 400
FD_STEP = 1e-3  # fourth-order stencil: truncation ~h^4, round-off ~eps/h, both < 1e-12
SMOOTH = 1e-8   # |stencil(h) - stencil(h/2)| above this (relative): f is not smooth there


@dataclass
class DerivativeRow:
    activation: str
    points: int
    keras_max_rel_diff: float       # handrolled vs TensorFlow's automatic derivative
    fd_max_rel_diff: float          # handrolled vs finite differences (away from kinks)
    fd_points: int
    agree: bool


def sample_points(f, seed: int = 0) -> np.ndarray:
    """The grid, random normal points of scale 3, and every kink exactly."""
    rng = np.random.default_rng(seed)
    return np.concatenate([GRID, rng.normal(0.0, 3.0, RANDOM_POINTS),
                           np.asarray(f.kinks, dtype=np.float64)])


def keras_derivative(text: str, z: np.ndarray, dtype: str) -> np.ndarray:
    """f'(z) from the backend's automatic differentiation: the gradient of sum(f(z)),
    elementwise f (zero, not None, where f(z) does not depend on z: a step function)."""
    import keras_impl
    from keras_impl.runtime import BACKEND, keras

    function = keras_impl.activations.get(text)
    _, _, dz, _ = BACKEND.call_and_gradients(function, np.asarray(z, dtype=dtype),
                                             lambda a, _: keras.ops.sum(a),
                                             input_gradient=True)
    return dz


def stencil(f, z: np.ndarray, h: float) -> np.ndarray:
    return (-f.value(z + 2 * h) + 8 * f.value(z + h) - 8 * f.value(z - h)
            + f.value(z - 2 * h)) / (12 * h)


def finite_difference(f, z: np.ndarray, h: float = FD_STEP) -> tuple[np.ndarray, np.ndarray]:
    """The stencil at h/2, and where it can be trusted.

    Trusted: no declared kink within 2.5 h, and the estimates at h and h/2
    agree to 1e-8 -- they do wherever f is smooth at that scale (truncation
    ~h^4, round-off ~eps/h, both ~1e-12), but not where f'' jumps (softsign,
    elu at 0: an O(h) error), which `kinks` does not list.
    """
    fine, coarse = stencil(f, z, h / 2), stencil(f, z, h)
    kinks = np.asarray(f.kinks, dtype=np.float64)
    away = np.abs(z[:, None] - kinks[None, :]).min(axis=1, initial=np.inf) > 2.5 * h
    smooth = np.abs(fine - coarse) <= SMOOTH * np.maximum(1.0, np.abs(fine))
    return fine, away & smooth


def check_activation(text: str, dtype: str = "float64", seed: int = 0,
                     activation=None) -> DerivativeRow:
    """One row: the hand-written derivative of `text` against both witnesses.

    `activation` substitutes a hand-written object (a test passes a broken one).
    """
    f = activation or activations.get(text)
    z = sample_points(f, seed).astype(dtype)
    hand = f.derivative(z, f.value(z))
    _, keras_rel = max_diffs(hand, keras_derivative(text, z, dtype))
    z64 = z.astype(np.float64)
    fd, smooth = finite_difference(f, z64)
    _, fd_rel = max_diffs(np.asarray(hand, np.float64)[smooth], fd[smooth])
    tol = tolerance_for(dtype)
    agree = bool(keras_rel <= tol.rtol and fd_rel <= tol.fd_rtol)
    return DerivativeRow(f.text, int(z.size), keras_rel, fd_rel, int(smooth.sum()), agree)


def elementwise_examples() -> list[str]:
    """An example text for every registered elementwise activation (zoo and user)."""
    out = []
    for name, text in activations.examples().items():
        if not activations.get(text).per_unit:
            out.append(text)
    return out


def rows_to_dicts(rows: list[DerivativeRow]) -> list[dict]:
    return [asdict(row) for row in rows]


def derivative_table(rows: list[DerivativeRow], dtype: str, tablefmt: str = "simple") -> str:
    from tabulate import tabulate

    from .output import fmt

    table = tabulate([[r.activation, r.points, fmt(r.keras_max_rel_diff), fmt(r.fd_max_rel_diff),
                       r.fd_points, "yes" if r.agree else "NO"] for r in rows],
                     headers=["activation", "points", "vs keras (rel)", "vs finite diff (rel)",
                              "fd points", "agree"], tablefmt=tablefmt, disable_numparse=True)
    verdict = "AGREE" if all(r.agree for r in rows) else "DISAGREE"
    return (f"Activation derivatives: hand-written vs TensorFlow autodiff vs finite differences, "
            f"{dtype}\n{table}\ntolerance {tolerance_for(dtype).describe()}\nverdict: {verdict}")
