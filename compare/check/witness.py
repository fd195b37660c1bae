"""Finite differences of the user's own `forward`: a witness that needs no Keras.

If the user's gradients agree with the slope of the loss their own forward()
computes, their backprop is consistent with their forward pass, whatever
Keras says; if their forward disagrees with Keras too, the bug is in forward.
The stencil, the steps and the kink detection are those of
`compare.finite_diff.FiniteDifferences`; only the loss comes from the user.
Kinks are detected on our own forward pass with the same weights, which is
the user's when their forward agrees with Keras.
"""

from __future__ import annotations

import numpy as np

from handrolled import NetworkSpec, Params
from handrolled.weights import to_legacy

from ..finite_diff import FiniteDifferences
from .objective import Objective
from .target import Target


class UserForwardDifferences(FiniteDifferences):
    """FiniteDifferences whose loss is the declared loss (objective.py: cross-entropy by
    default) of the user's forward(X, weights), plus the declared penalties."""

    def __init__(self, target: Target, spec: NetworkSpec, params: Params, X: np.ndarray,
                 Y: np.ndarray, seed: int = 0, objective: Objective | None = None):
        self.target = target
        self.objective = objective or target.objective
        # Fewer probes than the core witness: each one calls the user's code 4 times.
        super().__init__(spec, params, X, Y, directions=2, elements=4, seed=seed)

    def _loss(self, params: Params):
        self.net.params = params
        cache = self.net.forward(self.X)  # for the kink signs only
        p = self.target.call_forward(self.X, params)
        loss = self.objective.value(p, self.Y) + self.objective.penalty(
            to_legacy(self.net.spec, params))
        return loss, cache
