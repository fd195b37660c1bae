"""AdamW over a dict (FORM = "dict"): decoupled weight decay, then Adam.  Correct."""
import numpy as np

OPTIMIZER = "adamw(learning_rate=0.001,weight_decay=0.01)"
FORM = "dict"
LR, WD, B1, B2, EPS = 0.001, 0.01, 0.9, 0.999, 1e-7


def update(params, grads, state):
    if state is None:
        state = {"t": 0, "m": {k: np.zeros_like(w) for k, w in params.items()},
                 "v": {k: np.zeros_like(w) for k, w in params.items()}}
    state["t"] += 1
    t = state["t"]
    new = {}
    for k, w in params.items():
        g = grads[k]
        w = w - LR * WD * w                       # decoupled: straight on the weights
        state["m"][k] = B1 * state["m"][k] + (1 - B1) * g
        state["v"][k] = B2 * state["v"][k] + (1 - B2) * g * g
        alpha = LR * np.sqrt(1 - B2 ** t) / (1 - B1 ** t)
        new[k] = w - alpha * state["m"][k] / (np.sqrt(state["v"][k]) + EPS)
    return new, state
