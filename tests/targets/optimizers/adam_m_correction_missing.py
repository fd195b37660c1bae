"""Adam exactly as Kingma & Ba's Algorithm 1 writes it (epsilon after the bias
correction), as most "from scratch" code does.  Bug: m's bias correction is missing."""
import numpy as np

OPTIMIZER = "adam(learning_rate=0.001)"
LR, BETA1, BETA2, EPS = 0.001, 0.9, 0.999, 1e-7


def update(w, g, state):
    if state is None:
        state = {"m": np.zeros_like(w), "v": np.zeros_like(w), "t": 0}
    state["t"] += 1
    state["m"] = BETA1 * state["m"] + (1 - BETA1) * g
    state["v"] = BETA2 * state["v"] + (1 - BETA2) * g * g
    m_hat = state["m"]                    # BUG: m is not bias-corrected
    v_hat = state["v"] / (1 - BETA2 ** state["t"])
    return w - LR * m_hat / (np.sqrt(v_hat) + EPS), state
