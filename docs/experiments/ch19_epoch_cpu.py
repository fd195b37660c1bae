"""CPU seconds of one hand-written epoch of the book-ch19-cnn network, as `train` runs it.

docs/PERFORMANCE.md, "The layer-by-layer fast epoch".  Run from the repository root,
one BLAS thread (CPU time of this thread: a busy machine disturbs it far less than
wall-clock time):

    OPENBLAS_NUM_THREADS=1 .venv/bin/python docs/experiments/ch19_epoch_cpu.py float64

`sgd_epoch_fast` with Adam, batch 32, on 256 synthetic rows of 28x28x1; median (min-max)
of 3 epochs after a warm-up.  Run it on two checkouts to compare them.
"""

import sys
import time

import numpy as np

from compare.presets import BOOK_CH19_CNN
from handrolled import Network, NetworkSpec, init_weights, one_hot, optimizers
from handrolled.fast import sgd_epoch_fast

DTYPE = sys.argv[1] if len(sys.argv) > 1 else "float64"
ROWS = 256
spec = NetworkSpec.from_text(BOOK_CH19_CNN, inputs=(28, 28, 1), classes=10, dtype=DTYPE)
rng = np.random.default_rng(0)
X = rng.random((ROWS, 28, 28, 1)).astype(DTYPE)
Y = one_hot(rng.integers(0, 10, ROWS), 10, DTYPE)
network, adam = Network(spec, init_weights(spec)), optimizers.get("adam")
seconds = []
for epoch in range(4):
    order = rng.permutation(ROWS)
    start = time.thread_time()
    sgd_epoch_fast(network, X, Y, 32, adam, order, epoch, epoch * 8)
    seconds.append(time.thread_time() - start)
timed = seconds[1:]
print(f"book-ch19-cnn {DTYPE}, Adam, batch 32, {ROWS} rows: CPU seconds an epoch, median "
      f"{np.median(timed):.2f} ({min(timed):.2f}-{max(timed):.2f})")
