"""One side's run, epoch by epoch: `History`, its evaluation in NumPy, and `Divergence`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from handrolled import NetworkSpec, Params, memory

from .runtime import Runtime


@dataclass
class Divergence:
    """Where a loss first blew up: NaN, inf or far above its start (epoch and step
    counted from 1)."""

    epoch: int
    step: int | None  # within the epoch; None: after the epoch's last step
    value: float

    def message(self, side: str) -> str:
        where = f"epoch {self.epoch}, step {self.step}" if self.step else \
            f"the end of epoch {self.epoch}"
        return f"{side}: the loss became {self.value:g} at {where}; training stopped there"


@dataclass
class History:
    """One implementation's run: per-epoch lists (one entry per epoch that ran)."""

    loss: list[float] = field(default_factory=list)           # training set, after the epoch
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    validation_accuracy: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    call_seconds: list[float] = field(default_factory=list)    # Keras: each whole fit call
    step_losses: list[np.ndarray] = field(default_factory=list)  # per epoch, per step
    diverged: Divergence | None = None
    weights: Params = field(default_factory=dict)              # after the last epoch
    state: Params = field(default_factory=dict)                # moving statistics, likewise
    optimizer_state: dict = field(default_factory=dict)        # moments, "iterations"
    dropout_masks: list = field(default_factory=list, repr=False)  # Keras: per step
    runtime: Runtime | None = None

    def record(self, evaluation: dict[str, float], seconds: float, losses: np.ndarray) -> None:
        self.loss.append(evaluation["train_loss"])
        self.train_accuracy.append(evaluation["train_accuracy"])
        self.test_accuracy.append(evaluation["test_accuracy"])
        self.test_loss.append(evaluation["test_loss"])
        if "validation_accuracy" in evaluation:
            self.validation_accuracy.append(evaluation["validation_accuracy"])
        self.epoch_seconds.append(seconds)
        self.step_losses.append(losses)

    def to_dict(self) -> dict:
        out = {name: list(getattr(self, name)) for name in
               ("loss", "train_accuracy", "test_accuracy", "test_loss", "epoch_seconds")}
        if self.validation_accuracy:
            out["validation_accuracy"] = list(self.validation_accuracy)
        if self.call_seconds:
            out["fit_call_seconds"] = list(self.call_seconds)
        out["step_loss"] = [losses.tolist() for losses in self.step_losses]
        out["diverged"] = asdict(self.diverged) if self.diverged else None
        out["runtime"] = self.runtime.to_dict() if self.runtime else None
        return out


def evaluate(logits_of, sets: dict[str, tuple[np.ndarray, np.ndarray]], spec: NetworkSpec
             ) -> dict[str, float]:
    """Loss and accuracy on every set, in NumPy, from `logits_of(X)` -- the same for both.

    `logits_of` runs the network in inference mode (moving statistics, no dropout),
    on at most `memory.evaluation_rows(spec)` rows at a time, so that peak memory does
    not grow with the size of a set (book-ch19-cnn's 10,000 test rows at once: 6.6 GB
    of im2col columns in one layer); the loss is the data loss, without the
    regularizers' penalties."""
    out, loss = {}, spec.loss_function
    chunk = memory.evaluation_rows(spec)
    for part, (X, y) in sets.items():
        logits = np.concatenate([np.asarray(logits_of(X[start:start + chunk]))
                                 for start in range(0, len(X), chunk)]) if len(X) else \
            np.asarray(logits_of(X))
        out[f"{part}_accuracy"] = float(np.mean(loss.predict(logits) == y))
        out[f"{part}_loss"] = loss.value(loss.output(logits),
                                         loss.targets(y, spec.classes, logits.dtype))
    return out


BLOWUP = 1e3  # a loss this many times its first step's (or 1, if larger) has blown up


def find_divergence(epoch: int, losses: np.ndarray, evaluation: dict,
                    first_loss: float | None = None) -> Divergence | None:
    """Where the loss blew up in this epoch: NaN, inf, or above BLOWUP x max(first
    step's loss, 1) (a loss growing without bound; `first_loss` None: this epoch's
    first step).  None if it did not."""
    losses = np.asarray(losses, dtype=np.float64)
    first = losses[0] if first_loss is None and losses.size else first_loss
    limit = BLOWUP * max(abs(first), 1.0) if first is not None and np.isfinite(first) \
        else np.inf
    bad = np.flatnonzero(~(np.isfinite(losses) & (np.abs(losses) <= limit)))
    if bad.size:
        return Divergence(epoch + 1, int(bad[0]) + 1, float(losses[bad[0]]))
    if not (np.isfinite(evaluation["train_loss"]) and abs(evaluation["train_loss"]) <= limit):
        return Divergence(epoch + 1, None, evaluation["train_loss"])
    return None
