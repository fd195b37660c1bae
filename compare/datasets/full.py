"""`mnist` and `fashion-mnist`: the full 60,000 / 10,000 sets.

Where the data comes from, first match wins:
1. a Debian package's IDX files (Debian packages Fashion-MNIST as
   dataset-fashion-mnist; it has no package for MNIST itself);
2. Keras' own loader, which reads its cache under ~/.keras/datasets (or
   $KERAS_HOME/datasets) and downloads on a miss.  Keras is imported only
   here, so the other datasets never pay for TensorFlow.
Offline with neither, the error says the three ways to get the data.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

import numpy as np

from handrolled.errors import MachineError

from .dataset import Raw
from .idx import load_idx_dir

CLASSES = 10
DEBIAN_DIRS = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}
DEBIAN_PACKAGES = {"fashion-mnist": "dataset-fashion-mnist"}
KERAS_CACHE = {"mnist": ("mnist.npz", "datasets/"),
               "fashion-mnist": ("the four Fashion-MNIST .gz files", "datasets/fashion-mnist/")}
FULL_NAMES = tuple(KERAS_CACHE)


def load_full(name: str) -> Raw:
    debian = DEBIAN_DIRS.get(name)
    if debian is not None and debian.is_dir():
        return load_idx_dir(debian, source=f"Debian package {DEBIAN_PACKAGES[name]} ({debian})")
    return _from_keras(name)


def keras_load_data(name: str):
    """keras.datasets.<name>.load_data(): ((x_train, y_train), (x_test, y_test))."""
    import keras_impl.runtime  # noqa: F401  (imports TensorFlow without its start-up noise)
    import keras

    loaders = {"mnist": keras.datasets.mnist, "fashion-mnist": keras.datasets.fashion_mnist}
    # Keras prints "Downloading data from URL" to stdout before it tries; offline
    # that line would stand before our one-line error, so it is held back and
    # passed on (to stderr, with the other progress output) only if the load works.
    held = io.StringIO()
    with contextlib.redirect_stdout(held):
        data = loaders[name].load_data()
    sys.stderr.write(held.getvalue())
    return data


def how_to_get(name: str) -> str:
    keras_home = os.environ.get("KERAS_HOME") or "~/.keras"
    files, folder = KERAS_CACHE[name]
    ways = [f"copy {files} into {keras_home}/{folder} (Keras' cache)",
            f"use --dataset idx:DIR with the four {name} IDX files"]
    if name in DEBIAN_PACKAGES:
        ways.append(f"apt-get install {DEBIAN_PACKAGES[name]}")
    return "; ".join(ways)


def _from_keras(name: str) -> Raw:
    try:
        (x_train, y_train), (x_test, y_test) = keras_load_data(name)
    except Exception as error:  # noqa: BLE001  Keras raises a bare Exception on "URL fetch failure"
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise MachineError(f"dataset {name} is not available here (Keras: {reason}); to get it "
                           f"offline: {how_to_get(name)}") from None
    source = f"keras.datasets.{name.replace('-', '_')}.load_data()"
    x_train, x_test = np.asarray(x_train), np.asarray(x_test)
    if x_train.dtype != np.uint8 or x_test.dtype != np.uint8:
        raise MachineError(f"{source} returned {x_train.dtype} pixels; expected uint8 images")
    return Raw(X_train=x_train.reshape(len(x_train), -1), y_train=np.asarray(y_train),
               X_test=x_test.reshape(len(x_test), -1), y_test=np.asarray(y_test),
               classes=CLASSES, source=source, image_shape=(*x_train.shape[1:3], 1))
