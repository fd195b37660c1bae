"""Keras on JAX: float64 enabled before the import, seeding, and gradients by
`jax.value_and_grad` over `stateless_call`.

JAX computes in float32 unless `jax_enable_x64` is set before its first array,
so `import_keras` sets it first: a float64 network is float64 on this backend
too.  XLA's CPU thread pool is sized by the machine (XLA_FLAGS, when the user
sets them); TensorFlow's TF_NUM_*_THREADS mean nothing here.  JAX's CPU kernels
are deterministic: seeding Python, NumPy and Keras' generators is all it takes.
"""

from __future__ import annotations

import contextlib
import random

import numpy as np

from .quiet import stderr_to_devnull, without_tensorflow

NAME = "jax"
tf = None


def import_keras():
    """JAX with float64 enabled, then Keras."""
    with stderr_to_devnull():
        import jax

        jax.config.update("jax_enable_x64", True)
        import keras
    without_tensorflow()
    return keras


def random_state_kept():
    """Nothing global to keep: Keras' generators are its SeedGenerators' states."""
    return contextlib.nullcontext()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and Keras (its global SeedGenerator)."""
    import keras

    random.seed(seed)
    keras.utils.set_random_seed(seed)


def call_and_gradients(layer, x, objective, training: bool = True, keep_state: bool = True,
                       input_gradient: bool = False):
    """As tensorflow_backend.call_and_gradients, by jax.value_and_grad: the layer runs as
    `layer.stateless_call(trainable, non_trainable, x, return_losses=True)`, a pure
    function of the trainable values and x, so nothing is written to a variable while
    JAX traces it.  Afterwards the new non-trainable values are assigned: all of them
    (keep_state=False), or only the random generators' states (keep_state=True: the
    moving statistics stay, the Dropout generators advance, as on TensorFlow)."""
    import jax
    import jax.numpy as jnp
    import keras

    x = jnp.asarray(x)
    if not isinstance(layer, keras.layers.Layer):  # a plain function of x
        def function(x):
            out = layer(x)
            return objective(out, []), out
        (value, out), dx = jax.value_and_grad(function, has_aux=True)(x)
        return float(value), np.asarray(out), np.asarray(dx) if input_gradient else None, {}

    trainable = list(layer.trainable_variables)
    non_trainable = list(layer.non_trainable_variables)

    def function(values, x):
        out, new_state, losses = layer.stateless_call(
            values, [v.value for v in non_trainable], x, training=training, return_losses=True)
        return objective(out, list(losses)), (out, new_state)

    (value, (out, new_state)), (grads, dx) = jax.value_and_grad(
        function, argnums=(0, 1), has_aux=True)([v.value for v in trainable], x)
    weights = {id(v) for v in layer.non_trainable_weights}
    for variable, new in zip(non_trainable, new_state):
        if not (keep_state and id(variable) in weights):
            variable.assign(new)
    return (float(value), np.asarray(out), np.asarray(dx) if input_gradient else None,
            {id(v): np.asarray(g) for v, g in zip(trainable, grads)})
