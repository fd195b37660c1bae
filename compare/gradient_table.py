"""Plain-text tables for the terminal and for report.md (tabulate)."""

from __future__ import annotations

import math
from dataclasses import asdict

from tabulate import tabulate

from .output import fmt
from .tolerances import ROUNDOFF_FACTOR


def gradient_table(result, tablefmt: str = "simple", label: str = "verdict") -> str:
    """The gradient parity table, with the tolerance used and a verdict line (`label`:
    "gradients" where the gradients are one part of a larger verdict, `report`'s)."""
    from .console import wrap

    fit = wrap if tablefmt == "simple" else str  # the console's lines: 120 columns
    table = gradient_rows_table(result.rows, tablefmt)
    verdict = "AGREE" if result.agree else "DISAGREE"
    notes = "".join(fit(note.rstrip("\n")) + "\n" for note in (
        roundoff_note(result.rows, result.tolerance.rtol), nonfinite_note(result)) if note)
    return (fit(f"Gradients: handrolled vs keras, {result.spec.describe()}, "
                f"{result.spec.dtype}, {result.data or f'batch {result.batch}'}, "
                f"seed {result.spec.seed}") + "\n"
            f"loss: handrolled {result.loss_handrolled:.17g}  keras {result.loss_keras:.17g}\n"
            f"{table}\n"
            + fit(f"tolerance {result.tolerance.describe(finite_differences_ran(result.rows))}")
            + f"\n{notes}{label}: {verdict}")


def finite_differences_ran(rows) -> bool:
    """Whether any row (a GradientRow or its JSON form) was compared with finite
    differences: --no-fd leaves every row without a value and without kinks."""
    rows = [row if isinstance(row, dict) else asdict(row) for row in rows]
    return any(row["fd_max_rel_diff"] is not None or row["fd_kinks"] for row in rows)


def nonfinite_note(result) -> str:
    """A line naming the losses and rows that hold a NaN or inf (never agreement)."""
    names = [f"the {side} loss ({value:g})" for side, value in
             (("handrolled", result.loss_handrolled), ("keras", result.loss_keras))
             if not math.isfinite(value)]
    names += [row.name for row in result.rows if not math.isfinite(row.max_abs_diff)]
    if not names:
        return ""
    return (f"not finite: {', '.join(names)}: a NaN or inf is never agreement (the network "
            f"overflows: an activation, the data or the weights)\n")


def roundoff_note(rows, rtol: float) -> str:
    """A line naming the rows that agree only within their round-off allowance."""
    within = [row for row in rows if row.agree and row.limit is not None
              and row.max_rel_diff > rtol]
    if not within:
        return ""
    parts = ", ".join(f"{row.name} {fmt(row.max_rel_diff)} <= {fmt(row.limit)}"
                      for row in within)
    return (f"within round-off: {parts} (the allowance: {ROUNDOFF_FACTOR} x the row's own "
            f"round-off, the hand-written gradients with the batch's rows reversed, or "
            f"{ROUNDOFF_FACTOR} x depth x eps; compare/tolerances.py)\n")


def gradient_rows_table(rows, tablefmt: str = "simple", fd_header: str = "fd rel diff") -> str:
    """One line per parameter tensor, in the order given.  `rows` are GradientRows or
    their JSON form (results.json "gradients"), so the terminal, the report and
    `nn-compare check` show the same cells."""
    body = [_gradient_cells(row if isinstance(row, dict) else asdict(row)) for row in rows]
    headers = ["layer", "param", "shape", "max abs diff", "max rel diff", fd_header, "agree"]
    return tabulate(body, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def _gradient_cells(row: dict) -> list:
    return [row["layer"], row["param"], "x".join(map(str, row["shape"])),
            fmt(row["max_abs_diff"]), fmt(row["max_rel_diff"]), _fd_cell(row),
            "yes" if row["agree"] else "NO"]


def _fd_cell(row: dict) -> str:
    if row["fd_max_rel_diff"] is None:
        return "kink" if row["fd_kinks"] else "-"
    cell = fmt(row["fd_max_rel_diff"])
    return f"{cell} ({row['fd_kinks']} at kinks)" if row["fd_kinks"] else cell
