"""--backend on sweep, bench and pitfalls, and the report across backends (report.md, .html).

The fast tests import no Keras: the options are parsed and refused before
Keras starts, and the report across backends is rendered from results built
here.  The whole runs on JAX are slow and run in a child process (Keras fixes
its backend at import; this process' Keras is TensorFlow's).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from compare import witnesses
from compare.report import backends as across_report
from handrolled.errors import SpecError

HAS = {name: importlib.util.find_spec(name) is not None for name in ("tensorflow", "jax", "torch")}


# ------------------------------------------------------------------ the option
@pytest.mark.parametrize("command", [("sweep",), ("bench",), ("pitfalls",)])
def test_one_backend_per_run(cli, command):
    code, out, err = cli(*command, "--backend", "tensorflow,jax")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--backend takes one backend for this command" in err


@pytest.mark.skipif(HAS["torch"], reason="torch is installed here")
@pytest.mark.parametrize("command", ["sweep", "bench", "pitfalls"])
def test_torch_not_installed_is_one_line(cli, command):
    code, out, err = cli(command, "--backend", "torch")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "the Keras backend 'torch' needs torch, which is not installed" in err


def test_bench_leaves_the_tf_function_out_on_another_backend():
    from compare.commands.bench import backend_impls

    assert backend_impls(None, "tensorflow") == ["handrolled", "keras_fit", "keras_compiled"]
    assert backend_impls(None, "jax") == ["handrolled", "keras_fit"]
    assert backend_impls("handrolled,keras_spe", "torch") == ["handrolled", "keras_spe"]
    # the twin: named on a backend that cannot run it, it is refused, not dropped
    with pytest.raises(SpecError, match="--impls keras_compiled runs on TensorFlow only"):
        backend_impls("keras_fit,keras_compiled", "jax")


def test_a_sweep_key_names_its_backend_and_tensorflows_keys_stay():
    """A sweep on JAX must not take a TensorFlow sweep's rows from the log, nor the other
    way round; the keys written before --backend (TensorFlow's) do not change."""
    from compare.sweep.plan import Configuration

    settings = dict(activation="relu", depth=1, seed=0, lr=0.1, units=8, epochs=1, batch=10,
                    dataset="mnist-sample", preprocess="scale", dtype="float64")
    tf_key = Configuration(**settings).key
    assert "backend" not in json.loads(tf_key)
    assert Configuration(**settings, backend="tensorflow").key == tf_key
    jax_key = Configuration(**settings, backend="jax").key
    assert jax_key != tf_key and json.loads(jax_key)["backend"] == "jax"


# ------------------------------------------------------------------ the report across backends
def across(offset_jax: float) -> tuple[dict, dict]:
    """Two backends' results (as their children write them) and the comparison of them:
    JAX's step losses moved by `offset_jax`."""
    def one(steps, agree):
        return {"agree": agree, "verdict": "AGREE" if agree else "DISAGREE from step 2",
                "training": {"verdict": "agree within round-off" if agree else
                             "disagree from step 2", "agree": agree, "max_step_loss_diff": 0.0,
                             "keras": {"step_loss": [steps]},
                             "roundoff": {"band": [1e-14] * len(steps)}}}
    steps = [2.0, 1.5, 1.2, 1.0]
    results = {"tensorflow": one(steps, True),
               "jax": one([s + offset_jax for s in steps], offset_jax < 1e-14)}
    return witnesses.compare_backends(results, {}), results


@pytest.mark.parametrize("offset", [0.0, 1e-9])
def test_report_md_and_html_hold_the_tables_across_backends(tmp_path, offset):
    """What the terminal shows after the children is in report.md and report.html too;
    the twin (offset 1e-9): JAX's difference shows there as DISAGREE and as JAX's."""
    result, results = across(offset)
    html = across_report.write_across_report(tmp_path, result, results,
                                             "nn-compare report --backend tensorflow,jax")
    md = (tmp_path / "report.md").read_text()
    page = html.read_text()
    verdict = "AGREE" if offset == 0 else "DISAGREE"
    assert md.startswith(f"# handrolled vs Keras across backends: {verdict}\n")
    assert f"verdict across backends (tensorflow, jax): {verdict}" in md
    assert "## Training across backends" in md and "[jax](jax/report.md)" in md
    assert f"- handrolled vs Keras on jax: {'AGREE' if offset == 0 else 'DISAGREE'}" in md
    (jax_row,) = [line for line in md.splitlines() if line.startswith("| handrolled vs jax")]
    assert jax_row.rstrip(" |").endswith("jax" if offset else "-")
    assert ("DISAGREE (beyond round-off)" in md) == bool(offset)
    assert '<a href="jax/report.html">jax</a>' in page and "<table>" in page
    assert f'<span class="{verdict.lower()}">{verdict}</span>' in page


def test_report_across_backends_never_writes_into_a_users_folder(tmp_path):
    (tmp_path / "tensorflow").mkdir()
    (tmp_path / "report.md").write_text("an earlier run's")
    across_report.check_across_out(tmp_path, ["tensorflow", "jax"])  # ours: accepted
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SpecError, match="holds notes.txt, which a comparison across backends"):
        across_report.check_across_out(tmp_path, ["tensorflow", "jax"])


def test_a_fresh_report_across_backends_gets_a_new_folder(tmp_path):
    first = across_report.claim_fresh(tmp_path)
    second = across_report.claim_fresh(tmp_path)
    assert first.is_dir() and second.is_dir() and first != second
    assert second.parent == first.parent == tmp_path


# ------------------------------------------------------------------ whole runs on JAX
def nn_compare(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "compare", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.slow
@pytest.mark.skipif(not HAS["jax"], reason="needs JAX")
def test_sweep_and_bench_run_on_jax(tmp_path):
    done = nn_compare("sweep", "--backend", "jax", "--activations", "relu", "--seeds", "1",
                      "--units", "8", "--epochs", "1", "--batch", "50", "--train-rows", "100",
                      "--quiet", "--no-plot", "--out", str(tmp_path / "sweep"))
    assert done.returncode == 0, done.stderr
    (row,) = json.loads((tmp_path / "sweep" / "sweep.json").read_text())["rows"]
    assert row["backend"] == "jax" and row["agree"]
    done = nn_compare("bench", "--backend", "jax", "--network", "8:relu", "--batch", "32",
                      "--rows", "64", "--dtype", "float32", "--repeats", "1", "--peak-size",
                      "64", "--quiet", "--json", str(tmp_path / "bench.json"))
    assert done.returncode == 0, done.stderr
    bench = json.loads((tmp_path / "bench.json").read_text())
    assert bench["environment"]["keras_backend"] == "jax"
    assert {row["impl"] for row in bench["rows"]} == {"handrolled", "keras_fit"}


@pytest.mark.slow
@pytest.mark.skipif(not (HAS["tensorflow"] and HAS["jax"]), reason="needs TensorFlow and JAX")
def test_report_across_backends_writes_its_tables(tmp_path):
    out = tmp_path / "r"
    done = nn_compare("report", "--backend", "tensorflow,jax", "--hidden", "dense(6,tanh)",
                      "--epochs", "1", "--train-rows", "64", "--quiet", "--out", str(out))
    assert done.returncode == 1, done.stderr  # tanh in float32 on JAX (keras_impl/narrowing.py)
    md = (out / "report.md").read_text()
    assert "## Gradients across backends" in md and "## Training across backends" in md
    assert (out / "tensorflow" / "report.html").exists() and (out / "jax" / "report.md").exists()
    gradient_rows = [line for line in md.splitlines() if line.startswith("| dense")]
    assert gradient_rows and all(line.rstrip(" |").endswith("jax") for line in gradient_rows)
    assert f"report across backends: {out / 'report.html'}" in done.stdout


def test_code_writes_the_backend_into_the_command_it_records():
    """The command a generated program names reproduces it on the same backend."""
    from compare.commands.code import short_command
    from compare.presets import PRESETS

    config = PRESETS["default"]
    assert short_command(config, "out") == "nn-compare code --out out"
    assert short_command(config, "out", "torch") == "nn-compare code --backend torch --out out"
