"""The child's side of `compare.user_activations`: the only place an --activation-module runs.

`compare.check.process.UserProcess` loads this file as its target (in a process of its
own, with a memory limit, dying with the checker), and the checker calls these
functions by name with arrays:

    load(path)                     run one activation module; the names it registered
    value(name, z)                 f(z, numpy)          the hand-written side
    derivative(name, z, a)         f'(z) by hand (the user's derivative(z, a))
    keras_prepare()                start importing TensorFlow and Keras (no user code)
    keras_wait()                   wait for that import (no user code)
    keras_value(name, z, floatx)   f(z, keras.ops) on a TensorFlow tensor
    keras_vjp(name, z, dy, floatx) TensorFlow's own gradient of f at z, times dy

Each returns (None, result), or (error, None) where the user's code failed: `error`
holds the one line and their traceback, for `ActivationModuleError` on the checker's
side.  What the user's code does to this process (os._exit, a signal, an endless loop)
the checker sees from outside.
"""

from __future__ import annotations

import sys
import traceback

import numpy as np

from handrolled.activations import UserActivation, load_activation_module, user_names
from handrolled.activations.user import _USER
from handrolled.errors import ReportedError, SpecError
from handrolled.usercode import what_it_did


_NUMPY = dict(vars(np))  # NumPy as it was before any user code: what converting results needs


def _numpy_changed() -> list[str]:
    return [f"np.{name}" for name, value in _NUMPY.items()
            if not name.startswith("_") and vars(np).get(name, _NUMPY) is not value]


def _answer(what: str, compute):
    """(None, compute()) or ({"message", "details"}, None): any failure of the user's code,
    a BaseException of their own included, as data the checker turns into one line."""
    limit = sys.getrecursionlimit()
    try:
        result = compute()
        changed = _numpy_changed()
        if changed:  # the results could not be converted, nor the next call answered
            return {"message": f"{what} changed NumPy itself ({', '.join(changed[:3])} "
                               f"deleted or replaced); your code may use NumPy, not change "
                               f"it", "details": ""}, None
        return None, result
    except ReportedError as error:  # ActivationModuleError: the message names the function
        return {"message": str(error), "details": getattr(error, "details", "")}, None
    except BaseException as error:  # noqa: BLE001 - theirs: KeyboardInterrupt, GeneratorExit
        try:
            details = "".join(traceback.format_exception(type(error), error,
                                                         error.__traceback__))
            message = f"{what} {what_it_did(error)}"
        except BaseException:  # noqa: BLE001 - their exception's __str__ misbehaving
            details, message = "", f"{what} raised {type(error).__name__}"
        return {"message": message, "details": details}, None
    finally:
        if sys.getrecursionlimit() < limit:  # what their code lowered, back for ours
            sys.setrecursionlimit(limit)


def _user(name: str) -> UserActivation:
    return _USER[name]


def load(path: str):
    """Run the module at `path`; (None, (new names, every user activation with its kinks))."""
    def run():
        added = load_activation_module(path)
        known = [[name, [float(k) for k in _USER[name].kinks]] for name in user_names()]
        return {"added": list(added), "activations": known}
    return _answer(f"activation module {path}, while it was loaded,", run)


def value(name: str, z: np.ndarray):
    return _answer(f"user activation '{name}': its function",
                   lambda: _user(name).value(z))


def derivative(name: str, z: np.ndarray, a: np.ndarray):
    return _answer(f"user activation '{name}': its derivative",
                   lambda: _user(name).derivative(z, a))


_KERAS = {}
_IMPORTING: list = []  # the thread importing TensorFlow, once started


def keras_prepare():
    """Start importing TensorFlow and Keras (in a thread: calls of the hand-written side
    are answered meanwhile); the first call with keras.ops waits for it."""
    import threading

    def run():
        try:
            import keras_impl  # noqa: F401 - keras_impl.runtime imports TensorFlow quietly
            from keras_impl.runtime import keras, tf

            tf.config.experimental.enable_op_determinism()
            _KERAS.update(keras=keras, tf=tf)
        except BaseException as error:  # noqa: BLE001 - e.g. their module broke NumPy
            _KERAS["failed"] = error

    if not _IMPORTING:
        _IMPORTING.append(threading.Thread(target=run, name="import-tensorflow", daemon=True))
        _IMPORTING[0].start()
    return None, True


def keras_wait():
    """Wait for the import (the checker gives this call the start-up time limit)."""
    _keras()
    return None, True


def _keras():
    """(keras, tf), once the import has finished."""
    if not _IMPORTING:
        keras_prepare()
    _IMPORTING[0].join()
    if "failed" in _KERAS:
        error = _KERAS["failed"]
        raise SpecError(f"TensorFlow failed to import after the activation modules ran: "
                        f"{what_it_did(error)}")
    return _KERAS["keras"], _KERAS["tf"]


def _with_keras_ops(name: str, z: np.ndarray, floatx: str):
    """f(z, keras.ops) on z as a TensorFlow tensor, checked as the checker's process
    checked it when it traced the function itself: a tensor of z's shape, not NumPy."""
    keras, tf = _keras()
    if keras.config.floatx() != floatx:
        keras.config.set_floatx(floatx)
    act = _user(name)
    return act, tf.constant(z)


def _checked_tensor(act: UserActivation, out, z: np.ndarray) -> np.ndarray:
    if isinstance(out, np.ndarray):  # works eagerly, but fit's graph cannot run NumPy
        raise SpecError(f"user activation '{act.name}' returns a NumPy array when given "
                        f"keras.ops; write it with xp.* (xp.abs, xp.where, ...), not np.*")
    shape = tuple(getattr(out, "shape", ()))
    if shape != z.shape:
        raise SpecError(f"user activation '{act.name}' returns shape {shape} for input shape "
                        f"{z.shape} when given keras.ops; it must work elementwise")
    return np.asarray(out).astype(z.dtype, copy=False)


def keras_value(name: str, z: np.ndarray, floatx: str):
    def run():
        act, tensor = _with_keras_ops(name, z, floatx)
        ops = _keras()[0].ops
        out = act.call_user("function (given keras.ops)", act.function, tensor, ops)
        return _checked_tensor(act, out, z)
    return _answer(f"user activation '{name}': its function (given keras.ops)", run)


def keras_vjp(name: str, z: np.ndarray, dy: np.ndarray, floatx: str):
    """dy * f'(z) by TensorFlow's automatic differentiation of f(z, keras.ops): the
    gradient that flows back through f when f is part of the model."""
    def run():
        act, tensor = _with_keras_ops(name, z, floatx)
        keras, tf = _keras()
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            out = act.call_user("function (given keras.ops)", act.function, tensor,
                                keras.ops)
        _checked_tensor(act, out, z)
        grad = tape.gradient(out, tensor, output_gradients=tf.constant(dy),
                             unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return np.asarray(grad).astype(z.dtype, copy=False)
    return _answer(f"user activation '{name}': its function (given keras.ops)", run)
