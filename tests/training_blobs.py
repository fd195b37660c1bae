"""Small learnable data for the training tests: Gaussian blobs, one per class."""

from __future__ import annotations

import numpy as np

from compare.datasets import Dataset


def blob_arrays(rows: int, inputs: int, classes: int, seed: int):
    """Class c's rows are scattered around a seeded centre; labels cycle through the classes."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(classes, inputs))
    y = np.arange(rows) % classes
    rng.shuffle(y)
    return centres[y] + rng.normal(size=(rows, inputs)), y


def blobs(train: int = 300, test: int = 100, inputs: int = 12, classes: int = 4,
          dtype: str = "float64", seed: int = 0) -> Dataset:
    X, y = blob_arrays(train + test, inputs, classes, seed)
    X = X.astype(dtype)
    return Dataset(name="blobs", X_train=X[:train], y_train=y[:train], X_test=X[train:],
                   y_test=y[train:], classes=classes, preprocess="raw", source="tests")


def blob_images(train: int = 200, test: int = 60, seed: int = 0) -> dict:
    """The same idea as 4x3 uint8 images with 10 classes, for write_idx_dir."""
    X, y = blob_arrays(train + test, 12, 10, seed)
    images = np.clip(128 + 30 * X, 0, 255).astype(np.uint8).reshape(-1, 4, 3)
    labels = y.astype(np.uint8)
    return {"train": (images[:train], labels[:train]), "test": (images[train:], labels[train:])}
