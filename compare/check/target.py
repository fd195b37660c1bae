"""A check target: the user's own network in a Python file, and the contract it must keep.

    INPUTS = 784                                  # input features
    LAYERS = [(100, "relu"), (10, "softmax")]     # (units, activation); the last: the output
    LAYOUT = "bias_row"                           # or "separate" or "column" (layouts.py)
    def gradients(X, Y, weights): ...             # -> list of arrays, same shapes as weights
    def forward(X, weights): ...                  # optional -> the outputs (n, classes)
    LOSS, UNITS, HALF, REDUCTION, REGULARIZATION  # optional: the loss (objective.py)

Layouts of `weights` (and of what `gradients` returns): compare/check/layouts.py.

Everything the user's code does wrong *as code* (it does not import, breaks the
contract, raises, returns NaN or the wrong shapes) is a `TargetError`: exit 2.
Wrong *numbers* are the checker's business, not this module's.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from handrolled import NetworkSpec, Params, dense_layer
from handrolled.weights import rename_legacy
from handrolled.errors import SpecError
from handrolled.usercode import ESCAPES, is_real_interrupt, what_it_did

from . import layouts
from .objective import DECLARATIONS, Objective, ObjectiveError, read_objective

REQUIRED = ("INPUTS", "LAYERS", "LAYOUT", "gradients")
CONTRACT = ("a check target defines INPUTS, LAYERS, LAYOUT and gradients(X, Y, weights) "
            "(see README, 'Check your own network')")


class TargetError(SpecError):
    """The target cannot be checked.  `details` holds the user's traceback, if any."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


@dataclass
class Target:
    """A loaded, validated check target."""

    path: Path
    spec: NetworkSpec
    layout: str
    gradients_fn: Callable
    forward_fn: Callable | None
    objective: Objective = Objective()

    # ------------------------------------------------------------ layouts
    @property
    def form(self) -> layouts.Layout:
        return layouts.get(self.layout)

    def array_names(self) -> list[str]:
        """What each array in the user's list is, for messages: 'w1', or 'W1' and 'b1'."""
        return self.form.names(self.spec.depth)

    def expected_shapes(self) -> list[tuple[int, ...]]:
        spec = self.spec  # (n_0, ..., n_L): spec.sizes is for the softmax networks only
        return self.form.shapes((spec.inputs, *(layer.config["units"] for layer in spec.hidden),
                                 spec.outputs))

    def user_weights(self, params: Params) -> list[np.ndarray]:
        """W/b dict -> the user's layout; fresh copies, so their code cannot change ours."""
        params = rename_legacy(self.spec, params)  # W1, b1, ... or dense1/kernel, ...
        return [np.array(array, dtype=np.float64, copy=True)
                for array in self.form.to_user(params)]

    def user_batch(self, array: np.ndarray) -> np.ndarray:
        """X or Y as the layout takes it (columns for 'column'); a fresh copy."""
        return np.array(self.form.batch(array), copy=True)

    def to_params(self, arrays: list[np.ndarray]) -> Params:
        """The user's layout -> {'W1', 'b1', ...}, the book's names (arrays already
        shape-checked)."""
        return self.form.from_user(arrays)

    # ------------------------------------------------------------ calling the user's code
    def call_gradients(self, X: np.ndarray, Y: np.ndarray, params: Params) -> Params:
        """Run the user's `gradients` and check what it returns against the contract."""
        returned = self._call("gradients", self.gradients_fn, self.user_batch(X),
                              self.user_batch(Y), self.user_weights(params))
        return self.to_params(self._check_arrays(returned))

    def call_forward(self, X: np.ndarray, params: Params) -> np.ndarray:
        """Run the user's `forward`; check it returns finite (n, classes) outputs."""
        returned = self._call("forward", self.forward_fn, self.user_batch(X),
                              self.user_weights(params))
        return self.check_forward(returned, X.shape[0])

    def check_forward(self, returned, n: int) -> np.ndarray:
        """forward's result against the contract, as (n, outputs) rows."""
        outputs = self.spec.outputs
        expected = (n, outputs) if self.form.samples_are_rows else (outputs, n)
        what = "row" if self.form.samples_are_rows else "column"
        if isinstance(returned, tuple):
            raise TargetError(f"forward returned a tuple of {len(returned)}; expected one array "
                              f"of shape {expected} (if yours returns (y_hat, h) like the "
                              f"book's, return only y_hat)")
        probabilities = _as_floats(returned, "forward's result")
        if probabilities.shape != expected:
            raise TargetError(f"forward returned shape {probabilities.shape}; expected "
                              f"{expected}: one {what} of outputs per input {what}")
        _check_finite(probabilities, "forward's result")
        return self.form.rows(probabilities)

    def _call(self, name: str, function: Callable, *args):
        try:
            return function(*args)
        except ESCAPES as error:  # their bug, not ours (sys.exit() too): their traceback
            if is_real_interrupt(error):
                raise
            raise TargetError(f"{name}() in {self.path.name} {what_it_did(error)}",
                              user_traceback(error, self.path)) from error

    def _check_arrays(self, returned) -> list[np.ndarray]:
        names, shapes = self.array_names(), self.expected_shapes()
        listing = ", ".join(name.split()[0] for name in names)
        if not isinstance(returned, (list, tuple)):
            raise TargetError(f"gradients returned a {type(returned).__name__}; expected a list "
                              f"of {len(names)} arrays ({listing}) for LAYOUT '{self.layout}'")
        if len(returned) != len(names):
            raise TargetError(f"gradients returned {len(returned)} arrays; expected "
                              f"{len(names)} ({listing}) for LAYOUT '{self.layout}'")
        arrays = []
        for i, (item, name, shape) in enumerate(zip(returned, names, shapes), start=1):
            what = f"gradient {i} of {len(names)}, {name},"
            array = _as_floats(item, what)
            if array.shape != shape:
                raise TargetError(f"{what} has shape {array.shape}; expected {shape}"
                                  f"{_shape_hint(array.shape, shape, self.form)}")
            _check_finite(array, what)
            arrays.append(array)
        return arrays


def _shape_hint(got: tuple, expected: tuple, form: layouts.Layout) -> str:
    """A likely reason for a wrong shape, when there is an obvious one."""
    layout = form.name
    if layout == "column" and len(expected) == 2 and expected[1] == 1 and got == expected[:1]:
        return " (keep b a column: delta.sum(axis=1, keepdims=True))"
    if got == expected[::-1]:
        return f" (transposed: the weight gradient is {form.weight_gradient_formula()})"
    if len(got) == 2 and len(expected) == 2 and got[0] == expected[0]:
        if layout == "bias_row" and got[1] == expected[1] + 1:
            return (" (one column too many: was the bias row of the next layer's matrix "
                    "kept when propagating the error back? use w[1:])")
        if layout == "bias_row" and got[1] == expected[1] - 1:
            return " (one column too few: was the bias row dropped twice?)"
    if layout == "bias_row" and len(got) == 2 and got[0] == expected[0] - 1:
        return " (one row short: prepend the bias column of 1s to the layer's input)"
    if len(got) == 2 and len(expected) == 1 and got in ((1, expected[0]), (expected[0], 1)):
        return " (sum over the rows without keepdims: delta.sum(axis=0))"
    return ""


def _as_floats(value, what: str) -> np.ndarray:
    """The user's array as it is (float32/float16 kept) or as float64; anything that is
    not real floating-point numbers is refused, never cast (a complex array would lose
    its imaginary part, an integer or boolean one is not a gradient)."""
    if _is_float32(value):
        return value
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind in "OSUV":
        raise TargetError(f"{what} is a {type(value).__name__}, not an array of "
                          f"numbers") from None
    if array.dtype.kind == "c":
        raise TargetError(f"{what} has complex dtype {array.dtype}; expected real "
                          f"floating-point numbers (the imaginary part would be dropped)")
    if array.dtype.kind != "f":
        raise TargetError(f"{what} has dtype {array.dtype}; expected floating-point numbers")
    return array.astype(np.float64, copy=False)


def _is_float32(value) -> bool:
    """Keep float32/float16 arrays as they are, so the checker can see their precision."""
    return isinstance(value, np.ndarray) and value.dtype in (np.float32, np.float16)


def _check_finite(array: np.ndarray, what: str) -> None:
    if not np.issubdtype(array.dtype, np.number):
        raise TargetError(f"{what} has dtype {array.dtype}; expected floats")
    bad = ~np.isfinite(array)
    if bad.any():
        kind = "NaN" if np.isnan(array).any() else "inf"
        raise TargetError(f"{what} contains {kind} ({int(bad.sum())} of {array.size} values); "
                          f"the result must be finite")


def user_traceback(error: BaseException, path: Path) -> str:
    """The traceback from the first frame in the user's file on: their code, not ours."""
    tb = error.__traceback__
    while tb is not None and Path(tb.tb_frame.f_code.co_filename).resolve() != path:
        tb = tb.tb_next
    lines = ["Traceback (most recent call last):\n", *traceback.format_tb(tb)] if tb else []
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines)


# ---------------------------------------------------------------- loading

def load_target(path: str | Path) -> Target:
    """Import the file and validate INPUTS, LAYERS, LAYOUT, gradients and forward."""
    path = Path(path).resolve()
    module = _import(path)
    missing = [name for name in REQUIRED if not hasattr(module, name)]
    if missing:
        raise TargetError(f"{path.name} does not define {', '.join(missing)}; {CONTRACT}")
    declared = {name: getattr(module, name) for name in DECLARATIONS if hasattr(module, name)}
    spec, objective = read_network(module.INPUTS, module.LAYERS, declared)
    layout = read_layout(module.LAYOUT)
    forward = getattr(module, "forward", None)
    for name, function in (("gradients", module.gradients), ("forward", forward)):
        if function is not None and not callable(function):
            raise TargetError(f"{name} is a {type(function).__name__}, not a function; {CONTRACT}")
    return Target(path, spec, layout, module.gradients, forward, objective)


def _import(path: Path):
    if not path.is_file():
        raise TargetError(f"check target {path} does not exist or is not a file")
    if path.suffix != ".py":
        raise TargetError(f"check target {path.name} is not a .py file")
    name = f"_nn_compare_target_{abs(hash(str(path)))}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses and pickling in user code look themselves up here
    sys.path.insert(0, str(path.parent))  # so the file can import its neighbours
    try:
        module_spec.loader.exec_module(module)
    except ESCAPES as error:
        sys.modules.pop(name, None)
        if is_real_interrupt(error):
            raise
        raise TargetError(f"{path.name} failed to import: it {what_it_did(error)}",
                          user_traceback(error, path)) from error
    finally:
        if str(path.parent) in sys.path:  # unless their code took it out already
            sys.path.remove(str(path.parent))
    return module


def read_layout(layout) -> str:
    """The declared LAYOUT's name, or a TargetError listing the accepted ones."""
    if not isinstance(layout, str) or layout.strip().lower() not in layouts.DESCRIPTIONS:
        raise TargetError(f"LAYOUT is {layout!r}; accepted: {layouts.accepted()}")
    return layout.strip().lower()


def read_network(inputs, layers, declared: dict) -> tuple[NetworkSpec, Objective]:
    """INPUTS, LAYERS and the loss declarations (plain data: name -> value) -> the
    network and its loss, or a TargetError saying what is accepted."""
    _check_layers(layers)
    try:
        objective = read_objective(declared, layers[-1][1], len(layers))
    except ObjectiveError as error:
        raise TargetError(str(error)) from None
    return _spec(inputs, layers, objective), objective


def _check_layers(layers) -> None:
    form = "a list of (units, activation) pairs ending with the output layer, e.g. (10, 'softmax')"
    if not isinstance(layers, (list, tuple)) or not layers:
        raise TargetError(f"LAYERS is {layers!r}; expected {form}")
    for i, layer in enumerate(layers):
        if (not isinstance(layer, (list, tuple)) or len(layer) != 2
                or not isinstance(layer[1], str)):
            raise TargetError(f"LAYERS[{i}] is {layer!r}; expected (units, activation), "
                              f"e.g. (100, 'relu')")


def _spec(inputs, layers, objective: Objective = Objective()) -> NetworkSpec:
    if isinstance(inputs, bool) or not isinstance(inputs, (int, np.integer)) or inputs < 1:
        raise TargetError(f"INPUTS is {inputs!r}; expected a positive integer (the number "
                          f"of input features, e.g. 784)")
    _check_layers(layers)
    classes, output = layers[-1]
    if output != objective.output:
        raise TargetError(f"the last layer is {layers[-1]!r}; expected (classes, "
                          f"{objective.output!r}) for LOSS {objective.loss!r}")
    if isinstance(classes, (int, np.integer)) and not isinstance(classes, bool):
        if objective.loss == "binary_crossentropy" and classes == 1:
            classes = 2  # one sigmoid unit for two classes (handrolled's convention)
        elif classes == 1:
            raise TargetError(f"the last layer is {layers[-1]!r}; one output unit is accepted "
                              f"with LOSS 'binary_crossentropy' (two classes), otherwise at "
                              f"least 2 units")
    hidden = []
    for i, (units, activation) in enumerate(layers[:-1]):
        if activation == "softmax":
            raise TargetError(f"LAYERS[{i}] is {layers[i]!r}; softmax is only accepted as the "
                              f"last layer")
        try:
            hidden.append(dense_layer(int(units) if isinstance(units, np.integer) else units,
                                      activation))
        except SpecError as error:
            raise TargetError(f"LAYERS[{i}] = {layers[i]!r}: {error}") from None
    try:
        return NetworkSpec(int(inputs), tuple(hidden),
                           int(classes) if isinstance(classes, np.integer) else classes,
                           loss=objective.loss)
    except SpecError as error:
        raise TargetError(f"LAYERS[{len(layers) - 1}] = {layers[-1]!r}: {error}") from None
