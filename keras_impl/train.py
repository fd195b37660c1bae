"""Training the Keras twin the way a Keras user does: `compile` then `fit`.

    compile_for_sgd(model, spec, lr)
    losses = fit_epoch(model, spec, X[order], Y[order], batch_size, epoch)

Everything below is a real `model.fit`; what had to be pinned so that it takes
exactly the steps of `handrolled.train.sgd_epoch`, and why (measured with
Keras 3.15 / TensorFlow 2.21, read in keras/src/...):

* order -- `shuffle=False`: `fit` shuffles by default.  We pass the rows
  already in the epoch's order, the same order the hand-written loop uses.
* partial batch -- nothing to pin: `fit` keeps the last short batch and the
  loss is averaged over its own size ("sum_over_batch_size"), as by hand.
* one epoch per call -- `fit(initial_epoch=e, epochs=e + 1)`, so callbacks
  see the true epoch number while each epoch gets its own ordered arrays.
* dtype -- `fit` casts float arrays that are not `keras.config.floatx()` to
  floatx (trainers/data_adapters/array_slicing.py, "Normalize floats to
  floatx"), so float64 data would silently be rounded to float32 before a
  float64 model saw it.  SGD also stores its learning rate as a floatx
  variable (0.1 becomes 0.100000001490116...), and the compiled loss is cast
  to floatx.  We therefore set floatx to the spec's dtype while compiling and
  fitting (`floatx`), and restore it afterwards.
* the update -- `SGD(learning_rate=lr)` with momentum 0 does
  `variable.assign_sub(gradient * learning_rate)` (optimizers/sgd.py): the
  same W <- W - lr * grad as by hand, rounded the same way.
* loss -- `loss_function(spec)`: CategoricalCrossentropy(from_logits=True) in
  the spec's dtype on the linear output layer (see model.py).
* the per-step loss -- the "loss" that `fit` logs is a running mean over the
  epoch, kept by a `Mean` metric; per-step values cannot be recovered from it
  exactly.  We add a metric, `StepLoss`, that computes the same loss function
  on the same step's predictions (y_pred of the forward pass the gradients
  come from) and keeps the last value, not a mean; a callback reads it after
  every step.
* compilation -- `jit_compile=False` (XLA fuses ops and may reorder sums;
  "auto" already means off on a CPU-only machine, we make it explicit) and
  `steps_per_execution=1` (one step per call, so the callback sees each step).
* determinism -- `seed_everything(seed)` before building the model: seeds and
  TensorFlow op determinism.  Nothing in `fit` is random once shuffle is off.
* learning-rate schedules -- `fit` runs the optimizer inside a tf.function, and
  Grappler's constant folding rewrites a schedule's power (0.9 ** (step / 10))
  there, so the float32 learning rate of about one step in five comes out one
  float32 ulp away from what the same schedule gives eagerly (measured: 90 of
  500 steps of ExponentialDecay(0.1, 10, 0.9); loss curves then drift apart by
  ~1e-8 in 5 epochs).  With a schedule, `compile_for_training` switches that
  one Grappler pass off (`constant_folding`), for the rest of the process: the
  schedule is then computed as Keras' own code says, eagerly or not.  (Grappler
  is TensorFlow's: on JAX and torch there is nothing to switch off.)

Timing.  Each `fit` call first builds its data pipeline and callback list
(about 0.05-0.1 s here), which a user calling `fit(..., epochs=N)` once pays
only once.  So the epoch time we report is measured inside `fit`, from
`on_epoch_begin` to `on_epoch_end` (the step loop, including tracing in the
first epoch), and the whole call's time is kept beside it.

Callbacks from `training_callbacks(model)` see one `fit` call per epoch:
their `on_train_begin`/`on_train_end` run every epoch, and `on_epoch_begin`
receives the true epoch number.  The step number within the whole run is
`model.optimizer.iterations` (steps already taken).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from handrolled import NetworkSpec
from handrolled.optimizers import SGD

from .model import keras_loss, loss_function, training_callbacks
from .optimizers import keras_optimizer
from .runtime import floatx, keras, tf

STEP_LOSS = "step_loss"


@keras.saving.register_keras_serializable(package="handrolled")
class StepLoss(keras.metrics.Metric):
    """The loss of the latest training step, computed from that step's y_pred: the
    loss Keras trains on, with the regularizers' penalties of that same step added
    as `Trainer.compute_loss` adds them, once `watch(model)` is called.

    The penalties: a step's activity penalties are the tensors its forward pass
    recorded (the first entries of `model.losses`); its kernel penalties are those
    of the weights *before* the step's update, but Keras updates metrics after the
    update, when `model.losses` would recompute them from the new weights.  So the
    kernel penalties are kept from the previous step (after its update: the next
    step's "before"), starting from the weights at `watch` time and carried across
    `fit` calls (reset_state leaves them).

    Registered and configured by its dtype and loss name, so a model compiled here
    saves to and loads from a `.keras` file with its metrics."""

    def __init__(self, dtype: str = "float64", name: str = STEP_LOSS,
                 loss: str = "categorical_crossentropy"):
        super().__init__(name=name, dtype=dtype)
        self.loss = loss
        self.loss_fn = keras_loss(loss, dtype)  # the same loss as training's
        self.value = self.add_variable(shape=(), initializer="zeros", name="value", dtype=dtype)
        self._model, self._before = None, []

    def watch(self, model: keras.Model) -> "StepLoss":
        """Add the model's penalties (see above) to every value."""
        self._model = model
        self._before = [self.add_variable(shape=(), initializer="zeros", dtype=self.dtype,
                                          name=f"kernel_penalty_{i}")
                        for i, _ in enumerate(self._kernel_penalties())]
        for variable, penalty in zip(self._before, self._kernel_penalties()):
            variable.assign(penalty)
        return self

    def _kernel_penalties(self) -> list:
        return [v.regularizer(v) for v in self._model.trainable_weights
                if getattr(v, "regularizer", None) is not None]

    def reset_state(self):
        self.value.assign(0.0)  # the carried kernel penalties stay

    def get_config(self):
        return {"dtype": self.dtype, "name": self.name, "loss": self.loss}

    def update_state(self, y_true, y_pred, sample_weight=None):
        tracker = getattr(self._model, "_loss_tracker", None)
        if isinstance(tracker, LossTracker):  # JAX: see LossTracker
            self.value.assign(tracker.last.value)
            return
        value = self.loss_fn(y_true, y_pred)
        if self._model is not None and self._model.losses:
            after = self._kernel_penalties()   # recomputed from the updated weights
            activity = self._model.losses[:len(self._model.losses) - len(after)]
            # Trainer.compute_loss: ops.sum([loss, *activity, *kernel penalties])
            value = keras.ops.sum([value, *activity, *(v.value for v in self._before)])
            for variable, penalty in zip(self._before, after):
                variable.assign(penalty)
        self.value.assign(value)

    def result(self):
        return keras.ops.convert_to_tensor(self.value)  # a tensor, not the variable (JAX)


class EpochTimer(keras.callbacks.Callback):
    """Times each epoch inside `fit`: on_epoch_begin -> on_epoch_end, so the
    per-call set-up of `fit` is not counted."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    @property
    def epoch_seconds(self) -> float:
        return self.seconds[-1] if self.seconds else 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


class LossTracker(keras.metrics.Mean):
    """Keras' own loss tracker (`fit`'s "loss", a Mean) that also keeps the latest step's
    loss: the total `Trainer.compute_loss` trained on (data loss, activity and kernel
    penalties of the weights before the update).  On JAX, `fit` updates its metrics in
    a stateless scope that holds only the metrics' variables, so StepLoss cannot read
    `model.losses` there (a kernel penalty came out None, an activity penalty was
    missing); it reads this instead.  Installed by `compile_for_training` on JAX."""

    def __init__(self, name: str = "loss", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.last = self.add_variable(shape=(), initializer="zeros", name="last",
                                      dtype=self.dtype)

    def update_state(self, values, sample_weight=None):
        self.last.assign(keras.ops.cast(values, self.dtype))
        return super().update_state(values, sample_weight=sample_weight)


class StepLossRecorder(EpochTimer):
    """Collects `StepLoss` after every training step, and times the epoch."""

    def __init__(self):
        super().__init__()
        self.losses: list[float] = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs[STEP_LOSS]))


@dataclass
class EpochRun:
    losses: np.ndarray     # the training loss of every step (float64)
    epoch_seconds: float   # inside fit: on_epoch_begin -> on_epoch_end
    call_seconds: float    # the whole fit call, with its set-up


def compile_for_sgd(model: keras.Model, spec: NetworkSpec, lr: float) -> None:
    """compile(SGD(lr), the spec's loss on logits) with the pins listed above."""
    compile_for_training(model, spec, SGD(learning_rate=lr))


def compile_for_training(model: keras.Model, spec: NetworkSpec, optimizer) -> None:
    """compile(optimizer, the spec's loss on logits) with the pins listed above.
    `optimizer`: a Keras optimizer, or a handrolled one (its Keras twin is built:
    keras_impl/optimizers.py, with every hyper-parameter as Keras applies it)."""
    with floatx(spec.dtype):
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            optimizer = keras_optimizer(optimizer, spec.dtype)
        schedule = keras.optimizers.schedules.LearningRateSchedule
        if tf is not None and (isinstance(optimizer.learning_rate, schedule) or
                               isinstance(getattr(optimizer, "_learning_rate", None), schedule)):
            tf.config.optimizer.set_experimental_options({"constant_folding": False})
        model.compile(optimizer=optimizer,
                      loss=loss_function(spec),
                      metrics=[StepLoss(spec.dtype, loss=spec.loss).watch(model)],
                      jit_compile=False, steps_per_execution=1)
        if keras.backend.backend() == "jax":  # the step's loss as fit computed it
            model._loss_tracker = LossTracker(dtype=spec.dtype)


def fit_epoch(model: keras.Model, spec: NetworkSpec, X_epoch: np.ndarray, Y_epoch: np.ndarray,
              batch_size: int, epoch: int = 0, callbacks=()) -> EpochRun:
    """One epoch of `model.fit` over rows already in the epoch's order (`callbacks`:
    more of them, e.g. keras_impl.dropout.DropoutMaskRecorder)."""
    recorder = StepLossRecorder()
    start = time.perf_counter()
    with floatx(spec.dtype):
        model.fit(X_epoch, Y_epoch, batch_size=batch_size, initial_epoch=epoch,
                  epochs=epoch + 1, shuffle=False, verbose=0,
                  callbacks=training_callbacks(model) + list(callbacks) + [recorder])
    return EpochRun(np.asarray(recorder.losses, dtype=np.float64), recorder.epoch_seconds,
                    time.perf_counter() - start)
