"""Keras' runs of a training comparison in a process of their own: `run_keras_apart`.

    history, peak_mb = run_keras_apart(spec, weights, data, orders, batch, lr, seed, progress)

TensorFlow keeps about 1.3 GB resident once it has run (docs/experiments/
tensorflow_memory.py), and nothing in its process gives that back: with Keras in
`nn-compare`'s own process, book-ch19-cnn's run peaked at 4.8 GB.  Here `run_keras`
(runs.py) runs in a fresh Python started for it (a new interpreter, not a fork: this
process never imports TensorFlow), one run at a time, before or after the hand-written
runs, never beside them: the machine's peak is the larger of the two processes, not
their sum (docs/PERFORMANCE.md).

The data goes to the child as .npy files in a private temporary folder, read there
with np.load(mmap_mode="r"); the spec, settings and names as JSON.  The child's
History (evaluations, per-step losses, final weights, moving statistics, optimizer
slots, the dropout masks it drew), the installed Keras' conventions (which the
hand-written side must follow: `conventions_from`) and its peak resident memory come
back the same way.  Progress comes over a pipe, one JSON line per event, to the
parent's `progress`.  The folder is removed when the run ends, however it ends
(Ctrl-C included); the child dies with this process (compare/processes.py), runs in a
session of its own (the terminal's Ctrl-C reaches only this process, which then stops
it), and a child that fails, crashes or is killed is one line (SpecError, exit 2).

`wanted(mode, spec, lr)` decides whether a run goes to a child: `--keras-process`
always/never, or auto (the default): a child when Keras is not already running here
and the parameters with their optimizer slots take at least AUTO_BYTES.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from handrolled import NetworkSpec, Params, optimizers
from handrolled.conventions import Conventions
from handrolled.errors import SpecError
from handrolled.spec import network_from_json

from ..processes import exit_description
from .data import EpochOrders, TrainingData
from .history import Divergence, History

MODES = ("auto", "always", "never")
AUTO_BYTES = 64 * 2 ** 20  # parameters + optimizer slots from which auto runs Keras apart.
# Apart, the peak is max(TensorFlow + Keras' run, the hand-written runs) instead of their
# sum: it saves about what the hand-written side holds (each run's weights and slots, 4 to
# 6 copies of these bytes: ~256 MB and more here, book-ch19-cnn's ~450 MB a copy), next
# to nothing for a small network, whose peak is TensorFlow's either way; and a run that
# keeps Keras here (the tests' in-process runs, --from-keras) starts no second TensorFlow
FAILED = 3  # the child's exit status when it wrote error.json

_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding `compare`
_BOOT = ("import sys; sys.path[0] = {root!r}; from compare.processes import die_with_parent; "
         "die_with_parent(int(sys.argv[3])); "
         "from compare.training.keras_process import child_main; child_main(sys.argv[1:])")


# ------------------------------------------------------------------ the decision
def wanted(mode: str, spec: NetworkSpec, lr) -> bool:
    """Whether Keras' runs go to a process of their own (`--keras-process MODE`)."""
    if mode not in MODES:
        raise SpecError(f"--keras-process must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "never":
        return False
    if mode == "always":
        job_spec(spec)  # a network the child cannot rebuild: one line, now
        return True
    if "keras" in sys.modules:  # its memory is spent already; a child adds a TensorFlow
        return False
    try:
        job_spec(spec)
    except SpecError:  # e.g. --activation-module's activations live in this process
        return False
    return state_bytes(spec, lr) >= AUTO_BYTES


def state_bytes(spec: NetworkSpec, lr) -> int:
    """Bytes of the parameters and their optimizer slots (what each run holds at its end)."""
    numbers = sum(math.prod(shape) for shape in spec.param_shapes().values())
    slots = len(optimizers.for_training(lr).slots())
    return numbers * np.dtype(spec.dtype).itemsize * (1 + slots)


def job_spec(spec: NetworkSpec) -> dict:
    """The spec as JSON for the child; SpecError if the JSON does not give it back whole,
    or if it names an --activation-module activation (registered in this process only)."""
    from handrolled.activations import UserActivation

    for layer in spec.build_layers():
        for function in getattr(layer.activation, "functions", [layer.activation]):
            if isinstance(function, UserActivation):
                raise SpecError(f"the activation {function.name} of {layer.name} comes from "
                                f"--activation-module, which runs beside this process, not "
                                f"Keras' own: use --keras-process never (or auto)")
    form = {"json": spec.to_json(), "dtype": spec.dtype, "seed": spec.seed}
    try:
        same = spec_from_job(json.loads(json.dumps(form))) == spec
    except (SpecError, TypeError, ValueError):
        same = False
    if not same:
        raise SpecError(f"the network {spec.describe()} cannot be handed to another process "
                        f"(its JSON form does not rebuild it); use --keras-process never")
    return form


def spec_from_job(form: dict) -> NetworkSpec:
    network = form["json"]
    return NetworkSpec(tuple(network["input_shape"]), network_from_json(network),
                       network["classes"], form["dtype"], form["seed"], network["loss"])


# ------------------------------------------------------------------ the parent's side
def run_keras_apart(spec: NetworkSpec, weights: Params, data: TrainingData, orders,
                    batch_size: int, lr, seed: int, progress=None,
                    state: Params | None = None, gradients_batch=None
                    ) -> tuple[History, dict]:
    """`runs.run_keras` in a child process: its History, and {"peak_mb": the child's
    peak resident memory, "notes": what its Keras narrows (`train`'s notes),
    "gradients": Keras' half of the gradient check on `gradients_batch` (X, Y), computed
    there first as `report` does it before training (compare.gradients.KerasSide), or
    None, "conventions": the child's Keras conventions (a handrolled Conventions), which
    the hand-written side must follow}."""
    from .. import console
    from .runs import _begin, _report

    if not isinstance(orders, EpochOrders):
        raise TypeError("run_keras_apart takes EpochOrders (drawn again in the child)")
    try:
        folder = Path(tempfile.mkdtemp(prefix="nn-compare-keras-"))
    except OSError as error:
        raise SpecError(f"cannot make a temporary folder for Keras' run in "
                        f"{tempfile.gettempdir()}: {error.strerror or error}") from None
    process = None
    try:
        try:
            _write_job(folder, spec, weights, data, orders, batch_size, lr, seed, state,
                       gradients_batch)
        except OSError as error:  # a full disk: the data set is written there once
            raise SpecError(f"cannot write the data for Keras' run to {folder}: "
                            f"{error.strerror or error} (set TMPDIR to a folder with room for the "
                            f"data set, or use --keras-process never)") from None
        events_r, events_w = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", _BOOT.format(root=_ROOT), str(folder), str(events_w),
                 str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=_stderr_fd(), stderr=_stderr_fd(),
                pass_fds=(events_w,), start_new_session=True, close_fds=True)
        except OSError as error:
            os.close(events_r)
            raise SpecError(f"cannot start a process for Keras' run: "
                            f"{error.strerror or error}") from None
        finally:
            os.close(events_w)
        shown = History()  # what the progress bar reads: the evaluations so far
        with os.fdopen(events_r, "r") as events:
            with console.waiting("starting Keras in a process of its own (loading "
                                 "TensorFlow takes a few seconds)"):
                first = events.readline()  # the child's run begins: its bar takes over
            for line in itertools.chain([first] if first else [], events):
                event = json.loads(line)
                if "begin" in event:
                    _begin(progress, event["begin"])
                else:
                    shown.record(event["evaluation"], event["seconds"], np.zeros(0))
                    _report(progress, event["side"], event["epoch"], shown)
        code = process.wait()
        if code == FAILED and (folder / "error.json").exists():
            raise SpecError(json.loads((folder / "error.json").read_text())["message"])
        if code != 0:
            raise SpecError(f"Keras' run in its own process failed: the process "
                            f"{exit_description(code)} (--keras-process never runs Keras "
                            f"in this process instead)")
        history, answer = _read_history(folder / "out")
        return history, {"peak_mb": answer["peak_mb"], "notes": answer["notes"],
                         "gradients": _read_keras_side(folder / "out", answer["gradients"]),
                         "conventions": conventions_from(answer["conventions"])}
    finally:
        if process is not None and process.poll() is None:  # Ctrl-C, or an error here
            _kill(process)
        shutil.rmtree(folder, ignore_errors=True)


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)  # its own session
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _stderr_fd() -> int:
    """What the child prints goes to our stderr, never into stdout's tables or JSON."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        return 2


def conventions_from(form: dict) -> Conventions:
    """The Conventions value the child's Keras measured, from its JSON form (a value:
    the caller hands it to the spec of the hand-written runs, nothing is set here)."""
    return Conventions(**form)


# ------------------------------------------------------------------ files
def _save_arrays(folder: Path, prefix: str, arrays: dict) -> dict:
    """Each array as folder/<prefix><i>.npy; return {name: file}."""
    names = {}
    for i, (name, value) in enumerate(arrays.items()):
        names[name] = f"{prefix}{i}.npy"
        np.save(folder / names[name], np.asarray(value), allow_pickle=False)
    return names


def _load_arrays(folder: Path, names: dict, mmap: bool = False) -> dict:
    return {name: np.load(folder / file, mmap_mode="r" if mmap else None, allow_pickle=False)
            for name, file in names.items()}


def _write_job(folder: Path, spec, weights, data: TrainingData, orders: EpochOrders,
               batch_size, lr, seed, state, gradients_batch=None) -> None:
    if isinstance(lr, optimizers.Optimizer):
        lr = lr.text
    elif not isinstance(lr, str):
        lr = float(lr)
    arrays = {name: getattr(data, name) for name in
              ("X_train", "Y_train", "y_train", "X_test", "y_test", "X_validation",
               "y_validation") if getattr(data, name) is not None}
    job = {"spec": job_spec(spec), "name": data.name,
           "data": _save_arrays(folder, "data", arrays),
           "weights": _save_arrays(folder, "weights", weights),
           "state": None if state is None else _save_arrays(folder, "state", state),
           "orders": {"rows": orders.rows, "epochs": orders.epochs, "seed": orders.seed,
                      "shuffle": orders.shuffle, "batch_size": orders.batch_size},
           "batch_size": batch_size, "lr": lr, "seed": seed,
           "gradients": None if gradients_batch is None else
           _save_arrays(folder, "batch", dict(zip("XY", gradients_batch)))}
    (folder / "job.json").write_text(json.dumps(job))


def _write_history(folder: Path, history: History, extra: dict) -> None:
    optimizer_state = dict(history.optimizer_state)
    iterations = optimizer_state.pop("iterations", None)
    masks = history.dropout_masks
    layers = list(masks[0]) if masks else []
    answer = {name: getattr(history, name) for name in
              ("loss", "train_accuracy", "test_accuracy", "test_loss", "validation_accuracy",
               "epoch_seconds", "call_seconds")}
    answer.update(
        diverged=asdict(history.diverged) if history.diverged else None,
        step_losses=_save_arrays(folder, "losses", dict(enumerate(history.step_losses))),
        weights=_save_arrays(folder, "weights", history.weights),
        state=_save_arrays(folder, "state", history.state),
        optimizer_state=_save_arrays(folder, "slot", optimizer_state), iterations=iterations,
        # every step's mask of a layer in one array, split again by the steps' rows
        masks=_save_arrays(folder, "mask", {layer: np.concatenate([step[layer] for step in masks])
                                            for layer in layers}),
        mask_rows=[len(step[layers[0]]) for step in masks] if layers else [], **extra)
    (folder / "history.json").write_text(json.dumps(answer))


def _write_keras_side(folder: Path, side) -> dict | None:
    if side is None:
        return None
    return {"loss": _save_arrays(folder, "loss", {"loss": side.loss}),
            "gradients": _save_arrays(folder, "gradient", side.gradients),
            "masks": _save_arrays(folder, "batchmask", side.masks), "backend": side.backend,
            "conventions": asdict(side.conventions)}


def _read_keras_side(folder: Path, form: dict | None):
    if form is None:
        return None
    from ..gradients import KerasSide

    loss = _load_arrays(folder, form["loss"])["loss"][()]  # its own type: a NumPy scalar
    return KerasSide(loss, _load_arrays(folder, form["gradients"]),
                     _load_arrays(folder, form["masks"]), form["backend"],
                     conventions_from(form["conventions"]))


def _read_history(folder: Path) -> tuple[History, dict]:
    answer = json.loads((folder / "history.json").read_text())
    history = History(**{f.name: answer[f.name] for f in fields(History)
                         if f.name in ("loss", "train_accuracy", "test_accuracy", "test_loss",
                                       "validation_accuracy", "epoch_seconds",
                                       "call_seconds")})
    losses = _load_arrays(folder, answer["step_losses"])
    history.step_losses = [losses[str(epoch)] for epoch in range(len(losses))]
    history.diverged = Divergence(**answer["diverged"]) if answer["diverged"] else None
    history.weights = _load_arrays(folder, answer["weights"])
    history.state = _load_arrays(folder, answer["state"])
    history.optimizer_state = _load_arrays(folder, answer["optimizer_state"])
    if answer["iterations"] is not None:
        history.optimizer_state["iterations"] = answer["iterations"]
    masks = _load_arrays(folder, answer["masks"])
    bounds = np.cumsum([0, *answer["mask_rows"]])
    history.dropout_masks = [{layer: mask[start:stop] for layer, mask in masks.items()}
                             for start, stop in zip(bounds[:-1], bounds[1:])]
    return history, answer


# ------------------------------------------------------------------ the child's side
def child_main(argv: list[str]) -> None:
    """In the child: read the job, run Keras, write the History; exit FAILED with
    error.json on a failure it can name (a SpecError, or any other as one line)."""
    folder, events = Path(argv[0]), os.fdopen(int(argv[1]), "w", buffering=1)
    try:
        _child_run(folder, events)
    except KeyboardInterrupt:
        os._exit(1)
    except BaseException as error:  # noqa: BLE001 -- the parent prints it as one line
        message = str(error) if isinstance(error, SpecError) else \
            f"Keras' run in its own process failed: {type(error).__name__}: {error}"
        (folder / "error.json").write_text(json.dumps({"message": message}))
        events.close()
        os._exit(FAILED)
    events.close()


def _child_run(folder: Path, events) -> None:
    from ..commands.gradients import narrowing_notes
    from .runs import run_keras

    job = json.loads((folder / "job.json").read_text())
    spec = spec_from_job(job["spec"])
    arrays = _load_arrays(folder, job["data"], mmap=True)
    data = TrainingData(job["name"], arrays["X_train"], arrays["Y_train"], arrays["y_train"],
                        arrays["X_test"], arrays["y_test"], arrays.get("X_validation"),
                        arrays.get("y_validation"))
    weights = _load_arrays(folder, job["weights"])
    state = None if job["state"] is None else _load_arrays(folder, job["state"])
    order = job["orders"]
    orders = EpochOrders(order["rows"], order["epochs"], order["seed"], order["shuffle"],
                         order["batch_size"])

    def send(event: dict) -> None:
        events.write(json.dumps(event) + "\n")

    class Progress:  # run_keras' progress, forwarded over the pipe
        def begin(self, side):
            send({"begin": side})

        def __call__(self, side, epoch, history):
            evaluation = {"train_loss": history.loss[-1],
                          "train_accuracy": history.train_accuracy[-1],
                          "test_accuracy": history.test_accuracy[-1],
                          "test_loss": history.test_loss[-1]}
            if history.validation_accuracy:
                evaluation["validation_accuracy"] = history.validation_accuracy[-1]
            send({"side": side, "epoch": epoch, "evaluation": evaluation,
                  "seconds": history.epoch_seconds[-1]})

    from keras_impl.conventions import installed_conventions

    side = None
    if job["gradients"] is not None:  # `report`: Keras' gradients first, as in one process
        from ..gradients import keras_side

        batch = _load_arrays(folder, job["gradients"])
        side = keras_side(spec, weights, batch["X"], batch["Y"])
    history = run_keras(spec, weights, data, orders, job["batch_size"], job["lr"],
                        job["seed"], Progress(), state)
    conventions = asdict(installed_conventions())
    out = folder / "out"
    out.mkdir()
    _write_history(out, history, {"conventions": conventions, "notes": narrowing_notes(spec),
                                  "gradients": _write_keras_side(out, side),
                                  "peak_mb": own_peak_mb()})


def own_peak_mb() -> float | None:
    """This process' own peak resident memory, MB: Linux's VmHWM, of this program alone.
    (ru_maxrss is not: Linux carries the parent's resident size at the fork over exec,
    so a child started by a 2.7 GB parent reports at least 2.7 GB.)  Elsewhere
    ru_maxrss."""
    from ..environment import peak_resident_mb

    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return peak_resident_mb()
