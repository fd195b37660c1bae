"""CS231n-style layer functions (affine / relu / softmax_loss, each forward with a
cache and a backward) and a two-layer net whose loss adds 0.5 * reg * sum(W^2)."""
import numpy as np

INPUTS = 5
LAYERS = [(4, "relu"), (3, "softmax")]
LAYOUT = "separate"
REG = 0.02
REGULARIZATION = "l2(0.01)"          # 0.5 * reg * sum(W^2) is Keras' l2(reg / 2)


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def softmax_loss(scores, y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = scores.shape[0]
    loss = -log_probs[np.arange(n), y].mean()
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1
    return loss, dscores / n


def loss_and_grads(X, y, W1, b1, W2, b2):
    hidden, cache1 = affine_forward(X, W1, b1)
    h, cache_relu = relu_forward(hidden)
    scores, cache2 = affine_forward(h, W2, b2)
    data_loss, dscores = softmax_loss(scores, y)
    loss = data_loss + 0.5 * REG * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dh, dW2, db2 = affine_backward(dscores, cache2)
    dhidden = relu_backward(dh, cache_relu)
    _, dW1, db1 = affine_backward(dhidden, cache1)
    return loss, [dW1 + REG * W1, db1, dW2 + REG * W2, db2]


def gradients(X, Y, weights):
    return loss_and_grads(X, Y.argmax(axis=1), *weights)[1]


def forward(X, weights):
    W1, b1, W2, b2 = weights
    scores = np.maximum(0, X @ W1 + b1) @ W2 + b2
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
