"""RMSprop: divide the gradient by a running root mean square of its past values.

Keras' order (keras/src/optimizers/rmsprop.py), for a parameter w with
gradient g at learning rate lr:

    v <- rho * v + (1 - rho) * g**2                       v starts at 0
    centered:  g_avg <- rho * g_avg + (1 - rho) * g       g_avg starts at 0
               denominator = (v - g_avg**2) + epsilon
    else:      denominator = v + epsilon
    increment = (lr * g) / sqrt(denominator)              epsilon INSIDE the root
    momentum > 0:  mom <- momentum * mom + increment;  w <- w - mom
    else:          w <- w - increment

No bias correction.  rho, 1 - rho, momentum and epsilon enter the ops as
Python floats, so they are exact in float64 (no float32 rounding here).
"""

from __future__ import annotations

import numpy as np

from .base import Optimizer, exact, register
from ..options import Option, boolean, non_negative
from .options import WEIGHT_DECAY, learning_rate_option, unit_interval


@register("rmsprop")
class RMSprop(Optimizer):
    keras_name = "RMSprop"
    OPTIONS = (learning_rate_option(0.001), Option("rho", unit_interval, 0.9),
               Option("momentum", non_negative, 0.0), Option("epsilon", non_negative, 1e-7),
               Option("centered", boolean, False), WEIGHT_DECAY)

    def slots(self):
        return (("v",) + (("mom",) if self.momentum > 0 else ())
                + (("g_avg",) if self.centered else ()))

    def constants(self, dtype):
        return {"rho": exact(self.rho, dtype), "1 - rho": exact(1 - self.rho, dtype),
                "momentum": exact(self.momentum, dtype), "epsilon": exact(self.epsilon, dtype)}

    def root(self, mean_square, out):
        """sqrt(mean_square + epsilon) into `out`: Keras' epsilon is inside the root."""
        np.add(mean_square, self.applied["epsilon"], out=out)
        return np.sqrt(out, out=out)

    def update(self, w, g, lr, s):
        c = self.applied
        v = s["v"]
        t, u = self.scratch(0, w), self.scratch(1, w)
        np.square(g, out=t)                        # v <- rho * v + (1 - rho) * g**2
        t *= c["1 - rho"]
        v *= c["rho"]
        v += t
        if self.centered:
            g_avg = s["g_avg"]
            np.multiply(g, c["1 - rho"], out=u)    # g_avg <- rho * g_avg + (1 - rho) * g
            g_avg *= c["rho"]
            g_avg += u
            np.square(g_avg, out=t)                # mean_square = v - g_avg**2
            np.subtract(v, t, out=t)
            mean_square = t
        else:
            mean_square = v
        root = self.root(mean_square, t)           # increment = (lr * g) / sqrt(ms + epsilon)
        np.multiply(g, lr, out=u)
        u /= root
        if self.momentum > 0:
            mom = s["mom"]
            mom *= c["momentum"]                   # mom <- momentum * mom + increment
            mom += u
            w -= mom                               # w <- w - mom
        else:
            w -= u                                 # w <- w - increment
