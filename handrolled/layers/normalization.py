"""What BatchNormalization and LayerNormalization share: the normalization itself.

    x_hat = (x - mu) / sqrt(var + eps)
    y     = gamma x_hat + beta        computed as  x inv + (beta - mu inv),
                                                   inv = gamma / sqrt(var + eps)

(the order of operations of TensorFlow's batch_normalization and of Keras'
layer_normalization).  The two layers differ only in the axes mu and var run
over: each feature over the rows (batch norm) or each row over its features
(layer norm).
"""

from __future__ import annotations

import numpy as np


def normalize(x, mu, var, gamma, beta, epsilon):
    """y = gamma (x - mu) / sqrt(var + eps) + beta, as x inv + (beta - mu inv) with
    inv = gamma / sqrt(var + eps)."""
    inv = 1 / np.sqrt(var + epsilon) * gamma
    return x * inv + (beta - mu * inv)


def standardized(x, mu, var, epsilon):
    """x_hat = (x - mu) / sqrt(var + eps), and rstd = 1 / sqrt(var + eps)."""
    rstd = 1 / np.sqrt(var + epsilon)
    return (x - mu) * rstd, rstd
