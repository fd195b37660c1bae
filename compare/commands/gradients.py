"""`nn-compare gradients`: one batch, both implementations, a row per tensor."""

from __future__ import annotations

from handrolled import INIT_SCHEMES

from ..exit_codes import AGREE, DISAGREE
from .common import add_backend_option, add_from_keras_option, add_json_option, \
    add_network_options, add_quiet_option, check_output_options, check_rows, choose_backends, \
    import_keras_model, positive_int, spec_from_args

NAME = "gradients"
HELP = "compare per-parameter gradients of handrolled, Keras and finite differences"


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP + ". Exit 0 when every "
                                   "row agrees, 1 when any disagrees, 2 on bad input.")
    add_network_options(parser)
    add_from_keras_option(parser)
    parser.add_argument("--batch", type=check_rows, default=32,
                        help="rows in the batch (default: 32)")
    parser.add_argument("--dataset", default="mnist-sample", metavar="NAME",
                        help="where the batch comes from: seeded rows of a data set's training "
                             "set (mnist-sample, idx:DIR, mnist, fashion-mnist; pixels scaled "
                             "to [0, 1]) or 'synthetic', a seeded batch of MNIST shape "
                             "(default: mnist-sample)")
    parser.add_argument("--init", default="glorot", choices=INIT_SCHEMES,
                        help="weight initialisation (default: glorot, as Keras' Dense)")
    parser.add_argument("--weights", metavar="NPZ",
                        help="use these weights instead: an .npz with W1, b1, ... "
                             "or the book's bias-row matrices w1, w2, ...; or by parameter name, "
                             "dense1/kernel, ...")
    parser.add_argument("--no-fd", action="store_true", help="skip the finite-difference witness")
    add_backend_option(parser, several=True)
    add_json_option(parser)
    add_quiet_option(parser)
    return parser


def run(args) -> int:
    from handrolled import init_weights, load_weights
    from handrolled.activations import check_user_activations

    from ..batch import SYNTHETIC, sample_batch, training_set

    check_output_options(args)
    backends = choose_backends(args)  # before anything imports Keras
    if len(backends) > 1:
        from ..witnesses import run_across_backends
        return run_across_backends(args, NAME, backends)
    twin = import_keras_model(args)
    if args.dataset == SYNTHETIC:  # MNIST's shape (28x28x1 inputs, 10 classes), or the model's
        spec = twin.spec if twin else spec_from_args(args)
    else:  # the network's input and output sizes come from the data
        _, Y_all, input_shape = training_set(args.dataset, args.seed)
        spec = spec_from_args(args, inputs=input_shape, classes=Y_all.shape[1])
    weights = (twin.weights if twin else load_weights(args.weights, spec) if args.weights
               else init_weights(spec, args.init))
    X, Y, data, notes = sample_batch(spec, args.dataset, args.batch, args.seed)
    check_user_activations(spec.build_layers(), [len(X)])  # before TensorFlow is imported

    from .. import console

    console.start_keras()
    from ..gradients import compare_gradients
    from ..gradient_table import gradient_table

    result = compare_gradients(spec, weights, X, Y, finite_differences=not args.no_fd,
                               data=data)
    if args.keras_arrays:  # a child of a comparison across backends
        from ..witnesses import save_keras_arrays
        save_keras_arrays(args.keras_arrays, result)
    if args.json:  # saved before the verdict is shown
        from ..output import write_json
        write_json(args.json, dict(result.to_dict(), notes=notes))
    notes += narrowing_notes(spec)
    print(gradient_table(result))
    from ..console import wrap
    for note in notes:
        print(wrap(f"note: {note}"))
    return AGREE if result.agree else DISAGREE


def narrowing_notes(spec) -> list[str]:
    """A note where Keras on this backend computes part of the network in a narrower
    float than the network's (keras_impl/narrowing.py)."""
    from keras_impl import BACKEND
    from keras_impl.narrowing import narrowed_parts

    narrow = narrowed_parts(spec)
    if not narrow:
        return []
    return [f"Keras on {BACKEND.NAME} computes {', '.join(narrow)} in float32 for "
            f"{spec.dtype} inputs (its type promotion narrows 64-bit results on every backend "
            f"but TensorFlow): differences near float32's round-off come from that, not from "
            f"the hand-written side"]
