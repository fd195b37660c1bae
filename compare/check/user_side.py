"""The user's side of a check: their gradients (and forward) on the check batch, computed
before TensorFlow is imported, so a target that breaks its contract (raises, exits,
returns the wrong shapes or complex numbers) is one line at once, not after the import.

    side = run_user_side(target, dataset="synthetic", batch=32, seed=0)
    side.gradients, side.probabilities     # {'W1': ..., 'b1': ...}, (n, classes) or None
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from handrolled import NetworkSpec, Params, init_weights
from handrolled.weights import to_legacy

from ..batch import sample_batch
from .target import Target


@dataclass
class UserSide:
    """The check batch, the weights it ran with, and what the user's code returned."""

    spec: NetworkSpec
    X: np.ndarray
    Y: np.ndarray
    data: str
    notes: list[str]
    params: Params
    gradients: Params
    probabilities: np.ndarray | None


def run_user_side(target: Target, dataset: str = "mnist-sample", batch: int = 32,
                  seed: int = 0) -> UserSide:
    """The seeded batch and the book's weights (`runner`'s docstring says why), through the
    user's `gradients` and `forward`, checked against the contract (`target.py`)."""
    spec = dataclasses.replace(target.spec, seed=seed)
    X, Y, data, notes = sample_batch(spec, dataset, batch, seed)
    Y = spec.loss_function.from_one_hot(Y)  # one sigmoid unit for two classes: (n, 1)
    params = to_legacy(spec, init_weights(spec, "book", seed))  # W1, b1, ...: the book's names
    gradients = target.call_gradients(X, Y, params)
    probabilities = target.call_forward(X, params) if target.has_forward else None
    return UserSide(spec, X, Y, data, notes, params, gradients, probabilities)
