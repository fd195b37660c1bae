"""Adam in the CS231n function style: adam(w, dw, config) -> (next_w, config).
Bug: (1 - beta) where (1 - beta**t) belongs. Otherwise as in Keras' defaults (epsilon 1e-7).  Adapted with two lines: OPTIMIZER, update."""
import numpy as np


def adam(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-7)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    config["t"] += 1
    b1, b2, t = config["beta1"], config["beta2"], config["t"]
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * dw ** 2
    alpha = config["learning_rate"] * np.sqrt(1 - b2) / (1 - b1)   # BUG: (1 - beta) for (1 - beta**t)
    next_w = w - alpha * config["m"] / (np.sqrt(config["v"]) + config["epsilon"])
    return next_w, config


OPTIMIZER = "adam(learning_rate=0.001)"
update = adam
