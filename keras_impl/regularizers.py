"""Keras' regularizers for handrolled's.

    keras_regularizer(handrolled.regularizers.get("l2(0.01)"))  -> keras.regularizers.L2(0.01)

How the installed Keras applies them (the factor's rounding, the activity penalty
per row) is measured in `conventions.py`.
"""

from __future__ import annotations

from .runtime import keras


def keras_regularizer(regularizer):
    """The Keras regularizer with the same factors (None for None)."""
    if regularizer is None:
        return None
    if regularizer.name == "l1":
        return keras.regularizers.L1(l1=regularizer.l1)
    if regularizer.name == "l2":
        return keras.regularizers.L2(l2=regularizer.l2)
    return keras.regularizers.L1L2(l1=regularizer.l1, l2=regularizer.l2)
