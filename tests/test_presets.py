"""The book's Part 3 presets run end to end and agree with Keras (float64, 1e-9).

Each runs as a user would (`nn-compare train --preset NAME --epochs 2`), on
fewer rows than the preset's data so the suite stays short: book-ch19-cnn on
a small set of 28x28 IDX images instead of Fashion-MNIST (its network is the
point here; the README has the measured full runs).
"""

import json

import pytest

from compare.presets import PRESETS
from handrolled import optimizers
from idx_files import small_set, write_idx_dir


@pytest.fixture(scope="module")
def images_28(tmp_path_factory):
    return write_idx_dir(tmp_path_factory.mktemp("idx28"),
                         small_set(n_train=10, n_test=4, rows=28, cols=28))


@pytest.mark.slow
@pytest.mark.parametrize("preset, extra", [
    ("book-ch16", ["--train-rows", "200"]),
    ("book-ch17", ["--train-rows", "200"]),
    ("book-ch18", ["--train-rows", "256"]),
    ("book-ch18-bn", ["--train-rows", "256"]),
    ("book-ch19-cnn", ["--train-rows", "8"]),
])
def test_each_book_preset_agrees_with_keras(cli, tmp_path, images_28, preset, extra):
    if preset == "book-ch19-cnn":
        extra = [*extra, "--dataset", f"idx:{images_28}", "--batch", "8"]
    out = tmp_path / "r.json"
    code, stdout, err = cli("train", "--preset", preset, "--epochs", "2", "--quiet",
                            "--json", str(out), *extra)
    assert code == 0, err
    assert stdout.rstrip().splitlines()[-1] in ("verdict: AGREE (identical)",
                                                "verdict: AGREE (within round-off)")
    results = json.loads(out.read_text())
    training = results["training"]
    assert training["max_loss_diff"] <= 1e-9 and training["max_weight_diff"] <= 1e-9
    assert results["config"]["preset"] == preset
    config = PRESETS[preset]
    expected = optimizers.get(config.optimizer or f"sgd(learning_rate={config.lr!r})").text
    assert training["optimizer"] == expected


@pytest.mark.slow
def test_report_names_the_optimizer_and_its_update(cli, tmp_path):
    code, stdout, err = cli("report", "--preset", "book-ch18", "--optimizer", "adam",
                            "--hidden", "32:sigmoid", "--train-rows", "96", "--epochs", "1",
                            "--quiet",
                            "--out", str(tmp_path / "r"))
    assert code == 0, err
    report = (tmp_path / "r" / "report.md").read_text()
    assert "`keras.optimizers.Adam` on the Keras side" in report
    assert "alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)" in report
    assert "optimizer: adam (as applied: learning_rate=0.001, beta_1 (in beta_1**t)=" \
           "0.8999999761581421" in stdout


def test_lr_with_an_optimizer_is_one_clear_error(cli):
    code, _, err = cli("train", "--optimizer", "adam", "--lr", "0.1")
    assert code == 2 and err.count("\n") == 1 and "inside, e.g. --optimizer" in err
    code, _, err = cli("train", "--optimizer", "adamm")
    assert code == 2 and "unknown optimizer" in err.lower()


@pytest.mark.slow
def test_sweep_and_bench_take_an_optimizer(cli, tmp_path):
    code, out, err = cli("sweep", "--activations", "relu", "--seeds", "1", "--units", "8",
                         "--epochs", "1", "--train-rows", "200", "--optimizer", "adam",
                         "--out", str(tmp_path / "s"), "--quiet", "--no-plot")
    assert code == 0, err
    assert "every configuration trains with adam" in out
    (row,) = json.loads((tmp_path / "s" / "sweep.json").read_text())["rows"]
    assert row["optimizer"] == "adam" and row["handrolled_accuracy"] == row["keras_accuracy"]
    code, out, err = cli("bench", "--network", "16:relu", "--batch", "32", "--rows", "256",
                         "--repeats", "1", "--dtype", "float64", "--optimizer", "rmsprop",
                         "--impls", "handrolled,keras_fit", "--peak-size", "64", "--quiet",
                         "--json", str(tmp_path / "b.json"))
    assert code == 0, err
    assert json.loads((tmp_path / "b.json").read_text())["optimizer"] == "rmsprop"
    code, _, err = cli("sweep", "--optimizer", "adam", "--lr", "0.1", "--out", str(tmp_path / "x"))
    assert code == 2 and "inside" in err
