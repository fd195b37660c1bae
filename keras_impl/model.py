"""The Keras twin of a `handrolled.NetworkSpec`, holding the same weights.

    model = build_model(spec, weights)      # a real keras.Sequential of Keras layers
    read_weights(model)                     # {'conv1/kernel': ..., ...} back out

Layers.  Every handrolled layer's twin is the Keras class its `keras_name` names,
built from its `get_config()` (the options carry Keras' names) with the same
name ("conv1", "dense4", ...): `keras.layers.<keras_name>(**config, dtype=...,
name=...)` (`twin_layers`).  A kind registers a builder in `TWINS` only where
Keras needs more than that: dense and conv (a per-unit activation is a layer
of its own; regularizers are Keras objects), activation (the function object)
and dropout (its `seed` is the hand-written generator's, not Keras').  Weights
go in and come out by name -- layer name / variable name, e.g. "conv1/kernel"
-- never by position, and a missing or extra variable is an error.

Output layer and loss.  The last Dense layer is linear and its outputs are
logits; the loss is CategoricalCrossentropy(from_logits=True), which computes
log-softmax and cross-entropy in one stable step.  A Dense(softmax) output with
from_logits=False is the same function mathematically, and Keras' TensorFlow
backend even routes it through the logits it finds on the softmax output -- but
only on symbolic tensors; in eager mode under a GradientTape it clips the
probabilities to [eps, 1 - eps] first, which changes the numbers.  Logits plus
from_logits=True is exact in every mode, so that is what we build;
`predict_proba` applies the softmax.

dtype.  Every layer, the Input and the loss get the spec's dtype explicitly.
Keras casts inputs to the layer's dtype without a word, and a loss created
without a dtype computes in `keras.config.floatx()` (float32 by default), so
relying on the global setting alone would quietly run parts of a "float64"
model in float32.  `check_dtype` verifies the result.
"""

from __future__ import annotations


import numpy as np

from handrolled import NetworkSpec, Params, init_weights, validate
from handrolled.weights import init_state, validate_state
from handrolled.errors import SpecError
from handrolled.registry import Registry

from . import activations
from .layers import ActivationSchedule, scheduled_layers
from .regularizers import keras_regularizer
from .runtime import keras

# kind -> builder(handrolled layer, dtype) -> [Keras layers], where the derived twin
# (keras.layers.<keras_name>(**get_config())) is not enough
TWINS = Registry("layer with a Keras builder")
twin = TWINS.register


def twin_layers(layer, dtype: str) -> list:
    """The Keras layers of one built handrolled layer: its kind's builder if it has one,
    else keras.layers.<keras_name>(**layer.get_config()) named as the layer."""
    if layer.kind in TWINS.names():
        return TWINS.lookup(layer.kind)(layer, dtype)
    return [derived_twin(layer, dtype)]


def derived_twin(layer, dtype: str):
    """keras.layers.<keras_name>(**config, dtype=dtype, name=layer.name)."""
    cls = getattr(keras.layers, layer.keras_name, None) if layer.keras_name else None
    if cls is None:
        raise SpecError(f"layer {layer.name} ({layer.kind}): keras.layers has no "
                        f"'{layer.keras_name}' for its twin; set the layer's keras_name to "
                        f"a Keras layer class, or register a builder in keras_impl/model.py")
    return cls(**layer.get_config(), dtype=dtype, name=layer.name)


def _with_activation(layer, dtype, make):
    """`make(activation=...)`, or make() followed by a per-unit activation layer."""
    function = activations.get(layer.activation.text, dtype=dtype, name=f"{layer.name}_activation")
    if isinstance(function, keras.layers.Layer):  # per-unit (mix, stochastic): a layer
        return [make(activation=None), function]
    return [make(activation=function)]


def _penalties(layer) -> dict:
    return {"kernel_regularizer": keras_regularizer(layer.kernel_regularizer),
            "activity_regularizer": keras_regularizer(layer.activity_regularizer)}


@twin("dense")
def _dense(layer, dtype):
    return _with_activation(layer, dtype, lambda activation: keras.layers.Dense(
        layer.units, activation=activation, dtype=dtype, name=layer.name, **_penalties(layer)))


@twin("conv")
def _conv(layer, dtype):
    return _with_activation(layer, dtype, lambda activation: keras.layers.Conv2D(
        layer.filters, layer.kernel_size, strides=layer.strides, padding=layer.padding,
        activation=activation, dtype=dtype, name=layer.name, **_penalties(layer)))


@twin("dropout")
def _dropout(layer, dtype):
    # not derived: the layer's seed is its own NumPy generator's; Keras draws from the
    # global seed, and the comparison recovers Keras' masks (keras_impl/dropout.py)
    return [keras.layers.Dropout(layer.rate, dtype=dtype, name=layer.name)]


@twin("activation")
def _activation(layer, dtype):
    function = activations.get(layer.activation.text, dtype=dtype, name=layer.name)
    if isinstance(function, keras.layers.Layer):
        return [function]
    return [keras.layers.Activation(function, dtype=dtype, name=layer.name)]


def keras_layers(spec: NetworkSpec) -> list:
    """The Keras layers of `spec`, in order, named as the handrolled layers."""
    out = []
    for layer in spec.build_layers():
        out += twin_layers(layer, spec.dtype)
    return out


def build_model(spec: NetworkSpec, weights: Params | None = None,
                state: Params | None = None) -> keras.Sequential:
    """A keras.Sequential mirroring `spec`, loaded with `weights` (or fresh seeded ones)
    and `state` (moving statistics; default: their starting values)."""
    params = validate(spec, weights) if weights is not None else init_weights(spec)
    inputs = keras.Input(shape=spec.input_shape, dtype=spec.dtype, name="inputs")
    model = keras.Sequential([inputs, *keras_layers(spec)], name="handrolled_twin")
    set_weights(model, params)
    set_weights(model, validate_state(spec, state) if state is not None else init_state(spec),
                trainable=False)
    check_dtype(model, spec)
    return model


def named_variables(model: keras.Model, trainable: bool = True) -> dict:
    """{'conv1/kernel': variable, ...}: the trainable (or the non-trainable: moving
    statistics) variables under their layer's and their own names."""
    out = {}
    for layer in model.layers:
        for variable in (layer.trainable_weights if trainable else
                         layer.non_trainable_weights):
            out[f"{layer.name}/{variable.name}"] = variable
    return out


def matched_variables(model: keras.Model, names, trainable: bool = True) -> dict:
    """The model's variables for exactly `names`, or a SpecError saying which names are
    missing on one side."""
    variables = named_variables(model, trainable)
    if set(variables) != set(names):
        missing = sorted(set(names) - set(variables))
        extra = sorted(set(variables) - set(names))
        raise SpecError(f"the Keras model's variables do not match the network's parameters "
                        f"(missing in Keras: {missing or 'none'}; only in Keras: "
                        f"{extra or 'none'})")
    return {name: variables[name] for name in names}


def set_weights(model: keras.Model, params: Params, trainable: bool = True) -> None:
    """Assign every parameter (or state array) to the Keras variable of the same name
    (shapes checked)."""
    for name, variable in matched_variables(model, params, trainable).items():
        if tuple(variable.shape) != params[name].shape:
            raise SpecError(f"weight {name} has shape {params[name].shape}; the Keras variable "
                            f"has {tuple(variable.shape)}")
        variable.assign(params[name])


# handrolled loss name -> the Keras loss on the linear output layer's logits
KERAS_LOSSES = {
    "categorical_crossentropy": lambda dtype: keras.losses.CategoricalCrossentropy(
        from_logits=True, dtype=dtype),
    "binary_crossentropy": lambda dtype: keras.losses.BinaryCrossentropy(
        from_logits=True, dtype=dtype),
    "mean_squared_error": lambda dtype: keras.losses.MeanSquaredError(dtype=dtype),
}


def keras_loss(name: str, dtype: str) -> keras.losses.Loss:
    """The Keras loss for a handrolled loss name, computed in `dtype`."""
    return KERAS_LOSSES[name](dtype)


def loss_function(spec: NetworkSpec) -> keras.losses.Loss:
    """The spec's loss on logits (softmax or sigmoid cross-entropy from logits, or the
    mean squared error of a linear output), computed in the spec's dtype."""
    return keras_loss(spec.loss, spec.dtype)


def read_weights(model: keras.Model, spec: NetworkSpec | None = None) -> Params:
    """The model's trainable weights under the keys `handrolled` uses ('conv1/kernel', ...);
    with `spec`, exactly the spec's parameters, in its order."""
    variables = (matched_variables(model, spec.param_shapes()) if spec is not None
                 else named_variables(model))
    return {name: np.asarray(variable.numpy()) for name, variable in variables.items()}


def read_state(model: keras.Model, spec: NetworkSpec) -> Params:
    """The model's non-trainable state (moving statistics) under handrolled's names."""
    variables = matched_variables(model, spec.state_shapes(), trainable=False)
    return {name: np.asarray(variable.numpy()) for name, variable in variables.items()}


def check_dtype(model: keras.Model, spec: NetworkSpec) -> None:
    """Fail loudly if any variable or the output is not in the spec's dtype."""
    for variable in model.weights:
        if variable.dtype != spec.dtype:
            raise SpecError(f"Keras variable {variable.path} is {variable.dtype}; "
                            f"expected {spec.dtype}")
    output = model.outputs[0]
    if output.dtype != spec.dtype:
        raise SpecError(f"Keras model computes in {output.dtype}; expected {spec.dtype}")


def predict_logits(model: keras.Model, X: np.ndarray) -> np.ndarray:
    """z_L for a batch, as NumPy (a direct call: no predict() batching or callbacks)."""
    return keras.ops.convert_to_numpy(model(X, training=False))


def predict_proba(model: keras.Model, X: np.ndarray) -> np.ndarray:
    logits = model(X, training=False)
    return keras.ops.convert_to_numpy(keras.activations.softmax(logits))


def training_callbacks(model: keras.Model) -> list:
    """Callbacks that `fit` must run for this model's layers to behave like the
    handrolled network during training (e.g. activations that change per step).
    Every Keras training loop here passes them.  None for plain Dense models."""
    layers = scheduled_layers(model)
    return [ActivationSchedule(layers)] if layers else []

