"""Nielsen-style network (samples are columns, sigmoid layers, the quadratic cost with its 1/2,
summed over the output units): a passing check target, docs/checking/network.md."""
import numpy as np

INPUTS = 784
LAYERS = [(30, "sigmoid"), (10, "sigmoid")]
LAYOUT = "column"          # X is (784, n), Y (10, n), W (n_out, n_in), b (n_out, 1)
LOSS = "mse"               # the quadratic cost ...
UNITS = "sum"              # ... summed over the 10 output units
HALF = True                # ... with its 1/2: C = 1/2 sum_j (a_j - y_j)^2, averaged over the batch


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
    grads = []
    for l in range(len(ws), 0, -1):
        grads = [delta @ activations[l - 1].T, delta.sum(axis=1, keepdims=True)] + grads
        if l > 1:
            delta = (ws[l - 1].T @ delta) * sigmoid_prime(zs[l - 2])
    return grads
