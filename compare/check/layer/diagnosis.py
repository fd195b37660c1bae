"""Which named bug (or convention) reproduces your numbers, and where the rest differ.

Every variant of the layer's kind (variants.py) is run on the same cases; a
variant is named when its results agree with yours on every case, call and
quantity (comparison.MATCH_RTOL).  A correct layer agrees with Keras and is
never diagnosed.  When nothing matches, `locate` says where the differences
sit -- which quantities, which cases and calls, which channels and positions --
and claims nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..differences import _concentrated, fitted_factor
from .comparison import MATCH_RTOL, Row, all_agree, compare_cases
from .variants import variants_for


@dataclass
class Finding:
    bug: str
    label: str
    message: str
    convention: bool = False


def diagnose(target, cases, mine, rtol: float) -> list[Finding]:
    """The variants whose numbers reproduce yours on the whole grid."""
    match = max(MATCH_RTOL, rtol)
    findings = []
    for variant in variants_for(target.kind):
        predicted = [variant.predict(case, my, target) for case, my in zip(cases, mine)]
        if all_agree(compare_cases(mine, predicted, match)):
            findings.append(Finding(variant.bug, variant.label, variant.message,
                                    variant.convention))
    return findings


def locate(target, cases, rows: list[Row], mine, expected, name) -> list[str]:
    """Sentences on where the disagreements sit (no bug claimed)."""
    sentences = []
    bad = [row for row in rows if not row.agree]
    quantities = list(dict.fromkeys(row.quantity for row in bad))
    for quantity in quantities:
        wrong = [row for row in bad if row.quantity == quantity]
        right = [row for row in rows if row.quantity == quantity and row.agree]
        sentence = (f"{name(quantity)} differs in {len(wrong)} of {len(wrong) + len(right)} "
                    f"calls")
        hint = _pattern(cases, wrong, right)
        sentences.append(sentence + (f": {hint}" if hint else "") + ".")
        worst = max(wrong, key=lambda r: -1 if r.max_rel is None else r.max_rel)
        ours = mine[worst.case][worst.call].quantities().get(quantity)
        theirs = expected[worst.case][worst.call].quantities().get(quantity)
        detail = _where(target, quantity, ours, theirs)
        if detail:
            sentences.append(f"In {cases[worst.case].label} (call {worst.call + 1}), "
                             f"{name(quantity)}: {detail}.")
    return sentences


def _pattern(cases, wrong: list[Row], right: list[Row]) -> str:
    """What the cases where a quantity is wrong share, and the right ones lack."""
    hints = []
    for tag, words in (("pad0", "padding 0 ('valid')"), ("tied", "tied maxima"),
                       ("batch1", "a batch of 1"), ("large", "the large input")):
        tagged = lambda row: tag in cases[row.case].tags
        if all(map(tagged, wrong)) and not any(map(tagged, right)):
            hints.append(f"exactly the cases with {words}")
    for text, words in (("padding=same", "padding 'same'"), ("strides=2", "stride 2"),
                        ("use_bias=False", "use_bias=False")):
        has = lambda row: text in cases[row.case].label
        if all(map(has, wrong)) and not any(map(has, right)):
            hints.append(f"exactly the configurations with {words}")
    training = lambda row: cases[row.case].steps[row.call].training
    if all(map(training, wrong)) and right and not all(map(training, right)):
        hints.append("only training calls")
    if not any(map(training, wrong)) and any(map(training, right)):
        hints.append("only inference calls")
    if len({row.call for row in wrong}) == 1 and wrong[0].call > 0 and \
            any(row.call == 0 for row in right):
        hints.append(f"only call {wrong[0].call + 1}, after the first")
    return "; ".join(hints)


def _where(target, quantity, ours, theirs) -> str:
    if ours is None or theirs is None or getattr(ours, "shape", None) != theirs.shape or \
            quantity == "kept":
        return ""
    parts = []
    factor = fitted_factor(ours, theirs)
    if factor is not None and np.allclose(ours, factor * theirs, rtol=1e-6,
                                          atol=1e-12 * np.abs(theirs).max()):
        parts.append(f"yours is {factor:.6g} times the expected one")
    squares = (np.asarray(ours, np.float64) - theirs) ** 2
    if squares.ndim >= 2:
        channels = _concentrated(squares.reshape(-1, squares.shape[-1]).sum(axis=0))
        if channels:
            parts.append(f"the differences concentrate in channel(s) {channels}")
    if squares.ndim == 4:
        rows = _concentrated(squares.sum(axis=(0, 2, 3)))
        cols = _concentrated(squares.sum(axis=(0, 1, 3)))
        if rows:
            parts.append(f"in row(s) {rows} of {squares.shape[1]}")
        if cols:
            parts.append(f"in column(s) {cols} of {squares.shape[2]}")
    if not parts:
        parts.append("the differences are spread over all positions and channels")
    return "; ".join(parts)
