"""Resident memory per implementation, in one process: what each one holds, and its
epoch's own peak above that.

Every implementation runs in the same process, so the process's peak
(ru_maxrss) is theirs together.  Per implementation, `Meter` records:

    held        resident memory (RSS) it added by being set up and warmed up: its
                model, buffers, traced graphs (and its share of what the libraries
                allocate on first use)
    epoch peak  the largest rise of RSS above the RSS at an epoch's start, during
                that epoch: its temporaries

and the implementation's figure is held + epoch peak (`memory_mb`).  TensorFlow's
libraries are loaded before any implementation is set up, so they are in no
implementation's figure (the process's peak, printed below the table, has them).  The epoch's
peak is Linux's high-water mark (VmHWM in /proc/self/status), reset before each
epoch by writing 5 to /proc/self/clear_refs (Linux 4.0 and later): no sampling
thread, nothing added to the timed epoch.  Where that is not available, every
figure is None.
"""

from __future__ import annotations

import re

_STATUS = "/proc/self/status"


def _status_kb(field: str) -> int | None:
    try:
        with open(_STATUS) as status:
            found = re.search(rf"^{field}:\s+(\d+)\s+kB", status.read(), re.MULTILINE)
    except OSError:
        return None
    return int(found.group(1)) if found else None


def resident_kb() -> int | None:
    """The process's resident memory now (VmRSS), in KB."""
    return _status_kb("VmRSS")


def reset_peak() -> bool:
    """Reset the process's high-water mark to its RSS now; False where Linux does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def peak_kb() -> int | None:
    """The process's high-water mark of RSS (VmHWM) since the last reset, in KB."""
    return _status_kb("VmHWM")


class Meter:
    """held and epoch peak of one implementation (above)."""

    def __init__(self):
        self.held_kb, self.epoch_peak_kb, self.ok = 0, 0, resident_kb() is not None

    def setup(self, make):
        """make(): the implementation's setup; its RSS growth counts as held."""
        before = resident_kb()
        result = make()
        self._hold(before)
        return result

    def epoch(self, run, held: bool = False) -> float:
        """run(): one epoch (returns its seconds).  held=True (the warm-up): the RSS it
        leaves grown counts as held.  Its rise above that, at its peak, is an epoch peak."""
        start = resident_kb()
        reset = reset_peak()
        seconds = run()
        peak, end = (peak_kb() if reset else None), resident_kb()
        if start is None or peak is None or end is None:
            self.ok = False
            return seconds
        growth = max(end - start, 0) if held else 0
        self.held_kb += growth
        self.epoch_peak_kb = max(self.epoch_peak_kb, peak - start - growth)
        return seconds

    def _hold(self, before):
        after = resident_kb()
        if before is None or after is None:
            self.ok = False
        else:
            self.held_kb += max(after - before, 0)

    def figures(self) -> dict:
        """{"memory_mb", "held_mb", "epoch_peak_mb"} (None where not measurable)."""
        if not self.ok:
            return {"memory_mb": None, "held_mb": None, "epoch_peak_mb": None}
        mb = lambda kb: round(kb / 1024, 1)  # noqa: E731
        return {"memory_mb": mb(self.held_kb + self.epoch_peak_kb), "held_mb": mb(self.held_kb),
                "epoch_peak_mb": mb(self.epoch_peak_kb)}
