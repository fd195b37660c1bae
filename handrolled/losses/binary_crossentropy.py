"""Binary cross-entropy with a sigmoid output: one unit for two classes, or k
independent labels (one sigmoid each).

From the logits z, as TensorFlow's sigmoid_cross_entropy_with_logits (stable
for any z, no log(0)):

    l_ij  = max(z_ij, 0) - z_ij Y_ij + log(1 + exp(-|z_ij|))
    L     = (1/n) sum_i (1/k) sum_j l_ij        Keras: mean over the outputs, then the batch
    dL/dz = (sigmoid(z) - Y) / (n k)

Two classes use one unit: Y = [label == 1] and the class is [z > 0].  More
classes are k independent labels, one-hot here (the class: the largest z).

Keras twin: keras.losses.BinaryCrossentropy(from_logits=True).
"""

from __future__ import annotations

import numpy as np

from ..activations import Sigmoid
from .base import Loss, register

SIGMOID = Sigmoid()  # the one home of sigma(z) = 1 / (1 + e^-z)


@register("binary_crossentropy", "bce")
class BinaryCrossentropy(Loss):
    keras_name = "BinaryCrossentropy"
    output_activation = "sigmoid"

    def units(self, classes):
        return 1 if classes == 2 else classes

    def targets(self, labels, classes, dtype="float64"):
        if classes == 2:
            return np.asarray(labels).reshape(-1, 1).astype(dtype)
        return super().targets(labels, classes, dtype)

    def from_one_hot(self, Y):
        return Y[:, 1:2] if Y.shape[1] == 2 else Y

    def predict(self, logits):
        if logits.shape[1] == 1:
            return (logits[:, 0] > 0).astype(np.int64)
        return logits.argmax(axis=1)

    def probabilities(self, z):
        return SIGMOID.value(z)

    def value(self, z, Y):
        losses = np.maximum(z, 0) - z * Y + np.log1p(np.exp(-np.abs(z)))
        return float(np.mean(np.mean(losses, axis=1)))

    def delta(self, z, Y):
        n, k = z.shape
        return (SIGMOID.value(z) - Y) / (n * k)
