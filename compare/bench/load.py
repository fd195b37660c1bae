"""A busy machine as a measured configuration: `nn-compare bench --load N`.

`competing_load(n)` starts n processes that each keep one core busy with a
pure-Python loop (no NumPy, no BLAS: they compete for the cores, not for the
libraries), for as long as the `with` block runs, then stops them:

    with competing_load(1):
        ... time the epochs ...

They are stopped however the block ends (an exception, Ctrl-C): terminate,
then kill any that has not exited within a second.  Should this process die
without running its `finally` (SIGKILL), each competitor notices that its
parent is gone and exits on its own within a fraction of a second.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os

STOP_WAIT_S = 1.0     # after terminate(), how long to wait before kill()
CHECK_EVERY = 200_000  # loop iterations between two looks at the parent


def spin(parent: int) -> None:
    """Keep one core busy until terminated or until `parent` is gone."""
    while os.getppid() == parent:
        for _ in range(CHECK_EVERY):
            pass


@contextlib.contextmanager
def competing_load(n: int):
    """n busy processes for the duration of the block (none for n = 0); yields their pids."""
    context = multiprocessing.get_context("spawn")  # no copy of this process' threads
    workers = [context.Process(target=spin, args=(os.getpid(),), daemon=True,
                               name=f"nn-compare-load-{i}") for i in range(n)]
    try:
        for worker in workers:
            worker.start()
        yield [worker.pid for worker in workers]
    finally:
        stop(workers)


def stop(workers) -> None:
    for worker in workers:
        if worker.pid is not None:
            worker.terminate()
    for worker in workers:
        if worker.pid is None:
            continue
        worker.join(STOP_WAIT_S)
        if worker.is_alive():
            worker.kill()
            worker.join()
