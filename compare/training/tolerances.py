"""When two training runs agree: `TrainingTolerance` per dtype, `TRAINING_TOLERANCES`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingTolerance:
    """When two training runs agree.  None: reported, not judged."""

    dtype: str
    loss: float           # max |loss_h - loss_k| over every step and every epoch
    accuracy: float       # max |acc_h - acc_k| over epochs (fractions: 0.005 = 0.5 points)
    weights: float | None  # max |W_h - W_k| over all final weights

    def describe(self) -> str:
        weights = f"{self.weights:g}" if self.weights is not None else "reported only"
        return (f"{self.dtype}: loss diff <= {self.loss:g}, accuracy diff <= "
                f"{100 * self.accuracy:g} points, final weight diff {weights}")


TRAINING_TOLERANCES = {
    # float64: both sides do the same operations; measured on mnist-sample
    # (20 epochs, 2,500 steps) ~1e-16 in loss and ~2e-15 in weights.
    "float64": TrainingTolerance("float64", loss=1e-9, accuracy=0.0, weights=1e-9),
    # float32 (loosened): round-off differences compound over thousands of
    # updates; measured ~1e-6 in loss and ~7e-6 in weights after 2,500 steps.
    # The loss bound leaves room for longer runs; the weights are reported only,
    # because their difference keeps growing with the number of updates while
    # the accuracies (the criterion: within 0.5 points) stay together.
    "float32": TrainingTolerance("float32", loss=1e-3, accuracy=0.005, weights=None),
}
