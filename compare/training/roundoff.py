"""The round-off envelope from several samples of round-off.

Each sample is the hand-written run again with another summation order and a
start one unit in the last place away (`side_by_side.py`).  Round-off is a
random process: a sample may cross a kink (relu's 0, a piecewise corner) at a
step where another does not, and its distance from the hand-written run then
jumps.  The envelope is the largest distance any sample has, at every step,
epoch and tensor element: `widest` returns it as a History r with
|h - r| = max_i |h - r_i|, which is all the verdict reads of an envelope.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .history import History

_PER_EPOCH = ("loss", "train_accuracy", "test_accuracy", "test_loss", "validation_accuracy")


def farthest(h, samples) -> np.ndarray:
    """h + max_i |h - r_i| elementwise, over the length all of them have (NaN ignored)."""
    h = np.asarray(h, dtype=np.float64)
    samples = [np.asarray(r, dtype=np.float64) for r in samples]
    n = min([h.shape[0] if h.ndim else 1] + [r.shape[0] if r.ndim else 1 for r in samples])
    if h.ndim:
        h, samples = h[:n], [r[:n] for r in samples]
    return h + np.fmax.reduce([np.abs(h - r) for r in samples])


def widest(handrolled: History, samples: list[History]) -> History:
    """The History whose distance from `handrolled` is the samples' largest (above)."""
    if len(samples) == 1:
        return samples[0]
    first = samples[0]
    changes = {name: list(farthest(getattr(handrolled, name),
                                   [getattr(s, name) for s in samples]))
               for name in _PER_EPOCH
               if getattr(handrolled, name) and all(getattr(s, name) for s in samples)}
    epochs = min(len(handrolled.step_losses), *(len(s.step_losses) for s in samples))
    changes["step_losses"] = [farthest(handrolled.step_losses[e],
                                       [s.step_losses[e] for s in samples])
                              for e in range(epochs)]
    for part in ("weights", "state", "optimizer_state"):
        h = getattr(handrolled, part)
        common = set(h).intersection(*(getattr(s, part) for s in samples))
        changes[part] = {name: (h[name] if name == "iterations" else
                                farthest(h[name], [getattr(s, part)[name] for s in samples]))
                         for name in common}
    changes["diverged"] = next((s.diverged for s in samples if s.diverged), None)
    return dataclasses.replace(first, **changes)
