"""The Keras twin of a `handrolled.NetworkSpec`, holding the same weights.

    model = build_model(spec, weights)      # a real keras.Sequential of Dense layers
    read_weights(model)                     # {'W1': ..., 'b1': ..., ...} back out

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

from handrolled import NetworkSpec, Params, as_list, init_weights, validate
from handrolled.spec import param_names
from handrolled.errors import SpecError

from . import activations
from .layers import ActivationSchedule, scheduled_layers
from .runtime import keras


def build_model(spec: NetworkSpec, weights: Params | None = None) -> keras.Sequential:
    """A keras.Sequential mirroring `spec`, loaded with `weights` (or fresh seeded ones)."""
    params = validate(spec, weights) if weights is not None else init_weights(spec)
    layers = [keras.Input(shape=(spec.inputs,), dtype=spec.dtype, name="inputs")]
    for l, layer in enumerate(spec.hidden, start=1):
        activation = activations.get(layer.activation, dtype=spec.dtype,
                                     name=f"hidden_{l}_activation")
        if isinstance(activation, keras.layers.Layer):  # per-unit (mix, stochastic): a layer
            layers += [keras.layers.Dense(layer.units, dtype=spec.dtype, name=f"hidden_{l}"),
                       activation]
        else:
            layers.append(keras.layers.Dense(layer.units, activation=activation,
                                             dtype=spec.dtype, name=f"hidden_{l}"))
    layers.append(keras.layers.Dense(spec.classes, activation=None, dtype=spec.dtype,
                                     name="logits"))
    model = keras.Sequential(layers, name="handrolled_twin")
    model.set_weights(as_list(params))  # (n_in, n_out) kernels: no transposes needed
    check_dtype(model, spec)
    return model


def loss_function(spec: NetworkSpec) -> keras.losses.Loss:
    """Mean softmax cross-entropy on logits, computed in the spec's dtype."""
    return keras.losses.CategoricalCrossentropy(from_logits=True, dtype=spec.dtype)


def read_weights(model: keras.Model) -> Params:
    """The model's weights as {'W1', 'b1', ...}, the keys `handrolled` uses."""
    arrays = model.get_weights()
    return {name: np.asarray(array)
            for name, array in zip(param_names(len(arrays) // 2), arrays)}


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
