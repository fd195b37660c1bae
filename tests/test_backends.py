"""Choosing Keras' backend (keras_impl/backends) and comparing backends (compare/witnesses.py).

The fast tests import no Keras; the whole three-way run (one child process per
backend) is marked slow and needs TensorFlow and JAX both installed.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from compare import witnesses
from handrolled.errors import SpecError
from keras_impl import backends

HAS = {name: importlib.util.find_spec(name) is not None for name in ("tensorflow", "jax", "torch")}


# ------------------------------------------------------------------ the registry
def test_names_and_aliases():
    assert backends.names() == ["tensorflow", "jax", "torch"]
    assert backends.parse("tf,JAX, pytorch") == ["tensorflow", "jax", "torch"]
    assert backends.lookup("TensorFlow").package == "tensorflow"


@pytest.mark.parametrize("text, message", [
    ("mxnet", "unknown Keras backend 'mxnet'; accepted: tensorflow, jax, torch"),
    ("jax,tf,jax", "--backend names jax twice"),
    ("", "unknown Keras backend ''"),
])
def test_bad_backend_names_are_one_line(text, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        backends.parse(text)


def test_chosen_reads_keras_backend(monkeypatch):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    first = next(name for name in ("tensorflow", "jax", "torch") if HAS[name])
    assert backends.chosen() == first  # the first installed: jax where TensorFlow is not
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert backends.chosen() == "jax"
    monkeypatch.setenv("KERAS_BACKEND", "theano")
    with pytest.raises(SpecError, match="unknown Keras backend 'theano'"):
        backends.chosen()


@pytest.mark.skipif(HAS["torch"], reason="torch is installed here")
def test_torch_not_installed_says_how_to_install_it(cli):
    code, out, err = cli("gradients", "--backend", "torch")
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert "the Keras backend 'torch' needs torch, which is not installed; install it with: " \
           'pip install -e ".[torch]"' in err


def test_a_single_backend_command_refuses_several(cli, tmp_path):
    target = tmp_path / "net.py"
    target.write_text("x = 1\n")
    code, _, err = cli("check", str(target), "--backend", "tensorflow,jax")
    assert code == 2 and "--backend takes one backend for this command" in err


# ------------------------------------------------------------------ the children's argv
def test_child_argv_replaces_the_parent_own_options():
    argv = ["report", "--backend=tensorflow,jax", "--json", "all.json", "--preset", "book",
            "--out", "r"]
    assert witnesses.child_argv(argv, "jax", "j.json", "a.npz", "r/jax") == [
        "report", "--preset", "book", "--backend", "jax", "--json", "j.json",
        "--keras-arrays", "a.npz", "--out", "r/jax"]


# ------------------------------------------------------------------ whose difference
def cells(**agree):
    return {name: {"max_rel_diff": 0.0 if ok else 1.0, "agree": ok} for name, ok in agree.items()}


def test_a_difference_against_one_backend_only_is_that_backends():
    hand = cells(tensorflow=False, jax=True)
    pair = {"tensorflow vs jax": {"max_rel_diff": 1.0, "agree": False}}
    assert witnesses.whose(hand, pair) == "tensorflow"


def test_a_difference_against_every_backend_is_the_hand_written_sides():
    hand = cells(tensorflow=False, jax=False)
    pair = {"tensorflow vs jax": {"max_rel_diff": 0.0, "agree": True}}
    assert witnesses.whose(hand, pair) == "handrolled"


def test_no_difference_is_nobodys_and_a_muddle_is_unclear():
    pair_ok = {"tensorflow vs jax": {"max_rel_diff": 0.0, "agree": True}}
    assert witnesses.whose(cells(tensorflow=True, jax=True), pair_ok) == ""
    # one backend off the hand-written side, yet agreeing with the other: not its own
    assert witnesses.whose(cells(tensorflow=False, jax=True), pair_ok) == "unclear"


def gradient_results(rel_tf, rel_jax):
    def one(rel):
        row = {"layer": "dense1", "param": "kernel", "shape": [2, 2], "max_rel_diff": rel,
               "limit": 1e-12, "agree": rel <= 1e-12}
        return {"agree": rel <= 1e-12, "gradients": [row]}
    return {"tensorflow": one(rel_tf), "jax": one(rel_jax)}


def test_the_backends_are_compared_array_by_array():
    g = np.array([[1.0, -2.0], [3.0, 0.5]])
    arrays = {"tensorflow": {"floor": np.float64(0), "gradients/dense1/kernel": g},
              "jax": {"floor": np.float64(0), "gradients/dense1/kernel": g * (1 + 4e-16)}}
    across = witnesses.compare_backends(gradient_results(1e-15, 1e-15), arrays)
    row = across["gradients"][0]
    assert across["agree"] and row["whose"] == ""
    assert 0 < row["pairs"]["tensorflow vs jax"]["max_rel_diff"] <= 1e-15
    # the twin: one backend's gradient off by 1e-9, seen against it alone
    arrays["tensorflow"]["gradients/dense1/kernel"] = g * (1 + 1e-9)
    across = witnesses.compare_backends(gradient_results(1e-9, 1e-15), arrays)
    assert not across["agree"] and across["gradients"][0]["whose"] == "tensorflow"
    text = witnesses.across_text(across)
    (row,) = [line for line in text.splitlines() if line.startswith("dense1/kernel")]
    assert row.rstrip().endswith("tensorflow") and max(map(len, text.splitlines())) <= 120


def training_results(offset_jax):
    def one(keras_steps, agree=True):
        return {"agree": agree, "training": {
            "verdict": "agree within round-off" if agree else "disagree from step 2",
            "agree": agree, "max_step_loss_diff": 0.0,
            "keras": {"step_loss": [keras_steps[:2], keras_steps[2:]]},
            "roundoff": {"band": [1e-14] * 4}}}
    steps = [2.0, 1.5, 1.2, 1.0]
    return {"tensorflow": one(steps), "jax": one([s + offset_jax for s in steps],
                                                 agree=offset_jax < 1e-14)}


@pytest.mark.parametrize("offset, verdict", [(0.0, "identical"),
                                             (3e-15, "agree within round-off"),
                                             (1e-9, "differ beyond round-off")])
def test_training_pairs_are_judged_by_the_roundoff_band(offset, verdict):
    across = witnesses.compare_backends(training_results(offset), {})
    pair = across["training"]["pairs"][0]
    assert pair["verdict"] == verdict and pair["agree"] == (offset < 1e-14)
    if offset >= 1e-14:
        assert across["training"]["handrolled"]["jax"]["whose"] == "jax"


def test_the_training_table_prints_verdicts_as_the_console_does():
    text = witnesses.across_text(witnesses.compare_backends(training_results(1e-9), {}))
    assert "DISAGREE (beyond round-off)" in text and "AGREE (within round-off)" in text
    assert "differ beyond round-off" not in text and "agree within round-off" not in text


def test_a_childs_wrapped_report_line_is_kept_whole():
    stdout = ("Runtime\nreport: 784-100 sigmoid-10, mnist-sample: 4000 train, scale,\n"
              "  float64, lr 1, batch 32\n\nverdict: AGREE (identical)\n  the note\ntable\n"
              "  not a continuation\n")
    assert witnesses.summary_lines(stdout).splitlines() == [
        "report: 784-100 sigmoid-10, mnist-sample: 4000 train, scale,",
        "  float64, lr 1, batch 32", "verdict: AGREE (identical)", "  the note"]


# ------------------------------------------------------------------ the whole run
@pytest.mark.slow
@pytest.mark.skipif(not (HAS["tensorflow"] and HAS["jax"]), reason="needs TensorFlow and JAX")
def test_three_way_gradients_name_the_backend_that_differs(cli, tmp_path):
    """A float64 tanh network: Keras on JAX computes tanh in float32 (keras_impl/narrowing.py),
    TensorFlow in float64.  The hand-written side agrees with TensorFlow and not with JAX,
    and the backends disagree with each other: every row's difference is JAX's."""
    out = tmp_path / "across.json"
    code, stdout, _ = cli("gradients", "--backend", "tensorflow,jax", "--hidden", "dense(6,tanh)",
                          "--dataset", "synthetic", "--batch", "4", "--no-fd",
                          "--json", str(out))
    assert code == 1, stdout
    header = [line.split() for line in stdout.splitlines() if line.startswith("parameter")]
    assert header and header[0][2:5] == ["handrolled", "vs", "handrolled"]  # two-line headers
    assert "tensorflow vs" in stdout and "note: Keras on jax computes tanh in float32" in stdout
    saved = json.loads(out.read_text())
    assert set(saved["backends"]) == {"tensorflow", "jax"}
    assert saved["backends"]["jax"]["backend"] == "jax"
    rows = saved["across"]["gradients"]
    assert all(row["handrolled"]["tensorflow"]["agree"] for row in rows)
    assert all(row["whose"] == "jax" for row in rows)


@pytest.mark.skipif(backends.chosen() != "tensorflow" or not HAS["tensorflow"],
                    reason="TensorFlow's conventions")
def test_tensorflow_keeps_float64_and_rounds_hyper_parameters_through_float32():
    """The conventions that differ on JAX (tests/test_backend_agreement.py), on TensorFlow."""
    from compare.activation_check import elementwise_examples
    from handrolled import optimizers
    from keras_impl.narrowing import narrowed_activations, narrows
    from keras_impl import installed_conventions

    assert not narrows("float64")
    assert narrowed_activations(elementwise_examples()) == []
    assert installed_conventions().hyperparameters_via_float32
    assert installed_conventions().cast(0.9, "float64") == optimizers.via_float32(0.9, "float64")
