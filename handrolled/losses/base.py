"""The loss contract and the one registry of losses.

A loss turns the output layer's logits z (n x k, a linear Dense layer) into a
number and its gradient, in three steps so that a training step computes the
shared part once:

    out   = loss.output(z)          what value and delta share (softmax: log p)
    L     = loss.value(out, Y)      the mean loss over the batch
    delta = loss.delta(out, Y)      dL/dz: eq. 3, where backprop starts

and knows its output layer and targets: `units(classes)` (k), `targets(labels,
classes)` (Y from integer labels), `predict(z)` (the class of each row).  Keras
computes each of these from logits too (from_logits=True), which is exact.

    get("mse")        -> the MeanSquaredError loss (also its Keras names)
    get("hinge")      -> SpecError naming the accepted losses
"""

from __future__ import annotations

import numpy as np

from ..registry import Registry


class Loss:
    name: str = ""
    keras_name: str = ""         # the keras.losses class of the twin
    output_activation: str = ""  # what the logits stand for: softmax, sigmoid, linear

    def units(self, classes: int) -> int:
        return classes

    def targets(self, labels: np.ndarray, classes: int, dtype="float64") -> np.ndarray:
        """Y for integer labels: one-hot rows (n, classes) unless a loss says otherwise."""
        labels = np.asarray(labels)
        Y = np.zeros((labels.shape[0], classes), dtype=dtype)
        Y[np.arange(labels.shape[0]), labels] = 1
        return Y

    def from_one_hot(self, Y: np.ndarray) -> np.ndarray:
        """The targets of this loss from one-hot rows (n, classes)."""
        return Y

    def predict(self, logits: np.ndarray) -> np.ndarray:
        return logits.argmax(axis=1)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """What the output layer's activation gives (softmax, sigmoid; linear: z)."""
        return logits

    def output(self, logits: np.ndarray):
        return logits

    def value(self, out, Y: np.ndarray) -> float:
        raise NotImplementedError

    def delta(self, out, Y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<loss {self.name}>"


LOSSES = Registry("loss")
register = LOSSES.register
names = LOSSES.names


def get(name) -> Loss:
    if isinstance(name, Loss):
        return name
    return LOSSES.lookup(name)()
