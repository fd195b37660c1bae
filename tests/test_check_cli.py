"""`nn-compare check`: exit codes, JSON keys, unusable targets, and assert_matches_keras."""

import json
from pathlib import Path

import pytest

from compare.check import TargetError
from compare.testing import assert_matches_keras

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "examples" / "book_network.py"
RELU_BUG = ROOT / "examples" / "book_network_relu_bug.py"


def test_correct_example_exits_0(cli):
    code, out, err = cli("check", str(BOOK))
    assert code == 0, out + err
    assert "verdict: AGREE" in out and "Activation statistics" in out


def test_relu_bug_exits_1_and_writes_the_json_keys(cli, tmp_path):
    path = tmp_path / "out" / "check.json"
    code, out, _ = cli("check", str(RELU_BUG), "--json", str(path))
    assert code == 1
    assert "verdict: DISAGREE" in out
    assert "layer 1: derivative_of_output" in out and "behaves as a linear layer" in out
    data = json.loads(path.read_text())
    assert data["agree"] is False
    assert data["first_mismatch"] == {"layer": 1, "param": "W"}
    assert data["forward_agrees"] is True
    assert data["diagnosis"][0] == {"layer": 1, "bug": "derivative_of_output",
                                    "label": "derivative_of_output (layer 1)",
                                    "message": data["diagnosis"][0]["message"]}
    assert [(row["layer"], row["param"]) for row in data["layers"]] == [
        (1, "W"), (1, "b"), (2, "W"), (2, "b")]
    for row in data["layers"]:
        assert {"shape", "max_abs_diff", "max_rel_diff", "fd_max_rel_diff", "agree"} <= set(row)
    (stats,) = data["activation_stats"]
    assert stats["layer"] == 1 and stats["behaves_linear"] is True
    assert {"zero_preactivations", "dead_units", "saturated", "derivative_zero",
            "derivative_one"} <= set(stats)


def test_agreeing_json_has_null_mismatch(cli, tmp_path):
    path = tmp_path / "check.json"
    assert cli("check", str(BOOK), "--json", str(path), "--no-fd")[0] == 0
    data = json.loads(path.read_text())
    assert data["agree"] is True and data["first_mismatch"] is None
    assert data["diagnosis"] == []


# ---------------------------------------------------------------- unusable targets

TEMPLATE = '''import numpy as np
INPUTS = 4
LAYERS = [(3, "tanh"), (2, "softmax")]
LAYOUT = "separate"

def gradients(X, Y, weights):
    W1, b1, W2, b2 = weights
    a = np.tanh(X @ W1 + b1)
    s = a @ W2 + b2
    p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    d2 = (p - Y) / len(X)
    d1 = (d2 @ W2.T) * (1 - a ** 2)
    return [X.T @ d1, d1.sum(0), a.T @ d2, d2.sum(0)]
'''


def write(tmp_path, replacements=(), extra=""):
    text = TEMPLATE
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "target.py"
    path.write_text(text + extra)
    return path


def test_template_itself_is_usable(cli, tmp_path):
    code, out, err = cli("check", str(write(tmp_path)), "--dataset", "synthetic")
    assert code == 0, out + err


@pytest.mark.parametrize("replacements, fragment", [
    ([('LAYOUT = "separate"\n', "")], "does not define LAYOUT"),
    ([("def gradients(", "def gradient(")], "does not define gradients"),
    ([('"tanh"', '"tanhh"')],
     "unknown activation 'tanhh' (did you mean 'tanh'?); accepted:"),
    ([('(2, "softmax")', '(2, "sigmoid")')], "the last layer is 'sigmoid' and LOSS is not declared"),
    ([('LAYERS = [(3, "tanh")', 'LAYERS = [(3, "softmax")')], "softmax is only accepted as"),
    ([('"separate"', '"rows"')], "LAYOUT is 'rows'; accepted:"),
    ([("INPUTS = 4", "INPUTS = '4'")], "INPUTS is '4'; expected a positive integer"),
    ([("return [X.T @ d1, d1.sum(0), a.T @ d2, d2.sum(0)]",
       "return [X.T @ d1, a.T @ d2, d2.sum(0)]")],
     "gradients returned 3 arrays; expected 4 (W1, b1, W2, b2)"),
    ([("X.T @ d1,", "d1.T @ X,")],
     "gradient 1 of 4, W1 (layer 1 weights), has shape (3, 4); expected (4, 3) (transposed"),
    ([("d1.sum(0),", "d1.sum(0, keepdims=True),")],
     "gradient 2 of 4, b1 (layer 1 biases), has shape (1, 3); expected (3,)"),
    ([("d2.sum(0)]", "d2.sum(0) * np.nan]")],
     "gradient 4 of 4, b2 (layer 2 biases), contains NaN (2 of 2 values)"),
    ([("return [X.T @ d1, d1.sum(0), a.T @ d2, d2.sum(0)]",
       "return {'W1': X.T @ d1}")], "gradients returned a dict; expected a list of 4 arrays"),
])
def test_unusable_target_is_one_line_exit_2(cli, tmp_path, replacements, fragment):
    json_path = tmp_path / "never.json"
    code, out, err = cli("check", str(write(tmp_path, replacements)), "--dataset",
                         "synthetic", "--json", str(json_path))
    assert code == 2
    assert fragment in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not json_path.exists()


def test_float32_gradients_are_judged_by_the_float32_tolerance(cli, tmp_path):
    cast = "return [g.astype(np.float32) for g in [X.T @ d1, d1.sum(0), a.T @ d2, d2.sum(0)]]"
    path = write(tmp_path, [("return [X.T @ d1, d1.sum(0), a.T @ d2, d2.sum(0)]", cast)])
    code, out, _ = cli("check", str(path), "--dataset", "synthetic")
    assert code == 0 and "your gradients are in float32" in out
    assert "tolerance float32" in out


def test_missing_file_exit_2(cli, tmp_path):
    code, _, err = cli("check", str(tmp_path / "nope.py"))
    assert code == 2 and "does not exist" in err


@pytest.mark.parametrize("replacements, extra, user_line, last", [
    ([], "\nimport a_module_nobody_has\n", "import a_module_nobody_has",
     "failed to import: it raised ModuleNotFoundError"),
    ([], "\ndef broken(:\n", "def broken(:", "failed to import: it raised SyntaxError"),
    ([("d1 = (d2 @ W2.T)", "d1 = (d2 @ W2)")], "", "d1 = (d2 @ W2) * (1 - a ** 2)",
     "gradients() in target.py raised ValueError"),
])
def test_users_own_traceback_then_exit_2(cli, tmp_path, replacements, extra, user_line, last):
    code, _, err = cli("check", str(write(tmp_path, replacements, extra)), "--dataset",
                       "synthetic")
    assert code == 2
    assert "target.py" in err and user_line in err
    assert "compare/check" not in err  # their frames, not ours
    assert last in err.strip().splitlines()[-1]


def test_forward_returning_the_books_tuple_exit_2(cli, tmp_path):
    extra = "\ndef forward(X, weights):\n    return (X, X)\n"
    code, _, err = cli("check", str(write(tmp_path, extra=extra)), "--dataset", "synthetic")
    assert code == 2 and "forward returned a tuple of 2" in err


def test_activation_without_a_keras_twin_exit_2(cli, tmp_path, monkeypatch):
    from handrolled import activations as acts
    from handrolled.activations import core  # register here only, and forget it afterwards
    monkeypatch.setattr(core, "_REGISTRY", dict(core._REGISTRY))

    @acts.register("tanh_mine")
    class Mine(acts.Activation):
        def value(self, z):
            return np.tanh(z)

        def derivative(self, z, a):
            return 1 - a * a

    code, _, err = cli("check", str(write(tmp_path, [('"tanh"', '"tanh_mine"')])),
                       "--dataset", "synthetic")
    assert code == 2 and "activation 'tanh_mine' has no Keras twin" in err


def test_activation_registered_inside_the_target_is_named_as_such(cli, tmp_path):
    extra = ("\nfrom handrolled import activations as acts\n"
             "@acts.register('tanh_theirs')\nclass Mine(acts.Activation):\n"
             "    def value(self, z): return np.tanh(z)\n"
             "    def derivative(self, z, a): return 1 - a * a\n")
    code, _, err = cli("check", str(write(tmp_path, [('"tanh"', '"tanh_theirs"')], extra)),
                       "--dataset", "synthetic")
    assert code == 2 and "unknown activation 'tanh_theirs'" in err
    assert "registered inside the target file is not seen" in err and "--activation-module" in err


# ---------------------------------------------------------------- the pytest helper

def test_assert_matches_keras_passes_on_a_correct_network():
    assert assert_matches_keras(BOOK, finite_differences=False).agree


def test_assert_matches_keras_fails_with_table_and_diagnosis():
    with pytest.raises(AssertionError) as failure:
        assert_matches_keras(RELU_BUG, finite_differences=False)
    text = str(failure.value)
    assert "max rel diff" in text and "layer 1: derivative_of_output" in text
    assert "behaves as a linear layer" in text and "verdict: DISAGREE" in text


def test_assert_matches_keras_on_an_unusable_target_raises_target_error(tmp_path):
    with pytest.raises(TargetError, match="does not define gradients"):
        assert_matches_keras(write(tmp_path, [("def gradients(", "def grads(")]))
