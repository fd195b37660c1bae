"""For your own pytest suite: fail when your hand-written network disagrees with Keras.

    from compare.testing import assert_matches_keras

    def test_my_network():
        assert_matches_keras("my_net.py")

The AssertionError carries the same table, diagnosis and statistics as
`nn-compare check`.  A target that cannot be checked at all (it does not
import, breaks the contract, raises) raises `compare.check.TargetError`
chained to your own exception, so pytest shows your traceback.
"""

from __future__ import annotations

from pathlib import Path


def assert_matches_keras(path: str | Path, dataset: str = "mnist-sample", batch: int = 32,
                         seed: int = 0, finite_differences: bool = True):
    """Check the target file at `path`; return the result if it agrees, else raise."""
    from .check import format_report, load_target, run_check

    result = run_check(load_target(path), dataset=dataset, batch=batch, seed=seed,
                       finite_differences=finite_differences)
    if not result.agree:
        raise AssertionError(f"{Path(path).name} disagrees with Keras\n{format_report(result)}")
    return result
