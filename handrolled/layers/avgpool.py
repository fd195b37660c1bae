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
from .pooling import Pooling2D


@register("avgpool", "avgpool2d", "average_pooling2d")
class AveragePooling2D(Pooling2D):
    keras_name = "AveragePooling2D"

    def build(self, input_shape):
        output_shape = super().build(input_shape)
        ones = np.ones((1, input_shape[0], input_shape[1], 1))
        self.counts = self.window_values(ones, 0.0).sum(axis=-1)   # m_ij: (1, oh, ow, 1)
        return output_shape

    def forward(self, params, x, training=False):
        counts = self.counts.astype(x.dtype, copy=False)
        return self.window_values(x, 0.0).sum(axis=-1) / counts, None

    def backward(self, params, dy, cache, input_gradient=True):
        if not input_gradient:
            return None, {}
        share = dy / self.counts.astype(dy.dtype, copy=False)
        size = self.pool_size[0] * self.pool_size[1]
        return self.scatter(np.repeat(share[..., None], size, axis=-1)), {}
