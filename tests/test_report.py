"""The report directory: files, self-contained HTML, tables, atomic writing."""

from __future__ import annotations

import json
import re

import pytest
from training_blobs import blobs

from compare import experiment
from compare.output import MARKER
from compare.presets import TrainingConfig
from compare.report import markdown, tables, write_report
from handrolled import NetworkSpec, init_weights

FILES = {"results.json", "report.md", "report.html", "loss.png", "accuracy.png",
         "gradients.png", "runtime.png"}


@pytest.fixture(scope="module")
def outcome():
    config = TrainingConfig(hidden="16:sigmoid", dataset="blobs", epochs=2, batch=32, lr=0.5,
                            preprocess="raw")
    spec = NetworkSpec.from_text(config.hidden, inputs=12, classes=4)
    prepared = experiment.Prepared(config, blobs(300, 100).split_validation(), spec,
                                   init_weights(spec))
    return experiment.run(prepared, gradients=True)


def test_results_have_the_agreed_keys(outcome):
    results = outcome.results
    assert results["agree"] is True
    assert {"agree", "gradients", "training", "environment", "config", "command"} <= set(results)
    assert results["gradients"]["agree"] and len(results["gradients"]["gradients"]) == 4
    assert results["gradients"]["batch"] == 32  # the first training batch
    env = results["environment"]
    for key in ("python", "numpy", "tensorflow", "keras", "blas", "cpu", "dtype", "seed",
                "tf_op_determinism"):
        assert key in env
    assert env["tf_op_determinism"] is True
    assert len(results["training"]["handrolled"]["validation_accuracy"]) == 2


def test_report_directory_is_complete_and_html_self_contained(outcome, tmp_path):
    written = write_report(tmp_path / "r", outcome.results)
    assert set(written) == FILES
    assert {p.name for p in (tmp_path / "r").iterdir()} == FILES | {MARKER}  # no leftovers
    html = (tmp_path / "r" / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 4
    assert not re.search(r'src="(?!data:)', html)  # nothing loaded from outside
    assert (tmp_path / "r" / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (tmp_path / "r" / "report.md").read_text()
    assert "![loss.png](loss.png)" in md and "## Runtime" in md
    assert json.loads((tmp_path / "r" / "results.json").read_text()) == json.loads(
        json.dumps(outcome.results))


def test_an_interrupted_report_leaves_no_results_or_html(outcome, tmp_path, monkeypatch):
    import compare.report as report

    def interrupted(results, plots):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "render_html", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(tmp_path / "r", outcome.results)
    assert list(tmp_path.iterdir()) == []  # no report, no hidden half-written folder


def test_training_table_shows_both_sides_per_epoch(outcome):
    table = tables.training_table(outcome.results["training"])
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["epoch", "loss", "loss", "abs"] and "val" in lines[0]
    assert lines[1].split()[:3] == ["handrolled", "keras", "diff"] and "k %" in lines[1]
    assert len(lines) == 3 + 2  # two header lines, rule, two epochs
    assert max(map(len, lines)) <= 120  # the console's width, validation columns included
    assert "max step" in lines[0] and "round-off" in lines[0] and "band" in lines[1]
    summary = "\n".join(tables.training_summary(outcome.results["training"]))
    assert "round-off envelope (handrolled vs itself with each batch's rows reversed)" in summary
    assert "rule (float64): every difference at step t inside max(10 x its round-off" in summary
    assert "verdict" not in summary  # printed once, by the command


def test_one_verdict_for_gradients_and_training(outcome):
    from compare.experiment import overall_verdict

    assert outcome.results["verdict"] == "identical" and outcome.results["agree"] is True
    assert overall_verdict(True, "identical") == "identical"
    assert overall_verdict(None, "identical") == "identical"  # no gradients compared (`train`)
    gradients = "disagree from step 1 (epoch 1): the gradients of the first batch differ"
    assert overall_verdict(False, "identical") == gradients  # training agrees, gradients don't
    assert overall_verdict(True, "disagree from step 9 (epoch 1)") == \
        "disagree from step 9 (epoch 1)"
    diverged = "training diverged on both sides at epoch 1, step 3; try a learning rate below 1"
    assert overall_verdict(True, diverged) == diverged
    assert overall_verdict(False, diverged) == gradients  # a gradient bug is not settings


def test_twin_a_disagreeing_run_says_so_everywhere(outcome, tmp_path):
    results = json.loads(json.dumps(outcome.results))
    results["agree"] = results["training"]["agree"] = False
    results["verdict"] = results["training"]["verdict"] = "disagree from step 15 (epoch 2)"
    results["training"]["outcome"]["reason"] = "only handrolled's loss blew up"
    results["training"]["handrolled"]["diverged"] = {"epoch": 2, "step": 5, "value": None}
    summary = "\n".join(tables.training_summary(results["training"]))
    assert "blew up: handrolled loss became None at epoch 2, step 5" in summary
    rendered = markdown.render_markdown(results, [])
    assert "Verdict: disagree from step 15 (epoch 2)" in rendered
    assert "Why: only handrolled's loss blew up" in rendered
    write_report(tmp_path, results)
    assert 'class="disagree"' in (tmp_path / "report.html").read_text()


def test_runtime_table_has_the_ratio_row(outcome):
    table = tables.runtime_table(outcome.results["training"])
    assert "ratio handrolled/keras" in table and "steady epoch s" in table


def test_a_new_report_folder_is_never_reused(tmp_path, monkeypatch):
    import compare.report as report

    # Two runs in the same second start from the same name; the second gets -2.
    monkeypatch.setattr(report, "default_out_dir", lambda root: tmp_path / "stamp")
    monkeypatch.setattr(report, "render_files", lambda results: {"results.json": "{}"})
    first = write_report(tmp_path, {}, fresh=True)["results.json"].parent
    second = write_report(tmp_path, {}, fresh=True)["results.json"].parent
    assert (first.name, second.name) == ("stamp", "stamp-2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stamp", "stamp-2"]


def test_report_html_writes_every_text_as_text(outcome):
    """issue 27: every HTML page escapes what it shows (a network's or verdict's text)."""
    import copy

    from compare.report.html import render_html

    results = copy.deepcopy(outcome.results)
    results["training"]["network"] = "<script>alert(1)</script>"
    results["verdict"] = "<img src=x onerror=alert(2)>"
    html = render_html(results, {})
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
