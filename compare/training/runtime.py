"""Wall-clock timing of training epochs, and the runtime summary the report shows.

Definitions (per implementation):

* first epoch -- the first epoch's seconds; for Keras it includes tracing the
  training step into a TensorFlow graph, so it is shown apart;
* steady epoch -- the median of the later epochs (None with a single epoch);
* step -- steady epoch / steps per epoch;
* samples/s -- training rows / steady epoch;
* ratio -- handrolled / Keras, per column (below 1: the hand-written loop is faster).

Timings are reported, never asserted: they depend on the machine and its load.
`timing_warnings` says when they are unreliable: other processes kept at least
BUSY_CORES of a core busy on average during the run (the 1-minute load average
before the run, or after it less this run's own core), or one side's later
epochs spread by more than SPREAD times (slowest / fastest).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass


BUSY_CORES = 0.5   # load from other processes, in cores, that makes timings unreliable
SPREAD = 1.5       # slowest / fastest later epoch of one side that does


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


def timing_warnings(epoch_seconds: dict[str, list[float]], load: dict | None) -> list[str]:
    """Why the runtime figures may not be trusted, one line each ([] when nothing says so).

    `epoch_seconds`: each side's epoch times; `load`: {"before", "after": os.getloadavg(),
    "cores": usable cores} around the runs (None: unknown)."""
    lines = []
    if load and load.get("before") and load.get("after"):
        busy = max(load["before"][0], load["after"][0] - 1)  # after: this run's own core too
        if busy >= BUSY_CORES:
            lines.append(f"warning: the machine was busy: other processes wanted about "
                         f"{busy:.1f} cores of its {load.get('cores') or '?'} (1-minute "
                         f"load average {load['before'][0]:.2f} before the run, "
                         f"{load['after'][0]:.2f} after it, this run included), so these "
                         f"timings are unreliable; rerun on a quiet machine, or measure a busy "
                         f"one on purpose with `nn-compare bench --load N`")
    for side, seconds in epoch_seconds.items():
        later = seconds[1:]
        if len(later) >= 2 and min(later) > 0 and max(later) / min(later) > SPREAD:
            lines.append(f"warning: {side}'s later epochs took {min(later):.3f} to "
                         f"{max(later):.3f} s, {max(later) / min(later):.1f}x apart (more than "
                         f"{SPREAD}x): the machine's speed changed during the run, so its "
                         f"steady epoch is unreliable")
    return lines
