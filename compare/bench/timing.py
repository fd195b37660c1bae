"""Timing for the benchmark's measurements of the work itself (the matmul peak, the breakdown).

Training epochs are timed by compare/training/runtime.py (`Stopwatch`, `runtime_summary`).
"""

from __future__ import annotations

import time


def best_seconds(fn, repeats: int) -> float:
    """The fastest of `repeats` timed calls of fn(), after one untimed warm-up call.

    The minimum, not the mean: it is the cost of the work itself, since
    interference from other processes can only add to it (for the matmul peak
    and the per-phase breakdown of a step)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
