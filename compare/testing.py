"""For your own pytest suite: fail when your hand-written code disagrees with Keras.

    from compare.testing import assert_matches_keras

    def test_my_network():
        assert_matches_keras("my_net.py")

`assert_matches_keras` checks whatever kind of target the file declares (a network, a
training loop, a layer, an optimizer: docs/checking/); the AssertionError carries the same
text as `nn-compare check`.  A target that cannot be checked at all (it does not import,
breaks the contract, raises, ends its process) raises `compare.check.TargetError`, whose
`.details` holds your own traceback.
"""

from __future__ import annotations

from pathlib import Path


def assert_matches_keras(path: str | Path, dataset: str = "mnist-sample", batch: int = 32,
                         seed: int = 0, finite_differences: bool = True, kind: str | None = None,
                         **options):
    """Check the target file at `path`; return the outcome if it agrees, else raise."""
    from .check.kinds import CheckOptions, run_check_file

    outcome = run_check_file(path, CheckOptions(dataset=dataset, batch=batch, seed=seed,
                                                finite_differences=finite_differences,
                                                **options), kind=kind)
    if not outcome.agree:
        raise AssertionError(f"{Path(path).name} disagrees with Keras\n{outcome.format()}")
    return outcome


def assert_layer_matches_keras(path: str | Path, seed: int = 0, dtype: str | None = None,
                               **options):
    """Check the layer target at `path` (docs/checking/layer.md) against the Keras layer it
    names; return the outcome if it agrees, else raise AssertionError with the report."""
    return assert_matches_keras(path, seed=seed, dtype=dtype, kind="layer", **options)


def assert_optimizer_matches_keras(path: str | Path, steps: int | None = None, seed: int = 0,
                                   dtype: str | None = None, **options):
    """An optimizer target (OPTIMIZER and update: docs/checking/optimizer.md) against
    keras.optimizers over `steps` steps (default 20), in float64 and float32 unless `dtype`
    names one.  A documented convention agrees; a bug raises AssertionError with its name."""
    return assert_matches_keras(path, seed=seed, kind="optimizer", steps=steps, dtype=dtype,
                                **options)


def assert_training_matches_keras(path: str | Path, steps: int | None = None, batch: int = 32,
                                  seed: int = 0, dataset: str = "mnist-sample", **options):
    """A training-loop target (train_step and OPTIMIZER: docs/checking/training-loop.md)
    against Keras' fit over `steps` steps (default 10) of `batch` rows.  A documented
    convention (textbook Adam, ...) agrees; a named bug raises AssertionError."""
    return assert_matches_keras(path, dataset=dataset, batch=batch, seed=seed,
                                kind="training_loop", steps=steps, **options)
