"""Per-parameter gradients from TensorFlow's automatic differentiation."""

from __future__ import annotations

import numpy as np

from handrolled import Params

from .model import matched_variables, loss_function
from .runtime import keras, tf


def loss_and_gradients(model: keras.Model, spec, X: np.ndarray,
                       Y: np.ndarray) -> tuple[float, Params]:
    """Mean cross-entropy on (X, Y) and dL/dtheta for every trainable variable.

    Returned under the handrolled keys ('conv1/kernel', ...), matched by the
    variables' layer and own names, never by position.
    """
    loss_fn = loss_function(spec)
    X = tf.convert_to_tensor(X, dtype=spec.dtype)
    Y = tf.convert_to_tensor(Y, dtype=spec.dtype)
    with tf.GradientTape() as tape:
        logits = model(X, training=True)
        loss = loss_fn(Y, logits)
    named = matched_variables(model, spec.param_shapes())
    grads = tape.gradient(loss, list(named.values()))
    # None for a weight the loss does not reach (behind a step activation, derivative 0
    # everywhere) means zero, as the hand-written gradient says
    return float(loss), {name: np.zeros(v.shape, spec.dtype) if g is None else g.numpy()
                         for (name, v), g in zip(named.items(), grads)}
