"""The user's code in a process of its own: `UserProcess`.

    with UserProcess("my_net.py", timeout=60) as user:   # activation_modules=[...] too
        user.declared["LAYERS"]                     # plain data, read in the child
        grads = user.call("gradients", X, Y, weights, returns=("list", "array"))
        out, cache = user.call("forward", x, params, True, returns=("tuple", ["array", "handle"]))
        dx, g = user.call("backward", dout, cache, returns=("tuple", ["array", ("dict", "array")]))

One child per run (`child.py`), started in the target's folder, in a session of its own
(the terminal's Ctrl-C reaches only the checker, which then stops it), dying with the
checker, with an address-space limit.  Calls carry plain data and arrays both ways
(`wire.py`, no pickle); what comes back has the form the call's `returns` names, converted
and validated in the child, so no method of a user object runs here.  Nothing the user's
code does can reach this process: not the verdict, not the tolerances, not the working
directory (output paths are resolved before the child starts, and it has its own).

Every way the user's code can fail is a `TargetError` (exit 2, one line; `.details` is
their traceback): it raised, called sys.exit, raised KeyboardInterrupt itself, returned
the wrong form (`ContractError`, with the place in the result), ran past the time limit,
or ended its process (os._exit, a signal, the memory limit).

`returns` specs: "array" (real floats; float32/float16 kept), "float", "handle" (kept in
the child), "value" (plain data), ("tuple", [spec, ...]), ("list", spec), ("dict", spec),
("optional", spec).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path

import numpy as np

from handrolled.errors import MachineError

from ..processes import exit_description
from .errors import ContractError, TargetError
from .wire import PREFIX, Handle, WireError, decode, encode, frame_length

DEFAULT_TIMEOUT = 60.0      # seconds per call: a real network's gradients take well under 1 s
MAX_TIMEOUT = 86_400.0
STARTUP_TIMEOUT = 120.0     # seconds for the interpreter and NumPy to start, before their code
STOP_GRACE = 2.0            # seconds the child gets to exit when asked, before SIGKILL


def default_memory() -> int:
    """The child's address-space limit: half the machine's memory, at least 2 GiB."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 << 30
    return max(2 << 30, total // 2)


_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding `compare`
_BOOT = ("import sys; sys.path[0] = {root!r}; "
         "from compare.check.child import main; main(sys.argv[1:])")


class Definition(dict):
    """What the user's module declares under a name that is not plain data:
    {"callable": "function" | "class" | "object" | None, "signature": ..., "methods": [...]}."""


class UserProcess:
    """A user's Python file loaded in a child process; call its functions by name."""

    def __init__(self, path: str | Path, timeout: float = DEFAULT_TIMEOUT,
                 memory: int | None = None, activation_modules: list[str] = (),
                 cwd: str | Path | None = None, environment: dict[str, str] | None = None):
        self.path = Path(path).resolve()
        self.cwd = Path(cwd).resolve() if cwd is not None else self.path.parent
        self.environment = environment  # variables set (or replaced) for the child
        self.activation_modules = [str(Path(m).resolve()) for m in activation_modules]
        if not self.path.is_file():
            raise TargetError(f"check target {self.path} does not exist or is not a file")
        if self.path.suffix != ".py":
            raise TargetError(f"check target {self.path.name} is not a .py file")
        self.timeout = float(timeout)
        self.memory = default_memory() if memory is None else int(memory)
        self._proc = None
        self._start()
        self._receive(f"starting Python for {self.path.name}", STARTUP_TIMEOUT)
        self.declared = self._declared(self._receive(f"{self.path.name}, while it was "
                                                     f"imported,"))

    # ------------------------------------------------------------ life cycle
    def _start(self) -> None:
        requests_r, requests_w = os.pipe()
        responses_r, responses_w = os.pipe()
        argv = [sys.executable, "-c", _BOOT.format(root=_ROOT), str(requests_r),
                str(responses_w), str(os.getpid()), str(self.memory), str(self.path),
                *self.activation_modules]
        try:
            self._proc = subprocess.Popen(
                argv, cwd=self.cwd, stdin=subprocess.DEVNULL,
                env=dict(os.environ, **self.environment) if self.environment else None, stdout=_stderr_fd(),
                stderr=_stderr_fd(), pass_fds=(requests_r, responses_w),
                start_new_session=True, close_fds=True)
        except OSError as error:
            for fd in (requests_r, requests_w, responses_r, responses_w):
                os.close(fd)
            raise MachineError(f"cannot start a process for {self.path.name}: "
                               f"{error.strerror or error}") from None
        finally:
            if self._proc is not None:
                os.close(requests_r)
                os.close(responses_w)
        self._requests, self._responses = requests_w, responses_r
        self._finalizer = weakref.finalize(self, _stop, self._proc, requests_w, responses_r)

    def close(self) -> None:
        """Ask the child to exit; kill it if it does not (its own threads included)."""
        self._finalizer()

    def __enter__(self) -> "UserProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # ------------------------------------------------------------ declarations
    def _declared(self, message: dict) -> dict:
        if "error" in message:
            error = message["error"]
            self.close()
            raise TargetError(f"{self.path.name} failed to import: it {error['message']}",
                              error.get("traceback", ""))
        out = {}
        for name, entry in message["ready"].items():
            out[name] = entry["value"] if "value" in entry else Definition(entry)
        return out

    def has(self, name: str) -> bool:
        return name in self.declared

    def is_callable(self, name: str) -> bool:
        entry = self.declared.get(name)
        return isinstance(entry, Definition) and entry.get("callable") is not None

    # ------------------------------------------------------------ calls
    def call(self, target, *args, returns="value", what: str | None = None,
             timeout: float | None = None, **kwargs):
        """Call `target` (a name, a dotted path from the module, or (handle, "method"))
        in the child with `args`; return its result in the form `returns` names."""
        label = what or _label(target)
        where = self._where(label)
        self._send({"op": "call", "target": _target(target), "args": list(args),
                    "kwargs": kwargs, "returns": returns}, where)
        answer = self._receive(where, timeout)
        if "ok" in answer:
            return _checked(answer["ok"], returns, label)
        error = answer["error"]
        kind = error["kind"]
        if kind == "contract":
            raise ContractError(f"{where} returned a result that {_place(error['path'])}"
                                f"{error['problem']}", tuple(error["path"]), error["problem"],
                                error.get("got", ""))
        if kind == "missing":
            raise TargetError(f"{where}: {error['message']}")
        if kind == "returned":
            raise TargetError(f"{where} returned a {error['type']}; reading it, its code "
                              f"{error['message']}", error.get("traceback", ""))
        raise TargetError(f"{where} {error['message']}{self._memory_hint(error['message'])}",
                          error.get("traceback", ""))

    def _where(self, label: str) -> str:
        """How messages name a call: "gradients() in my_net.py"."""
        return f"{label} in {self.path.name}"

    def release(self, handle: Handle) -> None:
        if self.alive:
            self._send({"op": "release", "handle": handle}, "releasing an object")

    # ------------------------------------------------------------ the channel
    def _send(self, body, where: str) -> None:
        if not self.alive:
            raise TargetError(f"{where}: the process running {self.path.name} has ended "
                              f"already")
        view = memoryview(encode(body))
        try:
            while view:
                view = view[os.write(self._requests, view):]
        except BrokenPipeError:
            raise self._ended(where) from None

    def _receive(self, what: str, timeout: float | None = None):
        """The next answer; `what` names the call for messages ("gradients() in net.py")."""
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        try:
            length = frame_length(self._read(PREFIX, deadline, what, limit))
            return decode(self._read(length, deadline, what, limit))
        except WireError as error:
            self.close()
            raise TargetError(f"{what} garbled the checker's channel "
                              f"to its process ({error}); write output with print(), "
                              f"not to inherited file descriptors") from None

    def _read(self, n: int, deadline: float, what: str, limit: float) -> bytes:
        chunks, left = [], n
        while left:
            remaining = deadline - time.monotonic()
            ready = select.select([self._responses], [], [], max(remaining, 0))[0]
            if not ready:  # stuck in their code: no grace to wait for, stop it now
                _kill_session(self._proc)
                self.close()
                raise TargetError(f"{what} did not return within "
                                  f"{limit:g} s, so its process was stopped (an endless loop? "
                                  f"a slow network can have more: --timeout SECONDS)")
            chunk = os.read(self._responses, min(left, 1 << 24))
            if not chunk:
                raise self._ended(what)
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _ended(self, what: str) -> TargetError:
        """The child is gone: say how, from its exit status."""
        try:
            code = self._proc.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            code = None
        self.close()
        if code is None:
            how = "closed the checker's channel"
        elif code < 0:
            how = exit_description(code)
        elif code == 3:
            how = "failed inside the checker's own code (see the line above)"
        else:
            how = f"exited with code {code} (os._exit() or exit() from a thread or handler)"
        return TargetError(f"{what} ended the process running it: it "
                           f"{how}; your code must return its results, not end the process")

    def _memory_hint(self, message: str) -> str:
        if "MemoryError" in message:
            return f" (your code may use up to {self.memory / 2**30:.3g} GiB of address space)"
        return ""


def _stop(proc: subprocess.Popen, requests: int, responses: int) -> None:
    """Close the channel (the child exits on it), then make sure: SIGKILL its session."""
    for fd in (requests, responses):
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        proc.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        pass
    _kill_session(proc)
    try:
        proc.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        pass


def _kill_session(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: children of theirs too
    except (ProcessLookupError, PermissionError):
        pass


def _stderr_fd() -> int:
    """What the user's code prints goes to our stderr: never into a table or JSON on stdout."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        return 2


def _target(target):
    if isinstance(target, tuple):
        handle, method = target
        if not isinstance(handle, Handle):
            raise TypeError("a method call needs (Handle, 'method')")
        return [handle, method]
    return str(target)


def _label(target) -> str:
    if isinstance(target, tuple):
        return f"{target[1]}()"
    return f"{target}()"


def _place(path) -> str:
    """'' for the whole result, else 'at [1]["kernel"] ' for a place inside it."""
    if not path:
        return ""
    return "at " + "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in path) + " "


def _checked(value, spec, label: str, path: tuple = ()):
    """The child already converted the result; make sure what arrived has that form (a
    damaged or forged answer is refused here, never trusted)."""
    def bad():
        return TargetError(f"{label}: the answer from its process does not have the form "
                           f"{spec!r} at {list(path)}")
    if spec == "array":
        if not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
            raise bad()
    elif spec == "float":
        if not isinstance(value, float):
            raise bad()
    elif spec == "handle":
        if not isinstance(value, Handle):
            raise bad()
    elif spec != "value":
        kind, inner = spec
        if kind == "optional":
            if value is not None:
                _checked(value, inner, label, path)
        elif kind == "tuple":
            if not isinstance(value, tuple) or len(value) != len(inner):
                raise bad()
            for i, (item, s) in enumerate(zip(value, inner)):
                _checked(item, s, label, (*path, i))
        elif kind == "list":
            if not isinstance(value, list):
                raise bad()
            for i, item in enumerate(value):
                _checked(item, inner, label, (*path, i))
        elif kind == "dict":
            if not isinstance(value, dict):
                raise bad()
            for key, item in value.items():
                _checked(item, inner, label, (*path, key))
    return value
