"""BatchNormalization(momentum=0.99, epsilon=1e-3): per feature, or per channel after a
convolution (the statistics run over every axis but the last).

Training mode, with mu and var the batch's mean and *biased* variance:

    inv = gamma / sqrt(var + eps)
    y   = x inv + (beta - mu inv)            = gamma (x - mu) / sqrt(var + eps) + beta
    moving_mean     <- moving_mean momentum + mu  (1 - momentum)
    moving_variance <- moving_variance momentum + var (1 - momentum)

(the order of operations of TensorFlow's batch_normalization and of Keras'
moving-average update; the moving statistics start at mean 0 and variance 1,
gamma at 1 and beta at 0).  Inference mode (evaluation, prediction) uses the
moving statistics in place of mu and var and updates nothing.

Backward in training mode is the full batch-statistics gradient: mu and var
depend on every row, so with x_hat = (x - mu) / sqrt(var + eps) and m rows
(times pixels) per feature,

    dL/dbeta  = sum dy                  dL/dgamma = sum dy x_hat
    dL/dx     = gamma / (m sqrt(var + eps)) (m dy - dL/dbeta - x_hat dL/dgamma)

and in inference mode simply dL/dx = dy inv.

Keras twin: keras.layers.BatchNormalization(momentum, epsilon).
"""

from __future__ import annotations

import numpy as np

from ..options import Option
from .base import Layer, positive_number, rate, register
from .normalization import normalize, standardized


def feature_sum(a: np.ndarray) -> np.ndarray:
    """The sum over every axis but the last, one feature at a time.

    Each feature's m values are laid out contiguously first, so NumPy sums them
    pairwise (error ~ eps log m); summing over the leading axes directly adds them
    one by one (error ~ eps m), which after a convolution (m = 32 x 26 x 26 =
    21,632 values per channel) was measured 4x less accurate than TensorFlow's."""
    return np.ascontiguousarray(a.reshape(-1, a.shape[-1]).T).sum(axis=1)


def batch_statistics(x):
    """The batch's mean mu and *biased* variance var per feature (m values each)."""
    m = x.size // x.shape[-1]
    mu = feature_sum(x) / m
    var = feature_sum(np.square(x - mu)) / m               # biased: divided by m
    return mu, var


def batchnorm_forward(params, x, epsilon, training, statistics=batch_statistics):
    """y = gamma (x - mu) / sqrt(var + eps) + beta, computed as x inv + (beta - mu inv)
    with inv = gamma / sqrt(var + eps): the batch's statistics in training, the moving
    ones in inference.  The cache keeps the moving statistics it started from."""
    if training:
        mu, var = statistics(x)
    else:
        mu, var = params["moving_mean"], params["moving_variance"]
    y = normalize(x, mu, var, params["gamma"], params["beta"], epsilon)
    moving = (params["moving_mean"], params["moving_variance"]) if training else None
    return y, (x, mu, var, moving)


def moving_averages(cache, momentum):
    """moving <- moving momentum + batch (1 - momentum), for the mean and the variance,
    after a training step ({} after an inference pass: nothing changes)."""
    _, mu, var, moving = cache
    if moving is None:
        return {}
    mean, variance = moving
    return {"moving_mean": mean * momentum + mu * (1.0 - momentum),
            "moving_variance": variance * momentum + var * (1.0 - momentum)}


def batchnorm_backward(params, dy, cache, epsilon, input_gradient=True):
    """With x_hat = (x - mu) / sqrt(var + eps):  dL/dbeta = sum dy, dL/dgamma = sum dy x_hat,
    dL/dx = gamma / (m sqrt(var + eps)) (m dy - dL/dbeta - x_hat dL/dgamma) in training
    (mu and var depend on every row), dL/dx = dy gamma / sqrt(var + eps) in inference."""
    x, mu, var, moving = cache
    training = moving is not None
    x_hat, rstd = standardized(x, mu, var, epsilon)
    grads = {"gamma": feature_sum(dy * x_hat), "beta": feature_sum(dy)}
    if not input_gradient:
        return None, grads
    gamma = params["gamma"]
    if not training:
        return dy * (rstd * gamma), grads
    m = x.size // x.shape[-1]
    dx = (gamma * rstd / m) * (m * dy - grads["beta"] - x_hat * grads["gamma"])
    return dx, grads


@register("batchnorm", "batch_normalization", "bn")
class BatchNormalization(Layer):
    keras_name = "BatchNormalization"
    TRAINING_MODE = True
    OPTIONS = (Option("momentum", rate, 0.99), Option("epsilon", positive_number, 1e-3))

    def build(self, input_shape):
        features = input_shape[-1]
        self.param_shapes = {"gamma": (features,), "beta": (features,)}
        self.state_shapes = {"moving_mean": (features,), "moving_variance": (features,)}
        return tuple(input_shape)

    def init_params(self, rng, scheme):
        features = self.param_shapes["gamma"]
        return {"gamma": np.ones(features), "beta": np.zeros(features)}

    def init_state(self):
        features = self.state_shapes["moving_mean"]
        return {"moving_mean": np.zeros(features), "moving_variance": np.ones(features)}

    def forward(self, params, x, training=False):
        return batchnorm_forward(params, x, self.epsilon, training, self.batch_statistics)

    def batch_statistics(self, x):
        """mu and var of a training batch (a pitfall overrides this one function)."""
        return batch_statistics(x)

    def state_updates(self, cache):
        return moving_averages(cache, self.momentum)

    def backward(self, params, dy, cache, input_gradient=True):
        return batchnorm_backward(params, dy, cache, self.epsilon, input_gradient)

    def flops_per_row(self, first):
        return 0  # gamma and beta scale and shift: no product
