"""`nn-compare code`: the network as two standalone programs, NumPy and Keras, side by side.

Takes the options of `train` (the network, data, optimizer, epochs, batch, ...),
runs the project's own comparison on a small slice of the data, and writes into
--out a NumPy program, its Keras twin, what both load, and side_by_side.html
(compare/codegen/).  Both programs are then run there and their numbers judged
against the project's run: exit 0 when they agree (or with --no-run), 1 when
they do not, 2 on bad input.
"""

from __future__ import annotations

import shlex
import sys

from ..exit_codes import AGREE, DISAGREE, SUCCESS
from .common import add_backend_option, choose_backends, positive_int, resolve_network, \
    spec_from_args
from .train import ProgressBar, add_run_options

NAME = "code"
HELP = "write the network as a NumPy program and its Keras twin, side by side"


def add_parser(subparsers):
    from ..codegen.generate import DEFAULT_TEST_ROWS, DEFAULT_TRAIN_ROWS

    parser = subparsers.add_parser(NAME, help=HELP, description=HELP + ": numpy_version.py, "
                                   "keras_version.py, data.npz, weights.npz and "
                                   "side_by_side.html in --out.  Exit 0 when both programs "
                                   "print the project's numbers, 1 when not, 2 on bad input.")
    add_run_options(parser)
    parser.add_argument("--out", metavar="DIR", required=True,
                        help="the folder to write (new or empty; see --force)")
    parser.add_argument("--force", action="store_true",
                        help="replace --out if it exists and is not empty")
    parser.add_argument("--test-rows", type=positive_int, metavar="N",
                        help=f"evaluate on the first N test rows (default: "
                             f"{DEFAULT_TEST_ROWS}, or all if fewer); --train-rows defaults "
                             f"to {DEFAULT_TRAIN_ROWS} here")
    parser.add_argument("--no-run", action="store_true",
                        help="write the programs without running them")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_backend_option(parser)
    return parser


def run(args) -> int:
    from ..codegen.files import check_target
    from ..codegen.generate import check, generate
    from ..experiment import prepare
    from ..presets import resolve_config

    check_target(args.out, args.force)   # before anything runs
    (backend,) = choose_backends(args)  # the program's backend, and this run's (before Keras)
    resolve_network(args)
    config = resolve_config(args)
    prepared = prepare(config, weights_file=args.weights,
                       spec_from=lambda inputs, classes: spec_from_args(
                           args, inputs, classes, config.hidden, config.loss))
    command = short_command(config, args.out, backend)
    check(prepared, args.out, args.force)
    print(f"code: {prepared.spec.describe()}, the project's own run first ...", flush=True)
    from .. import console

    console.start_keras()
    with ProgressBar(config.epochs, args.quiet) as progress:
        generated = generate(prepared, args.out, command, run=not args.no_run,
                             force=args.force, test_rows=args.test_rows, progress=progress)
    print(f"wrote {generated.out}/: numpy_version.py, keras_version.py, data.npz, weights.npz"
          f"{', dropout_masks.npz' if (generated.out / 'dropout_masks.npz').exists() else ''}"
          f", side_by_side.html")
    if generated.agree is None:
        return SUCCESS
    for name, judgement in generated.judgements.items():
        run_ = generated.runs[name]
        status = "AGREE" if judgement.agree and run_.returncode == 0 else "DISAGREE"
        print(f"{name}: {status} with the project's run (largest loss difference "
              f"{judgement.largest['loss']:.2g})")
        if run_.returncode:
            print(f"{name} exited with {run_.returncode}:\n{run_.output[-2000:]}",
                  file=sys.stderr)
        for problem in judgement.problems[:5]:
            print(f"  {problem}", file=sys.stderr)
    print(f"verdict: {'AGREE' if generated.agree else 'DISAGREE'}")
    return AGREE if generated.agree else DISAGREE


def short_command(config, out, backend: str = "tensorflow") -> str:
    """The command that writes this folder again: the options that differ from the preset
    (and --backend, unless TensorFlow's)."""
    from dataclasses import fields

    from ..presets import PRESETS

    preset = PRESETS[config.preset]
    parts = ["nn-compare", NAME] + ([] if config.preset == "default" else
                                    ["--preset", config.preset])
    for field in fields(config):
        value = getattr(config, field.name)
        if field.name != "preset" and value != getattr(preset, field.name):
            parts += [f"--{field.name.replace('_', '-')}", shlex.quote(str(value))]
    if backend != "tensorflow":
        parts += ["--backend", backend]
    return " ".join(parts + ["--out", shlex.quote(str(out))])
