"""A book-style training loop: weights as one bias-row matrix per layer (bias in row 0),
sigmoid hidden layer, softmax output, mean cross-entropy, SGD with momentum in PyTorch's convention.  Correct (a convention)."""
import numpy as np

INPUTS = 12
LAYERS = [(8, "sigmoid"), (4, "softmax")]
LAYOUT = "bias_row"
OPTIMIZER = "sgd(learning_rate=0.5,momentum=0.9)"
LR = 0.5


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def prepend_bias(X):
    return np.insert(X, 0, 1, axis=1)


def train_step(X, Y, weights, state):
    w1, w2 = weights
    h = sigmoid(prepend_bias(X) @ w1)
    z = prepend_bias(h) @ w2
    y_hat = np.exp(z - z.max(axis=1, keepdims=True))
    y_hat /= y_hat.sum(axis=1, keepdims=True)
    loss = -np.sum(Y * np.log(y_hat)) / X.shape[0]
    w2_gradient = prepend_bias(h).T @ (y_hat - Y) / X.shape[0]
    delta = (y_hat - Y) @ w2[1:].T * h * (1 - h)
    w1_gradient = prepend_bias(X).T @ delta / X.shape[0]
    if state is None:
        state = [np.zeros_like(w1), np.zeros_like(w2)]
    state = [0.9 * v + g for v, g in zip(state, (w1_gradient, w2_gradient))]  # PyTorch's
    return [w1 - LR * state[0], w2 - LR * state[1]], state, loss
