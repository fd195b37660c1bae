"""Flatten: (n, H, W, C) -> (n, H W C), row-major over (H, W, C) as Keras' Flatten.

Backward is the inverse reshape: dL/dx = dy reshaped to the input's shape.

Keras twin: keras.layers.Flatten().
"""

from __future__ import annotations

import math

from .base import Layer, register


def flatten_forward(x):
    """(n, H, W, C) -> (n, H W C), row-major; the cache is the input's shape."""
    return x.reshape(x.shape[0], -1), x.shape


def flatten_backward(dy, shape):
    """The inverse reshape: dL/dx = dy reshaped to the input's shape."""
    return dy.reshape(shape), {}


@register("flatten")
class Flatten(Layer):
    keras_name = "Flatten"
    INPUT = "images"
    VIEW = True  # forward and backward are reshapes: no memory of their own (memory.py)

    OPTIONS = ()

    def build(self, input_shape):
        return (math.prod(input_shape),)

    def forward(self, params, x, training=False):
        return flatten_forward(x)

    def backward(self, params, dy, cache, input_gradient=True):
        return flatten_backward(dy, cache) if input_gradient else (None, {})
