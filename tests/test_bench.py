"""nn-compare bench: the flop count, the result's structure, bad input.

Timings are measured, never asserted: only that they are positive and finite.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from handrolled import Network, NetworkSpec, SpecError
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


def test_flops_of_a_conv_network_by_hand():
    # conv(4,3,relu) on 28x28x1: 26x26 windows of 3*3*1 numbers times a 9x4 kernel, per row
    # 2*676*9*4 = 48672 flops for the forward product, the same for grad_K, and no dL/dX
    # (the first layer); maxpool(2) -> 13x13x4, flatten -> 676: none; the output layer
    # 676 -> 10: 2*676*10 = 13520 three times (forward, grad_W, delta to the layer below)
    spec = NetworkSpec.from_text("conv(4,3,relu),maxpool(2),flatten", inputs=(28, 28, 1))
    assert flops_per_row(spec) == 2 * 48672 + 3 * 13520 == 137904
    assert flops_per_row(spec.build_layers()) == 137904
    assert epoch_flops(spec, 1000) == 1000 * 137904


def test_flops_of_a_conv_that_is_not_the_first_layer_count_its_input_gradient():
    # maxpool(2) first: 14x14x1; conv with padding=same keeps 14x14, 8 filters:
    # 2*196*(3*3*1)*8 = 28224, three times (it is not the first layer, so its dL/dx is
    # computed); flatten -> 1568; dense 1568 -> 20 and 20 -> 10, three products each
    spec = NetworkSpec.from_text("maxpool(2),conv(8,3,relu,padding=same),flatten,dense(20,relu)")
    assert flops_per_row(spec) == 3 * 28224 + 3 * 2 * 1568 * 20 + 3 * 2 * 20 * 10
    # strides: (28 - 5) // 2 + 1 = 12 windows a side, each 5*5*1 numbers, 6 filters
    strided = NetworkSpec.from_text("conv(6,5,relu,strides=2),flatten")
    assert flops_per_row(strided) == 2 * (2 * 144 * 25 * 6) + 3 * (2 * 864 * 10)


def test_flops_of_a_dense_spec_are_those_of_its_sizes():
    spec = NetworkSpec.from_text("256:relu,256:relu,256:relu,256:relu", inputs=(28, 28, 1))
    assert flops_per_row(spec) == flops_per_row(spec.sizes) == 1997824  # docs/PERFORMANCE.md


def test_flops_refuse_a_layer_with_parameters_they_do_not_know():
    from handrolled.layers import Layer

    class Odd(Layer):  # a future kind with a kernel must say how it counts, not count 0
        kind = "odd"

    odd = Odd()
    odd.name, odd.param_shapes = "odd1", {"kernel": (3, 3)}
    with pytest.raises(NotImplementedError, match="odd1"):
        flops_per_row([odd])
    odd.param_shapes = {}  # without parameters: no product, 0
    assert flops_per_row([odd]) == 0


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


def test_breakdown_refuses_a_network_that_is_not_dense():
    with pytest.raises(SpecError, match="not a dense network"):
        breakdown("conv(4,3,relu),flatten", 32, "float32", rows=64, repeats=1)


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
    assert "vs hand" in out and "keras_compiled" in out and err == ""
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
    assert 0 < result["peak_memory_mb"] < 64 * 1024                # ru_maxrss, MB
    assert f"peak resident memory of the process (ru_maxrss): " \
        f"{result['peak_memory_mb']:,.0f} MB" in out


CONV_SMALL = "conv(4,3,relu),maxpool(2),flatten"


@pytest.mark.slow
def test_bench_times_a_conv_network(cli, tmp_path):
    path = tmp_path / "bench.json"
    code, out, err = cli("bench", "--network", CONV_SMALL, "--batch", "32", "--rows", "256",
                         "--repeats", "1", "--impls", "handrolled,keras_fit", "--dtype",
                         "float32", "--peak-size", "128", "--quiet", "--json", str(path))
    assert code == 0, err
    assert CONV_SMALL in out and "not a dense network" in out and err == ""
    result = json.loads(path.read_text())
    rows = result["rows"]
    assert [(r["hidden"], r["impl"]) for r in rows] == [(CONV_SMALL, "handrolled"),
                                                        (CONV_SMALL, "keras_fit")]
    for row in rows:
        assert row["gflops"] > 0 and math.isfinite(row["gflops"])
        assert row["rows"] == 256 and row["steps"] == 8 and row["dense"] is False
        assert row["flops_per_row"] == 137904  # test_flops_of_a_conv_network_by_hand
        assert row["memory_mb"] is not None and row["memory_mb"] >= 0  # compare/bench/memory.py
    assert result["rows_per_epoch"] == 256


def test_bench_configurations_of_new_specs():
    from compare.bench.runner import CONV, DENSE_ROWS, OTHER_ROWS
    from compare.cli import build_parser
    from compare.commands.bench import configs_from_args

    def configs(*argv):
        args = build_parser().parse_args(["bench", "--dtype", "float32", *argv])
        return [(c.hidden, c.batch, c.rows) for c in configs_from_args(args)]

    # the batch follows the last '@'; the spec keeps its commas and parentheses
    assert configs("--config", "conv(8,3,relu,strides=2),flatten@64", "--config",
                   "100:sigmoid@32") == [("conv(8,3,relu,strides=2),flatten", 64, OTHER_ROWS),
                                         ("100:sigmoid", 32, DENSE_ROWS)]
    assert configs("--hidden", CONV_SMALL, "--batch", "32,128") == configs(
        "--network", CONV_SMALL, "--batch", "32,128")  # --hidden: the same option
    assert configs("--network", CONV_SMALL, "--batch", "16", "--rows", "500") == [
        (CONV_SMALL, 16, 500)]
    assert (CONV, 32, OTHER_ROWS) in configs() and (CONV, 128, OTHER_ROWS) in configs()
    assert configs("--suite", "conv") == [(CONV, 32, OTHER_ROWS), (CONV, 128, OTHER_ROWS)]
    assert all("conv" not in network for network, _, _ in configs("--suite", "dense"))
    assert configs("--batch", "1000") == [("100:sigmoid", 1000, DENSE_ROWS)]


def test_bench_breakdown_skips_a_conv_network_with_a_note(cli, tmp_path):
    path = tmp_path / "bench.json"
    code, out, err = cli("bench", "--config", "8:relu@32", "--config", "conv(2,3,relu),flatten@32",
                         "--rows", "128", "--repeats", "1", "--impls", "handrolled", "--dtype",
                         "float32", "--peak-size", "64", "--breakdown", "--quiet",
                         "--json", str(path))
    assert code == 0, err
    assert "breakdown: skipped conv(2,3,relu),flatten: not a dense network" in out
    result = json.loads(path.read_text())
    assert [b["hidden"] for b in result["breakdown"]] == ["8:relu"]
    assert result["breakdown_skipped"] == ["conv(2,3,relu),flatten"]


def test_bench_table_shows_rows_when_they_differ():
    from compare.bench.table import network_notes

    rows = [dict(hidden="8:relu", dense=True), dict(hidden=CONV_SMALL, dense=False)]
    notes = network_notes(rows, common_rows=None)
    assert len(notes) == 2 and CONV_SMALL in notes[0] and "rows per epoch differ" in notes[1]
    assert len(network_notes(rows, common_rows=256)) == 1
    assert network_notes(rows[:1]) == []  # dense only: the table as before


@pytest.mark.parametrize("args, message", [
    (["--config", "16:sigmoid"], "SPEC@BATCH"),
    (["--network", "conv(8,30)"], "kernel 30x30 is larger than its 28x28 input"),
    (["--hidden", "conv(8,3)", "--batch", "32"], "end the layers with 'flatten'"),
    (["--config", "conv(8,30)@32"], "kernel 30x30 is larger"),
    (["--config", "conv(8,3,relu),flatten@32,64"], "has 2 batch sizes"),
    (["--network", "conv(4,3,relu),flatten", "--batch", "32", "--breakdown"],
     "is not a dense network"),
    (["--network", "conv(4,3,relu),flatten", "--suite", "conv"], "cannot be combined"),
    (["--suite", "conv", "--batch", "1000"], "no default configuration of --suite conv"),
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
    assert out == "" and not path.exists()  # refused before any timing


def test_a_noisy_machine_never_gives_negative_or_overfull_phases(monkeypatch):
    # a fake timer: every isolated phase takes 1 ms, the whole step (without the
    # gather) 1 ms, so the phases (5 ms: the activation less its copies is 0) add up
    # to 150 % more than the 2 ms step
    from compare.bench import breakdown as module

    monkeypatch.setattr(module, "best_seconds", lambda fn, repeats: 1e-3)
    monkeypatch.setattr(module, "_best_step", lambda *args: 1e-3)
    result = breakdown("8:relu", 16, "float32", rows=64, repeats=1)
    seconds = result["seconds_per_step"]
    assert seconds["other"] == 0.0 and result["excess"] == pytest.approx(1.5)
    table = breakdown_table([result], {"float32": 100.0, "float64": 50.0})
    shares = [int(cell.strip("(%)")) for cell in table.split() if cell.endswith("%)")]
    assert len(shares) == len(PHASES) + 1 and all(0 <= s <= 100 for s in shares)
    assert "150% more than the whole step: the machine was too noisy" in table
    quiet = module.account(dict(seconds, step=10e-3))  # the twin: phases fit in the step
    assert quiet["excess"] == 0 and quiet["seconds_per_step"]["other"] == pytest.approx(5e-3)


def test_competitor_processes_stop_even_when_the_block_is_interrupted():
    import os

    from compare.bench.load import competing_load

    with pytest.raises(KeyboardInterrupt):
        with competing_load(1) as pids:
            assert len(pids) == 1 and os.path.exists(f"/proc/{pids[0]}")
            raise KeyboardInterrupt  # Ctrl-C while timing
    assert not os.path.exists(f"/proc/{pids[0]}")


def test_bench_under_load_reports_the_spread_the_load_and_the_threads(cli, tmp_path,
                                                                     monkeypatch):
    path = tmp_path / "bench.json"
    for variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        monkeypatch.delenv(variable, raising=False)  # --threads may set them: undone after
    code, out, err = cli("bench", "--config", "8:relu@32", "--rows", "64", "--repeats", "2",
                         "--impls", "handrolled", "--dtype", "float32", "--peak-size", "32",
                         "--load", "1", "--threads", "1", "--quiet", "--json", str(path))
    assert code == 0, err
    result = json.loads(path.read_text())
    assert result["load"]["competitors"] == 1 and len(result["load"]["load_average_before"]) == 3
    (row,) = result["rows"]
    assert row["epoch_seconds_min"] <= row["epoch_seconds"] <= row["epoch_seconds_max"]
    assert row["blas_threads"] == 1 and result["threads"]["blas"] == "set by --threads"
    assert "with 1 CPU-bound competitor process running (--load 1)" in " ".join(out.split())
    assert "min-max" in out and "threads" in out


def test_batchnorm_has_parameters_but_no_product():
    spec = NetworkSpec.from_text("conv(4,3,relu),batchnorm,dropout(0.5),flatten",
                                 inputs=(28, 28, 1))
    assert flops_per_row(spec) == flops_per_row(
        NetworkSpec.from_text("conv(4,3,relu),flatten", inputs=(28, 28, 1)))


def _bench_result(networks, common_rows=None):
    rows = [dict(hidden=network, batch=128, dtype="float32", impl=impl, rows=2048,
                 epoch_seconds=seconds, epoch_seconds_min=seconds * 0.9,
                 epoch_seconds_max=seconds * 1.1, step_seconds=seconds / 16, gflops=12.5,
                 percent_of_peak=40.0, memory_mb=1234.0, blas_threads=1,
                 dense=network.endswith("10"), input_shape=(28, 28, 1))
            for network in networks
            for impl, seconds in (("handrolled", 1.0), ("keras_fit", 2.5),
                                  ("keras_compiled", 1.5))]
    return dict(rows=rows, rows_per_epoch=common_rows, repeats=3, peak_size=2048,
                peak_gflops={"float32": 60.0, "float64": 30.0}, peak_memory_mb=3000.0,
                load={"load_average_before": [0.1, 0.2, 0.3]},
                threads={"blas": "measured", "tf_intra_op_threads": 0,
                         "tf_inter_op_threads": 0, "tensorflow_applied": True},
                environment={"cpu": "a CPU", "cpus_usable": 2, "avx512": False,
                             "load_average": [0.2, 0.2, 0.3], "env": {},
                             "blas": [{"internal_api": "openblas", "version": "0.3",
                                       "architecture": "Haswell", "num_threads": 2}]})


def test_the_bench_table_fits_120_columns_and_letters_long_networks():
    from compare.bench.table import bench_table

    long_network = "conv(16,3,relu),maxpool(2),flatten,dense(100,relu)"
    text = bench_table(_bench_result([long_network, "784-100-10"]))
    assert max(map(len, text.splitlines())) <= 120, text
    assert f"network A: {long_network}" in text and "network B: 784-100-10" in text
    assert "vs hand" in text and "2.50x" in text
    assert "0 intra-op" not in text and "TensorFlow's default intra-op" in text
    # short networks keep their own names, and nothing is lettered
    text = bench_table(_bench_result(["784-100-10"], common_rows=2048))
    assert "network A" not in text and "784-100-10" in text
    assert max(map(len, text.splitlines())) <= 120, text


def test_twin_without_the_letters_a_long_network_overflows(monkeypatch):
    from compare.bench import table

    monkeypatch.setattr(table, "LONGEST_NETWORK", 10 ** 6)  # never letter
    text = table.bench_table(_bench_result(["conv(16,3,relu),maxpool(2),flatten,dense(100,relu)"]))
    assert max(map(len, text.splitlines())) > 120
