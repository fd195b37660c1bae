"""One comparison run, from settings to the results.json dictionary.

    prepared = prepare(config)                      # data, spec, weights (bad input -> SpecError)
    outcome = run(prepared, gradients=True, progress=...)
    outcome.results                                 # what results.json holds

Shared by `nn-compare report` (gradients + training) and `nn-compare train`
(training only), so both give the same keys.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from handrolled import NetworkSpec, Params, init_weights, load_weights, validate
from handrolled.activations import check_user_activations
from handrolled.memory import check_batch_fits
from handrolled.errors import SpecError
from handrolled.train import sgd_epoch

from .environment import describe_environment
from .presets import TrainingConfig
from .training import TrainingResult, epoch_orders, train_side_by_side
from .training.data import first_step_rows
from .training.data import check_epochs, check_steps


@dataclass
class Prepared:
    config: TrainingConfig
    dataset: object  # compare.datasets.Dataset
    spec: NetworkSpec
    weights: Params
    state: Params | None = None  # the starting moving statistics (None: the usual start)


@dataclass
class Outcome:
    prepared: Prepared
    training: TrainingResult
    gradients: object | None  # compare.gradients.GradientComparison
    results: dict

    @property
    def agree(self) -> bool:
        return bool(self.results["agree"])

    @property
    def gradients_agree(self) -> bool:
        """True when the first batch's gradients agree or were not compared."""
        return self.gradients is None or bool(self.gradients.agree)


def prepare(config: TrainingConfig, spec_from=None, weights_file: str | None = None,
            weights: Params | None = None, state: Params | None = None) -> Prepared:
    """Load the data, build the spec for its shape, and the starting weights (`weights`,
    e.g. an imported Keras model's, else `weights_file`, else config.init's) and moving
    statistics (`state`, e.g. the imported model's).

    `spec_from(input_shape, classes)` builds the spec (the command line passes one
    that also loads --activation-module files); by default from config.hidden.
    """
    from .datasets import load_dataset

    dataset = load_dataset(config.dataset, preprocess=config.preprocess, seed=config.seed,
                           dtype=config.dtype)
    if config.validation_halves:
        dataset = dataset.split_validation()
    if config.train_rows is not None:
        available = len(dataset.y_train)
        if config.train_rows > available:
            raise SpecError(f"--train-rows {config.train_rows} is more than the {available} "
                            f"training rows of {config.dataset}; accepted: 1 to {available}")
        # copies, not views: a view would keep the whole set alive (Fashion-MNIST's 60,000
        # training rows are 359 MB in float64, for book-ch19-cnn's 1,000)
        dataset = dataclasses.replace(dataset,
                                      X_train=dataset.X_train[:config.train_rows].copy(),
                                      y_train=dataset.y_train[:config.train_rows].copy())
    spec_from = spec_from or (lambda inputs, classes: NetworkSpec.from_text(
        config.hidden, inputs=inputs, classes=classes, dtype=config.dtype, seed=config.seed,
        loss=config.loss))
    spec = spec_from(dataset.input_shape, dataset.classes)
    check_batch_fits(spec, min(config.batch, len(dataset.y_train)))  # before any work
    if weights is not None:
        weights = validate(spec, weights)
    elif weights_file:
        weights = load_weights(weights_file, spec)
    else:
        weights = init_weights(spec, config.init)
    rows = len(dataset.y_train)
    if config.batch > rows:
        raise SpecError(f"batch size {config.batch} is larger than the {rows} training rows "
                        f"of {config.dataset}; accepted: 1 to {rows}")
    check_epochs(rows, config.epochs)  # before any work, not after the gradient check
    check_steps(rows, config.epochs, config.batch)
    check_user_activations(spec.build_layers(), [config.batch, rows % config.batch or
                                                 config.batch])  # the last partial batch too
    return Prepared(config, dataset, spec, weights, state)


def first_batch(prepared: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """The batch the first training step sees (in the first epoch's order)."""
    config, dataset = prepared.config, prepared.dataset
    order = epoch_orders(len(dataset.y_train), 1, config.seed, config.shuffle)[0]
    rows = first_step_rows(order, config.batch)
    return dataset.X_train[rows], dataset.Y_train[rows]


def run(prepared: Prepared, gradients: bool = True, progress=None,
        handrolled_epoch=None, command: str = "report", threads=None,
        keras_apart: bool = False) -> Outcome:
    """Gradients on the first batch (optional), then training side by side.

    `handrolled_epoch`: the hand-written epoch function (default: config.loop's).
    `threads`: the compare.threads.ThreadPolicy (None: train_side_by_side measures one).
    `keras_apart`: Keras' training runs in a process of their own (training/keras_process.py).
    """
    config, spec = prepared.config, prepared.spec
    grads = None
    if gradients and not keras_apart:
        from .gradients import compare_gradients  # imports TensorFlow

        grads = compare_gradients(spec, prepared.weights, *first_batch(prepared))
    training = train_side_by_side(spec, prepared.weights, prepared.dataset, config.epochs,
                                  config.batch, config.training_optimizer,
                                  shuffle=config.shuffle,
                                  seed=config.seed, progress=progress,
                                  handrolled_epoch=handrolled_epoch or
                                  handrolled_loop(config.loop), threads=threads,
                                  state=prepared.state, keras_apart=keras_apart,
                                  gradients_batch=first_batch(prepared) if gradients else None)
    if gradients and keras_apart:  # Keras' half came from its process, computed there first
        from .gradients import compare_gradients

        grads = compare_gradients(spec, prepared.weights, *first_batch(prepared),
                                  keras=training.keras_gradients)
    results = results_dict(prepared, training, grads, config.command(command))
    return Outcome(prepared, training, grads, results)


GRADIENTS_DISAGREE = "disagree from step 1 (epoch 1): the gradients of the first batch differ"


def overall_verdict(gradients_agree: bool | None, training_verdict: str) -> str:
    """The one verdict every output prints: the gradients of the first training
    batch disagreeing (None: not compared) decide it, else the training's
    ("identical", "agree within round-off", "disagree from step N (epoch E)",
    "training diverged on both sides ...": the settings, not the code)."""
    return GRADIENTS_DISAGREE if gradients_agree is False else training_verdict


def handrolled_loop(name: str):
    """The hand-written epoch function for a `--loop` name (presets.LOOPS)."""
    from handrolled.fast import sgd_epoch_fast

    return {"textbook": sgd_epoch, "fast": sgd_epoch_fast}[name]


def results_dict(prepared: Prepared, training: TrainingResult, grads, command: str) -> dict:
    agree = training.agree and (grads is None or grads.agree)
    results = {
        "agree": agree,
        "verdict": overall_verdict(None if grads is None else grads.agree, training.verdict),
        "command": command,
        "config": prepared.config.to_dict(),
        "dataset": _dataset_summary(prepared.dataset),
        "environment": dict(describe_environment(), dtype=prepared.spec.dtype,
                            seed=prepared.config.seed),
    }
    if grads is not None:
        results["gradients"] = dict(grads.to_dict(), batch_source="first training batch")
    # the fused fast loop is for dense networks; any other runs the textbook epoch
    loop = prepared.config.loop if prepared.spec.is_dense else "textbook"
    results["training"] = dict(training.to_dict(), handrolled_loop=loop,
                               threads=training.threads.to_dict(),
                               load_average=training.load_average)
    return results


def _dataset_summary(dataset) -> dict:
    summary = {"name": dataset.name, "train_rows": len(dataset.y_train),
               "test_rows": len(dataset.y_test), "inputs": dataset.inputs,
               "classes": dataset.classes, "preprocess": getattr(dataset, "preprocess", None),
               "source": getattr(dataset, "source", None)}
    if getattr(dataset, "y_validation", None) is not None:
        summary["validation_rows"] = len(dataset.y_validation)
    return summary
