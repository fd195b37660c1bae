"""Keras on TensorFlow: the import, seeding, and gradients by tf.GradientTape.

Thread pools are fixed when the runtime starts (the first op, here): TensorFlow's
own TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS, when set (by
compare/threads.py's policy before the import, or by the user), are handed to
tf.config.threading first, so that it reports them too.
"""

from __future__ import annotations

import contextlib
import os
import random

import numpy as np

from .quiet import stderr_to_devnull

NAME = "tensorflow"
tf = None


def import_keras():
    """TensorFlow and Keras, imported quietly, the thread pools set (see above)."""
    global tf
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with stderr_to_devnull():
        import tensorflow
        import keras

        tf = tensorflow
        for variable, set_threads in (
                ("TF_NUM_INTRAOP_THREADS", tf.config.threading.set_intra_op_parallelism_threads),
                ("TF_NUM_INTEROP_THREADS", tf.config.threading.set_inter_op_parallelism_threads)):
            if os.environ.get(variable, "").isdigit():  # compare/threads.py's policy, or the
                set_threads(int(os.environ[variable]))  # user's: before the runtime starts
        tf.constant(0.0)  # the first op initialises the runtime, which also logs
    tf.get_logger().setLevel("ERROR")
    return keras


def random_state_kept():
    """Nothing global to keep: Keras' generators are its SeedGenerators' states."""
    return contextlib.nullcontext()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras, and make TF ops deterministic:
    `enable_op_determinism` makes TensorFlow pick deterministic kernels (and raise on
    ops that have none), so two runs with the same seed give the same numbers."""
    import keras

    random.seed(seed)
    keras.utils.set_random_seed(seed)  # also seeds NumPy's global RNG and TF
    tf.config.experimental.enable_op_determinism()


def is_layer(layer) -> bool:
    import keras

    return isinstance(layer, keras.layers.Layer)


def call_and_gradients(layer, x, objective, training: bool = True, keep_state: bool = True,
                       input_gradient: bool = False):
    """One call `out = layer(x, training=training)` and `value = objective(out, losses)`
    (losses: the layer's penalties of this call, as `fit` adds them), differentiated by
    tf.GradientTape.  Returns (value, out, dvalue/dx or None, {id(variable): gradient}
    for every trainable variable) as NumPy; a variable the value does not reach gets
    zeros.  keep_state: the non-trainable weights (moving statistics) are put back
    afterwards (a gradient check is not a step).  `layer` may be a plain function."""
    variables = list(layer.trainable_variables) if is_layer(layer) else []
    state = [(v, v.numpy()) for v in layer.non_trainable_weights] \
        if keep_state and is_layer(layer) else []
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = layer(x, training=training) if is_layer(layer) else layer(x)
        value = objective(out, list(layer.losses) if is_layer(layer) else [])
    for variable, saved in state:
        variable.assign(saved)
    grads = tape.gradient(value, [x, *variables],
                          unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return (float(value), np.asarray(out), np.asarray(grads[0]) if input_gradient else None,
            {id(v): np.asarray(g) for v, g in zip(variables, grads[1:])})
