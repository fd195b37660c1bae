"""The thread policy: how many threads each side computes with, decided in one place.

The hand-written side's products run in NumPy's BLAS (OpenBLAS here), whose
worker threads spin while they wait for work.  On a quiet machine a second
thread makes a large product faster; the moment another process wants the
cores, spinning threads fight it and a hand-written epoch became 20-30 times
slower (issue 15: 0.12 s quiet, 2.5-3.8 s with one competitor, 0.107 s with
one thread).  So the policy is:

    BLAS threads   measured, per network and batch: PROBE_STEPS training steps'
                   worth of work back to back (forward and backward passes at the
                   training batch, on synthetic rows), timed with one thread and
                   with every thread BLAS has, the counts taking turns; more
                   threads are used only if they are at least MARGIN times faster
                   than one.  Measured under load, more threads lose, so a busy
                   machine gets one.
    TensorFlow     intra-op threads: the same count as BLAS's when given by
                   --threads, else every usable core (TensorFlow's own default);
                   inter-op threads: 1 -- a Sequential model is a chain of ops,
                   with none to run side by side, and one pool fewer competes
                   with the hand-written side's threads.

`ThreadPolicy.blas_limits()` applies the BLAS count with threadpoolctl around
the hand-written training loop only: no environment variable is read or set
for it, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are never touched, and the
previous limits come back afterwards.  TensorFlow fixes its pools when its
runtime starts (once per process), so `apply_tensorflow_threads` must run
before TensorFlow is imported; it sets TensorFlow's own TF_NUM_INTRAOP_THREADS
and TF_NUM_INTEROP_THREADS for this process (keras_impl.runtime passes them to
tf.config.threading), and where TensorFlow had already started it records the
threads it kept.  `--threads N` overrides the measurement: N BLAS threads and N
TensorFlow intra-op threads.

The policy is recorded in results.json ("threads") and bench.json, and shown in
the report.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field

MARGIN = 1.2        # more BLAS threads only if at least this much faster than one
PROBE_ROUNDS = 5    # timings per thread count (at least 3, see PROBE_BUDGET_S)
PROBE_BUDGET_S = 0.5  # ... fewer once the probe has taken this long
PROBE_STEPS = 3     # training steps' passes back to back per timing, as the loop runs them
PROBE_ROWS = 1024   # at most this many synthetic rows per step


@dataclass
class ThreadPolicy:
    blas_threads: int                 # NumPy's BLAS, around the hand-written loop
    tf_intra_op_threads: int
    tf_inter_op_threads: int
    source: str                       # "measured", "--threads" or "one core"
    probe_seconds: dict = field(default_factory=dict)  # {threads: median forward seconds}
    tensorflow_applied: bool | None = None  # False: TensorFlow had started with other pools
    #                                         (its threads then: what it kept; 0 = one per core)

    def blas_limits(self):
        """A context manager: BLAS limited to `blas_threads` inside, as before outside."""
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=self.blas_threads, user_api="blas")

    def to_dict(self) -> dict:
        out = asdict(self)
        out["probe_seconds"] = {str(k): v for k, v in self.probe_seconds.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "ThreadPolicy":
        """The inverse of to_dict (results.json's "threads")."""
        return cls(**dict(data, probe_seconds={int(k): v for k, v in
                                               data["probe_seconds"].items()}))

    def describe(self) -> str:
        """One line for the terminal and the report."""
        why = {"--threads": "set by --threads",
               "one core": "one usable core",
               "measured": "measured: " + ", ".join(
                   f"{t} thread{'s' if t > 1 else ''} {1e3 * s:.2f} ms"
                   for t, s in self.probe_seconds.items())
               + f" per {PROBE_STEPS} forward and backward passes; more threads only if "
                 f"{MARGIN}x faster"}[self.source]
        tf_note = ("" if self.tensorflow_applied is not False else
                   " (TensorFlow had already started with its own pools; it kept them)")
        backend = os.environ.get("KERAS_BACKEND") or "tensorflow"  # keras_impl.backends
        pools = {"intra-op": self.tf_intra_op_threads, "inter-op": self.tf_inter_op_threads}
        if backend != "tensorflow":
            keras = f"Keras on {backend}: its own thread pool (TF_NUM_* do not apply)"
        elif any(pools.values()):
            keras = "TensorFlow " + ", ".join(f"{count or 'its default'} {pool}"
                                              for pool, count in pools.items()) + tf_note
        else:  # 0 is TensorFlow's "not set": it sizes both pools from the machine's cores
            keras = ("TensorFlow's default intra-op and inter-op pools, sized by it from "
                     "the machine's cores")
            keras += tf_note and "; it had already started (e.g. to load --from-keras's model)"
        return (f"{self.blas_threads} BLAS thread{'s' if self.blas_threads > 1 else ''} for "
                f"the hand-written side ({why}); {keras}")


def blas_thread_counts() -> tuple[int, ...]:
    """The BLAS thread counts to choose from: 1 and what BLAS runs with now (a
    process may already be limited, e.g. a sweep worker given its share)."""
    from threadpoolctl import threadpool_info

    current = max((pool["num_threads"] for pool in threadpool_info()
                   if pool["user_api"] == "blas"), default=1)
    return (1,) if current <= 1 else (1, current)


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def decide(spec, batch: int, threads: int | None = None, seed: int = 0) -> ThreadPolicy:
    """The policy for training `spec` at `batch` rows per step (`threads`: --threads)."""
    if threads is not None:
        return ThreadPolicy(threads, threads, 1, "--threads")
    counts = blas_thread_counts()
    intra = usable_cores()
    if len(counts) == 1:
        return ThreadPolicy(1, intra, 1, "one core")
    probe = probe_seconds(spec, batch, counts, seed)
    chosen = 1
    for count in counts[1:]:
        if probe[count] * MARGIN <= probe[chosen]:
            chosen = count
    return ThreadPolicy(chosen, intra, 1, "measured", probe)


def probe_seconds(spec, batch: int, counts, seed: int = 0) -> dict[int, float]:
    """Median seconds of PROBE_STEPS forward and backward passes, back to back, of
    `spec`'s network on `batch` synthetic rows (at most PROBE_ROWS) per BLAS thread
    count, the counts taking turns, so that a burst of load hits each alike.

    Back to back and at the training batch, because that is how the loop runs them:
    a single small forward pass (the probe before) timed mostly the waking of BLAS'
    idle threads, and chose one thread on a quiet machine where two made the
    epoch 1.27x faster (784-100-10 at batch 1000, docs/PERFORMANCE.md)."""
    from threadpoolctl import threadpool_limits

    from handrolled import Network, init_weights

    from .synthetic import synthetic_batch

    rows = min(batch, PROBE_ROWS)
    X, Y = synthetic_batch(spec, rows, seed)
    X = X.reshape((rows, *spec.input_shape))
    network = Network(spec, init_weights(spec))
    seconds: dict[int, list[float]] = {count: [] for count in counts}
    started = time.perf_counter()
    for round_ in range(PROBE_ROUNDS + 1):  # round 0: warm-up (threads start, pages touched)
        for count in counts:
            with threadpool_limits(limits=count, user_api="blas"):
                start = time.perf_counter()
                for _ in range(PROBE_STEPS):
                    network.loss_and_gradients(X, Y)
                elapsed = time.perf_counter() - start
            if round_:
                seconds[count].append(elapsed)
        if round_ >= 3 and time.perf_counter() - started > PROBE_BUDGET_S:
            break
    return {count: statistics.median(times) for count, times in seconds.items()}


TF_VARIABLES = {"intra": "TF_NUM_INTRAOP_THREADS", "inter": "TF_NUM_INTEROP_THREADS"}


def apply_tensorflow_threads(policy: ThreadPolicy) -> ThreadPolicy:
    """Give TensorFlow the policy's pools if it has not started yet; record whether it did.
    A user's own TF_NUM_*_THREADS settings win over the measured policy (not over
    --threads)."""
    if "tensorflow" in sys.modules:  # its pools are fixed: record the ones it has
        from .environment import tensorflow_info

        info = tensorflow_info()
        kept = (info["tf_intra_op_threads"], info["tf_inter_op_threads"])
        policy.tensorflow_applied = kept == (policy.tf_intra_op_threads,
                                             policy.tf_inter_op_threads)
        policy.tf_intra_op_threads, policy.tf_inter_op_threads = kept
        return policy
    values = {"intra": policy.tf_intra_op_threads, "inter": policy.tf_inter_op_threads}
    for key, variable in TF_VARIABLES.items():
        if policy.source == "--threads" or variable not in os.environ:
            os.environ[variable] = str(values[key])
        else:
            setattr(policy, f"tf_{key}_op_threads", int(os.environ[variable]))
    policy.tensorflow_applied = True
    return policy

