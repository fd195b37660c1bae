"""Keras' regularizers for handrolled's, and how the installed Keras applies them.

    keras_regularizer(handrolled.regularizers.get("l2(0.01)"))  -> keras.regularizers.L2(0.01)
    installed_conventions()    -> what this Keras does (measured, not read from its version)

Two behaviours differ between Keras versions (handrolled/regularizers.py): the
factor's rounding to float32 (l1 always; l2 from 3.14 on) and the division of
an activity penalty by the batch size (3.14 on).  `installed_conventions`
measures both on tiny float64 tensors, and `match_installed_keras` makes the
hand-written side do the same; importing keras_impl calls it, so a
comparison always holds the hand-written side to the Keras it runs against.
"""

from __future__ import annotations

import numpy as np

from handrolled import regularizers as handrolled_regularizers

from .runtime import keras

FACTOR = 0.1  # not a float32 number: rounding it shows


def keras_regularizer(regularizer):
    """The Keras regularizer with the same factors (None for None)."""
    if regularizer is None:
        return None
    if regularizer.name == "l1":
        return keras.regularizers.L1(l1=regularizer.l1)
    if regularizer.name == "l2":
        return keras.regularizers.L2(l2=regularizer.l2)
    return keras.regularizers.L1L2(l1=regularizer.l1, l2=regularizer.l2)


def installed_conventions() -> handrolled_regularizers.Conventions:
    """Measure the installed Keras: factor rounding and activity penalty per row."""
    one = keras.ops.ones((1,), dtype="float64")
    l1 = float(keras.regularizers.L1(FACTOR)(one))
    l2 = float(keras.regularizers.L2(FACTOR)(one))
    layer = keras.layers.Activation("linear", activity_regularizer=keras.regularizers.L1(1.0),
                                    dtype="float64")
    layer(keras.ops.ones((2, 1), dtype="float64"))  # sum |a| = 2 over a batch of 2
    activity = float(layer.losses[0])
    return handrolled_regularizers.Conventions(
        l1_factor_float32=l1 != FACTOR, l2_factor_float32=l2 != FACTOR,
        activity_per_row=bool(np.isclose(activity, 1.0)))


def match_installed_keras() -> handrolled_regularizers.Conventions:
    """Set handrolled's conventions to the installed Keras' (returns them)."""
    measured = installed_conventions()
    for name, value in vars(measured).items():
        setattr(handrolled_regularizers.CONVENTIONS, name, value)
    return measured
