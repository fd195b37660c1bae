"""Regression-style: a linear output with Keras' mean squared error (the mean over the
output units and the batch), bias-row layout."""
import numpy as np

INPUTS = 5
LAYERS = [(4, "softplus"), (3, "linear")]
LAYOUT = "bias_row"
LOSS = "mse"


def ones_first(x):
    return np.hstack([np.ones((len(x), 1)), x])


def forward(X, weights):
    w1, w2 = weights
    return ones_first(np.log1p(np.exp(ones_first(X) @ w1))) @ w2


def gradients(X, Y, weights):
    w1, w2 = weights
    x1 = ones_first(X)
    z1 = x1 @ w1
    x2 = ones_first(np.log1p(np.exp(z1)))
    out = x2 @ w2
    delta2 = 2 * (out - Y) / Y.size                  # d/dz of mean((z - y)^2)
    delta1 = (delta2 @ w2[1:].T) / (1 + np.exp(-z1))  # softplus' = sigmoid
    return [x1.T @ delta1, x2.T @ delta2]
