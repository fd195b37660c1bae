"""`nn-compare train` and `nn-compare report` end to end, on small IDX files."""

from __future__ import annotations

import json

import pytest
from idx_files import write_idx_dir
from training_blobs import blob_images

from handrolled.train import sgd_epoch


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory):
    return write_idx_dir(tmp_path_factory.mktemp("idx"), blob_images(200, 60))


def small(idx_dir, *extra):
    return ["--dataset", f"idx:{idx_dir}", "--hidden", "8:sigmoid", "--epochs", "2",
            "--batch", "32", "--lr", "0.5", "--quiet", *extra]


def test_report_prints_three_tables_and_writes_the_directory(cli, idx_dir, tmp_path,
                                                            monkeypatch):
    out = tmp_path / "rep"
    for variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        monkeypatch.delenv(variable, raising=False)  # --threads may set them: undone after
    code, stdout, stderr = cli("report", *small(idx_dir, "--out", str(out), "--threads", "1",
                                                "--json", str(tmp_path / "copy.json")))
    assert code == 0, stderr
    assert "Gradients: handrolled vs keras" in stdout
    assert "Training: handrolled (h) vs keras (k), 12-8 sigmoid-10, float64" in stdout
    assert stdout.count("threads:") == 1  # under the Runtime table, not also before the run
    long = [line for line in stdout.splitlines() if len(line) > 120 and str(tmp_path) not in line]
    assert not long, long  # every table and note; a path is not broken
    assert "ratio handrolled/keras" in stdout
    assert stdout.rstrip().splitlines()[-1].startswith("  beside it: accuracy.png")
    assert "\ngradients: AGREE\n" in stdout and stdout.count("verdict:") == 1  # one verdict
    assert {"results.json", "report.md", "report.html", "loss.png"} <= {
        p.name for p in out.iterdir()}
    results = json.loads((out / "results.json").read_text())
    assert results["agree"] is True and "gradients" in results
    threads = results["training"]["threads"]  # compare/threads.py's policy, as it ran
    assert (threads["blas_threads"], threads["source"]) == (1, "--threads")
    assert "threads: 1 BLAS thread for the hand-written side (set by --threads)" in stdout
    load = results["training"]["load_average"]
    assert len(load["before"]) == len(load["after"]) == 3 and load["cores"] >= 1
    assert results["training"]["max_loss_diff"] <= 1e-9
    assert json.loads((tmp_path / "copy.json").read_text())["training"]["epochs"] == 2
    assert results["command"].startswith("nn-compare report --preset default --layers 8:sigmoid")
    assert stderr == ""  # --quiet: no progress bar


def test_train_has_the_same_keys_less_gradients(cli, idx_dir, tmp_path):
    path = tmp_path / "t.json"
    code, stdout, stderr = cli("train", *small(idx_dir, "--json", str(path), "--dtype",
                                               "float32", "--order", "sequential"))
    assert code == 0, stderr
    results = json.loads(path.read_text())
    assert "gradients" not in results and results["agree"] is True
    assert results["training"]["order"] == "sequential"
    assert results["training"]["max_accuracy_diff"] <= 0.005
    assert "Gradients" not in stdout
    assert not list(tmp_path.glob("*/report.html"))  # train writes a directory only with --out


def test_progress_bar_goes_to_stderr_unless_quiet(cli, idx_dir):
    args = [a for a in small(idx_dir) if a != "--quiet"]
    code, _, stderr = cli("train", *args)
    assert code == 0 and "epoch" in stderr


def test_twin_a_broken_hand_written_epoch_exits_1(cli, idx_dir, tmp_path, monkeypatch):
    import compare.experiment as experiment

    def half_the_step(network, X, Y, batch_size, lr, **kwargs):
        return sgd_epoch(network, X, Y, batch_size, 0.5 * lr, **kwargs)

    monkeypatch.setattr(experiment, "handrolled_loop", lambda name: half_the_step)
    path = tmp_path / "t.json"
    code, stdout, _ = cli("train", *small(idx_dir, "--json", str(path)))
    assert code == 1
    assert stdout.count("verdict:") == 1
    assert "\nverdict: DISAGREE from step 2 (epoch 1)\n" in stdout
    assert json.loads(path.read_text())["agree"] is False


@pytest.mark.slow
def test_both_hand_written_loops_give_identical_runs(cli, idx_dir, tmp_path):
    runs = {}
    for loop in ("fast", "textbook"):
        path = tmp_path / f"{loop}.json"
        code, _, stderr = cli("train", *small(idx_dir, "--loop", loop, "--json", str(path)))
        assert code == 0, stderr
        runs[loop] = json.loads(path.read_text())
    assert runs["fast"]["training"]["handrolled_loop"] == "fast"
    assert runs["textbook"]["config"]["loop"] == "textbook"
    fast, textbook = (runs[loop]["training"]["handrolled"] for loop in ("fast", "textbook"))
    assert fast["step_loss"] == textbook["step_loss"] and fast["loss"] == textbook["loss"]


def test_book_preset_fills_in_what_is_not_given(cli, idx_dir, tmp_path):
    path = tmp_path / "b.json"
    code, stdout, stderr = cli("train", "--preset", "book", "--dataset", f"idx:{idx_dir}",
                               "--hidden", "8:sigmoid", "--epochs", "1", "--batch", "50",
                               "--quiet", "--json", str(path))
    assert code == 0, stderr
    results = json.loads(path.read_text())
    config = results["config"]
    assert (config["preset"], config["epochs"], config["batch"]) == ("book", 1, 50)  # given
    assert (config["lr"], config["preprocess"], config["init"], config["order"]) == (
        1.0, "standardize", "book", "sequential")  # from the preset
    assert results["dataset"]["validation_rows"] == 30 and results["dataset"]["test_rows"] == 30
    header = next(line for line in stdout.splitlines() if line.startswith("epoch "))
    assert header.split()[-2:] == ["val", "val"]  # the table's two header lines: 'val', 'h %'
    assert stdout.splitlines()[stdout.splitlines().index(header) + 1].endswith("h %    k %")


def test_book_preset_batch_256_is_checked_against_the_data(cli, idx_dir):
    code, _, stderr = cli("train", "--preset", "book", "--dataset", f"idx:{idx_dir}", "--quiet")
    assert code == 2
    assert "batch size 256 is larger than the 200 training rows" in stderr


@pytest.mark.slow
def test_diverging_run_exits_2_names_the_step_and_still_reports(cli, idx_dir, tmp_path):
    out = tmp_path / "rep"
    code, stdout, stderr = cli("train", "--dataset", f"idx:{idx_dir}", "--hidden", "8:relu",
                          "--epochs", "3", "--batch", "32", "--lr", "1e200", "--quiet",
                          "--out", str(out))
    assert code == 2
    assert "handrolled: the loss became nan at epoch 1, step" in stderr
    assert stdout.count("verdict:") == 1
    assert "\nverdict: TRAINING DIVERGED on both sides at epoch 1, step " in stdout
    assert "; try a learning rate below 1e+199\n" in stdout
    results = json.loads((out / "results.json").read_text())
    assert results["training"]["handrolled"]["diverged"]["epoch"] == 1
    assert results["training"]["outcome"]["outcome"] == "diverged"
    assert "training diverged on both sides" in (out / "report.md").read_text()


@pytest.mark.parametrize("args, words", [
    (["--lr", "0"], "argument --lr: must be a positive number"),
    (["--lr", "-0.5"], "argument --lr: must be a positive number"),
    (["--epochs", "0"], "argument --epochs: must be at least 1"),
    (["--batch", "0"], "argument --batch: must be at least 1"),
    (["--batch", "201"], "batch size 201 is larger than the 200 training rows"),
    (["--dataset", "nope"], "unknown dataset 'nope'"),
    (["--preset", "nope"], "invalid choice: 'nope'"),
    (["--hidden", "8:sigmoidd"], "unknown activation 'sigmoidd'"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(cli, idx_dir, tmp_path, args, words):
    base = ["--dataset", f"idx:{idx_dir}", "--quiet", "--out", str(tmp_path / "rep")]
    code, stdout, stderr = cli("report", *base, *args)
    assert code == 2
    assert words in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert not (tmp_path / "rep").exists()


def test_weights_that_do_not_fit_the_data_exit_2(cli, idx_dir, tmp_path):
    import numpy as np

    path = tmp_path / "w.npz"
    np.savez(path, W1=np.zeros((784, 8)), b1=np.zeros(8), W2=np.zeros((8, 10)), b2=np.zeros(10))
    code, _, stderr = cli("train", *small(idx_dir, "--weights", str(path)))
    assert code == 2 and "W1 (dense1/kernel) has shape (784, 8); expected (12, 8)" in stderr


def test_an_interrupted_run_writes_no_results(cli, idx_dir, tmp_path, monkeypatch):
    import compare.training.side_by_side as side_by_side

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(side_by_side, "run_keras", interrupt)
    out = tmp_path / "rep"
    code, _, stderr = cli("report", *small(idx_dir, "--out", str(out)))
    assert code == 130 and "interrupted" in stderr
    assert not out.exists()
