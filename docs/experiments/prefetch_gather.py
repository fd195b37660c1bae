"""Would a second thread gathering the next batch hide the gather?  (No, measured.)

docs/PERFORMANCE.md, "Tried, measured, and left out".  Run from the repository root:

    .venv/bin/python docs/experiments/prefetch_gather.py
    OPENBLAS_THREAD_TIMEOUT=4 .venv/bin/python docs/experiments/prefetch_gather.py

The variant starts gathering batch k+1 right after step k's first product, so
the copy overlaps the single-threaded phases.  It computes the same numbers as
handrolled.fast (asserted).  The last lines show why it does not help: after a
product, OpenBLAS's worker thread spins on the second core.
"""

import resource
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from compare.synthetic import synthetic_batch
from handrolled import Network, NetworkSpec, fast, init_weights
from handrolled.fast import NO_CAST
from handrolled.train import batch_starts

POOL = ThreadPoolExecutor(1)


def epoch_prefetch(network, X, Y, batch, lr, order):
    ws = fast.workspace(network, batch)
    weights = [(network.params[f"W{l}"], network.params[f"b{l}"])
               for l in range(1, network.spec.depth + 1)]
    kernels = [fast.kernel_for(f) for f in network.activations]
    starts = batch_starts(X.shape[0], batch)
    buffers = [(np.empty((batch, X.shape[1]), X.dtype), np.empty((batch, Y.shape[1]), Y.dtype))
               for _ in range(2)]

    def gather(slot, k):
        rows = order[starts[k]:starts[k] + batch]
        X_b, Y_b = buffers[slot][0][:len(rows)], buffers[slot][1][:len(rows)]
        np.take(X, rows, axis=0, out=X_b, mode="wrap")
        np.take(Y, rows, axis=0, out=Y_b, mode="wrap")
        return X_b, Y_b

    losses, following = np.empty(len(starts)), gather(0, 0)
    for k in range(len(starts)):
        (X_b, Y_b), pending = following, None
        m, a = X_b.shape[0], [X_b]
        for l, (W, b) in enumerate(weights, start=1):
            z = ws.z[l - 1][:m]
            np.matmul(a[-1], W, out=z, **NO_CAST)
            if l == 1 and k + 1 < len(starts):
                pending = POOL.submit(gather, (k + 1) % 2, k + 1)
            np.add(z, b, out=z, **NO_CAST)
            last = l == len(weights)
            a.append(z if last else fast._activate(network.activations[l - 1], kernels[l - 1], z))
        losses[k] = fast._softmax_loss_delta(ws, Y_b)
        fast._backward_update(network, ws, weights, kernels, a, lr)
        if pending is not None:
            following = pending.result()
    return losses


def compare(hidden, batch, rows=30000, repeats=7):
    spec = NetworkSpec.from_text(hidden, inputs=784, classes=10, dtype="float32", seed=0)
    nets = [Network(spec, init_weights(spec)) for _ in range(2)]
    X, Y = synthetic_batch(spec, rows, 0)
    order = np.random.default_rng(0).permutation(rows)
    impls = {"fast": lambda: fast.sgd_epoch_fast(nets[0], X, Y, batch, 0.01, order=order),
             "prefetch": lambda: epoch_prefetch(nets[1], X, Y, batch, 0.01, order)}
    assert np.array_equal(impls["fast"](), impls["prefetch"]())  # the same numbers
    seconds = {name: [] for name in impls}
    for _ in range(repeats):  # interleaved
        for name, run in impls.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    steps = len(batch_starts(rows, batch))
    print(f"{hidden} batch {batch}: " + ", ".join(
        f"{name} {1e3 * np.median(s) / steps:.3f} ms per step" for name, s in seconds.items()))


def spinning_worker():
    rng = np.random.default_rng(0)
    A, W = rng.random((1000, 784), dtype=np.float32), rng.random((784, 100), dtype=np.float32)
    Z, E = np.empty((1000, 100), np.float32), rng.random((1000, 1000), dtype=np.float32)

    def cpu_and_wall(with_product):
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for _ in range(300):
            if with_product:
                np.matmul(A, W, out=Z)
            for _ in range(5):
                np.sin(E, out=E)
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        return cpu, time.perf_counter() - start

    for label, flag in (("a product, then one-threaded work", True), ("one-threaded work", False)):
        cpu, wall = cpu_and_wall(flag)
        print(f"{label}: {cpu:.2f} s of CPU in {wall:.2f} s of wall time")


if __name__ == "__main__":
    for batch in (1000, 128, 32):
        compare("100:sigmoid", batch)
    compare("256:relu,256:relu,256:relu,256:relu", 128)
    spinning_worker()
