"""The round-off envelope folded in place (compare/training/roundoff.py) gives the same
bits as the envelope computed in new arrays; a fold in another order does not."""

from __future__ import annotations

import numpy as np

from compare.training.roundoff import farthest, farthest_in_place


def samples(seed=0):
    rng = np.random.default_rng(seed)
    h = rng.normal(size=500) * 10.0 ** rng.uniform(-3, 3, 500)
    r, s = (h + rng.normal(size=500) * 1e-13 * abs(h) for _ in range(2))
    r[3], s[7] = np.nan, np.nan  # fmax: a NaN distance is ignored where the other is a number
    return h, r, s


def test_in_place_fold_is_the_new_array_fold_bit_for_bit():
    h, r, s = samples()
    expected = farthest(h, [(h, r), (h, s)])
    got = farthest_in_place(h, [r.copy(), s.copy()])
    assert np.array_equal(expected, got, equal_nan=True)
    assert not np.array_equal(expected, h)  # the envelope is not h itself


def test_twin_a_fold_that_adds_the_distance_to_the_sample_is_caught():
    """The in-place slip `out += out` where `out += h` belongs: the distance added to the
    first sample (which held r before it was overwritten), not to h."""
    h, r, s = samples(1)
    wrong = r + np.fmax(abs(h - r), abs(h - s))
    assert not np.array_equal(farthest(h, [(h, r), (h, s)]), wrong, equal_nan=True)
