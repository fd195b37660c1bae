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
