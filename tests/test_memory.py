"""Bounded memory (handrolled/memory.py): evaluation in chunks, a batch that cannot fit
refused before training, and the run's peak resident memory recorded."""

from __future__ import annotations

import json

import numpy as np
import pytest

from compare.training.history import evaluate
from handrolled import Network, NetworkSpec, init_weights, memory
from handrolled.errors import MachineError

CNN = "conv(4,3,relu),maxpool(2),flatten,dense(8,relu)"


def spec_and_sets(rows=300):
    spec = NetworkSpec.from_text(CNN, inputs=(12, 12, 1), classes=3, seed=0)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(rows, 12, 12, 1)), rng.integers(0, 3, rows)
    return spec, {"test": (X, y)}


def test_row_bytes_counts_the_im2col_columns():
    spec, _ = spec_and_sets()
    per_row = memory.row_bytes(spec)
    # conv1: z and a (2 x 10x10x4), the gradient into it (12x12x1), columns and their
    # gradient (2 x 10x10 x 3x3x1), float64
    assert per_row["conv1"] == 8 * (2 * 400 + 144 + 2 * 900)
    assert list(per_row) == ["conv1", "maxpool2", "flatten3", "dense4", "dense5"]
    assert per_row["flatten3"] == 0                            # a reshape: views only


def test_evaluation_runs_in_chunks_of_the_budget_and_gives_the_same_numbers(monkeypatch):
    spec, sets = spec_and_sets()
    network = Network(spec, init_weights(spec))
    seen = []

    def logits_of(X):
        seen.append(len(X))
        return network.forward(X).logits

    monkeypatch.setattr(memory, "EVALUATION_BUDGET", 10 ** 12)  # twin: all rows at once
    whole = evaluate(logits_of, sets, spec)
    assert seen == [300]
    seen.clear()
    budget = 64 * sum(memory.row_bytes(spec).values())          # 64 rows' worth
    monkeypatch.setattr(memory, "EVALUATION_BUDGET", budget)
    chunked = evaluate(logits_of, sets, spec)
    assert seen == [64, 64, 64, 64, 44]
    assert chunked["test_accuracy"] == whole["test_accuracy"]
    assert chunked["test_loss"] == pytest.approx(whole["test_loss"], rel=1e-14)


def test_a_batch_that_cannot_fit_is_refused_naming_the_layer():
    spec, _ = spec_and_sets()
    per_row = memory.row_bytes(spec)
    memory.check_batch_fits(spec, 32, available=32 * sum(per_row.values()))  # just fits
    with pytest.raises(MachineError, match=r"one training batch of 32 rows needs about .* MB, "
                                           r"more than the .* MB of memory available; layer "
                                           r"conv1 alone needs"):
        memory.check_batch_fits(spec, 32, available=32 * sum(per_row.values()) - 1)


@pytest.mark.slow
def test_the_command_refuses_it_before_training_in_one_line(cli, monkeypatch, tmp_path):
    monkeypatch.setattr(memory, "available_bytes", lambda: 2 ** 20)  # a 1 MB machine
    code, out, err = cli("train", "--network", "conv(64,3,relu),flatten", "--epochs", "1",
                         "--train-rows", "64", "--out", str(tmp_path / "r"))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "layer conv1 alone needs" in err and "use a smaller --batch" in err
    assert not (tmp_path / "r").exists() and "epoch" not in out


@pytest.mark.slow
def test_the_run_records_its_peak_resident_memory(cli, tmp_path):
    out = tmp_path / "r.json"
    code, text, err = cli("train", "--hidden", "4:relu", "--epochs", "1", "--train-rows", "64",
                          "--json", str(out))
    assert code == 0, err
    peak = json.loads(out.read_text())["training"]["peak_memory_mb"]
    assert set(peak) == {"handrolled", "keras", "roundoff", "run"}
    assert 0 < peak["handrolled"] <= peak["keras"] <= peak["roundoff"] <= peak["run"] < 64 * 1024
    assert f"peak resident memory of the process (ru_maxrss): {peak['run']:,.0f} MB" in text
