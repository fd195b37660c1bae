"""Adam, in Keras' form (keras/src/optimizers/adam.py).

For a parameter w with gradient g at learning rate lr, with t = iterations + 1:

    alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)      the bias corrections, folded
    m <- m + (g - m) * (1 - beta_1)                         m, v start at 0
    v <- v + (g**2 - v) * (1 - beta_2)
    amsgrad:  v_hat <- max(v_hat, v), and v_hat replaces v below
    w <- w - (m * alpha) / (sqrt(v) + epsilon)

This is the paper's "epsilon-hat" form (Kingma & Ba, end of section 2):
epsilon is added to sqrt(v), not to sqrt(v / (1 - beta_2**t)) as in the
textbook m_hat / (sqrt(v_hat) + epsilon) (see adam_textbook.py for how far
apart they drift).

Roundings: beta_1 and beta_2 inside the powers are `ops.cast(beta, dtype)`,
rounded to float32 first even in a float64 model (0.999 becomes
0.9990000128746033); 1 - beta_1, 1 - beta_2 and epsilon are exact.  The powers
are C's pow, as TensorFlow's.
"""

from __future__ import annotations

import numpy as np

from .base import Optimizer, exact, register
from ..options import Option, boolean, non_negative
from .options import WEIGHT_DECAY, beta, learning_rate_option


@register("adam")
class Adam(Optimizer):
    keras_name = "Adam"
    OPTIONS = (learning_rate_option(0.001), Option("beta_1", beta, 0.9),
               Option("beta_2", beta, 0.999), Option("epsilon", non_negative, 1e-7),
               Option("amsgrad", boolean, False), WEIGHT_DECAY)

    def slots(self):
        return ("m", "v", "v_hat") if self.amsgrad else ("m", "v")

    def constants(self, dtype):
        return {"beta_1 (in beta_1**t)": self.keras_cast(self.beta_1, dtype),
                "beta_2 (in beta_2**t)": self.keras_cast(self.beta_2, dtype),
                "1 - beta_1": exact(1 - self.beta_1, dtype),
                "1 - beta_2": exact(1 - self.beta_2, dtype),
                "epsilon": exact(self.epsilon, dtype)}

    def bias_corrections(self):
        """(1 - beta_1**t, 1 - beta_2**t), t = iterations + 1: what m and v are divided by."""
        c = self.applied
        t = self.dtype.type(self.iterations + 1)
        beta_1_power = np.power(c["beta_1 (in beta_1**t)"], t)
        beta_2_power = np.power(c["beta_2 (in beta_2**t)"], t)
        return 1 - beta_1_power, 1 - beta_2_power

    def step_size(self, lr):
        """alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t), t = iterations + 1."""
        correction_1, correction_2 = self.bias_corrections()
        return lr * np.sqrt(correction_2) / correction_1

    def update(self, w, g, lr, s):
        c = self.applied
        alpha = self.step_size(lr)
        m, v = s["m"], s["v"]
        t, u = self.scratch(0, w), self.scratch(1, w)
        np.subtract(g, m, out=t)                   # m <- m + (g - m) * (1 - beta_1)
        t *= c["1 - beta_1"]
        m += t
        np.square(g, out=t)                        # v <- v + (g**2 - v) * (1 - beta_2)
        t -= v
        t *= c["1 - beta_2"]
        v += t
        if self.amsgrad:
            np.maximum(s["v_hat"], v, out=s["v_hat"])
            v = s["v_hat"]
        np.sqrt(v, out=u)                          # w <- w - (m * alpha) / (sqrt(v) + epsilon)
        u += c["epsilon"]
        np.multiply(m, alpha, out=t)
        t /= u
        w -= t
