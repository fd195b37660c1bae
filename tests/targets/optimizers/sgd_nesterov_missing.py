"""Nesterov momentum in the CS231n form: v = mu v - lr dw; w += -mu v_prev + (1 + mu) v.
Bug: the update is plain momentum, not' w += mu m - lr g."""
import numpy as np

OPTIMIZER = "sgd(learning_rate=0.05,momentum=0.9,nesterov=true)"
MU, LR = 0.9, 0.05


def update(w, dw, config):
    v_prev = np.zeros_like(w) if config is None else config
    v = MU * v_prev - LR * dw
    return w + v, v                         # BUG: plain momentum
