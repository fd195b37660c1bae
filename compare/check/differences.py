"""When no listed bug explains a layer: where do the differences sit?

Sentences about one layer's gradient (the user's vs the right one): is it a
multiple of the right one, is it only W or only b, which units (columns) and
which inputs (rows) carry most of the squared difference.  And, where the
batch allows it, the user's delta recovered from their gradient.
"""

from __future__ import annotations

import numpy as np

from ..tolerances import max_diffs

SHARE = 0.9          # "concentrated" = this share of the squared difference ...
FEW = 0.25           # ... sits in at most this fraction of the units (or rows)
SHOW = 8             # indices listed at most


def describe(user_W, user_b, right_W, right_b, l: int, layout: str, rtol: float,
             rows: int) -> list[str]:
    """Plain sentences about how layer l's gradient differs from the right one."""
    sentences = []
    user = np.concatenate([user_b.ravel(), user_W.ravel()])
    right = np.concatenate([right_b.ravel(), right_W.ravel()])
    factor = _factor(user, right)
    if factor is not None:
        sentences.append(f"layer {l}'s gradient is {factor:.6g} times the right one"
                         f"{_factor_hint(factor, rows)}.")
    W_ok = max_diffs(user_W, right_W)[1] <= rtol
    b_ok = max_diffs(user_b, right_b)[1] <= rtol
    if W_ok != b_ok:
        wrong, fine, u, r = (("bias", "weight", user_b, right_b) if W_ok
                             else ("weight", "bias", user_W, right_W))
        sentence = f"only the {wrong} gradient differs; the {fine} gradient is right"
        part = _factor(u.ravel(), r.ravel())
        if part is not None:
            sentence += (f"; the {wrong} gradient is {part:.6g} times the right one"
                         f"{_factor_hint(part, rows)}")
        sentences.append(sentence + ".")
    full = np.vstack([(user_b - right_b)[None, :], user_W - right_W]) ** 2
    units = _concentrated(full.sum(axis=0))
    if units:
        where = "rows of your W" if layout == "column" else "columns of its matrix"
        sentences.append(f"the differences concentrate in unit(s) {units} of layer {l} "
                         f"({where}).")
    rows = _concentrated(full.sum(axis=1))
    if rows:
        sentences.append(f"they concentrate in {_row_names(rows, l, layout)}.")
    if not units and not rows and factor is None:
        sentences.append(f"the differences are spread over all units and inputs of layer {l}.")
    return sentences


def fitted_factor(user: np.ndarray, right: np.ndarray) -> float | None:
    """c = <user, right> / <right, right>, the least-squares factor of user ~ c * right
    (None if right is 0)."""
    user, right = np.ravel(user).astype(np.float64), np.ravel(right).astype(np.float64)
    norm = float(right @ right)
    return None if norm == 0 else float(user @ right) / norm


def _factor(user: np.ndarray, right: np.ndarray) -> float | None:
    """c when user = c * right (to 1e-6), else None."""
    c = fitted_factor(user, right)
    if c is None:
        return None
    residual = np.linalg.norm(user - c * right)
    return c if residual <= 1e-6 * max(np.linalg.norm(user), 1e-300) else None


def _factor_hint(factor: float, rows: int) -> str:
    if abs(factor * rows - 1) < 1e-6:
        return f" (1/{rows}, one over the batch size: divided by the number of rows twice?)"
    if abs(factor - rows) < 1e-6 * rows:
        return f" ({rows}, the batch size: summed instead of averaged?)"
    return ""


def _concentrated(squares: np.ndarray) -> str:
    """'3, 17' when a few indices carry SHARE of the total, else ''."""
    total = squares.sum()
    if total == 0 or squares.size < 2:
        return ""
    order = np.argsort(squares)[::-1]
    count = int(np.searchsorted(np.cumsum(squares[order]) / total, SHARE) + 1)
    if count > max(1, FEW * squares.size):
        return ""
    shown = ", ".join(str(int(i)) for i in order[:min(count, SHOW)])
    share = squares[order[:count]].sum() / total
    more = f" and {count - SHOW} more" if count > SHOW else ""
    return f"{shown}{more} ({share:.0%} of the squared difference)"


def _row_names(rows: str, l: int, layout: str) -> str:
    if layout == "bias_row":
        return f"row(s) {rows} of w{l} (row 0 is the bias)"
    if layout == "column":  # the inputs are the columns of the user's W (n_out, n_in)
        return (f"column(s) {rows} of [b{l}, W{l}] (column 0 is b{l}, column i is W{l}'s "
                f"column i - 1)")
    return f"row(s) {rows} of [b{l}; W{l}] (row 0 is b{l}, row i is W{l}'s row i - 1)"


def recover_delta(a_prev: np.ndarray, grad_W: np.ndarray, grad_b: np.ndarray
                  ) -> np.ndarray | None:
    """The delta_l behind a gradient, when the batch determines it.

    grad_W = a_prev^T delta and grad_b = 1^T delta, i.e. [1, a_prev]^T delta = [grad_b; grad_W].
    With at least as many independent inputs (+1) as rows that system has exactly one
    solution (typical for layer 1: 784 pixels, 32 rows); otherwise None.
    """
    A = np.hstack([np.ones((a_prev.shape[0], 1)), a_prev])
    if np.linalg.matrix_rank(A) < A.shape[0]:
        return None
    G = np.vstack([grad_b[None, :], grad_W])
    delta, *_ = np.linalg.lstsq(A.T, G, rcond=None)
    if np.linalg.norm(A.T @ delta - G) > 1e-8 * max(np.linalg.norm(G), 1e-300):
        return None
    return delta
