import json
import subprocess
import sys

import numpy as np
import pytest

from handrolled import activations


def test_gradients_command_agrees_and_writes_json(cli, tmp_path):
    out = tmp_path / "g.json"
    code, stdout, _ = cli("gradients", "--hidden", "30:relu,20:tanh", "--batch", "8",
                          "--json", str(out))
    assert code == 0
    assert "verdict: AGREE" in stdout
    assert "tolerance float64: handrolled vs keras rel <= 1e-12" in stdout
    data = json.loads(out.read_text())
    assert data["agree"] is True and data["dtype"] == "float64"
    assert [(row["layer"], row["param"]) for row in data["gradients"]] == [
        ("dense1", "kernel"), ("dense1", "bias"), ("dense2", "kernel"), ("dense2", "bias"),
        ("dense3", "kernel"), ("dense3", "bias")]
    for row in data["gradients"]:
        assert {"max_abs_diff", "max_rel_diff", "fd_max_rel_diff", "agree"} <= set(row)
        assert row["max_rel_diff"] <= 1e-12


def test_batch_comes_from_real_digits_by_default(cli, tmp_path):
    out = tmp_path / "g.json"
    code, stdout, _ = cli("gradients", "--hidden", "20:tanh", "--batch", "8", "--json", str(out))
    assert code == 0
    assert "8 rows of mnist-sample, seed 0" in stdout.splitlines()[0]
    assert json.loads(out.read_text())["data"] == "8 rows of mnist-sample"
    code, stdout, _ = cli("gradients", "--hidden", "20:tanh", "--batch", "8",
                          "--dataset", "synthetic")
    assert code == 0 and "a seeded synthetic batch of 8 rows" in stdout


def test_a_batch_larger_than_the_data_says_so(cli, tmp_path):
    from idx_files import write_idx_dir

    data = f"idx:{write_idx_dir(tmp_path / 'idx')}"  # 30 training rows
    out = tmp_path / "g.json"
    code, stdout, _ = cli("gradients", "--hidden", "4:tanh", "--dataset", data, "--batch", "50",
                          "--json", str(out))
    assert code == 0 and "30 rows of idx:" in stdout.splitlines()[0]
    note = f"a batch of 50 rows was asked for, but {data} has 30 training rows: all 30 are used."
    printed = stdout[stdout.rindex("note: "):]  # wrapped at 120 columns where it is longer
    assert printed.startswith("note: a batch of 50 rows was asked for, but idx:")
    assert printed.rstrip().endswith("all 30 are used.")
    assert json.loads(out.read_text())["notes"] == [note]
    code, stdout, _ = cli("gradients", "--hidden", "4:tanh", "--dataset", data, "--batch", "30")
    assert code == 0 and "note:" not in stdout  # exactly the rows there are: nothing to say


def test_unknown_dataset_lists_synthetic_too(cli):
    code, _, stderr = cli("gradients", "--dataset", "mnist-smaple")
    assert code == 2
    assert stderr.strip() == ("nn-compare: error: unknown dataset 'mnist-smaple' (did you mean "
                              "'mnist-sample'?); accepted: "
                              "mnist-sample, idx:DIR, cifar10:DIR, mnist, fashion-mnist, "
                              "spiky-2d or synthetic")


def test_float32_table_names_its_tolerance(cli):
    code, stdout, _ = cli("gradients", "--hidden", "30:sigmoid", "--dtype", "float32",
                          "--batch", "8")
    assert code == 0
    assert "tolerance float32: handrolled vs keras rel <= 0.001" in stdout


BROKEN_TANH = """
import numpy as np
from handrolled.activations import register_user_activation

def tanh_broken(z, xp):
    return xp.tanh(z)

def tanh_broken_derivative(z, a):
    return 1.0 - np.tanh(a) ** 2   # the learner's bug: fed the output a instead of z

register_user_activation("tanh_broken", tanh_broken, tanh_broken_derivative)
"""


@pytest.fixture
def broken_tanh(tmp_path):
    """A user activation file whose hand-written derivative is wrong."""
    from handrolled.activations import unregister_user_activation

    path = tmp_path / "broken.py"
    path.write_text(BROKEN_TANH)
    yield str(path)
    unregister_user_activation("tanh_broken")


@pytest.mark.slow  # a second TensorFlow, in the activation module's process
def test_wrong_derivative_makes_the_command_exit_1(cli, broken_tanh, tmp_path):
    out = tmp_path / "g.json"
    code, stdout, _ = cli("gradients", "--activation-module", broken_tanh,
                          "--hidden", "30:tanh_broken", "--batch", "8", "--json", str(out))
    assert code == 1
    assert "verdict: DISAGREE" in stdout
    rows = json.loads(out.read_text())["gradients"]
    assert [row["agree"] for row in rows] == [False, False, True, True]


def test_weights_file_in_book_layout(cli, tmp_path):
    from handrolled import NetworkSpec, init_weights, to_bias_row

    spec = NetworkSpec.from_text("30:sigmoid")
    w1, w2 = to_bias_row(init_weights(spec, "book"))
    path = tmp_path / "book.npz"
    np.savez(path, w1=w1, w2=w2)
    code, stdout, _ = cli("gradients", "--hidden", "30:sigmoid", "--weights", str(path),
                          "--batch", "4", "--no-fd")
    assert code == 0, stdout


@pytest.mark.parametrize("args, fragment", [
    (["--hidden", "100:sigmoidd"],
     "unknown activation 'sigmoidd' (did you mean 'sigmoid'?); accepted:"),
    (["--hidden", "100"], "malformed hidden layer '100'"),
    (["--hidden", "0:relu"], "positive integer"),
    (["--dtype", "float16"], "invalid choice: 'float16'"),
    (["--batch", "-3"], "must be at least 1"),
    (["--weights", "/nonexistent.npz"], "does not exist"),
])
def test_bad_input_is_one_line_exit_2(cli, args, fragment):
    code, stdout, stderr = cli("gradients", *args)
    assert code == 2
    assert fragment in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert "Traceback" not in stderr


def test_wrong_weight_shapes_exit_2(cli, tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, W1=np.zeros((100, 784)), b1=np.zeros(100), W2=np.zeros((100, 10)),
             b2=np.zeros(10))
    code, _, stderr = cli("gradients", "--weights", str(path))
    assert code == 2
    assert "W1 (dense1/kernel) has shape (100, 784); expected (784, 100)" in stderr


def test_nan_weights_exit_2(cli, tmp_path):
    path = tmp_path / "w.npz"
    W1 = np.zeros((784, 100))
    W1[3, 4] = np.inf
    np.savez(path, W1=W1, b1=np.zeros(100), W2=np.zeros((100, 10)), b2=np.zeros(10))
    code, _, stderr = cli("gradients", "--weights", str(path))
    assert code == 2 and "W1 (dense1/kernel) contains NaN or inf" in stderr


def test_console_script_bad_input_has_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "compare", "gradients", "--hidden", "10:foo"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("nn-compare: error: unknown activation 'foo'; accepted: "
                                   + ", ".join(activations.names()))
