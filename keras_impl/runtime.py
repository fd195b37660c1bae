"""Keras on the chosen backend (keras_impl/backends: --backend, else KERAS_BACKEND, else
TensorFlow), imported quietly, and what every module of keras_impl takes from it.

    from .runtime import keras, BACKEND
    BACKEND.call_and_gradients(model, X, objective)     # the backend's own differentiation
    seed_everything(seed)

`tf` is TensorFlow when it is the backend, else None: only TensorFlow-only code
(keras_impl/compiled.py, the benchmark) uses it.
"""

from __future__ import annotations

import contextlib

from . import backends

BACKEND = backends.get()  # a backend that is not installed: one line (SpecError)
keras = BACKEND.import_keras()
tf = BACKEND.tf

if keras.backend.backend() != BACKEND.NAME:
    raise ImportError(f"Keras runs on '{keras.backend.backend()}', not on '{BACKEND.NAME}' "
                      f"(KERAS_BACKEND): Keras was imported before keras_impl chose its backend")


def seed_everything(seed: int) -> None:
    """Same seed -> same numbers: Python, NumPy, Keras and the backend seeded, and its
    deterministic kernels chosen (keras_impl/backends/<backend>.py)."""
    BACKEND.seed_everything(seed)


@contextlib.contextmanager
def floatx(dtype: str):
    """Temporarily make `dtype` Keras' default float type: `fit` casts float data to
    floatx, and optimizers and losses keep their constants in it (keras_impl/train.py
    lists the pins)."""
    saved = keras.config.floatx()
    keras.config.set_floatx(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(saved)


__all__ = ["BACKEND", "keras", "tf", "seed_everything", "floatx"]
