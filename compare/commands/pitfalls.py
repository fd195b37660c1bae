"""`nn-compare pitfalls`: where hand-written Dropout, BatchNormalization and regularizers
usually drift from Keras, each pitfall trained side by side with Keras and measured."""

from __future__ import annotations

from ..exit_codes import AGREE, DISAGREE
from .common import (add_backend_option, add_data_options, add_json_option, add_quiet_option,
                     check_output_options, choose_backends, positive_float, positive_int, seed)

NAME = "pitfalls"
HELP = ("train the usual hand-written mistakes in Dropout, BatchNormalization and "
        "regularizers side by side with Keras and show what each one changes")


def add_parser(subparsers):
    from handrolled import DTYPES

    parser = subparsers.add_parser(NAME, help=HELP, description=HELP + ". Exit 0 when the "
                                   "right network agrees with Keras (the pitfalls are shown, "
                                   "not judged), 1 when it does not, 2 on bad input.")
    add_data_options(parser)
    parser.add_argument("--train-rows", type=positive_int, default=1000, metavar="N",
                        help="training rows used (default: 1000)")
    parser.add_argument("--epochs", type=positive_int, default=1, help="(default: 1)")
    parser.add_argument("--batch", type=positive_int, default=32, help="(default: 32)")
    parser.add_argument("--lr", type=positive_float, default=0.1, help="(default: 0.1)")
    parser.add_argument("--dtype", default="float64", choices=DTYPES)
    parser.add_argument("--seed", type=seed, default=0, help="(default: 0)")
    add_backend_option(parser)
    add_json_option(parser)
    add_quiet_option(parser)
    return parser


def run(args) -> int:
    import dataclasses

    from handrolled import NetworkSpec
    from handrolled.errors import SpecError

    from ..datasets import load_dataset
    from ..output import fmt

    check_output_options(args)
    choose_backends(args)  # before anything imports Keras
    data = load_dataset(args.dataset, preprocess=args.preprocess, seed=args.seed,
                        dtype=args.dtype)
    rows = len(data.y_train)
    if args.train_rows > rows:
        raise SpecError(f"--train-rows {args.train_rows} is more than the {rows} training rows "
                        f"of {args.dataset}; accepted: 1 to {rows}")
    if args.batch > args.train_rows:
        raise SpecError(f"batch size {args.batch} is larger than the {args.train_rows} training "
                        f"rows; accepted: 1 to {args.train_rows}")
    data = dataclasses.replace(data, X_train=data.X_train[:args.train_rows],
                               y_train=data.y_train[:args.train_rows])

    from .. import console

    console.start_keras()
    from .. import pitfalls

    spec = NetworkSpec.from_text(pitfalls.SPEC, inputs=data.input_shape, classes=data.classes,
                                 dtype=args.dtype, seed=args.seed)
    print(console.wrap(f"Pitfalls: {spec.describe()}, {args.train_rows} rows of {args.dataset}, "
                       f"{args.epochs} epoch(s) of batch {args.batch}, lr {args.lr:g}, "
                       f"{args.dtype}; each row trains that hand-written network with one "
                       f"thing done differently against Keras (same weights, batches and "
                       f"dropout masks)"), flush=True)
    rows_out = []
    with console.bar(len(pitfalls.PITFALLS), "pitfall", "pitfall") as bar:  # a run each
        for pitfall in pitfalls.PITFALLS:
            bar.set_description_str(f"pitfall {pitfall.name}")
            result = pitfalls.run_pitfall(pitfall, spec, data, args.epochs, args.batch,
                                          args.lr, args.seed)
            rows_out.append(pitfalls.pitfall_row(pitfall, result))
            bar.update(1)

    if args.json:  # saved before the verdict is shown
        from ..output import write_json
        write_json(args.json, {"network": spec.describe(), "rows": rows_out,
                               "train_rows": args.train_rows, "epochs": args.epochs,
                               "batch": args.batch, "lr": args.lr, "dtype": args.dtype})

    from tabulate import tabulate

    from ..training.verdict import shown

    headers = ["pitfall", "max loss\ndiff", "max weight\ndiff", "max moving-\nstat diff",
               "test acc\ndiff pts", "verdict"]
    print(tabulate([[r["pitfall"], fmt(r["max_loss_diff"]), fmt(r["max_weight_diff"]),
                     fmt(r["max_state_diff"]), f"{100 * r['final_accuracy_diff']:.2f}",
                     shown(r["verdict"])] for r in rows_out], headers=headers,
                   disable_numparse=True))
    print("what the hand-written side does in each row:")  # below the table: 120 columns
    print("\n".join(console.wrap(f"  {r['pitfall']}: {r['what']}") for r in rows_out))
    from .gradients import narrowing_notes
    for note in narrowing_notes(spec):  # Keras on JAX/torch: part of a float64 network in float32
        print(console.wrap(f"note: {note}"))
    right = rows_out[0]
    print(f"verdict: {'AGREE' if right['agree'] else 'DISAGREE'} (the right network against "
          f"Keras; each pitfall is a difference shown, not judged)")
    return AGREE if right["agree"] else DISAGREE
