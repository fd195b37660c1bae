"""Activation functions, each with its derivative right beside it.

Every activation is an object with two methods:

    value(z)         a = f(z)
    derivative(z, a) f'(z) = da/dz, evaluated elementwise; a = f(z) is passed
                     too because some derivatives are cheapest from the output
                     (sigmoid: a(1 - a), tanh: 1 - a^2).

Derivatives at kinks follow TensorFlow, so both implementations agree exactly:
relu'(0) = 0.  `kinks` lists the z where f' jumps; the finite-difference
witness reports points that straddle a kink instead of calling them failures.

One registry maps names to activations, like `keras.activations.get`:

    get("relu")              -> the ReLU object
    get("leaky_relu(0.1)")   -> a parameterised one (the factory parses "0.1")
    get("relu_typo")         -> SpecError naming the accepted names

Adding an activation is a small class plus `@register("name")`.
"""

from __future__ import annotations

import re
from typing import Callable

import numpy as np

from .errors import SpecError


class Activation:
    """a = f(z) and f'(z) side by side.  Subclasses set `name`."""

    name: str = ""
    kinks: tuple[float, ...] = ()

    def value(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def on_step(self, epoch: int, step: int) -> None:
        """Called by training loops before each step; activations that change
        over time (stochastic ones) update themselves here.  Default: nothing."""

    def on_train_end(self) -> None:
        """Called once after training; fixes the function used for evaluation."""

    @property
    def text(self) -> str:
        """The form that `get` parses back into this activation."""
        return self.name

    def __repr__(self) -> str:
        return f"<activation {self.text}>"


# name -> factory(argument text or None) -> Activation
_REGISTRY: dict[str, Callable[[str | None], Activation]] = {}

_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)


def register(name: str):
    """Class decorator: make an `Activation` subclass available as `name`.

    A class whose `__init__` takes no arguments is registered as is; one that
    takes parameters must provide `from_text(args: str | None)`.
    """

    def decorate(cls):
        factory = getattr(cls, "from_text", None)
        if factory is None:
            factory = _no_arguments(name, cls)
        _REGISTRY[name] = factory
        cls.name = name
        return cls

    return decorate


def register_factory(name: str, factory: Callable[[str | None], Activation]) -> None:
    """Register a factory that builds an activation from its argument text."""
    _REGISTRY[name] = factory


def _no_arguments(name: str, cls):
    def factory(args: str | None) -> Activation:
        if args is not None:
            raise SpecError(f"activation '{name}' takes no parameters, got '{name}({args})'")
        return cls()

    return factory


def names() -> list[str]:
    """Registered activation names, sorted."""
    return sorted(_REGISTRY)


def split_call(text: str) -> tuple[str, str | None]:
    """'leaky_relu(0.1)' -> ('leaky_relu', '0.1');  'relu' -> ('relu', None)."""
    match = _CALL.match(text)
    if not match:
        raise SpecError(f"malformed activation '{text}'; expected a name such as 'relu' "
                        f"or a name with parameters such as 'leaky_relu(0.1)'")
    return match.group(1), match.group(2)


def get(text: str | Activation) -> Activation:
    """Resolve an activation from its text form (or pass an Activation through)."""
    if isinstance(text, Activation):
        return text
    name, args = split_call(str(text))
    factory = _REGISTRY.get(name)
    if factory is None:
        raise SpecError(f"unknown activation '{name}'; accepted: {', '.join(names())}")
    return factory(args)


# ---------------------------------------------------------------- the first set

@register("sigmoid")
class Sigmoid(Activation):
    def value(self, z):
        # sigma(z) = 1 / (1 + e^-z).  For very negative z, e^-z overflows to
        # inf and 1/inf = 0, which is the right limit, so the warning is noise.
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-z))

    def derivative(self, z, a):
        return a * (1.0 - a)  # sigma'(z) = sigma(z) (1 - sigma(z))


@register("tanh")
class Tanh(Activation):
    def value(self, z):
        return np.tanh(z)

    def derivative(self, z, a):
        return 1.0 - a * a  # tanh'(z) = 1 - tanh(z)^2


@register("relu")
class ReLU(Activation):
    kinks = (0.0,)

    def value(self, z):
        return np.maximum(z, 0)

    def derivative(self, z, a):
        return (z > 0).astype(z.dtype)  # 0 at z = 0, as TensorFlow


@register("linear")
class Linear(Activation):
    def value(self, z):
        return z

    def derivative(self, z, a):
        return np.ones_like(z)
