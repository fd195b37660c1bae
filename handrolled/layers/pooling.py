"""What MaxPooling2D and AveragePooling2D share: configuration and shapes.

Both take pool_size (default 2), strides (default: the pool size, so the
windows tile the image) and padding ('valid' or 'same'), per channel, as
keras.layers.MaxPooling2D / AveragePooling2D do.  They have no parameters.
"""

from __future__ import annotations

from ..options import Option, optional
from .base import Layer, padding, size_pair, size_text
from .windows import Windows


def window_values(windows, x, pad_value):
    """Every window's values, (n, out_h, out_w, C, kh kw), row-major inside a window."""
    values = windows.view(windows.pad(x, pad_value))
    return values.reshape(*values.shape[:4], -1)


def scatter_values(windows, d_values):
    """The adjoint of window_values: (n, out_h, out_w, C, kh kw) gradients of the window
    values -> dL/dx (n, H, W, C), through Windows.scatter's layout."""
    kh, kw = windows.window
    d_windows = d_values.reshape(*d_values.shape[:4], kh, kw).transpose(0, 1, 2, 4, 5, 3)
    return windows.scatter(d_windows)


class Pooling2D(Layer):
    INPUT = "images"
    OPTIONS = (Option("pool_size", size_pair, (2, 2), positional=True, convert=size_pair,
                      write=size_text),
               Option("strides", size_pair, None, convert=optional(size_pair), write=size_text),
               Option("padding", padding, "valid"))

    def __post_init__(self):
        if self.strides is None:   # Keras' default: the pool size, so the windows tile
            self.strides = self.pool_size

    def is_default(self, name, config):
        if name == "strides":  # default: the pool size, so windows tile the image
            return config["strides"] == config["pool_size"]
        return super().is_default(name, config)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise self.error(f"gets inputs of shape {input_shape}; pooling takes images "
                            f"(height, width, channels)")
        self.windows = Windows(input_shape, self.pool_size, self.strides, self.padding)
        if not self.windows.fits():
            raise self.error(f"pool {self.pool_size[0]}x{self.pool_size[1]} is larger than its "
                            f"{input_shape[0]}x{input_shape[1]} input; use a smaller pool "
                            f"or padding=same")
        return (self.windows.out_h, self.windows.out_w, input_shape[2])

    def window_values(self, x, pad_value: float):
        return window_values(self.windows, x, pad_value)

    def scatter(self, d_values):
        return scatter_values(self.windows, d_values)
