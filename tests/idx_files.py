"""Writing small MNIST-format IDX files for tests, independently of compare.datasets.idx.

The writer uses only struct and the format's definition (big-endian magic
2051/2049, then the sizes, then the bytes), so a reader bug cannot be
mirrored here.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

NAMES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def images_bytes(images: np.ndarray) -> bytes:
    n, rows, cols = images.shape
    return struct.pack(">IIII", 2051, n, rows, cols) + images.astype(np.uint8).tobytes()


def labels_bytes(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes()


def small_set(n_train: int = 30, n_test: int = 10, rows: int = 4, cols: int = 3,
              classes: int = 10, seed: int = 0):
    """Seeded images and labels; labels cycle so every class is in the training set."""
    rng = np.random.default_rng(seed)
    return {"train": (rng.integers(0, 256, size=(n_train, rows, cols), dtype=np.uint8),
                      (np.arange(n_train) % classes).astype(np.uint8)),
            "test": (rng.integers(0, 256, size=(n_test, rows, cols), dtype=np.uint8),
                     rng.integers(0, classes, size=n_test).astype(np.uint8))}


def write_idx_dir(directory: Path, data=None, gz: bool = False, dotted: bool = False) -> Path:
    """The four files in `directory` (created); .gz and 'train-images.idx3-ubyte' on request."""
    directory.mkdir(parents=True, exist_ok=True)
    data = small_set() if data is None else data
    for split, (images_name, labels_name) in NAMES.items():
        images, labels = data[split]
        for name, payload in ((images_name, images_bytes(images)),
                              (labels_name, labels_bytes(labels))):
            if dotted:
                name = name.replace("-idx", ".idx", 1)
            if gz:
                (directory / f"{name}.gz").write_bytes(gzip.compress(payload))
            else:
                (directory / name).write_bytes(payload)
    return directory
