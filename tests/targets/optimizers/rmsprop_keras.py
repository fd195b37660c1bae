"""RMSprop as Keras writes it: epsilon inside the square root.  Correct."""
import numpy as np

OPTIMIZER = "rmsprop(learning_rate=0.001,rho=0.9)"


def update(w, g, cache):
    if cache is None:
        cache = np.zeros_like(w)
    cache = 0.9 * cache + 0.1 * g ** 2
    return w - 0.001 * g / np.sqrt(cache + 1e-7), cache
