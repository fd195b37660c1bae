"""AveragePooling2D: the mean of every window, per channel.

    y[n, i, j, c] = (1 / m_ij) sum over the window (i, j) of x[n, ., ., c]

m_ij is the number of real pixels in the window: kh kw, except with
padding='same' at the border, where TensorFlow does not count the padded
ones.  Backward: every pixel of a window gets dy / m_ij,

    dL/dx[pixel] += dy[n, i, j, c] / m_ij      for every window holding it

Keras twin: keras.layers.AveragePooling2D(pool_size, strides, padding).
"""

from __future__ import annotations

import numpy as np

from .base import register
from .pooling import Pooling2D, scatter_values, window_values


def window_counts(windows):
    """m_ij, (1, out_h, out_w, 1): how many real pixels each window holds."""
    ones = np.ones((1, windows.height, windows.width, 1))
    return window_values(windows, ones, 0.0).sum(axis=-1)


def avgpool_forward(x, windows, counts):
    """y = (1 / m_ij) sum over the window (i, j) of x."""
    counts = counts.astype(x.dtype, copy=False)
    return window_values(windows, x, 0.0).sum(axis=-1) / counts, None


def avgpool_backward(dy, windows, counts):
    """dL/dx[pixel] += dy[n, i, j, c] / m_ij for every window (i, j) holding the pixel."""
    share = dy / counts.astype(dy.dtype, copy=False)
    kh, kw = windows.window
    return scatter_values(windows, np.repeat(share[..., None], kh * kw, axis=-1)), {}


@register("avgpool", "avgpool2d", "average_pooling2d")
class AveragePooling2D(Pooling2D):
    keras_name = "AveragePooling2D"

    def build(self, input_shape):
        output_shape = super().build(input_shape)
        self.counts = window_counts(self.windows)   # m_ij: (1, oh, ow, 1)
        return output_shape

    def forward(self, params, x, training=False):
        return avgpool_forward(x, self.windows, self.counts)

    def backward(self, params, dy, cache, input_gradient=True):
        if not input_gradient:
            return None, {}
        return avgpool_backward(dy, self.windows, self.counts)
