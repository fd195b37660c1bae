"""Adagrad: each parameter's step shrinks with the sum of its squared gradients.

Keras' order (keras/src/optimizers/adagrad.py), for w with gradient g at lr:

    acc <- acc + g**2                 acc starts at initial_accumulator_value
    w   <- w - (lr * g) / sqrt(acc + epsilon)

The starting value goes through `initializers.Constant`, i.e.
`ops.cast(value, dtype)`: rounded to float32 first, even in a float64 model
(0.1 starts as 0.10000000149011612).  epsilon is exact.
"""

from __future__ import annotations

import numpy as np

from .base import Optimizer, exact, register
from ..options import Option, non_negative
from .options import WEIGHT_DECAY, learning_rate_option


@register("adagrad")
class Adagrad(Optimizer):
    keras_name = "Adagrad"
    OPTIONS = (learning_rate_option(0.001),
               Option("initial_accumulator_value", non_negative, 0.1),
               Option("epsilon", non_negative, 1e-7), WEIGHT_DECAY)

    def slots(self):
        return ("acc",)

    def initial_slot(self, slot, shape, dtype):
        return np.full(shape, self.keras_cast(self.initial_accumulator_value, dtype), dtype=dtype)

    def constants(self, dtype):
        return {"initial_accumulator_value": self.keras_cast(self.initial_accumulator_value, dtype),
                "epsilon": exact(self.epsilon, dtype)}

    def root(self, acc, out):
        """sqrt(acc + epsilon) into `out`: Keras' epsilon is inside the root."""
        np.add(acc, self.applied["epsilon"], out=out)
        return np.sqrt(out, out=out)

    def update(self, w, g, lr, s):
        acc = s["acc"]
        t, u = self.scratch(0, w), self.scratch(1, w)
        np.square(g, out=t)                        # acc <- acc + g**2
        acc += t
        root = self.root(acc, t)                   # w <- w - (lr * g) / sqrt(acc + epsilon)
        np.multiply(g, lr, out=u)
        u /= root
        w -= u
