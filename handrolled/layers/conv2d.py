"""Conv2D: a 2-D convolution (cross-correlation, as Keras computes it: no kernel flip).

Shapes are NHWC and the kernel is (kh, kw, C_in, F), Keras' layout.  With
every window of the padded input laid out as one row (im2col):

    cols[(n, i, j), (u, v, c)] = x_pad[n, i sh + u, j sw + v, c]
    z = cols K + b            K = kernel reshaped to (kh kw C_in, F): one product
    a = f(z)                  reshaped to (n, out_h, out_w, F)

Backward, from dy = dL/da:

    delta   = dy * f'(z)
    dL/dK   = cols^T delta              (then reshaped to (kh, kw, C_in, F))
    dL/db   = 1^T delta                 the sum of delta over n, i, j, as one product
    dL/dx   = scatter(delta K^T)        each window's share added back onto its
                                        pixels (windows.Windows.scatter)

Dense is the special case of a 1x1 image: the same three lines with cols = x.

Keras twin: keras.layers.Conv2D(filters, kernel_size, strides, padding, activation).
"""

from __future__ import annotations

import numpy as np

from ..options import Option
from .base import (Layer, activation_text, kink_signs, padding, register, size, size_pair,
                   size_text, to_activation, training_products)
from .initializers import init_kernel_and_bias
from .windows import Windows


def conv2d_forward(params, x, f, windows):
    """im2col, then one product: z = cols K + b, a = f(z) (K: the kernel as a matrix)."""
    n = x.shape[0]
    kh, kw, channels, filters = params["kernel"].shape
    cols = windows.columns(windows.pad(x))              # (n, oh, ow, kh, kw, C)
    cols = cols.reshape(-1, kh * kw * channels)         # a view: one row per window
    K = params["kernel"].reshape(-1, filters)
    z = cols @ K                                        # the one product
    z += params["bias"]                                 # in place: no second array
    z = z.reshape(n, windows.out_h, windows.out_w, filters)
    a = f.value(z)
    return a, (cols, z, a)


def conv2d_backward(params, dy, cache, f, windows, input_gradient=True):
    """delta = dy f'(z), dL/dK = cols^T delta, dL/db = 1^T delta, and dL/dx: every
    window's row of delta K^T added back onto the pixels it came from (scatter)."""
    cols, z, a = cache
    kernel = params["kernel"]
    kh, kw, channels, filters = kernel.shape
    delta = dy * f.derivative(z, a)
    delta_rows = delta.reshape(-1, filters)
    ones = np.ones(delta_rows.shape[0], dtype=delta_rows.dtype)
    grads = {"kernel": (cols.T @ delta_rows).reshape(kernel.shape),
             # a product, not delta_rows.sum(axis=0): NumPy sums a tall array of
             # few columns row by row, 40-50x slower here (docs/PERFORMANCE.md)
             "bias": ones @ delta_rows}
    if not input_gradient:
        return None, grads
    d_cols = delta_rows @ kernel.reshape(-1, filters).T  # (n oh ow, kh kw C)
    d_windows = d_cols.reshape(delta.shape[0], windows.out_h, windows.out_w, kh, kw, channels)
    return windows.scatter(d_windows), grads


@register("conv", "conv2d")
class Conv2D(Layer):
    keras_name = "Conv2D"
    INPUT = "images"
    OPTIONS = (Option("filters", size, positional=True),
               Option("kernel_size", size_pair, positional=True, convert=size_pair,
                      write=size_text),
               Option("activation", activation_text, "linear", positional=True,
                      convert=to_activation),
               Option("strides", size_pair, (1, 1), convert=size_pair, write=size_text),
               Option("padding", padding, "valid"),
               *Layer.REGULARIZER_OPTIONS)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise self.error(f"gets inputs of shape {input_shape}; Conv2D takes images "
                            f"(height, width, channels)")
        self.windows = Windows(input_shape, self.kernel_size, self.strides, self.padding)
        if not self.windows.fits():
            raise self.error(f"kernel {self.kernel_size[0]}x{self.kernel_size[1]} is larger "
                            f"than its {input_shape[0]}x{input_shape[1]} input; use a smaller "
                            f"kernel or padding=same")
        channels = input_shape[2]
        self.param_shapes = {"kernel": (*self.kernel_size, channels, self.filters),
                             "bias": (self.filters,)}
        return (self.windows.out_h, self.windows.out_w, self.filters)

    def init_params(self, rng, scheme):
        kh, kw, channels, filters = self.param_shapes["kernel"]
        return init_kernel_and_bias(rng, scheme, self.param_shapes["kernel"],
                                    fan_in=kh * kw * channels, fan_out=kh * kw * filters)

    def forward(self, params, x, training=False):
        return conv2d_forward(params, x, self.activation, self.windows)

    def backward(self, params, dy, cache, input_gradient=True):
        return conv2d_backward(params, dy, cache, self.activation, self.windows, input_gradient)

    def kink_pattern(self, cache):
        return kink_signs(self.activation, cache[1])

    def flops_per_row(self, first):
        """z = cols K on the im2col rows: each of a row's out_h out_w windows is kh kw C_in
        numbers times the (kh kw C_in) x F kernel (padding's zeros included, as computed)."""
        out_h, out_w, filters = self.output_shape
        kh, kw, channels, _ = self.param_shapes["kernel"]
        return training_products(2 * out_h * out_w * kh * kw * channels * filters, first)

