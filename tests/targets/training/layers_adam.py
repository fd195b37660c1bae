"""A class-per-layer network ("from scratch" style) trained with a hand-written Adam,
no L2.  Weights in Keras' layout: W (n_in, n_out) then b (n_out,) per layer.  Correct."""
import numpy as np

INPUTS = 12
LAYERS = [(8, "relu"), (4, "softmax")]
LAYOUT = "separate"
OPTIMIZER = "adam(learning_rate=0.01)"


class Dense:
    def forward(self, x, W, b):
        self.x = x
        return x @ W + b

    def backward(self, dout, W):
        return dout @ W.T, self.x.T @ dout, dout.sum(axis=0)


class ReLU:
    def forward(self, z):
        self.mask = z > 0
        return z * self.mask

    def backward(self, dout):
        return dout * self.mask


class Adam:
    def __init__(self, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-7):
        self.lr, self.beta1, self.beta2, self.eps, self.t = lr, beta1, beta2, eps, 0
        self.m = self.v = None

    def step(self, params, grads):
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        lr_t = self.lr * np.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        out = []
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m += (1 - self.beta1) * (g - m)
            v += (1 - self.beta2) * (g * g - v)
            out.append(p - lr_t * m / (np.sqrt(v) + self.eps))
        return out


def train_step(X, Y, weights, state):
    if state is None:
        state = {"layers": [Dense(), ReLU(), Dense()], "adam": Adam()}
    dense1, relu, dense2 = state["layers"]
    W1, b1, W2, b2 = weights
    z = dense2.forward(relu.forward(dense1.forward(X, W1, b1)), W2, b2)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(Y * np.log(p), axis=1))
    dz = (p - Y) / X.shape[0]
    dh, dW2, db2 = dense2.backward(dz, W2)
    _, dW1, db1 = dense1.backward(relu.backward(dh), W1)
    weights = state["adam"].step([W1, b1, W2, b2], [dW1, db1, dW2, db2])
    return weights, state, loss
