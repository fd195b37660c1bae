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

Keras' round-off is not sampled by running Keras again from w (1 + eps) in the
same order (the only Keras sample a network with Dropout allows: Keras draws
its masks by position in the batch): a sum's rounding errors hardly move when
its terms move by one ulp, so that sample stays as close to Keras' run as the
hand-written samples to theirs, while Keras' run is 30x farther from ours
(measured: book-ch19-cnn, 64 rows, 2 Adam steps, float64: every final tensor
15-37x its envelope; docs/explanations/verdict.md).  The gradient witness
measures it instead: on step 1's batch, |handrolled - keras| against the
hand-written side's own round-off (its rows reversed), per parameter tensor
(`keras_ratio`: 3-186x, median 40, on the run above).  Every per-step
round-off being that many times ours on Keras' side, the trajectory's is too:
`scaled` widens the hand-written samples' distances by the ratio.
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


def keras_ratio(rows) -> float:
    """How many times the hand-written side's own round-off Keras' is, from the gradient
    witness' rows (`compare.gradients.GradientRow`) of one batch: the median over the
    tensors whose gradients it judged to agree of max rel |h - k| / max rel |h - h with
    the rows reversed|, at least 1.  Only a tensor the witness passed as round-off counts:
    one whose gradients disagree (a bug), or agree only by the fixed tolerance, more than
    ROUNDOFF_FACTOR times its own round-off apart (float32's 1e-3 holds a 0.1% bug), or
    with no round-off of its own (the reversed rows gave the same bits) does not; and a
    median lets no single tensor widen the band: 1 where none counts."""
    from ..tolerances import ROUNDOFF_FACTOR

    ratios = [row.max_rel_diff / row.roundoff for row in rows
              if row.agree and row.roundoff is not None and row.roundoff > 0
              and row.max_rel_diff <= ROUNDOFF_FACTOR * row.roundoff]
    return max(1.0, float(np.median(ratios))) if ratios else 1.0


def first_step_ratio(spec, weights, X, Y, keras=None) -> float:
    """`keras_ratio` on step 1's batch (X, Y) from the starting weights: the gradient
    witness (compare.gradients) without finite differences; `keras`: Keras' half, computed
    in Keras' own process (compare.gradients.KerasSide), else here (imports Keras)."""
    from ..gradients import compare_gradients

    return keras_ratio(compare_gradients(spec, weights, X, Y, finite_differences=False,
                                         keras=keras).rows)


def scaled(handrolled: History, roundoff: History, ratio: float) -> History:
    """The envelope with every distance from `handrolled` times `ratio` (h + ratio (r - h)):
    the step and epoch losses and every final tensor.  The accuracies keep their measured
    distance: a row that changes class in a sample is one row, not `ratio` rows."""
    if ratio == 1:
        return roundoff

    def far(h, r):
        h, r = np.asarray(h, dtype=np.float64), np.asarray(r, dtype=np.float64)
        n = min(h.shape[0], r.shape[0]) if h.ndim else None
        if n is not None:
            h, r = h[:n], r[:n]
        return (h + ratio * (r - h))[()]

    changes = {name: list(far(getattr(handrolled, name), getattr(roundoff, name)))
               for name in ("loss", "test_loss")
               if getattr(handrolled, name) and getattr(roundoff, name)}
    changes["step_losses"] = [far(h, r) for h, r in zip(handrolled.step_losses,
                                                        roundoff.step_losses)]
    for part in ("weights", "state", "optimizer_state"):
        h, r = getattr(handrolled, part), getattr(roundoff, part)
        changes[part] = {name: (r[name] if name == "iterations" or name not in h
                                else far(h[name], r[name])) for name in r}
    return dataclasses.replace(roundoff, **changes)


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
