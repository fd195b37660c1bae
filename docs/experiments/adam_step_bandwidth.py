"""One Adam step on a large parameter against the memory-bandwidth bound.

docs/PERFORMANCE.md, "In-place optimizer updates".  Run from the repository root:

    .venv/bin/python docs/experiments/adam_step_bandwidth.py            # 18.9M float64
    .venv/bin/python docs/experiments/adam_step_bandwidth.py 18900000 float32 adam

The bound: a step must read w, g, m, v and write w, m, v (7 arrays; Adam with
amsgrad or another optimizer: 3 + 2 x its slots), at the copy bandwidth the
machine shows for np.copyto of an array of the same size (read + write = 2
arrays).  Prints the copy time, the step (best and median of 7) and the ratio.
"""

import sys
import time

import numpy as np

from handrolled import optimizers

N = int(sys.argv[1]) if len(sys.argv) > 1 else 18_900_000
DTYPE = sys.argv[2] if len(sys.argv) > 2 else "float64"
TEXT = sys.argv[3] if len(sys.argv) > 3 else "adam"


def timed(f, k=7):
    seconds = []
    for _ in range(k):
        start = time.perf_counter()
        f()
        seconds.append(time.perf_counter() - start)
    return min(seconds), float(np.median(seconds))


rng = np.random.default_rng(0)
w, g = rng.normal(size=N).astype(DTYPE), rng.normal(size=N).astype(DTYPE)
source, target = rng.normal(size=N).astype(DTYPE), np.empty(N, dtype=DTYPE)
np.copyto(target, source)
copy_best, _ = timed(lambda: np.copyto(target, source), 9)
bandwidth = 2 * source.nbytes / copy_best
opt = optimizers.get(TEXT)
params, grads = {"w": w}, {"w": g}
opt.apply(params, grads)  # builds the slots, warms up
best, median = timed(lambda: opt.apply(params, grads))
touched = (3 + 2 * len(opt.slots())) * w.nbytes
bound = touched / bandwidth
print(f"{N} {DTYPE} {opt.text}: copy {copy_best * 1e3:.1f} ms -> {bandwidth / 1e9:.2f} GB/s; "
      f"step best {best * 1e3:.1f} ms, median {median * 1e3:.1f} ms; bound {bound * 1e3:.1f} ms "
      f"({touched / 1e6:.0f} MB touched); step / bound {best / bound:.2f}")
