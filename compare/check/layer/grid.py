"""The grid a layer target runs over: configurations x inputs, each a `Case` of steps.

Configurations.  The declared LAYER text(s); and, when the user's code takes
`config`, the grid's variations of the first one (`VARIATIONS`): strides 1
and 2 with padding 'valid' (pad 0) and 'same' for convolutions and pooling,
use_bias=False for Dense and Conv2D, a second dropout rate (rate 0.5 cannot
tell a rate from a keep probability).

Inputs, per kind (`INPUTS`), in canonical terms (NHWC):
- odd and even image sizes (TensorFlow's 'same' padding puts its odd pixel at
  the end: only an even size at stride 2, or an odd one at stride 1 with an
  even window, shows it), and a batch of 1;
- for pooling, images with blank regions and few distinct values (an MNIST
  digit's background), so windows hold tied maxima;
- for batch normalization, one channel with a spread of 0.05 (variance
  2.5e-3, near epsilon, so where epsilon sits shows), a convolution-sized
  input, and a batch-of-1 image; three training calls then one inference call,
  each with the moving statistics the previous call returned;
- for dropout, a training call then an inference call, inputs with no zeros
  (so the mask reads back from the output as out != 0).

Every case has its own seeded parameters: kernels ~ N(0, 1/fan_in), biases and
beta ~ N(0, 0.5^2) (a zero bias would hide a bias bug), gamma ~ U(0.5, 1.5); the
moving statistics start where Keras starts them (mean 0, variance 1).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from handrolled.layers import Layer
from handrolled.spec import LayerSpec

from .results import full_params


@dataclass(frozen=True)
class Config:
    """One configuration: the layer text plus options the text cannot say (use_bias)."""

    spec: LayerSpec
    use_bias: bool = True

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def text(self) -> str:
        return self.spec.text + ("" if self.use_bias else " use_bias=False")

    def options(self) -> dict:
        """Keras' option names and plain values: what a user's `config` parameter gets."""
        options = {name: (list(value) if isinstance(value, tuple) else value)
                   for name, value in self.spec.config.items()
                   if not name.endswith("_regularizer") and name != "seed"}
        if self.kind in ("dense", "conv"):
            options["use_bias"] = self.use_bias
        return options

    def with_options(self, **changes) -> "Config":
        use_bias = changes.pop("use_bias", self.use_bias)
        options = dict(self.spec.config, **changes)
        return Config(LayerSpec(self.spec.kind, tuple(options.items())), use_bias)

    def build(self, input_shape) -> Layer:
        layer = self.spec.build()
        return layer.built(self.kind, tuple(input_shape))


@dataclass
class Step:
    x: np.ndarray          # canonical input
    dout: np.ndarray       # dL/dout for the backward pass (the Keras side: sum(out * dout))
    training: bool


@dataclass
class Case:
    label: str
    config: Config
    layer: Layer           # handrolled's, built for the input shape
    params: dict           # canonical: trainable parameters and starting state
    steps: list[Step]
    tags: tuple[str, ...] = ()   # 'pad0', 'tied', 'batch1', ...
    inputs: str = ""             # the input's label alone ('8x8, blank regions')

    @property
    def trainable(self) -> dict:
        return {k: v for k, v in self.params.items() if k in self.layer.param_shapes}

    @property
    def state(self) -> dict:
        return {k: v for k, v in self.params.items() if k in self.layer.state_shapes}

    def cast(self, dtype) -> "Case":
        params = {k: v.astype(dtype) for k, v in self.params.items()}
        steps = [Step(s.x.astype(dtype), s.dout.astype(dtype), s.training) for s in self.steps]
        return dataclasses.replace(self, params=params, steps=steps)


# ------------------------------------------------------------------ configurations

def _strides_and_padding(config: Config, window_key: str) -> list[Config]:
    window = config.spec.config[window_key]
    out = []
    for strides in ((1, 1), (2, 2)):
        for padding in ("valid", "same"):
            if window_key == "pool_size" and strides == (1, 1) and window == (1, 1):
                continue
            out.append(config.with_options(strides=strides, padding=padding))
    return out


def _conv_variations(config):
    return _strides_and_padding(config, "kernel_size") + [config.with_options(use_bias=False)]


def _pool_variations(config):
    return _strides_and_padding(config, "pool_size")


def _dense_variations(config):
    return [config.with_options(use_bias=False)]


def _dropout_variations(config):
    rate = config.spec.config["rate"]
    return [config.with_options(rate=0.2 if abs(rate - 0.2) > 1e-9 else 0.3)]


VARIATIONS = {"conv": _conv_variations, "maxpool": _pool_variations,
              "avgpool": _pool_variations, "dense": _dense_variations,
              "dropout": _dropout_variations}


def configurations(specs, takes_config: bool) -> list[Config]:
    configs = [Config(spec) for spec in specs]
    if takes_config and configs[0].kind in VARIATIONS:
        configs += VARIATIONS[configs[0].kind](configs[0])
    unique = []
    for config in configs:
        if config not in unique:
            unique.append(config)
    return unique


# ------------------------------------------------------------------ inputs

def _random(rng, shape, scale=1.0):
    return rng.normal(0.0, scale, size=shape)


def _no_zeros(rng, shape):
    """Values of size 0.5..1.5 with random signs: the mask reads back as out != 0."""
    return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _blank_digit(rng, shape):
    """Mostly 0 with a blob of a few distinct levels (0, 0.5, 1): tied maxima everywhere."""
    n, h, w, c = shape
    x = np.zeros(shape)
    top, left = h // 4, w // 4
    blob = rng.choice([0.0, 0.5, 1.0], size=(n, h - 2 * top, w - 2 * left, c), p=[0.3, 0.3, 0.4])
    x[:, top:h - top, left:w - left, :] = blob
    return x


def _image_sizes(window: tuple[int, int]) -> tuple[int, int]:
    odd = max(7, window[0] + 2, window[1] + 2) | 1
    return odd, odd + 1


def _image_inputs(config: Config, window_key: str, channels: int, tied: bool):
    """(label, tags, shape, maker) for odd, even and batch-of-1 images."""
    odd, even = _image_sizes(config.spec.config[window_key])
    random = lambda rng, shape: _random(rng, shape)
    blank = _blank_digit if tied else random
    return [(f"{odd}x{odd}", (), (2, odd, odd, channels), random),
            (f"{even}x{even}" + (", blank regions" if tied else ""), ("tied",) if tied else (),
             (2, even, even, channels), blank),
            (f"{odd}x{even}, batch 1" + (", blank regions" if tied else ""),
             ("batch1", "tied") if tied else ("batch1",), (1, odd, even, channels), blank)]


def _conv_inputs(config):
    return _image_inputs(config, "kernel_size", 3, tied=False)


def _pool_inputs(config):
    return _image_inputs(config, "pool_size", 2, tied=True)


def _dense_inputs(config):
    return [("5 features", (), (3, 5), _random), ("batch 1", ("batch1",), (1, 5), _random)]


def _batchnorm_maker(rng, shape):
    scales = np.ones(shape[-1])
    scales[0] = 0.05                               # variance 2.5e-3, near epsilon = 1e-3
    return rng.normal(0.3, 1.0, size=shape) * scales + np.arange(shape[-1])


def _batchnorm_inputs(config):
    return [("dense 6x4", (), (6, 4), _batchnorm_maker),
            ("image 3x5x4x3", (), (3, 5, 4, 3), _batchnorm_maker),
            ("image 8x12x12x3", ("large",), (8, 12, 12, 3), _batchnorm_maker),
            ("image, batch 1", ("batch1",), (1, 5, 6, 3), _batchnorm_maker)]


def _dropout_inputs(config):
    return [("dense 8x250", (), (8, 250), _no_zeros),
            ("image 2x10x10x4", (), (2, 10, 10, 4), _no_zeros)]


def _flatten_inputs(config):
    return [("image 2x3x4x5", (), (2, 3, 4, 5), _random),
            ("image 1x4x3x2, batch 1", ("batch1",), (1, 4, 3, 2), _random)]


def _activation_inputs(config):
    return [("dense 3x7", (), (3, 7), _random), ("image 2x4x5x3", (), (2, 4, 5, 3), _random)]


INPUTS = {"conv": _conv_inputs, "maxpool": _pool_inputs, "avgpool": _pool_inputs,
          "dense": _dense_inputs, "batchnorm": _batchnorm_inputs,
          "dropout": _dropout_inputs, "flatten": _flatten_inputs,
          "activation": _activation_inputs}

# per kind: the training flags of the calls one case makes, in order
CALLS = {"batchnorm": (True, True, True, False), "dropout": (True, False)}


def _params(layer: Layer, rng) -> dict:
    params = {}
    for name, shape in layer.param_shapes.items():
        if name == "kernel":
            fan_in = math.prod(shape[:-1])
            params[name] = rng.normal(0.0, 1.0 / math.sqrt(fan_in), size=shape)
        elif name == "gamma":
            params[name] = rng.uniform(0.5, 1.5, size=shape)
        else:                                         # bias, beta
            params[name] = rng.normal(0.0, 0.5, size=shape)
    params.update(layer.init_state())                 # Keras' start: mean 0, variance 1
    return params


def build_cases(configs: list[Config], seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for config in configs:
        for label, tags, shape, make in INPUTS[config.kind](config):
            layer = config.build(shape[1:])
            params = _params(layer, rng)
            if not config.use_bias:
                params.pop("bias", None)
            steps = []
            for training in CALLS.get(config.kind, (True,)):
                x = make(rng, shape)
                y, _ = layer.forward(full_params(params), x, training)
                steps.append(Step(x, rng.normal(0.0, 1.0, size=y.shape), training))
            pad0 = getattr(getattr(layer, "windows", None), "pad_h", None) == (0, 0) and \
                layer.windows.pad_w == (0, 0)
            cases.append(Case(f"{config.text}, {label}", config, layer, params, steps,
                              tags + (("pad0",) if pad0 else ()), label))
    return cases
