"""The two runs: every epoch by hand (`run_handrolled`), every epoch of `model.fit` (`run_keras`)."""

from __future__ import annotations

import contextlib

import numpy as np

from handrolled import Network, NetworkSpec, Params, optimizers
from handrolled.train import batch_starts, sgd_epoch

from .data import TrainingData
from .history import History, evaluate, find_divergence
from .runtime import Stopwatch


def run_handrolled(spec: NetworkSpec, weights: Params, data: TrainingData, orders, batch_size: int,
                   lr: float, progress=None, handrolled_epoch=sgd_epoch,
                   dropout_masks: list | None = None, threads=None,
                   state: Params | None = None, schedule_ulps: int = 0,
                   own_weights: bool = False) -> History:
    """All epochs of the hand-written loop, from a private copy of `weights` (own_weights:
    from `weights` themselves, a dict the caller made for this run and no longer reads).

    `lr`: the learning rate of plain SGD, or an optimizer (its text or object: a
    fresh one is made).  `dropout_masks`: the masks Keras drew, one {layer: mask}
    per training step over the whole run, applied step by step by the Dropout layers.
    `threads`: a compare.threads.ThreadPolicy whose BLAS limit the epochs run under.
    `state`: the starting moving statistics (default: their usual start).
    `schedule_ulps`: +1 or -1 runs a learning-rate schedule one float32 unit in the
    last place up or down (`schedules.OneUlpAway`; the round-off samples), 0 as it is."""

    network = Network(spec, weights if own_weights else
                      {name: value.copy() for name, value in weights.items()}, state)
    optimizer = optimizers.for_training(lr)
    if schedule_ulps and isinstance(optimizer.learning_rate, optimizers.Schedule):
        optimizer.learning_rate = optimizers.schedules.OneUlpAway(optimizer.learning_rate,
                                                                  schedule_ulps)
    optimizer.build(network.params, network.conventions)
    # plain SGD keeps no state: the epoch function gets its learning rate, a number
    # (what the fused loop multiplies by), and the step count is the steps taken
    rate = optimizer.plain_rate() if isinstance(optimizer, optimizers.SGD) else None
    step_with = optimizer if rate is None else rate
    if dropout_masks:
        network.use_dropout_masks({name: [step[name] for step in dropout_masks]
                                   for name in dropout_masks[0]})
    history, step, sets = History(), 0, data.evaluation_sets()
    _begin(progress, "handrolled")
    with threads.blas_limits() if threads else contextlib.nullcontext():
        for epoch, order in enumerate(orders):
            with np.errstate(all="ignore"), Stopwatch() as clock:  # overflow: find_divergence
                losses = handrolled_epoch(network, data.X_train, data.Y_train, batch_size,
                                          step_with, order=order, epoch=epoch, first_step=step)
            with np.errstate(all="ignore"):
                evaluation = evaluate(lambda X: network.forward(X).logits, sets, spec)
            history.record(evaluation, clock.seconds, losses)
            step += len(losses)
            _report(progress, "handrolled", epoch, history)
            history.diverged = find_divergence(epoch, losses, evaluation,
                                                _first(history))
            if history.diverged:
                break
    network.on_train_end()
    # the network and the optimizer end here: their own arrays, not copies (book-ch19-cnn:
    # weights and Adam's slots are ~450 MB in float64; a copy would be held beside them)
    history.weights = network.params
    history.state = network.state
    if step_with is not optimizer:
        optimizer.iterations = step
    history.optimizer_state = optimizer.state(copy=False)
    return history


def run_keras(spec: NetworkSpec, weights: Params, data: TrainingData, orders, batch_size: int,
              lr: float, seed: int, progress=None, state: Params | None = None) -> History:
    """All epochs of `model.fit`, one call per epoch, on rows in the same order."""
    import keras_impl
    from keras_impl.dropout import DropoutMaskRecorder, dropout_shapes
    from keras_impl.model import named_variables
    from keras_impl.optimizers import read_state
    from keras_impl.train import compile_for_training, fit_epoch

    keras_impl.seed_everything(seed)
    model = keras_impl.build_model(spec, weights, state)
    compile_for_training(model, spec, optimizers.for_training(lr))
    history, sets = History(), data.evaluation_sets()
    rows = data.X_train.shape[0]
    shapes = dropout_shapes(spec)  # record every step's masks for the hand-written side
    recorder = DropoutMaskRecorder(shapes, [min(batch_size, rows - start)
                                            for start in batch_starts(rows, batch_size)])
    _begin(progress, "keras")
    for epoch, order in enumerate(orders):
        with Stopwatch() as gather:  # timed too: the hand-written epoch gathers its batches
            X_epoch, Y_epoch = ((data.X_train, data.Y_train) if order is None
                                else (data.X_train[order], data.Y_train[order]))
        run = fit_epoch(model, spec, X_epoch, Y_epoch, batch_size, epoch,
                        callbacks=[recorder] if shapes else ())
        losses = run.losses
        evaluation = evaluate(lambda X: keras_impl.predict_logits(model, X), sets, spec)
        history.record(evaluation, gather.seconds + run.epoch_seconds, losses)
        history.call_seconds.append(gather.seconds + run.call_seconds)
        _report(progress, "keras", epoch, history)
        history.diverged = find_divergence(epoch, losses, evaluation, _first(history))
        if history.diverged:
            break
    history.weights = keras_impl.read_weights(model, spec)
    history.state = keras_impl.read_state(model, spec)
    history.optimizer_state = read_state(model.optimizer, named_variables(model))
    history.dropout_masks = recorder.masks
    # what was read is NumPy now: free the model, its optimizer and traced graphs before
    # the next run (measured: book-ch19-cnn's peak, docs/howto/presets.md).  The callbacks
    # hold the model too, and Keras' objects refer to each other in cycles: only the
    # cycle collector frees them, and only then can the C library give the memory back
    model = recorder = run = None
    keras_impl.keras.backend.clear_session(free_memory=True)
    release_free_memory()
    return history


def release_free_memory() -> None:
    """Collect reference cycles, then ask the C library to return freed heap memory to the
    system (glibc's malloc_trim; nothing elsewhere), so the next run starts lower."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _first(history: History) -> float:
    """The loss of the run's first step: the scale a blow-up is measured from."""
    return float(history.step_losses[0][0]) if len(history.step_losses[0]) else None


class Renamed:
    """`progress` hearing of a run under another name (the round-off samples)."""

    def __init__(self, progress, side: str):
        self.progress, self.side = progress, side

    def begin(self, side: str) -> None:
        _begin(self.progress, self.side)

    def __call__(self, side: str, epoch: int, history: History) -> None:
        _report(self.progress, self.side, epoch, history)


def _begin(progress, side: str) -> None:
    """A run starts: a progress object with a `begin(side)` method starts its bar's clock
    now, so that the estimate times this run's epochs alone."""
    begin = getattr(progress, "begin", None)
    if begin is not None:
        begin(side)


def _report(progress, side: str, epoch: int, history: History) -> None:
    if progress is not None:
        progress(side, epoch, history)
