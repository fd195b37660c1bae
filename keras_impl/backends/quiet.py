"""Importing a backend quietly: TensorFlow prints start-up lines (oneDNN, CUDA
stubs, CPU features) from C++ before its logging is configured, so its log-level
variable alone does not silence them.  File descriptor 2 points at /dev/null for
the duration of the import; any Python exception raised by the import still
reaches the caller after stderr is restored.

`without_tensorflow`: Keras on JAX or torch still imports TensorFlow where it is
installed (keras.utils.set_random_seed seeds it "for tf.data"; serialization and
data adapters check for it), which takes seconds and prints CUDA lines.  Telling
Keras' lazy TensorFlow module that it is unavailable makes those backends take the
same code path with or without TensorFlow installed (the TensorFlow-free install's).
"""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def stderr_to_devnull():
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


def without_tensorflow() -> None:
    """Keras' own lazy TensorFlow module reports TensorFlow as unavailable (see above)."""
    from keras.src.utils import module_utils

    if "tensorflow" not in sys.modules:
        module_utils.tensorflow._available = False
