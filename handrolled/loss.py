"""Softmax and cross-entropy, fused so that neither overflows nor takes log(0).

For logits s (n x C) and one-hot targets Y:

    log p_ij = s_ij - logsumexp_k(s_ik)          (log-softmax, shifted by the row max)
    L        = -(1/n) sum_i sum_j Y_ij log p_ij  (cross-entropy averaged over the batch)
    dL/ds    = (p - Y) / n                       (the gradient at the logits)

This is what Keras' CategoricalCrossentropy(from_logits=True) computes with
its default reduction (sum over the batch divided by the batch size).

`cross_entropy_and_delta_inplace`, right after them, is the in-place form of these
functions that the fast epoch (`handrolled/fast.py`) uses: the same operations
in the same order, into preallocated buffers, so the numbers are bit-identical.
"""

from __future__ import annotations

import numpy as np

from .activations.core import NO_CAST


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log p = s - max(s) - log(sum(exp(s - max(s)))), row by row."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """p_ij = exp(s_ij) / sum_k exp(s_ik), computed stably."""
    return np.exp(log_softmax(logits))


def cross_entropy(logits: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against one-hot Y, and p = softmax(logits)."""
    log_p = log_softmax(logits)
    return mean_cross_entropy(log_p, Y), np.exp(log_p)


def mean_cross_entropy(log_p: np.ndarray, Y: np.ndarray) -> float:
    """L = -(1/n) sum Y log p, from log p = log_softmax(logits) already computed."""
    return -float(np.sum(Y * log_p)) / log_p.shape[0]


def grad_logits(p: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dL/ds = (p - Y) / n for the mean softmax cross-entropy."""
    return (p - Y) / p.shape[0]


def cross_entropy_and_delta_inplace(logits: np.ndarray, Y: np.ndarray, row: np.ndarray,
                                    log_p: np.ndarray, p: np.ndarray,
                                    delta: np.ndarray) -> float:
    """In place: log_softmax, mean_cross_entropy, softmax and grad_logits above.

    Buffers: row (n, 1), log_p, p and delta (n, C), all of the logits' dtype.
    Returns L; leaves log_p = log_softmax(logits), p = exp(log_p) and
    delta = grad_logits(p, Y).  The same operations as the functions above, in
    the same order, so the numbers are bit-identical.
    """
    n = log_p.shape[0]
    np.max(logits, axis=1, keepdims=True, out=row)
    np.subtract(logits, row, out=log_p, **NO_CAST)    # shifted = s - max(s)
    np.exp(log_p, out=p, **NO_CAST)
    np.sum(p, axis=1, keepdims=True, out=row)
    np.log(row, out=row, **NO_CAST)
    np.subtract(log_p, row, out=log_p, **NO_CAST)     # log p = shifted - log sum exp
    np.multiply(Y, log_p, out=p, **NO_CAST)           # p holds Y log p for a moment
    loss = -float(np.sum(p)) / n                      # L = -(1/n) sum Y log p
    np.exp(log_p, out=p, **NO_CAST)                   # p = softmax(s)
    np.subtract(p, Y, out=delta, **NO_CAST)
    np.divide(delta, n, out=delta, **NO_CAST)         # dL/ds = (p - Y) / n
    return loss


def one_hot(labels: np.ndarray, classes: int, dtype: str = "float64") -> np.ndarray:
    """Integer labels (n,) -> one-hot rows (n, classes)."""
    labels = np.asarray(labels)
    Y = np.zeros((labels.shape[0], classes), dtype=dtype)
    Y[np.arange(labels.shape[0]), labels] = 1
    return Y
