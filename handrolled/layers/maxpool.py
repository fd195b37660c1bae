"""MaxPooling2D: the largest value of every window, per channel.

    y[n, i, j, c] = max over the window (i, j) of x[n, ., ., c]

Backward: the whole gradient of a window goes to its winner,

    dL/dx[winner of (i, j)] += dy[n, i, j, c]     (0 for every other pixel)

and a pixel that wins several overlapping windows collects each share.
Ties: when a window holds equal maxima, TensorFlow on the CPU gives the
gradient to the first of them in row-major order inside the window; so does
`np.argmax` on the row-major flattened window, used here.  With
padding='same' the padded pixels are -inf, so they never win.

A finite-difference step that changes a window's winner crosses a kink:
`kink_pattern` is the winners' positions.

Keras twin: keras.layers.MaxPooling2D(pool_size, strides, padding).
"""

from __future__ import annotations

import numpy as np

from .base import register
from .pooling import Pooling2D


@register("maxpool", "maxpool2d", "max_pooling2d")
class MaxPooling2D(Pooling2D):
    keras_name = "MaxPooling2D"

    def forward(self, params, x, training=False):
        values = self.window_values(x, -np.inf)        # (n, oh, ow, C, kh kw)
        winner = values.argmax(axis=-1)                # the first maximum, row-major
        y = np.take_along_axis(values, winner[..., None], axis=-1)[..., 0]
        return y, winner

    def backward(self, params, dy, cache, input_gradient=True):
        if not input_gradient:
            return None, {}
        winner = cache
        size = self.pool_size[0] * self.pool_size[1]
        d_values = (np.arange(size) == winner[..., None]) * dy[..., None]
        return self.scatter(d_values.astype(dy.dtype, copy=False)), {}

    def kink_pattern(self, cache):
        return cache.astype(np.int32).tobytes()
