"""How numbers are rounded where Keras' versions and backends differ: one immutable value.

    spec = NetworkSpec.from_text("dense(32,relu,kernel=l2(0.01))")   # spec.conventions: KERAS
    spec = spec.with_conventions(WRITTEN)       # a new spec: factors as written
    Network(spec).conventions                   # the spec's: its penalties use them, and so
                                                # does the optimizer built for its parameters
    KERAS.with_changes(activity_per_row=False)  # a new value; nothing is changed in place

Like Keras' dtype policy, a `Conventions` is a value the spec carries (beside its
dtype), never a setting changed at run time.  Four details:

    l1_factor_float32    l1(f) applied as float32(f): Keras casts the Python float with
                         `ops.cast`, which goes through float32 on TensorFlow
                         (l1(0.0004) is applied as 0.00039999998989515)
    l2_factor_float32    the same for l2 (Keras 3.14 on)
    activity_per_row     an activity penalty divided by the batch size (Keras 3.14 on)
    hyperparameters_via_float32
                         an optimizer hyper-parameter Keras passes through `ops.cast`
                         (SGD's momentum, Adam's betas in beta**t, weight decay,
                         Adagrad's start) rounded to float32 first: `tf.cast(0.9,
                         tf.float64)` = 0.8999999761581421; JAX and torch keep float64

`KERAS` is what Keras 3.15 does on TensorFlow (the default; the numbers the
project has always produced), `WRITTEN` the numbers as written, as NumPy code by
hand uses them.  `keras_impl.installed_conventions()` measures the installed Keras
on its backend, and `compare` hands that value to the spec of every comparison
(`NetworkSpec.with_conventions`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np


def via_float32(value: float, dtype) -> np.floating:
    """A Python float as `tf.cast(value, dtype)` gives it: rounded to float32 first."""
    return np.dtype(dtype).type(np.float32(value))


def exact(value: float, dtype) -> np.floating:
    """A Python float mixed into an op of `dtype` (TensorFlow converts it straight to dtype)."""
    return np.dtype(dtype).type(value)


@dataclass(frozen=True)
class Conventions:
    """The roundings of one Keras on one backend (see the module notes)."""

    l1_factor_float32: bool = True
    l2_factor_float32: bool = True
    activity_per_row: bool = True
    hyperparameters_via_float32: bool = True

    def factor(self, regularizer: str, f: float) -> float:
        """The factor Keras multiplies by for an 'l1' or 'l2' penalty of factor f."""
        rounded = {"l1": self.l1_factor_float32, "l2": self.l2_factor_float32}[regularizer]
        return float(via_float32(f, "float64")) if rounded else float(f)

    def activity_rows(self, a: np.ndarray) -> int:
        """What an activity penalty on the output a is divided by: its rows, or 1."""
        return a.shape[0] if self.activity_per_row else 1

    def cast(self, value: float, dtype) -> np.floating:
        """An optimizer hyper-parameter as `ops.cast(value, dtype)` gives it here."""
        return (via_float32 if self.hyperparameters_via_float32 else exact)(value, dtype)

    def with_changes(self, **changes) -> "Conventions":
        return dataclasses.replace(self, **changes)


KERAS = Conventions()
WRITTEN = Conventions(l1_factor_float32=False, l2_factor_float32=False,
                      hyperparameters_via_float32=False)
