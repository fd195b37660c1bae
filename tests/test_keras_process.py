"""Keras' runs in a process of their own (compare/training/keras_process.py): the same
History as in this process, bit for bit; failures as one line; nothing left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from compare.training import keras_process
from compare.training.data import TrainingData, epoch_orders
from compare.training.history import History
from handrolled import NetworkSpec, init_weights
from handrolled.errors import SpecError

from training_blobs import blobs

ROOT = Path(__file__).resolve().parents[1]
NETWORK = "dense(6,relu),batchnorm,dropout(0.5)"  # masks, moving statistics, Adam's slots
OPTIMIZER = "adam(learning_rate=0.01)"


def tiny_run():
    spec = NetworkSpec.from_text(NETWORK, inputs=5, classes=3, seed=3)
    data = TrainingData.from_dataset(blobs(train=12, test=6, inputs=5, classes=3), spec)
    return spec, init_weights(spec, "glorot"), data, epoch_orders(12, 2, 3, True)


def differences(a: History, b: History) -> list[str]:
    """The parts of two runs that are not the same bits (timings aside)."""
    out = [name for name in ("loss", "train_accuracy", "test_accuracy", "test_loss",
                             "validation_accuracy")
           if np.asarray(getattr(a, name)).tobytes() != np.asarray(getattr(b, name)).tobytes()]
    if len(a.step_losses) != len(b.step_losses) or not all(
            same(x, y) for x, y in zip(a.step_losses, b.step_losses)):
        out.append("step_losses")
    for name in ("weights", "state", "optimizer_state"):
        x, y = getattr(a, name), getattr(b, name)
        if x.keys() != y.keys() or not all(same(x[k], y[k]) for k in x):
            out.append(name)
    if len(a.dropout_masks) != len(b.dropout_masks) or not all(
            x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
            for x, y in zip(a.dropout_masks, b.dropout_masks)):
        out.append("dropout_masks")
    if a.diverged != b.diverged:
        out.append("diverged")
    return out


def same(x, y) -> bool:
    x, y = np.asarray(x), np.asarray(y)
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


@pytest.fixture(scope="module")
def three_runs():
    """Keras here, Keras in a child, and a child given another seed (the twin)."""
    from compare.gradients import keras_side
    from compare.training.runs import run_keras

    spec, weights, data, orders = tiny_run()
    batch = (data.X_train[:4], data.Y_train[:4])  # `report`'s gradient check, first
    info = {"gradients here": keras_side(spec, weights, *batch)}
    here = run_keras(spec, weights, data, orders, 4, OPTIMIZER, 3)
    apart, answer = keras_process.run_keras_apart(spec, weights, data, orders, 4, OPTIMIZER, 3,
                                                  gradients_batch=batch)
    other, _ = keras_process.run_keras_apart(spec, weights, data, orders, 4, OPTIMIZER, 4)
    return here, apart, dict(info, **answer), other


@pytest.mark.slow
@pytest.mark.timeout(900)  # two fresh TensorFlows: minutes on a loaded machine
def test_the_child_gives_the_numbers_of_this_process_bit_for_bit(three_runs):
    here, apart, info, _ = three_runs
    assert here.dropout_masks and here.state and "dense1/kernel/m" in here.optimizer_state
    assert differences(here, apart) == []
    assert 0 < info["peak_mb"] < 64 * 1024 and info["notes"] == []
    mine, theirs = info["gradients here"], info["gradients"]  # Keras' half of `report`'s check
    assert same(mine.loss, theirs.loss) and mine.backend == theirs.backend
    assert mine.gradients.keys() == theirs.gradients.keys() and mine.masks.keys() == \
        theirs.masks.keys() == {"dropout3"}
    assert all(same(mine.gradients[k], theirs.gradients[k]) for k in mine.gradients)
    assert all(same(mine.masks[k], theirs.masks[k]) for k in mine.masks)


@pytest.mark.slow
@pytest.mark.timeout(900)  # two fresh TensorFlows: minutes on a loaded machine
def test_twin_a_child_with_another_seed_is_caught(three_runs):
    here, _, _, other = three_runs
    assert {"step_losses", "dropout_masks", "weights"} <= set(differences(here, other))


SCRIPT = """
import sys
from compare.cli import main
code = main(sys.argv[1:])
print("imported:", sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
sys.exit(code)
"""


@pytest.mark.slow
@pytest.mark.parametrize("command, mode, imported", [
    ("train", "always", "[]"), ("report", "always", "[]"),
    ("train", "never", "['keras', 'tensorflow']")])
def test_the_command_never_imports_tensorflow_with_keras_apart(command, mode, imported,
                                                               tmp_path):
    """A fresh interpreter (this one has TensorFlow): `train` and `report` (its gradient
    check too) with Keras in its process import neither TensorFlow nor Keras here; the
    twin, `never`, imports both."""
    out = tmp_path / "r.json"
    run = subprocess.run([sys.executable, "-c", SCRIPT, command, "--hidden", "3:relu",
                          "--epochs", "1", "--train-rows", "32", "--quiet",
                          "--keras-process", mode, "--json", str(out),
                          "--out", str(tmp_path / "report")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    if command == "report":
        assert "gradients" in run.stdout and "agree" in run.stdout
    assert f"imported: {imported}" in run.stdout
    peak = json.loads(out.read_text())["training"]["peak_memory_mb"]
    assert ("keras_process" in peak) == (mode == "always")
    if mode == "always":
        assert f"Keras' process {peak['keras_process']:,.0f} MB" in run.stdout.replace("\n", " ")


# ------------------------------------------------------------------ failures (no TensorFlow)
@pytest.fixture
def folders(monkeypatch):
    """The private folders the runs make (to check they are gone afterwards)."""
    made = []
    real = keras_process.tempfile.mkdtemp

    def mkdtemp(**kwargs):
        made.append(Path(real(**kwargs)))
        return str(made[-1])
    monkeypatch.setattr(keras_process.tempfile, "mkdtemp", mkdtemp)
    return made


def boot(monkeypatch, code: str) -> None:
    """The child runs `code` instead of Keras (argv: folder, events fd, parent pid)."""
    code = code.replace("{", "{{").replace("}", "}}")  # _BOOT is a format string
    monkeypatch.setattr(keras_process, "_BOOT", "import sys; sys.path[0] = {root!r}\n" + code)


def run_tiny(**kwargs):
    spec, weights, data, orders = tiny_run()
    return keras_process.run_keras_apart(spec, weights, data, orders, 4, OPTIMIZER, 3, **kwargs)


def test_a_killed_child_is_one_line_and_leaves_nothing(monkeypatch, folders):
    boot(monkeypatch, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    with pytest.raises(SpecError, match=r"^Keras' run in its own process failed: the process "
                                        r"was killed by SIGKILL \(the system's out-of-memory"):
        run_tiny()
    assert len(folders) == 1 and not folders[0].exists()


def test_an_error_in_the_child_comes_back_as_its_line(monkeypatch, folders):
    boot(monkeypatch, "from compare.training import keras_process as k\n"
                      "def fail(folder, events):\n"
                      "    raise k.SpecError('adam_textbook has no Keras twin')\n"
                      "k._child_run = fail\n"
                      "k.child_main(sys.argv[1:])")
    with pytest.raises(SpecError, match="^adam_textbook has no Keras twin$"):
        run_tiny()
    assert not folders[0].exists()


def test_ctrl_c_stops_the_child_and_removes_the_folder(monkeypatch, folders):
    """An interrupt while the child runs (here: as its first run begins) kills it."""
    boot(monkeypatch, "import os, time\n"
                      "os.write(int(sys.argv[2]), b'{\"begin\": \"keras\"}\\n')\n"
                      "time.sleep(600)")
    started = []
    real = keras_process.subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real(*args, **kwargs))
        return started[-1]
    monkeypatch.setattr(keras_process.subprocess, "Popen", popen)

    class Interrupt:
        def begin(self, side):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_tiny(progress=Interrupt())
    assert started[0].poll() is not None and not folders[0].exists()


def test_progress_events_reach_the_parent(monkeypatch, folders):
    """Each epoch the child reports reaches `progress` with the evaluation so far."""
    boot(monkeypatch, "import json, os\n"
                      "fd = int(sys.argv[2])\n"
                      "os.write(fd, b'{\"begin\": \"keras\"}\\n')\n"
                      "e = {'train_loss': 1.5, 'train_accuracy': 0.5, 'test_accuracy': 0.25, "
                      "'test_loss': 2.0}\n"
                      "os.write(fd, (json.dumps({'side': 'keras', 'epoch': 0, 'seconds': 1.0, "
                      "'evaluation': e}) + '\\n').encode())\n"
                      "sys.exit(5)")
    heard = []

    class Progress:
        def begin(self, side):
            heard.append(("begin", side))

        def __call__(self, side, epoch, history):
            heard.append((side, epoch, history.loss[-1], history.test_accuracy[-1]))

    with pytest.raises(SpecError, match="exited with code 5"):
        run_tiny(progress=Progress())
    assert heard == [("begin", "keras"), ("keras", 0, 1.5, 0.25)]


# ------------------------------------------------------------------ the decision
def test_auto_runs_keras_apart_for_large_networks_only(monkeypatch):
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    small = NetworkSpec.from_text("100:sigmoid", inputs=784, classes=10)
    large = NetworkSpec.from_text("2000:relu", inputs=784 * 4, classes=10)
    assert keras_process.state_bytes(small, "adam") < keras_process.AUTO_BYTES
    assert keras_process.state_bytes(large, "adam") >= keras_process.AUTO_BYTES
    assert not keras_process.wanted("auto", small, "adam")
    assert keras_process.wanted("auto", large, "adam")
    assert keras_process.wanted("always", small, 0.1)
    assert not keras_process.wanted("never", large, "adam")
    monkeypatch.setitem(sys.modules, "keras", object())  # Keras already runs here
    assert not keras_process.wanted("auto", large, "adam")


def test_the_job_rebuilds_the_spec():
    spec, *_ = tiny_run()
    form = json.loads(json.dumps(keras_process.job_spec(spec)))
    assert keras_process.spec_from_job(form) == spec
    twin = dict(form, seed=spec.seed + 1)  # twin: a changed form is another spec
    assert keras_process.spec_from_job(twin) != spec


def test_the_childs_conventions_come_back_as_a_value():
    """What the child's Keras measured is a Conventions value the caller hands to the
    spec of the hand-written runs; nothing in handrolled is changed."""
    from handrolled.conventions import KERAS, Conventions

    form = {"l1_factor_float32": True, "l2_factor_float32": False,
            "activity_per_row": False, "hyperparameters_via_float32": False}
    conventions = keras_process.conventions_from(form)
    assert isinstance(conventions, Conventions)
    assert conventions == KERAS.with_changes(l2_factor_float32=False, activity_per_row=False,
                                             hyperparameters_via_float32=False)
    assert KERAS == Conventions()  # the default is untouched
    # twin: another measurement is another value
    assert keras_process.conventions_from(dict(form, activity_per_row=True)) != conventions


def test_user_activations_keep_keras_here(monkeypatch):
    """--activation-module's activations are registered in this process only: auto keeps
    Keras here, always says so in one line."""
    from handrolled.activations.user import (register_user_activation,
                                             unregister_user_activation)

    monkeypatch.delitem(sys.modules, "keras", raising=False)
    monkeypatch.setattr(keras_process, "AUTO_BYTES", 0)  # any network counts as large
    register_user_activation("h22_twice", lambda z, xp: 2 * z, lambda z, a: 2 + 0 * z)
    try:
        spec = NetworkSpec.from_text("dense(4,h22_twice)", inputs=3, classes=2)
        assert not keras_process.wanted("auto", spec, 0.1)
        with pytest.raises(SpecError, match="h22_twice of dense1 comes from "
                                            "--activation-module"):
            keras_process.wanted("always", spec, 0.1)
        assert keras_process.wanted("auto", NetworkSpec.from_text("dense(4,relu)", inputs=3,
                                                                   classes=2), 0.1)  # twin
    finally:
        unregister_user_activation("h22_twice")


PARENT = """
import sys
from compare.training import keras_process
import test_keras_process as t
real = keras_process.subprocess.Popen
def popen(*args, **kwargs):
    child = real(*args, **kwargs)
    print(child.pid, flush=True)
    return child
keras_process.subprocess.Popen = popen
# the child waits instead of running Keras (which could end before the check below)
keras_process._BOOT = keras_process._BOOT.replace("child_main(sys.argv[1:])",
                                                  "__import__('time').sleep(60)")
if sys.argv[1] == "orphan":  # the twin: a child that does not watch its parent
    keras_process._BOOT = keras_process._BOOT.replace("die_with_parent(int(sys.argv[3])); ", "")
t.run_tiny()
"""


@pytest.mark.parametrize("boot", ["as it is", "orphan"])
def test_the_child_dies_with_its_parent(boot, tmp_path):
    """kill -9 of the command (no cleanup can run) still ends Keras' process; the twin,
    a child started without die_with_parent, outlives it (and is killed here)."""
    import signal
    import time

    parent = subprocess.Popen([sys.executable, "-c", PARENT, boot], cwd=ROOT / "tests",
                              env=dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}",
                                       TMPDIR=str(tmp_path)),  # the folder kill -9 leaves
                              stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        time.sleep(0.5)  # the child has run its first line (die_with_parent) by now
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    def alive() -> bool:
        try:
            return "State:\tZ" not in Path(f"/proc/{child}/status").read_text()
        except FileNotFoundError:  # gone (a zombie is dead, not yet reaped)
            return False

    deadline = time.monotonic() + (2 if boot == "orphan" else 10)
    while alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    survived = alive()
    if survived:
        os.kill(child, signal.SIGKILL)
    assert survived == (boot == "orphan")


def test_a_full_disk_is_one_line_and_leaves_nothing(monkeypatch, folders):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(keras_process.np, "save", full)
    with pytest.raises(SpecError, match="^cannot write the data for Keras' run to .*: No space "
                                        "left on device"):
        run_tiny()
    assert not folders[0].exists()
