"""The Keras twin of a hand-written optimizer, and its state under the same names.

    kopt = keras_optimizer(handrolled.optimizers.get("adam(learning_rate=0.01)"))
    kopt.apply(grads, variables)                       # Keras' own step
    read_state(kopt, {"dense1/kernel": var, ...})      # {"dense1/kernel/m": ..., "iterations": 1}

`keras_optimizer` passes the same hyper-parameters (and an equal schedule
object) to the keras.optimizers class of the same name; `adam_textbook` has
no twin (Keras' Adam is the epsilon-hat form) and is refused.

The learning rate: Keras keeps it in a variable of dtype floatx() as it is
when the optimizer is created, so we create it with floatx set to the model's
dtype (`dtype`, else the hand-written optimizer's built dtype, else the
current floatx).  A schedule computes in float32 whatever floatx is (see
handrolled/optimizers/schedules.py), on both sides.

How Keras casts a Python-float hyper-parameter (`ops.cast(0.9, "float64")`)
depends on the backend: TensorFlow makes a float32 constant first (0.8999999761581421),
JAX (with float64 enabled) and torch keep the float64 number.
`conventions.installed_conventions` measures it; the hand-written optimizer is
built with that value (`Optimizer.build(params, conventions)`, the network's).

`read_state` maps each Keras slot variable to its model variable by name,
never by position.  Keras 3 names a slot "<variable path with / as _>_<slot>"
under the optimizer's scope (optimizers/base_optimizer.py
`add_variable_from_reference`): the Adam momentum of the variable at path
"dense1/kernel" is "adam/dense1_kernel_momentum", name
"dense1_kernel_momentum"; in a Sequential model the path is
"sequential/dense1/kernel", so the slot is "sequential_dense1_kernel_momentum".
We use each variable's own path, so both work; `model.named_variables(model)`
gives the {"dense1/kernel": variable} dict.  The hand-written side calls that
slot "dense1/kernel/m".
"""

from __future__ import annotations

import numpy as np

from handrolled import optimizers as hr
from handrolled.errors import SpecError

from .runtime import keras
from .runtime import floatx

# Keras' slot name -> the hand-written slot name, per keras.optimizers class
SLOT_NAMES = {
    "SGD": {"momentum": "m"},
    "RMSprop": {"velocity": "v", "momentum": "mom", "average_gradient": "g_avg"},
    "Adam": {"momentum": "m", "velocity": "v", "velocity_hat": "v_hat"},
    "AdamW": {"momentum": "m", "velocity": "v", "velocity_hat": "v_hat"},
    "Adagrad": {"accumulator": "acc"},
}


def keras_schedule(schedule: hr.Schedule):
    """The keras.optimizers.schedules object with the same arguments."""
    cls = getattr(keras.optimizers.schedules, schedule.keras_name)
    config = schedule.get_config()
    config.pop("class_name")
    if schedule.keras_name == "PiecewiseConstantDecay":
        config["values"] = [float(v) for v in config["values"]]   # floats, never int tensors
    return cls(**config)


def keras_optimizer(optimizer, dtype: str | None = None):
    """A fresh keras.optimizers.X with `optimizer`'s hyper-parameters (an Optimizer or
    its text).  Its learning-rate variable has dtype `dtype` (see the module notes)."""
    optimizer = hr.get(optimizer)
    if not optimizer.keras_name:
        raise SpecError(f"{optimizer.name} has no Keras twin: Keras' Adam adds epsilon to "
                        f"sqrt(v), not to sqrt(v_hat); compare it with 'adam' instead")
    options = optimizer.options()
    rate = options.pop("learning_rate")
    rate = keras_schedule(rate) if isinstance(rate, hr.Schedule) else float(rate)
    if options.get("weight_decay", 0) is None:
        del options["weight_decay"]
    if "momentum" in options:
        options["momentum"] = float(options["momentum"])   # Keras' SGD insists on a float
    if dtype is None:
        dtype = str(optimizer.dtype) if optimizer.built else keras.config.floatx()
    with floatx(dtype):
        return getattr(keras.optimizers, optimizer.keras_name)(learning_rate=rate, **options)


def read_state(keras_opt, named_variables: dict) -> dict:
    """Keras' optimizer state under the hand-written names: {"<name>/<slot>": array,
    ..., "iterations": int}, where `named_variables` maps the hand-written name
    ("dense1/kernel") to the model's keras.Variable.  Slots are found by the
    variable's path; a slot that some variables have and others lack is an error."""
    slot_names = SLOT_NAMES.get(type(keras_opt).__name__)
    if slot_names is None:
        raise ValueError(f"read_state knows {', '.join(SLOT_NAMES)}, "
                         f"not {type(keras_opt).__name__}")
    by_name: dict[str, list] = {}
    for variable in keras_opt.variables:
        by_name.setdefault(variable.name, []).append(variable)
    state = {}
    for keras_slot, slot in slot_names.items():
        found = {}
        for name, variable in named_variables.items():
            expected = f"{variable.path.replace('/', '_')}_{keras_slot}"
            matches = by_name.get(expected, [])
            if len(matches) > 1:
                raise ValueError(f"read_state: {len(matches)} optimizer variables are named "
                                 f"{expected}")
            if matches:
                found[f"{name}/{slot}"] = np.array(matches[0].numpy())
        if found and len(found) != len(named_variables):
            missing = sorted(set(named_variables) - {k.rsplit("/", 1)[0] for k in found})
            raise ValueError(f"read_state: no {keras_slot} slot for {missing} in "
                             f"{keras_opt.name}")
        state.update(found)
    state["iterations"] = int(keras_opt.iterations.numpy())
    return state


def training_optimizer(lr_or_optimizer, dtype: str):
    """The Keras optimizer to train with: SGD at a bare learning rate, else the twin of
    a handrolled optimizer (or its text); its variables in `dtype`."""
    return keras_optimizer(hr.for_training(lr_or_optimizer), dtype)
