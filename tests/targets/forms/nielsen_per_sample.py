"""Nielsen-style per-sample backprop (one column at a time), served through a small
`gradients` wrapper: a tanh hidden layer, sigmoid outputs, the cross-entropy cost
summed over the output units."""
import numpy as np

INPUTS = 5
LAYERS = [(4, "tanh"), (3, "sigmoid")]
LAYOUT = "column"
LOSS = "binary_crossentropy"
UNITS = "sum"


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(x, y, weights):
    """One sample x (INPUTS, 1), y (3, 1): the gradients of
    C = -sum_j [y_j ln a_j + (1 - y_j) ln(1 - a_j)]."""
    w1, b1, w2, b2 = weights
    z1 = w1 @ x + b1
    h = np.tanh(z1)
    a = sigmoid(w2 @ h + b2)
    delta2 = a - y                                   # the sigmoid's derivative cancels
    delta1 = (w2.T @ delta2) * (1 - h ** 2)
    return [delta1 @ x.T, delta1, delta2 @ h.T, delta2]


def gradients(X, Y, weights):
    """The mean over the batch of the per-sample gradients."""
    n = X.shape[1]
    total = [np.zeros_like(w) for w in weights]
    for i in range(n):
        for t, g in zip(total, backprop(X[:, i:i + 1], Y[:, i:i + 1], weights)):
            t += g
    return [t / n for t in total]


def forward(X, weights):
    w1, b1, w2, b2 = weights
    return sigmoid(w2 @ np.tanh(w1 @ X + b1) + b2)
