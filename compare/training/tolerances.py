"""When two training runs agree: `RoundoffRule` per dtype (`ROUNDOFF_RULES`, what
`verdict.py` judges with), and the fixed `TRAINING_TOLERANCES` kept for reference."""

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


@dataclass(frozen=True)
class RoundoffRule:
    """How `verdict.py` judges a handrolled-Keras difference against the round-off
    envelope (|handrolled - handrolled with each batch's rows reversed|)."""

    dtype: str
    floor_ulps: float    # first-step round-off: this many eps times the loss (or weight)
    factor: float        # how far above the envelope's running maximum a difference may go
    accuracy_rows: int   # rows of an evaluated set that may change class on top of factor
                         # times the envelope's accuracy difference

    def describe(self) -> str:
        return (f"{self.dtype}: inside max({self.factor:g} x round-off envelope, "
                f"{self.floor_ulps:g} eps x |loss|)")


ROUNDOFF_RULES = {
    "float64": RoundoffRule("float64", floor_ulps=8, factor=10, accuracy_rows=0),
    "float32": RoundoffRule("float32", floor_ulps=8, factor=10, accuracy_rows=2),
}
