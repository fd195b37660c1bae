"""Training both implementations side by side, from the same weights, on the same batches.

    result = train_side_by_side(spec, weights, dataset, epochs=20, batch_size=32, lr=2.0)
    result.agree, result.max_loss_diff, result.to_dict()   # the "training" of results.json

How the comparison is kept fair and exact:

* one order per epoch: a seeded permutation drawn once (or 0, 1, 2, ... with
  shuffle=False, the book's sequential slices) and handed to both sides;
* the hand-written side runs `handrolled_epoch` (default `handrolled.train.sgd_epoch`),
  the Keras side a real `model.fit` (`keras_impl.train.fit_epoch`) on the rows
  gathered in that order;
* epoch time: by hand, the `handrolled_epoch` call; Keras, the epoch inside
  `fit` (see keras_impl/train.py: each call's set-up is recorded apart as
  "fit_call_seconds") plus the gather of the epoch's rows;
* after every epoch both are evaluated the same way, in NumPy, from their own
  logits on the full sets: mean cross-entropy ("loss", on the training set)
  and accuracy = mean(argmax(logits) == label); evaluation is not timed;
* all hand-written epochs run first, then all Keras epochs, so neither
  library's worker threads compete with the other's during a timed epoch.

A loss that becomes NaN or inf stops that side after the epoch in which it
happened; the result records where (`Divergence`) and keeps what ran.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from handrolled import Network, NetworkSpec, Params, check_batch, one_hot, validate
from handrolled.loss import log_softmax, mean_cross_entropy
from handrolled.errors import SpecError
from handrolled.train import batch_starts, sgd_epoch

from .timing import Runtime, Stopwatch, runtime_ratios, runtime_summary
from .tolerances import max_diffs


# ------------------------------------------------------------------ tolerances
@dataclass(frozen=True)
class TrainingTolerance:
    """When two training runs agree.  None: reported, not judged."""

    dtype: str
    loss: float           # max |loss_h - loss_k| over every step and every epoch
    accuracy: float       # max |acc_h - acc_k| over epochs (fractions: 0.005 = 0.5 points)
    weights: float | None  # max |W_h - W_k| over all final weights

    def describe(self) -> str:
        weights = f"{self.weights:g}" if self.weights is not None else "reported only"
        return (f"{self.dtype}: loss diff <= {self.loss:g}, accuracy diff <= "
                f"{100 * self.accuracy:g} points, final weight diff {weights}")


TRAINING_TOLERANCES = {
    # float64: both sides do the same operations; measured on mnist-sample
    # (20 epochs, 2,500 steps) ~1e-16 in loss and ~2e-15 in weights.
    "float64": TrainingTolerance("float64", loss=1e-9, accuracy=0.0, weights=1e-9),
    # float32 (loosened): round-off differences compound over thousands of
    # updates; measured ~1e-6 in loss and ~7e-6 in weights after 2,500 steps.
    # The loss bound leaves room for longer runs; the weights are reported only,
    # because their difference keeps growing with the number of updates while
    # the accuracies (the criterion: within 0.5 points) stay together.
    "float32": TrainingTolerance("float32", loss=1e-3, accuracy=0.005, weights=None),
}


# ------------------------------------------------------------------------ data
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
        return cls(name, X_train, one_hot(y_train, spec.classes, spec.dtype), y_train,
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


def check_settings(rows: int, epochs: int, batch_size: int, lr: float) -> None:
    if not isinstance(epochs, int) or epochs < 1:
        raise SpecError(f"epochs must be a positive integer, got {epochs!r}")
    if not isinstance(batch_size, int) or not 1 <= batch_size <= rows:
        raise SpecError(f"batch size must be between 1 and the {rows} training rows, "
                        f"got {batch_size!r}")
    if not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
        raise SpecError(f"learning rate must be a positive number, got {lr!r}")


def epoch_orders(rows: int, epochs: int, seed: int, shuffle: bool) -> list[np.ndarray | None]:
    """The row order of every epoch, drawn once for both sides (None: sequential)."""
    if not shuffle:
        return [None] * epochs
    rng = np.random.default_rng(seed)
    return [rng.permutation(rows) for _ in range(epochs)]


# --------------------------------------------------------------------- history
@dataclass
class Divergence:
    """Where a loss first became NaN or inf (epoch and step counted from 1)."""

    epoch: int
    step: int | None  # within the epoch; None: after the epoch's last step
    value: float

    def message(self, side: str, lr: float) -> str:
        where = f"epoch {self.epoch}, step {self.step}" if self.step else \
            f"the end of epoch {self.epoch}"
        return (f"{side}: the loss became {self.value} at {where}; training stopped there. "
                f"The learning rate {lr:g} is probably too large; try a smaller --lr")


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
    """Loss and accuracy on every set, in NumPy, from `logits_of(X)` -- the same for both."""
    out = {}
    for part, (X, y) in sets.items():
        logits = np.asarray(logits_of(X))
        out[f"{part}_accuracy"] = float(np.mean(logits.argmax(axis=1) == y))
        out[f"{part}_loss"] = mean_cross_entropy(log_softmax(logits),
                                                 one_hot(y, spec.classes, logits.dtype))
    return out


def find_divergence(epoch: int, losses: np.ndarray, evaluation: dict) -> Divergence | None:
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        return Divergence(epoch + 1, int(bad[0]) + 1, float(losses[bad[0]]))
    if not np.isfinite(evaluation["train_loss"]):
        return Divergence(epoch + 1, None, evaluation["train_loss"])
    return None


# ------------------------------------------------------------------ the runs
def run_handrolled(spec: NetworkSpec, weights: Params, data: TrainingData, orders, batch_size: int,
                   lr: float, progress=None, handrolled_epoch=sgd_epoch) -> History:
    """All epochs of the hand-written loop, from a private copy of `weights`."""
    network = Network(spec, {name: value.copy() for name, value in weights.items()})
    history, step, sets = History(), 0, data.evaluation_sets()
    for epoch, order in enumerate(orders):
        with np.errstate(all="ignore"), Stopwatch() as clock:  # overflow: see find_divergence
            losses = handrolled_epoch(network, data.X_train, data.Y_train, batch_size, lr,
                                      order=order, epoch=epoch, first_step=step)
        with np.errstate(all="ignore"):
            evaluation = evaluate(lambda X: network.forward(X).logits, sets, spec)
        history.record(evaluation, clock.seconds, losses)
        step += len(losses)
        _report(progress, "handrolled", epoch, history)
        history.diverged = find_divergence(epoch, losses, evaluation)
        if history.diverged:
            break
    network.on_train_end()
    history.weights = {name: value.copy() for name, value in network.params.items()}
    return history


def run_keras(spec: NetworkSpec, weights: Params, data: TrainingData, orders, batch_size: int,
              lr: float, seed: int, progress=None) -> History:
    """All epochs of `model.fit`, one call per epoch, on rows in the same order."""
    import keras_impl
    from keras_impl.train import compile_for_sgd, fit_epoch

    keras_impl.seed_everything(seed)
    model = keras_impl.build_model(spec, weights)
    compile_for_sgd(model, spec, lr)
    history, sets = History(), data.evaluation_sets()
    for epoch, order in enumerate(orders):
        with Stopwatch() as gather:  # timed too: the hand-written epoch gathers its batches
            X_epoch, Y_epoch = ((data.X_train, data.Y_train) if order is None
                                else (data.X_train[order], data.Y_train[order]))
        run = fit_epoch(model, spec, X_epoch, Y_epoch, batch_size, epoch)
        losses = run.losses
        evaluation = evaluate(lambda X: keras_impl.predict_logits(model, X), sets, spec)
        history.record(evaluation, gather.seconds + run.epoch_seconds, losses)
        history.call_seconds.append(gather.seconds + run.call_seconds)
        _report(progress, "keras", epoch, history)
        history.diverged = find_divergence(epoch, losses, evaluation)
        if history.diverged:
            break
    history.weights = keras_impl.read_weights(model, spec)
    return history


def _report(progress, side: str, epoch: int, history: History) -> None:
    if progress is not None:
        progress(side, epoch, history)


# --------------------------------------------------------------- the verdict
@dataclass
class TrainingResult:
    spec: NetworkSpec
    dataset: str
    rows: int
    epochs: int
    batch_size: int
    lr: float
    shuffle: bool
    seed: int
    handrolled: History
    keras: History

    @property
    def tolerance(self) -> TrainingTolerance:
        return TRAINING_TOLERANCES[self.spec.dtype]

    @property
    def steps_per_epoch(self) -> int:
        return len(batch_starts(self.rows, self.batch_size))

    def _pairs(self, name: str):
        return list(zip(getattr(self.handrolled, name), getattr(self.keras, name)))

    @property
    def max_step_loss_diff(self) -> float:
        """Largest |loss_h - loss_k| over the training steps (inf if the steps differ)."""
        pairs = self._pairs("step_losses")
        if not pairs or any(h.shape != k.shape for h, k in pairs):
            return float("inf")
        return _finite_or_inf(max(np.max(np.abs(h - k)) for h, k in pairs))

    @property
    def max_loss_diff(self) -> float:
        """Largest loss difference: every step's training loss and every epoch's loss."""
        epoch_diffs = [abs(h - k) for h, k in self._pairs("loss")] or [float("inf")]
        return _finite_or_inf(max(max(epoch_diffs), self.max_step_loss_diff))

    @property
    def max_accuracy_diff(self) -> float:
        diffs = [abs(h - k) for name in ("train_accuracy", "test_accuracy", "validation_accuracy")
                 for h, k in self._pairs(name)]
        return _finite_or_inf(max(diffs, default=float("inf")))

    @property
    def final_accuracy_diff(self) -> float:
        """|test accuracy handrolled - Keras| after the last epoch (a fraction)."""
        if not (self.handrolled.test_accuracy and self.keras.test_accuracy):
            return float("inf")
        return abs(self.handrolled.test_accuracy[-1] - self.keras.test_accuracy[-1])

    @property
    def weight_diffs(self) -> dict[str, float]:
        """Max absolute difference of every final weight tensor."""
        return {name: _finite_or_inf(max_diffs(self.handrolled.weights[name],
                                               self.keras.weights[name])[0])
                for name in self.spec.param_shapes()}

    @property
    def max_weight_diff(self) -> float:
        return max(self.weight_diffs.values())

    @property
    def diverged(self) -> bool:
        return bool(self.handrolled.diverged or self.keras.diverged)

    @property
    def diverged_together(self) -> bool:
        """Both sides diverged, at the same epoch and step: the settings, not the code."""
        h, k = self.handrolled.diverged, self.keras.diverged
        return bool(h and k and (h.epoch, h.step) == (k.epoch, k.step))

    @property
    def verdict(self) -> str:
        if self.diverged_together:
            return "DIVERGED"
        return "AGREE" if self.agree else "DISAGREE"

    @property
    def agree(self) -> bool:
        tol = self.tolerance
        return (not self.diverged
                and len(self.handrolled.loss) == len(self.keras.loss) == self.epochs
                and self.max_loss_diff <= tol.loss
                and self.max_accuracy_diff <= tol.accuracy
                and (tol.weights is None or self.max_weight_diff <= tol.weights))

    def runtime_ratios(self) -> dict:
        return runtime_ratios(self.handrolled.runtime, self.keras.runtime)

    def to_dict(self) -> dict:
        """The "training" section of results.json."""
        return {
            "agree": self.agree,
            "verdict": self.verdict,
            "dataset": self.dataset,
            "network": self.spec.describe(),
            "hidden": self.spec.hidden_text,
            "dtype": self.spec.dtype,
            "seed": self.seed,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "order": "shuffled per epoch (seeded)" if self.shuffle else "sequential",
            "rows": self.rows,
            "steps_per_epoch": self.steps_per_epoch,
            "tolerance": asdict(self.tolerance),
            "handrolled": self.handrolled.to_dict(),
            "keras": self.keras.to_dict(),
            "max_loss_diff": self.max_loss_diff,
            "max_step_loss_diff": self.max_step_loss_diff,
            "max_accuracy_diff": self.max_accuracy_diff,
            "final_accuracy_diff": self.final_accuracy_diff,
            "max_weight_diff": self.max_weight_diff,
            "weight_diffs": self.weight_diffs,
            "runtime_ratio": self.runtime_ratios(),
        }


def _finite_or_inf(value) -> float:
    value = float(value)
    return value if np.isfinite(value) else float("inf")


def train_side_by_side(spec: NetworkSpec, weights: Params, dataset, epochs: int,
                       batch_size: int, lr: float, shuffle: bool = True, seed: int = 0,
                       progress=None, handrolled_epoch=sgd_epoch) -> TrainingResult:
    """Train handrolled and Keras from `weights` on the same batches; compare them.

    `dataset`: anything with X_train, y_train, X_test, y_test (integer labels),
    optionally X_validation, y_validation, and a name (see compare.datasets).
    `progress(side, epoch, history)` is called after every epoch of each side.
    `handrolled_epoch` is the hand-written epoch function (same signature as
    `handrolled.train.sgd_epoch`, e.g. `handrolled.fast.sgd_epoch_fast`).
    """
    data = TrainingData.from_dataset(dataset, spec)
    rows = data.X_train.shape[0]
    check_settings(rows, epochs, batch_size, lr)
    weights = validate(spec, weights)
    orders = epoch_orders(rows, epochs, seed, shuffle)
    handrolled = run_handrolled(spec, weights, data, orders, batch_size, lr, progress,
                                handrolled_epoch)
    keras = run_keras(spec, weights, data, orders, batch_size, lr, seed, progress)
    steps = len(batch_starts(rows, batch_size))
    for history in (handrolled, keras):
        history.runtime = runtime_summary(history.epoch_seconds, rows, steps)
    return TrainingResult(spec, data.name, rows, epochs, batch_size, float(lr), shuffle, seed,
                          handrolled, keras)
