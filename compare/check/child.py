"""The process that runs a user's check target: the only place their code runs.

Started by `process.UserProcess` as

    python -c BOOT REQUEST_FD RESPONSE_FD PARENT_PID MEMORY_BYTES TARGET.py [MODULE.py ...]

in the target's own folder.  It dies with the checker (`die_with_parent`), limits its
address space to MEMORY_BYTES, runs the activation modules (--activation-module) and
imports the target, sends what the module declares
(`declared`), then answers calls until it is told to exit.  Everything the user's code
returns is converted here, by the call's `returns` spec, into plain data and arrays
(`wire.py`): no user object, and no method of one, ever reaches the checker's process.
Objects the checker must pass back later (a cache, an optimizer's state, a layer
instance) stay here as handles.

Whatever the user's code does (raises, calls sys.exit, raises KeyboardInterrupt or a
BaseException of its own, returns an object whose __array__ or __len__ misbehaves)
becomes an error answer naming it; what it does to this process (os._exit, a signal,
an endless loop, filling the memory) the checker sees from outside.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import resource
import sys
import traceback
from pathlib import Path

import numpy as np

from compare.processes import die_with_parent
from compare.check.wire import PREFIX, Handle, decode, encode, frame_length
from handrolled.activations import load_activation_module
from handrolled.usercode import what_it_did

MAX_PLAIN_ITEMS = 100_000   # values in one declared constant: a million-entry LAYERS is not one
MAX_PLAIN_DEPTH = 32


class Contract(Exception):
    """The result does not have the promised form: where (`path`) and what is wrong."""

    def __init__(self, path: tuple, problem: str, got: str = ""):
        super().__init__(problem)
        self.path, self.problem, self.got = path, problem, got

    @classmethod
    def at(cls, value, path: tuple, problem: str) -> "Contract":
        return cls(path, problem, type(value).__name__)


# ---------------------------------------------------------------- converting results

def as_floats(value, path: tuple) -> np.ndarray:
    """Real floating-point numbers as an array: float32/float16 kept (the checker judges
    their precision), other floats as float64; complex, integer, boolean and objects are
    refused, never cast (a complex array would lose its imaginary part)."""
    if isinstance(value, tuple):  # never one array: (y_hat, cache) where y_hat was meant
        raise Contract.at(value, path, f"is a tuple of {len(value)}; expected one array")
    if isinstance(value, np.ndarray) and value.dtype in (np.float32, np.float16):
        return np.array(value)  # a plain base-class copy, whatever subclass it was
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind in "OSUVMm":
        raise Contract.at(value, path, f"is a {type(value).__name__}, not an array of "
                                       f"numbers")
    if array.dtype.kind == "c":
        raise Contract.at(value, path, f"has complex dtype {array.dtype}; expected real "
                                       f"floating-point numbers (the imaginary part would be "
                                       f"dropped)")
    if array.dtype.kind != "f":
        raise Contract.at(value, path, f"has dtype {array.dtype}; expected floating-point "
                                       f"numbers")
    return np.array(array, dtype=np.float64 if array.dtype.itemsize > 4 else array.dtype)


def as_float(value, path: tuple) -> float:
    if isinstance(value, bool):
        raise Contract.at(value, path, "is a bool, not a number")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = None
    if array is None or array.size != 1 or array.dtype.kind not in "fiu":
        raise Contract.at(value, path, f"is a {type(value).__name__}, not a real number")
    return float(array.reshape(()))


def plain(value, path: tuple, budget: list | None = None, depth: int = 0):
    """Plain data (numbers, strings, None, lists, dicts with string keys), read here."""
    budget = [MAX_PLAIN_ITEMS] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_PLAIN_DEPTH:
        raise Contract.at(value, path, "is too large or too deeply nested for a "
                                       "declaration")
    if value is None or isinstance(value, (bool, str)):
        return str(value) if isinstance(value, str) else value
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [plain(item, (*path, i), budget, depth + 1) for i, item in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise Contract.at(value, path, f"has a key {type(key).__name__}; keys must "
                                               f"be strings")
            out[str(key)] = plain(item, (*path, str(key)), budget, depth + 1)
        return out
    raise Contract.at(value, path, f"is a {type(value).__name__}, not plain data")


class Objects:
    """The objects kept here for the checker, by handle number."""

    def __init__(self):
        self.kept: dict[int, object] = {}
        self.next = 1

    def keep(self, value) -> Handle:
        self.kept[self.next] = value
        self.next += 1
        return Handle(self.next - 1)

    def get(self, handle: Handle):
        if handle.id not in self.kept:
            raise KeyError(f"handle {handle.id} was released")
        return self.kept[handle.id]


def convert(value, spec, objects: Objects, path: tuple = ()):
    """`value` in the form `spec` promises (see process.UserProcess.call)."""
    if spec == "array":
        return as_floats(value, path)
    if spec == "float":
        return as_float(value, path)
    if spec == "handle":
        return objects.keep(value)
    if spec == "value":
        return plain(value, path)
    kind, inner = spec
    if kind == "optional":
        return None if value is None else convert(value, inner, objects, path)
    if kind == "tuple":
        if not isinstance(value, (tuple, list)):
            raise Contract.at(value, path, f"is a {type(value).__name__}; expected a tuple "
                                           f"of {len(inner)}")
        items = list(value)
        if len(items) != len(inner):
            raise Contract.at(value, path, f"is a {type(value).__name__} of {len(items)}; "
                                           f"expected {len(inner)}")
        return tuple(convert(item, s, objects, (*path, i))
                     for i, (item, s) in enumerate(zip(items, inner)))
    if kind == "list":
        if not isinstance(value, (tuple, list)):
            raise Contract.at(value, path, f"is a {type(value).__name__}; expected a list")
        return [convert(item, inner, objects, (*path, i)) for i, item in enumerate(list(value))]
    if kind == "dict":
        if not isinstance(value, dict):
            raise Contract.at(value, path, f"is a {type(value).__name__}; expected a dict")
        out = {}
        for key, item in dict(value).items():
            if not isinstance(key, str):
                raise Contract.at(value, path, f"has a key {key!r}; keys must be strings")
            out[str(key)] = convert(item, inner, objects, (*path, str(key)))
        return out
    raise ValueError(f"unknown returns spec {spec!r}")


# ---------------------------------------------------------------- what the module declares

def describe(value) -> dict | object:
    """A module global as the checker sees it: plain data, or what kind of callable."""
    if inspect.isclass(value):
        return {"callable": "class", "signature": _signature(value),
                "methods": sorted(n for n, m in inspect.getmembers(value, callable)
                                  if not n.startswith("_"))}
    if inspect.isroutine(value):
        return {"callable": "function", "signature": _signature(value)}
    try:
        return {"value": plain(value, ())}
    except Contract:
        pass
    methods = sorted(n for n in dir(type(value)) if not n.startswith("_")
                     and callable(getattr(type(value), n, None)))
    return {"callable": "object" if methods else None, "type": type(value).__name__,
            "methods": methods}


def _signature(value) -> str:
    try:
        return str(inspect.signature(value))
    except (TypeError, ValueError):
        return "(...)"


def declared(module) -> dict:
    out = {}
    for name, value in list(vars(module).items()):
        if name.startswith("_") or inspect.ismodule(value):
            continue
        try:
            out[name] = describe(value)
        except Exception as error:  # noqa: BLE001 - a property of theirs raising
            out[name] = {"callable": None, "type": type(value).__name__,
                         "error": what_it_did(error)}
    return out


# ---------------------------------------------------------------- the user's tracebacks

def user_traceback(error: BaseException, path: Path) -> str:
    """The traceback from the first frame in the user's file on: their code, not ours."""
    try:
        tb = error.__traceback__
        while tb is not None and Path(tb.tb_frame.f_code.co_filename).resolve() != path:
            tb = tb.tb_next
        lines = ["Traceback (most recent call last):\n", *traceback.format_tb(tb)] if tb else []
        lines += traceback.format_exception_only(type(error), error)
        return "".join(lines)
    except BaseException:  # noqa: BLE001 - their exception's __str__ may misbehave too
        return ""


def did(error: BaseException) -> str:
    try:
        return what_it_did(error)
    except BaseException:  # noqa: BLE001
        return f"raised {type(error).__name__}"


# ---------------------------------------------------------------- the loop

class Server:
    def __init__(self, requests: int, responses: int, path: Path, modules: list[str]):
        self.requests, self.responses, self.path = requests, responses, path
        self.modules = modules  # --activation-module files, registered before the target
        self.objects = Objects()
        self.module = None
        self.recursion_limit = sys.getrecursionlimit()

    def restore(self) -> None:
        """What their code may have lowered for itself, back before our code runs again."""
        if sys.getrecursionlimit() < self.recursion_limit:
            sys.setrecursionlimit(self.recursion_limit)

    def send(self, body) -> None:
        data = encode(body)
        view = memoryview(data)
        while view:
            written = os.write(self.responses, view)
            view = view[written:]

    def receive(self):
        prefix = self._read(PREFIX)
        return decode(self._read(frame_length(prefix)))

    def _read(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = os.read(self.requests, min(left, 1 << 24))
            if not chunk:
                os._exit(0)  # the checker closed the channel: it is done with us
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def load(self) -> dict:
        name = f"_nn_compare_target_{abs(hash(str(self.path)))}"
        spec = importlib.util.spec_from_file_location(name, self.path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling in user code look themselves up
        try:
            for activations in self.modules:
                load_activation_module(activations)
            spec.loader.exec_module(module)
        except BaseException as error:  # noqa: BLE001 - all of it is theirs
            self.restore()
            return {"error": {"kind": "import", "message": did(error),
                              "traceback": getattr(error, "details", "")
                              or user_traceback(error, self.path)}}
        self.restore()
        self.module = module
        return {"ready": declared(module)}

    def resolve(self, target):
        if isinstance(target, (tuple, list)):  # (handle, "method.path")
            value, dotted = self.objects.get(target[0]), target[1]
        else:
            value, dotted = self.module, target
        for part in dotted.split("."):
            value = getattr(value, part)
        return value

    def call(self, request: dict) -> dict:
        target = request["target"]
        try:
            function = self.resolve(target)
        except (AttributeError, KeyError):
            name = target if isinstance(target, str) else f"the object's {target[1]}"
            return {"error": {"kind": "missing", "message": f"{name} is not defined"}}
        except BaseException as error:  # noqa: BLE001 - a __getattr__ of theirs
            return {"error": {"kind": "raised", "message": did(error),
                              "traceback": user_traceback(error, self.path)}}
        args = [self._unwrap(a) for a in request["args"]]
        kwargs = {k: self._unwrap(v) for k, v in request["kwargs"].items()}
        try:
            result = function(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001
            self.restore()
            return {"error": {"kind": "raised", "message": did(error),
                              "traceback": user_traceback(error, self.path)}}
        self.restore()
        try:
            return {"ok": convert(result, request["returns"], self.objects)}
        except Contract as error:
            return {"error": {"kind": "contract", "path": list(error.path),
                              "problem": error.problem, "got": error.got}}
        except BaseException as error:  # noqa: BLE001 - their __len__, __array__, __iter__
            return {"error": {"kind": "returned", "message": did(error),
                              "type": type(result).__name__,
                              "traceback": user_traceback(error, self.path)}}

    def _unwrap(self, value):
        if isinstance(value, Handle):
            return self.objects.get(value)
        if isinstance(value, list):
            return [self._unwrap(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._unwrap(v) for v in value)
        if isinstance(value, dict):
            return {k: self._unwrap(v) for k, v in value.items()}
        return value

    def serve(self) -> None:
        self.send({"started": True})  # the interpreter is up: the user's time starts now
        self.send(self.load())
        if self.module is None:
            return
        while True:
            request = self.receive()
            op = request.get("op")
            if op == "exit":
                return
            if op == "release":
                self.objects.kept.pop(request["handle"].id, None)
                continue
            answer = self.call(request)
            try:
                sys.stdout.flush()  # what their code printed goes out before the answer
            except BaseException:  # noqa: BLE001
                pass
            self.send(answer)


def main(argv: list[str]) -> None:
    requests, responses, parent, memory = (int(x) for x in argv[:4])
    path = Path(argv[4])
    die_with_parent(parent)
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    sys.path.insert(0, str(path.parent))  # so the file can import its neighbours
    code = 0
    try:
        Server(requests, responses, path, argv[5:]).serve()
    except BrokenPipeError:
        pass  # the checker stopped listening (it gave up on a slow call): nothing to say
    except BaseException as error:  # noqa: BLE001 - our own failure: say it, exit 3
        if os.environ.get("NN_COMPARE_DEBUG"):
            traceback.print_exc()
        else:
            try:
                os.write(2, f"nn-compare: the process running your code failed: "
                            f"{type(error).__name__}\n".encode())
            except OSError:
                pass
        code = 3
    os._exit(code)  # no atexit handler, no thread of theirs, keeps it alive or changes the code
