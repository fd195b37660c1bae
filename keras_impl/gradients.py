"""Per-parameter gradients from TensorFlow's automatic differentiation."""

from __future__ import annotations

import numpy as np

from handrolled import Params

from .dropout import dropout_shapes, next_masks
from .model import loss_function, matched_variables
from .runtime import keras, tf


def loss_gradients_and_masks(model: keras.Model, spec, X: np.ndarray, Y: np.ndarray
                             ) -> tuple[float, Params, dict]:
    """The loss Keras trains on -- the data loss plus the regularizers' penalties
    (model.losses), as `fit` adds them -- on (X, Y) in training mode, dL/dtheta for
    every trainable variable, and the dropout masks this pass drew (recovered before
    it: keras_impl/dropout.py), so the hand-written side can apply the same ones.

    Gradients come under the handrolled keys ('conv1/kernel', ...), matched by the
    variables' layer and own names, never by position.  The moving statistics of
    BatchNormalization are left as they were (a gradient check is not a step)."""
    loss_fn = loss_function(spec)
    X = tf.convert_to_tensor(X, dtype=spec.dtype)
    Y = tf.convert_to_tensor(Y, dtype=spec.dtype)
    masks = next_masks(model, dropout_shapes(spec), int(X.shape[0]))
    state = [(v, v.numpy()) for v in model.non_trainable_weights]
    with tf.GradientTape() as tape:
        logits = model(X, training=True)
        loss = loss_fn(Y, logits)
        if model.losses:  # as keras' Trainer.compute_loss: the data loss, then the penalties
            loss = keras.ops.sum([loss, *model.losses])
    for variable, value in state:
        variable.assign(value)
    named = matched_variables(model, spec.param_shapes())
    grads = tape.gradient(loss, list(named.values()))
    # None for a weight the loss does not reach (behind a step activation, derivative 0
    # everywhere) means zero, as the hand-written gradient says
    return float(loss), {name: np.zeros(v.shape, spec.dtype) if g is None else g.numpy()
                         for (name, v), g in zip(named.items(), grads)}, masks


def loss_and_gradients(model: keras.Model, spec, X: np.ndarray,
                       Y: np.ndarray) -> tuple[float, Params]:
    """`loss_gradients_and_masks` without the masks."""
    loss, grads, _ = loss_gradients_and_masks(model, spec, X, Y)
    return loss, grads
