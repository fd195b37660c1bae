"""Keras with its fixed per-step cost removed: a whole epoch in one compiled call.

`model.fit` returns to Python after every step (callbacks, logs, the data
iterator): about 0.7 ms per step here whatever the network's size, which
dominates small batches.  To compare the hand-written loop with what Keras'
kernels can do, not with that overhead, this module runs an epoch of the same
mini-batch SGD as one `tf.function`: the epoch's permutation is gathered
once, then a `tf.range` loop (AutoGraph turns it into a graph while-loop)
slices each batch, runs the model under a GradientTape and applies
`SGD(learning_rate=lr)` -- the same steps `fit` takes, and the same steps as
`handrolled.train.sgd_epoch` (same order, last partial batch kept and averaged
over its own size), which `tests/test_fast_keras.py` checks.

    epoch = CompiledEpoch(model, spec, lr, batch_size)
    losses = epoch(X, Y, order)     # per-step losses, float64 NumPy

The alternative, `compile(steps_per_execution=steps)` + `fit`, keeps fit's
data pipeline (a tf.data iterator and per-batch slicing in the host); it is
measured beside this one by `compare.bench` (impl "keras_spe") and was slower
here; see docs/PERFORMANCE.md.

XLA (`jit_compile=True`) is off: Keras itself leaves it off on a CPU-only
machine, and it may reorder sums; `jit_compile` lets an experiment turn it on.
"""

from __future__ import annotations

import numpy as np

from handrolled import NetworkSpec

from .model import loss_function
from .runtime import keras, tf
from .optimizers import training_optimizer
from .runtime import floatx


class CompiledEpoch:
    """A callable running one epoch of SGD on `model` as one compiled TF function."""

    def __init__(self, model: keras.Model, spec: NetworkSpec, lr, batch_size: int,
                 jit_compile: bool = False):
        """`lr`: SGD's learning rate, or an optimizer (handrolled's, or its text)."""
        self.model, self.spec, self.batch_size = model, spec, int(batch_size)
        with floatx(spec.dtype):  # the learning rate lives in floatx (see train.py)
            self.optimizer = training_optimizer(lr, spec.dtype)
            self.optimizer.build(model.trainable_variables)
        self.loss_fn = loss_function(spec)
        self._epoch = tf.function(self._epoch_graph, jit_compile=jit_compile,
                                  reduce_retracing=True)

    def _epoch_graph(self, X, Y, order):
        X_epoch, Y_epoch = tf.gather(X, order), tf.gather(Y, order)  # once per epoch
        rows = tf.shape(X_epoch)[0]
        steps = (rows + self.batch_size - 1) // self.batch_size
        losses = tf.TensorArray(self.spec.dtype, size=steps)
        variables = self.model.trainable_variables
        for i in tf.range(steps):
            start = i * self.batch_size
            X_b = X_epoch[start:start + self.batch_size]
            Y_b = Y_epoch[start:start + self.batch_size]
            with tf.GradientTape() as tape:
                loss = self.loss_fn(Y_b, self.model(X_b, training=True))
            self.optimizer.apply(tape.gradient(loss, variables), variables)
            losses = losses.write(i, loss)
        return losses.stack()

    def __call__(self, X, Y, order: np.ndarray | None = None) -> np.ndarray:
        """One epoch over X, Y (arrays or tensors) in `order` (None: as stored)."""
        if order is None:
            order = np.arange(int(X.shape[0]))
        losses = self._epoch(X, Y, tf.convert_to_tensor(order, dtype=tf.int64))
        return losses.numpy().astype(np.float64)


def compile_steps_per_execution(model: keras.Model, spec: NetworkSpec, lr,
                                steps: int) -> None:
    """The Keras-native alternative: `fit` running `steps` steps per compiled call."""
    with floatx(spec.dtype):
        model.compile(optimizer=training_optimizer(lr, spec.dtype),
                      loss=loss_function(spec), jit_compile=False, steps_per_execution=steps)
