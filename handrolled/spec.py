"""One immutable description of a network, shared by both implementations.

    input -> layers (dense, conv, pooling, flatten, activation) -> classes (softmax)

The last layer is always Dense(classes) with linear outputs (the logits), and
the loss is softmax cross-entropy averaged over the batch.  The text form
lists the layers before it:

    "conv(8,3,relu),maxpool(2),flatten,dense(100,relu)"   a small CNN
    "conv(16,3,relu,strides=2,padding=same),avgpool(2)"   options by keyword, Keras' names
    "100:sigmoid"                 the book's network: the same as "dense(100,sigmoid)"
    "256:relu,256:relu,256:tanh"  three hidden layers
    "100:leaky_relu(0.1)"         activation parameters inside parentheses

A JSON file holds the same as {"layers": ["conv(8,3,relu)", {"type": "maxpool"}, ...]}
(`network_from_json`).  The input shape comes from the data: an image
(height, width, channels) when the first shaped layer is a convolution or a
pooling, flat rows otherwise.

Layers are named by kind and position, counting from 1 over all layers
("conv1", "maxpool2", "flatten3", "dense4"), and parameters by layer and
variable ("conv1/kernel", "conv1/bias"): the names Keras gives the same
variables in the twin, so weights and gradients are matched by name on both
sides.  The book's W1, b1, W2, ... (the l-th layer with parameters) are
accepted where users pass weights (`legacy_names`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field

from . import layers as layer_registry
from . import losses
from .conventions import KERAS, Conventions
from .errors import SpecError
from .text import split_call, split_top_level

DTYPES = ("float64", "float32")
MNIST_SHAPE = (28, 28, 1)
MAX_PARAMETERS = 200_000_000  # a larger network is a typo here, not a network (1.6 GB in float64)
MAX_LAYERS = 1_000  # hidden layers; each is a Python object on both sides, built before any check


@dataclass(frozen=True)
class LayerSpec:
    """One layer's kind and its options, canonical (as the layer's get_config gives them)."""

    kind: str
    options: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, layer: layer_registry.Layer) -> "LayerSpec":
        return cls(layer.kind, tuple(layer.get_config().items()))

    def build(self) -> layer_registry.Layer:
        """A fresh layer object (its own activation state), not yet built for a shape."""
        return layer_registry.get(self.kind)(**dict(self.options))

    @property
    def config(self) -> dict:
        return dict(self.options)

    @property
    def text(self) -> str:
        return self.build().text

    @property
    def legacy_text(self) -> str | None:
        """'100:sigmoid' for a plain Dense layer (the original text form), else None."""
        config = self.config
        if self.kind != "dense" or config.get("kernel_regularizer") or \
                config.get("activity_regularizer"):
            return None
        return f"{self.config['units']}:{self.config['activation']}"


def dense_layer(units: int, activation: str = "linear") -> LayerSpec:
    """LayerSpec of Dense(units, activation): what '100:sigmoid' means."""
    return LayerSpec.of(layer_registry.get("dense").from_options([units, activation], {}))


@dataclass(frozen=True)
class NetworkSpec:
    """The whole network.  Build with `NetworkSpec.from_text(...)` or directly.

    input_shape: one row's shape, (inputs,) or (height, width, channels); an int
    means flat rows.  `body`: the layers before the output layer, any kind (dense,
    conv, pooling, ...); `hidden` is its old name, from the dense-only days.
    `conventions`: how Keras' roundings are followed (handrolled.conventions;
    `with_conventions`)."""

    input_shape: tuple[int, ...] | int
    body: tuple[LayerSpec, ...] = field(default_factory=tuple)
    classes: int = 10
    dtype: str = "float64"
    seed: int = 0
    loss: str = losses.DEFAULT
    # how Keras rounds penalties' factors and optimizers' hyper-parameters (conventions.py):
    # not part of the text or JSON form; compare sets the installed Keras' measured value
    conventions: Conventions = KERAS

    def __post_init__(self):
        for name in ("classes", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise SpecError(f"{name} must be an integer, got {value!r}")
        if self.classes < 2:
            raise SpecError(f"classes must be at least 2 (softmax output), got {self.classes}")
        if self.dtype not in DTYPES:
            raise SpecError(f"unknown dtype '{self.dtype}'; accepted: {', '.join(DTYPES)}")
        if not isinstance(self.conventions, Conventions):
            raise SpecError(f"conventions must be a handrolled.conventions.Conventions, "
                            f"got {self.conventions!r}")
        object.__setattr__(self, "loss", losses.get(self.loss).name)
        body = tuple(self.body)
        _check_depth(len(body))
        for layer in body:
            if not isinstance(layer, LayerSpec):
                raise SpecError(f"hidden layers must be LayerSpec objects, got {layer!r}")
        object.__setattr__(self, "body", body)
        shape = _normalise_shape(self.input_shape)
        if _wants_flat_input(body) and len(shape) > 1:
            shape = (math.prod(shape),)  # a dense network sees flattened rows
        object.__setattr__(self, "input_shape", shape)
        built = self.build_layers()  # checks every layer against its input, now
        object.__setattr__(self, "_shapes", {layer.name: dict(layer.param_shapes)
                                             for layer in built})
        object.__setattr__(self, "_state", {f"{layer.name}/{variable}": shape
                                            for layer in built
                                            for variable, shape in layer.state_shapes.items()})
        object.__setattr__(self, "_names", tuple(layer.name for layer in built))
        total = sum(math.prod(s) for shapes in self._shapes.values() for s in shapes.values())
        if total > MAX_PARAMETERS:
            raise SpecError(f"the network has {total:,} parameters; at most "
                            f"{MAX_PARAMETERS:,} are accepted")

    # ------------------------------------------------------------ building
    @classmethod
    def from_text(cls, text: str, inputs: int | tuple = MNIST_SHAPE, classes: int = 10,
                  dtype: str = "float64", seed: int = 0,
                  loss: str = losses.DEFAULT) -> "NetworkSpec":
        """From the text form; `inputs` is the data's shape (flattened for dense networks)."""
        return cls(inputs, parse_layers(text), classes, dtype, seed, loss)

    def with_conventions(self, conventions: Conventions) -> "NetworkSpec":
        """The same network under other conventions (a new spec; this one is unchanged)."""
        return self if conventions == self.conventions else \
            dataclasses.replace(self, conventions=conventions)

    @property
    def loss_function(self) -> losses.Loss:
        """The loss object (its output: softmax, sigmoid or linear logits)."""
        return losses.get(self.loss)

    @property
    def outputs(self) -> int:
        """Units of the output layer: the classes, or 1 for two classes and a sigmoid."""
        return self.loss_function.units(self.classes)

    @property
    def layers(self) -> tuple[LayerSpec, ...]:
        """Every layer, the output layer Dense(outputs) included (linear: its outputs are
        the logits the loss takes)."""
        return (*self.body, dense_layer(self.outputs))

    @property
    def hidden(self) -> tuple[LayerSpec, ...]:
        """The old name of `body` (the layers before the output layer)."""
        return self.body

    def build_layers(self) -> list[layer_registry.Layer]:
        """Fresh layer objects, named and built for their input shapes."""
        built, shape = [], self.input_shape
        for index, spec in enumerate(self.layers, start=1):
            layer = spec.build()
            name = f"{layer.kind}{index}"
            if index == len(self.layers) and len(shape) != 1:
                raise SpecError(f"the output layer {name} (dense, {self.outputs} outputs) gets "
                                f"inputs of shape {shape}; end the layers with 'flatten' (or "
                                f"a dense layer after it)")
            layer.built(name, shape)
            shape = layer.output_shape
            if any(size < 1 for size in shape):
                raise layer.error(f"gives an empty output of shape {shape}")
            built.append(layer)
        return built

    # ------------------------------------------------------------- naming
    @property
    def layer_names(self) -> tuple[str, ...]:
        return self._names

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """{'conv1/kernel': (3, 3, 1, 8), 'conv1/bias': (8,), ...}: layer order, then the
        layer's own variable order (kernel before bias, as Keras creates them)."""
        return {f"{layer}/{variable}": shape for layer, shapes in self._shapes.items()
                for variable, shape in shapes.items()}

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """{'batchnorm2/moving_mean': (8,), ...}: the non-trainable state, by name."""
        return dict(self._state)

    def legacy_names(self) -> dict[str, str]:
        """{'W1': 'dense1/kernel', 'b1': 'dense1/bias', 'W2': ...}: the l-th layer with
        parameters as the book numbers it."""
        out = {}
        kernels = [name for name, shapes in self._shapes.items() if "kernel" in shapes]
        for l, layer in enumerate(kernels, start=1):
            out[f"W{l}"], out[f"b{l}"] = f"{layer}/kernel", f"{layer}/bias"
        return out

    # ------------------------------------------------------------ describing
    @property
    def inputs(self) -> int:
        """Numbers per input row (784 for 28x28x1)."""
        return math.prod(self.input_shape)

    @property
    def is_dense(self) -> bool:
        """Only plain Dense layers and softmax cross-entropy: the network of eqs. 1-5,
        which `handrolled.fast` speeds up and the short text form describes."""
        return self.loss == losses.DEFAULT and all(
            layer.legacy_text is not None for layer in self.body)

    @property
    def sizes(self) -> tuple[int, ...]:
        """(n_0, n_1, ..., n_L) of a dense network: inputs, each hidden layer, classes."""
        if not self.is_dense:
            raise SpecError(f"sizes are defined for dense networks only; {self.describe()} "
                            f"has other layers")
        return (self.inputs, *(layer.config["units"] for layer in self.body), self.outputs)

    @property
    def depth(self) -> int:
        """Number of layers with parameters (hidden + the output layer for a dense net)."""
        return sum(1 for shapes in self._shapes.values() if shapes)

    @property
    def body_text(self) -> str:
        """The text form of the layers before the output layer ('100:sigmoid' form for
        dense networks): what --layers takes."""
        if self.is_dense:
            return ",".join(layer.legacy_text for layer in self.body)
        return ",".join(layer.text for layer in self.body)

    @property
    def hidden_text(self) -> str:
        """The old name of `body_text`."""
        return self.body_text

    def describe(self) -> str:
        """'784-100 sigmoid-10' for a dense network; '28x28x1-conv(8,3,relu)-flatten-10'."""
        if self.is_dense:
            parts = [str(self.inputs)]
            parts += [f"{layer.config['units']} {layer.config['activation']}"
                      for layer in self.body]
        else:
            parts = ["x".join(map(str, self.input_shape))] + [l.text for l in self.body]
        parts.append(str(self.outputs))
        text = "-".join(parts)
        if self.loss != losses.DEFAULT:
            text += f" {self.loss_function.output_activation} ({self.loss})"
        return text

    def to_json(self) -> dict:
        """The JSON form (`network_from_json` reads it back)."""
        return {"input_shape": list(self.input_shape), "classes": self.classes, "loss": self.loss,
                "layers": [dict(type=layer.kind, **_jsonable(layer.config))
                           for layer in self.body]}


# ----------------------------------------------------------------- parsing
_DENSE_SHORT = re.compile(r"^\s*[+-]?\d")
_HIDDEN_FORM = ("layers such as 'conv(8,3,relu),maxpool(2),flatten,dense(100,relu)' or "
                "UNITS:ACTIVATION such as '100:sigmoid'")


def parse_layers(text: str) -> tuple[LayerSpec, ...]:
    """Parse the text form of the layers before the output layer.  '' means none."""
    text = text.strip()
    if not text:
        return ()
    items = split_top_level(text)
    _check_depth(len(items))
    return tuple(parse_layer(item) for item in items)


def _check_depth(layers: int) -> None:
    if layers > MAX_LAYERS:
        raise SpecError(f"the network has {layers:,} hidden layers; at most {MAX_LAYERS:,} "
                        f"are accepted")


def parse_layer(item: str) -> LayerSpec:
    """'conv(8,3,relu)', 'flatten' or the short dense form '100:relu'."""
    item = item.strip()
    if _DENSE_SHORT.match(item) or ":" in item.split("(")[0]:
        return _parse_dense_short(item)
    name, args = split_call(item, "layer", "'dense(100,relu)' or 'conv(8,3,relu)'")
    layer = layer_registry.get(name).from_text(args)
    return LayerSpec.of(layer)


def _parse_dense_short(item: str) -> LayerSpec:
    units, sep, activation = item.partition(":")
    if not sep or not units.strip() or not activation.strip():
        raise SpecError(f"malformed hidden layer '{item}'; expected {_HIDDEN_FORM}")
    try:
        size = int(units)
    except ValueError:
        raise SpecError(f"layer size '{units.strip()}' is not an integer; "
                        f"expected {_HIDDEN_FORM}") from None
    if size < 1:
        raise SpecError(f"layer size must be a positive integer, got {size}")
    return dense_layer(size, activation.strip())


parse_hidden = parse_layers  # the name of the dense-only days


def network_from_json(source, path: str = "network") -> tuple[LayerSpec, ...]:
    """The layers of a JSON network: {"layers": [item, ...]} (or the bare list), each
    item a text ('conv(8,3,relu)') or an object {"type": "conv", "filters": 8, ...}."""
    if isinstance(source, (str, bytes)):
        try:
            source = json.loads(source)
        except (ValueError, RecursionError) as error:
            raise SpecError(f"{path} is not valid JSON ({error}); expected "
                            f'{{"layers": ["conv(8,3,relu)", ...]}}') from None
    items = source.get("layers") if isinstance(source, dict) else source
    if not isinstance(items, list):
        raise SpecError(f'{path} must hold a list of layers, e.g. {{"layers": '
                        f'["conv(8,3,relu)", {{"type": "flatten"}}]}}')
    _check_depth(len(items))
    return tuple(_json_layer(item, path, i) for i, item in enumerate(items, start=1))


def _json_layer(item, path: str, index: int) -> LayerSpec:
    if isinstance(item, str):
        return parse_layer(item)
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        raise SpecError(f"{path}: layer {index} must be a text such as 'flatten' or an object "
                        f"with a \"type\", got {json.dumps(item)[:80]}")
    options = {key: value for key, value in item.items() if key not in ("type", "name")}
    cls = layer_registry.get(item["type"])
    return LayerSpec.of(cls.from_options([], options))


def _normalise_shape(shape) -> tuple[int, ...]:
    dims = (shape,) if isinstance(shape, int) and not isinstance(shape, bool) else shape
    try:
        dims = tuple(dims)
    except TypeError:
        raise SpecError(f"inputs must be an integer or a shape, got {shape!r}") from None
    if not dims or len(dims) not in (1, 3) or not all(
            isinstance(d, int) and not isinstance(d, bool) for d in dims):
        raise SpecError(f"inputs must be a number of features or a shape (height, width, "
                        f"channels), got {shape!r}")
    if any(d < 1 for d in dims):
        raise SpecError(f"inputs must be at least 1, got {shape!r}")
    return dims


def _wants_flat_input(hidden) -> bool:
    """True when the first layer that cares about shape takes rows (Dense), or there is
    none; False when it takes images (conv, pooling): each layer class' INPUT."""
    for layer in hidden:
        needs = layer_registry.get(layer.kind).INPUT
        if needs is not None:
            return needs == "rows"
    return True


def _jsonable(config: dict) -> dict:
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in config.items()}
