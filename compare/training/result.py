"""`TrainingResult`: the differences, the verdict (`verdict.py`), results.json "training"."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np

from handrolled import NetworkSpec, layers, optimizers
from handrolled.train import batch_starts

from ..tolerances import max_abs_diff
from .history import History
from .runtime import runtime_ratios
from .tolerances import ROUNDOFF_RULES, RoundoffRule
from .verdict import DIVERGED, Verdict, judge, running_envelope, step_bands, steps_of


@dataclass
class TrainingResult:
    spec: NetworkSpec
    dataset: str
    rows: int
    epochs: int
    batch_size: int
    lr: object            # the learning rate of plain SGD, or an optimizer's text
    shuffle: bool
    seed: int
    handrolled: History
    keras: History
    threads: object = None  # the compare.threads.ThreadPolicy the runs used
    load_average: dict | None = None  # os.getloadavg() before and after the runs
    roundoff: History | None = None  # the envelope: each side again, rows reversed
    evaluated_rows: dict = field(default_factory=dict)  # {"train": n, "test": n, ...}
    keras_sampled: bool = False  # Keras' own round-off sample is in the envelope
    keras_ratio: float = 1.0  # the hand-written samples' distances times this (roundoff.py)
    # the process' peak resident memory (MB, ru_maxrss) at the end of each side's run
    # (a peak so far: the side that ran second includes the first's) and of the whole run
    peak_memory: dict = field(default_factory=dict)
    # with Keras in a process of its own (keras_process.py): "keras_process" (and
    # "keras_sample_process") are those processes' own peaks, the rest this process'
    keras_notes: list | None = None  # notes on Keras measured in its process (None: here)
    keras_gradients: object = None  # compare.gradients.KerasSide computed there (report)

    @property
    def rule(self) -> RoundoffRule:
        return ROUNDOFF_RULES[self.spec.dtype]

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

    @cached_property  # weights are large (a CNN's dense kernel: 18M numbers)
    def weight_diffs(self) -> dict[str, float]:
        """Max absolute difference of every final weight tensor."""
        return _abs_diffs(self.handrolled.weights, self.keras.weights, self.spec.param_shapes())

    @property
    def max_weight_diff(self) -> float:
        return max(self.weight_diffs.values())

    @cached_property
    def state_diffs(self) -> dict[str, float]:
        """Max absolute difference of every final state tensor (moving statistics)."""
        return _abs_diffs(self.handrolled.state, self.keras.state, self.spec.state_shapes())

    @property
    def max_state_diff(self) -> float | None:
        return max(self.state_diffs.values()) if self.state_diffs else None

    @property
    def optimizer(self):
        return optimizers.for_training(self.lr)

    def _applied_constants(self) -> dict:
        """The optimizer's constants as its update applies them in the spec's dtype (built
        on one number: the roundings depend on the dtype, not on the parameters)."""
        one = {"w": np.zeros(1, dtype=self.spec.dtype)}
        return self.optimizer.build(one, self.spec.conventions).get_config().get("applied", {})

    @cached_property
    def optimizer_state_diffs(self) -> dict[str, float]:
        """Max absolute difference of every optimizer slot (moments, accumulators) after
        training, and of the step counts ("iterations"); inf where one side lacks one."""
        h, k = self.handrolled.optimizer_state, self.keras.optimizer_state
        slots = sorted((set(h) & set(k)) - {"iterations"})
        diffs = {name: float("inf") for name in set(h) ^ set(k)}  # one side lacks it
        diffs.update(_abs_diffs(h, k, slots))
        if "iterations" in h and "iterations" in k:
            diffs["iterations"] = float(abs(h["iterations"] - k["iterations"]))
        return dict(sorted(diffs.items()))

    @property
    def max_optimizer_state_diff(self) -> float | None:
        diffs = self.optimizer_state_diffs
        return max(diffs.values()) if diffs else None

    @property
    def modes(self) -> dict:
        """Which numbers come from which mode, for layers that differ between them."""
        kinds = sorted({layer.kind for layer in self.spec.layers
                        if layers.get(layer.kind).TRAINING_MODE})
        if not kinds:
            return {}
        return {"layers": kinds,
                "training mode": "the per-step training loss (batch statistics, dropout on)",
                "inference mode": "every per-epoch loss and accuracy (moving statistics, "
                                  "dropout off)"}

    @property
    def diverged(self) -> bool:
        """A side's loss blew up (see `history.find_divergence`)."""
        return bool(self.handrolled.diverged or self.keras.diverged)

    @cached_property
    def judgement(self) -> Verdict:
        """identical, agree within round-off, disagree from step N, or diverged."""
        return judge(self)

    @property
    def verdict(self) -> str:
        return self.judgement.text()

    @property
    def diverged_together(self) -> bool:
        """Both sides blew up, and nothing disagreed before: the settings, not the code."""
        return self.judgement.outcome == DIVERGED

    @property
    def agree(self) -> bool:
        return self.judgement.agree

    @property
    def max_roundoff_envelope(self) -> float | None:
        """Largest |handrolled - handrolled with reversed rows| over the steps."""
        if self.roundoff is None:
            return None
        h, r = steps_of(self.handrolled), steps_of(self.roundoff)
        n = min(len(h), len(r))
        return float(running_envelope(h[:n], r[:n])[-1]) if n else None

    def roundoff_dict(self) -> dict | None:
        """results.json "roundoff": the envelope run and the band, per step."""
        if self.roundoff is None:
            return None
        h, k, r = steps_of(self.handrolled), steps_of(self.keras), steps_of(self.roundoff)
        floor, band = step_bands(self.rule, h, k, r)
        return {
            "method": "handrolled again on the same batches, each batch's rows reversed "
                      "(dropout masks with them), from every starting weight times (1 + eps) and "
                      "(1 - eps) (a schedule one float32 ulp up and down); where that envelope "
                      "does not hold the difference, keras again too (keras_sample) from every "
                      "weight times (1 + eps), rows reversed unless the network has dropout, "
                      "and before it the hand-written samples' distances times keras_ratio, "
                      "how many times ours Keras' round-off is on step 1's gradients: "
                      "the same mathematics, another summation order; "
                      "step_loss and loss are the hand-written run's plus the largest "
                      "distance of a sample from its own side's run, so |handrolled - these| "
                      "is the envelope",
            "keras_sample": self.keras_sampled,
            "keras_ratio": self.keras_ratio,
            "rule": asdict(self.rule),
            "step_loss": [losses.tolist() for losses in self.roundoff.step_losses],
            "envelope": running_envelope(h[:len(band)], r[:len(band)]).tolist(),
            "band": band.tolist(),
            "first_step_floor": floor.tolist(),
            "loss": list(self.roundoff.loss),
            "max_weight_diff": max(_abs_diffs(self.handrolled.weights, self.roundoff.weights,
                                              self.spec.param_shapes()).values())
            if self.roundoff.weights else None,
        }

    def runtime_ratios(self) -> dict:
        return runtime_ratios(self.handrolled.runtime, self.keras.runtime)

    def to_dict(self) -> dict:
        """The "training" section of results.json."""
        return {
            "agree": self.agree,
            "verdict": self.verdict,
            "outcome": self.judgement.to_dict(),
            "dataset": self.dataset,
            "network": self.spec.describe(),
            "hidden": self.spec.hidden_text,
            "loss": self.spec.loss,
            "dtype": self.spec.dtype,
            "seed": self.seed,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr if isinstance(self.lr, (int, float)) else None,
            "order": "shuffled per epoch (seeded)" if self.shuffle else "sequential",
            "rows": self.rows,
            "steps_per_epoch": self.steps_per_epoch,
            "roundoff": self.roundoff_dict(),
            "handrolled": self.handrolled.to_dict(),
            "keras": self.keras.to_dict(),
            "max_loss_diff": self.max_loss_diff,
            "max_step_loss_diff": self.max_step_loss_diff,
            "max_roundoff_envelope": self.max_roundoff_envelope,
            "peak_memory_mb": self.peak_memory,
            "max_accuracy_diff": self.max_accuracy_diff,
            "final_accuracy_diff": self.final_accuracy_diff,
            "max_weight_diff": self.max_weight_diff,
            "weight_diffs": self.weight_diffs,
            "max_state_diff": self.max_state_diff,
            "optimizer": self.optimizer.text,
            "optimizer_applied": _jsonable(self._applied_constants()),
            "optimizer_equations": _equations(self.optimizer),
            "max_optimizer_state_diff": self.max_optimizer_state_diff,
            "optimizer_state_diffs": self.optimizer_state_diffs,
            "state_diffs": self.state_diffs,
            "modes": self.modes,
            "runtime_ratio": self.runtime_ratios(),
        }


def _abs_diffs(h: dict, k: dict, names) -> dict[str, float]:
    """{name: max |h - k|} over the named tensors of two sides (inf where not finite)."""
    return {name: _finite_or_inf(max_abs_diff(h[name], k[name])) for name in names}


def _finite_or_inf(value) -> float:
    value = float(value)
    return value if np.isfinite(value) else float("inf")


def _jsonable(values: dict) -> dict:
    return {key: (float(v) if isinstance(v, (float, np.floating)) else
                  v if isinstance(v, (int, bool, str)) or v is None else str(v))
            for key, v in values.items()}


def _equations(optimizer) -> dict:
    """Where the update is written by hand and in Keras, and its equations (the
    hand-written file's docstring: written in Keras' order of operations)."""
    import sys

    module = type(optimizer).__module__
    return {"handrolled": module.replace(".", "/") + ".py",
            "keras": f"keras.optimizers.{optimizer.keras_name}" if optimizer.keras_name
            else None,
            "text": (sys.modules[module].__doc__ or "").strip()}
