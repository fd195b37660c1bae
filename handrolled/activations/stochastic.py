"""Stochastic activations: each unit's function is redrawn during training.

    100:stochastic(relu,abs,sin;every=step)          redraw before every step
    100:stochastic(relu,abs,sin;every=epoch,seed=3)  redraw at each epoch, seed 3

The draw for counter c (the step, or the epoch, counted from 0 over the run)
is a pure function of (seed, c, units):

    assignment = default_rng([seed, c]).integers(0, len(functions), size=units)

so the hand-written network (told the step by `on_step`) and the Keras layer
(told by a callback, keras_impl.layers.ActivationSchedule) draw the same
functions for every unit at every step without sharing any state.

Evaluation rule: a stochastic layer always computes with its CURRENT
assignment, which changes only when a training loop calls `on_step`.  After
training that is the assignment of the last training step; before any
training, the draw for counter 0.  Evaluating mid-training (per-epoch test
accuracy) and after training therefore use the same rule.
"""

from __future__ import annotations

import numpy as np

from ..errors import SpecError
from .core import register
from .mix import PerUnitActivation, parse_body, parse_seed, reject_unknown

_FORM = ("stochastic(F1,F2,...;every=step|epoch[,seed=N]), "
         "e.g. stochastic(relu,abs,sin;every=step)")
EVERY = ("step", "epoch")
EVALUATION_RULE = "the assignment of the last training step (before training: the step-0 draw)"


@register("stochastic", example="stochastic(relu,abs,sin;every=step)")
class Stochastic(PerUnitActivation):
    form = _FORM

    def __init__(self, functions, every: str = "step", seed: int = 0):
        super().__init__(functions)
        if every not in EVERY:
            raise SpecError(f"stochastic's every= must be one of {', '.join(EVERY)}, "
                            f"got '{every}'")
        self.every, self.seed = every, int(seed)
        self.epoch, self.step = 0, 0

    @classmethod
    def from_text(cls, args):
        functions, options = parse_body("stochastic", args, _FORM)
        every = options.pop("every", "step")
        seed = parse_seed(options, "stochastic")
        reject_unknown(options, "stochastic", "every=step|epoch, seed=N")
        return cls(functions, every, seed)

    @property
    def text(self):
        seed = f",seed={self.seed}" if self.seed else ""
        return f"stochastic({self._functions_text()};every={self.every}{seed})"

    @property
    def counter(self) -> int:
        return self.step if self.every == "step" else self.epoch

    def on_step(self, epoch, step):
        self.epoch, self.step = int(epoch), int(step)

    def _state_key(self):
        return self.counter

    def assignment(self, units):
        return draw(self.seed, self.counter, units, len(self.functions))


def draw(seed: int, counter: int, units: int, choices: int) -> np.ndarray:
    """The unit -> function draw for one step (or epoch) of the schedule."""
    return np.random.default_rng([seed, counter]).integers(0, choices, size=units)
