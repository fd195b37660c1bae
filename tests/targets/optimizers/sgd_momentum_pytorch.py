"""SGD with momentum written as PyTorch does: v = mu v + g; w -= lr v.  A convention."""
import numpy as np

OPTIMIZER = "sgd(learning_rate=0.1,momentum=0.9)"


def update(w, g, v):
    if v is None:
        v = np.zeros_like(w)
    v = 0.9 * v + g
    return w - 0.1 * v, v
