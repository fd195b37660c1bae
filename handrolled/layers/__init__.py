"""Layers by hand: one kind per file, each with forward and backward side by side.

    from handrolled import layers
    layers.get("conv")              # the Conv2D class (registry, like keras.layers)
    layers.names()                  # ['dense', 'conv', 'maxpool', 'avgpool', 'flatten', 'activation', 'batchnorm', 'dropout']

See `base.py` for the contract every layer follows.
"""

from .base import Layer, get, names, register  # noqa: F401
from .dense import Dense  # noqa: F401  (each import registers its kind)
from .conv2d import Conv2D  # noqa: F401
from .maxpool import MaxPooling2D  # noqa: F401
from .avgpool import AveragePooling2D  # noqa: F401
from .flatten import Flatten  # noqa: F401
from .activation import Activation  # noqa: F401
from .batchnorm import BatchNormalization  # noqa: F401
from .dropout import Dropout  # noqa: F401

__all__ = ["Layer", "get", "names", "register", "Dense", "Conv2D", "MaxPooling2D",
           "AveragePooling2D", "Flatten", "Activation", "BatchNormalization", "Dropout"]
