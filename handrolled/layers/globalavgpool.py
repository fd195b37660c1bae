"""GlobalAveragePooling2D: the mean of each channel over the whole image.

    y[n, c] = (1 / (H W)) sum over i, j of x[n, i, j, c]        (n, H, W, C) -> (n, C)

Backward: every pixel of a channel gets an equal share of that channel's gradient,

    dL/dx[n, i, j, c] = dy[n, c] / (H W)

Keras twin: keras.layers.GlobalAveragePooling2D() (channels last, keepdims=False).
"""

from __future__ import annotations

import numpy as np

from .base import Layer, register


def globalavgpool_forward(params, x):
    """y[n, c] = the mean of x[n, :, :, c]; the cache is the input's shape."""
    return x.mean(axis=(1, 2)), x.shape


def globalavgpool_backward(params, dy, shape):
    """dL/dx[n, i, j, c] = dy[n, c] / (H W): each pixel's equal share."""
    n, height, width, channels = shape
    share = dy / (height * width)
    return np.ones(shape, dtype=dy.dtype) * share[:, None, None, :], {}


@register("globalavgpool", "global_average_pooling2d")
class GlobalAveragePooling2D(Layer):
    keras_name = "GlobalAveragePooling2D"
    INPUT = "images"
    FUNCTIONS = (globalavgpool_forward, globalavgpool_backward)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise self.error(f"gets inputs of shape {input_shape}; GlobalAveragePooling2D "
                            f"takes images (height, width, channels)")
        return (input_shape[2],)
