"""Turning uint8 pixels into the network's inputs: scale, standardize or raw.

Statistics are computed in float64 from the training set only and applied to
both sets, then the result is cast to the network's dtype, so float32 and
float64 runs see the same numbers up to that one rounding.  The functions get
fresh float64 copies and work in place: the full sets are 376 MB per copy.
"""

from __future__ import annotations

import numpy as np

from handrolled.errors import SpecError


def scale(X_train: np.ndarray, X_test: np.ndarray):
    """x / 255: pixels into [0, 1], as the book's Keras chapters do."""
    X_train /= 255.0
    X_test /= 255.0
    return X_train, X_test


def standardize(X_train: np.ndarray, X_test: np.ndarray):
    """(x - mean) / std with ONE scalar mean and std over all training pixels.

    This is the book's chapter on development (np.average / np.std of the whole
    training matrix), not a per-pixel standardization; the test set is shifted
    by the training statistics, never its own.
    """
    mean, std = X_train.mean(), X_train.std()
    if not std > 0:
        raise SpecError("cannot standardize: every training pixel has the same value "
                        "(standard deviation 0); use --preprocess scale or raw")
    for X in (X_train, X_test):
        X -= mean
        X /= std
    return X_train, X_test


def raw(X_train: np.ndarray, X_test: np.ndarray):
    """The pixel values 0..255 unchanged (only converted to floats)."""
    return X_train, X_test


_PREPROCESSORS = {"scale": scale, "standardize": standardize, "raw": raw}
PREPROCESSING = tuple(_PREPROCESSORS)


def apply(name: str, X_train: np.ndarray, X_test: np.ndarray, dtype: str):
    """Preprocess both sets with `name`; returns (X_train, X_test) in `dtype`."""
    if name not in _PREPROCESSORS:
        raise SpecError(f"unknown preprocessing '{name}'; accepted: {', '.join(PREPROCESSING)}")
    X_train, X_test = _PREPROCESSORS[name](X_train.astype(np.float64), X_test.astype(np.float64))
    return X_train.astype(dtype, copy=False), X_test.astype(dtype, copy=False)
