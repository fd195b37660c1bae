"""Activation statistics of every hidden layer on the check batch.

Shown even when everything agrees, because they answer the question that
finds the ReLU `>=` bug: how often does the derivative actually see a 0?

    zero_preactivations  fraction of the n x units values z that are exactly 0
    dead_units           fraction of units whose derivative f'(z) is 0 on every row
    saturated            fraction of values where f'(z) < 1% of f'(0), for activations
                         that flatten out in both tails (sigmoid, tanh); None otherwise
    derivative_zero/one  fraction of the *user's* effective derivative values that are
                         exactly 0 / exactly 1: the f' that reproduces their gradients
                         (from the diagnosis), or recovered from their gradient when the
                         batch determines it; None when neither is possible
    behaves_linear       a nonlinear layer whose effective derivative is 1 everywhere
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handrolled import Params

from .backprop import Backprop
from .diagnosis import Diagnosis
from .differences import recover_delta

SATURATED = 0.01      # f'(z) below this fraction of f'(0)
RECOVERED_ATOL = 1e-6  # a recovered derivative is "exactly" 0 or 1 to this


@dataclass
class LayerStats:
    layer: int
    activation: str
    zero_preactivations: float
    dead_units: float
    saturated: float | None
    derivative_zero: float | None
    derivative_one: float | None
    derivative_source: str | None   # "explained", "recovered" or None (unknown)
    behaves_linear: bool


def activation_stats(bp: Backprop, diagnosis: Diagnosis, user: Params) -> list[LayerStats]:
    return [_layer_stats(bp, l, diagnosis, user) for l in range(1, bp.depth)]


def _layer_stats(bp: Backprop, l: int, diagnosis: Diagnosis, user: Params) -> LayerStats:
    f, z = bp.activation(l), bp.z(l)
    right = bp.derivative(l)
    effective, source, atol = _effective_derivative(bp, l, diagnosis, user)
    zero = one = None
    if effective is not None and effective.size:
        zero = float(np.mean(np.abs(effective) <= atol))
        one = float(np.mean(np.abs(effective - 1) <= atol))
    nonlinear = not np.all(right == 1)
    return LayerStats(
        layer=l, activation=f.text,
        zero_preactivations=float(np.mean(z == 0)),
        dead_units=float(np.mean(np.all(right == 0, axis=0))),
        saturated=_saturated(f, z, right),
        derivative_zero=zero, derivative_one=one, derivative_source=source,
        behaves_linear=bool(nonlinear and one == 1.0))


def _effective_derivative(bp, l, diagnosis, user):
    if l in diagnosis.derivatives:
        return diagnosis.derivatives[l], "explained", 0.0
    if l == diagnosis.unexplained and diagnosis.delta_above_unexplained is not None:
        delta = recover_delta(bp.a(l - 1), user[f"W{l}"], user[f"b{l}"])
        if delta is not None:
            error = bp.error(l, diagnosis.delta_above_unexplained)
            usable = np.abs(error) > 1e-9 * np.abs(error).max()
            return delta[usable] / error[usable], "recovered", RECOVERED_ATOL
    return None, None, 0.0


def _saturated(f, z: np.ndarray, right: np.ndarray) -> float | None:
    """Only for activations whose slope at 0 is positive and vanishes in both tails."""
    probe = np.array([0.0, -30.0, 30.0])
    try:
        slope = np.asarray(f.derivative(probe, f.value(probe)), dtype=np.float64)
    except Exception:
        return None
    if not (slope[0] > 0 and np.all(np.abs(slope[1:]) < 1e-3 * slope[0])):
        return None
    return float(np.mean(np.abs(right) < SATURATED * slope[0]))
