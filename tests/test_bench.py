"""nn-compare bench: the flop count, the result's structure, bad input.

Timings are measured, never asserted: only that they are positive and finite.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from handrolled import Network, NetworkSpec
from handrolled.fast import sgd_epoch_fast
from compare.bench.runner import ratios_to_baseline
from compare.bench.table import breakdown_table
from compare.bench.breakdown import PHASES, breakdown, ceilings
from compare.bench.flops import epoch_flops, flops_per_row

from test_fast import make_data


def test_flops_of_the_book_network_by_hand():
    # forward 784*100 + 100*10; grad_W the same; delta W^T only for layer 2 (no dL/dX)
    assert flops_per_row((784, 100, 10)) == 2 * (2 * 784 * 100 + 3 * 100 * 10)
    assert epoch_flops((784, 100, 10), 60000) == 60000 * 319600


def count_matmul_flops(monkeypatch, hidden, batch, rows=203):
    """Run one fast epoch with np.matmul counting 2 m n k per call."""
    spec = NetworkSpec.from_text(hidden, inputs=40, dtype="float64")
    X, Y = make_data(spec, rows)
    counted = []
    real = np.matmul

    def counting(a, b, *args, **kwargs):
        counted.append(2 * a.shape[0] * a.shape[1] * b.shape[1])
        return real(a, b, *args, **kwargs)

    monkeypatch.setattr(np, "matmul", counting)
    sgd_epoch_fast(Network(spec), X, Y, batch, 0.1, np.arange(rows))
    monkeypatch.setattr(np, "matmul", real)
    return spec, sum(counted)


@pytest.mark.parametrize("hidden", ["30:sigmoid", "24:relu,16:tanh,12:relu"])
def test_flop_count_matches_the_products_the_loop_runs(monkeypatch, hidden):
    spec, counted = count_matmul_flops(monkeypatch, hidden, batch=32)
    assert counted == epoch_flops(spec.sizes, 203)


def test_twin_flop_count_with_input_gradient_is_caught(monkeypatch):
    spec, counted = count_matmul_flops(monkeypatch, "30:sigmoid", batch=32)
    wrong = 203 * 3 * 2 * sum(a * b for a, b in zip(spec.sizes, spec.sizes[1:]))  # dL/dX too
    assert counted != wrong


def test_ratios_to_handrolled():
    rows = [dict(hidden="h", batch=1, dtype="float32", impl=impl, epoch_seconds=s)
            for impl, s in (("keras_fit", 3.0), ("handrolled", 1.5), ("keras_compiled", 0.75))]
    rows.append(dict(hidden="other", batch=1, dtype="float32", impl="keras_fit", epoch_seconds=1))
    assert ratios_to_baseline(rows) == [2.0, 1.0, 0.5, None]


def test_breakdown_has_every_phase():
    result = breakdown("20:sigmoid,20:relu", 32, "float32", rows=320, repeats=3)
    seconds = result["seconds_per_step"]
    assert set(seconds) == {*PHASES, "step", "other"}
    assert all(math.isfinite(v) for v in seconds.values())
    assert all(seconds[p] >= 0 for p in PHASES) and seconds["step"] > 0
    assert result["flops_per_step"] == 32 * flops_per_row((784, 20, 20, 10))


def test_ceilings_are_the_step_the_phases_and_the_products_against_the_peak():
    # 2 GFLOP per step, peak 100 GFLOP/s: a step of 40 ms is 50 % of peak; the
    # phases (matmul 25 ms + five others of 1 ms) would allow 66.7 %; the products 80 %.
    seconds = dict.fromkeys(PHASES, 1e-3)
    seconds.update(matmul=25e-3, step=40e-3, other=10e-3)
    result = {"dtype": "float32", "flops_per_step": 2e9, "seconds_per_step": seconds}
    limits = ceilings(result, peak_gflops=100.0)
    assert limits["step"] == pytest.approx(50.0)
    assert limits["phases"] == pytest.approx(200 / 3)
    assert limits["matmul"] == pytest.approx(80.0)
    twin = ceilings(dict(result, seconds_per_step=dict(seconds, other=0.0, step=30e-3)), 100.0)
    assert twin["step"] != limits["step"]  # the step's own time, not the phases', counts


def test_breakdown_table_prints_the_ceilings():
    seconds = dict.fromkeys([*PHASES, "other"], 1e-3)
    seconds.update(matmul=25e-3, step=40e-3)
    table = breakdown_table([{"hidden": "20:relu", "batch": 8, "dtype": "float64",
                              "flops_per_step": 2e9, "seconds_per_step": seconds}],
                            {"float32": 1.0, "float64": 100.0})
    assert "phases only" in table and "matmul only" in table
    assert table.splitlines()[-1].split()[-3:] == ["50", "67", "80"]


def test_a_pinned_openblas_kernel_is_explained():
    from compare.bench.table import kernel_notes

    (note,) = kernel_notes({"env": {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512"}})
    assert note.startswith("note: OPENBLAS_CORETYPE=Haswell pins") and "env -u" in note
    assert kernel_notes({"env": {"OPENBLAS_L2_SIZE": "512"}}) == []  # no kernel pinned
    assert kernel_notes({"env": {}}) == []


REQUIRED = {"hidden", "batch", "dtype", "impl", "epoch_seconds", "step_seconds", "gflops",
            "percent_of_peak"}


@pytest.mark.slow
def test_bench_cli_tiny(cli, tmp_path):
    path = tmp_path / "bench.json"
    code, out, err = cli("bench", "--rows", "256", "--repeats", "1", "--config", "16:sigmoid@64",
                         "--config", "8:relu,8:relu@100", "--peak-size", "128", "--quiet",
                         "--json", str(path))
    assert code == 0, err
    assert "vs handrolled" in out and "keras_compiled" in out and err == ""
    result = json.loads(path.read_text())
    assert set(result["peak_gflops"]) == {"float32", "float64"}
    assert all(v > 0 and math.isfinite(v) for v in result["peak_gflops"].values())
    rows = result["rows"]
    assert len(rows) == 2 * 2 * 3  # configurations x dtypes x implementations
    assert {(r["hidden"], r["batch"]) for r in rows} == {("16:sigmoid", 64),
                                                         ("8:relu,8:relu", 100)}
    assert {r["impl"] for r in rows} == {"handrolled", "keras_fit", "keras_compiled"}
    for row in rows:
        assert REQUIRED <= set(row)
        for key in ("epoch_seconds", "step_seconds", "gflops", "percent_of_peak"):
            assert row[key] > 0 and math.isfinite(row[key]), (key, row)
        assert row["steps"] == -(-256 // row["batch"])
    env = result["environment"]
    assert env["blas"] and "tensorflow" in env and "numpy" in env


@pytest.mark.parametrize("args, message", [
    (["--config", "16:sigmoid"], "HIDDEN@BATCH"),
    (["--config", "16:sigmoid@0"], "positive integer"),
    (["--config", "16:nope@32"], "unknown activation"),
    (["--hidden", "16:sigmoid", "--batch", "500"], "larger than --rows"),
    (["--batch", "64"], "no default configuration"),
    (["--dtype", "float16"], "unknown dtype"),
    (["--batch", "32", "--impls", "handrolled,torch"], "unknown implementation"),
    (["--batch", "32", "--lr", "0"], "--lr must be positive"),
])
def test_bench_bad_input(cli, tmp_path, args, message):
    path = tmp_path / "out.json"
    code, out, err = cli("bench", "--rows", "300", *args, "--json", str(path))
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not path.exists()
