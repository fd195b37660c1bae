"""`nn-compare gradients`: one batch, both implementations, a row per tensor."""

from __future__ import annotations

from handrolled import INIT_SCHEMES

from .common import add_json_option, add_network_options, check_output_options, \
    positive_int, spec_from_args

NAME = "gradients"
HELP = "compare per-parameter gradients of handrolled, Keras and finite differences"


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP + ". Exit 0 when every "
                                   "row agrees, 1 when any disagrees, 2 on bad input.")
    add_network_options(parser)
    parser.add_argument("--batch", type=positive_int, default=32,
                        help="rows in the batch (default: 32)")
    parser.add_argument("--init", default="glorot", choices=INIT_SCHEMES,
                        help="weight initialisation (default: glorot, as Keras' Dense)")
    parser.add_argument("--weights", metavar="NPZ",
                        help="use these weights instead: an .npz with W1, b1, ... "
                             "or the book's bias-row matrices w1, w2, ...")
    parser.add_argument("--no-fd", action="store_true", help="skip the finite-difference witness")
    add_json_option(parser)
    return parser


def run(args) -> int:
    from handrolled import init_weights, load_weights

    from ..synthetic import synthetic_batch

    check_output_options(args)
    spec = spec_from_args(args)
    weights = (load_weights(args.weights, spec) if args.weights
               else init_weights(spec, args.init))
    X, Y = synthetic_batch(spec, args.batch, args.seed)

    from ..gradients import compare_gradients  # imports TensorFlow
    from ..tables import gradient_table

    result = compare_gradients(spec, weights, X, Y, finite_differences=not args.no_fd)
    print(gradient_table(result))
    if args.json:
        from ..output import write_json
        write_json(args.json, result.to_dict())
    return 0 if result.agree else 1
