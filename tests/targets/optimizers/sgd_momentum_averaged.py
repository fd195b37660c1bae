"""SGD with momentum as an exponential average (v = mu v + (1 - mu) g): not Keras' SGD."""
import numpy as np

OPTIMIZER = "sgd(learning_rate=0.1,momentum=0.9)"


def update(w, g, v):
    if v is None:
        v = np.zeros_like(w)
    v = 0.9 * v + (1 - 0.9) * g
    return w - 0.1 * v, v
