"""A network check target: the user's own network in a Python file, and the contract it must keep.

    INPUTS = 784                                  # input features
    LAYERS = [(100, "relu"), (10, "softmax")]     # (units, activation); the last is softmax
    LAYOUT = "bias_row"                           # or "separate"
    def gradients(X, Y, weights): ...             # -> list of arrays, same shapes as weights
    def forward(X, weights): ...                  # optional -> probabilities (n, classes)

Layouts of `weights` (and of what `gradients` returns):
    "bias_row"  one array per layer, shape (n_in + 1, n_out), the bias in row 0 (the book's)
    "separate"  two arrays per layer, W (n_in, n_out) then b (n_out,) (Keras')

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

from handrolled import NetworkSpec, Params, as_list, dense_layer, to_bias_row
from handrolled.weights import rename_legacy
from handrolled.errors import SpecError

from .errors import ContractError, TargetError
from .process import DEFAULT_TIMEOUT, Definition, UserProcess

LAYOUTS = ("bias_row", "separate")
REQUIRED = ("INPUTS", "LAYERS", "LAYOUT", "gradients")
CONTRACT = ("a check target defines INPUTS, LAYERS, LAYOUT and gradients(X, Y, weights) "
            "(see README, 'Check your own network')")


@dataclass
class Target:
    """A loaded, validated network check target, its code in `user`'s process."""

    path: Path
    spec: NetworkSpec
    layout: str
    user: UserProcess
    has_forward: bool

    def close(self) -> None:
        self.user.close()

    def __enter__(self) -> "Target":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ layouts
    def array_names(self) -> list[str]:
        """What each array in the user's list is, for messages: 'w1', or 'W1' and 'b1'."""
        depth = self.spec.depth
        if self.layout == "bias_row":
            return [f"w{l} (layer {l}, bias in row 0)" for l in range(1, depth + 1)]
        return [f"{kind}{l} (layer {l} {'weights' if kind == 'W' else 'biases'})"
                for l in range(1, depth + 1) for kind in ("W", "b")]

    def expected_shapes(self) -> list[tuple[int, ...]]:
        sizes = self.spec.sizes
        if self.layout == "bias_row":
            return [(sizes[l - 1] + 1, sizes[l]) for l in range(1, self.spec.depth + 1)]
        return list(self.spec.param_shapes().values())

    def user_weights(self, params: Params) -> list[np.ndarray]:
        """W/b dict -> the user's layout (the child receives its own copies)."""
        params = rename_legacy(self.spec, params)  # W1, b1, ... or dense1/kernel, ...
        arrays = to_bias_row(params) if self.layout == "bias_row" else as_list(params)
        return [np.asarray(array, dtype=np.float64) for array in arrays]

    def to_params(self, arrays: list[np.ndarray]) -> Params:
        """The user's layout -> {'W1', 'b1', ...}, the book's names (arrays already
        shape-checked)."""
        if self.layout == "separate":
            return {name: arrays[i] for i, name in enumerate(self.spec.legacy_names())}
        params = {}
        for l, matrix in enumerate(arrays, start=1):
            params[f"W{l}"], params[f"b{l}"] = matrix[1:], matrix[0]
        return params

    # ------------------------------------------------------------ calling the user's code
    def call_gradients(self, X: np.ndarray, Y: np.ndarray, params: Params) -> Params:
        """Run the user's `gradients` and check what it returns against the contract."""
        names = self.array_names()
        listing = ", ".join(name.split()[0] for name in names)
        try:
            returned = self.user.call("gradients", X, Y, self.user_weights(params),
                                      returns=("list", "array"))
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
        """Run the user's `forward`; check it returns finite (n, classes) probabilities."""
        expected = (X.shape[0], self.spec.classes)
        try:
            probabilities = self.user.call("forward", X, self.user_weights(params),
                                           returns="array")
        except ContractError as error:
            if error.got == "tuple":
                raise TargetError(f"forward returned {error.problem.removeprefix('is ')} of "
                                  f"shape {expected} (if yours returns (y_hat, h) like the "
                                  f"book's, return only y_hat)") from None
            raise TargetError(f"forward's result {error.problem}") from None
        if probabilities.shape != expected:
            raise TargetError(f"forward returned shape {probabilities.shape}; expected "
                              f"{expected}: one row of class probabilities per input row")
        _check_finite(probabilities, "forward's result")
        return probabilities

    def _check_arrays(self, returned: list, names: list[str], listing: str) -> list[np.ndarray]:
        shapes = self.expected_shapes()
        if len(returned) != len(names):
            raise TargetError(f"gradients returned {len(returned)} arrays; expected "
                              f"{len(names)} ({listing}) for LAYOUT '{self.layout}'")
        for i, (array, name, shape) in enumerate(zip(returned, names, shapes), start=1):
            what = f"gradient {i} of {len(names)}, {name},"
            if array.shape != shape:
                raise TargetError(f"{what} has shape {array.shape}; expected {shape}"
                                  f"{_shape_hint(array.shape, shape, self.layout)}")
            _check_finite(array, what)
        return returned


def _shape_hint(got: tuple, expected: tuple, layout: str) -> str:
    """A likely reason for a wrong shape, when there is an obvious one."""
    if got == expected[::-1]:
        return " (transposed: the weight gradient is a_prev.T @ delta)"
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
    spec = _spec(_value(declared, "INPUTS"), _value(declared, "LAYERS"))
    layout = _value(declared, "LAYOUT")
    if layout not in LAYOUTS:
        raise TargetError(f"LAYOUT is {layout!r}; accepted: 'bias_row' (one (n_in + 1, n_out) "
                          f"array per layer, bias in row 0) or 'separate' (W then b per layer)")
    for name in ("gradients", "forward"):
        if name in declared and not user.is_callable(name):
            raise TargetError(f"{name} is {_what(declared[name])}, not a function; {CONTRACT}")
    return Target(user.path, spec, layout, user, "forward" in declared)


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


def _spec(inputs, layers) -> NetworkSpec:
    form = "a list of (units, activation) pairs ending with (classes, 'softmax')"
    if isinstance(layers, list):  # plain data from the user's process: pairs as tuples again
        layers = [tuple(layer) if isinstance(layer, list) else layer for layer in layers]
    if isinstance(inputs, bool) or not isinstance(inputs, (int, np.integer)) or inputs < 1:
        raise TargetError(f"INPUTS is {inputs!r}; expected a positive integer (the number "
                          f"of input features, e.g. 784)")
    if not isinstance(layers, (list, tuple)) or not layers:
        raise TargetError(f"LAYERS is {layers!r}; expected {form}")
    for i, layer in enumerate(layers):
        if (not isinstance(layer, (list, tuple)) or len(layer) != 2
                or not isinstance(layer[1], str)):
            raise TargetError(f"LAYERS[{i}] is {layer!r}; expected (units, activation), "
                              f"e.g. (100, 'relu')")
    classes, output = layers[-1]
    if output != "softmax":
        raise TargetError(f"the last layer is {layers[-1]!r}; expected (classes, 'softmax'): "
                          f"the checker compares the softmax cross-entropy gradient")
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
                           int(classes) if isinstance(classes, np.integer) else classes)
    except SpecError as error:
        raise TargetError(f"LAYERS[{len(layers) - 1}] = {layers[-1]!r}: {error}") from None


def _registered_hint(error: SpecError) -> str:
    """Activations registered inside the target file exist only in its own process."""
    if str(error).startswith("unknown activation"):
        return (" (an activation registered inside the target file is not seen by the "
                "checker, which runs your file in a process of its own: register it in a "
                "module of its own and pass --activation-module FILE)")
    return ""
