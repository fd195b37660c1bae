"""The masks Keras' Dropout layers draw, recovered so that the hand-written side uses them.

Keras' Dropout draws its mask from a stateless TensorFlow generator whose seed
is the state of the layer's SeedGenerator (advanced at every call); NumPy
cannot reproduce that generator.  So before a training step (or the forward
pass of a gradient check) `next_masks` runs each Dropout layer on a tensor of
ones of the step's shape, reads the mask off its output (0 where dropped,
1/(1 - rate) where kept), and puts the generator's state back: the real step
then draws exactly that mask (on torch, an unseeded Dropout draws from
torch's global generator: its state is put back too, `BACKEND.random_state_kept`).
The model stays a plain Sequential with keras.layers.Dropout;
`DropoutMaskRecorder` does this for every step of `fit`.
"""

from __future__ import annotations

import numpy as np

from .runtime import BACKEND, keras


def dropout_shapes(spec) -> dict[str, tuple[int, ...]]:
    """{'dropout3': one row's shape} for every Dropout layer of the spec."""
    return {layer.name: layer.input_shape for layer in spec.build_layers()
            if layer.kind == "dropout"}


def next_masks(model: keras.Model, shapes: dict, rows: int) -> dict[str, np.ndarray]:
    """The keep masks the named Dropout layers will draw on their next training call
    with `rows` rows (their generators are left as they were)."""
    masks = {}
    for name, shape in shapes.items():
        layer = model.get_layer(name)
        if getattr(layer, "seed_generator", None) is None:
            # rate 0: Keras' Dropout makes no generator and keeps every unit
            masks[name] = np.ones((rows, *shape), dtype=bool)
            continue
        state = layer.seed_generator.state
        saved = keras.ops.convert_to_numpy(state.value)
        ones = keras.ops.ones((rows, *shape), dtype=layer.compute_dtype)
        with BACKEND.random_state_kept():
            out = layer(ones, training=True)
        state.assign(saved)
        masks[name] = keras.ops.convert_to_numpy(out) != 0
    return masks


class DropoutMaskRecorder(keras.callbacks.Callback):
    """Before every training step of `fit`, the masks its Dropout layers will draw."""

    def __init__(self, shapes: dict, step_rows: list[int]):
        super().__init__()
        self.shapes, self.step_rows = shapes, step_rows
        self.masks: list[dict[str, np.ndarray]] = []

    def on_train_batch_begin(self, batch, logs=None):
        self.masks.append(next_masks(self.model, self.shapes, self.step_rows[batch]))
