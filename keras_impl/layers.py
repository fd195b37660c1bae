"""Custom Keras layers: per-neuron activations and the callback that drives them.

    keras.layers.Dense(100)                      # no activation: z = x W + b
    PerUnitActivation("mix(relu,abs,sin)")       # unit j -> its own function

`PerUnitActivation` has no weights of its own, so a model's trainable
variables stay [kernel_1, bias_1, kernel_2, ...] and `read_weights` keeps the
keys W1, b1, ...  It computes what the hand-written `Mix.value` does,

    a[:, j] = f_k(z[:, j])              k = the function of unit j,

by selection, never by arithmetic:

    a = where(own_0, f_0(where(own_0, z, 0)), where(own_1, f_1(...), ...))

own_k[j] is true where unit j computes f_k.  The outer `where` keeps each
unit's own f_k(z) exactly (a masked sum, sum_k mask_k * f_k(z), would turn
0 * inf into NaN wherever another unit's function overflows); the inner one
feeds every other unit 0, and routes the gradient of those positions to
that constant, so an f' that is infinite or NaN there (0 * inf) is dropped
instead of reaching z.  Shapes are static (XLA can compile it), and a `fit`
epoch costs within about 15% of what it did with the masked sum (784-100-10
mix(relu,abs,sin) and stochastic, float32, batch 32 and 1000).  The assignment lives in a one-hot (functions,
units) keras.Variable kept outside Keras' weight tracking: for `mix` it never
changes; for `stochastic` the `ActivationSchedule` callback assigns the next
draw before every training step.  That works where Keras reads the variable at
every step (TensorFlow); a compiled JAX or torch step would keep the first draw,
so `stochastic` runs on the TensorFlow backend only (a one-line error elsewhere).

Serialization: `get_config` holds the activation text and, for stochastic
layers, the schedule position, so a `.keras` file loads back to the same mask.

This module imports `keras_impl.activations` (each unit's function comes from
its `get`) and registers the `mix` and `stochastic` factories there, so that
`keras_impl.activations.get("mix(...)")` returns this layer; the dependency
points one way.
"""

from __future__ import annotations

from handrolled import activations as handrolled_activations
from handrolled.errors import SpecError

from . import activations as keras_activations
from .runtime import keras


class _Untracked:
    """A holder Keras does not look into: the mask is state, not a model weight."""

    def __init__(self, variable):
        self.variable = variable


@keras.saving.register_keras_serializable(package="handrolled")
class PerUnitActivation(keras.layers.Layer):
    """Applies a handrolled per-unit activation (`mix(...)`, `stochastic(...)`)."""

    def __init__(self, activation: str, state: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.schedule = handrolled_activations.get(activation)
        if not self.schedule.per_unit:
            raise SpecError(f"PerUnitActivation takes mix(...) or stochastic(...), "
                            f"got '{activation}'")
        self.activation = self.schedule.text
        if isinstance(self.schedule, handrolled_activations.Stochastic) \
                and keras.backend.backend() != "tensorflow":
            raise SpecError(f"{self.activation}: a stochastic activation redraws its units "
                            f"at every step, which runs on the tensorflow backend only "
                            f"(this one is {keras.backend.backend()}); use --backend tensorflow")
        self.functions = [keras_activations.get(f) for f in self.schedule.functions]
        self.epochs_begun, self.steps_begun = 0, 0
        if state:
            self.schedule.on_step(state["epoch"], state["step"])
            self.epochs_begun, self.steps_begun = state["epochs_begun"], state["steps_begun"]
        self._mask = None

    @classmethod
    def from_config(cls, config):
        keras_activations.check_saved(config["activation"])  # a clear error, not Keras' wrapper
        return super().from_config(config)

    def build(self, input_shape):
        self.units = int(input_shape[-1])
        self._mask = _Untracked(keras.Variable(self._current_mask(), trainable=False,
                                               name="unit_mask"))
        super().build(input_shape)

    def _current_mask(self):
        return self.schedule.mask(self.units, self.compute_dtype)

    @property
    def mask(self):
        """The (functions, units) one-hot mask now in use, as NumPy."""
        return keras.ops.convert_to_numpy(self._mask.variable.value)

    def call(self, z):
        where = keras.ops.where
        own = keras.ops.greater(self._mask.variable.value, 0)  # (functions, units): own[k, j]
        zero = keras.ops.zeros_like(z)
        a = None
        for k in reversed(range(len(self.functions))):  # a = where(own_0, a_0, where(own_1, ...
            a_k = self.functions[k](where(own[k], z, zero))  # other units see 0
            a = a_k if a is None else where(own[k], a_k, a)
        return a

    # -------------------------------------------------- the training schedule
    def begin_epoch(self) -> None:
        self.current_epoch = self.epochs_begun
        self.epochs_begun += 1

    def begin_step(self) -> None:
        """Before training step `steps_begun`: the same draw as handrolled's on_step."""
        epoch = getattr(self, "current_epoch", max(self.epochs_begun - 1, 0))
        self.schedule.on_step(epoch, self.steps_begun)
        self.steps_begun += 1
        self._mask.variable.assign(self._current_mask())

    def get_config(self):
        config = super().get_config()
        config["activation"] = self.activation
        if isinstance(self.schedule, handrolled_activations.Stochastic):
            config["state"] = {"epoch": self.schedule.epoch, "step": self.schedule.step,
                               "epochs_begun": self.epochs_begun,
                               "steps_begun": self.steps_begun}
        return config

    def compute_output_shape(self, input_shape):
        return input_shape


def _per_unit_layer(act, dtype=None, name=None) -> PerUnitActivation:
    return PerUnitActivation(act.text, dtype=dtype, name=name)


keras_activations.register("mix")(_per_unit_layer)
keras_activations.register("stochastic")(_per_unit_layer)


class ActivationSchedule(keras.callbacks.Callback):
    """Tells stochastic layers the epoch and step, as `Network.on_step` does by hand.

    Counts live on the layers, not here, because a training loop may create
    new callbacks for every `fit` call (one epoch each) while the step count
    runs over the whole training.
    """

    def __init__(self, layers):
        super().__init__()
        self.layers = list(layers)

    def on_epoch_begin(self, epoch, logs=None):
        for layer in self.layers:
            layer.begin_epoch()

    def on_train_batch_begin(self, batch, logs=None):
        for layer in self.layers:
            layer.begin_step()


def scheduled_layers(model) -> list[PerUnitActivation]:
    """The model's layers whose function assignment changes during training."""
    return [layer for layer in model.layers if isinstance(layer, PerUnitActivation)
            and isinstance(layer.schedule, handrolled_activations.Stochastic)]
