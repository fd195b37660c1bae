"""Nielsen-style: samples are columns, sigmoid everywhere, the quadratic cost
C = 1/2 sum_j (a_j - y_j)^2 per sample, averaged over the mini-batch."""
import numpy as np

INPUTS = 5
LAYERS = [(4, "sigmoid"), (4, "sigmoid"), (3, "sigmoid")]
LAYOUT = "column"
LOSS = "mse"
UNITS = "sum"
HALF = True


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def forward(X, weights):
    a = X
    for w, b in zip(weights[0::2], weights[1::2]):
        a = sigmoid(w @ a + b)
    return a


def gradients(X, Y, weights):
    ws, bs = weights[0::2], weights[1::2]
    activation, activations, zs = X, [X], []
    for w, b in zip(ws, bs):
        z = w @ activation + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    n = X.shape[1]
    delta = (activations[-1] - Y) * sigmoid_prime(zs[-1]) / n
    nabla_w, nabla_b = [None] * len(ws), [None] * len(ws)
    nabla_w[-1] = delta @ activations[-2].T
    nabla_b[-1] = delta.sum(axis=1, keepdims=True)
    for l in range(2, len(ws) + 1):
        delta = (ws[-l + 1].T @ delta) * sigmoid_prime(zs[-l])
        nabla_w[-l] = delta @ activations[-l - 1].T
        nabla_b[-l] = delta.sum(axis=1, keepdims=True)
    return [g for pair in zip(nabla_w, nabla_b) for g in pair]
