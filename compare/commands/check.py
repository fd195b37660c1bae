"""`nn-compare check FILE`: your own hand-written network against Keras, layer by layer."""

from __future__ import annotations

from ..exit_codes import AGREE, DISAGREE
from .common import add_json_option, check_output_options, check_rows, seed

NAME = "check"
HELP = "check your own hand-written network (a Python file) against Keras"


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help=HELP,
        description=HELP + ". FILE defines INPUTS, LAYERS, LAYOUT and gradients(X, Y, weights), "
        "optionally forward(X, weights); see the README, 'Check your own network'. Exit 0 when "
        "everything agrees, 1 when something disagrees, 2 when the target is unusable.")
    parser.add_argument("file", metavar="FILE", help="the Python file with your network")
    parser.add_argument("--dataset", default="mnist-sample", metavar="NAME",
                        help="where the check batch comes from: a dataset name (default: "
                             "mnist-sample) or 'synthetic'; a seeded synthetic batch is used "
                             "when the dataset's shape is not the target's")
    parser.add_argument("--batch", type=check_rows, default=32,
                        help="rows in the check batch (default: 32)")
    parser.add_argument("--seed", type=seed, default=0,
                        help="seed for the weights and the batch (default: 0)")
    parser.add_argument("--no-fd", action="store_true",
                        help="skip the finite differences of your forward()")
    add_json_option(parser)
    return parser


def run(args) -> int:
    from ..check import load_target

    check_output_options(args)
    from ..check.user_side import run_user_side

    target = load_target(args.file)  # their code raising: nn-compare shows their traceback
    side = run_user_side(target, args.dataset, args.batch, args.seed)  # before TensorFlow

    from ..check import format_report, run_check  # imports TensorFlow

    result = run_check(target, dataset=args.dataset, batch=args.batch, seed=args.seed,
                       finite_differences=not args.no_fd, user_side=side)
    if args.json:  # saved before the verdict is shown
        from ..output import write_json
        write_json(args.json, result.to_dict())
    print(format_report(result))
    return AGREE if result.agree else DISAGREE
