"""The zoo: elementwise activations, each derivative beside its formula.

Where TensorFlow's kernels define a value at a kink (relu'(0) = 0, |z|'(0) = 0)
or round in a particular way (see `leaky_relu`, `elu`), the hand-written side
does the same, so the two implementations compute the same function and
their gradients agree to round-off.  The Keras twins live in
`keras_impl/activations.py` under the same names.

Sigmoid, tanh, relu and linear also carry the in-place form of the pair that
the fast epoch (`handrolled/fast.py`) uses: `value_inplace(z)` and
`times_derivative_inplace(g, a, scratch)` (the contract: `core.py`), written
right below `value` and `derivative` with the same operations in the same
order, so the fast loop's numbers are bit-identical to the textbook loop's.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import SpecError
from ..ranges import float32_number
from ..options import Declared, Option
from .core import NO_CAST, Activation, format_number, parse_number, register


class WithOptions(Declared, Activation):
    """An activation with parameters, declared as OPTIONS (handrolled/options.py): its
    __init__, text and from_text (what the registry calls) come from them."""

    @classmethod
    def option_label(cls, name: str) -> str:
        return f"the {name} of {cls.owner()}"


def real(value, what: str) -> float:
    """A finite number from text or Python (an activation's parameter)."""
    return parse_number(str(value), what)


def knot(item) -> tuple[float, float]:
    """A piecewise knot: 'z:y' from text, or a (z, y) pair."""
    if not isinstance(item, str):
        z, y = item
        return float(z), float(y)
    z, sep, y = item.partition(":")
    if not sep:
        raise SpecError(f"piecewise knot '{item.strip()}' is not z:y; "
                        f"e.g. piecewise(-1:-1,0:0,1:2)")
    return parse_number(z, "a knot's z"), parse_number(y, "a knot's y")


@register("sigmoid")
class Sigmoid(Activation):
    def value(self, z):
        # sigma(z) = 1 / (1 + e^-z).  For very negative z, e^-z overflows to
        # inf and 1/inf = 0, which is the right limit, so the warning is noise.
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-z))

    def derivative(self, z, a):
        return a * (1.0 - a)  # sigma'(z) = sigma(z) (1 - sigma(z))

    # In place (fast.py): the same operations, in the same order.
    def value_inplace(self, z):
        with np.errstate(over="ignore"):
            np.negative(z, out=z, **NO_CAST)
            np.exp(z, out=z, **NO_CAST)
        np.add(1.0, z, out=z, **NO_CAST)
        np.divide(1.0, z, out=z, **NO_CAST)               # sigma = 1 / (1 + e^-z)

    def times_derivative_inplace(self, g, a, scratch):
        np.subtract(1.0, a, out=scratch, **NO_CAST)
        np.multiply(a, scratch, out=scratch, **NO_CAST)   # sigma' = a (1 - a)
        np.multiply(g, scratch, out=g, **NO_CAST)


@register("tanh")
class Tanh(Activation):
    def value(self, z):
        return np.tanh(z)

    def derivative(self, z, a):
        return 1.0 - a * a  # tanh'(z) = 1 - tanh(z)^2

    # In place (fast.py): the same operations, in the same order.
    def value_inplace(self, z):
        np.tanh(z, out=z, **NO_CAST)

    def times_derivative_inplace(self, g, a, scratch):
        np.multiply(a, a, out=scratch, **NO_CAST)
        np.subtract(1.0, scratch, out=scratch, **NO_CAST)  # tanh' = 1 - a^2
        np.multiply(g, scratch, out=g, **NO_CAST)


@register("relu")
class ReLU(Activation):
    kinks = (0.0,)

    def value(self, z):
        return np.maximum(z, 0)

    def derivative(self, z, a):
        return (z > 0).astype(z.dtype)  # 0 at z = 0, as TensorFlow

    # In place (fast.py): the same operations, in the same order.
    def value_inplace(self, z):
        np.maximum(z, 0, out=z, **NO_CAST)

    def times_derivative_inplace(self, g, a, scratch):
        # [z > 0] read from a: a > 0 exactly where z > 0 (NaN: false in both).
        # Writing the bool mask into scratch gives 0.0/1.0, exactly
        # (z > 0).astype(dtype); multiplying by it, rather than assigning zeros,
        # keeps the textbook's signed zeros and NaN propagation.
        np.greater(a, 0, out=scratch)
        np.multiply(g, scratch, out=g, **NO_CAST)


@register("relu_ge")
class ReLUGreaterEqual(ReLU):
    """ReLU whose derivative at exactly z = 0 is 1: the `z >= 0` variant.

    Same function as relu; only f'(0) differs.  It matters only where a
    pre-activation is exactly 0 (dead inputs, zero biases on zero rows).
    """

    def derivative(self, z, a):
        return (z >= 0).astype(z.dtype)


@register("leaky_relu", example="leaky_relu(0.1)")
class LeakyReLU(WithOptions):
    """f(z) = z for z > 0, slope * z otherwise; f'(0) = slope (as TensorFlow).

    Default slope 0.2, the default of `keras.activations.leaky_relu`.
    TensorFlow's LeakyRelu op stores the slope as a float32 attribute, so in
    Keras `leaky_relu(0.1)` multiplies by 0.10000000149011612 even in float64;
    we round the slope to float32 the same way, so both compute one function.
    """

    OPTIONS = (Option("negative_slope", real, 0.2, positional=True, always=True,
                      write=format_number),)
    kinks = (0.0,)

    def __post_init__(self):
        self.given = float32_number(float(self.negative_slope),
                                    self.option_label("negative_slope"))
        self.slope = float(np.float32(self.given))   # TensorFlow stores it as float32

    def value(self, z):
        return np.where(z > 0, z, z * z.dtype.type(self.slope))

    def derivative(self, z, a):
        return np.where(z > 0, 1.0, self.slope).astype(z.dtype)


@register("elu", example="elu")
class ELU(WithOptions):
    """f(z) = z for z > 0, alpha (e^z - 1) otherwise (alpha > 0, default 1).

    e^z - 1 rather than expm1: TensorFlow's Elu kernel computes exp(z) - 1,
    and its gradient is taken from that output, (f + 1) where f < 0.
    """

    OPTIONS = (Option("alpha", real, 1.0, positional=True, write=format_number),)

    def __post_init__(self):
        if self.alpha <= 0:
            raise SpecError(f"elu's alpha must be positive, got {format_number(self.alpha)}")
        self.alpha = float(self.alpha)
        self.kinks = () if self.alpha == 1.0 else (0.0,)  # f' jumps from alpha to 1

    def _expm1(self, z):
        with np.errstate(over="ignore"):  # only the z <= 0 branch is used
            return np.exp(z) - 1.0

    def value(self, z):
        return np.where(z > 0, z, self.alpha * self._expm1(z)).astype(z.dtype)

    def derivative(self, z, a):
        e = self._expm1(z)
        return np.where(z > 0, 1.0, self.alpha * np.where(e < 0, e + 1.0, 1.0)).astype(z.dtype)


@register("softplus")
class Softplus(Activation):
    """f(z) = log(1 + e^z), f'(z) = sigmoid(z).

    Computed as TensorFlow does: z itself above -log(eps) + 2 (where
    log(1 + e^z) = z to working precision), e^z below log(eps) - 2, log1p(e^z)
    in between.
    """

    def value(self, z):
        threshold = np.log(np.finfo(z.dtype).eps) + 2.0  # negative
        with np.errstate(over="ignore"):
            e = np.exp(z)
        return np.where(z > -threshold, z, np.where(z < threshold, e, np.log1p(e))).astype(z.dtype)

    def derivative(self, z, a):
        return Sigmoid().value(z)  # softplus'(z) = sigmoid(z), the one sigmoid


@register("swish")
class Swish(Activation):
    """f(z) = z sigmoid(z) (also called SiLU), f'(z) = s (1 + z (1 - s)), s = sigmoid(z)."""

    def value(self, z):
        return z * Sigmoid().value(z)

    def derivative(self, z, a):
        s = Sigmoid().value(z)
        return s * (1.0 + z * (1.0 - s))


def erfc(x: np.ndarray) -> np.ndarray:
    """The complementary error function, elementwise, from Python's math.erfc.

    NumPy has no erf and this package may not use SciPy; math.erfc is the C
    library's, accurate to about 1 ulp.  A Python-level loop, but only over
    the elements of one layer's activations (measured against TensorFlow's
    erfc: see docs/howto/activations.md).
    """
    return np.frompyfunc(math.erfc, 1, 1)(x).astype(x.dtype)


# TensorFlow's exact GELU computes erfc(-z * cast(0.7071067811865476, dtype)), and the
# Python float is converted to a float32 tensor before the cast, so even in float64
# Keras multiplies by 1/sqrt(2) rounded to float32.  Measured: against the true GELU
# that is up to 1.1e-6 relative (at z = -1.41); with the same constant the two sides
# agree to 1.3e-15.  We use TensorFlow's constant, so both compute one function.
_GELU_C = float(np.float32(0.7071067811865476))   # 0.70710676908493042, not 1/sqrt(2)
_TWO_OVER_SQRT_PI = 1.1283791670955126


@register("gelu")
class GELU(Activation):
    """The erf form of GELU, Keras' default (`keras.activations.gelu(approximate=False)`),
    not the tanh approximation:

        f(z)  = z Phi(z) = z/2 erfc(-c z),          c = 1/sqrt(2) (see _GELU_C)
        f'(z) = erfc(-c z)/2 + z c/sqrt(pi) e^{-(c z)^2}  (= Phi(z) + z phi(z))
    """

    def value(self, z):
        return 0.5 * z * erfc(-z * _GELU_C)

    def derivative(self, z, a):
        u = z * _GELU_C
        return 0.5 * erfc(-u) + 0.5 * z * (_GELU_C * _TWO_OVER_SQRT_PI) * np.exp(-u * u)


@register("abs")
class Abs(Activation):
    kinks = (0.0,)

    def value(self, z):
        return np.abs(z)

    def derivative(self, z, a):
        return np.sign(z)  # 0 at z = 0, as TensorFlow


@register("linear")
class Linear(Activation):
    def value(self, z):
        return z

    def derivative(self, z, a):
        return np.ones_like(z)

    # In place (fast.py): nothing to do.
    def value_inplace(self, z):
        pass  # a = z

    def times_derivative_inplace(self, g, a, scratch):
        pass  # f' = 1, and g * 1 == g exactly


@register("sin")
class Sin(Activation):
    def value(self, z):
        return np.sin(z)

    def derivative(self, z, a):
        return np.cos(z)


@register("cos")
class Cos(Activation):
    def value(self, z):
        return np.cos(z)

    def derivative(self, z, a):
        return -np.sin(z)


@register("piecewise", example="piecewise(-1:-1,0:0,1:2)")
class Piecewise(WithOptions):
    """Piecewise-linear through knots (z_0, y_0) < (z_1, y_1) < ...:

        f(z) = y_k + s_k (z - z_k)  on segment k,   s_k = (y_{k+1} - y_k) / (z_{k+1} - z_k)

    Outside the knots the end segments continue with their slopes (segment 0
    extends to -inf, the last one to +inf).  At an inner knot, where f' jumps,
    f' is the slope on the LEFT, the convention relu'(0) = 0 follows.
    Text: 'piecewise(-1:-1,0:0,1:2)', knots as z:y, at least two, z strictly
    increasing.
    """

    OPTIONS = (Option("knots", lambda value, what: tuple(
                          knot(item) for item in ([value] if isinstance(value, str) else value)),
                      positional=True, variadic=True,
                      write=lambda knots: ",".join(f"{format_number(z)}:{format_number(y)}"
                                                   for z, y in knots)),)

    def __post_init__(self):
        knots = [(float(z), float(y)) for z, y in self.knots]
        if len(knots) < 2:
            raise SpecError(f"piecewise needs at least two knots z:y, got {len(knots)}; "
                            f"e.g. piecewise(-1:-1,0:0,1:2)")
        zs = np.array([z for z, _ in knots])
        if np.any(np.diff(zs) <= 0):
            raise SpecError("piecewise knots must have strictly increasing z, got "
                            + ",".join(format_number(z) for z in zs))
        ys = np.array([y for _, y in knots])
        self.knots = tuple(knots)
        self.zs = zs
        self.slopes = np.diff(ys) / np.diff(zs)          # s_k for segment k
        self.intercepts = ys[:-1]                        # y_k, the segment's left end
        self.kinks = tuple(zs[1:-1])


    def segment(self, z):
        """Index k of the segment holding z: the number of inner knots strictly below z."""
        return np.searchsorted(self.zs[1:-1], z, side="left")

    def value(self, z):
        k = self.segment(z)
        return (self.intercepts[k] + self.slopes[k] * (z - self.zs[k])).astype(z.dtype)

    def derivative(self, z, a):
        return self.slopes[self.segment(z)].astype(z.dtype)
