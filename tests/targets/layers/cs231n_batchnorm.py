"""Batch normalization in CS231n's function style (the "alternative" backward, as a learner
derives it), channels-first: (N, D) rows or (N, C, H, W) images, normalized per channel.

BUG names one deliberate mistake (None: correct); tests copy the file with another BUG.
The checker never reads it: it sees only the numbers."""
import numpy as np

LAYER = "batchnorm"
DATA_FORMAT = "channels_first"
PARAM_NAMES = {"moving_mean": "running_mean", "moving_variance": "running_var"}
BUG = None
MOMENTUM, EPS = 0.99, 1e-3


def stats_axes(x):
    if x.ndim == 4 and BUG == "batchnorm_per_position":
        return (0,)
    return (0, 2, 3) if x.ndim == 4 else (0,)


def shaped(v, x):
    return v[None, :, None, None] if x.ndim == 4 else v


def forward(x, params, training):
    gamma, beta = shaped(params["gamma"], x), shaped(params["beta"], x)
    axes = stats_axes(x)
    m = x.size // np.prod([x.shape[a] for a in range(x.ndim) if a not in axes])
    if training or BUG == "batchnorm_inference_batch_statistics":
        mu = x.mean(axis=axes, keepdims=True)
        var = ((x - mu) ** 2).sum(axis=axes, keepdims=True) / (
            m - 1 if BUG == "batchnorm_unbiased_variance" else m)
    else:
        mu, var = shaped(params["running_mean"], x), shaped(params["running_var"], x)
    std = np.sqrt(var) + EPS if BUG == "batchnorm_eps_outside_sqrt" else np.sqrt(var + EPS)
    x_hat = (x - mu) / std
    out = gamma * x_hat + beta
    state = None
    if training:
        per_channel = lambda v: v.mean(axis=(0, 2, 3)) if v.ndim == 4 else v.ravel()
        batch_var = ((x - mu) ** 2).sum(axis=axes, keepdims=True) / (
            m - 1 if BUG in ("batchnorm_unbiased_variance",
                             "batchnorm_unbiased_moving_variance") else m)
        keep, new = MOMENTUM, 1 - MOMENTUM
        if BUG == "batchnorm_momentum_reversed":
            keep, new = new, keep
        fresh = np.all(params["running_mean"] == 0) and np.all(params["running_var"] == 1)
        if BUG == "batchnorm_first_batch_start" and fresh:     # "not yet initialised"
            keep, new = 0.0, 1.0
        state = {"running_mean": params["running_mean"] * keep + per_channel(mu) * new,
                 "running_var": params["running_var"] * keep + per_channel(batch_var) * new}
    return out, (x, x_hat, std, gamma, axes, m, training), state


def backward(dout, cache):
    x, x_hat, std, gamma, axes, m, training = cache
    sum_axes = (0, 2, 3) if x.ndim == 4 else (0,)
    grads = {"gamma": (dout * x_hat).sum(axis=sum_axes), "beta": dout.sum(axis=sum_axes)}
    if not training and BUG != "batchnorm_inference_batch_statistics":
        return dout * gamma / std, grads
    dx_hat = dout * gamma
    mean_term = dx_hat.mean(axis=axes, keepdims=True)
    var_term = x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)
    if BUG == "batchnorm_no_mean_term":
        mean_term = 0.0
    if BUG == "batchnorm_no_variance_term":
        var_term = 0.0
    if BUG == "batchnorm_unbiased_variance":
        var_term = var_term * m / (m - 1)
    if BUG == "batchnorm_eps_outside_sqrt":
        s = std - EPS
        var_term = x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True) * std / s
    return (dx_hat - mean_term - var_term) / std, grads


def set_bug(name):
    """For the tests: switch the deliberate mistake within one process."""
    global BUG
    BUG = name
