"""A check target's code runs in a process of its own (compare/check/process.py): whatever
it does, the checker says what it did in one line, exit 2, or gives the right verdict; it
cannot end, hang, patch or redirect the checker, and its process never outlives the run.

Each case is a variant of the hostile tries that once ended `nn-compare check` silently
with exit 0, hung it, or made it print AGREE for buggy gradients."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from compare.check import TargetError
from compare.check.process import UserProcess

CHECK = ("--dataset", "synthetic", "--no-fd", "--batch", "4")

NETWORK = '''import numpy as np
INPUTS = 4
LAYERS = [(3, "tanh"), (2, "softmax")]
LAYOUT = "separate"

def gradients(X, Y, weights):
    W1, b1, W2, b2 = weights
    a = np.tanh(X @ W1 + b1)
    s = a @ W2 + b2
    p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    d2 = (p - Y) / len(X)
    d1 = (d2 @ W2.T) * (1 - a ** 2) * FACTOR
    return [X.T @ d1, d1.sum(0), a.T @ d2, d2.sum(0)]

FACTOR = 1.0
'''
BUGGY = "FACTOR = 2.0  # a bug: layer 1's gradient twice the right one\n"


def target(tmp_path, extra: str = "", name: str = "net.py", base: str = NETWORK):
    path = tmp_path / name
    path.write_text(base + textwrap.dedent(extra))
    return str(path)


def one_line(code, err, *fragments):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert "Traceback" not in lines[-1] and lines[-1].startswith("nn-compare: error: "), err
    for fragment in fragments:
        assert fragment in lines[-1], lines[-1]


# ---------------------------------------------------------------- ending the process

@pytest.mark.parametrize("where, extra", [
    ("at import", "import os\nos._exit(0)\n"),
    ("in gradients", "import os\ndef gradients(X, Y, w):\n    os._exit(0)\n"),
    ("in a helper gradients calls", "import os\n_g = gradients\n"
     "def _quit():\n    os._exit(0)\ndef gradients(X, Y, w):\n    _quit()\n"),
])
def test_os_exit_0_is_a_one_line_error_not_a_silent_agree(cli, tmp_path, where, extra):
    code, out, err = cli("check", target(tmp_path, extra), *CHECK)
    one_line(code, err, "ended the process running it", "exited with code 0")
    assert "verdict" not in out


def test_a_signal_in_the_users_process_is_named(cli, tmp_path):
    extra = "import os, signal\ndef gradients(X, Y, w):\n    os.kill(os.getpid(), signal.SIGSEGV)\n"
    code, _, err = cli("check", target(tmp_path, extra), *CHECK)
    one_line(code, err, "was killed by SIGSEGV")


def test_an_atexit_handler_cannot_change_the_exit_code(cli, tmp_path):
    extra = BUGGY + "import atexit, os\natexit.register(lambda: os._exit(0))\n"
    code, out, _ = cli("check", target(tmp_path, extra), *CHECK)
    assert code == 1 and "verdict: DISAGREE" in out


def test_the_twin_the_same_file_without_the_bug_agrees(cli, tmp_path):
    extra = "import atexit, os\natexit.register(lambda: os._exit(0))\n"
    code, out, _ = cli("check", target(tmp_path, extra), *CHECK)
    assert code == 0 and "verdict: AGREE" in out


@pytest.mark.slow
@pytest.mark.parametrize("how", [
    "import compare.check.runner as r\nr.CheckResult.agree = property(lambda self: True)\n",
    "import compare.tolerances as t\nt.tolerance_for = lambda dtype: None\n",
    "import compare.exit_codes as e\ne.DISAGREE = 0\n",
])
def test_user_code_cannot_patch_the_verdict(cli, tmp_path, how):
    code, out, _ = cli("check", target(tmp_path, BUGGY + how), *CHECK)
    assert code == 1 and "verdict: DISAGREE" in out


@pytest.mark.parametrize("extra, fragment", [
    ("import sys\nsys.setrecursionlimit(30)\n", None),
    ("import numpy\ndel numpy.float64\n", "raised AttributeError"),
    ("import sys\nsys.modules['numpy'] = None\n", "raised ModuleNotFoundError"),
])
def test_breaking_the_interpreter_stays_in_the_users_process(cli, tmp_path, extra, fragment):
    code, out, err = cli("check", target(tmp_path, extra), *CHECK)
    if fragment is None:  # nothing of ours broke: the right verdict
        assert code == 0 and "verdict: AGREE" in out
    else:
        one_line(code, err, fragment)


def test_a_thread_that_never_ends_does_not_keep_the_run_alive(cli, tmp_path):
    extra = ("import threading, time\n"
             "threading.Thread(target=lambda: time.sleep(3600), daemon=False).start()\n")
    start = time.monotonic()
    code, out, _ = cli("check", target(tmp_path, extra), *CHECK)
    assert code == 0 and "verdict: AGREE" in out
    assert time.monotonic() - start < 60


# ---------------------------------------------------------------- hanging

@pytest.mark.parametrize("where", ["gradients", "forward", "import"])
def test_an_endless_loop_is_stopped_at_the_time_limit(cli, tmp_path, where):
    loop = {"gradients": "def gradients(X, Y, w):\n    while True:\n        pass\n",
            "forward": "def forward(X, w):\n    while True:\n        pass\n",
            "import": "while True:\n    pass\n"}[where]
    args = CHECK if where != "forward" else ("--dataset", "synthetic", "--batch", "4")
    start = time.monotonic()
    code, _, err = cli("check", target(tmp_path, loop), *args, "--timeout", "1")
    one_line(code, err, "did not return within 1 s", "--timeout")
    assert time.monotonic() - start < 30


def test_a_slow_but_finite_call_within_the_limit_is_fine(cli, tmp_path):  # the twin
    extra = ("import time\n_right = gradients\n"
             "def gradients(X, Y, w):\n    time.sleep(0.3)\n    return _right(X, Y, w)\n")
    code, out, _ = cli("check", target(tmp_path, extra), *CHECK, "--timeout", "5")
    assert code == 0 and "verdict: AGREE" in out


# ---------------------------------------------------------------- returned objects

@pytest.mark.parametrize("returned", [
    "class A:\n    def __array__(self, *a, **k):\n        sys.exit(0)\n",
    "class A:\n    def __array__(self, *a, **k):\n        raise KeyboardInterrupt\n",
    "class A:\n    def __array__(self, *a, **k):\n        raise ValueError('no')\n",
    "class A(list):\n    def __len__(self):\n        sys.exit(0)\n",
    "class A(list):\n    def __iter__(self):\n        raise KeyboardInterrupt\n",
])
def test_methods_of_returned_objects_run_in_the_users_process(cli, tmp_path, returned):
    extra = ("import sys\n" + returned +
             "_right = gradients\ndef gradients(X, Y, w):\n"
             "    return [A() for _ in _right(X, Y, w)] if 'list' not in str(A.__mro__) "
             "else A(_right(X, Y, w))\n")
    code, out, err = cli("check", target(tmp_path, extra), *CHECK)
    one_line(code, err, "gradient")  # "gradients() in net.py ..." or "gradient 1 of 4 ..."
    assert "verdict" not in out


@pytest.mark.parametrize("declared", [
    "class L(list):\n    def __iter__(self):\n        sys.exit(0)\nLAYERS = L(LAYERS)\n",
    "class I(int):\n    def __int__(self):\n        sys.exit(0)\n"
    "    def __index__(self):\n        sys.exit(0)\nINPUTS = I(4)\n",
])
def test_declarations_are_read_in_the_users_process(cli, tmp_path, declared):
    code, out, err = cli("check", target(tmp_path, "import sys\n" + declared), *CHECK)
    assert code == 2 and "verdict" not in out, err


@pytest.mark.parametrize("raised, words", [
    ("KeyboardInterrupt", "raised KeyboardInterrupt itself"),
    ("GeneratorExit", "raised GeneratorExit"),
    ("type('Mine', (BaseException,), {})", "raised Mine"),
    ("SystemExit(0)", "called sys.exit(0)"),
])
def test_any_base_exception_is_a_one_line_error(cli, tmp_path, raised, words):
    extra = f"def gradients(X, Y, w):\n    raise {raised}\n"
    code, _, err = cli("check", target(tmp_path, extra), *CHECK)
    one_line(code, err, words)


# ---------------------------------------------------------------- where things go

def test_chdir_in_user_code_does_not_move_the_json(cli, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    extra = (f"import os\n_right = gradients\ndef gradients(X, Y, w):\n"
             f"    os.chdir({str(elsewhere)!r})\n    return _right(X, Y, w)\n")
    path = target(tmp_path, extra)
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    code, _, _ = cli("check", path, *CHECK, "--json", "out.json")
    assert code == 0
    assert json.loads((here / "out.json").read_text())["agree"] is True
    assert not (elsewhere / "out.json").exists() and os.getcwd() == str(here)


def run_cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "compare", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=os.path.dirname(os.path.dirname(
                              os.path.abspath(__file__))))


@pytest.mark.slow
def test_what_user_code_prints_goes_to_stderr_not_into_the_json(tmp_path):
    extra = ("import sys, os\nprint('hello at import')\n_right = gradients\n"
             "def gradients(X, Y, w):\n    print('{not json')\n"
             "    os.write(1, b'raw on fd 1')\n    return _right(X, Y, w)\n")
    result = run_cli("check", target(tmp_path, extra), *CHECK, "--json",
                     str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr
    assert "hello at import" in result.stderr and "raw on fd 1" in result.stderr
    assert "{not json" not in result.stdout and "raw on fd 1" not in result.stdout
    assert result.stdout.rstrip().endswith("verdict: AGREE")
    assert json.loads((tmp_path / "r.json").read_text())["agree"] is True


def test_writing_into_the_checkers_channel_is_named(tmp_path):
    extra = ("import os\n_right = gradients\ndef gradients(X, Y, w):\n"
             "    for fd in range(3, 64):\n"
             "        try:\n            os.write(fd, b'garbage' * 4)\n"
             "        except OSError:\n            pass\n"
             "    return _right(X, Y, w)\n")
    with UserProcess(target(tmp_path, extra), timeout=10) as user:
        with pytest.raises(TargetError, match="garbled the checker's channel|ended"):
            user.call("gradients", np.ones((2, 4)), np.eye(2),
                      [np.ones((4, 3)), np.ones(3), np.ones((3, 2)), np.ones(2)],
                      returns=("list", "array"))


# ---------------------------------------------------------------- the process's life

def test_the_users_process_ends_with_the_check(tmp_path):
    extra = "import threading, time\nthreading.Thread(target=time.sleep, args=(3600,)).start()\n"
    user = UserProcess(target(tmp_path, extra))
    pid = user._proc.pid
    user.close()
    assert user._proc.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


KILLED_PARENT = """
import sys, time
from compare.check.process import UserProcess
user = UserProcess(sys.argv[1])
print(user._proc.pid, flush=True)
time.sleep(60)
"""


def test_the_users_process_dies_with_a_killed_checker(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", KILLED_PARENT, target(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()  # SIGKILL: no finaliser of ours runs
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the user's process outlived the killed checker")


def test_a_memory_hog_is_a_one_line_error(cli, tmp_path):
    extra = "import numpy as np\ndef gradients(X, Y, w):\n    return [np.ones(1 << 42)]\n"
    code, _, err = cli("check", target(tmp_path, extra), *CHECK)
    one_line(code, err, "raised MemoryError", "GiB of address space")


def test_handles_keep_objects_in_the_users_process(tmp_path):
    extra = ("class Layer:\n    def __init__(self, k):\n        self.k = k\n"
             "    def forward(self, x):\n        return x * self.k, {'x': x}\n"
             "    def backward(self, dout, cache):\n        return dout * self.k\n")
    with UserProcess(target(tmp_path, extra)) as user:
        assert user.declared["Layer"]["callable"] == "class"
        assert user.declared["LAYERS"] == [[3, "tanh"], [2, "softmax"]]
        layer = user.call("Layer", 3.0, returns="handle")
        out, cache = user.call((layer, "forward"), np.ones(2),
                               returns=("tuple", ["array", "handle"]))
        assert np.array_equal(out, [3.0, 3.0])
        dx = user.call((layer, "backward"), np.ones(2), cache, returns="array")
        assert np.array_equal(dx, [3.0, 3.0])


ACTIVATIONS = '''import numpy as np
from handrolled.activations import register_user_activation
def softsign(z, xp):
    return z / (1 + xp.abs(z))
def softsign_derivative(z, a):
    return 1 / (1 + np.abs(z)) ** 2
register_user_activation("softsign", softsign, softsign_derivative)
'''
SOFTSIGN = NETWORK.replace('"tanh"', '"softsign"').replace(
    "a = np.tanh(X @ W1 + b1)", "z = X @ W1 + b1\n    a = z / (1 + np.abs(z))").replace(
    "(1 - a ** 2)", "DERIVATIVE(z)")


@pytest.mark.slow  # a second TensorFlow, in the activation module's process
@pytest.mark.parametrize("derivative, code", [("1 / (1 + np.abs(z)) ** 2", 0),
                                              ("1 / (1 + np.abs(z))", 1)])  # 1: the twin
def test_activation_modules_are_loaded_on_both_sides(cli, tmp_path, derivative, code):
    (tmp_path / "acts.py").write_text(ACTIVATIONS)
    path = target(tmp_path, f"DERIVATIVE = lambda z: {derivative}\n", base=SOFTSIGN)
    try:
        got, out, err = cli("check", path, *CHECK, "--activation-module",
                            str(tmp_path / "acts.py"))
    finally:
        from handrolled.activations import unregister_user_activation
        unregister_user_activation("softsign")
    assert got == code, err
    assert f"verdict: {'AGREE' if code == 0 else 'DISAGREE'}" in out
