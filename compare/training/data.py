"""The data both sides train on, checked once: `TrainingData`, the settings, the epoch orders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handrolled import NetworkSpec, check_batch, one_hot, optimizers
from handrolled.errors import SpecError
from handrolled.train import batch_starts


@dataclass
class TrainingData:
    """Arrays in the spec's dtype, one-hot targets, integer labels for accuracy."""

    name: str
    X_train: np.ndarray
    Y_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_validation: np.ndarray | None = None
    y_validation: np.ndarray | None = None

    @classmethod
    def from_dataset(cls, dataset, spec: NetworkSpec) -> "TrainingData":
        """Validate a loaded data set against `spec` (shapes, labels, finiteness)."""
        name = getattr(dataset, "name", "data")
        parts = [_labelled(spec, name, "training", dataset.X_train, dataset.y_train),
                 _labelled(spec, name, "test", dataset.X_test, dataset.y_test)]
        if getattr(dataset, "X_validation", None) is not None:
            parts.append(_labelled(spec, name, "validation", dataset.X_validation,
                                   dataset.y_validation))
        (X_train, y_train), (X_test, y_test), *validation = parts
        X_val, y_val = validation[0] if validation else (None, None)
        return cls(name, X_train, spec.loss_function.targets(y_train, spec.classes, spec.dtype),
                   y_train,
                   X_test, y_test, X_val, y_val)

    def evaluation_sets(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        sets = {"train": (self.X_train, self.y_train), "test": (self.X_test, self.y_test)}
        if self.X_validation is not None:
            sets["validation"] = (self.X_validation, self.y_validation)
        return sets


def _labelled(spec: NetworkSpec, name: str, part: str, X, y) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise SpecError(f"{name} {part} labels must be a 1-d array of integers, got "
                        f"{y.dtype} of shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= spec.classes):
        raise SpecError(f"{name} {part} labels run from {y.min()} to {y.max()}; expected "
                        f"0 to {spec.classes - 1} for {spec.classes} classes")
    X = np.asarray(X)
    if X.ndim == 2 and X.shape[1] != spec.inputs:
        raise SpecError(f"{name} has {X.shape[1]} inputs per row but the network "
                        f"{spec.describe()} expects {spec.inputs}")
    X, _ = check_batch(spec, X, one_hot(y, spec.classes, spec.dtype))
    return X, y


MAX_EPOCH_ROWS = 1 << 28  # epochs x training rows: every epoch's row order is drawn up front
# (`epoch_orders`, 2 GiB of int64 at the limit; full MNIST: 4,473 epochs)


def check_epochs(rows: int, epochs: int) -> None:
    """A positive number of epochs whose row orders fit MAX_EPOCH_ROWS."""
    if not isinstance(epochs, int) or epochs < 1:
        raise SpecError(f"epochs must be a positive integer, got {epochs!r}")
    if epochs * rows > MAX_EPOCH_ROWS:
        raise SpecError(f"{epochs:,} epochs of {rows:,} training rows are {epochs * rows:,} "
                        f"rows; at most {MAX_EPOCH_ROWS:,} are accepted (their orders are "
                        f"drawn up front): fewer --epochs")


def check_settings(rows: int, epochs: int, batch_size: int, lr) -> None:
    """Epochs, batch size, and the learning rate (or an optimizer's text or object)."""
    check_epochs(rows, epochs)
    if not isinstance(batch_size, int) or not 1 <= batch_size <= rows:
        raise SpecError(f"batch size must be between 1 and the {rows} training rows, "
                        f"got {batch_size!r}")
    if isinstance(lr, (str, optimizers.Optimizer)):
        optimizers.get(lr)  # a bad optimizer text is a SpecError now, not mid-training
    elif not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
        raise SpecError(f"learning rate must be a positive number, got {lr!r}")


def epoch_orders(rows: int, epochs: int, seed: int, shuffle: bool) -> list[np.ndarray | None]:
    """The row order of every epoch, drawn once for both sides (None: sequential)."""
    if not shuffle:
        return [None] * epochs
    rng = np.random.default_rng(seed)
    return [rng.permutation(rows) for _ in range(epochs)]


def reversed_within_batches(orders: list, rows: int, batch_size: int) -> list[np.ndarray]:
    """The same batches with the rows of each one in reverse order.

    Every batch holds the same rows, so the mean loss and its gradient are the
    same numbers mathematically; only the order of the sums over the rows (and
    so the round-off) differs.  The round-off envelope (`side_by_side.py`,
    `roundoff.py`) trains the hand-written side twice more on these orders."""
    reordered = []
    for order in orders:
        order = np.arange(rows) if order is None else np.asarray(order)
        reordered.append(np.concatenate([order[start:start + batch_size][::-1]
                                         for start in batch_starts(rows, batch_size)]))
    return reordered
