"""A layer target: what the file declares, and how its terms map onto Keras'.

    LAYER = "conv(8,3,strides=2,padding=same)"   # the project's layer text (or a list of them)
    DATA_FORMAT = "channels_first"               # optional; default "channels_last"
    KERNEL_LAYOUT = "oihw"          # optional; default "hwio", Keras' (kh, kw, in, out)
    PARAM_NAMES = {"kernel": "w", "bias": "b"}   # optional; Keras' name -> yours
    def forward(x, params, training): ... -> (out, cache)     # or (out, cache, state)
    def backward(dout, cache): ...        -> (dx, grads)
    # or, instead of the two functions:
    LAYER_CLASS = MyConv    # a class with those two methods, made fresh per configuration

Everything the checker computes lives in *canonical* terms: images NHWC, kernels
(kh, kw, in, out) for a convolution and (in, out) for Dense, parameters under
Keras' variable names.  `Layout` converts arrays both ways, so the user's code
sees only their own terms and the report speaks them.

Several configurations.  When `forward` (or the class' constructor) has a
parameter named `config`, it receives the configuration as a dict of Keras'
option names ({"filters": 8, "kernel_size": [3, 3], "strides": [2, 2],
"padding": "same", "use_bias": True}); the checker then also varies strides,
padding, use_bias or the dropout rate around the first declared LAYER
(`grid.configurations`), and LAYER may list several texts.  Without it only the
one declared text is checked.

State (BatchNormalization's moving_mean and moving_variance) goes in with
`params` and comes back as a third item of forward's result, a dict under the
same names: `(out, cache, state)`.  The checker feeds each call the state the
user's previous call returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from handrolled.spec import LayerSpec, parse_layer

from ..errors import TargetError

DATA_FORMATS = ("channels_last", "channels_first")
KERNEL_LAYOUTS = ("hwio", "oihw")
STATEFUL = ("batchnorm",)       # kinds whose forward returns (out, cache, state)
CONTRACT = ("a layer target declares LAYER (e.g. \"conv(8,3)\") and either forward(x, params, "
            "training) and backward(dout, cache), or LAYER_CLASS, a class with those two "
            "methods (see docs/checking/layer.md)")

# canonical -> user's axis order, for each rank (inverse: np.argsort)
_TO_CHANNELS_FIRST = {4: (0, 3, 1, 2)}
_TO_OIHW = {4: (3, 2, 0, 1), 2: (1, 0)}


def _fail(message: str) -> TargetError:
    return TargetError(f"{message}; {CONTRACT}")


@dataclass(frozen=True)
class Layout:
    """The user's data format, kernel layout and names; converts arrays both ways."""

    data_format: str = "channels_last"
    kernel_layout: str = "hwio"
    names: tuple[tuple[str, str], ...] = ()      # (keras name, user name)

    def user_name(self, keras_name: str) -> str:
        return dict(self.names).get(keras_name, keras_name)

    def keras_name(self, user_name: str) -> str:
        return {u: k for k, u in self.names}.get(user_name, user_name)

    def _data_axes(self, ndim: int):
        return _TO_CHANNELS_FIRST.get(ndim) if self.data_format == "channels_first" else None

    def _param_axes(self, name: str, ndim: int):
        return _TO_OIHW.get(ndim) if name == "kernel" and self.kernel_layout == "oihw" else None

    def data_to_user(self, a):
        axes = None if a is None else self._data_axes(a.ndim)
        return a if axes is None else np.ascontiguousarray(a.transpose(axes))

    def data_from_user(self, a):
        axes = None if a is None else self._data_axes(a.ndim)
        return a if axes is None else a.transpose(np.argsort(axes))

    def params_to_user(self, params: dict) -> dict:
        out = {}
        for name, value in params.items():
            axes = self._param_axes(name, value.ndim)
            out[self.user_name(name)] = (value if axes is None
                                         else np.ascontiguousarray(value.transpose(axes)))
        return out

    def param_from_user(self, name: str, value: np.ndarray, shape: tuple) -> np.ndarray:
        """A user's array for Keras' `name`, back in canonical axes (when its rank fits)."""
        axes = self._param_axes(name, len(shape))
        if axes is None or value.ndim != len(shape):
            return value
        return value.transpose(np.argsort(axes))

    def shape_to_user(self, name: str | None, shape: tuple) -> tuple:
        """A canonical shape as the user sees it (name None: data)."""
        axes = (self._data_axes(len(shape)) if name is None
                else self._param_axes(name, len(shape)))
        return tuple(shape) if axes is None else tuple(shape[i] for i in axes)

    def describe(self) -> str:
        return f"{self.data_format}, kernel {self.kernel_layout}"


@dataclass
class LayerTarget:
    """What a layer target file declares, checked."""

    path: object
    specs: tuple[LayerSpec, ...]               # the declared configurations
    layout: Layout
    style: str                                 # "functions" or "class"
    class_name: str | None = None              # the global the class is made from
    takes_config: bool = False

    @property
    def kind(self) -> str:
        return self.specs[0].kind

    @property
    def stateful(self) -> bool:
        return self.kind in STATEFUL

    @property
    def text(self) -> str:
        return ", ".join(spec.text for spec in self.specs)


def load_layer_target(user) -> LayerTarget:
    """Read and check what `user` (a UserProcess) declares; TargetError on anything wrong."""
    declared = user.declared
    specs = _layer_specs(declared.get("LAYER"))
    data_format = _choice(declared, "DATA_FORMAT", DATA_FORMATS)
    kernel_layout = _choice(declared, "KERNEL_LAYOUT", KERNEL_LAYOUTS)
    names = _param_names(declared.get("PARAM_NAMES"))
    layout = Layout(data_format, kernel_layout, names)
    klass = declared.get("LAYER_CLASS")
    if klass is not None:
        if not (isinstance(klass, dict) and klass.get("callable") == "class"):
            raise _fail(f"LAYER_CLASS must be a class, got {_what(klass)}")
        missing = [m for m in ("forward", "backward") if m not in klass.get("methods", [])]
        if missing:
            raise _fail(f"LAYER_CLASS has no {' or '.join(missing)} method")
        takes = "config" in _parameters(klass.get("signature", ""))
        return _checked(LayerTarget(user.path, specs, layout, "class", "LAYER_CLASS", takes))
    for function in ("forward", "backward"):
        value = declared.get(function)
        if not (isinstance(value, dict) and value.get("callable") == "function"):
            raise _fail(f"{function} is {'missing' if value is None else _what(value)}")
    takes = "config" in _parameters(declared["forward"].get("signature", ""))
    return _checked(LayerTarget(user.path, specs, layout, "functions", None, takes))


def _checked(target: LayerTarget) -> LayerTarget:
    """Several configurations need code that is told which one it runs."""
    if len(target.specs) > 1 and not target.takes_config:
        where = "LAYER_CLASS's __init__" if target.style == "class" else "forward"
        raise TargetError(f"LAYER lists {len(target.specs)} configurations ({target.text}), "
                          f"but {where} has no `config` parameter to be told which one it "
                          f"runs; declare one LAYER text, or add the parameter")
    return target


def _layer_specs(value) -> tuple[LayerSpec, ...]:
    if value is None:
        raise _fail("LAYER is missing")
    texts = value if isinstance(value, list) else [value]
    if not texts or not all(isinstance(t, str) for t in texts):
        raise _fail(f"LAYER must be a layer text or a list of them, got {value!r}")
    specs = tuple(parse_layer(text) for text in texts)   # SpecError names the accepted kinds
    if len({spec.kind for spec in specs}) > 1:
        raise _fail(f"LAYER lists several kinds of layer ({', '.join(texts)}); "
                    f"a target checks one kind")
    from .grid import INPUTS  # the kinds whose inputs the check knows how to draw

    if specs[0].kind not in INPUTS:
        raise _fail(f"nn-compare check has no input grid for layer kind {specs[0].kind} yet; "
                    f"it checks {', '.join(INPUTS)}")
    return specs


def _choice(declared: dict, name: str, accepted: tuple) -> str:
    value = declared.get(name, accepted[0])
    if value not in accepted:
        raise TargetError(f"{name} must be one of {', '.join(map(repr, accepted))}, "
                          f"got {value!r}")
    return value


def _param_names(value) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise TargetError(f"PARAM_NAMES must map Keras' names to yours, e.g. "
                          f"{{'kernel': 'w', 'bias': 'b'}}, got {value!r}")
    known = {"kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance"}
    unknown = sorted(set(value) - known)
    if unknown:
        raise TargetError(f"PARAM_NAMES has unknown Keras name(s) {', '.join(unknown)}; "
                          f"accepted: {', '.join(sorted(known))}")
    if len(set(value.values())) != len(value):
        raise TargetError(f"PARAM_NAMES gives two Keras names the same name: {value!r}")
    return tuple(sorted(value.items()))


def _parameters(signature: str) -> list[str]:
    """Parameter names of a signature text '(self, x, config=None)'."""
    inner = signature.strip()[1:-1] if signature.strip().startswith("(") else ""
    inner = re.sub(r"\[.*?\]|\(.*?\)|\{.*?\}", "", inner)
    names = []
    for part in inner.split(","):
        name = part.split("=")[0].split(":")[0].strip().lstrip("*")
        if name and name != "/":
            names.append(name)
    return names


def _what(value) -> str:
    if isinstance(value, dict) and "callable" in value:
        return f"a {value.get('callable') or value.get('type', 'value')}"
    return f"{type(value).__name__} {value!r}"
