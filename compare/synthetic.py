"""A seeded synthetic batch with the shape of MNIST: for when no data set is needed."""

from __future__ import annotations

import numpy as np

from handrolled import NetworkSpec, one_hot


def synthetic_batch(spec: NetworkSpec, rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs uniform in [0, 1) like scaled pixels, labels uniform over the classes."""
    rng = np.random.default_rng(seed)
    X = rng.random((rows, spec.inputs)).astype(spec.dtype)
    Y = one_hot(rng.integers(0, spec.classes, size=rows), spec.classes, spec.dtype)
    return X, Y
