"""The ranges Keras holds the numbers of a spec in: checked when they are parsed.

Keras turns a Python hyper-parameter into a tensor before it uses it: a float
through float32 (`ops.cast`, or `convert_to_tensor`'s default dtype), even in a
float64 model (a regularizer's factor, an optimizer's epsilon and decay rates, a
schedule's numbers, leaky_relu's slope); an integer into an int32 or int64 tensor
(a schedule's decay_steps).  Beyond those ranges TensorFlow raises inside Keras
(`l2(1e39)`: "Can't convert Python float to float32", a 30-digit decay_steps:
"out-of-range integer"), and a tiny float becomes 0 (Adam's epsilon=1e-320: the
step divides 0 by 0).  Every such number is checked here, once, by the parser
that reads it (handrolled/options.py, handrolled/regularizers.py,
the activations that Keras runs in float32), so the spec is refused with one line
before anything runs.
"""

from __future__ import annotations

import numpy as np

from .errors import SpecError

FLOAT32 = np.finfo(np.float32)
FLOAT32_TINY = float(np.nextafter(np.float32(0), np.float32(1)))   # 1.4e-45, a subnormal
INT64_MAX = int(np.iinfo(np.int64).max)


def float32_number(value: float, what: str) -> float:
    """`value` unchanged, or a SpecError when float32 cannot hold it: beyond its largest
    finite number, or not 0 and rounded to 0."""
    with np.errstate(over="ignore", under="ignore"):
        rounded = np.float32(value)
    if not np.isfinite(rounded) or (value != 0 and rounded == 0):
        raise SpecError(f"{what} must be within float32's range (Keras holds it in "
                        f"float32): 0, or {FLOAT32_TINY:.4g} to {float(FLOAT32.max):.4g} in "
                        f"size; got {value!r}")
    return value


def int64_number(value: int, what: str) -> int:
    """`value` unchanged, or a SpecError when an int64 cannot hold it."""
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise SpecError(f"{what} must fit in a 64-bit integer (Keras holds it in one): at "
                        f"most {INT64_MAX}; got {value}")
    return value
