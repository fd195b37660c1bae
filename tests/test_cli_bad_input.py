"""Bad input to every `nn-compare` command: one line on stderr saying what is wrong and
what is accepted, exit 2, no traceback (the user's own traceback first where their code
raised), nothing written; Ctrl-C: one line, exit 130.

Each case here was a bug found by trying the command line as a new user would.
"""

from __future__ import annotations

import pickle
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from idx_files import write_idx_dir

from handrolled import SpecError, activations

ROOT = Path(__file__).resolve().parents[1]
TARGET = str(ROOT / "tests" / "targets" / "correct_small_inputs.py")


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory):
    return write_idx_dir(tmp_path_factory.mktemp("idx"))  # 30 train / 10 test, 12 inputs


def one_line(err: str) -> str:
    """The single line on stderr (fails if there is more, or a traceback)."""
    assert "Traceback" not in err, err
    assert err.count("\n") == 1, err
    return err.strip()


def tiny_data(idx_dir) -> list[str]:
    return ["--dataset", f"idx:{idx_dir}", "--hidden", "3:relu", "--epochs", "1",
            "--batch", "8", "--quiet"]


# ------------------------------------------------------------ --weights files

def save_weights(path: Path, **overrides) -> str:
    """Weights of a 784-3 relu-10 network, some replaced."""
    rng = np.random.default_rng(0)
    arrays = {"W1": rng.normal(size=(784, 3)), "b1": np.zeros(3),
              "W2": rng.normal(size=(3, 10)), "b2": np.zeros(10), **overrides}
    np.savez(path, **arrays)
    return str(path)


def weights_cases(tmp_path: Path) -> dict[str, str]:
    good = Path(save_weights(tmp_path / "good.npz"))
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[:300])  # an interrupted copy
    np.save(tmp_path / "one.npy", np.zeros((784, 3)))
    (tmp_path / "notes.npz").write_text("W1 = ...\n")
    return {
        "truncated": str(tmp_path / "cut.npz"),
        "npy": str(tmp_path / "one.npy"),
        "text": str(tmp_path / "notes.npz"),
        "objects": save_weights(tmp_path / "obj.npz", W1=np.array([None, 1], dtype=object)),
        "complex": save_weights(tmp_path / "c.npz", W1=np.ones((784, 3)) * (1 + 1j)),
        "strings": save_weights(tmp_path / "s.npz", W1=np.full((784, 3), "a")),
        "float32 overflow": save_weights(tmp_path / "big.npz", W1=np.full((784, 3), 1e39)),
        "unclosed header": unclosed_header(good, tmp_path / "open.npz"),
    }


def unclosed_header(good: Path, path: Path) -> str:
    """`good` with W1.npy's header cut open: numpy's tokenizer raised TokenError."""
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "W1.npy":
                size = int.from_bytes(data[8:10], "little")
                header = "{'descr': '<f8', 'shape': (".ljust(size - 1) + "\n"
                data = data[:10] + header.encode() + data[10 + size:]
            target.writestr(info, data)
    return str(path)


@pytest.mark.parametrize("case, message", [
    ("truncated", "is a damaged or unsupported .npz (BadZipFile"),
    ("npy", "is an .npy holding one unnamed array; expected an .npz"),
    ("text", "is not an .npz archive; expected an .npz"),
    ("objects", "it holds Python objects"),
    ("complex", "weight W1 (dense1/kernel) has dtype complex128; expected real numbers"),
    ("strings", "weight W1 (dense1/kernel) has dtype <U1; expected real numbers"),
    ("float32 overflow", "beyond the range of float32"),
    ("unclosed header", "is a damaged or unsupported .npz (TokenError"),
])
def test_unusable_weights_file_is_one_line(cli, tmp_path, case, message):
    path = weights_cases(tmp_path)[case]
    code, out, err = cli("gradients", "--hidden", "3:relu", "--no-fd", "--dtype", "float32",
                         "--weights", path, "--json", str(tmp_path / "r.json"))
    assert code == 2 and message in one_line(err)
    assert not (tmp_path / "r.json").exists()


def test_good_weights_file_still_loads(cli, tmp_path):  # the twin: the checks are not blanket
    code, out, err = cli("gradients", "--hidden", "3:relu", "--no-fd", "--dtype", "float32",
                         "--weights", save_weights(tmp_path / "w.npz"))
    assert code == 0, err


# ------------------------------------------------------------ --json / --out, checked first

def command_args(command: str, idx_dir) -> list[str]:
    return {
        "gradients": ["gradients", "--hidden", "3:relu", "--no-fd"],
        "train": ["train", *tiny_data(idx_dir)],
        "report": ["report", *tiny_data(idx_dir)],
        "activations": ["activations", "relu"],
        "check": ["check", TARGET, "--dataset", "synthetic", "--no-fd"],
        "bench": ["bench", "--hidden", "3:relu", "--batch", "8", "--rows", "16",
                  "--impls", "handrolled", "--repeats", "1", "--peak-size", "8", "--quiet"],
        "sweep": ["sweep", "--activations", "relu", "--seeds", "1", "--units", "3",
                  "--epochs", "1", "--batch", "8", "--dataset", f"idx:{idx_dir}", "--quiet",
                  "--no-plot"],
    }[command]


JSON_COMMANDS = ["gradients", "train", "report", "activations", "check", "bench"]
OUT_COMMANDS = ["train", "report", "sweep"]


@pytest.mark.parametrize("target, message", [
    ("a directory", "is a directory; expected a file path"),
    ("under a file", "is a file, not a directory"),
    ("empty", "--json needs a file path"),
    ("unwritable", "is not writable"),
])
@pytest.mark.parametrize("command", JSON_COMMANDS)
def test_bad_json_path_fails_before_the_run(cli, idx_dir, tmp_path, monkeypatch, command,
                                            target, message):
    (tmp_path / "file").write_text("mine\n")
    path = {"a directory": tmp_path, "under a file": tmp_path / "file" / "r.json",
            "empty": "", "unwritable": tmp_path / "r.json"}[target]
    if target == "unwritable":  # the tests may run as root, who may write anywhere
        monkeypatch.setattr("compare.output.os.access", lambda *args: False)
    before = sorted(tmp_path.rglob("*"))
    code, out, err = cli(*command_args(command, idx_dir), "--json", str(path))
    assert code == 2 and message in one_line(err)
    assert out == ""  # nothing ran: a long run is not lost to a typo in a path
    assert sorted(tmp_path.rglob("*")) == before and (tmp_path / "file").read_text() == "mine\n"


@pytest.mark.parametrize("target, message", [
    ("a file", "is a file; expected a directory"),
    ("under a file", "is a file, not a directory"),
    ("empty", "--out needs a directory path"),
    ("unwritable", "is not writable"),
    ("in /proc", "cannot create anything in /proc"),   # root may write anywhere but there
])
@pytest.mark.parametrize("command", OUT_COMMANDS)
def test_bad_out_directory_fails_before_the_run(cli, idx_dir, tmp_path, monkeypatch, command,
                                                target, message):
    (tmp_path / "file").write_text("mine\n")
    path = {"a file": tmp_path / "file", "under a file": tmp_path / "file" / "sub",
            "empty": "", "unwritable": tmp_path / "new", "in /proc": "/proc/rep"}[target]
    if target == "unwritable":
        monkeypatch.setattr("compare.output.os.access", lambda *args: False)
    before = sorted(tmp_path.rglob("*"))
    code, out, err = cli(*command_args(command, idx_dir), "--out", str(path))
    assert code == 2 and message in one_line(err)
    assert out == ""
    assert sorted(tmp_path.rglob("*")) == before and (tmp_path / "file").read_text() == "mine\n"


@pytest.mark.slow
def test_good_paths_pass_the_early_check(cli, idx_dir, tmp_path):  # the twin
    out_dir, json_path = tmp_path / "new" / "report", tmp_path / "deeper" / "r.json"
    code, out, err = cli("train", *tiny_data(idx_dir), "--out", str(out_dir),
                         "--json", str(json_path))
    assert code == 0, err
    assert (out_dir / "results.json").exists() and json_path.exists()


def test_sweep_log_that_is_a_directory_is_one_line(cli, idx_dir, tmp_path):
    (tmp_path / "sweep.jsonl").mkdir()
    code, out, err = cli(*command_args("sweep", idx_dir), "--out", str(tmp_path))
    assert code == 2 and "sweep.jsonl is not a file" in one_line(err)


# ------------------------------------------------------------ options argparse let through

@pytest.mark.parametrize("command", ["gradients", "train", "check", "bench"])
def test_seed_beyond_numpys_legacy_seeding_is_refused(cli, command, idx_dir):
    # Keras' set_random_seed passes it to np.random.seed, which stops at 2**32 - 1
    args = command_args(command, idx_dir)
    code, out, err = cli(*args, "--seed", str(2**32))
    assert code == 2 and "must be at most 4294967295" in one_line(err)


def test_largest_seed_is_accepted(cli, idx_dir):  # the twin: the boundary itself runs
    code, out, err = cli("train", *tiny_data(idx_dir), "--seed", str(2**32 - 1))
    assert code == 0, err


def test_a_value_starting_with_a_dash_gets_a_hint(cli):
    code, out, err = cli("gradients", "--hidden", "-3:relu")
    assert code == 2 and "write OPTION=VALUE" in one_line(err)
    code, out, err = cli("gradients", "--hidden=-3:relu")  # what the hint says to do
    assert code == 2 and "layer size must be a positive integer, got -3" in one_line(err)


@pytest.mark.parametrize("command", ["gradients", "train"])
def test_dropout_rate_zero_runs(cli, idx_dir, command):
    # dropout(0) is accepted ([0, 1)); Keras' Dropout(0) makes no seed generator,
    # and reading its masks gave an AttributeError traceback
    args = tiny_data(idx_dir)[:2] + ["--network", "3:relu,dropout(0)", "--batch", "8"]
    if command == "train":
        args += ["--epochs", "1", "--quiet"]
    code, out, err = cli(command, *args)
    assert code == 0 and "Traceback" not in err, err


@pytest.mark.parametrize("args, message", [
    (["--hidden", "3:relu", "--batch", "8", "--lr", "inf"], "--lr must be positive and finite"),
    (["--hidden", "3:relu", "--batch", "8", "--lr", "nan"], "--lr must be positive and finite"),
    (["--config", "3:relu@8,16"], "has 2 batch sizes; give one per --config"),
])
def test_bench_options(cli, tmp_path, args, message):
    code, out, err = cli("bench", "--rows", "16", "--quiet", *args,
                         "--json", str(tmp_path / "b.json"))
    assert code == 2 and message in one_line(err)
    assert not (tmp_path / "b.json").exists()


def test_bench_hidden_empty_is_a_network_without_hidden_layers():
    from compare.cli import build_parser
    from compare.commands.bench import configs_from_args

    args = build_parser().parse_args(["bench", "--hidden", "", "--batch", "8", "--rows", "16",
                                      "--dtype", "float32"])
    assert [(c.hidden, c.batch) for c in configs_from_args(args)] == [("", 8)]
    args = build_parser().parse_args(["bench", "--config", "3:relu@8", "--rows", "16"])
    assert [(c.hidden, c.batch) for c in configs_from_args(args)][0] == ("3:relu", 8)


@pytest.mark.parametrize("lr, message", [
    ("0.5,0.1", "gives the rate for all activations twice"),
    ("relu=0.5,relu=0.1", "gives the rate of relu twice"),
])
def test_sweep_lr_given_twice(cli, idx_dir, tmp_path, lr, message):
    code, out, err = cli(*command_args("sweep", idx_dir), "--lr", lr,
                         "--out", str(tmp_path / "never"))
    assert code == 2 and message in one_line(err)
    assert not (tmp_path / "never").exists()


def test_sweep_train_rows_beyond_the_data_is_one_line(cli, idx_dir, tmp_path):
    code, out, err = cli(*command_args("sweep", idx_dir), "--train-rows", "500",
                         "--out", str(tmp_path / "s"))
    assert code == 2 and out == ""
    assert one_line(err) == ("nn-compare: error: --train-rows 500 is more than the 30 "
                             "training rows of idx:" + str(idx_dir) + "; accepted: 1 to 30")
    assert not (tmp_path / "s").exists()
    code, _, err = cli(*command_args("sweep", idx_dir), "--train-rows", "20",  # the twin
                       "--out", str(tmp_path / "s"))
    assert code == 0, err


def test_sweep_lr_parsing_still_takes_one_of_each():  # the twin
    from compare.sweep.plan import parse_lr

    assert parse_lr("0.5,relu=0.1", ["relu", "abs"]) == {"relu": 0.1, "abs": 0.5}


@pytest.mark.parametrize("address, message", [
    ("nonsense", "missing port number"),
    ("", "missing port number"),
    ("http://host:8786", "unknown address scheme 'http'"),
    ("tcp://host:99999", "port 99999 is not 1..65535"),
])
def test_malformed_scheduler_address_is_one_line_at_once(cli, idx_dir, tmp_path, address,
                                                         message):
    # a malformed address used to leave a half-made Dask Client whose __del__ hung 10 s
    # and printed a traceback at exit; now it never gets that far
    code, out, err = cli(*command_args("sweep", idx_dir), "--scheduler", address,
                         "--out", str(tmp_path / "never"))
    assert code == 2 and message in one_line(err) and "expected tcp://HOST:PORT" in err
    assert not (tmp_path / "never").exists()


# ------------------------------------------------------------ --activation-module, user code

def write_module(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text("import numpy as np\nfrom handrolled.activations import "
                    "register_user_activation\n" + body)
    return str(path)


@pytest.mark.parametrize("case", ["an .npz", "a directory"])
def test_activation_module_that_is_not_a_python_file(cli, tmp_path, case):
    # an .npz used to crash inside importlib (no loader for it); a directory was "missing"
    np.savez(tmp_path / "w.npz", a=np.zeros(1))
    path = tmp_path / "w.npz" if case == "an .npz" else tmp_path
    code, out, err = cli("activations", "--activation-module", str(path))
    assert code == 2 and f"activation module {path} is not a .py file" in one_line(err)


RAISES_ON_BATCH = """
def late(z, xp):
    if z.shape != (3, 4):  # passes the registration probe, fails on the real batch
        raise RuntimeError("late failure in my code")
    return z
register_user_activation("late", late, lambda z, a: np.ones_like(z))
"""
RAISES_UNDER_KERAS = """
def numpy_only(z, xp):
    if xp is not np:
        raise TypeError("this one only knows numpy")
    return z
register_user_activation("numpy_only", numpy_only, lambda z, a: np.ones_like(z))
"""


@pytest.mark.parametrize("name, body, last", [
    ("late", RAISES_ON_BATCH,
     "user activation 'late': its function raised RuntimeError: late failure in my code"),
    pytest.param("numpy_only", RAISES_UNDER_KERAS, "user activation 'numpy_only': its function "
                 "(given keras.ops) raised TypeError: this one only knows numpy",
                 marks=pytest.mark.slow),  # a second TensorFlow, in the module's process
])
def test_user_activation_raising_later_shows_their_traceback_then_one_line(
        cli, clean_registry, tmp_path, name, body, last):
    module = write_module(tmp_path, f"mod_{name}", body)
    code, out, err = cli("gradients", "--activation-module", module, "--hidden", f"3:{name}",
                         "--batch", "4", "--no-fd")
    assert code == 2
    assert "Traceback" in err and f"mod_{name}.py" in err  # their frames
    assert err.strip().splitlines()[-1] == f"nn-compare: error: {last}"


GRAPH_ONLY_FAILURE = """
def eager_only(z, xp):
    if xp is not np and z.shape[0] != 3:  # passes the (3, 4) probe, fails inside fit
        raise TypeError("not on a batch")
    return z
register_user_activation("eager_only", eager_only, lambda z, a: np.ones_like(z))
"""


@pytest.mark.slow  # a second TensorFlow, in the activation module's process
def test_user_activation_failing_inside_fit_keeps_their_traceback(cli, clean_registry,
                                                                  tmp_path, idx_dir):
    # Keras re-raises errors in a layer's call as a new exception with its arguments
    # appended: the user's traceback was lost and the message had ANSI codes and 5 lines
    module = write_module(tmp_path, "mod_eager", GRAPH_ONLY_FAILURE)
    args = [a if a != "3:relu" else "3:eager_only" for a in tiny_data(idx_dir)]
    code, out, err = cli("train", "--activation-module", module, *args)
    assert code == 2
    assert "Traceback" in err and "mod_eager.py" in err and "\x1b[" not in err
    assert err.strip().splitlines()[-1].startswith(
        "nn-compare: error: user activation 'eager_only': its function (given keras.ops) "
        "raised TypeError")


@pytest.mark.slow  # a second TensorFlow, in the activation module's process
def test_user_activation_written_with_numpy_under_keras_is_one_line(cli, clean_registry,
                                                                    tmp_path):
    module = write_module(tmp_path, "uses_np", "register_user_activation('uses_np', "
                          "lambda z, xp: np.asarray(z) * 2, lambda z, a: 2 * np.ones_like(z))\n")
    code, out, err = cli("gradients", "--activation-module", module, "--hidden", "3:uses_np",
                         "--batch", "4", "--no-fd")
    assert code == 2 and "returns a NumPy array when given keras.ops" in one_line(err)


STEP = """
register_user_activation("step", lambda z, xp: xp.where(z > 0, xp.ones_like(z), xp.zeros_like(z)),
                         lambda z, a: {derivative}, kinks=(0.0,))
"""


@pytest.mark.slow  # a second TensorFlow, in the activation module's process
@pytest.mark.parametrize("derivative, expected", [("np.zeros_like(z)", 0),
                                                  ("np.ones_like(z)", 1)])  # the failing twin
@pytest.mark.parametrize("command", ["activations", "gradients"])
def test_step_activation_has_zero_gradient_not_a_crash(cli, clean_registry, tmp_path, command,
                                                       derivative, expected):
    # TensorFlow answers None for a tensor the output does not depend on: that is 0
    module = write_module(tmp_path, "steps", STEP.format(derivative=derivative))
    extra = ["--hidden", "3:step,4:tanh", "--batch", "4", "--no-fd"] \
        if command == "gradients" else []
    code, out, err = cli(command, "--activation-module", module, *extra)
    assert code == expected, err
    assert "Traceback" not in err


def test_activation_module_error_survives_a_trip_to_a_worker_process():
    error = activations.ActivationModuleError("its function raised", "Traceback: theirs\n")
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, SpecError) and str(copy) == "its function raised"
    assert copy.details == "Traceback: theirs\n"


# ------------------------------------------------------------ what reaches the terminal

def test_interrupt_anywhere_is_one_line_exit_130(cli, monkeypatch):
    from compare import cli as cli_module

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "build_parser", interrupted)  # before a command runs
    code, out, err = cli("gradients")
    assert code == 130 and one_line(err) == "nn-compare: interrupted"


@pytest.mark.parametrize("raised, code_expected, message", [
    (MemoryError("Unable to allocate 5.70 TiB"), 2, "out of memory: Unable to allocate 5.70 TiB"),
    (SpecError("first\nsecond"), 2, "nn-compare: error: first second"),
    (BrokenPipeError(), 141, None),  # `nn-compare ... | head`: silent
])
def test_cli_maps_failures_to_one_line(cli, monkeypatch, raised, code_expected, message):
    from compare.commands import gradients

    def run(args):
        raise raised

    monkeypatch.setattr(gradients, "run", run)
    code, out, err = cli("gradients")
    assert code == code_expected
    if message is None:
        assert err == ""
    else:
        assert message in one_line(err)


def nn_compare(*args: str) -> subprocess.Popen:
    """A real process, with Ctrl-C at its default (a background shell would ignore it)."""
    return subprocess.Popen([sys.executable, "-m", "compare", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.mark.slow
def test_ctrl_c_during_training_is_one_line_exit_130_and_writes_nothing(idx_dir, tmp_path):
    out_dir, json_path = tmp_path / "report", tmp_path / "r.json"
    args = [a for a in tiny_data(idx_dir) if a != "--quiet"]  # the progress bar says when
    process = nn_compare("train", *args, "--epochs", "100000", "--batch", "1",
                         "--out", str(out_dir), "--json", str(json_path))
    seen = ""
    while "epoch 2" not in seen:  # the bar's description: the second epoch is under way
        char = process.stderr.read(1)
        assert char, seen  # the process ended before training
        seen += char
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert (seen + err).rstrip().splitlines()[-1] == "nn-compare: interrupted"
    assert "Traceback" not in seen + err
    assert not out_dir.exists() and not json_path.exists()


@pytest.mark.slow
def test_closed_pipe_is_silent(idx_dir):
    process = nn_compare("train", *tiny_data(idx_dir))
    assert process.stdout.readline().startswith("train: ")
    process.stdout.close()  # as `| head -1` does
    err = process.stderr.read()
    assert process.wait(timeout=60) == 141 and err == ""
    process.stderr.close()


@pytest.mark.parametrize("command", ["report", "train", "gradients", "check", "activations",
                                     "sweep", "bench"])
def test_every_command_prints_its_help(cli, command):
    """argparse formats help strings with %: a bare '%' crashed `bench --help`."""
    code, out, err = cli(command, "--help")
    assert code == 0 and out.startswith(f"usage: nn-compare {command}") and err == ""


def test_keras_zip_bomb_is_refused_unread(cli, tmp_path):
    # a config.json declaring 17 MiB (a few KB compressed): refused before Keras reads it
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", "{}" + " " * (17 * 2**20))
    code, out, err = cli("gradients", "--no-fd", "--from-keras", str(path))
    assert code == 2 and "config.json declares 17,825,794 bytes; at most 16,777,216" \
        in one_line(err)


def test_leaky_relu_slope_beyond_float32_is_one_line(cli):
    # the slope is rounded to float32 as TensorFlow does: 1e308 became inf, then NaN
    # losses, RuntimeWarnings and a meaningless DISAGREE (exit 1)
    code, out, err = cli("gradients", "--no-fd", "--batch", "4",
                         "--network", "4:leaky_relu(-1e308)")
    assert code == 2 and "the negative_slope of leaky_relu must be within float32's range" \
        in one_line(err)


@pytest.mark.parametrize("name", ["report.md", "extra.json"])
def test_json_inside_out_is_refused(cli, idx_dir, tmp_path, name):
    # --json DIR/report.md overwrote the report's own report.md; DIR/extra.json made the
    # next run with the same --out refuse the folder (a file that is not a report)
    out_dir = tmp_path / "run"
    code, out, err = cli("train", *tiny_data(idx_dir), "--out", str(out_dir),
                         "--json", str(out_dir / name))
    assert code == 2 and "is inside --out" in one_line(err)
    assert not out_dir.exists()


# ------------------------------------------------- numbers beyond what Keras holds (issue 27)
@pytest.mark.parametrize("option, value, words", [
    ("--hidden", "dense(4,tanh,kernel=l2(4e38))", "the factor of l2 must be within float32's"),
    ("--hidden", "dense(4,tanh,activity=l1(1e300))", "the factor of l1 must be within float32"),
    ("--hidden", "dense(4,tanh,kernel=l1_l2(0.01,7e38))", "the factor of l1_l2 must be within"),
    ("--hidden", "dense(4,tanh,kernel=l2(1e-47))", "0, or 1.401e-45 to 3.403e+38 in size"),
    ("--optimizer", "sgd(learning_rate=exp_decay(0.1,10,4e38))", "exp_decay decay_rate"),
    ("--optimizer", "sgd(learning_rate=cosine_decay(0.1,10,warmup_target=2e300,"
                    "warmup_steps=3))", "cosine_decay warmup_target must be within float32"),
    ("--optimizer", f"sgd(learning_rate=exp_decay(0.1,{10**25},0.5))",
     "decay_steps must fit in a 64-bit integer"),
    ("--optimizer", "adam(epsilon=1e-310)", "adam epsilon must be within float32's range"),
    ("--optimizer", "rmsprop(rho=0.9,epsilon=1e-50)", "rmsprop epsilon must be within float32"),
])
def test_a_number_keras_cannot_hold_is_refused_before_anything_runs(option, value, words, cli,
                                                                     idx_dir):
    code, out, err = cli("train", *tiny_data(idx_dir), option, value)
    assert code == 2 and words in one_line(err), err
    assert "Traceback" not in err


def test_twin_the_numbers_float32_holds_are_accepted():
    from handrolled import NetworkSpec, optimizers
    from handrolled.ranges import float32_number, int64_number

    for value in (0.0, 1e-45, 3.4e38, -3.4e38, 1e-7):
        assert float32_number(value, "x") == value
    assert int64_number(2**63 - 1, "x") == 2**63 - 1
    NetworkSpec.from_text("dense(4,tanh,kernel=l1_l2(1e-40,3e38))", inputs=3, classes=2)
    optimizers.get(f"sgd(learning_rate=exp_decay(0.1,{2**62},3e38))")
    assert optimizers.get("adam(epsilon=1e-44)").epsilon == 1e-44
    for value in (3.5e38, 1e-46, -1e39):
        with pytest.raises(SpecError, match="within float32's range"):
            float32_number(value, "x")
    with pytest.raises(SpecError, match="64-bit integer"):
        int64_number(2**63, "x")


def test_threads_beyond_four_per_cpu_of_the_machine_is_one_line(cli, idx_dir, monkeypatch):
    """issue 27: --threads 1024 under a 4 GiB limit aborted with SIGABRT and no message."""
    from compare.commands.common import threads_count

    monkeypatch.setattr("compare.commands.common.os.cpu_count", lambda: 3)
    code, out, err = cli("train", *tiny_data(idx_dir), "--threads", "13")
    assert code == 2 and "must be at most 12 (4 x the machine's 3 CPUs" in one_line(err)
    assert out == ""
    assert threads_count("12") == 12  # the twin: the limit itself is accepted
