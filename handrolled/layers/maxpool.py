"""MaxPooling2D: the largest value of every window, per channel.

    y[n, i, j, c] = max over the window (i, j) of x[n, ., ., c]

Backward: the whole gradient of a window goes to its winner,

    dL/dx[winner of (i, j)] += dy[n, i, j, c]     (0 for every other pixel)

and a pixel that wins several overlapping windows collects each share.
Ties: when a window holds equal maxima, TensorFlow on the CPU gives the
gradient to the first of them in row-major order inside the window; so does
the walk here, over the offsets (u, v) inside a window in row-major order,
every window at once: a later offset takes over only where it is strictly
larger (as `np.argmax` on the flattened window would choose).  With
padding='same' the padded pixels are -inf, so they never win.  (A NaN makes its window's
maximum NaN; training has already failed by then.)

A finite-difference step that changes a window's winner crosses a kink:
`kink_pattern` is the winners' positions.

Keras twin: keras.layers.MaxPooling2D(pool_size, strides, padding).
"""

from __future__ import annotations

import numpy as np

from .base import register
from .pooling import Pooling2D


def maxpool_forward(x, windows):
    """y = the maximum of every window, and `winner`, the offset u kw + v of its first
    maximum in row-major order (the cache), walking the offsets (u, v) inside a window,
    every window at once."""
    x_padded = windows.pad(x, -np.inf)                 # padded pixels never win
    kh, kw = windows.window
    index = np.min_scalar_type(kh * kw - 1)  # uint8 up to 16x16 windows: less to move
    y = winner = None                        # the running maximum and its offset u kw + v
    for u, v, pixels in windows.offsets():   # kh kw strided views, no copy
        values = x_padded[pixels]            # (n, oh, ow, C): pixel (u, v) of each window
        if y is None:
            y, winner = values.copy(), np.zeros(values.shape, dtype=index)
            continue
        later = values > y                   # strictly: the first maximum keeps its place
        np.maximum(y, values, out=y)
        winner += later * (u * kw + v - winner)  # arithmetic, not a masked
        #  copy: np.copyto(..., where=) branches per element and is ~30x slower here
    return y, winner


def maxpool_backward(dy, winner, windows):
    """dL/dx[winner of (i, j)] += dy[n, i, j, c]; 0 for every pixel that wins nothing."""
    kh, kw = windows.window
    if windows.tiled:  # each pixel in one window at most: no sum, one product
        dx = np.zeros((dy.shape[0], windows.height, windows.width, windows.channels),
                      dtype=dy.dtype)
        offset = np.arange(kh * kw, dtype=np.int32).reshape(1, 1, kh, 1, kw, 1)
        wins = winner[:, :, None, :, None, :] == offset         # (n, oh, kh, ow, kw, C)
        np.multiply(wins, dy[:, :, None, :, None, :], out=windows.as_tiles(dx))
        return dx, {}
    offset = np.arange(kh * kw, dtype=np.int32).reshape(kh, kw, 1)
    wins = winner[:, :, :, None, None, :] == offset             # (n, oh, ow, kh, kw, C)
    return windows.scatter(wins * dy[:, :, :, None, None, :]), {}   # dy's dtype


@register("maxpool", "maxpool2d", "max_pooling2d")
class MaxPooling2D(Pooling2D):
    keras_name = "MaxPooling2D"

    def forward(self, params, x, training=False):
        return maxpool_forward(x, self.windows)

    def backward(self, params, dy, cache, input_gradient=True):
        if not input_gradient:
            return None, {}
        return maxpool_backward(dy, cache, self.windows)

    def kink_pattern(self, cache):
        return cache.astype(np.int32).tobytes()
