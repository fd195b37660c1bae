"""Adam as most textbooks write it (Kingma & Ba, Algorithm 1).  No Keras twin.

For a parameter w with gradient g at learning rate lr, t = iterations + 1:

    m <- beta_1 * m + (1 - beta_1) * g
    v <- beta_2 * v + (1 - beta_2) * g**2
    m_hat = m / (1 - beta_1**t)
    v_hat = v / (1 - beta_2**t)
    w <- w - lr * m_hat / (sqrt(v_hat) + epsilon)

Algebraically this is Keras' Adam (adam.py) with epsilon replaced by
epsilon * sqrt(1 - beta_2**t): Keras' epsilon weighs more, up to
1/sqrt(1 - beta_2) ~ 32 times at the first step.  Where gradients are small
(sqrt(v) not far above epsilon) the two drift apart by far more than
rounding (8e-4 relative after 20 steps in tests/test_optimizers.py); even
elsewhere they do not agree to the last bit, because the operations differ.
Here every beta is used exactly (no float32 rounding).  It is here to be
compared, and to show by how much.
"""

from __future__ import annotations

import numpy as np

from .base import Optimizer, exact, register
from ..options import Option, non_negative
from .options import WEIGHT_DECAY, beta, learning_rate_option


@register("adam_textbook")
class AdamTextbook(Optimizer):
    keras_name = ""                    # no Keras twin
    OPTIONS = (learning_rate_option(0.001), Option("beta_1", beta, 0.9),
               Option("beta_2", beta, 0.999), Option("epsilon", non_negative, 1e-7),
               WEIGHT_DECAY)

    def slots(self):
        return ("m", "v")

    def constants(self, dtype):
        return {"beta_1": exact(self.beta_1, dtype), "beta_2": exact(self.beta_2, dtype),
                "1 - beta_1": exact(1 - self.beta_1, dtype),
                "1 - beta_2": exact(1 - self.beta_2, dtype),
                "epsilon": exact(self.epsilon, dtype)}

    def bias_corrections(self):
        """(1 - beta_1**t, 1 - beta_2**t), t = iterations + 1."""
        c = self.applied
        t = self.dtype.type(self.iterations + 1)
        return 1 - np.power(c["beta_1"], t), 1 - np.power(c["beta_2"], t)

    def update(self, w, g, lr, s):
        c = self.applied
        m, v = s["m"], s["v"]
        t, u = self.scratch(0, w), self.scratch(1, w)
        np.multiply(g, c["1 - beta_1"], out=t)     # m <- beta_1 * m + (1 - beta_1) * g
        m *= c["beta_1"]
        m += t
        np.square(g, out=t)                        # v <- beta_2 * v + (1 - beta_2) * g**2
        t *= c["1 - beta_2"]
        v *= c["beta_2"]
        v += t
        correction_1, correction_2 = self.bias_corrections()
        np.divide(v, correction_2, out=u)          # v_hat = v / (1 - beta_2**t)
        np.sqrt(u, out=u)                          # sqrt(v_hat) + epsilon
        u += c["epsilon"]
        np.divide(m, correction_1, out=t)          # m_hat = m / (1 - beta_1**t)
        t *= lr                                    # w <- w - lr * m_hat / (sqrt(v_hat) + epsilon)
        t /= u
        w -= t
