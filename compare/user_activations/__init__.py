"""--activation-module files run in a process of their own, never in the checker's.

    names = load(["my_activations.py"], timeout=60)   # registers stand-ins here
    with session():                                   # the command line runs each command in one
        ...  # handrolled and Keras use "softsign" as any activation

`load` starts one child per set of modules (`compare.check.process.UserProcess`, the
process `nn-compare check` runs a target in: its own session, a memory limit, dying
with the checker) that runs `server.py` and the user's files, and registers here, under
the same names, a `RemoteActivation` for each activation they registered.  Its `value`
and `derivative` send z (and a) to the child and get arrays back; its Keras side
(`keras_function`) is a TensorFlow op whose forward value and whose gradient
(TensorFlow differentiating f(z, keras.ops), in the child) come from there too.  So the
user's code never runs here: not at import, not inside Keras' tracing.  Every call has
the time limit (`--timeout`); whatever their code does (raises, sys.exit, os._exit, a
signal, an endless loop, a thread, printing, patching the checker's modules, changing
its working directory) happens in the child and comes back as one line, exit 2.

The numbers are those of the same functions on the same arrays: the hand-written side
bit for bit, and TensorFlow's gradient of f is taken by the same kernels, with the
gradient flowing into f as the upstream one.  The cost is a pipe round trip per call
(see docs) and, for commands that run Keras, TensorFlow imported once more, in the child.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import numpy as np

from handrolled.activations import ActivationModuleError, UserActivation, names
from handrolled.activations.user import register_user_instance, unregister_user_activation
from handrolled.errors import ReportedError, SpecError

from ..check.errors import TargetError
from ..check.process import STARTUP_TIMEOUT, UserProcess

DEFAULT_TIMEOUT = 60.0   # seconds per call: a batch through f takes milliseconds
SERVER = Path(__file__).resolve().with_name("server.py")
_FORM = "expected a Python file (.py) that calls register_user_activation(...)"


class ActivationProcess:
    """One child running some activation modules; calls into it, one at a time."""

    def __init__(self, paths: list[str], timeout: float = DEFAULT_TIMEOUT,
                 memory: int | None = None, keras: bool = True):
        files = [_checked_file(path) for path in paths]
        self.paths = tuple(str(f) for f in files)
        self.lock = threading.Lock()  # TensorFlow may call from several threads
        self.failure: ReportedError | None = None  # the first one: what the command reports
        self.keras_ready = False
        self.process = _Process(SERVER, timeout=timeout, memory=memory, cwd=files[0].parent,
                                environment={"CUDA_VISIBLE_DEVICES": "-1"})
        self.added: list[str] = []
        self.kinks: dict[str, tuple] = {}
        try:
            for path, file in zip(paths, files):
                loaded = self.call("load", str(file), returns="value",
                                   what=f"activation module {path}, while it was loaded,")
                self.added += loaded["added"]
                self.kinks.update({name: tuple(k) for name, k in loaded["activations"]})
            if keras:  # the commands run Keras later: the child imports TensorFlow in a
                # thread meanwhile, while this process prepares its data (and its own)
                self.call("keras_prepare", returns="value",
                          what="importing TensorFlow for the activation modules")
        except BaseException:
            self.close()
            raise

    def call(self, function: str, *args, returns="array", what: str, timeout=None):
        """`function` of server.py in the child; the user's failure as one line."""
        with self.lock:
            if self.failure is not None:  # the child is gone: say why, once more
                raise self.failure
            try:
                error, result = self.process.call(
                    function, *args, returns=("tuple", ["value", ("optional", returns)]),
                    what=what, timeout=timeout)
            except ReportedError as failure:
                self.failure = failure
                raise
            if error is not None:
                self.failure = ActivationModuleError(error["message"], error["details"])
                raise self.failure
            return result

    def close(self) -> None:
        self.process.close()

    def wait_for_keras(self) -> None:
        """Before the first call with keras.ops: TensorFlow imported in the child, within
        the start-up time limit (not the user's per-call one)."""
        if not self.keras_ready:
            self.call("keras_wait", returns="value",
                      timeout=max(STARTUP_TIMEOUT, self.process.timeout),
                      what="importing TensorFlow for the activation modules")
            self.keras_ready = True


class _Process(UserProcess):
    """UserProcess, naming each call by what it is for ("the function of user activation
    'softsign'"), not by the server file's name."""

    def _where(self, what: str) -> str:
        return what


def _checked_file(path: str) -> Path:
    file = Path(path)
    if not file.exists():
        raise SpecError(f"activation module {path} does not exist; {_FORM}")
    if not file.is_file() or file.suffix != ".py":
        raise SpecError(f"activation module {path} is not a .py file; {_FORM}")
    return file.resolve()


class RemoteActivation(UserActivation):
    """A user activation whose function and derivative run in the child."""

    def __init__(self, process: ActivationProcess, name: str, kinks=()):
        super().__init__(name, None, None, kinks, source=", ".join(process.paths))
        self.process = process

    def value(self, z):
        z = np.asarray(z)
        what = f"the function of user activation '{self.name}'"
        return self._like(z, self.process.call("value", self.name, z, what=what), what)

    def derivative(self, z, a):
        z = np.asarray(z)
        what = f"the derivative of user activation '{self.name}'"
        return self._like(z, self.process.call("derivative", self.name, z, np.asarray(a),
                                               what=what), what)

    def _like(self, z: np.ndarray, result: np.ndarray, what: str) -> np.ndarray:
        """The child checked the shape and dtype; checked again here, where it counts."""
        if result.shape != z.shape or result.dtype != z.dtype:
            failure = TargetError(f"{what}: its process answered shape {result.shape}, dtype "
                                  f"{result.dtype} for z of shape {z.shape}, dtype {z.dtype}")
            self.process.failure = self.process.failure or failure
            raise failure
        return result

    def keras_value(self, z: np.ndarray) -> np.ndarray:
        from keras_impl.runtime import keras

        self.process.wait_for_keras()
        return self.process.call("keras_value", self.name, z, keras.config.floatx(),
                                 what=f"the function of user activation '{self.name}' "
                                      f"(given keras.ops)")

    def keras_vjp(self, z: np.ndarray, dy: np.ndarray) -> np.ndarray:
        from keras_impl.runtime import keras

        return self.process.call("keras_vjp", self.name, z, dy, keras.config.floatx(),
                                 what=f"TensorFlow's gradient of user activation "
                                      f"'{self.name}'")

    def keras_function(self):
        """f for the Keras side (keras_impl.activations asks for it): a TensorFlow op
        whose value and gradient the child computes, f(z, keras.ops) there; checked at
        once on a (3, 4) probe, as a function traced here would be."""
        from keras_impl.runtime import keras, tf

        if keras.backend.backend() != "tensorflow":
            raise SpecError(f"user activation '{self.name}' runs in a process of its own, "
                            f"which the Keras side reaches with the TensorFlow backend only")
        self.keras_value(np.linspace(-2.0, 2.0, 12).reshape(3, 4).astype(keras.config.floatx()))

        @tf.custom_gradient
        def function(z):
            y = tf.numpy_function(self.keras_value, [z], z.dtype, name=f"user_{self.name}")
            y.set_shape(z.shape)

            def gradient(dy):
                g = tf.numpy_function(self.keras_vjp, [z, dy], z.dtype,
                                      name=f"user_{self.name}_gradient")
                g.set_shape(z.shape)
                return g

            return y, gradient

        return function


# ---------------------------------------------------------------- loading, the session

_PROCESSES: list[ActivationProcess] = []


def load(paths, timeout: float = DEFAULT_TIMEOUT, keras: bool = True) -> list[str]:
    """Run the modules at `paths` in a child (one for them all) and register their
    activations here; return the names they added.  Modules already running (the same
    files) are not started again.  `keras`: start importing TensorFlow there at once
    (else on the first call that needs it)."""
    paths = list(paths)
    if not paths:
        return []
    key = tuple(str(_checked_file(p)) for p in paths)
    for process in _PROCESSES:
        if process.paths == key and process.failure is None:
            return list(process.added)
    process = ActivationProcess(paths, timeout, keras=keras)
    _PROCESSES.append(process)
    for name, kinks in process.kinks.items():
        register_user_instance(RemoteActivation(process, name, kinks),
                               replace=True)
    return list(process.added)


def failure() -> ReportedError | None:
    """The first failure of a child's user code, if any."""
    return next((p.failure for p in _PROCESSES if p.failure is not None), None)


@contextlib.contextmanager
def surfacing_failures():
    """A failure of the user's code inside a TensorFlow op (which TensorFlow wraps in an
    error of its own, without their traceback) comes out as itself."""
    try:
        yield
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        first = failure()
        if first is not None and error is not first:
            raise first from None
        raise


@contextlib.contextmanager
def session():
    """Around a command: `surfacing_failures`, and at the end the children are stopped
    and their stand-ins unregistered."""
    try:
        with surfacing_failures():
            yield
    finally:
        close_all()


def close_all() -> None:
    while _PROCESSES:
        process = _PROCESSES.pop()
        process.close()
        for name in process.kinks:
            if isinstance(_registered(name), RemoteActivation):
                unregister_user_activation(name)


def _registered(name: str):
    from handrolled.activations.user import _USER

    return _USER.get(name) if name in names() else None
