"""Dropout(rate): inverted dropout, as Keras' Dropout layer.

Training, with keep_ij = [u_ij >= rate] for u uniform in [0, 1):

    y = (x / (1 - rate)) * keep        every kept unit scaled up, the others 0
    dL/dx = (dy / (1 - rate)) * keep

Inference (evaluation, prediction): y = x, the identity.

Where the masks come from.  Alone, the layer draws its own from a seeded
NumPy generator (`seed`): the same seed, the same masks.  To be compared with
Keras, both sides need the same masks, and NumPy cannot reproduce
TensorFlow's generator; so a mask can be given from outside (`use_masks`):
one fixed mask (the finite-difference witness perturbs the weights with the
mask held still), or a sequence of masks, one per training step (the masks
Keras' own Dropout layer drew, recovered from its output: see
keras_impl/dropout.py).

Keras twin: keras.layers.Dropout(rate).
"""

from __future__ import annotations

import numpy as np

from ..errors import SpecError
from ..options import Option
from .base import Layer, rate, register, seed


def dropout_forward(x, keep, rate):
    """y = (x / (1 - rate)) keep: every kept unit scaled up, the others 0; keep is the
    cache.  keep=None (inference, or rate 0): y = x."""
    if keep is None:
        return x, None
    return (x * (1 / (1 - rate))) * keep.astype(x.dtype), keep


def dropout_backward(dy, keep, rate):
    """dL/dx = (dy / (1 - rate)) keep (dy itself after an inference pass)."""
    if keep is None:
        return dy, {}
    return (dy * (1 / (1 - rate))) * keep.astype(dy.dtype), {}


@register("dropout")
class Dropout(Layer):
    keras_name = "Dropout"
    TRAINING_MODE = True
    OPTIONS = (Option("rate", rate, positional=True), Option("seed", seed, 0))

    def __post_init__(self):
        self.rng = np.random.default_rng(self.seed)
        self.masks = None  # None: draw; an array: that mask; an iterator: the next one

    def build(self, input_shape):
        return tuple(input_shape)

    def use_masks(self, masks) -> None:
        """A fixed keep mask (bool array), an iterable of them (one per training
        forward pass), or None (draw from the layer's own generator)."""
        self.masks = masks if masks is None or isinstance(masks, np.ndarray) else iter(masks)

    def keep_mask(self, shape) -> np.ndarray:
        if self.masks is None:
            return self.rng.random(shape) >= self.rate          # keep = [u >= rate]
        mask = self.masks if isinstance(self.masks, np.ndarray) else next(self.masks, None)
        if mask is None or mask.shape != tuple(shape):
            raise SpecError(f"layer {self.name}: the given dropout mask has shape "
                            f"{getattr(mask, 'shape', None)}; expected {tuple(shape)}")
        return mask

    def training_mask(self, shape, training: bool):
        """The keep mask of a training pass; None in inference (or at rate 0): y = x."""
        return self.keep_mask(shape) if training and self.rate != 0 else None

    def forward(self, params, x, training=False):
        return dropout_forward(x, self.training_mask(x.shape, training), self.rate)

    def backward(self, params, dy, cache, input_gradient=True):
        if not input_gradient:
            return None, {}
        return dropout_backward(dy, cache, self.rate)
