"""`train_side_by_side`: both runs from the same weights on the same batches, then the verdict."""

from __future__ import annotations

import dataclasses

import numpy as np

from handrolled import NetworkSpec, Params, validate
from handrolled.memory import check_batch_fits
from handrolled.train import batch_starts, sgd_epoch

from .data import (TrainingData, check_settings, epoch_orders, first_step_rows,
                   reversed_within_batches)
from .result import TrainingResult
from .keras_process import run_keras_apart
from .roundoff import first_step_ratio, scaled, widest
from .runs import Renamed, run_handrolled, run_keras
from .verdict import DISAGREE
from ..environment import load_average, peak_resident_mb
from .runtime import runtime_summary


def train_side_by_side(spec: NetworkSpec, weights: Params, dataset, epochs: int,
                       batch_size: int, lr: float, shuffle: bool = True, seed: int = 0,
                       progress=None, handrolled_epoch=sgd_epoch,
                       threads=None, state: Params | None = None,
                       keras_apart: bool = False, gradients_batch=None) -> TrainingResult:
    """Train handrolled and Keras from `weights` on the same batches; compare them.

    The hand-written side runs twice more on the same batches with each batch's
    rows reversed (`roundoff`: at every step the sample farther from it): how far
    round-off alone moves a correct run, the envelope the verdict judges the
    handrolled-Keras difference against; where that does not hold the difference,
    Keras once more (its own round-off joins the envelope) and the verdict again.

    `dataset`: anything with X_train, y_train, X_test, y_test (integer labels),
    optionally X_validation, y_validation, and a name (see compare.datasets).
    `progress(side, epoch, history)` is called after every epoch of each run (the two
    sides, then the round-off samples), and `progress.begin(side)`, if it has one, as
    each run starts.
    `handrolled_epoch` is the hand-written epoch function (same signature as
    `handrolled.train.sgd_epoch`, e.g. `handrolled.fast.sgd_epoch_fast`).
    `threads`: the compare.threads.ThreadPolicy (None: decided here, by measurement);
    the hand-written epochs run under its BLAS limit.
    `state`: the starting moving statistics (default: mean 0, variance 1).
    `keras_apart`: Keras' runs in a process of their own (keras_process.py), each
    before or after the hand-written ones, so that this process never holds
    TensorFlow; peak_memory then also has each child's ("keras_process", ...).
    `gradients_batch`: with keras_apart, (X, Y) on which Keras' process also computes its
    half of the gradient check first (`report`), returned as the result's keras_gradients.
    """
    from ..threads import decide, usable_cores
    data = TrainingData.from_dataset(dataset, spec)
    rows = data.X_train.shape[0]
    check_settings(rows, epochs, batch_size, lr)
    weights = validate(spec, weights)
    check_batch_fits(spec, min(batch_size, rows))  # before anything trains
    orders = epoch_orders(rows, epochs, seed, shuffle)
    threads = threads or decide(spec, batch_size, seed=seed)
    if not keras_apart:  # (else Keras' process measures them: this one never imports Keras)
        from keras_impl.conventions import installed_conventions  # after the thread decision
        spec = spec.with_conventions(installed_conventions())  # both sides round as this Keras
    load_before = load_average()
    peak, child = {}, {}
    first = first_step_rows(orders[0], batch_size)
    step_one = (data.X_train[first], data.Y_train[first])  # Keras' round-off ratio's batch

    def keras_run(weights, orders, progress, key):  # here, or in a child (its peak too)
        if not keras_apart:
            return run_keras(spec, weights, data, orders, batch_size, lr, seed, progress, state)
        history, answer = run_keras_apart(spec, weights, data, orders, batch_size, lr, seed,
                                          progress, state,
                                          (gradients_batch or step_one) if key == "keras"
                                          else None)
        peak[f"{key}_process"] = answer["peak_mb"]
        child.setdefault("main", answer)
        return history

    if keras_apart or any(layer.kind == "dropout" for layer in spec.layers):
        # Keras first: the hand-written side applies the dropout masks Keras drew (and
        # from a child, follows the conventions its Keras measured)
        keras = keras_run(weights, orders, progress, "keras")
        peak["keras"] = peak_resident_mb()
        if child:  # both sides round as the child's Keras
            spec = spec.with_conventions(child["main"]["conventions"])
        handrolled = run_handrolled(spec, weights, data, orders, batch_size, lr, progress,
                                    handrolled_epoch, keras.dropout_masks, threads, state)
        peak["handrolled"] = peak_resident_mb()
    else:
        handrolled = run_handrolled(spec, weights, data, orders, batch_size, lr, progress,
                                    handrolled_epoch, threads=threads, state=state)
        peak["handrolled"] = peak_resident_mb()
        keras = keras_run(weights, orders, progress, "keras")
        peak["keras"] = peak_resident_mb()
    # the round-off envelope: the hand-written side again, each batch's rows reversed
    # (with their dropout masks): the same mathematics, another order of the sums; and
    # every starting weight one unit in the last place away (w (1 +- eps)), so that
    # batches of one row, where reversing changes nothing, are perturbed too.  Two such
    # samples, as round-off can
    # move a pre-activation across a kink (relu's 0, piecewise's corners) at a step
    # where one sample happens not to (measured: mnist-sample, piecewise(-1:-1,0:0,1:2),
    # float32, 20 epochs: Keras' difference took off at step 479, the w (1 + eps)
    # sample never did, the w (1 - eps) sample at step 459); the envelope is the
    # larger distance of the two at every step (roundoff.py).  A learning-rate
    # schedule runs one float32 ulp up in one sample and down in the other
    # (`OneUlpAway`): a C library that rounds powf or cosf the other way gives that.
    masks = [{name: mask[::-1] for name, mask in step.items()} for step in keras.dropout_masks]
    reversed_orders = reversed_within_batches(orders, rows, batch_size)
    # folded in one sample at a time (|h - envelope| is the farther distance so far), so
    # that one sample's final tensors, not two, are held at once (book-ch19-cnn: weights
    # and Adam's slots, ~450 MB a sample in float64)
    roundoff = None
    for sign in (1, -1):
        sample = run_handrolled(spec, nudged(weights, sign), data, reversed_orders, batch_size,
                                lr, Renamed(progress, f"round-off sample {'+-'[sign < 0]}eps"),
                                handrolled_epoch, masks or None, threads, state,
                                schedule_ulps=sign, own_weights=True)
        roundoff = sample if roundoff is None else \
            widest(handrolled, [(handrolled, roundoff), (handrolled, sample)], reuse=True)
        del sample
    peak["roundoff"] = peak_resident_mb()
    steps = len(batch_starts(rows, batch_size))
    for history in (handrolled, keras):
        history.runtime = runtime_summary(history.epoch_seconds, rows, steps)
    result = TrainingResult(spec, data.name, rows, epochs, batch_size,
                            float(lr) if isinstance(lr, (int, float)) else lr, shuffle, seed,
                            handrolled, keras, threads,
                            {"before": load_before, "after": load_average(),
                             "cores": usable_cores()},
                            roundoff=roundoff,
                            evaluated_rows={name: len(y) for name, (_, y) in
                                            data.evaluation_sets().items()},
                            peak_memory=dict(peak, run=peak_resident_mb()),
                            keras_notes=child["main"]["notes"] if child else None,
                            keras_gradients=child["main"]["gradients"]
                            if child and gradients_batch is not None else None)
    if result.judgement.outcome != DISAGREE:
        return result
    # Keras' own round-off, as many times ours as the gradient witness measures on step 1's
    # batch (roundoff.keras_ratio: TensorFlow's long sums), widens the hand-written samples'
    # distances (measured: book-ch19-cnn, float64: Keras 3-186x ours per tensor, the final
    # tensors 15-37x the hand-written envelope).  Only where that envelope alone does not
    # hold the difference: one gradient per side on one batch
    ratio = first_step_ratio(spec, weights, *step_one,
                             keras=child["main"]["gradients"] if child else None)
    if ratio > 1:
        roundoff = scaled(handrolled, roundoff, ratio)
        result = dataclasses.replace(result, roundoff=roundoff, keras_ratio=ratio)
        if result.judgement.outcome != DISAGREE:
            return result
    # Keras' own round-off may be the larger (measured: conv(8,3,relu),batchnorm,...,
    # float64, mnist-sample: |handrolled - keras| 1.95e-14 at step 2 against 10 x the
    # hand-written envelope, 1.78e-14; Keras' sums of batch statistics): Keras again from
    # w (1 + eps), each batch's rows reversed, except with Dropout (Keras draws its masks
    # by position in the batch: reversed rows would be another run, not round-off).  Its
    # distance from Keras' run joins the envelope.  Only where the hand-written envelope
    # alone does not hold the difference (a wider envelope gives wider bands), so that a
    # run that agrees pays nothing for it: it costs one more Keras run (measured: +21% CPU
    # on the run above, +65% on the tests' small runs, whose time is mostly Keras')
    keras_sample = keras_run(nudged(weights, 1),
                             orders if keras.dropout_masks else reversed_orders,
                             Renamed(progress, "keras round-off sample"), "keras_sample")
    return dataclasses.replace(result, keras_sampled=True,
                               roundoff=widest(handrolled, [(handrolled, roundoff),
                                                            (keras, keras_sample)]),
                               peak_memory=dict(peak, run=peak_resident_mb()))


def nudged(weights: Params, sign: int) -> Params:
    """Every weight one unit in the last place up (sign +1) or down (-1): w (1 + sign eps)."""
    return {name: w * (1 + sign * np.finfo(w.dtype).eps) for name, w in weights.items()}

