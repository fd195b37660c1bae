"""`nn-compare activations`: each hand-written derivative against TensorFlow and finite differences."""

from __future__ import annotations

from handrolled import DTYPES
from handrolled.errors import SpecError

from ..exit_codes import AGREE, DISAGREE
from .common import (add_activation_module_option, add_backend_option, add_json_option,
                     check_output_options, choose_backends,
                     load_activation_modules)

NAME = "activations"
HELP = "check hand-written activation derivatives (zoo and your own) against autodiff"


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP + ". Exit 0 when every "
                                   "row agrees, 1 when any disagrees, 2 on bad input.")
    parser.add_argument("names", nargs="*", metavar="ACTIVATION",
                        help="activations to check, e.g. relu 'leaky_relu(0.1)' softsign "
                             "(default: every registered elementwise one; with "
                             "--activation-module: the ones that file registers)")
    parser.add_argument("--dtype", default="float64", choices=DTYPES)
    add_activation_module_option(parser)
    add_backend_option(parser)
    add_json_option(parser)
    return parser


def run(args) -> int:
    from handrolled import activations

    check_output_options(args)
    choose_backends(args)  # before anything imports Keras
    added = load_activation_modules(args)
    names = args.names or added or None
    if args.activation_module and not names:
        raise SpecError(f"{', '.join(args.activation_module)} registered no activation; "
                        f"call register_user_activation(name, function, derivative) in it")
    from .. import console

    console.start_keras()
    from ..activation_check import check_activation, derivative_table, elementwise_examples

    texts = names or elementwise_examples()
    for text in texts:
        if activations.get(text).per_unit:
            raise SpecError(f"'{text}' is a per-unit layer; check its functions one by one, "
                            f"e.g. nn-compare activations relu abs sin")
    rows = [check_activation(text, args.dtype) for text in texts]
    if args.json:  # saved before the verdict is shown
        from ..activation_check import rows_to_dicts
        from ..output import write_json
        write_json(args.json, {"agree": all(r.agree for r in rows), "dtype": args.dtype,
                               "activations": rows_to_dicts(rows)})
    print(derivative_table(rows, args.dtype))
    return AGREE if all(r.agree for r in rows) else DISAGREE
