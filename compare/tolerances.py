"""How close is close enough, per dtype, and how differences are measured.

Relative difference of two tensors h (handrolled) and k (keras), elementwise:

    rel_i = |h_i - k_i| / max(|h_i|, |k_i|, floor),   floor = FLOOR_FRACTION * max_j max(|h_j|, |k_j|)

The floor keeps elements that are tiny compared with the rest of the tensor
(gradients that cancel to almost zero) from turning round-off into huge
relative errors; a real bug still shows, because it changes elements by
amounts comparable to their size.

A gradient has a second floor, absolute, from the loss it is the gradient of
(`resolution_floor`):

    floor_L = depth * eps(dtype) * max(|L|, 1)

The loss itself is only known to about eps |L| (its last bit), and each of the
`depth` layers backprop passes through adds its own round-off, so a gradient
element far below floor_L (a 500-layer tanh network's first layers: ~1e-33
against a loss of 2.3) says how the loss moves when a parameter of size ~1
moves by 1, and that move is below the loss's resolution: what both
implementations compute there is round-off of round-off, and their relative
difference (7e-12 measured, above float64's 1e-12) means nothing.  Elements
at or above floor_L are judged as before; the floor changes nothing for a
tensor whose largest element is above floor_L / FLOOR_FRACTION (2.2e-13 for a
float64 ten-layer network at L = 1), so every ordinary network is judged as
strictly as without it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Elements below 1% of the tensor's largest magnitude are judged against that
# 1% instead of their own size.  Measured: OpenBLAS and TensorFlow's Eigen
# sum 784-long dot products in different orders; with a 0.1% floor a float64
# 784-256x4-10 network already reached 9e-13 relative on W1 (abs 8e-18).
FLOOR_FRACTION = 1e-2


@dataclass(frozen=True)
class Tolerance:
    dtype: str
    rtol: float      # handrolled vs keras, max relative difference
    fd_rtol: float   # handrolled vs central finite differences (computed in float64)

    def describe(self, finite_differences: bool = True) -> str:
        """The line under a gradient table; finite differences named only if they ran."""
        fd = f", handrolled vs finite differences rel <= {self.fd_rtol:g}"
        return (f"{self.dtype}: handrolled vs keras rel <= {self.rtol:g}"
                f"{fd if finite_differences else ''}")


TOLERANCES = {
    # float64: both sides agree to a few ulps (measured ~1e-13 at worst).
    "float64": Tolerance("float64", rtol=1e-12, fd_rtol=1e-6),
    # float32 (loosened): unit round-off is 6e-8 and different summation orders
    # through four layers measured up to ~5e-5; 1e-3 leaves margin while any
    # real derivative bug still shows as an O(1) difference.
    "float32": Tolerance("float32", rtol=1e-3, fd_rtol=1e-3),
}


# A row's own round-off, measured: the hand-written gradients computed a second
# time with the batch's rows in reverse order (the same mathematics, every sum
# over the batch in another order) differ from the first by the row's
# round-off.  Keras' side carries more of it than ours where it reduces long
# sums: measured after a convolution with BatchNormalization (21,632 values per
# channel), TensorFlow's statistics are ~80x further from the exact (long double)
# result than ours, and the handrolled-vs-Keras differences reach 50-170x our own
# (1.8e-12 .. 1.3e-11 against 2.6e-14 .. 2.5e-13); on dense networks 2-11x.  A
# row agrees when its difference stays within the tolerance or within
# ROUNDOFF_FACTOR times its own round-off, so round-off alone cannot fail a
# row, while a wrong derivative (an O(1e-3..1) relative difference) still does.
ROUNDOFF_FACTOR = 1000


# Round-off grows with depth: every layer backprop passes through rounds its
# products once more, and cancellation in delta W^T can amplify what came from
# above.  The per-dtype tolerances above were measured on networks of up to
# five layers and are, in fact, ROUNDOFF_FACTOR * 5 * eps (1.1e-12 in float64,
# 6e-4 in float32); deeper networks get the same allowance per layer
# (`depth_rtol`).  Measured on a 500-layer tanh network (4 units, 8 rows of
# mnist-sample, float64): handrolled vs Keras up to 5.0e-12 on gradients of
# ~1e-10 (a bias 154 layers below the output), against a depth_rtol of 1.1e-10.
def depth_rtol(dtype: str, depth: int) -> float:
    """ROUNDOFF_FACTOR * depth * eps(dtype): the round-off a depth-layer backprop may
    accumulate, relative to the gradient."""
    return float(ROUNDOFF_FACTOR * depth * np.finfo(dtype).eps)


def tolerance_for(dtype: str) -> Tolerance:
    return TOLERANCES[dtype]


def resolution_floor(dtype: str, depth: int, loss: float) -> float:
    """floor_L = depth * eps(dtype) * max(|L|, 1): the smallest gradient element that
    round-off leaves meaningful (see the module docstring)."""
    if not np.isfinite(loss):
        return 0.0  # no scale to derive a floor from: judge every element by its size
    return float(depth * np.finfo(dtype).eps * max(abs(loss), 1.0))


def _same_shape_float64(h, k) -> tuple[np.ndarray, np.ndarray]:
    h = np.asarray(h, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    if h.shape != k.shape:
        raise ValueError(f"shapes differ: handrolled {h.shape} vs keras {k.shape}")
    return h, k


def max_abs_diff(h: np.ndarray, k: np.ndarray) -> float:
    """max |h - k| of two tensors (nan where a difference is not a number)."""
    h, k = _same_shape_float64(h, k)
    return float(np.max(np.abs(h - k))) if h.size else 0.0


def max_diffs(h: np.ndarray, k: np.ndarray, floor: float = 0.0) -> tuple[float, float]:
    """(max absolute difference, max floored relative difference) of two tensors.

    `floor`: an absolute floor for the denominator besides the tensor's own
    (`resolution_floor` for gradients; 0 for anything else)."""
    h, k = _same_shape_float64(h, k)
    if h.size == 0:
        return 0.0, 0.0
    diff = np.abs(h - k)
    if not np.all(np.isfinite(diff)):
        return float("inf"), float("inf")
    magnitude = np.maximum(np.abs(h), np.abs(k))
    denominator = np.maximum(magnitude, max(FLOOR_FRACTION * magnitude.max(), floor))
    # Where both tensors are exactly zero the difference is zero too: 0/0 -> 0.
    rel = np.divide(diff, denominator, out=np.zeros_like(diff), where=denominator > 0)
    return float(diff.max()), float(rel.max())
