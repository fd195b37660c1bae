"""The thread policy (compare/threads.py) and the report's timing warnings.

The policy's decision is tested on given probe figures (timings are never
asserted); that it really limits BLAS, on threadpoolctl's own report.
"""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info

from handrolled import NetworkSpec
from compare import threads
from compare.report.tables import runtime_notes
from compare.threads import MARGIN, ThreadPolicy, decide
from compare.training.runtime import timing_warnings

SPEC = NetworkSpec.from_text("8:relu", inputs=(12,), classes=3)


def blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.mark.parametrize("two_threads, chosen", [(1.0 / MARGIN, 2), (1.0 / MARGIN * 1.01, 1),
                                                 (3.0, 1)])
def test_more_blas_threads_only_when_they_are_margin_faster(monkeypatch, two_threads, chosen):
    monkeypatch.setattr(threads, "blas_thread_counts", lambda: (1, 2))
    monkeypatch.setattr(threads, "probe_seconds",
                        lambda spec, batch, counts, seed: {1: 1.0, 2: two_threads})
    policy = decide(SPEC, 32)
    assert (policy.blas_threads, policy.source) == (chosen, "measured")
    assert policy.tf_inter_op_threads == 1 and policy.tf_intra_op_threads >= 1
    assert f"more threads only if {MARGIN}x faster" in policy.describe()


def test_threads_option_overrides_the_measurement(monkeypatch):
    monkeypatch.setattr(threads, "probe_seconds", lambda *a: pytest.fail("measured anyway"))
    policy = decide(SPEC, 32, threads=3)
    assert (policy.blas_threads, policy.tf_intra_op_threads, policy.source) == (3, 3, "--threads")
    assert ThreadPolicy.from_dict(policy.to_dict()) == policy


def test_the_probe_times_every_thread_count():
    seconds = threads.probe_seconds(SPEC, 16, (1, 2))
    assert set(seconds) == {1, 2} and all(s > 0 for s in seconds.values())


def test_blas_limits_apply_inside_and_are_undone_after():
    before = blas_threads()
    with ThreadPolicy(1, 1, 1, "--threads").blas_limits():
        assert blas_threads() == {1}
    assert blas_threads() == before


def test_runtime_notes_show_the_policy_and_warn_on_a_busy_machine():
    seconds = {"handrolled": [0.5, 0.10, 0.11, 0.10], "keras": [2.0, 1.0, 1.1, 1.0]}
    training = {"keras": {"epoch_seconds": seconds["keras"]},
                "handrolled": {"epoch_seconds": seconds["handrolled"]},
                "threads": ThreadPolicy(1, 2, 1, "measured", {1: 1e-3, 2: 5e-3}).to_dict(),
                "load_average": {"before": [0.1, 0.1, 0.1], "after": [1.1, 0.5, 0.2],
                                 "cores": 2}}
    quiet = runtime_notes(training)
    assert any(line.startswith("threads: 1 BLAS thread") and "2 threads 5.00 ms" in line
               for line in quiet)
    assert not any(line.startswith("warning") for line in quiet)
    busy = runtime_notes(dict(training, load_average=dict(training["load_average"],
                                                          before=[1.2, 1.0, 0.9])))
    (warning,) = [line for line in busy if line.startswith("warning")]
    assert "busy" in warning and "1.2 cores of its 2" in warning


def test_a_wide_spread_of_later_epochs_is_a_warning():
    assert timing_warnings({"handrolled": [9.0, 1.0, 1.4, 1.2]}, None) == []  # first apart
    (line,) = timing_warnings({"handrolled": [1.0, 1.0, 1.6, 1.2]}, None)
    assert "handrolled's later epochs took 1.000 to 1.600 s, 1.6x apart" in line
    assert timing_warnings({"keras": [1.0, 1.0]}, None) == []  # one later epoch: no spread
