"""A network check target: the user's own network in a Python file, and the contract it must keep.

    INPUTS = 784                                  # input features
    LAYERS = [(100, "relu"), (10, "softmax")]     # (units, activation); the last: the output
    LAYOUT = "bias_row"                           # or "separate" or "column" (layouts.py)
    def gradients(X, Y, weights): ...             # -> list of arrays, same shapes as weights
    def forward(X, weights): ...                  # optional -> the outputs (n, classes)
    LOSS, UNITS, HALF, REDUCTION, REGULARIZATION  # optional: the loss (objective.py)

Layouts of `weights` (and of what `gradients` returns): compare/check/layouts.py.

The file runs in a process of its own (`process.UserProcess`): the constants above are
read there as plain data, and `gradients`/`forward` are called there with arrays.
Everything the user's code does wrong *as code* (it does not import, breaks the
contract, raises, ends its process, returns NaN or the wrong shapes) is a `TargetError`:
exit 2.  Wrong *numbers* are the checker's business, not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handrolled import NetworkSpec, Params, dense_layer
from handrolled.weights import rename_legacy
from handrolled.errors import SpecError

from . import layouts
from .errors import ContractError, TargetError
from .objective import DECLARATIONS, Objective, ObjectiveError, read_objective
from .process import DEFAULT_TIMEOUT, Definition, UserProcess

# The row layouts, which training-loop targets take (training_loop_kind.py); the network
# kind takes every layout of layouts.py, 'column' too (read_layout).
LAYOUTS = ("bias_row", "separate")
REQUIRED = ("INPUTS", "LAYERS", "LAYOUT", "gradients")
CONTRACT = ("a check target defines INPUTS, LAYERS, LAYOUT and gradients(X, Y, weights) "
            "(see docs/checking/network.md)")


@dataclass
class Target:
    """A loaded, validated network check target, its code in `user`'s process."""

    path: Path
    spec: NetworkSpec
    layout: str
    user: UserProcess
    has_forward: bool
    objective: Objective = Objective()

    def close(self) -> None:
        self.user.close()

    def __enter__(self) -> "Target":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ layouts
    @property
    def form(self) -> layouts.Layout:
        return layouts.get(self.layout)

    def array_names(self) -> list[str]:
        """What each array in the user's list is, for messages: 'w1', or 'W1' and 'b1'."""
        return self.form.names(self.spec.depth)

    def expected_shapes(self) -> list[tuple[int, ...]]:
        spec = self.spec  # (n_0, ..., n_L): spec.sizes is for the softmax networks only
        return self.form.shapes((spec.inputs, *(layer.config["units"] for layer in spec.body),
                                 spec.outputs))

    def user_weights(self, params: Params) -> list[np.ndarray]:
        """W/b dict -> the user's layout (the child receives its own copies)."""
        params = rename_legacy(self.spec, params)  # W1, b1, ... or dense1/kernel, ...
        return [np.ascontiguousarray(array, dtype=np.float64)
                for array in self.form.to_user(params)]

    def user_batch(self, array: np.ndarray) -> np.ndarray:
        """X or Y as the layout takes it (columns for 'column')."""
        return np.ascontiguousarray(self.form.batch(array))

    def to_params(self, arrays: list[np.ndarray]) -> Params:
        """The user's layout -> {'W1', 'b1', ...}, the book's names (arrays already
        shape-checked)."""
        return self.form.from_user(arrays)

    # ------------------------------------------------------------ calling the user's code
    def call_gradients(self, X: np.ndarray, Y: np.ndarray, params: Params) -> Params:
        """Run the user's `gradients` and check what it returns against the contract."""
        names = self.array_names()
        listing = ", ".join(name.split()[0] for name in names)
        try:
            returned = self.user.call("gradients", self.user_batch(X), self.user_batch(Y),
                                      self.user_weights(params), returns=("list", "array"))
        except ContractError as error:
            if not error.path:
                raise TargetError(f"gradients returned a {error.got}; expected a list of "
                                  f"{len(names)} arrays ({listing}) for LAYOUT "
                                  f"'{self.layout}'") from None
            i = error.path[0]
            name = names[i] if i < len(names) else f"array {i + 1}"
            raise TargetError(f"gradient {i + 1} of {len(names)}, {name}, "
                              f"{error.problem}") from None
        return self.to_params(self._check_arrays(returned, names, listing))

    def call_forward(self, X: np.ndarray, params: Params) -> np.ndarray:
        """Run the user's `forward`; check it returns finite (n, outputs) probabilities
        (the layout's shape: (outputs, n) for 'column'); return them as rows."""
        n, outputs = X.shape[0], self.spec.outputs
        expected = (n, outputs) if self.form.samples_are_rows else (outputs, n)
        what = "row" if self.form.samples_are_rows else "column"
        try:
            probabilities = self.user.call("forward", self.user_batch(X),
                                           self.user_weights(params), returns="array")
        except ContractError as error:
            if error.got == "tuple":
                raise TargetError(f"forward returned {error.problem.removeprefix('is ')} of "
                                  f"shape {expected} (if yours returns (y_hat, h) like the "
                                  f"book's, return only y_hat)") from None
            raise TargetError(f"forward's result {error.problem}") from None
        if probabilities.shape != expected:
            raise TargetError(f"forward returned shape {probabilities.shape}; expected "
                              f"{expected}: one {what} of outputs per input {what}")
        _check_finite(probabilities, "forward's result")
        return self.form.rows(probabilities)

    def _check_arrays(self, returned: list, names: list[str], listing: str) -> list[np.ndarray]:
        shapes = self.expected_shapes()
        if len(returned) != len(names):
            raise TargetError(f"gradients returned {len(returned)} arrays; expected "
                              f"{len(names)} ({listing}) for LAYOUT '{self.layout}'")
        for i, (array, name, shape) in enumerate(zip(returned, names, shapes), start=1):
            what = f"gradient {i} of {len(names)}, {name},"
            if array.shape != shape:
                raise TargetError(f"{what} has shape {array.shape}; expected {shape}"
                                  f"{_shape_hint(array.shape, shape, self.form)}")
            _check_finite(array, what)
        return returned


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


def _check_finite(array: np.ndarray, what: str) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        kind = "NaN" if np.isnan(array).any() else "inf"
        raise TargetError(f"{what} contains {kind} ({int(bad.sum())} of {array.size} values); "
                          f"the result must be finite")


# ---------------------------------------------------------------- loading

def load_target(path: str | Path, timeout: float = DEFAULT_TIMEOUT) -> Target:
    """Start the file's process and validate INPUTS, LAYERS, LAYOUT, gradients, forward.
    The target owns the process: `close()` it, or use it in a `with` block."""
    user = UserProcess(path, timeout=timeout)
    try:
        return target_from(user)
    except BaseException:
        user.close()
        raise


def target_from(user: UserProcess) -> Target:
    """The network target the file in `user`'s process declares."""
    declared = user.declared
    missing = [name for name in REQUIRED if name not in declared]
    if missing:
        raise TargetError(f"{user.path.name} does not define {', '.join(missing)}; {CONTRACT}")
    spec, objective = read_network(
        _value(declared, "INPUTS"), _value(declared, "LAYERS"),
        {name: _value(declared, name) for name in DECLARATIONS if name in declared})
    layout = read_layout(_value(declared, "LAYOUT"))
    for name in ("gradients", "forward"):
        if name in declared and not user.is_callable(name):
            raise TargetError(f"{name} is {_what(declared[name])}, not a function; {CONTRACT}")
    return Target(user.path, spec, layout, user, "forward" in declared, objective)


def _value(declared: dict, name: str):
    """A declared constant; one that is not plain data stands for itself by its type."""
    value = declared[name]
    return _Opaque(value) if isinstance(value, Definition) else value


class _Opaque:
    """A declaration that is not plain data, shown in messages by its type."""

    def __init__(self, definition: Definition):
        self.definition = definition

    def __repr__(self) -> str:
        return _what(self.definition)


def _what(entry) -> str:
    if isinstance(entry, Definition):
        kind = entry.get("callable")
        return {"function": "a function", "class": "a class"}.get(
            kind, f"a {entry.get('type', 'object')}")
    return f"a {type(entry).__name__}"


def read_layout(layout) -> str:
    """The declared LAYOUT's name, or a TargetError listing the accepted ones."""
    if not isinstance(layout, str) or layout.strip().lower() not in layouts.DESCRIPTIONS:
        raise TargetError(f"LAYOUT is {layout!r}; accepted: {layouts.accepted()}")
    return layout.strip().lower()


def read_network(inputs, layers, declared: dict) -> tuple[NetworkSpec, Objective]:
    """INPUTS, LAYERS and the loss declarations (plain data: name -> value) -> the
    network and its loss, or a TargetError saying what is accepted."""
    if isinstance(layers, list):  # plain data from the user's process: pairs as tuples again
        layers = [tuple(layer) if isinstance(layer, list) else layer for layer in layers]
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
            raise TargetError(f"LAYERS[{i}] = {layers[i]!r}: {error}{_registered_hint(error)}"
                              ) from None
    try:
        return NetworkSpec(int(inputs), tuple(hidden),
                           int(classes) if isinstance(classes, np.integer) else classes,
                           loss=objective.loss)
    except SpecError as error:
        raise TargetError(f"LAYERS[{len(layers) - 1}] = {layers[-1]!r}: {error}") from None


def _registered_hint(error: SpecError) -> str:
    """Activations registered inside the target file exist only in its own process."""
    if str(error).startswith("unknown activation"):
        return (" (an activation registered inside the target file is not seen by the "
                "checker, which runs your file in a process of its own: register it in a "
                "module of its own and pass --activation-module FILE)")
    return ""
