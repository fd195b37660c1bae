"""The Keras side of each registered activation, under the same names.

This maps every name in `handrolled.activations` to what a Keras user would
write: Keras' own functions where they exist (`keras.activations.relu`,
`keras.activations.gelu`), `keras.ops` where Keras has no activation of that
name (`abs`, `sin`, `piecewise`), so the comparison is against the framework,
not against a copy of our NumPy.  TensorFlow differentiates these
automatically; the one derivative written here is relu_ge's, whose whole
point is a different f'(0) than TensorFlow's relu.

A factory receives the handrolled activation object, so parameterised ones
(`leaky_relu(0.1)`) read their parameters from it.  Per-unit activations
(`mix`, `stochastic`) come back as a layer (`keras_impl.layers.PerUnitActivation`)
that follows a Dense layer without activation; layers are callables on
tensors too.  User activations (`register_user_activation`) need no entry
here: their `function(z, xp)` is called with xp = keras.ops.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from handrolled import activations as handrolled_activations
from handrolled.errors import SpecError

from .runtime import keras

ops = keras.ops

# name -> factory(handrolled activation, layer options) -> function of a tensor (or a layer)
_REGISTRY: dict[str, Callable] = {}


def register(name: str):
    def decorate(factory):
        _REGISTRY[name] = factory
        return factory

    return decorate


def names() -> list[str]:
    """Every name with a Keras twin: the built-in ones and the user-registered ones."""
    return sorted(set(_REGISTRY) | set(handrolled_activations.user_names()))


def get(text, dtype: str | None = None, name: str | None = None) -> Callable:
    """The Keras function for an activation given by name/text or handrolled object.

    For per-unit activations the result is a layer, built with `dtype` and `name`
    (both ignored for elementwise functions).
    """
    activation = handrolled_activations.get(text)
    if isinstance(activation, handrolled_activations.UserActivation):
        return _user_function(activation)
    factory = _REGISTRY.get(activation.name)
    if factory is None:
        raise SpecError(f"activation '{activation.name}' has no Keras twin; "
                        f"accepted: {', '.join(names())}")
    if activation.per_unit:
        return factory(activation, dtype=dtype, name=name)
    return factory(activation)


def _simple(name: str, function: Callable) -> None:
    register(name)(lambda act: function)


_simple("sigmoid", keras.activations.sigmoid)
_simple("tanh", keras.activations.tanh)
_simple("relu", keras.activations.relu)        # TF: relu'(0) = 0
_simple("linear", keras.activations.linear)
_simple("softplus", keras.activations.softplus)
_simple("swish", keras.activations.silu)       # Keras' name for z * sigmoid(z)
_simple("abs", ops.abs)                        # TF: |z|'(0) = sign(0) = 0
_simple("sin", ops.sin)
_simple("cos", ops.cos)


@register("gelu")
def _gelu(act):
    return lambda z: keras.activations.gelu(z, approximate=False)  # the exact (erf) form


@register("leaky_relu")
def _leaky_relu(act):
    return lambda z: keras.activations.leaky_relu(z, negative_slope=act.given)


@register("elu")
def _elu(act):
    return lambda z: keras.activations.elu(z, alpha=act.alpha)


@ops.custom_gradient
def relu_ge(z):
    """relu with f'(0) = 1: Keras' relu forward, the `z >= 0` derivative backward."""

    def grad(*args, upstream=None):
        upstream = args[0] if upstream is None else upstream
        return upstream * ops.cast(z >= 0, upstream.dtype)

    return keras.activations.relu(z), grad


register("relu_ge")(lambda act: relu_ge)


@register("piecewise")
def _piecewise(act):
    """f(z) = y_k + s_k (z - z_k), k = number of inner knots strictly below z.

    The segment index is a count of comparisons and the slopes are constants
    gathered by it, so TensorFlow's derivative is s_k: at an inner knot the
    left slope, as on the hand-written side.
    """
    inner = np.asarray(act.zs[1:-1])

    def piecewise(z):
        k = ops.sum(ops.cast(ops.expand_dims(z, -1) > ops.cast(inner, z.dtype), "int32"), -1)
        take = lambda values: ops.take(ops.cast(values, z.dtype), k)  # noqa: E731
        return take(act.intercepts) + take(act.slopes) * (z - take(act.zs[:-1]))

    return piecewise


def _per_unit(act, dtype=None, name=None):
    from .layers import PerUnitActivation  # the layer imports this module

    return PerUnitActivation(act.text, dtype=dtype, name=name)


register("mix")(_per_unit)
register("stochastic")(_per_unit)


def _user_function(act) -> Callable:
    """`function(z, keras.ops)`, checked once on a probe to return z's shape as a tensor.
    Errors in the user's code come out as ActivationModuleError (their traceback)."""
    probe = ops.reshape(ops.linspace(-2.0, 2.0, 12), (3, 4))
    out = act.call_user("function (given keras.ops)", act.function, probe, ops)
    if isinstance(out, np.ndarray):  # works eagerly, but fit's graph cannot run NumPy
        raise SpecError(f"user activation '{act.name}' returns a NumPy array when given "
                        f"keras.ops; write it with xp.* (xp.abs, xp.where, ...), not np.*")
    shape = tuple(getattr(out, "shape", ()))
    if shape != (3, 4):
        raise SpecError(f"user activation '{act.name}' returns shape {shape} for input shape "
                        f"(3, 4) when given keras.ops; it must work elementwise")
    def function(z):
        try:
            return act.call_user("function (given keras.ops)", act.function, z, ops)
        except SpecError as error:
            # Keras re-raises errors inside a layer's call as a new exception with the
            # arguments appended (keras/src/utils/traceback_utils.py), which would lose the
            # user's traceback and the one-line message; this marker makes it re-raise ours.
            error._keras_call_info_injected = True
            raise

    return function
