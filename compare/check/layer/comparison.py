"""Your results against the expected ones, quantity by quantity, call by call.

A quantity is 'out', 'dx', 'grad/<Keras name>', 'state/<Keras name>' or, for
dropout, 'kept' (the kept fraction).  Arrays agree when their floored relative
difference (compare/tolerances.py's `max_diffs`) is within the tolerance; a
missing or empty dx agrees only with a missing or empty one; other shapes never
agree.  The kept fraction agrees within 5 standard deviations of a binomial
draw of that many units (a false alarm once in ~3.5 million draws).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ...tolerances import max_diffs, tolerance_for

# Agreement, yours vs Keras', measured (tests/test_check_layers.py::test_measured_round_off
# repeats the measurement): handrolled's batch normalization as a channels-first target
# (inputs up to 8x12x12x3, one channel's variance near epsilon) and the CS231n-style loop
# convolution differ from Keras by at most 5.5e-13 relative in float64 and 4.3e-5 in
# float32; batch normalization after a convolution on a large input (32x26x26x8, 21,632
# values per channel), handrolled's layer vs Keras': 3.8e-13 and 1.3e-4.  A learner's code
# sums in its own order with less stable formulas, so we allow
# what the network check allows: float64 1e-9 (1800x the measurement; every named bug
# changes something by 2.5e-3 relative or more), float32 the project's 1e-3 (7x the large
# batch normalization).
LAYER_TOLERANCES = {"float64": dataclasses.replace(tolerance_for("float64"), rtol=1e-9),
                    "float32": tolerance_for("float32")}

# A variant reproduces your numbers when they agree to this (its numbers are ours, in
# our summation order): as compare/check/diagnosis.py's MATCH_RTOL, or the agreement
# tolerance where that is looser (float32).
MATCH_RTOL = 1e-6
KEPT_SIGMAS = 5.0


@dataclass
class Row:
    case: int
    call: int
    quantity: str
    max_abs: float | None
    max_rel: float | None
    agree: bool
    note: str = ""


def _absent(value) -> bool:
    return value is None or value.size == 0


def compare_values(quantity: str, mine, expected, rtol: float, units: int = 0):
    """(max abs, max rel, agree, note) for one quantity of one call."""
    if quantity == "kept":
        p = float(expected)
        sigma = np.sqrt(max(p * (1 - p), 1e-12) / max(units, 1))
        diff = abs(float(mine) - p)
        return diff, diff / max(p, 1e-12), bool(diff <= KEPT_SIGMAS * sigma), \
            f"{float(mine):.3f} kept, expected {p:.3f}"
    if _absent(mine) or _absent(expected):
        if _absent(mine) and _absent(expected):
            return 0.0, 0.0, True, ""
        return None, None, False, "empty" if mine is not None else "missing"
    if mine.shape != expected.shape:
        return None, None, False, f"shape {mine.shape}, expected {expected.shape}"
    abs_diff, rel_diff = max_diffs(mine, expected)
    return abs_diff, rel_diff, bool(rel_diff <= rtol), ""


def compare_cases(mine: list, expected: list, rtol: float) -> list[Row]:
    """Rows for every case (lists of StepResult per case) and every quantity."""
    rows = []
    for index, (my_steps, their_steps) in enumerate(zip(mine, expected)):
        for call, (my, their) in enumerate(zip(my_steps, their_steps)):
            theirs = their.quantities()
            ours = my.quantities()
            for quantity, value in theirs.items():
                units = my.out.size if quantity == "kept" else 0
                result = compare_values(quantity, ours.get(quantity), value, rtol, units)
                rows.append(Row(index, call, quantity, *result))
    return rows


def all_agree(rows: list[Row]) -> bool:
    return all(row.agree for row in rows)
