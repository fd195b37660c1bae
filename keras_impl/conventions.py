"""The installed Keras' conventions on this backend, measured once: a value, set nowhere.

    installed_conventions()  -> handrolled.conventions.Conventions

Three behaviours differ between Keras versions and backends
(handrolled/conventions.py): the float32 rounding of a penalty's factor (l1
always, l2 from Keras 3.14 on, on TensorFlow), the division of an activity
penalty by the batch size (3.14 on), and how `ops.cast` turns a Python-float
hyper-parameter into float64 (TensorFlow through float32: 0.8999999761581421
for 0.9; JAX with float64 enabled and torch straight).  Each is measured on tiny
float64 tensors, not read from a version number.  Nothing here changes
`handrolled`: `compare` passes the value into the spec of each comparison
(`spec.with_conventions(installed_conventions())`).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from handrolled.conventions import Conventions

from .runtime import keras

FACTOR = 0.1  # not a float32 number: rounding it shows


@cache
def installed_conventions() -> Conventions:
    """What this Keras does on this backend (measured on first use, then remembered)."""
    one = keras.ops.ones((1,), dtype="float64")
    l1 = float(keras.regularizers.L1(FACTOR)(one))
    l2 = float(keras.regularizers.L2(FACTOR)(one))
    layer = keras.layers.Activation("linear", activity_regularizer=keras.regularizers.L1(1.0),
                                    dtype="float64")
    layer(keras.ops.ones((2, 1), dtype="float64"))  # sum |a| = 2 over a batch of 2
    activity = float(layer.losses[0])
    cast = float(keras.ops.cast(FACTOR, "float64"))
    return Conventions(l1_factor_float32=l1 != FACTOR, l2_factor_float32=l2 != FACTOR,
                       activity_per_row=bool(np.isclose(activity, 1.0)),
                       hyperparameters_via_float32=cast != FACTOR)
