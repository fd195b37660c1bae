"""Activation: a = f(z) on its own, after any layer (per unit, any shape).

    a = f(z)                 dL/dz = dL/da * f'(z)

Keras twin: keras.layers.Activation(f).
"""

from __future__ import annotations

from ..options import Option
from .base import Layer, activation_text, kink_signs, register, to_activation


def activation_forward(z, f):
    """a = f(z), elementwise."""
    a = f.value(z)
    return a, (z, a)


def activation_backward(dy, cache, f):
    """dL/dz = dL/da f'(z)."""
    z, a = cache
    return dy * f.derivative(z, a), {}


@register("activation")
class Activation(Layer):
    keras_name = "Activation"
    OPTIONS = (Option("activation", activation_text, positional=True, convert=to_activation),)

    def build(self, input_shape):
        return tuple(input_shape)

    def forward(self, params, z, training=False):
        return activation_forward(z, self.activation)

    def backward(self, params, dy, cache, input_gradient=True):
        return activation_backward(dy, cache, self.activation) if input_gradient else (None, {})

    def kink_pattern(self, cache):
        return kink_signs(self.activation, cache[0])
