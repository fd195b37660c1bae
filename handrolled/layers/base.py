"""The layer contract and the one registry of layer kinds.

Every kind of layer lives in its own file as a `Layer` subclass, written the
way Keras writes layers:

    config in __init__      Dense(units=100, activation="relu")
    build(input_shape)      checks the input shape, sets `param_shapes`,
                            returns the output shape (one row's, no batch axis)
    forward(params, x, training)        -> (y, cache)
    backward(params, dy, cache, input_gradient)  -> (dx, grads)
    get_config(), text      what `get`/`LayerSpec` parse back, derived from OPTIONS
                            (handrolled/options.py: one `Option` per argument)
    flops_per_row(first)    the matrix products of one training row (bench)

A layer that computes the same in training and inference can instead give its two
pure functions, `FUNCTIONS = (forward, backward)`, called as
`forward(params, x, **get_config()) -> (y, cache)` and
`backward(params, dy, cache, **get_config()) -> (dx, grads)`: the default
`forward`/`backward` call them, and `nn-compare code` embeds their source as they are.
Its Keras twin is `keras.layers.<keras_name>(**get_config())` unless
keras_impl/model.py has a builder for the kind (see `TWINS` there).

A layer does not keep its parameters: the network holds every array in one
dict under "<layer name>/<variable>" (e.g. "conv1/kernel", the name Keras
gives the same variable) and hands each layer its own {"kernel": ..,
"bias": ..} at every call.  So the same keys exist on both sides and a
comparison is one loop over names, never a match by position.

`backward` receives dy = dL/dy for its output and returns dx = dL/dx for its
input (skipped with input_gradient=False: the first layer's dx is never
needed) and {"kernel": dL/dkernel, ...}, the same keys as `params`.

The registry works like `keras.layers.deserialize` by name:

    get("conv")         -> the Conv2D class (also "conv2d", "Conv2D")
    get("convolution")  -> SpecError naming the accepted kinds
"""

from __future__ import annotations

import numpy as np

from .. import activations, regularizers
from ..activations.core import parse_number
from ..errors import SpecError
from ..options import ALL, Declared, Option, integer, non_negative_int
from ..registry import Registry

Shape = tuple[int, ...]


def regularizer_text(value, what: str) -> str | None:
    """A regularizer's text ('l2(0.01)'), checked now; None or 'none' for none."""
    regularizer = regularizers.get(value)
    return None if regularizer is None else regularizer.text


def to_regularizer(value, what: str):
    """What a layer keeps for a regularizer option: the object (None for none)."""
    return regularizers.get(value)


def to_activation(value, what: str):
    """What a layer keeps for an activation option: the activation object."""
    return activations.get(value)



class Layer(Declared):
    """Base class: subclasses set `kind` (via `register`) and `OPTIONS`, one `Option`
    per argument in Keras' order and under Keras' name (handrolled/options.py); the
    `__init__`, `get_config`, `text`, `form` and `from_text` are derived from them."""

    kind: str = ""
    keras_name: str = ""           # the keras.layers class of the twin, for messages and docs
    NAME_ATTRIBUTE = "kind"
    POSITIONAL_ACCEPTED = ALL      # the text takes every option by position, as Keras' call
    INPUT: str | None = None       # what the first layer that cares needs: "rows" (Dense:
                                   # the data flattened) or "images" (conv, pooling)
    TRAINING_MODE = False          # True: training computes otherwise (batch statistics,
                                   # dropout), so the report says which numbers use which
    FUNCTIONS: tuple = ()          # (forward, backward): pure functions of (params, x, **config)
    activation = None              # an activation object for layers that apply one
    kernel_regularizer = None      # handrolled.regularizers objects, for layers that take them
    activity_regularizer = None

    def __init__(self, *args, **options):
        self.name = ""
        self.param_shapes: dict[str, Shape] = {}   # trainable parameters
        self.state_shapes: dict[str, Shape] = {}   # non-trainable state (moving averages)
        self.input_shape: Shape | None = None
        self.output_shape: Shape | None = None
        self.set_options(*args, **options)

    # ------------------------------------------------------------- building
    def build(self, input_shape: Shape) -> Shape:
        """Check the input shape, set param_shapes, return the output shape."""
        raise NotImplementedError

    def built(self, name: str, input_shape: Shape) -> "Layer":
        """Name the layer and build it for `input_shape` (one row's shape)."""
        self.name = name
        self.input_shape = tuple(input_shape)
        self.output_shape = tuple(self.build(self.input_shape))
        return self

    def error(self, message: str) -> SpecError:
        """The error (returned, for the caller to raise) naming this layer:
        'layer conv1 (conv(8,3)): <message>'.  `raise self.error(...)`."""
        return SpecError(f"layer {self.name or self.kind} ({self.text}): {message}")

    fail = error  # the old name, which read as if it raised

    def init_params(self, rng: np.random.Generator, scheme: str) -> dict[str, np.ndarray]:
        """Fresh parameters (float64); layers without parameters return {}."""
        return {}

    def init_state(self) -> dict[str, np.ndarray]:
        """The non-trainable state's starting values (float64); most layers have none."""
        return {}

    def state_updates(self, cache) -> dict[str, np.ndarray]:
        """The new state after a training-mode forward pass (BatchNormalization's
        moving averages); the training step commits it after its update."""
        return {}

    # ------------------------------------------------------------ computing
    def forward(self, params: dict, x: np.ndarray, training: bool = False):
        """(y, cache); by default the layer's pure forward function on its config."""
        if not self.FUNCTIONS:
            raise NotImplementedError(f"layer kind {self.kind} has no forward")
        return self.FUNCTIONS[0](params, x, **self.get_config())

    def backward(self, params: dict, dy: np.ndarray, cache, input_gradient: bool = True):
        """(dx, grads); by default the layer's pure backward function on its config
        (dx None when not wanted)."""
        if not self.FUNCTIONS:
            raise NotImplementedError(f"layer kind {self.kind} has no backward")
        dx, grads = self.FUNCTIONS[1](params, dy, cache, **self.get_config())
        return (dx if input_gradient else None), grads

    def kink_pattern(self, cache) -> bytes:
        """Bytes that change when a perturbation moves the layer across a point where
        its derivative jumps (relu at 0, a new max-pool winner): the finite-difference
        witness counts such checks as kinks instead of failures."""
        return b""

    # -------------------------------------------------------------- counting
    def flops_per_row(self, first: bool) -> int:
        """Matrix-product flops of one training row through this built layer
        (compare/bench/flops.py counts only products).  A layer without parameters has
        none: 0; one with parameters must say how it counts, not count 0."""
        if self.param_shapes:
            raise NotImplementedError(f"no flop count for layer {self.name} ({self.kind})")
        return 0

    # ------------------------------------------------------ on the schedule
    def on_step(self, epoch: int, step: int) -> None:
        if self.activation is not None:
            self.activation.on_step(epoch, step)

    def on_train_end(self) -> None:
        if self.activation is not None:
            self.activation.on_train_end()

    # ------------------------------------------------ penalties (Dense, Conv2D)
    REGULARIZER_OPTIONS = (
        Option("kernel_regularizer", regularizer_text, None, alias="kernel",
               alias_in_text=True, convert=to_regularizer),
        Option("activity_regularizer", regularizer_text, None, alias="activity",
               alias_in_text=True, convert=to_regularizer))

    def __repr__(self) -> str:
        return f"<layer {self.name or '?'} {self.text}>"


def training_products(product: int, first: bool) -> int:
    """A layer's one product (forward) repeated for training: the forward, the kernel's
    gradient and, unless it is the network's `first` layer (no dL/dX is needed), the
    gradient sent to the layer below."""
    return (2 if first else 3) * product


def size_text(value) -> str:
    """How a size pair is written: (3, 3) -> '3', (3, 5) -> '3x5'."""
    if value[0] == value[1]:
        return str(value[0])
    return "x".join(str(v) for v in value)


# ------------------------------------------------------------------ registry
LAYERS = Registry("layer", attribute="kind")
register = LAYERS.register   # @register("conv", "conv2d") on a Layer subclass
names = LAYERS.names


def get(kind: str) -> type[Layer]:
    """The Layer class for a kind, an alias or a Keras class name."""
    return LAYERS.lookup(kind)


# ------------------------------------------------------ shared option parsers
MAX_SIZE = 1_000_000  # one axis of a layer; larger is a typo, not a network


def size(value, what: str) -> int:
    """A size (units, filters): an integer from 1 to MAX_SIZE."""
    return integer(value, what, 1, MAX_SIZE, "a positive integer")


def seed(value, what: str) -> int:
    """A seed: an integer >= 0."""
    return non_negative_int(value, what)


def size_pair(value, what: str) -> tuple[int, int]:
    """3 -> (3, 3); '3x5', [3, 5] or (3, 5) -> (3, 5): Keras' int-or-tuple sizes."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str) and "x" in value.lower():
        items = value.lower().split("x")
    else:
        items = [value, value]
    if len(items) != 2:
        raise SpecError(f"{what} must be one size or two (HxW), got '{value}'")
    return tuple(size(item, what) for item in items)  # type: ignore[return-value]


PADDINGS = ("valid", "same")


def padding(value, what: str) -> str:
    text = str(value).strip().lower()
    if text not in PADDINGS:
        raise SpecError(f"{what} must be one of {', '.join(PADDINGS)}, got '{value}'")
    return text


def activation_text(value, what: str) -> str:
    """An activation's text, checked against the activation registry now."""
    return activations.get(str(value).strip()).text


def rate(value, what: str) -> float:
    """A fraction in [0, 1), such as a dropout rate."""
    number = parse_number(str(value), what)
    if not 0 <= number < 1:
        raise SpecError(f"{what} must be in [0, 1), got {number:g}")
    return number


def positive_number(value, what: str) -> float:
    number = parse_number(str(value), what)
    if number <= 0:
        raise SpecError(f"{what} must be a positive number, got {number:g}")
    return number


def kink_signs(f, z: np.ndarray) -> bytes:
    """The sign pattern of z - c for every kink c of activation f (as bytes to compare)."""
    kinks = np.asarray(f.kinks)
    if not kinks.size:
        return b""
    return np.sign(z[..., None] - kinks).astype(np.int8).tobytes()
