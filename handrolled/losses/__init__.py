"""Losses by hand, each with its gradient at the logits (eq. 3) and a Keras twin.

    from handrolled import losses
    losses.get("binary_crossentropy")
    losses.names()   # ['categorical_crossentropy', 'binary_crossentropy', 'mean_squared_error']
"""

from .base import Loss, get, names, register  # noqa: F401
from .categorical_crossentropy import CategoricalCrossentropy  # noqa: F401
from .binary_crossentropy import BinaryCrossentropy  # noqa: F401
from .mean_squared_error import MeanSquaredError  # noqa: F401

DEFAULT = "categorical_crossentropy"

__all__ = ["Loss", "get", "names", "register", "DEFAULT", "CategoricalCrossentropy",
           "BinaryCrossentropy", "MeanSquaredError"]
