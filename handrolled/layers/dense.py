"""Dense: the fully connected layer of the textbook, eqs. 1, 2, 4 and 5.

    z = x W + b            eq. 1    W: (n_in, units), Keras' kernel layout
    a = f(z)               eq. 2

Backward, from dy = dL/da (what the layer above sent down):

    delta  = dy * f'(z)               eq. 5, second half
    dL/dW  = x^T delta                eq. 4
    dL/db  = sum over rows of delta
    dL/dx  = delta W^T                eq. 5, first half: what goes to the layer below

The output layer is a Dense layer with the linear activation: its z are the
logits, and delta there is eq. 3, (p - Y) / n, from the loss.

Keras twin: keras.layers.Dense(units, activation).
"""

from __future__ import annotations

from ..options import Option
from .base import (Layer, activation_text, kink_signs, register, size, to_activation,
                   training_products)
from .initializers import init_kernel_and_bias


def dense_forward(params, x, f):
    """z = x W + b (eq. 1), a = f(z) (eq. 2); the cache is what backward needs."""
    z = x @ params["kernel"] + params["bias"]   # eq. 1
    a = f.value(z)                              # eq. 2
    return a, (x, z, a)


def dense_backward(params, dy, cache, f, input_gradient=True):
    """From dy = dL/da: delta = dy f'(z) (eq. 5), dL/dW = x^T delta and dL/db = the sum
    of delta over the rows (eq. 4), dL/dx = delta W^T (eq. 5).  input_gradient=False
    skips dL/dx: the first layer's is never needed."""
    x, z, a = cache
    delta = dy * f.derivative(z, a)                                 # eq. 5
    grads = {"kernel": x.T @ delta, "bias": delta.sum(axis=0)}      # eq. 4
    dx = delta @ params["kernel"].T if input_gradient else None     # eq. 5: to the layer below
    return dx, grads


@register("dense")
class Dense(Layer):
    keras_name = "Dense"
    INPUT = "rows"
    OPTIONS = (Option("units", size, positional=True),
               Option("activation", activation_text, "linear", positional=True,
                      convert=to_activation),
               *Layer.REGULARIZER_OPTIONS)

    def build(self, input_shape):
        if len(input_shape) != 1:
            raise self.error(f"gets inputs of shape {input_shape}; Dense takes flat rows, "
                            f"so put 'flatten' before it")
        self.param_shapes = {"kernel": (input_shape[0], self.units), "bias": (self.units,)}
        return (self.units,)

    def init_params(self, rng, scheme):
        return init_kernel_and_bias(rng, scheme, self.param_shapes["kernel"],
                                    fan_in=self.input_shape[0], fan_out=self.units)

    def forward(self, params, x, training=False):
        return dense_forward(params, x, self.activation)

    def backward(self, params, dy, cache, input_gradient=True):
        return dense_backward(params, dy, cache, self.activation, input_gradient)

    def kink_pattern(self, cache):
        return kink_signs(self.activation, cache[1])

    def flops_per_row(self, first):
        """z = x W: 2 n_in n_out per row, for the forward and each backward product."""
        return training_products(2 * self.input_shape[0] * self.units, first)
