"""`train_side_by_side`: both runs from the same weights on the same batches, then the verdict."""

from __future__ import annotations

import numpy as np

from handrolled import NetworkSpec, Params, validate
from handrolled.train import batch_starts, sgd_epoch

from .data import TrainingData, check_settings, epoch_orders, reversed_within_batches
from .result import TrainingResult
from .roundoff import widest
from .runs import run_handrolled, run_keras
from ..environment import load_average
from .runtime import runtime_summary


def train_side_by_side(spec: NetworkSpec, weights: Params, dataset, epochs: int,
                       batch_size: int, lr: float, shuffle: bool = True, seed: int = 0,
                       progress=None, handrolled_epoch=sgd_epoch,
                       threads=None, state: Params | None = None) -> TrainingResult:
    """Train handrolled and Keras from `weights` on the same batches; compare them.

    The hand-written side runs twice more on the same batches with each batch's
    rows reversed (`roundoff`: the sample farther from it): how far round-off alone
    moves a correct run, the envelope the verdict judges the handrolled-Keras
    difference against.

    `dataset`: anything with X_train, y_train, X_test, y_test (integer labels),
    optionally X_validation, y_validation, and a name (see compare.datasets).
    `progress(side, epoch, history)` is called after every epoch of each side.
    `handrolled_epoch` is the hand-written epoch function (same signature as
    `handrolled.train.sgd_epoch`, e.g. `handrolled.fast.sgd_epoch_fast`).
    `threads`: the compare.threads.ThreadPolicy (None: decided here, by measurement);
    the hand-written epochs run under its BLAS limit.
    `state`: the starting moving statistics (default: mean 0, variance 1).
    """
    from ..threads import decide, usable_cores
    data = TrainingData.from_dataset(dataset, spec)
    rows = data.X_train.shape[0]
    check_settings(rows, epochs, batch_size, lr)
    weights = validate(spec, weights)
    orders = epoch_orders(rows, epochs, seed, shuffle)
    threads = threads or decide(spec, batch_size, seed=seed)
    load_before = load_average()
    if any(layer.kind == "dropout" for layer in spec.layers):
        # Keras first: the hand-written side applies the dropout masks Keras drew
        keras = run_keras(spec, weights, data, orders, batch_size, lr, seed, progress, state)
        handrolled = run_handrolled(spec, weights, data, orders, batch_size, lr, progress,
                                    handrolled_epoch, keras.dropout_masks, threads, state)
    else:
        handrolled = run_handrolled(spec, weights, data, orders, batch_size, lr, progress,
                                    handrolled_epoch, threads=threads, state=state)
        keras = run_keras(spec, weights, data, orders, batch_size, lr, seed, progress, state)
    # the round-off envelope: the hand-written side again, each batch's rows reversed
    # (with their dropout masks): the same mathematics, another order of the sums; and
    # every starting weight one unit in the last place away (w (1 +- eps)), so that
    # batches of one row, where reversing changes nothing, are perturbed too.  Two such
    # samples, as round-off can
    # move a pre-activation across a kink (relu's 0, piecewise's corners) at a step
    # where one sample happens not to (measured: mnist-sample, piecewise(-1:-1,0:0,1:2),
    # float32, 20 epochs: Keras' difference took off at step 479, the w (1 + eps)
    # sample never did, the w (1 - eps) sample at step 459); the envelope is the
    # larger distance of the two at every step (roundoff.py)
    masks = [{name: mask[::-1] for name, mask in step.items()} for step in keras.dropout_masks]
    reversed_orders = reversed_within_batches(orders, rows, batch_size)
    eps = np.finfo(spec.dtype).eps
    samples = [run_handrolled(spec, {name: w * (1 + sign * eps) for name, w in weights.items()},
                              data, reversed_orders, batch_size, lr, None, handrolled_epoch,
                              masks or None, threads, state)
               for sign in (1, -1)]
    roundoff = widest(handrolled, samples)
    steps = len(batch_starts(rows, batch_size))
    for history in (handrolled, keras):
        history.runtime = runtime_summary(history.epoch_seconds, rows, steps)
    return TrainingResult(spec, data.name, rows, epochs, batch_size,
                          float(lr) if isinstance(lr, (int, float)) else lr, shuffle, seed,
                          handrolled, keras, threads,
                          {"before": load_before, "after": load_average(),
                           "cores": usable_cores()},
                          roundoff=roundoff,
                          evaluated_rows={name: len(y) for name, (_, y) in
                                          data.evaluation_sets().items()})

