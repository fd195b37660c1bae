"""Bug: the output error is not divided by the batch size, so every gradient is a sum."""
import numpy as np

INPUTS = 784
LAYERS = [(16, "relu"), (16, "relu"), (10, "softmax")]
LAYOUT = "separate"
REDUCTION = "mean"  # declared: a sum is then a bug (undeclared, it is the convention REDUCTION = "sum")


def relu(x):
    return np.maximum(x, 0.0)


def relu_deriv(x):
    return np.where(x > 0, 1.0, 0.0)


def softmax(x):
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def forward(X, weights):
    W1, b1, W2, b2, W3, b3 = weights
    h1 = relu(X @ W1 + b1)
    h2 = relu(h1 @ W2 + b2)
    return softmax(h2 @ W3 + b3)


def gradients(X, Y, weights):
    W1, b1, W2, b2, W3, b3 = weights
    m = X.shape[0]
    z1 = X @ W1 + b1
    h1 = relu(z1)
    z2 = h1 @ W2 + b2
    h2 = relu(z2)
    out = softmax(h2 @ W3 + b3)

    d3 = out - Y
    dW3 = h2.T @ d3
    db3 = d3.sum(axis=0)
    d2 = (d3 @ W3.T) * relu_deriv(z2)
    dW2 = h1.T @ d2
    db2 = d2.sum(axis=0)
    d1 = (d2 @ W2.T) * relu_deriv(z1)
    dW1 = X.T @ d1
    db1 = d1.sum(axis=0)
    return [dW1, db1, dW2, db2, dW3, db3]
