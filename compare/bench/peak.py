"""The machine's own limit: measured matrix-multiply speed.

`matmul_peak` times a large square product C = A B with NumPy (the BLAS that
the hand-written loop uses) and keeps the best of a few runs: a peak is what
the machine *can* do, so interference from other processes should not lower
it.  It is measured with every BLAS thread count the thread policy chooses
from (compare/threads.py: one, and all) and the best kept: on a busy machine
spinning threads collapse, and one thread is then the machine's real peak.
What ran it (CPU, cores, the BLAS library and its kernel, thread counts,
OPENBLAS_* settings, versions) is recorded by
compare/environment.py's `describe_timing_environment`.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from ..threads import blas_thread_counts
from .timing import best_seconds


def matmul_peak(dtype: str, size: int = 2048, repeats: int = 5, seed: int = 0) -> float:
    """Best GFLOP/s of a (size x size) @ (size x size) product in `dtype`."""
    rng = np.random.default_rng(seed)
    A = rng.random((size, size)).astype(dtype)
    B = rng.random((size, size)).astype(dtype)
    C = np.empty((size, size), dtype=dtype)
    best = float("inf")
    for count in blas_thread_counts():
        with threadpool_limits(limits=count, user_api="blas"):
            # best_seconds' warm-up call starts the BLAS threads and touches the pages.
            best = min(best, best_seconds(lambda: np.matmul(A, B, out=C), repeats))
    return 2.0 * size ** 3 / best / 1e9
