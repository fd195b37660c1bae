"""The third witness: central finite differences of the hand-written loss.

It needs no framework, only the forward pass, so it checks the hand-written
derivatives independently of Keras.  Always computed in float64.

Two modes per parameter tensor, both with the fourth-order central stencil

    L'(w; d) ~ [-L(w + 2h d) + 8 L(w + h d) - 8 L(w - h d) + L(w - 2h d)] / (12 h)

* directions ("fast", like torch.autograd.gradcheck's fast mode): d is a
  random +-1 vector over the whole tensor; compare with sum(grad * d);
* elements (sampled): d is one unit vector e_i for a few random i; compare with grad_i.

The loss is a function of the parameters alone (any layers: the witness only
calls the network's forward pass, in training mode, with the dropout masks of
the pass it checks held fixed).  A check whose perturbation moves any
pre-activation across a kink of its activation (relu at 0), or changes the
winner of a max-pooling window, measures the average of two slopes, not the
derivative; it is counted as a kink and left out of the comparison (each
layer says what its kinks are: `Layer.kink_pattern`).  Before giving up on a
probe, the step is tried 10 and 100 times smaller: a convolution has many
pre-activations, so the largest step often crosses some relu's 0 where a
smaller one does not (the round-off floor below grows with 1/h, so a smaller
step is judged no more strictly than its noise allows).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from handrolled import Network, NetworkSpec, Params

from .tolerances import FLOOR_FRACTION, TOLERANCES

FD_RESOLUTION = TOLERANCES["float64"].fd_rtol

STENCIL = ((2.0, -1.0), (1.0, 8.0), (-1.0, -8.0), (-2.0, 1.0))  # (step multiple, weight)
STEP_DIRECTION = 1e-6  # per element; a +-1 direction moves z by ~sqrt(n_in) times this
STEP_ELEMENT = 1e-4    # a single weight: larger step, so round-off (eps * L / h) stays small


@dataclass
class FiniteDifferenceResult:
    """Worst relative difference over the checks that avoided kinks (None if none did)."""

    max_rel_diff: float | None
    checks: int
    kinks: int


class FiniteDifferences:
    """Finite-difference checks of one network's gradients on one batch."""

    def __init__(self, spec: NetworkSpec, params: Params, X: np.ndarray, Y: np.ndarray,
                 directions: int = 4, elements: int = 8, seed: int = 0,
                 state: Params | None = None, masks: dict | None = None):
        spec64 = dataclasses.replace(spec, dtype="float64")
        as64 = lambda arrays: arrays and {k: np.asarray(v, np.float64)  # noqa: E731
                                          for k, v in arrays.items()}
        self.net = Network(spec64, as64(params), as64(state) or None)
        self.net.use_dropout_masks(masks or {})  # held still while the weights move
        self.base = dict(self.net.params)
        self.legacy = spec.legacy_names()
        self.X = np.asarray(X, np.float64)
        self.Y = np.asarray(Y, np.float64)
        self.directions = directions
        self.elements = elements
        self.rng = np.random.default_rng(seed)
        self.base_loss, cache = self._loss(self.base)
        self.base_kinks = self.net.kink_pattern(cache)

    def check(self, name: str, grad: np.ndarray) -> FiniteDifferenceResult:
        """Compare `grad` (the gradient of parameter `name`) with finite differences."""
        grad = np.asarray(grad, np.float64)
        name = self.legacy.get(name, name)  # W1, b1, ... as the book names them
        shape = self.base[name].shape
        worst, checks, kinks = None, 0, 0
        probes = [(self.rng.choice([-1.0, 1.0], size=shape), STEP_DIRECTION)
                  for _ in range(self.directions)]
        scale = FLOOR_FRACTION * np.sqrt(np.sum(grad * grad))
        elem_scale = FLOOR_FRACTION * np.abs(grad).max()
        for index in self.rng.choice(grad.size, size=min(self.elements, grad.size),
                                     replace=False):
            unit = np.zeros(shape)
            unit.flat[index] = 1.0
            probes.append((unit, STEP_ELEMENT))
        for number, (direction, step) in enumerate(probes):
            for step in (step, step / 10, step / 100):  # a smaller step may stay clear
                numeric, crossed = self._directional(name, direction, step)
                if not crossed:
                    break
            if crossed:
                kinks += 1
                continue
            analytic = float(np.sum(grad * direction))
            # The stencil's own round-off is about 3 eps |L| / h (its weights
            # sum to 18/12).  Flooring the denominator at noise / tolerance
            # means a difference at round-off level can never read as more
            # than the float64 tolerance -- e.g. a gradient that is exactly 0
            # (a dead layer) against a numeric slope of 1e-11.
            noise = 4 * np.finfo(np.float64).eps * max(1.0, abs(self.base_loss)) / step
            floor = max(scale if number < self.directions else elem_scale,
                        noise / FD_RESOLUTION)
            denominator = max(abs(numeric), abs(analytic), floor)
            rel = float(abs(numeric - analytic) / denominator)
            worst = rel if worst is None else max(worst, rel)
            checks += 1
        return FiniteDifferenceResult(worst, checks, kinks)

    def _directional(self, name: str, direction: np.ndarray, step: float) -> tuple[float, bool]:
        """The stencil estimate of dL/dw along `direction`, and whether a kink was crossed."""
        total, crossed = 0.0, False
        for multiple, weight in STENCIL:
            params = dict(self.base)
            params[name] = self.base[name] + (multiple * step) * direction
            loss, cache = self._loss(params)
            total += weight * loss
            crossed = crossed or self.net.kink_pattern(cache) != self.base_kinks
        self.net.params = self.base
        return float(total / (12.0 * step)), crossed

    def _loss(self, params: Params):
        self.net.params = params
        cache = self.net.forward(self.X, training=True)
        return self.net.loss_of(cache, self.Y), cache
