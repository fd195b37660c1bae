"""One configuration, start to finish, in whatever process runs it.

Top-level functions with plain arguments, so local processes and Dask
workers can run them: the worker loads the data (once per process), the
user's activation modules, and Keras on the configuration's backend.
"""

from __future__ import annotations

import functools
import time


@functools.lru_cache(maxsize=4)
def _dataset(name: str, preprocess: str, dtype: str, train_rows: int | None):
    """The data set, split with seed 0 for every configuration (so all see the same
    test set); `train_rows` keeps the first rows of the training part only."""
    from ..datasets import load_dataset

    import dataclasses

    data = load_dataset(name, preprocess=preprocess, seed=0, dtype=dtype)
    if train_rows:
        data = dataclasses.replace(data, X_train=data.X_train[:train_rows],
                                   y_train=data.y_train[:train_rows])
    return data


def run_configuration(config) -> dict:
    """Train both sides for `config` (a plan.Configuration); return the result row."""
    from keras_impl import backends

    from ..user_activations import load, surfacing_failures

    backends.select(config.backend)  # before Keras is imported here (a Dask worker too)
    with surfacing_failures():  # a failure inside a TensorFlow op: the user's, as itself
        load(config.activation_modules, timeout=config.timeout)  # a child of this worker
        return _run(config)


def _run(config) -> dict:
    from handrolled import NetworkSpec, activations, init_weights

    started = time.perf_counter()
    data = _dataset(config.dataset, config.preprocess, config.dtype, config.train_rows)
    spec = NetworkSpec.from_text(config.hidden, inputs=data.input_shape,
                                 classes=int(data.classes), dtype=config.dtype, seed=config.seed)
    from ..training import train_side_by_side  # imports TensorFlow

    result = train_side_by_side(spec, init_weights(spec), data, config.epochs, config.batch,
                                config.optimizer or config.lr, shuffle=True, seed=config.seed)
    h, k = result.handrolled, result.keras
    stochastic = any(getattr(layer.activation, "name", "") == "stochastic"
                     for layer in spec.build_layers())
    return {
        "activation": config.activation, "depth": config.depth, "seed": config.seed,
        "lr": config.lr, "optimizer": config.optimizer or None,
        "handrolled_accuracy": _last(h.test_accuracy),
        "keras_accuracy": _last(k.test_accuracy),
        "seconds": time.perf_counter() - started,
        "handrolled_seconds": float(sum(h.epoch_seconds)),
        "keras_seconds": float(sum(k.epoch_seconds)),
        "agree": bool(result.agree), "verdict": result.verdict,
        "max_loss_diff": float(result.max_loss_diff),
        "max_roundoff_envelope": result.max_roundoff_envelope,
        "diverged": bool(h.diverged or k.diverged),
        "evaluation": activations.EVALUATION_RULE if stochastic else None,
        "hidden": config.hidden, "units": config.units, "epochs": config.epochs,
        "batch": config.batch, "dataset": config.dataset, "preprocess": config.preprocess,
        "dtype": config.dtype, "train_rows": config.train_rows, "backend": config.backend,
        "key": config.key,
    }


def _last(values) -> float | None:
    return float(values[-1]) if len(values) else None
