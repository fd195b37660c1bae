"""Importing TensorFlow quietly, and pinning it down for exact comparisons.

TensorFlow 2.21 prints start-up lines (oneDNN, CUDA stubs, CPU features) from
C++ before its logging is configured, so TF_CPP_MIN_LOG_LEVEL alone does not
silence them.  We set the variables *and* point file descriptor 2 at
/dev/null for the duration of the import; any Python exception raised by the
import still reaches the caller after stderr is restored.

Thread pools are fixed when the runtime starts (the first op, here): TensorFlow's
own TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS, when set (by
compare/threads.py's policy before the import, or by the user), are handed to
tf.config.threading first, so that it reports them too.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@contextlib.contextmanager
def _stderr_to_devnull():
    try:
        saved = os.dup(2)
    except OSError:  # no real fd 2 (embedded interpreters): nothing to hide
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


with _stderr_to_devnull():
    import tensorflow as tf  # noqa: E402
    import keras  # noqa: E402

    for _variable, _set in (("TF_NUM_INTRAOP_THREADS",
                             tf.config.threading.set_intra_op_parallelism_threads),
                            ("TF_NUM_INTEROP_THREADS",
                             tf.config.threading.set_inter_op_parallelism_threads)):
        if os.environ.get(_variable, "").isdigit():  # compare/threads.py's policy, or the
            _set(int(os.environ[_variable]))         # user's: before the runtime starts
    tf.constant(0.0)  # the first op initialises the runtime, which also logs

if keras.backend.backend() != "tensorflow":
    raise ImportError(f"keras_impl needs the TensorFlow backend; KERAS_BACKEND is "
                      f"'{keras.backend.backend()}'")

tf.get_logger().setLevel("ERROR")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras, and make TF ops deterministic.

    `enable_op_determinism` makes TensorFlow pick deterministic kernels (and
    raise on ops that have none), so two runs with the same seed give the
    same numbers, not merely close ones.
    """
    random.seed(seed)
    keras.utils.set_random_seed(seed)  # also seeds NumPy's global RNG and TF
    tf.config.experimental.enable_op_determinism()


__all__ = ["tf", "keras", "seed_everything"]


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
