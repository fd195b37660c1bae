"""TensorFlow's own resident memory in a book-ch19-cnn run, apart from the hand-written side.

docs/PERFORMANCE.md, "Memory of book-ch19-cnn".  Run from the repository root:

    .venv/bin/python docs/experiments/tensorflow_memory.py

Prints the process's resident memory (VmRSS) and its peak so far (VmHWM) after
importing TensorFlow, building and compiling the preset's network (float64,
Adam), two steps of fit, and after freeing the model (del, clear_session, the
cycle collector, malloc_trim): what stays is TensorFlow's, which no change to
the hand-written side can lower.
"""

import ctypes
import gc
import re

import numpy as np


def status():
    text = open("/proc/self/status").read()
    rss, hwm = (int(re.search(rf"{field}:\s+(\d+)", text).group(1)) // 1024
                for field in ("VmRSS", "VmHWM"))
    return f"RSS {rss:,} MB, peak {hwm:,} MB"


print("start:", status(), flush=True)
import keras_impl  # noqa: E402
from keras_impl.train import compile_for_training, fit_epoch  # noqa: E402

from compare.presets import BOOK_CH19_CNN  # noqa: E402
from handrolled import NetworkSpec, init_weights, one_hot, optimizers  # noqa: E402

print("TensorFlow and Keras imported:", status(), flush=True)
spec = NetworkSpec.from_text(BOOK_CH19_CNN, inputs=(28, 28, 1), classes=10, dtype="float64")
weights = init_weights(spec)
print("weights (NumPy, 151 MB):", status(), flush=True)
model = keras_impl.build_model(spec, weights)
compile_for_training(model, spec, optimizers.for_training("adam"))
print("model built and compiled:", status(), flush=True)
rng = np.random.default_rng(0)
X, Y = rng.random((64, 28, 28, 1)), one_hot(rng.integers(0, 10, 64), 10, "float64")
run = fit_epoch(model, spec, X, Y, 32, 0)
print("after two steps of fit:", status(), flush=True)
del model, run
keras_impl.keras.backend.clear_session(free_memory=True)
gc.collect()
ctypes.CDLL("libc.so.6").malloc_trim(0)
print("model freed (del, clear_session, gc, malloc_trim):", status(), flush=True)
