"""Mini-batch stochastic gradient descent, by hand: one epoch at a time.

One epoch walks through the training rows in a given order (the book takes
them in file order; a shuffled run passes a permutation) in slices of
`batch_size` rows.  The last slice may be shorter; it is kept and its loss is
averaged over its own size, exactly as Keras' `fit` does.  Each step:

    cache = forward(X_batch, training=True)        eqs. 1-2 (once per step)
    loss  = loss_of(cache, Y_batch)                from that same pass (+ penalties)
    grads = backward(cache, Y_batch)               eqs. 3-5
    W    -= lr * grad_W   for every parameter      (the SGD update, or any optimizer's)
    commit(cache)                                  the state the pass computed
                                                   (BatchNormalization's moving averages)

This function is the one definition of the hand-written epoch.  A faster
variant (`handrolled/fast.py`) has the same signature and is tested to give
the same numbers; the comparison code takes the epoch function as a parameter.
"""

from __future__ import annotations

import numpy as np

from .network import Network
from .optimizers import SGD, Optimizer


def batch_starts(rows: int, batch_size: int) -> range:
    """First row of every batch: 0, batch_size, 2 * batch_size, ... (< rows)."""
    return range(0, rows, batch_size)


def batches(X: np.ndarray, Y: np.ndarray, batch_size: int, order: np.ndarray | None = None):
    """(X_batch, Y_batch) of every step, in `order` (None: rows 0, 1, 2, ...); the last
    batch keeps what is left."""
    for start in batch_starts(X.shape[0], batch_size):
        if order is None:
            yield X[start:start + batch_size], Y[start:start + batch_size]
        else:
            rows_now = order[start:start + batch_size]
            yield X[rows_now], Y[rows_now]


def sgd_epoch(network: Network, X: np.ndarray, Y: np.ndarray, batch_size: int, lr,
              order: np.ndarray | None = None, epoch: int = 0, first_step: int = 0
              ) -> np.ndarray:
    """One epoch of mini-batch training on `network.params`, in place.

    X, Y      the whole training set (inputs, one-hot targets), in spec.dtype
    lr        the learning rate of plain SGD, or an optimizer object
              (handrolled.optimizers: keep the same one across epochs, it holds
              the moments and the step count)
    order     row indices in the order to visit them (None: 0, 1, 2, ...)
    epoch, first_step
              passed to `network.on_step(epoch, first_step + i)` before step i,
              for activations that change during training

    Returns the training loss of every step (float64), each taken from the
    forward pass that the step's gradients come from.  A NaN or inf loss does
    not stop the epoch; the caller looks for it (see compare.training).
    """
    optimizer = lr if isinstance(lr, Optimizer) else SGD(learning_rate=lr)
    if not optimizer.built:  # its hyper-parameters rounded by the network's conventions
        optimizer.build(network.params, network.conventions)
    rows = X.shape[0]
    losses = np.empty(len(batch_starts(rows, batch_size)), dtype=np.float64)
    for i, (X_batch, Y_batch) in enumerate(batches(X, Y, batch_size, order)):
        network.on_step(epoch, first_step + i)
        cache = network.forward(X_batch, training=True)              # eqs. 1-2
        losses[i] = network.loss_of(cache, Y_batch)                  # same pass
        grads = network.backward(cache, Y_batch)                     # eqs. 3-5
        optimizer.apply(network.params, grads)                       # SGD: W -= lr dL/dW
        network.commit(cache)                                        # moving statistics
    return losses
