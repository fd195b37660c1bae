"""The book's network with sigmoid replaced by ReLU -- and a real learner's bug.

The book's `sigmoid_gradient` takes the layer's *output* h (sigmoid'(z) =
h (1 - h)), so `back` passes it h.  Swapping in ReLU, the reader wrote
`relu_gradient(z) = (z >= 0) * 1` and kept passing h: since h = relu(z) is
never negative, the "derivative" is 1 everywhere and the hidden layer
backpropagates as if it were linear (95% accuracy instead of 98.6%).

    nn-compare check examples/book_network_relu_bug.py     # exit 1, names the bug
"""

import numpy as np

INPUTS = 784
LAYERS = [(100, "relu"), (10, "softmax")]
LAYOUT = "bias_row"


def relu(z):
    return np.maximum(z, 0)


def relu_gradient(z):
    return (z >= 0) * 1


def softmax(logits):
    exponentials = np.exp(logits)
    return exponentials / np.sum(exponentials, axis=1).reshape(-1, 1)


def loss(Y, y_hat):
    return -np.sum(Y * np.log(y_hat)) / Y.shape[0]


def prepend_bias(X):
    return np.insert(X, 0, 1, axis=1)


def forward_pass(X, w1, w2):
    h = relu(np.matmul(prepend_bias(X), w1))
    y_hat = softmax(np.matmul(prepend_bias(h), w2))
    return (y_hat, h)


def back(X, Y, y_hat, w2, h):
    w2_gradient = np.matmul(prepend_bias(h).T, (y_hat - Y)) / X.shape[0]
    w1_gradient = np.matmul(prepend_bias(X).T, np.matmul(y_hat - Y, w2[1:].T)
                            * relu_gradient(h)) / X.shape[0]   # the bug: h, not the input of relu
    return (w1_gradient, w2_gradient)


# ---------------------------------------------------------------- the check contract

def gradients(X, Y, weights):
    w1, w2 = weights
    y_hat, h = forward_pass(X, w1, w2)
    return list(back(X, Y, y_hat, w2, h))


def forward(X, weights):
    y_hat, _ = forward_pass(X, *weights)
    return y_hat
