"""The book's bias-row network with weight decay in its loss: J = CE + lam/2 * sum(w^2) over
the weights, not the bias row.  lam/2 * sum(w^2) is Keras' l2(lam / 2)."""
import numpy as np

INPUTS = 5
LAYERS = [(4, "sigmoid"), (3, "softmax")]
LAYOUT = "bias_row"
LAMBDA = 0.01
REGULARIZATION = "l2(0.005)"


def add_bias(x):
    return np.hstack([np.ones((x.shape[0], 1)), x])


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(X, weights):
    w1, w2 = weights
    h = sigmoid(add_bias(X) @ w1)
    return softmax(add_bias(h) @ w2)


def gradients(X, Y, weights):
    w1, w2 = weights
    n = X.shape[0]
    x1 = add_bias(X)
    h = sigmoid(x1 @ w1)
    x2 = add_bias(h)
    y_hat = softmax(x2 @ w2)
    delta2 = (y_hat - Y) / n
    grad_w2 = x2.T @ delta2
    delta1 = (delta2 @ w2[1:].T) * h * (1 - h)
    grad_w1 = x1.T @ delta1
    for w, g in ((w1, grad_w1), (w2, grad_w2)):
        g[1:] += LAMBDA * w[1:]          # d/dw of lam/2 * sum(w^2); the bias row is not decayed
    return [grad_w1, grad_w2]
