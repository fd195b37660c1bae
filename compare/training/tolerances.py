"""When two training runs agree: `RoundoffRule` per dtype, `ROUNDOFF_RULES` (used by verdict.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoundoffRule:
    """How `verdict.py` judges a handrolled-Keras difference against the round-off
    envelope (|handrolled - handrolled with each batch's rows reversed|)."""

    dtype: str
    floor_ulps: float    # first-step round-off: this many eps times the loss (or the weight)
    factor: float        # how far above the envelope's running maximum a difference may go
    accuracy_rows: int   # rows of an evaluated set that may change class on top of factor
                         # times the envelope's accuracy difference
    onset_ratio: float = 10  # chaos may set in this many times earlier than in the envelope
    onset_lag: int = 10      # steps of slack when the two take-offs are aligned

    def describe(self) -> str:
        return (f"{self.dtype}: inside max({self.factor:g} x round-off envelope, "
                f"{self.floor_ulps:g} eps x |loss|)")


# Measured here (README, "Three outcomes"): the first step's |handrolled - keras| is
# 0.9 eps |loss| in both dtypes (mnist-sample, 100:relu), the same as the envelope's;
# over whole runs max |handrolled - keras| / max(envelope so far, floor) stayed below
# 1.7 (float32 mnist-sample lr 1.0 and lr 0.1, Fashion-MNIST; float64 mnist-sample).
# A factor of 10 leaves room for a second sample of a chaotic process; a bug shows
# at the step it first acts, where the envelope is still at the floor (8 eps |loss|,
# 2e-6 on a float32 loss of 2.3, 4e-15 in float64): the failing twins in
# tests/test_training_verdict.py (a derivative 1% off, 0.999 lr, a bias update
# skipped every 100th step) are caught at that step in both dtypes.  float64 stays
# strict because its envelope is ~1e-16 wherever the run is not chaotic, and the
# accuracies may not differ by a single row unless round-off alone moved one.
ROUNDOFF_RULES = {
    "float64": RoundoffRule("float64", floor_ulps=8, factor=10, accuracy_rows=0),
    "float32": RoundoffRule("float32", floor_ulps=8, factor=10, accuracy_rows=2),
}
