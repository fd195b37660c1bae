"""Wall-clock timing of training epochs, and the runtime summary the report shows.

Definitions (per implementation):

* first epoch -- the first epoch's seconds; for Keras it includes tracing the
  training step into a TensorFlow graph, so it is shown apart;
* steady epoch -- the median of the later epochs (None with a single epoch);
* step -- steady epoch / steps per epoch;
* samples/s -- training rows / steady epoch;
* ratio -- handrolled / Keras, per column (below 1: the hand-written loop is faster).

Timings are reported, never asserted: they depend on the machine and its load.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass


class Stopwatch:
    """`with Stopwatch() as clock: ...` then `clock.seconds`."""

    def __enter__(self) -> "Stopwatch":
        self.seconds = 0.0
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._start


@dataclass
class Runtime:
    epochs: int
    first_epoch_seconds: float | None
    steady_epoch_seconds: float | None
    step_seconds: float | None
    samples_per_second: float | None
    total_seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


def runtime_summary(epoch_seconds: list[float], rows: int, steps_per_epoch: int) -> Runtime:
    """The runtime figures for one implementation's epoch times."""
    first = epoch_seconds[0] if epoch_seconds else None
    later = epoch_seconds[1:]
    steady = statistics.median(later) if later else None
    return Runtime(
        epochs=len(epoch_seconds),
        first_epoch_seconds=first,
        steady_epoch_seconds=steady,
        step_seconds=steady / steps_per_epoch if steady else None,
        samples_per_second=rows / steady if steady else None,
        total_seconds=float(sum(epoch_seconds)),
    )


def ratio(handrolled: float | None, keras: float | None) -> float | None:
    """handrolled / keras, or None when either is missing."""
    if handrolled is None or not keras:
        return None
    return handrolled / keras


def runtime_ratios(handrolled: Runtime, keras: Runtime) -> dict:
    """handrolled / Keras for the time columns (below 1: handrolled is faster)."""
    return {
        "first_epoch_seconds": ratio(handrolled.first_epoch_seconds, keras.first_epoch_seconds),
        "steady_epoch_seconds": ratio(handrolled.steady_epoch_seconds,
                                      keras.steady_epoch_seconds),
        "step_seconds": ratio(handrolled.step_seconds, keras.step_seconds),
    }
