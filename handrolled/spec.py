"""One immutable description of a network, shared by both implementations.

    inputs -> hidden layers (units, activation each) -> classes (softmax)

The loss is always softmax cross-entropy averaged over the batch.  The text
form used on the command line lists the hidden layers only:

    "100:sigmoid"                      the book's network (with 784 inputs, 10 classes)
    "256:relu,256:relu,256:tanh"       three hidden layers
    "100:leaky_relu(0.1)"              parameters inside parentheses

Parameters are named W1, b1, W2, b2, ... in both implementations, with
W_l of shape (n_{l-1}, n_l) and b_l of shape (n_l,): Keras' layout, so weights
copy between the two without transposes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import activations
from .errors import SpecError

DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class LayerSpec:
    """A hidden layer: `units` neurons, each computing activation(x @ W + b)."""

    units: int
    activation: str

    def __post_init__(self):
        if not isinstance(self.units, int) or isinstance(self.units, bool) or self.units < 1:
            raise SpecError(f"layer size must be a positive integer, got {self.units!r}")
        activations.get(self.activation)  # fail now on an unknown name, not mid-training

    @property
    def text(self) -> str:
        return f"{self.units}:{self.activation}"


@dataclass(frozen=True)
class NetworkSpec:
    """The whole network.  Build with `NetworkSpec.from_text(...)` or directly."""

    inputs: int
    hidden: tuple[LayerSpec, ...] = field(default_factory=tuple)
    classes: int = 10
    dtype: str = "float64"
    seed: int = 0

    def __post_init__(self):
        for name in ("inputs", "classes", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise SpecError(f"{name} must be an integer, got {value!r}")
        if self.inputs < 1:
            raise SpecError(f"inputs must be at least 1, got {self.inputs}")
        if self.classes < 2:
            raise SpecError(f"classes must be at least 2 (softmax output), got {self.classes}")
        if self.dtype not in DTYPES:
            raise SpecError(f"unknown dtype '{self.dtype}'; accepted: {', '.join(DTYPES)}")
        object.__setattr__(self, "hidden", tuple(self.hidden))

    @classmethod
    def from_text(cls, hidden: str, inputs: int = 784, classes: int = 10,
                  dtype: str = "float64", seed: int = 0) -> "NetworkSpec":
        return cls(inputs, parse_hidden(hidden), classes, dtype, seed)

    @property
    def hidden_text(self) -> str:
        return ",".join(layer.text for layer in self.hidden)

    @property
    def sizes(self) -> tuple[int, ...]:
        """(n_0, n_1, ..., n_L): inputs, each hidden layer, classes."""
        return (self.inputs, *(layer.units for layer in self.hidden), self.classes)

    @property
    def depth(self) -> int:
        """Number of weight layers L (hidden layers + the output layer)."""
        return len(self.hidden) + 1

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """{'W1': (n_0, n_1), 'b1': (n_1,), ...} in the order Keras stores them."""
        shapes = [shape for l in range(1, self.depth + 1)
                  for shape in ((self.sizes[l - 1], self.sizes[l]), (self.sizes[l],))]
        return dict(zip(param_names(self.depth), shapes))

    def describe(self) -> str:
        """'784-100 sigmoid-10' style summary."""
        parts = [str(self.inputs)]
        parts += [f"{layer.units} {layer.activation}" for layer in self.hidden]
        parts.append(str(self.classes))
        return "-".join(parts)


def param_names(depth: int) -> list[str]:
    """['W1', 'b1', 'W2', 'b2', ...] for `depth` weight layers: the order of
    `keras.Model.get_weights()` and of the keys in both implementations."""
    return [f"{kind}{l}" for l in range(1, depth + 1) for kind in ("W", "b")]


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """Split on `separator` outside parentheses: 'a(1,2),b' -> ['a(1,2)', 'b']."""
    pieces, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise SpecError(f"unbalanced ')' in '{text}'")
        elif char == separator and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    if depth != 0:
        raise SpecError(f"unbalanced '(' in '{text}'")
    pieces.append(text[start:])
    return pieces


_HIDDEN_FORM = "UNITS:ACTIVATION[,UNITS:ACTIVATION...], e.g. '100:sigmoid' or '256:relu,256:tanh'"


def parse_hidden(text: str) -> tuple[LayerSpec, ...]:
    """Parse the command-line form of the hidden layers.  '' means none."""
    text = text.strip()
    if not text:
        return ()
    layers = []
    for item in split_top_level(text):
        units, sep, activation = item.strip().partition(":")
        if not sep or not units.strip() or not activation.strip():
            raise SpecError(f"malformed hidden layer '{item.strip()}'; expected {_HIDDEN_FORM}")
        try:
            size = int(units)
        except ValueError:
            raise SpecError(f"layer size '{units.strip()}' is not an integer; "
                            f"expected {_HIDDEN_FORM}") from None
        layers.append(LayerSpec(size, activation.strip()))
    return tuple(layers)
