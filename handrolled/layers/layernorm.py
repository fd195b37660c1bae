"""LayerNormalization(epsilon=1e-3): every row normalized over its last axis (its
features; each pixel's channels after a convolution), then scaled and shifted per
feature, as keras.layers.LayerNormalization(axis=-1).

With mu and var the mean and *biased* variance of one row's N features:

    inv = gamma / sqrt(var + eps)
    y   = x inv + (beta - mu inv)          = gamma (x - mu) / sqrt(var + eps) + beta

(Keras' ops.layer_normalization, in its order of operations, the one
BatchNormalization uses too: normalization.py; gamma starts at 1 and beta at 0).
The same in training and inference: no moving statistics.

Backward.  mu and var depend on every feature of the row, so with
x_hat = (x - mu) / sqrt(var + eps) and dx_hat = dy gamma,

    dL/dbeta  = sum over the rows (and pixels) of dy
    dL/dgamma = sum over the rows (and pixels) of dy x_hat
    dL/dx     = (N dx_hat - sum_f dx_hat - x_hat sum_f dx_hat x_hat) / (N sqrt(var + eps))

where sum_f runs over the row's N features: BatchNormalization's formula with the
axes swapped (it normalizes each feature over the rows).

Keras twin: keras.layers.LayerNormalization(epsilon).
"""

from __future__ import annotations

import numpy as np

from ..options import Option
from .base import Layer, positive_number, register
from .normalization import normalize, standardized


def layernorm_forward(params, x, epsilon):
    """y = gamma (x - mu) / sqrt(var + eps) + beta over the last axis, computed as
    x inv + (beta - mu inv) with inv = gamma / sqrt(var + eps)."""
    mu = x.mean(axis=-1, keepdims=True)
    var = np.square(x - mu).mean(axis=-1, keepdims=True)        # biased: divided by N
    y = normalize(x, mu, var, params["gamma"], params["beta"], epsilon)
    return y, (x, mu, var)


def layernorm_backward(params, dy, cache, epsilon):
    """dL/dbeta = sum dy, dL/dgamma = sum dy x_hat (over rows and pixels), and
    dL/dx = (N dx_hat - sum_f dx_hat - x_hat sum_f dx_hat x_hat) / (N sqrt(var + eps))
    with dx_hat = dy gamma, the sums over each row's N features."""
    x, mu, var = cache
    n = x.shape[-1]
    x_hat, rstd = standardized(x, mu, var, epsilon)
    grads = {"gamma": (dy * x_hat).reshape(-1, n).sum(axis=0),
             "beta": dy.reshape(-1, n).sum(axis=0)}
    dx_hat = dy * params["gamma"]
    dx = (n * dx_hat - dx_hat.sum(axis=-1, keepdims=True)
          - x_hat * (dx_hat * x_hat).sum(axis=-1, keepdims=True)) * (rstd / n)
    return dx, grads


@register("layernorm", "layer_normalization")
class LayerNormalization(Layer):
    keras_name = "LayerNormalization"
    OPTIONS = (Option("epsilon", positive_number, 1e-3),)
    FUNCTIONS = (layernorm_forward, layernorm_backward)

    def build(self, input_shape):
        features = input_shape[-1]
        self.param_shapes = {"gamma": (features,), "beta": (features,)}
        return tuple(input_shape)

    def init_params(self, rng, scheme):
        features = self.param_shapes["gamma"]
        return {"gamma": np.ones(features), "beta": np.zeros(features)}

    def flops_per_row(self, first):
        return 0  # gamma and beta scale and shift: no product
