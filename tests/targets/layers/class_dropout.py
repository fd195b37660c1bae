"""Dropout as a per-layer class (the "from scratch" repository style), channels-last, made
fresh per configuration with the layer's options; it draws its own mask with NumPy.

BUG names one deliberate mistake (None: correct); tests copy the file with another BUG.
The checker never reads it: it sees only the numbers."""
import numpy as np

LAYER = "dropout(0.5)"
BUG = None


class Dropout:
    def __init__(self, config):
        self.rate = config["rate"]
        self.rng = np.random.default_rng(1)

    def forward(self, x, params, training):
        if not training:
            self.mask = 1.0
            if BUG == "dropout_scaled_at_inference":
                self.mask = 1 - self.rate
            if BUG == "dropout_scaled_in_both_modes":
                self.mask = 1 / (1 - self.rate)
            return x * self.mask, None
        keep = 1 - self.rate
        if BUG == "dropout_rate_as_keep_probability":
            keep = self.rate
        scale = 1 / keep
        if BUG in ("dropout_not_scaled", "dropout_scaled_at_inference"):
            scale = 1.0
        self.mask = (self.rng.random(x.shape) < keep) * scale
        return x * self.mask, None

    def backward(self, dout, cache):
        return dout * self.mask, {}


LAYER_CLASS = Dropout


def set_bug(name):
    """For the tests: switch the deliberate mistake within one process."""
    global BUG
    BUG = name
