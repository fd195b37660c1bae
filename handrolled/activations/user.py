"""User-defined activations: write the function once, use it on both sides.

    # my_activations.py
    import numpy as np
    from handrolled.activations import register_user_activation

    def softsign(z, xp):                 # xp is numpy here, keras.ops in Keras
        return z / (1 + xp.abs(z))

    def softsign_derivative(z, a):       # hand-written, NumPy only
        return 1 / (1 + np.abs(z)) ** 2

    register_user_activation("softsign", softsign, softsign_derivative)

`function(z, xp)` must use only what NumPy and keras.ops share (abs, exp,
where, maximum, sin, tanh, ...).  The hand-written side calls it with
xp = numpy; keras_impl calls it with xp = keras.ops and lets TensorFlow
differentiate it, so `nn-compare activations` can hold the hand-written
derivative against an independent one.  Nothing here imports Keras.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import traceback
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import ReportedError, SpecError, TargetError
from ..usercode import ESCAPES, is_real_interrupt, what_it_did
from .core import Activation, names, register_factory

_NAME_FORM = "a Python identifier such as 'softsign'"


class UserActivation(Activation):
    """An activation registered with `register_user_activation`."""

    user = True

    def __init__(self, name: str, function: Callable, derivative: Callable,
                 kinks=(), source: str = ""):
        self.name = name
        self.function = function
        self.derivative_function = derivative
        self.kinks = tuple(float(c) for c in kinks)
        self.source = source

    def value(self, z):
        a = self.call_user("function", self.function, z, np)
        return self.checked(a, z, f"user activation '{self.name}'")

    def derivative(self, z, a):
        d = self.call_user("derivative", self.derivative_function, z, a)
        return self.checked(d, z, f"the derivative of user activation '{self.name}'")

    @staticmethod
    def checked(result, z, what: str) -> np.ndarray:
        """The user's result as an array of z's shape and dtype (float32 stays float32),
        checked on every call: a wrong shape or non-real numbers is one line, whatever
        the batch, not a broadcasting error later."""
        result = np.asarray(result)
        if result.shape != z.shape:
            raise SpecError(f"{what} returns shape {result.shape} for input shape {z.shape}; "
                            f"it must work elementwise (one value per element, same shape)")
        if result.dtype.kind not in "fiub":  # complex would lose its imaginary part
            raise SpecError(f"{what} returns dtype {result.dtype}; expected real numbers")
        return result.astype(z.dtype, copy=False)

    def call_user(self, role: str, function: Callable, *args):
        """Call the user's code; if it raises, an ActivationModuleError carrying their
        traceback (the command line shows it, then one line, exit 2)."""
        try:
            return function(*args)
        except ReportedError:  # our own one-line message
            raise
        except ESCAPES as error:  # any failure in user code, sys.exit() included
            if is_real_interrupt(error):
                raise
            details = "".join(traceback.format_exception(  # from their frame on, not ours
                type(error), error, error.__traceback__.tb_next))
            raise ActivationModuleError(
                f"user activation '{self.name}': its {role} {what_it_did(error)}",
                details) from None


def register_user_activation(name: str, function: Callable, derivative: Callable,
                             kinks=(), replace: bool = False) -> UserActivation:
    """Make `function(z, xp)` with hand-written `derivative(z, a)` usable as `name`.

    Checked at once on a small probe array: both must return arrays of z's
    shape (a SpecError otherwise).  `kinks`: the z where the derivative jumps.
    A name already registered is refused unless `replace=True`.
    """
    _check_name(name, replace)
    activation = UserActivation(name, function, derivative, kinks,
                                source=getattr(function, "__module__", "") or "")
    _check_shapes(activation)
    return register_user_instance(activation, replace)


def register_user_instance(activation: UserActivation, replace: bool = False) -> UserActivation:
    """Register an already built `UserActivation` (or subclass) under its name, unprobed:
    compare/user_activations registers this way the stand-ins of the functions that run in
    a process of their own (where they were probed)."""
    _check_name(activation.name, replace)
    register_factory(activation.name, _factory(activation))
    _USER[activation.name] = activation
    return activation


def _check_name(name, replace: bool) -> None:
    if not isinstance(name, str) or not name.isidentifier():
        raise SpecError(f"user activation name {name!r} is not {_NAME_FORM}")
    if name in names() and not (replace or _registered_user(name)):
        raise SpecError(f"activation '{name}' already exists; pick another name "
                        f"(or pass replace=True)")


_USER: dict[str, UserActivation] = {}


def _registered_user(name: str) -> bool:
    return name in _USER


def user_names() -> list[str]:
    """Names registered through `register_user_activation`, sorted."""
    return sorted(n for n in _USER if n in names())


def _factory(activation: UserActivation):
    def factory(args):
        if args is not None:
            raise SpecError(f"user activation '{activation.name}' takes no parameters, "
                            f"got '{activation.name}({args})'")
        return activation

    return factory


def _check_shapes(activation: UserActivation, shape=(3, 4)) -> None:
    """Call value and derivative on a probe of `shape` (values from -2 to 2); each checks
    that its result has the probe's shape (`UserActivation.checked`)."""
    z = np.linspace(-2.0, 2.0, math.prod(shape)).reshape(shape)
    activation.derivative(z, activation.value(z))


def check_user_activations(layers, rows) -> None:
    """Every user activation of the built `layers`, called on z of each real batch shape
    (r, *the layer's output shape) for r in `rows` (the batch, the last partial batch):
    before any work, so a function that only fails beyond the (3, 4) registration probe
    is one line at the start, not a traceback mid-run."""
    for layer in layers:
        functions = getattr(layer.activation, "functions", [layer.activation])
        for activation in functions:
            if isinstance(activation, UserActivation):
                for r in sorted(set(rows)):
                    _check_shapes(activation, (r, *layer.output_shape))


class ActivationModuleError(TargetError):
    """A user's activation file raised, while loading or when called; `details` holds
    their traceback."""


def load_activation_module(path: str) -> list[str]:
    """Run the Python file at `path` (which registers activations); return the new names.
    It runs in this process: the library's way.  `nn-compare` runs each --activation-module
    in a process of its own instead (compare/user_activations), which calls this there.

    A file that is missing -> SpecError.  A file that raises -> ActivationModuleError,
    whose `details` is the user's traceback (the command line prints it).
    """
    file = Path(path)
    form = "expected a Python file (.py) that calls register_user_activation(...)"
    if not file.exists():
        raise SpecError(f"activation module {path} does not exist; {form}")
    if not file.is_file() or file.suffix != ".py":  # importlib finds no loader for others
        raise SpecError(f"activation module {path} is not a .py file; {form}")
    before = set(names())
    module_name = f"user_activations_{file.stem}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # lets the file's functions be pickled by name
    try:
        spec.loader.exec_module(module)
    except ReportedError:
        raise  # our own one-line message (e.g. a wrong shape) is already clear
    except ESCAPES as error:  # any failure in user code, sys.exit() included
        sys.modules.pop(module_name, None)
        if is_real_interrupt(error):
            raise
        details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        raise ActivationModuleError(
            f"activation module {path} failed to load: it {what_it_did(error)}",
            details) from None
    return sorted(set(names()) - before)


def unregister_user_activation(name: str) -> None:
    """Forget a user activation (tests clean up with this)."""
    from .core import unregister

    _USER.pop(name, None)
    unregister(name)
