"""Per-parameter gradients from the backend's automatic differentiation
(keras_impl/backends: tf.GradientTape, jax.value_and_grad, torch.autograd)."""

from __future__ import annotations

import numpy as np

from handrolled import Params

from .dropout import dropout_shapes, next_masks
from .model import loss_function, matched_variables
from .runtime import BACKEND, keras


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
    X = np.asarray(X, dtype=spec.dtype)
    Y_t = keras.ops.convert_to_tensor(np.asarray(Y, dtype=spec.dtype))
    masks = next_masks(model, dropout_shapes(spec), int(X.shape[0]))

    def objective(logits, losses):
        loss = loss_fn(Y_t, logits)
        if losses:  # as keras' Trainer.compute_loss: the data loss, then the penalties
            loss = keras.ops.sum([loss, *losses])
        return loss

    loss, _, _, grads = BACKEND.call_and_gradients(model, X, objective)
    named = matched_variables(model, spec.param_shapes())
    # a weight the loss does not reach (behind a step activation, derivative 0
    # everywhere) gets zeros, as the hand-written gradient says
    return loss, {name: grads[id(v)].astype(spec.dtype, copy=False)
                  for name, v in named.items()}, masks


def loss_and_gradients(model: keras.Model, spec, X: np.ndarray,
                       Y: np.ndarray) -> tuple[float, Params]:
    """`loss_gradients_and_masks` without the masks."""
    loss, grads, _ = loss_gradients_and_masks(model, spec, X, Y)
    return loss, grads
