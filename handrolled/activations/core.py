"""The activation contract and the one registry that maps names to activations.

Every activation is an object with

    value(z)           a = f(z), elementwise on an (n, units) array
    derivative(z, a)   f'(z) = da/dz elementwise; a = f(z) is passed too because
                       some derivatives are cheapest from the output
                       (sigmoid: a(1 - a), tanh: 1 - a^2)
    kinks              the z where f' jumps; the finite-difference witness
                       reports checks that straddle one instead of failing them
    name, text         the registry name, and the text that `get` parses back
    on_step(epoch, step), on_train_end()
                       hooks training loops call; activations that change over
                       time (stochastic ones) update themselves there

and, optionally, an in-place form of the pair for the fast epoch
(`handrolled/fast.py`), written right beside `value` and `derivative`:

    value_inplace(z)                          z <- f(z): a overwrites z
    times_derivative_inplace(g, a, scratch)   g <- g * f'(z), f' read from a alone
                                              (z is gone); scratch: a buffer of g's
                                              shape and dtype

They perform the textbook methods' floating-point operations in the same order,
only into existing arrays with `out=` and `**NO_CAST`, so the numbers are
bit-identical.  The fast loop uses them only when the activation's own class
defines both (a subclass that inherits them may have overridden `value` or
`derivative`); any other activation runs through `value` and `derivative`.

The registry works like `keras.activations.get`:

    get("relu")              -> the ReLU object
    get("leaky_relu(0.1)")   -> a parameterised one (its factory parses "0.1")
    get("relu_typo")         -> SpecError naming the accepted names
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .. import text as text_grammar
from ..errors import SpecError, unknown

# For every in-place ufunc: same dtype in and out, or an error (an operand of
# another dtype raises instead of silently computing in, say, float64).  Python
# scalars are fine: under NumPy's NEP 50 they take the array's dtype.
NO_CAST = {"casting": "no"}


class Activation:
    """a = f(z) and f'(z) side by side.  Subclasses set `name` (via `register`)."""

    name: str = ""
    kinks: tuple[float, ...] = ()
    per_unit: bool = False  # True for layers whose units compute different functions

    def value(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def on_step(self, epoch: int, step: int) -> None:
        """Called by training loops before each step (step counted from 0 over the
        whole run, epoch from 0).  Default: nothing changes over time."""

    def on_train_end(self) -> None:
        """Called once after training.  Default: nothing."""

    @property
    def text(self) -> str:
        """The form that `get` parses back into this activation."""
        return self.name

    def __repr__(self) -> str:
        return f"<activation {self.text}>"


# name -> factory(argument text or None) -> Activation
_REGISTRY: dict[str, Callable[[str | None], Activation]] = {}
# name -> a text that builds a typical instance (for listings and tests)
_EXAMPLES: dict[str, str] = {}

def register(name: str, example: str | None = None):
    """Class decorator: make an `Activation` subclass available as `name`.

    A class whose `__init__` takes no arguments is registered as is; one that
    takes parameters must provide `from_text(args: str | None)`.
    """

    def decorate(cls):
        factory = getattr(cls, "from_text", None)
        if factory is None:
            factory = _no_arguments(name, cls)
        register_factory(name, factory, example)
        cls.name = name
        return cls

    return decorate


def register_factory(name: str, factory: Callable[[str | None], Activation],
                     example: str | None = None) -> None:
    """Register a factory that builds an activation from its argument text."""
    _REGISTRY[name] = factory
    _EXAMPLES[name] = example or name


def unregister(name: str) -> None:
    """Remove `name` (tests use this to clean up user activations)."""
    _REGISTRY.pop(name, None)
    _EXAMPLES.pop(name, None)


def _no_arguments(name: str, cls):
    def factory(args: str | None) -> Activation:
        if args is not None:
            raise SpecError(f"activation '{name}' takes no parameters, got '{name}({args})'")
        return cls()

    return factory


def names() -> list[str]:
    """Registered activation names, sorted."""
    return sorted(_REGISTRY)


def examples() -> dict[str, str]:
    """{name: example text}, e.g. {'leaky_relu': 'leaky_relu(0.1)', 'relu': 'relu', ...}."""
    return {name: _EXAMPLES[name] for name in names()}


def split_call(text: str) -> tuple[str, str | None]:
    """'leaky_relu(0.1)' -> ('leaky_relu', '0.1');  'relu' -> ('relu', None)."""
    return text_grammar.split_call(text, "activation",
                                   "'relu' or a name with parameters such as 'leaky_relu(0.1)'")


def get(text: str | Activation) -> Activation:
    """Resolve an activation from its text form (or pass an Activation through)."""
    if isinstance(text, Activation):
        return text
    name, args = split_call(str(text))
    factory = _REGISTRY.get(name)
    if factory is None:
        raise unknown("activation", name, names())
    return factory(args)


# ------------------------------------------------------- parsing parameters

def parse_number(text: str, what: str) -> float:
    """A finite float from text, or a SpecError saying what was expected."""
    try:
        value = float(text)
    except ValueError:
        raise SpecError(f"{what} must be a number, got '{text.strip()}'") from None
    if not math.isfinite(value):
        raise SpecError(f"{what} must be finite, got '{text.strip()}'")
    return value


def format_number(value: float) -> str:
    """Shortest text that parses back to the same float: 1.0 -> '1', 0.1 -> '0.1'."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text
