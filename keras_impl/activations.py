"""The Keras side of each registered activation, under the same names.

This maps every name in `handrolled.activations` to what a Keras user would
write: Keras' own functions where they exist (`keras.activations.relu`,
`keras.activations.gelu`), `keras.ops` where Keras has no activation of that
name (`abs`, `sin`, `piecewise`), so the comparison is against the framework,
not against a copy of our NumPy.  TensorFlow differentiates these
automatically; the one derivative written here is relu_ge's, whose whole
point is a different f'(0) than TensorFlow's relu.

A factory receives the handrolled activation object, so parameterised ones
(`leaky_relu(0.1)`) read their parameters from it.  User activations
(`register_user_activation`) need no entry here: their `function(z, xp)` is
called with xp = keras.ops.  Per-unit activations (`mix`, `stochastic`) are
layers; `keras_impl.layers` defines `PerUnitActivation` and registers their
factories here (that module imports this one, never the other way round).

Saving.  `get` wraps every elementwise function in a `HandrolledActivation`,
a callable registered with `keras.saving.register_keras_serializable` whose
config is the handrolled text ("leaky_relu(0.1)", "piecewise(-1:-1,0:0,1:2)").
A Dense layer saves it as that text and `keras.saving.load_model` rebuilds it
through this registry, in safe mode: no lambda and no Python code is stored.
The per-unit layer saves its text the same way.  A user activation is saved
by name, so it loads only where the same name has been registered again.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from handrolled import activations as handrolled_activations
from handrolled.errors import ReportedError, SpecError

from .runtime import keras

ops = keras.ops

# name -> factory(handrolled activation) -> function of a tensor, for elementwise ones;
# name -> factory(handrolled activation, dtype=, name=) -> layer, for per-unit ones
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
    """The Keras activation for a name/text or handrolled object.

    Elementwise ones come back as a `HandrolledActivation` (a serializable
    function of a tensor).  For per-unit activations the result is a layer,
    built with `dtype` and `name` (both ignored for elementwise functions).
    """
    activation = handrolled_activations.get(text)
    if activation.per_unit:
        return _factory(activation)(activation, dtype=dtype, name=name)
    return HandrolledActivation(activation)


def check_saved(text: str) -> None:
    """Before rebuilding a saved activation: one that this process does not know (a
    user activation not registered again) is a SpecError that says so."""
    try:
        handrolled_activations.get(text)
    except SpecError as error:
        raise SpecError(f"cannot load the saved activation '{text}': {error}; a user "
                        f"activation loads only in a process where it is registered again "
                        f"(register_user_activation, or --activation-module)") from error


def _factory(activation) -> Callable:
    factory = _REGISTRY.get(activation.name)
    if factory is None:
        raise SpecError(f"activation '{activation.name}' has no Keras twin; "
                        f"accepted: {', '.join(names())}")
    return factory


@keras.saving.register_keras_serializable(package="handrolled")
class HandrolledActivation:
    """f(z) for one elementwise handrolled activation, saved as its text.

        f = HandrolledActivation("leaky_relu(0.1)")
        keras.layers.Dense(5, activation=f)
        f.get_config()                          # {"activation": "leaky_relu(0.1)"}

    Calling it calls the Keras function from this module's registry (or the
    user's function with xp = keras.ops), nothing else: the numbers are those
    of that function.
    """

    def __init__(self, activation):
        act = handrolled_activations.get(activation)
        if act.per_unit:
            raise SpecError(f"HandrolledActivation takes an elementwise activation, got "
                            f"'{act.text}' (per-unit ones are keras_impl.layers."
                            f"PerUnitActivation)")
        self.activation = act.text
        if isinstance(act, handrolled_activations.UserActivation):
            self.function = _user_function(act)
        else:
            self.function = _factory(act)(act)

    def __call__(self, z):
        return self.function(z)

    def get_config(self) -> dict:
        return {"activation": self.activation}

    @classmethod
    def from_config(cls, config: dict) -> "HandrolledActivation":
        check_saved(config["activation"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<HandrolledActivation {self.activation}>"


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


def _user_function(act) -> Callable:
    """`function(z, keras.ops)`, checked once on a probe to return z's shape as a tensor.
    Errors in the user's code come out as ActivationModuleError (their traceback).
    An activation whose code runs in another process (compare.user_activations) brings
    its own TensorFlow op, `keras_function()`; nothing of the user's is called here."""
    remote = getattr(act, "keras_function", None)
    if remote is not None:
        return remote()
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
        except ReportedError as error:
            # Keras re-raises errors inside a layer's call as a new exception with the
            # arguments appended (keras/src/utils/traceback_utils.py), which would lose the
            # user's traceback and the one-line message; this marker makes it re-raise ours.
            error._keras_call_info_injected = True
            raise

    return function

