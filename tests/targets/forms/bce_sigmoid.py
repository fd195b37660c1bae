"""Binary cross-entropy with three independent sigmoid outputs (multi-label), Keras'
convention: the mean over the output units and over the batch."""
import numpy as np

INPUTS = 5
LAYERS = [(4, "relu"), (3, "sigmoid")]
LAYOUT = "separate"
LOSS = "binary_crossentropy"


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward(X, weights):
    W1, b1, W2, b2 = weights
    return sigmoid(np.maximum(X @ W1 + b1, 0) @ W2 + b2)


def gradients(X, Y, weights):
    W1, b1, W2, b2 = weights
    z1 = X @ W1 + b1
    h = np.maximum(z1, 0)
    a = sigmoid(h @ W2 + b2)
    delta2 = (a - Y) / Y.size               # mean over units and rows; sigmoid' cancels
    delta1 = (delta2 @ W2.T) * (z1 > 0)
    return [X.T @ delta1, delta1.sum(axis=0), h.T @ delta2, delta2.sum(axis=0)]
