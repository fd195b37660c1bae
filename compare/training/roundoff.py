"""The round-off envelope from several samples of round-off, on both sides.

Each sample is a run again with another summation order and a start one unit
in the last place away (`side_by_side.py`): the hand-written run twice (w (1 +
eps) and w (1 - eps)), Keras' run once, each paired with the run it samples.
Round-off is a random process: a sample may cross a kink (relu's 0, a
piecewise corner) at a step where another does not, and its distance from its
run then jumps; and either side's own round-off may be the larger (Keras' sums
of batch statistics over tens of thousands of values, say).  The envelope is
the largest distance within any pair, at every step, epoch and tensor element:
`widest` returns it as a History r with |h - r| = max_i |run_i - sample_i|,
which is all the verdict reads of an envelope.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .history import History

_PER_EPOCH = ("loss", "train_accuracy", "test_accuracy", "test_loss", "validation_accuracy")


def farthest(h, pairs) -> np.ndarray:
    """h + max_i |run_i - sample_i| elementwise, over the length all of them have (NaN
    ignored); `pairs`: (run_i, sample_i)."""
    h = np.asarray(h, dtype=np.float64)
    pairs = [(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
             for a, b in pairs]
    n = min([h.shape[0] if h.ndim else 1] +
            [x.shape[0] if x.ndim else 1 for pair in pairs for x in pair])
    if h.ndim:
        h, pairs = h[:n], [(a[:n], b[:n]) for a, b in pairs]
    # one distance array at a time, folded in place (not a stack of all of them: for
    # book-ch19-cnn's dense kernel each is 147 MB)
    widest = None
    for a, b in pairs:
        distance = np.empty(np.broadcast(a, b).shape)
        np.subtract(a, b, out=distance)
        np.abs(distance, out=distance)
        if widest is None:
            widest = distance
        else:
            np.fmax(widest, distance, out=widest)
            del distance
    widest += h
    return widest[()]               # a NumPy scalar for 0-d, as h + ... gives


def farthest_in_place(h: np.ndarray, samples: list) -> np.ndarray:
    """farthest(h, [(h, s) for s in samples]), bit for bit, computed in the samples' own
    float64 arrays (the first one returned, the others overwritten): no new array."""
    out = samples[0]
    np.subtract(h, out, out=out)
    np.abs(out, out=out)
    for sample in samples[1:]:
        np.subtract(h, sample, out=sample)
        np.abs(sample, out=sample)
        np.fmax(out, sample, out=out)
    out += h
    return out


def _tensor(h, pairs, reuse: bool):
    samples = [b for _, b in pairs]
    if reuse and all(a is h for a, _ in pairs) and all(
            isinstance(x, np.ndarray) and x.dtype == np.float64 and x.shape == np.shape(h)
            for x in samples):
        return farthest_in_place(h, samples)
    return farthest(h, pairs)


def widest(handrolled: History, pairs: list[tuple[History, History]],
           reuse: bool = False) -> History:
    """The History whose distance from `handrolled` is, everywhere, the largest distance
    between a run and its round-off sample in `pairs` [(run, sample), ...] (above).
    reuse=True: the samples' float64 tensors (weights, state, optimizer state) may be
    overwritten, the result written into the first one's (book-ch19-cnn: ~450 MB of
    float64 a History, not allocated again)."""
    if len(pairs) == 1 and pairs[0][0] is handrolled:
        return pairs[0][1]
    runs = [run for pair in pairs for run in pair]
    changes = {name: list(farthest(getattr(handrolled, name),
                                   [(getattr(a, name), getattr(b, name)) for a, b in pairs]))
               for name in _PER_EPOCH
               if getattr(handrolled, name) and all(getattr(run, name) for run in runs)}
    epochs = min(len(run.step_losses) for run in [handrolled, *runs])
    changes["step_losses"] = [farthest(handrolled.step_losses[e],
                                       [(a.step_losses[e], b.step_losses[e]) for a, b in pairs])
                              for e in range(epochs)]
    for part in ("weights", "state", "optimizer_state"):
        h = getattr(handrolled, part)
        common = set(h).intersection(*(getattr(run, part) for run in runs))
        changes[part] = {name: (h[name] if name == "iterations" else
                                _tensor(h[name], [(getattr(a, part)[name], getattr(b, part)[name])
                                                  for a, b in pairs], reuse))
                         for name in common}
    changes["diverged"] = next((b.diverged for _, b in pairs if b.diverged), None)
    return dataclasses.replace(pairs[0][1], **changes)
