"""Two more things that did not make a step faster: other product layouts, and a
row maximum by folding column halves.

docs/PERFORMANCE.md, "Tried, measured, and left out".  Run from the repository root:

    .venv/bin/python docs/experiments/products_and_row_max.py
"""

import time
import timeit

import numpy as np

from compare.synthetic import synthetic_batch
from handrolled import Network, NetworkSpec, fast, init_weights
from handrolled.train import batch_starts

rng = np.random.default_rng(0)


def microseconds(call):
    call()
    return 1e6 * min(timeit.repeat(call, number=300, repeat=5)) / 300


def layouts(m=128):
    X, W = rng.random((m, 784), dtype=np.float32), rng.random((784, 100), dtype=np.float32)
    W_T, delta = np.ascontiguousarray(W.T), rng.random((m, 100), dtype=np.float32)
    z, z_T = np.empty((m, 100), np.float32), np.empty((100, m), np.float32)
    g, g_T = np.empty((784, 100), np.float32), np.empty((100, 784), np.float32)
    for name, call in (("X W", lambda: np.matmul(X, W, out=z)),
                       ("X (W^T)^T", lambda: np.matmul(X, W_T.T, out=z)),
                       ("W^T X^T", lambda: np.matmul(W_T, X.T, out=z_T)),
                       ("X^T delta", lambda: np.matmul(X.T, delta, out=g)),
                       ("delta^T X", lambda: np.matmul(delta.T, X, out=g_T))):
        print(f"batch {m}: {name:10s} {microseconds(call):6.1f} us")


def row_max_fold(s, out, scratch):
    """out = s.max(axis=1, keepdims=True) by the elementwise maximum of column halves."""
    cols = s
    while cols.shape[1] > 1:
        half = cols.shape[1] // 2
        folded = scratch[:, :half]
        np.maximum(cols[:, :half], cols[:, half:2 * half], out=folded)
        if cols.shape[1] % 2:
            np.maximum(folded[:, :1], cols[:, 2 * half:], out=folded[:, :1])
        cols = folded
    np.copyto(out, cols)


def softmax_with_fold(ws, Y_b):
    """handrolled.fast._softmax_loss_delta with the fold in place of np.max."""
    m = Y_b.shape[0]
    real_max, scratch = np.max, np.empty((m, ws.z[-1].shape[1] // 2), ws.dtype)

    def folding_max(a, axis=None, keepdims=False, out=None, **kwargs):
        if axis == 1 and out is not None and a is not None and a.ndim == 2:
            row_max_fold(a, out, scratch[:a.shape[0]])
            return out
        return real_max(a, axis=axis, keepdims=keepdims, out=out, **kwargs)

    np.max = folding_max
    try:
        return ORIGINAL_SOFTMAX(ws, Y_b)
    finally:
        np.max = real_max


ORIGINAL_SOFTMAX = fast._softmax_loss_delta


def row_max(rows=30000, repeats=9):
    s = rng.random((1000, 10), dtype=np.float32)
    out, scratch = np.empty((1000, 1), np.float32), np.empty((1000, 5), np.float32)
    row_max_fold(s, out, scratch)
    assert np.array_equal(out, s.max(axis=1, keepdims=True))
    print(f"row max of 1000x10 alone: np.max {microseconds(lambda: np.max(s, axis=1, keepdims=True, out=out)):.1f} us, "
          f"fold {microseconds(lambda: row_max_fold(s, out, scratch)):.1f} us")
    spec = NetworkSpec.from_text("100:sigmoid", inputs=784, classes=10, dtype="float32", seed=0)
    X, Y = synthetic_batch(spec, rows, 0)
    order = np.random.default_rng(0).permutation(rows)
    for batch in (1000, 32):
        nets = [Network(spec, init_weights(spec)) for _ in range(2)]
        seconds = {"np.max": [], "fold": []}
        for _ in range(repeats):  # interleaved
            for (name, times), net in zip(seconds.items(), nets):
                fast._softmax_loss_delta = ORIGINAL_SOFTMAX if name == "np.max" else softmax_with_fold
                start = time.perf_counter()
                fast.sgd_epoch_fast(net, X, Y, batch, 0.01, order=order)
                times.append(time.perf_counter() - start)
        fast._softmax_loss_delta = ORIGINAL_SOFTMAX
        assert all(np.array_equal(nets[0].params[k], nets[1].params[k]) for k in nets[0].params)
        steps = len(batch_starts(rows, batch))
        print(f"fast loop, batch {batch}: " + ", ".join(
            f"{name} {1e3 * np.median(t) / steps:.3f} ms per step" for name, t in seconds.items()))


if __name__ == "__main__":
    layouts()
    row_max()
