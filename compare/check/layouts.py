"""How a check target holds its weights and batch: one class per LAYOUT, one registry.

    "bias_row"  one array per layer, (n_in + 1, n_out), the bias in row 0 (the book's);
                X (n, features), Y (n, classes)
    "separate"  W (n_in, n_out) then b (n_out,) per layer (Keras'); X (n, features)
    "column"    W (n_out, n_in) then b (n_out, 1) per layer; X (features, n) and
                Y (classes, n): samples are columns (Nielsen's), forward returns (classes, n)

The checker works in one form, {'W1': (n_in, n_out), 'b1': (n_out,), ...}; a layout
turns it into the user's arrays (`to_user`) and their gradients back (`from_user`),
and the batch into theirs (`batch`).  Shapes and names are checked by target.py.
"""

from __future__ import annotations

import numpy as np

from handrolled import Params, as_list, to_bias_row
from handrolled.registry import Registry

LAYOUTS = Registry("LAYOUT")
DESCRIPTIONS = {}


def layout(name: str, description: str):
    def decorate(cls):
        DESCRIPTIONS[name] = description
        return LAYOUTS.register(name)(cls)
    return decorate


def accepted() -> str:
    return "; ".join(f"'{name}' ({text})" for name, text in DESCRIPTIONS.items())


def get(name) -> "Layout":
    return LAYOUTS.lookup(name)()


class Layout:
    name = ""
    samples_are_rows = True

    def names(self, depth: int) -> list[str]:
        """What each array in the user's list is, for messages: 'W1 (layer 1 weights)'."""
        return [f"{kind}{l} (layer {l} {'weights' if kind == 'W' else 'biases'})"
                for l in range(1, depth + 1) for kind in ("W", "b")]

    def shapes(self, sizes: tuple[int, ...]) -> list[tuple[int, ...]]:
        raise NotImplementedError

    def to_user(self, params: Params) -> list[np.ndarray]:
        raise NotImplementedError

    def from_user(self, arrays: list[np.ndarray]) -> Params:
        raise NotImplementedError

    def batch(self, array: np.ndarray) -> np.ndarray:
        """X or Y (n rows) as the user's code takes it."""
        return array

    def rows(self, array: np.ndarray) -> np.ndarray:
        """The user's (n, k) or (k, n) output back to n rows."""
        return array

    def weight_gradient_formula(self) -> str:
        return "a_prev.T @ delta"


@layout("bias_row", "one (n_in + 1, n_out) array per layer, bias in row 0")
class BiasRow(Layout):
    def names(self, depth):
        return [f"w{l} (layer {l}, bias in row 0)" for l in range(1, depth + 1)]

    def shapes(self, sizes):
        return [(sizes[l - 1] + 1, sizes[l]) for l in range(1, len(sizes))]

    def to_user(self, params):
        return to_bias_row(params)

    def from_user(self, arrays):
        params = {}
        for l, matrix in enumerate(arrays, start=1):
            params[f"W{l}"], params[f"b{l}"] = matrix[1:], matrix[0]
        return params


@layout("separate", "W (n_in, n_out) then b (n_out,) per layer")
class Separate(Layout):
    def shapes(self, sizes):
        return [shape for l in range(1, len(sizes))
                for shape in ((sizes[l - 1], sizes[l]), (sizes[l],))]

    def to_user(self, params):
        return as_list(params)

    def from_user(self, arrays):
        return {f"{kind}{i // 2 + 1}": array
                for i, (kind, array) in enumerate(zip("Wb" * len(arrays), arrays))}


@layout("column", "W (n_out, n_in) then b (n_out, 1) per layer; X is (features, n), "
                  "Y (classes, n)")
class Column(Layout):
    samples_are_rows = False

    def shapes(self, sizes):
        return [shape for l in range(1, len(sizes))
                for shape in ((sizes[l], sizes[l - 1]), (sizes[l], 1))]

    def to_user(self, params):
        return [array.T if kind == "W" else array[:, None]
                for kind, array in zip("Wb" * (len(params) // 2), as_list(params))]

    def from_user(self, arrays):
        return {f"{kind}{i // 2 + 1}": (array.T if kind == "W" else array[:, 0])
                for i, (kind, array) in enumerate(zip("Wb" * len(arrays), arrays))}

    def batch(self, array):
        return array.T

    def rows(self, array):
        return array.T

    def weight_gradient_formula(self):
        return "delta @ a_prev.T"
