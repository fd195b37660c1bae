"""A saved Keras model -> its hand-written twin: the spec, the weights, the moving statistics.

    twin = import_model("model.keras", dtype="float64")
    twin.spec        NetworkSpec((28, 28, 1), (conv(8,3,relu), maxpool(2), flatten), 10)
    twin.weights     {"conv1/kernel": ..., "conv1/bias": ..., "dense4/kernel": ...}
    twin.state       {"batchnorm2/moving_mean": ..., ...}

The reverse of `model.py`'s twins (`twin_layers`): a Keras class maps back through
the layer registry, to the kind whose `keras_name` it is.  The model is loaded with
`keras.saving.load_model(path, safe_mode=True)`: no lambda and no Python code
from the file runs, and a class this process does not know is refused.  It
must be a chain (a Sequential, or a functional model whose every layer takes
the one before it) of the layers that have a twin:

    Keras class (the kind)               its get_config -> the hand-written layer's options
    Dense (dense)                        units, activation, kernel/activity regularizer
    Conv2D (conv)                        filters, kernel_size, activation, strides, padding, ...
    MaxPooling2D, AveragePooling2D       pool_size, strides, padding
    BatchNormalization, Dropout          momentum, epsilon / rate
    Flatten, Activation                  - / activation
    any other registered layer's         the options its OPTIONS name
      keras_name

The option names are Keras' own (the hand-written layers use them), so a
layer's options are read by name from its config.  What the hand-written
layer cannot express (use_bias=False, a dilation, channels_first, a bias
regularizer, a constraint, BatchNormalization without its scale...) is found
by building the twin's Keras layer from the options read (model.twin_layers)
and comparing the two configs: any difference is a one-line error naming the
layer and the option.  Initializers are not compared (the weights come from
the file), nor Dropout's seed (the comparison recovers Keras' own masks).

The last layer is the output layer, Dense(outputs): its activation says the
loss (softmax: categorical cross-entropy, sigmoid: binary cross-entropy;
linear: logits, as this project saves its models, for the loss given, by
default categorical cross-entropy).  Layers are renamed by kind and position
("dense1", "conv2", ...) as the project names them; each Keras layer's
variables go, by their own names (kernel, bias, gamma, beta, moving_mean,
moving_variance), to the hand-written layer in the same place of the chain.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass

import numpy as np

from handrolled import NetworkSpec, Params, losses, validate
from handrolled import layers as layer_registry
from handrolled.errors import SpecError
from handrolled.spec import MAX_PARAMETERS, LayerSpec
from handrolled.weights import validate_state

from .layers import PerUnitActivation
from .model import keras_layers
from .runtime import keras

# config keys that say nothing about the function the layer computes
IGNORED = {"name", "trainable", "dtype", "seed", "activation", "build_config",
           "kernel_initializer", "bias_initializer", "beta_initializer", "gamma_initializer",
           "moving_mean_initializer", "moving_variance_initializer"}

# Keras' regularizer classes -> the hand-written text and its factors, in order
REGULARIZERS = {"L1": ("l1", ("l1",)), "L2": ("l2", ("l2",)), "L1L2": ("l1_l2", ("l1", "l2"))}

# the loss each output activation stands for (linear: the loss given)
OUTPUT_LOSSES = {losses.get(name).output_activation: name
                 for name in ("categorical_crossentropy", "binary_crossentropy")}


@dataclass(frozen=True)
class Imported:
    spec: NetworkSpec
    weights: Params
    state: Params
    path: str


def keras_classes() -> dict[str, str]:
    """{Keras class name: the hand-written kind}: every registered kind's `keras_name`,
    and PerUnitActivation (mix, stochastic) as an activation layer."""
    classes = {layer_registry.get(kind).keras_name: kind for kind in layer_registry.names()
               if layer_registry.get(kind).keras_name}
    return dict(classes, **{PerUnitActivation.__name__: "activation"})


def supported() -> str:
    return ", ".join(keras_classes())


def import_model(path: str, dtype: str = "float64", seed: int = 0,
                 loss: str | None = None) -> Imported:
    """The hand-written twin of the Keras model saved at `path` (a SpecError, one line,
    for anything it cannot be)."""
    chain, input_shape = layer_chain(load_saved(path))
    *hidden_layers, output = chain
    hidden = tuple(layer_spec(layer) for layer in hidden_layers)
    classes, loss = output_layer(output, loss)
    spec = NetworkSpec(input_shape, hidden, classes, dtype, seed, loss)
    check_twin(spec, chain)
    weights, state = {}, {}
    for name, layer in zip(spec.layer_names, chain):
        for variable in layer.trainable_weights:
            weights[f"{name}/{variable.name}"] = np.asarray(variable.numpy())
        for variable in layer.non_trainable_weights:
            state[f"{name}/{variable.name}"] = np.asarray(variable.numpy())
    return Imported(spec, validate(spec, weights), validate_state(spec, state), path)


def load_saved(path: str) -> keras.Model:
    """keras.saving.load_model in safe mode, every failure one line."""
    if not str(path).endswith(".keras"):
        raise SpecError(f"--from-keras takes a model saved as a .keras file "
                        f"(model.save('model.keras')), got '{path}'")
    if not os.path.isfile(path):
        raise SpecError(f"Keras model file {path} does not exist or is not a file")
    check_member_sizes(path)
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises ValueError, TypeError, OSError, zipfile errors
        message = " ".join(str(error).split())[:300]
        raise SpecError(f"cannot load {path} in Keras' safe mode (no custom or arbitrary "
                        f"code is run; supported layers: {supported()}): "
                        f"{type(error).__name__}: {message}") from None
    if not isinstance(model, keras.Model):
        raise SpecError(f"{path} holds a {type(model).__name__}, not a Keras model")
    return model


MAX_KERAS_JSON = 16 * 2**20  # bytes of a .keras file's config.json or metadata.json
MAX_KERAS_MEMBER = 2 * 8 * MAX_PARAMETERS  # any other member: float64 weights and state


def check_member_sizes(path: str) -> None:
    """Refuse a .keras zip whose members declare more bytes than a model within the
    limits needs, before Keras decompresses any (zipfile reads no more than declared).
    A file that is no zip at all is left to Keras, whose error says so."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    for info in members:
        most = MAX_KERAS_JSON if info.filename.endswith(".json") else MAX_KERAS_MEMBER
        if info.file_size > most:
            raise SpecError(f"Keras model file {path}: {info.filename} declares "
                            f"{info.file_size:,} bytes; at most {most:,} are read, so it is "
                            f"refused unread")


def layer_chain(model: keras.Model) -> tuple[list, tuple]:
    """The model's layers from input to output (InputLayer left out) and one row's input
    shape; a model that is not one chain is refused."""
    try:
        model.inputs, model.outputs
    except (AttributeError, ValueError):  # a Sequential saved before it saw any input
        raise SpecError("the Keras model was saved without an input shape; build it with "
                        "keras.Input(shape) first (or call it on a batch) and save it "
                        "again") from None
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise SpecError(f"the Keras model has {len(model.inputs)} inputs and "
                        f"{len(model.outputs)} outputs; only a chain (one input, one output) "
                        f"has a hand-written twin")
    chain, tensor = [], model.outputs[0]
    while True:
        layer, node_index, _ = tensor._keras_history
        if isinstance(layer, keras.layers.InputLayer):
            break
        inputs = layer._inbound_nodes[node_index].input_tensors
        if len(inputs) != 1:
            raise SpecError(f"Keras layer '{layer.name}' ({type(layer).__name__}) takes "
                            f"{len(inputs)} inputs; only a chain of layers has a "
                            f"hand-written twin")
        chain.append(layer)
        tensor = inputs[0]
    chain.reverse()
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if len({id(layer) for layer in chain}) != len(chain) or len(chain) != len(layers):
        raise SpecError("the Keras model is not one chain of layers (a branch, a shared layer "
                        "or an unused one); only a chain has a hand-written twin")
    if not chain:
        raise SpecError("the Keras model has no layers")
    shape = tuple(model.inputs[0].shape[1:])
    if any(size is None for size in shape):
        raise SpecError(f"the Keras model's input shape {shape} is not fixed; the "
                        f"hand-written twin needs every size")
    return chain, shape


def kind_of(layer) -> str:
    """The hand-written kind of a Keras layer, or the one-line error listing those
    supported."""
    name = type(layer).__name__
    kind = keras_classes().get(name)
    if kind is None:
        raise SpecError(f"Keras layer '{layer.name}' ({name}) has no hand-written twin; "
                        f"supported layers: {supported()}")
    return kind


def layer_spec(layer) -> LayerSpec:
    """A Keras layer's kind and options, read by their Keras names from its config."""
    cls = layer_registry.get(kind_of(layer))
    config = layer.get_config()
    options = {o.name: _option(o.name, config[o.name]) for o in cls.OPTIONS
               if config.get(o.name) is not None}
    try:
        return LayerSpec.of(cls.from_options([], options))
    except SpecError as error:
        raise SpecError(f"Keras layer '{layer.name}' ({type(layer).__name__}): "
                        f"{error}") from None


def _option(name: str, value):
    """A Keras config value as the hand-written option: activations and regularizers
    as their text (a serialized object -> 'relu', 'l2(0.01)')."""
    if name == "activation":
        return activation_text(value)
    if name.endswith("_regularizer"):
        return regularizer_text(value)
    return value


def activation_text(value) -> str:
    """'relu' (a Keras name), or the text a saved HandrolledActivation holds."""
    if isinstance(value, dict):  # {"class_name": "HandrolledActivation", "config": {...}}
        return str(value.get("config", {}).get("activation", value.get("class_name")))
    return str(value)


def regularizer_text(value) -> str:
    """{"class_name": "L2", "config": {"l2": 0.01}} -> 'l2(0.01)'."""
    class_name = value.get("class_name") if isinstance(value, dict) else str(value)
    if class_name not in REGULARIZERS:
        raise SpecError(f"regularizer {class_name} has no hand-written twin; supported: "
                        f"{', '.join(REGULARIZERS)}")
    name, factors = REGULARIZERS[class_name]
    config = value["config"]
    return f"{name}({','.join(repr(float(config[factor])) for factor in factors)})"


def output_layer(layer, loss: str | None) -> tuple[int, str]:
    """(classes, loss) from the last layer, Dense(outputs) with softmax, sigmoid or
    linear outputs."""
    if kind_of(layer) != "dense":
        raise SpecError(f"the last Keras layer '{layer.name}' ({type(layer).__name__}) must "
                        f"be the output layer, Dense(outputs) with softmax, sigmoid or "
                        f"linear outputs")
    activation = activation_text(layer.get_config()["activation"])
    implied = OUTPUT_LOSSES.get(activation)
    if activation != "linear" and implied is None:
        raise SpecError(f"the output layer '{layer.name}' has activation {activation}; "
                        f"accepted: softmax, sigmoid or linear (logits)")
    if implied is not None and loss is not None and losses.get(loss).name != implied:
        raise SpecError(f"the output layer '{layer.name}' applies {activation}, which is "
                        f"{implied}, not --loss {loss}")
    loss = implied or loss or losses.DEFAULT
    units = int(layer.get_config()["units"])
    return (2 if units == 1 else units), loss


def check_twin(spec: NetworkSpec, chain: list) -> None:
    """Build the twin's Keras layers from `spec` and compare each config with the loaded
    layer's: whatever the hand-written layer cannot express shows as a difference."""
    twins = keras_layers(spec)
    if len(twins) != len(chain):  # cannot happen for the kinds above: one layer each
        raise SpecError(f"the Keras model has {len(chain)} layers, its twin {len(twins)}")
    for loaded, twin in zip(chain, twins):
        if type(loaded) is not type(twin):
            raise SpecError(f"Keras layer '{loaded.name}' is a {type(loaded).__name__}; its "
                            f"twin would be a {type(twin).__name__}")
        mine, theirs = twin.get_config(), loaded.get_config()
        for key in sorted(set(mine) | set(theirs)):
            if key in IGNORED or _same(mine.get(key), theirs.get(key)):
                continue
            raise SpecError(f"Keras layer '{loaded.name}' ({type(loaded).__name__}): option "
                            f"{key}={theirs.get(key)!r} is not supported by the hand-written "
                            f"twin (it has {key}={mine.get(key)!r})")


def _same(a, b) -> bool:
    """Config values equal, lists and tuples alike (a saved config holds lists), and a
    number the same as a list of that one number (LayerNormalization's axis=-1 comes
    back from a saved file as [-1])."""
    if isinstance(a, (list, tuple)) != isinstance(b, (list, tuple)):
        a, b = (a, [b]) if isinstance(a, (list, tuple)) else ([a], b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b
