"""Categorical cross-entropy with a softmax output: the book's loss, and the default.

    log p = log_softmax(z)                  (handrolled/loss.py: shifted by the row max)
    L     = -(1/n) sum_i sum_j Y_ij log p_ij
    dL/dz = (p - Y) / n                     eq. 3

Keras twin: keras.losses.CategoricalCrossentropy(from_logits=True).
"""

from __future__ import annotations

import numpy as np

from .. import loss as formulas
from .base import Loss, register


@register("categorical_crossentropy", "cce", "crossentropy")
class CategoricalCrossentropy(Loss):
    keras_name = "CategoricalCrossentropy"
    output_activation = "softmax"

    def output(self, logits):
        return formulas.log_softmax(logits)

    def probabilities(self, logits):
        return formulas.softmax(logits)

    def value(self, log_p, Y):
        return formulas.mean_cross_entropy(log_p, Y)

    def delta(self, log_p, Y):
        return formulas.grad_logits(np.exp(log_p), Y)  # eq. 3
