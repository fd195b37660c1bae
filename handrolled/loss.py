"""Softmax and cross-entropy, fused so that neither overflows nor takes log(0).

For logits s (n x C) and one-hot targets Y:

    log p_ij = s_ij - logsumexp_k(s_ik)          (log-softmax, shifted by the row max)
    L        = -(1/n) sum_i sum_j Y_ij log p_ij  (cross-entropy averaged over the batch)
    dL/ds    = (p - Y) / n                       (the gradient at the logits)

This is what Keras' CategoricalCrossentropy(from_logits=True) computes with
its default reduction (sum over the batch divided by the batch size).
"""

from __future__ import annotations

import numpy as np


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


def one_hot(labels: np.ndarray, classes: int, dtype: str = "float64") -> np.ndarray:
    """Integer labels (n,) -> one-hot rows (n, classes)."""
    labels = np.asarray(labels)
    Y = np.zeros((labels.shape[0], classes), dtype=dtype)
    Y[np.arange(labels.shape[0]), labels] = 1
    return Y
