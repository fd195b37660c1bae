"""Keras' backend: which one runs the Keras twin, chosen before `keras` is imported.

    backends.select("jax")        # sets KERAS_BACKEND; a clear error if it cannot be had
    backend = backends.get()      # the chosen backend's module (tensorflow.py, jax.py, torch.py)
    keras = backend.import_keras()

Keras fixes its backend when it is first imported (from KERAS_BACKEND), so the
choice is made first: by `--backend` on the command line (compare/commands/common.py
calls `select` before anything imports Keras), else by KERAS_BACKEND, else the
first installed of TensorFlow, JAX, torch.  One process runs one backend; comparing backends runs one child
process each (compare/backends.py).

What differs between backends lives in one small module each, with the same
names: `import_keras` (float64, threads, a quiet import), `seed_everything`,
`call_and_gradients` (one call of a layer or model and the gradients of a scalar
of its output: tf.GradientTape, jax.value_and_grad over `stateless_call`,
torch.autograd).  Everything else goes through `keras.ops` and Keras' own `fit`.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

from handrolled.errors import MachineError, SpecError
from handrolled.registry import Registry

BACKENDS = Registry("Keras backend")
DEFAULT = "tensorflow"
VARIABLE = "KERAS_BACKEND"


class Backend:
    """What it takes to run one Keras backend: the package it needs, how to install it,
    and the module (keras_impl/backends/<module>.py) holding what is backend-specific."""

    name = ""
    package = ""      # the Python package Keras needs for it
    module = ""       # keras_impl.backends.<module>
    install = ""      # the one line that installs it
    # what a standalone Keras program (nn-compare code) says to run on this backend:
    # before `import keras`, and after seeding
    program_setup = ""
    program_determinism = ""

    @classmethod
    def installed(cls) -> bool:
        return importlib.util.find_spec(cls.package) is not None


@BACKENDS.register("tensorflow", "tf")
class TensorFlow(Backend):
    package, module = "tensorflow", "tensorflow_backend"
    install = 'pip install -e ".[tensorflow]" (or pip install tensorflow)'
    program_setup = 'os.environ["KERAS_BACKEND"] = "tensorflow"   # before keras is imported'
    program_determinism = ("import tensorflow as tf\n"
                           "tf.config.experimental.enable_op_determinism()")


@BACKENDS.register("jax")
class Jax(Backend):
    package, module = "jax", "jax_backend"
    install = 'pip install -e ".[jax]" (or pip install jax)'
    program_setup = ('os.environ["KERAS_BACKEND"] = "jax"   # before keras is imported\n'
                     'import jax\n'
                     'jax.config.update("jax_enable_x64", True)   # float64 really float64')


@BACKENDS.register("torch", "pytorch")
class Torch(Backend):
    package, module = "torch", "torch_backend"
    install = ('pip install -e ".[torch]" (or pip install torch; the CPU-only wheel: '
               'pip install torch --index-url https://download.pytorch.org/whl/cpu)')
    program_setup = 'os.environ["KERAS_BACKEND"] = "torch"   # before keras is imported'
    program_determinism = "import torch\ntorch.use_deterministic_algorithms(True)"


def names() -> list[str]:
    return BACKENDS.names()


def lookup(name: str) -> type[Backend]:
    """The backend for a name ('tf' and 'pytorch' too); a SpecError naming the accepted ones."""
    return BACKENDS.lookup(name)


def parse(text: str) -> list[str]:
    """'tensorflow,jax' -> ['tensorflow', 'jax']: known names, each once, in order."""
    chosen = []
    for part in str(text).split(","):
        name = lookup(part).name
        if name in chosen:
            raise SpecError(f"--backend names {name} twice; give each backend once")
        chosen.append(name)
    return chosen


def chosen() -> str:
    """The backend this process runs: KERAS_BACKEND (checked), else the first installed of
    tensorflow, jax, torch (an install without TensorFlow runs on what it has), else
    tensorflow (whose absence `get` then reports with the line that installs it)."""
    if os.environ.get(VARIABLE):
        return lookup(os.environ[VARIABLE]).name
    return next((name for name in names() if lookup(name).installed()), DEFAULT)


def check_installed(name: str) -> type[Backend]:
    backend = lookup(name)
    if not backend.installed():
        raise MachineError(f"the Keras backend '{backend.name}' needs {backend.package}, which "
                           f"is not installed; install it with: {backend.install}")
    return backend


def select(name: str) -> str:
    """Make `name` this process' Keras backend (KERAS_BACKEND), before Keras is imported.
    A backend that is not installed (MachineError), or Keras already running another one
    (SpecError)."""
    backend = check_installed(name)
    if "keras" in sys.modules:
        running = sys.modules["keras"].backend.backend()
        if running != backend.name:
            raise SpecError(f"Keras already runs on {running} in this process; the backend "
                            f"is chosen before Keras is imported (--backend or KERAS_BACKEND)")
    os.environ[VARIABLE] = backend.name
    return backend.name


def get(name: str | None = None):
    """The module of backend `name` (default: the chosen one), installed or a SpecError."""
    backend = check_installed(name or chosen())
    return importlib.import_module(f"{__name__}.{backend.module}")


__all__ = ["BACKENDS", "DEFAULT", "VARIABLE", "Backend", "names", "lookup", "parse", "chosen",
           "check_installed", "select", "get"]
