"""`nn-compare check FILE`: your own hand-written code against Keras: a network, a training
loop, a layer or an optimizer, whichever the file declares (compare/check/kinds.py)."""

from __future__ import annotations

import os

from ..exit_codes import AGREE, DISAGREE
from .common import (add_activation_module_option, add_backend_option, add_json_option,
                     add_quiet_option, check_output_options, check_rows, choose_backends,
                     positive_int, seed)
from .common import timeout_seconds as timeout

NAME = "check"
HELP = "check your own hand-written code (a Python file) against Keras"


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help=HELP,
        description=HELP + ". The kind of check follows from what FILE declares: a network "
        "(INPUTS, LAYERS, LAYOUT, gradients(X, Y, weights)), a training loop (the same plus "
        "OPTIMIZER and train_step), a layer (LAYER, forward, backward) or an optimizer "
        "(OPTIMIZER, update); see docs/checking/. Your code runs in a process of its own, "
        "with a time limit per call. Exit 0 when everything agrees, 1 when something "
        "disagrees, 2 when the target is unusable.")
    parser.add_argument("file", metavar="FILE", help="the Python file with your code")
    parser.add_argument("--dataset", default="mnist-sample", metavar="NAME",
                        help="where the check batch comes from: a dataset name (default: "
                             "mnist-sample) or 'synthetic'; a seeded synthetic batch is used "
                             "when the dataset's shape is not the target's")
    parser.add_argument("--batch", type=check_rows, default=32,
                        help="rows in the check batch (default: 32)")
    parser.add_argument("--seed", type=seed, default=0,
                        help="seed for the weights and the batch (default: 0)")
    parser.add_argument("--steps", type=positive_int, default=None,
                        help="steps to run, for targets that run several (training loops, "
                             "optimizers); default: the kind's own")
    parser.add_argument("--dtype", choices=("float64", "float32"), default=None,
                        help="the precision to check in, for targets that can run in both "
                             "(training loops: float64 by default; optimizers: both)")
    parser.add_argument("--timeout", type=timeout, default=60.0, metavar="SECONDS",
                        help="the longest one call into your code may take before its "
                             "process is stopped (default: 60)")
    parser.add_argument("--no-fd", action="store_true",
                        help="skip the finite differences of your forward()")
    add_activation_module_option(parser, timeout=False)  # --timeout above covers both
    add_backend_option(parser)
    add_json_option(parser)
    add_quiet_option(parser)
    return parser


def run(args) -> int:
    from ..check.kinds import CheckOptions, run_check_file

    check_output_options(args)
    choose_backends(args)  # before anything imports Keras
    if args.json:  # resolved before any user code runs, whatever it does to its own cwd
        args.json = os.path.abspath(args.json)
    options = CheckOptions(dataset=args.dataset, batch=args.batch, seed=args.seed,
                           finite_differences=not args.no_fd, steps=args.steps,
                           dtype=args.dtype,
                           timeout=args.timeout,
                           activation_modules=tuple(args.activation_module))
    outcome = run_check_file(args.file, options)  # says when it starts Keras
    if args.json:  # saved before the verdict is shown
        from ..output import write_json
        write_json(args.json, outcome.to_dict())
    print(outcome.format())
    return AGREE if outcome.agree else DISAGREE
