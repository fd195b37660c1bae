"""Layers by hand: one kind per file, each with forward and backward side by side.

    from handrolled import layers
    layers.get("conv")              # the Conv2D class (registry, like keras.layers)
    "dense" in layers.names()       # every kind registered (each file's import registers it)

See `base.py` for the contract every layer follows.  A new layer is one new file
here: every module of this package is imported below, and its `@register` does the
rest (the text and JSON forms, the Keras twin, `--from-keras`, `code`, `bench`).
"""

import importlib
import pkgutil

from .base import Layer, get, names, register  # noqa: F401
from .dense import Dense  # noqa: F401  (each import registers its kind, in this order)
from .conv2d import Conv2D  # noqa: F401
from .maxpool import MaxPooling2D  # noqa: F401
from .avgpool import AveragePooling2D  # noqa: F401
from .flatten import Flatten  # noqa: F401
from .activation import Activation  # noqa: F401
from .batchnorm import BatchNormalization  # noqa: F401
from .dropout import Dropout  # noqa: F401

# every other module of the package, in name order: a new layer's file registers itself
for _module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["Layer", "get", "names", "register", "Dense", "Conv2D", "MaxPooling2D",
           "AveragePooling2D", "Flatten", "Activation", "BatchNormalization", "Dropout"]
