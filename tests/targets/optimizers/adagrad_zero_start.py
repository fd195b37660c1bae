"""Adagrad starting from 0 where Keras starts at 0.1."""
import numpy as np

OPTIMIZER = "adagrad(learning_rate=0.01)"


def update(w, g, acc):
    if acc is None:
        acc = np.zeros_like(w)                    # as PyTorch and CS231n start
    acc = acc + g * g
    return w - 0.01 * g / np.sqrt(acc + 1e-7), acc
