"""Starting values of a kernel and its bias, one scheme per function.

* "glorot" (default): kernel ~ U(-r, r), r = sqrt(6 / (fan_in + fan_out)),
  bias = 0: Keras' default for Dense and Conv2D (GlorotUniform + Zeros).  For a
  convolution fan_in = kh kw channels_in and fan_out = kh kw filters, as Keras
  counts them.
* "book": the scheme of "Programming Machine Learning": one matrix with the
  bias as row 0, shape (fan_in + 1, units), all of it ~ N(0, 1 / (fan_in + 1)),
  so the biases start random too.  Row 0 is the bias, the rest the kernel
  (reshaped to the kernel's shape for a convolution).

Both draw from the generator in layer order, so a network's weights are a
pure function of its seed.
"""

from __future__ import annotations

import numpy as np


def _glorot(rng, kernel_shape, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return {"kernel": rng.uniform(-limit, limit, size=kernel_shape),
            "bias": np.zeros(kernel_shape[-1])}


def _book(rng, kernel_shape, fan_in, fan_out):
    rows = fan_in + 1
    matrix = rng.standard_normal((rows, kernel_shape[-1])) * np.sqrt(1.0 / rows)
    return {"kernel": matrix[1:].reshape(kernel_shape), "bias": matrix[0]}


SCHEMES = {"glorot": _glorot, "book": _book}


def init_kernel_and_bias(rng: np.random.Generator, scheme: str, kernel_shape, fan_in: int,
                         fan_out: int) -> dict[str, np.ndarray]:
    """{'kernel': ..., 'bias': ...} in float64 by `scheme` (a key of SCHEMES)."""
    return SCHEMES[scheme](rng, tuple(kernel_shape), fan_in, fan_out)
