"""--activation-module code runs in a process of its own (compare/user_activations): whatever
it does, the command says what it did in one line, exit 2, or gives the right verdict; it
cannot end, hang, patch or redirect the checker, and its process never outlives the run.

Each hostile module is a variant of the tries that once ended a command silently with exit
0, hung it, or changed its verdict, written for activation modules.  The fast tests call
`compare.user_activations.load` directly (NumPy only in the child); the whole commands
(TensorFlow on both sides) are slow."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from compare import user_activations
from compare.check import TargetError
from handrolled import activations
from handrolled.activations import ActivationModuleError

ROOT = Path(__file__).resolve().parents[1]
HEAD = ("import os, sys, numpy as np\n"
        "from handrolled.activations import register_user_activation\n")
RIGHT = "lambda z, a: 1 / (1 + np.abs(z)) ** 2"
WRONG = "lambda z, a: 1 / (1 + np.abs(z))"  # the square forgotten: the failing twin


def module(tmp_path: Path, body: str, derivative: str = RIGHT, function: str = "soft") -> str:
    """A module registering `soft` (softsign, z / (1 + |z|)) after `body` ran."""
    path = tmp_path / "acts.py"
    path.write_text(HEAD + body + f"\ndef soft(z, xp):\n    return z / (1 + xp.abs(z))\n"
                    f"register_user_activation('soft', {function}, {derivative})\n")
    return str(path)


@pytest.fixture
def isolated(clean_registry):
    """Load modules as a command does, and stop their processes afterwards."""
    yield lambda path, **kw: user_activations.load([path], keras=False, **kw)
    user_activations.close_all()


# ---------------------------------------------------------------- fast: the library

def test_the_child_gives_the_same_numbers_as_the_function_here(isolated, tmp_path):
    isolated(module(tmp_path, ""))
    remote = activations.get("soft")
    assert isinstance(remote, user_activations.RemoteActivation)
    for dtype in ("float64", "float32"):
        z = np.linspace(-3, 3, 35, dtype=dtype).reshape(5, 7)
        a = remote.value(z)
        assert a.dtype == z.dtype and np.array_equal(a, z / (1 + np.abs(z)))
        assert np.array_equal(remote.derivative(z, a), 1 / (1 + np.abs(z)) ** 2)


@pytest.mark.parametrize("body, where, message", [
    ("os._exit(0)\n", "import", "while it was loaded, ended the process running it: it "
                                "exited with code 0"),
    ("import signal\nos.kill(os.getpid(), signal.SIGTERM)\n", "import", "killed by SIGTERM"),
    ("_f = lambda z, xp: os._exit(0) if z.shape[0] == 5 else z / (1 + xp.abs(z))\n",
     "function", "the function of user activation 'soft' ended the process running it: it "
                 "exited with code 0"),
    ("def _d(z, a):\n    if z.shape[0] == 5:\n        os._exit(3)\n    return a\n",
     "derivative", "the derivative of user activation 'soft' ended the process"),
    ("def _f(z, xp):\n    while z.shape[0] == 5:\n        pass\n    return z\n", "function",
     "the function of user activation 'soft' did not return within 1 s"),
    ("del np.float64\n", "import", "changed NumPy itself (np.float64 deleted"),
    ("def _f(z, xp):\n    if z.shape[0] == 5:\n        np.abs = None\n    return z\n", "function",
     "its function changed NumPy itself (np.abs deleted or replaced)"),
    ("def _f(z, xp):\n    raise KeyboardInterrupt\n", "import",
     "raised KeyboardInterrupt itself"),
    ("class Mine(BaseException):\n    pass\n"
     "def _f(z, xp):\n    if z.shape[0] == 5:\n        raise Mine('not an Exception')\n"
     "    return z\n", "function", "its function raised Mine: not an Exception"),
])
def test_what_the_users_code_does_is_one_error_naming_it(isolated, tmp_path, body, where,
                                                          message):
    function = "_f" if "_f" in body else "soft"
    derivative = "_d" if "_d" in body else RIGHT
    path = module(tmp_path, body, derivative, function)
    if where == "import":
        with pytest.raises((TargetError, ActivationModuleError), match=re.escape(message)):
            isolated(path, timeout=1)
        return
    isolated(path, timeout=1)
    z = np.ones((5, 2))
    with pytest.raises((TargetError, ActivationModuleError), match=re.escape(message)):
        activations.get("soft").derivative(z, activations.get("soft").value(z))
    # and after it: the same failure, not a call into a process that is gone
    with pytest.raises((TargetError, ActivationModuleError), match=re.escape(message)):
        activations.get("soft").value(np.ones((3, 2)))


def test_the_module_cannot_reach_the_checkers_modules(isolated, tmp_path):
    import compare.exit_codes
    import compare.tolerances

    before = compare.tolerances.tolerance_for("float64")
    isolated(module(tmp_path, "import compare.tolerances, compare.exit_codes\n"
                              "compare.tolerances.tolerance_for = lambda dtype: None\n"
                              "compare.exit_codes.DISAGREE = 0\n"
                              "sys.setrecursionlimit(30)\nos.chdir('/')\n"))
    assert compare.tolerances.tolerance_for("float64") == before
    assert compare.exit_codes.DISAGREE == 1
    assert sys.getrecursionlimit() > 30
    assert os.getcwd() != "/"


def test_the_child_ends_with_the_command(isolated, tmp_path):
    isolated(module(tmp_path, "import threading, time\n"
                              "threading.Thread(target=time.sleep, args=(3600,)).start()\n"))
    process = user_activations._PROCESSES[-1].process
    pid = process._proc.pid
    user_activations.close_all()
    assert process._proc.poll() is not None and "soft" not in activations.names()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# ---------------------------------------------------------------- slow: whole commands

def nn_compare(tmp_path: Path, *args: str, timeout: float = 300):
    """`nn-compare ARGS` in its own interpreter, in tmp_path; afterwards no process that
    the command started (marked through its environment) may be alive."""
    mark = uuid.uuid4().hex
    env = dict(os.environ, NN_COMPARE_TEST_MARK=mark, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "compare", *args], capture_output=True,
                            text=True, timeout=timeout, cwd=tmp_path, env=env)
    assert not _marked(mark), "a process of the command outlived it"
    return result


def _marked(mark: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"NN_COMPARE_TEST_MARK={mark}".encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


GRADIENTS = ("gradients", "--dataset", "synthetic", "--no-fd", "--batch", "5",
             "--hidden", "3:soft")


def one_line(result, *parts: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("nn-compare: error: ") and "Traceback" not in last
    for part in parts:
        assert part in last, last


@pytest.mark.slow
@pytest.mark.parametrize("derivative, code", [(RIGHT, 0), (WRONG, 1)])
def test_a_module_in_its_process_agrees_and_its_broken_twin_disagrees(tmp_path, derivative,
                                                                      code):
    result = nn_compare(tmp_path, *GRADIENTS, "--activation-module",
                        module(tmp_path, "", derivative))
    assert result.returncode == code, result.stderr
    assert ("verdict: AGREE" if code == 0 else "verdict: DISAGREE") in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("body, derivative, code, parts", [
    # patching the checker's verdict and tolerances changes nothing here: still DISAGREE
    ("import compare.gradients, compare.tolerances\n"
     "compare.gradients.GradientComparison.agree = property(lambda self: True)\n"
     "compare.tolerances.tolerance_for = lambda d: compare.tolerances.Tolerance(d, 1e300, 1e300)\n",
     WRONG, 1, ()),
    ("import atexit\natexit.register(os._exit, 0)\n", WRONG, 1, ()),  # exit 0 at the end
    ("import threading, time\nthreading.Thread(target=time.sleep, args=(3600,)).start()\n",
     RIGHT, 0, ()),  # a non-daemon thread: the command still ends
    ("def _f(z, xp):\n    print('stray output')\n    return z / (1 + xp.abs(z))\n",
     RIGHT, 0, ()),
    ("os._exit(0)\n", RIGHT, 2, ("while it was loaded, ended the process",)),
    ("def _f(z, xp):\n    if z.shape[0] == 5 and xp is np:\n        os._exit(0)\n"
     "    return z / (1 + xp.abs(z))\n", RIGHT, 2, ("function of user activation 'soft'",)),
    ("def _f(z, xp):\n    while xp is not np:\n        pass\n    return z\n", RIGHT, 2,  # Keras
     ("(given keras.ops) did not return within 3 s",)),
    ("sys.setrecursionlimit(30)\n", RIGHT, None, ()),
    ("del np.float64\n", RIGHT, 2, ("changed NumPy itself",)),
])
def test_hostile_modules_give_the_verdict_or_one_line(tmp_path, body, derivative, code, parts):
    function = "_f" if "def _f" in body else "soft"
    timeout = ("--timeout", "3") if "while" in body else ()  # imports may take longer
    result = nn_compare(tmp_path, *GRADIENTS, *timeout, "--activation-module",
                        module(tmp_path, body, derivative, function))
    if code == 2 or (code is None and result.returncode == 2):
        one_line(result, *parts)
        return
    assert result.returncode == (0 if code is None else code), result.stderr
    assert "stray output" not in result.stdout
    assert ("verdict: AGREE" if result.returncode == 0 else "verdict: DISAGREE") in \
        result.stdout


@pytest.mark.slow
def test_chdir_in_the_function_does_not_move_the_json(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    body = ("def _f(z, xp):\n    os.chdir(os.path.join(os.path.dirname(__file__), "
            "'elsewhere'))\n    return z / (1 + xp.abs(z))\n")
    result = nn_compare(tmp_path, *GRADIENTS, "--json", "out.json", "--activation-module",
                        module(tmp_path, body, RIGHT, "_f"))
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "out.json").read_text())["agree"] is True
    assert not (tmp_path / "elsewhere" / "out.json").exists()


@pytest.mark.slow
def test_same_numbers_in_the_child_as_in_this_process(tmp_path):
    """The hand-written side, Keras' gradients and a short training run: bit for bit the
    numbers of the same module loaded in-process (the library's load_activation_module)."""
    script = ROOT / "tests" / "activation_numbers.py"
    runs = {}
    for mode in ("in-process", "child"):
        result = subprocess.run([sys.executable, str(script), mode], capture_output=True,
                                text=True, timeout=600, cwd=ROOT,
                                env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert result.returncode == 0, result.stderr[-3000:]
        runs[mode] = json.loads(result.stdout.strip().splitlines()[-1])
    assert runs["in-process"] == runs["child"]
    assert runs["child"]["gradients"]["agree"] and len(runs["child"]["steps"]["keras"]) == 16


def test_check_runs_its_activation_modules_in_a_process_too(cli, clean_registry, tmp_path):
    # `check` needs the modules on the checker's side as well (for Keras): there too they
    # run in a child, so os._exit at import is one line, not a silent exit 0
    target = tmp_path / "my_net.py"
    target.write_text("INPUTS = 4\nLAYERS = [(3, 'soft'), (2, 'softmax')]\n"
                      "LAYOUT = 'separate'\ndef gradients(X, Y, w):\n    return w\n")
    code, out, err = cli("check", str(target), "--dataset", "synthetic", "--no-fd",
                         "--activation-module", module(tmp_path, "os._exit(0)\n"))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "while it was loaded, ended the process running it" in err


def test_a_sweep_row_is_keyed_without_its_time_limit():
    # --timeout reaches the sweep's workers through the configuration, but how long a call
    # may take is not a result: the rows logged before stay valid
    from compare.sweep.plan import Configuration

    settings = dict(activation="soft", depth=1, lr=0.1, units=3, epochs=1, batch=8,
                    dataset="spiky-2d", preprocess="raw", dtype="float64",
                    activation_modules=("acts.py",))
    limited = Configuration(**settings, seed=0, timeout=5.0)
    assert limited.timeout == 5.0 and limited.key == Configuration(**settings, seed=0).key
    assert Configuration(**settings, seed=1).key != Configuration(**settings, seed=0).key
