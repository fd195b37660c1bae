"""What copying a batch of shuffled rows costs, and what did not make it cheaper.

docs/PERFORMANCE.md, "Tried, measured, and left out".  Run from the repository root:

    .venv/bin/python docs/experiments/gather_costs.py

Per batch of 1,000 rows out of 60,000 MNIST-shaped float32 rows (best of 7
passes over the whole set): the gather as handrolled.fast does it, the same
rows in sorted order, a contiguous copy of as many bytes, the gather split
over two threads, and rows padded to 1,024 columns (one 4 KB page each).
"""

import timeit
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ROWS, BATCH = 60000, 1000
rng = np.random.default_rng(0)
order = rng.permutation(ROWS)
batches = [order[s:s + BATCH] for s in range(0, ROWS, BATCH)]
pool = ThreadPoolExecutor(1)


def per_batch(X, gather):
    """Seconds per batch, cycling through the epoch's batches (so rows come from memory)."""
    out = np.empty((BATCH, X.shape[1]), X.dtype)
    counter = iter(range(10 ** 9))
    return min(timeit.repeat(lambda: gather(X, batches[next(counter) % len(batches)], out),
                             number=len(batches), repeat=7)) / len(batches)


def take(X, rows, out):
    np.take(X, rows, axis=0, out=out, mode="wrap")


def take_sorted(X, rows, out):
    np.take(X, np.sort(rows), axis=0, out=out, mode="wrap")


def contiguous(X, rows, out):
    start = int(rows[0]) % (ROWS - BATCH)
    np.copyto(out, X[start:start + BATCH])


def two_threads(X, rows, out):
    half = BATCH // 2
    second = pool.submit(np.take, X, rows[half:], 0, out[half:], "wrap")
    np.take(X, rows[:half], axis=0, out=out[:half], mode="wrap")
    second.result()


if __name__ == "__main__":
    X = rng.random((ROWS, 784), dtype=np.float32)
    for name, gather in (("gather (handrolled.fast)", take), ("gather, rows sorted", take_sorted),
                         ("contiguous copy", contiguous), ("gather on two threads", two_threads)):
        seconds = per_batch(X, gather)
        print(f"{name:26s} {1e3 * seconds:.3f} ms per batch, "
              f"{BATCH * 784 * 4 / seconds / 1e9:.1f} GB/s read")
    padded = rng.random((ROWS, 1024), dtype=np.float32)
    seconds = per_batch(padded, take)
    print(f"{'gather, 1,024 columns':26s} {1e3 * seconds:.3f} ms per batch, "
          f"{BATCH * 1024 * 4 / seconds / 1e9:.1f} GB/s read")
