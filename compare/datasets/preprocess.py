"""Turning loaded values into the network's inputs: scale, standardize or raw.

Two kinds of data arrive here (`Raw.pixels` tells them apart by dtype):

    uint8 pixels     0..255     scale: x / 255   standardize: one mean, one std   raw: as is
    float64 features (spiky-2d) scale: as is     standardize: one mean, one std   raw: as is

`scale` is "bring the inputs to a unit range": pixels need the division by 255,
while a feature set is generated in a unit range already ([-1, 1] for
spiky-2d), where dividing by 255 would squash every input towards 0.  So the
default (`--preprocess scale`) suits every data set, and `x / 255` is only
ever applied to uint8 pixels; `apply` refuses values of any other dtype.

Statistics are computed in float64 from the training set only and applied to
both sets, then the result is cast to the network's dtype, so float32 and
float64 runs see the same numbers up to that one rounding.  The functions get
fresh float64 copies and work in place: the full sets are 376 MB per copy.
"""

from __future__ import annotations

import numpy as np

from handrolled.errors import SpecError, unknown


def scale(X_train: np.ndarray, X_test: np.ndarray):
    """x / 255: pixels into [0, 1], as the book's Keras chapters do."""
    X_train /= 255.0
    X_test /= 255.0
    return X_train, X_test


def standardize(X_train: np.ndarray, X_test: np.ndarray):
    """(x - mean) / std with ONE scalar mean and std over all training values.

    This is the book's chapter on development (np.average / np.std of the whole
    training matrix), not a per-pixel (per-feature) standardization; the test
    set is shifted by the training statistics, never its own.
    """
    mean, std = X_train.mean(), X_train.std()
    if not std > 0:
        raise SpecError("cannot standardize: every training value is the same (standard "
                        "deviation 0); use --preprocess scale or raw")
    for X in (X_train, X_test):
        X -= mean
        X /= std
    return X_train, X_test


def raw(X_train: np.ndarray, X_test: np.ndarray):
    """The values unchanged (pixels 0..255 only converted to floats)."""
    return X_train, X_test


_PREPROCESSORS = {"scale": scale, "standardize": standardize, "raw": raw}
PREPROCESSING = tuple(_PREPROCESSORS)
# What each name does to float features: `scale` (x / 255) is for pixels only.
_FOR_FEATURES = {"scale": raw, "standardize": standardize, "raw": raw}


def apply(name: str, X_train: np.ndarray, X_test: np.ndarray, dtype: str):
    """Preprocess both sets with `name`; returns (X_train, X_test) in `dtype`.

    uint8 inputs are pixels, float inputs features (see the module's table);
    any other dtype is refused.
    """
    if name not in _PREPROCESSORS:
        raise unknown("preprocessing", name, PREPROCESSING)
    kinds = {X_train.dtype, X_test.dtype}
    if kinds == {np.dtype(np.uint8)}:
        step = _PREPROCESSORS[name]
    elif all(np.issubdtype(kind, np.floating) for kind in kinds):
        step = _FOR_FEATURES[name]
    else:
        raise SpecError(f"cannot preprocess {' and '.join(sorted(map(str, kinds)))} values: "
                        f"expected uint8 pixels or float features")
    X_train, X_test = step(X_train.astype(np.float64), X_test.astype(np.float64))
    return X_train.astype(dtype, copy=False), X_test.astype(dtype, copy=False)
