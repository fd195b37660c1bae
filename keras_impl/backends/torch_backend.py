"""Keras on PyTorch: seeding, deterministic kernels, and gradients by torch.autograd.

Keras' torch backend keeps every variable as a torch Parameter (requires_grad for
the trainable ones) and computes in the dtype asked for, float64 included.
"""

from __future__ import annotations

import contextlib
import random

import numpy as np

from .quiet import stderr_to_devnull, without_tensorflow

NAME = "torch"
tf = None


def import_keras():
    with stderr_to_devnull():
        import torch  # noqa: F401  (fails here, clearly, if torch is missing)
        import keras
    without_tensorflow()
    return keras


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, torch and Keras; torch's deterministic kernels only."""
    import keras
    import torch

    random.seed(seed)
    keras.utils.set_random_seed(seed)  # also torch.manual_seed
    torch.use_deterministic_algorithms(True)


@contextlib.contextmanager
def random_state_kept():
    """torch's global generator put back afterwards: Keras' Dropout without a seed draws
    from it on this backend (torch.nn.functional.dropout), not from its SeedGenerator."""
    import torch

    saved = torch.random.get_rng_state()
    try:
        yield
    finally:
        torch.random.set_rng_state(saved)


def call_and_gradients(layer, x, objective, training: bool = True, keep_state: bool = True,
                       input_gradient: bool = False):
    """As tensorflow_backend.call_and_gradients, by torch.autograd.grad."""
    import keras
    import torch

    x = torch.tensor(np.asarray(x), requires_grad=True)
    is_layer = isinstance(layer, keras.layers.Layer)
    variables = list(layer.trainable_variables) if is_layer else []
    state = [(v, keras.ops.convert_to_numpy(v.value)) for v in layer.non_trainable_weights] \
        if is_layer and keep_state else []
    out = layer(x, training=training) if is_layer else layer(x)
    value = objective(out, list(layer.losses) if is_layer else [])
    for variable, saved in state:
        variable.assign(saved)
    grads = torch.autograd.grad(value, [x, *(v.value for v in variables)], allow_unused=True)
    grads = [torch.zeros_like(t) if g is None else g
             for t, g in zip([x, *(v.value for v in variables)], grads)]
    numpy = keras.ops.convert_to_numpy
    return (float(numpy(value)), numpy(out), numpy(grads[0]) if input_gradient else None,
            {id(v): numpy(g) for v, g in zip(variables, grads[1:])})
