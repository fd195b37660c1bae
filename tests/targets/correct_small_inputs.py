"""Correct: 6 inputs, 3 classes (no dataset has that shape: the checker makes a batch)."""
import numpy as np

INPUTS = 6
LAYERS = [(5, "sigmoid"), (4, "relu"), (3, "softmax")]
LAYOUT = "bias_row"


def with_bias(a):
    return np.insert(a, 0, 1.0, axis=1)


def gradients(X, Y, weights):
    w1, w2, w3 = weights
    z1 = with_bias(X) @ w1
    h1 = 1.0 / (1.0 + np.exp(-z1))
    z2 = with_bias(h1) @ w2
    h2 = np.maximum(z2, 0)
    z3 = with_bias(h2) @ w3
    y_hat = np.exp(z3) / np.exp(z3).sum(axis=1, keepdims=True)

    e3 = (y_hat - Y) / X.shape[0]
    e2 = (e3 @ w3[1:].T) * (z2 > 0)
    e1 = (e2 @ w2[1:].T) * h1 * (1 - h1)
    return [with_bias(X).T @ e1, with_bias(h1).T @ e2, with_bias(h2).T @ e3]
