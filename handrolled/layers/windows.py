"""Sliding windows over images (NHWC): the geometry Conv2D and pooling share.

For one spatial axis of size `n`, window `k`, stride `s`:

    valid:  out = floor((n - k) / s) + 1                 no padding
    same:   out = ceil(n / s),  pad = max((out - 1) s + k - n, 0)
            pad // 2 before, the rest after: the odd extra pixel goes at the
            bottom/right, as TensorFlow (and so Keras) puts it

`view` gives every window as a strided view of the padded input, shape
(n, out_h, out_w, channels, k_h, k_w), without copying.  `offsets` walks the
k_h x k_w positions (u, v) inside a window (9 for a 3x3 kernel), each with
the strided slice of the padded input that holds pixel (u, v) of *every*
window at once, (n, out_h, out_w, channels): `columns` (im2col) copies them
into one contiguous array, and `scatter`, the adjoint of both, adds each
window's gradient back onto the pixels it came from.  Those loops run over
the offsets, never over pixels; each iteration is one vectorised copy or add.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def output_size(size: int, window: int, stride: int, padding: str) -> int:
    if padding == "valid":
        return (size - window) // stride + 1
    return -(-size // stride)


def pad_amounts(size: int, window: int, stride: int, padding: str) -> tuple[int, int]:
    """(before, after) padding of one axis."""
    if padding == "valid":
        return 0, 0
    total = max((output_size(size, window, stride, padding) - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


class Windows:
    """The windows of one layer: input (H, W, C), window (kh, kw), strides, padding."""

    def __init__(self, input_shape, window, strides, padding):
        self.height, self.width, self.channels = input_shape
        self.window, self.strides, self.padding = tuple(window), tuple(strides), padding
        (kh, kw), (sh, sw) = self.window, self.strides
        self.out_h = output_size(self.height, kh, sh, padding)
        self.out_w = output_size(self.width, kw, sw, padding)
        self.pad_h = pad_amounts(self.height, kh, sh, padding)
        self.pad_w = pad_amounts(self.width, kw, sw, padding)

    @property
    def tiled(self) -> bool:
        """Whether the windows lie side by side, none overlapping and none padded
        (strides = window, 'valid'): then every pixel is in at most one window."""
        return self.strides == self.window and self.padding == "valid"

    def as_tiles(self, x: np.ndarray) -> np.ndarray:
        """Tiled windows only: (n, out_h, kh, out_w, kw, C), a view of the pixels of x
        (n, H, W, C) that the windows cover: [n, i, u, j, v, c] = x[n, i kh + u, j kw + v, c]."""
        (kh, kw) = self.window
        covered = x[:, :self.out_h * kh, :self.out_w * kw]
        return covered.reshape(x.shape[0], self.out_h, kh, self.out_w, kw, self.channels)

    def fits(self) -> bool:
        """Whether at least one window fits (always true with 'same')."""
        return self.out_h >= 1 and self.out_w >= 1

    def pad(self, x: np.ndarray, value: float = 0.0) -> np.ndarray:
        if self.pad_h == (0, 0) and self.pad_w == (0, 0):
            return x
        return np.pad(x, ((0, 0), self.pad_h, self.pad_w, (0, 0)), constant_values=value)

    def view(self, x_padded: np.ndarray) -> np.ndarray:
        """(n, out_h, out_w, C, kh, kw): window (i, j) starts at pixel (i sh, j sw)."""
        (sh, sw) = self.strides
        windows = sliding_window_view(x_padded, self.window, axis=(1, 2))
        return windows[:, ::sh, ::sw][:, :self.out_h, :self.out_w]

    def offsets(self):
        """(u, v, pixels) for every offset inside a window, row-major: x_padded[pixels]
        is pixel (u, v) of every window, (n, out_h, out_w, C), a strided view."""
        (kh, kw), (sh, sw) = self.window, self.strides
        last_h, last_w = sh * (self.out_h - 1) + 1, sw * (self.out_w - 1) + 1
        for u in range(kh):
            for v in range(kw):
                yield u, v, (slice(None), slice(u, u + last_h, sh), slice(v, v + last_w, sw))

    def columns(self, x_padded: np.ndarray) -> np.ndarray:
        """im2col: (n, out_h, out_w, kh, kw, C), contiguous, in x_padded's dtype:
        columns[n, i, j, u, v, c] = x_padded[n, i sh + u, j sw + v, c].  One copy per
        offset (u, v) rather than one copy of the 6-D transposed `view`, whose
        innermost axes (kw, C) are too short for NumPy to copy them quickly."""
        (kh, kw) = self.window
        cols = np.empty((x_padded.shape[0], self.out_h, self.out_w, kh, kw, self.channels),
                        dtype=x_padded.dtype)
        for u, v, pixels in self.offsets():
            cols[:, :, :, u, v, :] = x_padded[pixels]
        return cols

    def scatter(self, d_windows: np.ndarray) -> np.ndarray:
        """The adjoint of `view` and `columns`: d_windows (n, out_h, out_w, kh, kw, C) ->
        dx (n, H, W, C), each window's gradient added onto the pixels it covers, offset
        by offset in row-major order, padding cut off."""
        n = d_windows.shape[0]
        rows = self.height + sum(self.pad_h)
        cols = self.width + sum(self.pad_w)
        dx = np.zeros((n, rows, cols, self.channels), dtype=d_windows.dtype)
        for u, v, pixels in self.offsets():
            dx[pixels] += d_windows[:, :, :, u, v, :]
        top, left = self.pad_h[0], self.pad_w[0]
        return dx[:, top:top + self.height, left:left + self.width, :]
