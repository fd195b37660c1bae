"""The data both sides train on, checked once: `TrainingData`, the settings, the epoch orders."""

from __future__ import annotations

from collections.abc import Sequence
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


MAX_EPOCH_ROWS = 1 << 28  # epochs x training rows: how long a run may be (the row orders
# are drawn one epoch at a time, `EpochOrders`: their memory is one epoch's)
STEP_RECORD_BYTES = 4 * 8  # each step's loss is kept (float64) by the four runs: both
# sides and the two round-off samples
MAX_STEP_MEMORY = 1 << 30  # bytes of those records: 33,554,432 steps


def check_epochs(rows: int, epochs: int) -> None:
    """A positive number of epochs, at most MAX_EPOCH_ROWS rows in all."""
    if not isinstance(epochs, int) or epochs < 1:
        raise SpecError(f"epochs must be a positive integer, got {epochs!r}")
    if epochs * rows > MAX_EPOCH_ROWS:
        raise SpecError(f"{epochs:,} epochs of {rows:,} training rows are {epochs * rows:,} "
                        f"rows; at most {MAX_EPOCH_ROWS:,} are accepted: fewer --epochs")


def check_steps(rows: int, epochs: int, batch_size: int) -> None:
    """The per-step records of a run fit MAX_STEP_MEMORY bytes."""
    steps = epochs * -(-rows // batch_size)
    if steps * STEP_RECORD_BYTES > MAX_STEP_MEMORY:
        raise SpecError(f"{epochs:,} epochs of {-(-rows // batch_size):,} steps keep "
                        f"{steps * STEP_RECORD_BYTES:,} bytes of per-step losses; at most "
                        f"{MAX_STEP_MEMORY:,} bytes ({MAX_STEP_MEMORY // STEP_RECORD_BYTES:,} "
                        f"steps) are accepted: fewer --epochs or a larger --batch")


def check_settings(rows: int, epochs: int, batch_size: int, lr) -> None:
    """Epochs, batch size, and the learning rate (or an optimizer's text or object)."""
    check_epochs(rows, epochs)
    if not isinstance(batch_size, int) or not 1 <= batch_size <= rows:
        raise SpecError(f"batch size must be between 1 and the {rows} training rows, "
                        f"got {batch_size!r}")
    check_steps(rows, epochs, batch_size)
    if isinstance(lr, (str, optimizers.Optimizer)):
        optimizers.get(lr)  # a bad optimizer text is a SpecError now, not mid-training
    elif not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
        raise SpecError(f"learning rate must be a positive number, got {lr!r}")


class EpochOrders(Sequence):
    """The row order of every epoch (None: sequential), drawn when it is reached: one
    epoch's order in memory at a time, however many epochs (`train --epochs 67100
    --train-rows 4000` drew 2.1 GB of orders up front).  Every iteration draws the same
    orders from default_rng(seed), epoch after epoch, as drawing them all at once did.
    `batch_size`: each batch's rows reversed (`reversed_within_batches`)."""

    def __init__(self, rows: int, epochs: int, seed: int, shuffle: bool,
                 batch_size: int | None = None):
        self.rows, self.epochs, self.seed, self.shuffle = rows, epochs, seed, shuffle
        self.batch_size = batch_size

    def __len__(self) -> int:
        return self.epochs

    def __iter__(self):
        rng = np.random.default_rng(self.seed)
        for _ in range(self.epochs):
            order = rng.permutation(self.rows) if self.shuffle else None
            yield order if self.batch_size is None else \
                _reversed_batches(order, self.rows, self.batch_size)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(self)[index] if index.stop is None or index.stop > 0 else []
        index = range(self.epochs)[index]  # negative indices, and the IndexError
        for epoch, order in enumerate(self):
            if epoch == index:
                return order
        raise IndexError(index)


def epoch_orders(rows: int, epochs: int, seed: int, shuffle: bool) -> EpochOrders:
    """The row order of every epoch, shared by both sides (None: sequential)."""
    return EpochOrders(rows, epochs, seed, shuffle)


def first_step_rows(order, batch_size: int):
    """The rows the first training step sees, from the first epoch's `order` (None:
    sequential): an index array or a slice."""
    return order[:batch_size] if order is not None else slice(0, batch_size)


def reversed_within_batches(orders, rows: int, batch_size: int):
    """The same batches with the rows of each one in reverse order.

    Every batch holds the same rows, so the mean loss and its gradient are the
    same numbers mathematically; only the order of the sums over the rows (and
    so the round-off) differs.  The round-off envelope (`side_by_side.py`,
    `roundoff.py`) trains the hand-written side twice more on these orders.
    `EpochOrders` stay lazy; a list gives a list."""
    if isinstance(orders, EpochOrders):
        return EpochOrders(orders.rows, orders.epochs, orders.seed, orders.shuffle, batch_size)
    return [_reversed_batches(order, rows, batch_size) for order in orders]


def _reversed_batches(order, rows: int, batch_size: int) -> np.ndarray:
    order = np.arange(rows) if order is None else np.asarray(order)
    return np.concatenate([order[start:start + batch_size][::-1]
                           for start in batch_starts(rows, batch_size)])
