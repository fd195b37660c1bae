"""Adagrad with Keras' starting accumulator (0.1) and epsilon inside the root.  Correct."""
import numpy as np

OPTIMIZER = "adagrad(learning_rate=0.01)"


def update(w, g, acc):
    if acc is None:
        acc = np.full_like(w, 0.1)
    acc = acc + g * g
    return w - 0.01 * g / np.sqrt(acc + 1e-7), acc
