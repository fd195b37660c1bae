"""Stochastic gradient descent, with optional momentum and Nesterov momentum.

Keras' convention (keras/src/optimizers/sgd.py), for a parameter w with
gradient g at learning rate lr:

    momentum == 0:   w <- w - g * lr
    momentum  > 0:   m <- m * mu - g * lr               m starts at 0
                     w <- w + m
    nesterov:        w <- w + (m * mu - g * lr)        with the new m

mu is `ops.cast(self.momentum, variable.dtype)`: rounded to float32 first,
even in a float64 model (0.9 is applied as 0.8999999761581421).

PyTorch's convention, v <- mu v + g; w <- w - lr v, takes the same steps
(m = -lr v) only while lr stays constant: a schedule that changes lr
rescales the whole velocity in PyTorch and only the newest gradient here.
"""

from __future__ import annotations

import numpy as np

from .schedules import Schedule
from .base import Optimizer, register
from ..options import Option, boolean
from .options import WEIGHT_DECAY, learning_rate_option, unit_interval


@register("sgd")
class SGD(Optimizer):
    keras_name = "SGD"
    OPTIONS = (learning_rate_option(0.01), Option("momentum", unit_interval, 0.0),
               Option("nesterov", boolean, False), WEIGHT_DECAY)

    def slots(self):
        return ("m",) if self.momentum != 0 else ()

    def constants(self, dtype):
        return {"momentum": self.keras_cast(self.momentum, dtype)} if self.momentum != 0 else {}

    def plain_rate(self) -> float | None:
        """The learning rate when a step is just w -= g lr (no momentum, weight decay or
        schedule: plain SGD keeps no state), else None."""
        if self.momentum == 0 and self.weight_decay is None and \
                not isinstance(self.learning_rate, Schedule):
            return float(self.learning_rate)
        return None

    def update(self, w, g, lr, s):
        t = self.scratch(0, w)
        np.multiply(g, lr, out=t)                  # g * lr
        if self.momentum == 0:
            w -= t                                 # w <- w - g * lr
            return
        mu, m = self.applied["momentum"], s["m"]
        m *= mu                                    # m <- m * mu - g * lr
        m -= t
        if self.nesterov:
            u = self.scratch(1, w)
            np.multiply(m, mu, out=u)              # w <- w + (m * mu - g * lr)
            u -= t
            w += u
        else:
            w += m                                 # w <- w + m
