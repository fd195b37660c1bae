"""Running configurations in parallel, yielding each result row as it finishes.

* local (default): `--workers N` processes started with "spawn" (a fresh
  interpreter each: forking a process that has TensorFlow loaded can hang),
  each reused for many configurations; N = 1 runs in this process.  Each
  worker dies with the sweep that started it, even after kill -9 of the
  sweep (`die_with_parent`).
* Dask: `--scheduler ADDRESS` submits the same function to an existing
  dask.distributed cluster; its workers need this project installed.

Both are generators: closing one (Ctrl-C, an error) cancels what has not started.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Iterable, Iterator

from handrolled.errors import MachineError, SpecError

from ..processes import die_with_parent

from .plan import Configuration
from .worker import run_configuration

CONNECT_TIMEOUT_S = 5


def run_local(configs: Iterable[Configuration], workers: int) -> Iterator[dict]:
    configs = list(configs)
    if workers == 1:
        for config in configs:
            yield run_configuration(config)
        return
    workers = min(workers, len(configs)) or 1
    threads = max(1, (os.cpu_count() or 1) // workers)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=start_worker, initargs=(threads, os.getpid()))
    try:
        futures = [pool.submit(run_configuration, config) for config in configs]
        for future in as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def start_worker(threads: int, parent: int) -> None:
    """The initializer of every local worker process."""
    die_with_parent(parent)
    share_cores(threads)


def share_cores(threads: int) -> None:
    """Give each worker process its share of the cores.  Measured: two workers whose
    BLAS and TensorFlow each start one thread per core made the hand-written epochs
    tens of times slower (threads spinning against each other).  TensorFlow reads
    the variables when it is imported, later, inside the worker."""
    from threadpoolctl import threadpool_limits

    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    threadpool_limits(threads)


def connect(address: str):
    """A dask.distributed Client for `address`, or a one-line SpecError (exit 2)."""
    from distributed import Client

    check_address(address)  # a malformed one would leave a half-made Client hanging at exit
    try:
        return Client(address, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise MachineError(f"cannot reach the Dask scheduler at '{address}' within "
                           f"{CONNECT_TIMEOUT_S} s ({type(error).__name__}); start one with "
                           f"`dask scheduler` (and `dask worker ADDRESS`) or leave out "
                           f"--scheduler to run locally") from None


# The schemes a Client can open without more settings than an address: tls:// and wss://
# need certificates (a Security object, which nn-compare does not take), and this
# distributed's ucx:// connector cannot be made (both raised TypeError tracebacks).
SCHEMES = ("tcp", "inproc")
NOT_SPOKEN = {"tls": " (it needs certificates)", "wss": " (it needs certificates)",
              "ucx": " (this Dask cannot open it)"}


def check_address(address: str) -> None:
    """A scheme Dask speaks and, for the network ones, HOST:PORT, e.g. tcp://10.0.0.5:8786."""
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        get_backend(scheme)  # ValueError naming the known schemes
        if scheme not in SCHEMES:
            raise ValueError(f"nn-compare connects over {' or '.join(SCHEMES)}, not {scheme}"
                             f"{NOT_SPOKEN.get(scheme, '')}")
        if scheme != "inproc":  # in-process clusters (tests) have no port
            _, port = parse_host_port(location)
            if not 0 < port < 65536:
                raise ValueError(f"port {port} is not 1..65535")
    except (ValueError, TypeError) as error:
        raise SpecError(f"--scheduler '{address}' is not a scheduler address ({error}); "
                        f"expected tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786") from None


def profiler_hang_risk(client) -> list[str]:
    """The workers of `client` whose stack-sampling profiler can deadlock them.

    Dask's worker profiler calls sys._current_frames() every 10 ms.  On CPython
    3.11 before 3.11.12 that call can trigger a garbage collection that frees a
    TensorFlow graph holding a threading.local, which waits for a lock the call
    already holds: the worker hangs for good (CPython gh-106883; seen here on
    3.11.7 as a sweep that never finished).  Dask keeps its own event-loop
    profiler off on every 3.11, but not the workers' task profiler.
    A worker that cannot answer (an old install of this project) counts as at risk.
    """
    answers = client.run(_profiler_at_risk, on_error="return")
    return sorted(address for address, risky in answers.items() if risky is not False)


def _profiler_at_risk(dask_worker) -> bool:
    import sys

    return "profile" in dask_worker.periodic_callbacks and has_gh106883(sys.version_info)


def has_gh106883(version) -> bool:
    """Whether this CPython version can deadlock in sys._current_frames() during GC:
    3.11.0 to 3.11.11 (3.10 did not lock there; 3.11.12 and 3.12 do not deadlock)."""
    return (3, 11, 0) <= tuple(version[:3]) < (3, 11, 12)


def run_dask(configs: Iterable[Configuration], client) -> Iterator[dict]:
    from distributed import as_completed as dask_completed

    futures = [client.submit(run_configuration, config, pure=False) for config in configs]
    try:
        for future in dask_completed(futures, loop=client.loop):  # not a default client
            yield future.result()
    finally:
        client.cancel([f for f in futures if not f.done()])
        client.close()
