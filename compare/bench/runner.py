"""Seconds per epoch of the same training, by hand and in Keras, against the machine's peak.

For each configuration (network, batch size, dtype, rows per epoch) and
implementation, on synthetic data of MNIST shape (flat rows of 784 for a dense
network, 28x28x1 images for one with convolutions or pooling), with a seeded
permutation of the rows every epoch:

* one warm-up epoch each (Keras traces its graphs, NumPy's buffers and BLAS
  threads start), then `repeats` rounds in which every implementation trains
  one epoch in turn (interleaved, so load from other processes spreads over
  all of them); the figure is the median of each one's epochs, and their
  minimum and maximum show the spread;
* the hand-written epochs run under the configuration's thread policy
  (compare/threads.py: BLAS threads measured per network and batch, or
  --threads); `load` competitor processes (compare/bench/load.py, --load)
  keep cores busy from before the policy is measured to after the last epoch;
* step seconds = epoch seconds / steps per epoch;
* memory = the resident memory an implementation holds (set up and warmed up)
  plus its epochs' largest rise above that (compare/bench/memory.py);
* GFLOP/s = matmul flops of the epoch (compare/bench/flops.py: dense and
  convolution products) / epoch seconds;
* percent of peak = that / the best GFLOP/s of a large square NumPy product
  in the same dtype, measured in the same run, before and after the
  configurations (compare/bench/peak.py); the machine is described by
  compare/environment.py.

Configurations: DEFAULT_SHAPES (the book's network at batch 32, 128, 1000, the
deep one at 128, and CONV, a small convolutional network, at 32 and 128), a
suite (SUITES; "cnn": CONV and the book-ch19-cnn network on CH19_ROWS rows), or
any network spec the command line is given.  Rows per epoch: --rows for
every configuration, else `default_rows`: 60,000 (an MNIST epoch) for a dense
network, 2,000 for any other -- a NumPy convolution is tens of times slower
per row than the dense networks here, so 60,000 rows would make each of its
epochs take tens of seconds, and the whole bench many minutes.

Implementations (IMPLS):
    handrolled           handrolled.fast.sgd_epoch_fast (the fused loop; for a
                         network that is not dense-only, or another optimizer,
                         the layer-by-layer fast epoch, handrolled/fast_conv.py)
    handrolled_textbook  handrolled.train.sgd_epoch (the readable loop; optional)
    keras_fit            model.fit(shuffle=True, verbose=0), as users call it
    keras_compiled       the epoch as one tf.function (keras_impl/compiled.py)
    keras_spe            fit with compile(steps_per_execution=steps) (optional)
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

import numpy as np

from handrolled import MNIST_SHAPE, NetworkSpec, init_weights
from handrolled.train import batch_starts

from ..presets import BOOK_CH19_CNN
from .flops import flops_per_row
from .memory import Meter

BOOK = "100:sigmoid"
DEEP = "256:relu,256:relu,256:relu,256:relu"
CONV = "conv(16,3,relu),maxpool(2),flatten,dense(100,relu)"
BOOK_BATCHES = (32, 128, 1000)
CONV_BATCHES = (32, 128)
CH19_ROWS = 320                 # the book-ch19-cnn network at 10 steps of 32 rows an epoch
SUITES = {  # --suite: which default configurations, as (network, batch[, rows per epoch])
    "dense": (*((BOOK, batch) for batch in BOOK_BATCHES), (DEEP, 128)),
    "conv": tuple((CONV, batch) for batch in CONV_BATCHES),
}
SUITES["all"] = SUITES["dense"] + SUITES["conv"]
SUITES["cnn"] = SUITES["conv"] + ((BOOK_CH19_CNN, 32, CH19_ROWS),)
DEFAULT_SUITE = "all"
DEFAULT_SHAPES = SUITES[DEFAULT_SUITE]
DEFAULT_DTYPES = ("float32", "float64")
DEFAULT_IMPLS = ("handrolled", "keras_fit", "keras_compiled")
BASELINE = "handrolled"
INPUT_SHAPE = MNIST_SHAPE       # synthetic rows of MNIST shape: 28x28x1 (784 for dense)
DENSE_ROWS = 60000              # rows per epoch of a dense network: one MNIST epoch
OTHER_ROWS = 2000               # ... of any other (convolutions in NumPy are slow)


def bench_spec(hidden: str, dtype: str = "float32", seed: int = 0,
               input_shape=INPUT_SHAPE) -> NetworkSpec:
    """The network a configuration times (SpecError on a bad spec); images of
    `input_shape` (default MNIST's 28x28x1; --input-shape 32x32x3 for CIFAR's)."""
    return NetworkSpec.from_text(hidden, inputs=input_shape, classes=10, dtype=dtype, seed=seed)


def default_rows(spec: NetworkSpec) -> int:
    """Rows per epoch when --rows is not given: DENSE_ROWS for a dense-only network
    (the fast loop), OTHER_ROWS for any other."""
    return DENSE_ROWS if spec.is_dense else OTHER_ROWS


@dataclass(frozen=True)
class Config:
    hidden: str                 # the network's spec text: '100:sigmoid', 'conv(16,3,relu),...'
    batch: int
    dtype: str
    rows: int | None = None     # rows per epoch (None: run_bench's `rows`, or default_rows)
    input_shape: tuple = INPUT_SHAPE  # one synthetic row's shape


@dataclass
class Row:
    hidden: str                 # the spec text, as given
    batch: int
    dtype: str
    impl: str
    epoch_seconds: float        # median of the timed epochs
    epoch_seconds_min: float    # ... their spread
    epoch_seconds_max: float
    step_seconds: float
    gflops: float
    percent_of_peak: float
    steps: int
    warmup_seconds: float       # the first epoch (Keras: includes tracing)
    all_epoch_seconds: list[float]
    rows: int                   # rows per epoch
    flops_per_row: int          # matmul flops of one row's step (flops.py)
    dense: bool                 # dense-only (the fast loop) or not
    blas_threads: int | None = None  # the hand-written side's BLAS threads (compare/threads.py)
    input_shape: tuple = INPUT_SHAPE
    memory_mb: float | None = None      # resident memory it holds + its epochs' peak above
    held_mb: float | None = None        # that (compare/bench/memory.py); None where Linux's
    epoch_peak_mb: float | None = None  # /proc does not tell


# ------------------------------------------------------------ the runners
# Each runner sets an implementation up (model, compile, buffers) and returns
# a function that trains one epoch and returns its seconds.  `bench_config`
# calls them round-robin, so a burst of load from another process on this
# shared machine hits every implementation alike instead of one of them.

def _handrolled(loop: str):
    """`loop`: "fast" or "textbook", the hand-written epochs of `nn-compare train --loop`;
    each epoch under the thread policy's BLAS limit."""
    def setup(spec, weights, X, Y, batch, lr, seed, threads):
        from handrolled import Network

        from ..experiment import handrolled_loop
        from handrolled import optimizers

        epoch_fn = handrolled_loop(loop)
        network, rng = Network(spec, weights), np.random.default_rng(seed)
        lr = optimizers.for_training(lr)  # SGD at a bare rate: the fast loop fuses its update
        steps, epochs_done = len(batch_starts(X.shape[0], batch)), 0

        def epoch() -> float:
            nonlocal epochs_done
            order = rng.permutation(X.shape[0])
            with threads.blas_limits():
                start = time.perf_counter()
                epoch_fn(network, X, Y, batch, lr, order, epochs_done, epochs_done * steps)
                seconds = time.perf_counter() - start
            epochs_done += 1
            return seconds
        return epoch
    return setup


def _keras_fit(steps_per_execution: bool):
    def setup(spec, weights, X, Y, batch, lr, seed, threads):
        from keras_impl import build_model, keras, loss_function
        from keras_impl.compiled import compile_steps_per_execution
        from keras_impl.optimizers import training_optimizer
        from keras_impl.train import EpochTimer, floatx

        keras.utils.set_random_seed(seed)  # fit's shuffle
        model = build_model(spec, weights)
        if steps_per_execution:
            compile_steps_per_execution(model, spec, lr, len(batch_starts(X.shape[0], batch)))
        else:  # as a user writes it
            with floatx(spec.dtype):
                model.compile(optimizer=training_optimizer(lr, spec.dtype),
                              loss=loss_function(spec))
        timer = EpochTimer()

        def epoch() -> float:
            # floatx = the spec's dtype, or fit would round float64 data to float32.
            # One fit call per epoch; the timer sees only the epoch inside it.
            with floatx(spec.dtype):
                model.fit(X, Y, batch_size=batch, epochs=1, shuffle=True, verbose=0,
                          callbacks=[timer])
            return timer.seconds[-1]
        return epoch
    return setup


def _keras_compiled(spec, weights, X, Y, batch, lr, seed, threads):
    from keras_impl import build_model, tf
    from keras_impl.compiled import CompiledEpoch

    model = build_model(spec, weights)
    epoch_fn = CompiledEpoch(model, spec, lr, batch)
    X_t, Y_t = tf.constant(X), tf.constant(Y)  # once: the data lives in TF, as in fit
    rng = np.random.default_rng(seed)

    def epoch() -> float:
        order = rng.permutation(X.shape[0])
        start = time.perf_counter()
        epoch_fn(X_t, Y_t, order)
        return time.perf_counter() - start
    return epoch


IMPLS = {
    "handrolled": _handrolled("fast"),
    "handrolled_textbook": _handrolled("textbook"),
    "keras_fit": _keras_fit(steps_per_execution=False),
    "keras_compiled": _keras_compiled,
    "keras_spe": _keras_fit(steps_per_execution=True),
}
KERAS_IMPLS = ("keras_fit", "keras_compiled", "keras_spe")
TENSORFLOW_ONLY = ("keras_compiled",)  # on another Keras backend, bench leaves it out


# ------------------------------------------------------------- the bench
def bench_config(config: Config, impls, rows: int | None, repeats: int, lr: float,
                 seed: int, threads: int | None = None) -> list[Row]:
    """Time every implementation on one configuration, from the same weights and data.
    Rows per epoch: config.rows, else `rows`, else default_rows.  `threads`: --threads
    (None: the policy measures).  (percent_of_peak is left at 0 here: run_bench fills
    it in.)"""
    from ..synthetic import synthetic_batch
    from ..threads import decide

    spec = bench_spec(config.hidden, config.dtype, seed, config.input_shape)
    rows = config.rows or rows or default_rows(spec)
    X, Y = synthetic_batch(spec, rows, seed)
    X = X.reshape((rows, *spec.input_shape))  # images (n, 28, 28, 1) for a convolution
    weights = init_weights(spec)
    steps = len(batch_starts(rows, config.batch))
    per_row = flops_per_row(spec)
    flops = rows * per_row
    policy = decide(spec, config.batch, threads, seed)
    if any(impl in KERAS_IMPLS for impl in impls):
        import importlib  # TensorFlow's libraries loaded now: in no implementation's memory
        importlib.import_module("keras_impl")
    meters = {impl: Meter() for impl in impls}
    epochs = {impl: meters[impl].setup(
        lambda impl=impl: IMPLS[impl](spec, {k: v.copy() for k, v in weights.items()}, X, Y,
                                      config.batch, lr, seed, policy)) for impl in impls}
    warmup = {impl: meters[impl].epoch(epoch, held=True) for impl, epoch in epochs.items()}
    seconds = {impl: [] for impl in impls}
    for _ in range(repeats):  # round-robin: load bursts hit every implementation alike
        for impl, epoch in epochs.items():
            seconds[impl].append(meters[impl].epoch(epoch))
    result = []
    for impl in impls:
        epoch_seconds = statistics.median(seconds[impl])
        gflops = flops / epoch_seconds / 1e9
        result.append(Row(config.hidden, config.batch, config.dtype, impl, epoch_seconds,
                          min(seconds[impl]), max(seconds[impl]),
                          epoch_seconds / steps, gflops, 0.0, steps, warmup[impl],
                          seconds[impl], rows, per_row, spec.is_dense,
                          policy.blas_threads if impl.startswith("handrolled") else None,
                          config.input_shape, **meters[impl].figures()))
    if any(impl in KERAS_IMPLS for impl in impls):
        from keras_impl import keras
        keras.backend.clear_session()  # free the graphs of this configuration
    return result


def run_bench(configs, impls=DEFAULT_IMPLS, rows: int | None = None, repeats: int = 3,
              lr: float = 0.01, seed: int = 0, peak_size: int = 2048, progress=None,
              threads: int | None = None, load: int = 0) -> dict:
    """The whole benchmark as a JSON-ready dict: peak, rows, environment.  `rows`:
    rows per epoch of a configuration whose own `rows` is None (None: default_rows
    of its network).  "rows_per_epoch" in the result is the rows per epoch when
    every configuration has the same, else None (each row has its own "rows").
    `threads`: --threads (None: measured per configuration); `load`: competitor
    processes kept busy during the whole run (--load)."""
    from ..environment import load_average, peak_resident_mb
    from ..threads import ThreadPolicy, apply_tensorflow_threads, usable_cores
    from .load import competing_load

    tf_threads = apply_tensorflow_threads(ThreadPolicy(  # before TensorFlow starts
        threads or 1, threads or usable_cores(), 1, "--threads" if threads else "measured"))
    load_before = load_average()
    with competing_load(load):
        result = _run_bench(configs, impls, rows, repeats, lr, seed, peak_size, progress,
                            threads)
    result["load"] = {"competitors": load, "load_average_before": load_before,
                      "load_average_after": result["environment"]["load_average"]}
    result["peak_memory_mb"] = peak_resident_mb()  # every implementation's, in one process
    result["threads"] = {"blas": "set by --threads" if threads else "measured per configuration",
                         "tf_intra_op_threads": tf_threads.tf_intra_op_threads,
                         "tf_inter_op_threads": tf_threads.tf_inter_op_threads,
                         "tensorflow_applied": tf_threads.tensorflow_applied}
    return result


def _run_bench(configs, impls, rows, repeats, lr, seed, peak_size, progress, threads) -> dict:
    from ..environment import describe_timing_environment, keras_info, tensorflow_info
    from .peak import matmul_peak

    started = time.perf_counter()
    dtypes = sorted({config.dtype for config in configs} | set(DEFAULT_DTYPES))
    # The peak is measured before and after the configurations and the better
    # one kept: a peak is what the machine can do, so a burst of load from
    # another process during one measurement should not lower it.  The rows'
    # percentages are computed at the end, against that final peak.
    peak_before = {dtype: matmul_peak(dtype, size=peak_size) for dtype in dtypes}
    rows_out = []
    for config in configs:
        if progress:
            progress(config)
        rows_out.extend(bench_config(config, impls, rows, repeats, lr, seed, threads))
    peak_after = {dtype: matmul_peak(dtype, size=peak_size) for dtype in dtypes}
    peak = {dtype: max(peak_before[dtype], peak_after[dtype]) for dtype in dtypes}
    for row in rows_out:
        row.percent_of_peak = 100.0 * row.gflops / peak[row.dtype]
    epoch_rows = {row.rows for row in rows_out}
    env = describe_timing_environment()
    if any(impl in KERAS_IMPLS for impl in impls):
        env.update(keras_info())
        env.update(tensorflow_info())
    return {
        "peak_gflops": peak,
        "peak_gflops_before_after": {"before": peak_before, "after": peak_after},
        "peak_size": peak_size,
        "rows_per_epoch": epoch_rows.pop() if len(epoch_rows) == 1 else None,
        "repeats": repeats,
        "lr": lr if isinstance(lr, (int, float)) else None,
        "optimizer": None if isinstance(lr, (int, float)) else str(lr),
        "seed": seed,
        "rows": [asdict(row) for row in rows_out],
        "environment": env,
        "seconds": time.perf_counter() - started,
    }


def ratios_to_baseline(rows: list[dict]) -> list[float | None]:
    """epoch seconds / the handrolled epoch seconds of the same configuration."""
    base = {(r["hidden"], r["batch"], r["dtype"]): r["epoch_seconds"] for r in rows
            if r["impl"] == BASELINE}
    return [r["epoch_seconds"] / base[key] if (key := (r["hidden"], r["batch"], r["dtype"]))
            in base else None for r in rows]
