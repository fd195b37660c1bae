"""`nn-compare sweep`: activations x depths x seeds, both implementations, one table."""

from __future__ import annotations

from pathlib import Path

from handrolled import DTYPES

from ..exit_codes import AGREE, DISAGREE
from .common import (add_activation_module_option, add_backend_option, add_data_options,
                     check_output_options, choose_backends, MAX_SEEDS, int_between,
                     load_activation_modules, positive_int)

NAME = "sweep"
HELP = "train both implementations over activations x depths x seeds and tabulate accuracy"
DEFAULT_ACTIVATIONS = ('sigmoid,relu,relu_ge,abs,linear,sin,cos,"mix(relu,abs,sin)",'
                       '"stochastic(relu,abs,sin;every=epoch)"')


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help=HELP, description=HELP + ". Resumable: finished configurations are kept in "
        "OUT/sweep.jsonl and skipped by a rerun. Exit 0 when both implementations agree on "
        "every configuration, 1 when any disagrees, 2 on bad input.")
    parser.add_argument("--activations", default=DEFAULT_ACTIVATIONS, metavar="LIST",
                        help="comma-separated activations; quote ones with parameters, e.g. "
                             "sigmoid,relu,\"mix(relu,abs,sin)\" (default: "
                             f"{DEFAULT_ACTIVATIONS})")
    parser.add_argument("--depths", default="1", metavar="LIST",
                        help="numbers of hidden layers, e.g. 1,2,3 (default: 1)")
    parser.add_argument("--seeds", type=int_between(1, MAX_SEEDS, "seeds per configuration"),
                        default=3,
                        help="seeds 0..N-1 per configuration: weights and batch order "
                             "(default: 3)")
    parser.add_argument("--lr", metavar="SPEC",
                        help="learning rate: RATE for all, NAME=RATE per activation, or both, "
                             "e.g. 0.5,relu=0.1 (default: 0.1)")
    parser.add_argument("--units", type=positive_int, default=100,
                        help="units per hidden layer (default: 100)")
    parser.add_argument("--optimizer", default="", metavar="SPEC",
                        help="every configuration trains with this optimizer, e.g. 'adam' "
                             "(default: SGD at --lr)")
    parser.add_argument("--front", default="", metavar="SPEC",
                        help="fixed layers before the swept dense layers, e.g. "
                             "'conv(8,3,relu),maxpool(2),flatten' (default: none)")
    parser.add_argument("--epochs", type=positive_int, default=10, help="(default: 10)")
    parser.add_argument("--batch", type=positive_int, default=100, help="(default: 100)")
    parser.add_argument("--dtype", default="float64", choices=DTYPES)
    parser.add_argument("--train-rows", type=positive_int, metavar="N",
                        help="train on the first N training rows only (quick looks)")
    add_data_options(parser)
    parser.add_argument("--workers", type=positive_int, default=1,
                        help="local worker processes (default: 1, in this process)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--out", default="reports/sweep", metavar="DIR",
                        help="results directory: sweep.jsonl (log), sweep.json, sweep.csv, "
                             "sweep.png (default: reports/sweep)")
    parser.add_argument("--no-plot", action="store_true", help="skip sweep.png")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_activation_module_option(parser)
    add_backend_option(parser)
    return parser


def run(args) -> int:
    from ..sweep import plan as sweep_plan
    from ..sweep.run import run_sweep
    from ..sweep.summary import plot, table

    check_output_options(args, args.out)
    (backend,) = choose_backends(args)  # before anything imports Keras; each worker too
    load_activation_modules(args)
    activations = sweep_plan.parse_activations(args.activations)
    depths = sweep_plan.parse_depths(args.depths)
    _check_size(len(activations), depths, args.seeds)
    modules = tuple(str(Path(p).resolve()) for p in args.activation_module)
    plan = sweep_plan.SweepPlan(activations, depths, args.seeds,
                                sweep_plan.parse_lr(args.lr, activations),
                                dict(units=args.units, epochs=args.epochs, batch=args.batch,
                                     dataset=args.dataset, preprocess=args.preprocess,
                                     dtype=args.dtype, train_rows=args.train_rows,
                                     activation_modules=modules, timeout=args.timeout,
                                     front=args.front.strip(),
                                     optimizer=_optimizer(args),
                                     inputs=sweep_plan.inputs_digest(args.dataset, modules),
                                     backend=backend))
    plan.validate()
    _check_train_rows(args)
    sweep = run_sweep(plan, args.out, workers=args.workers, scheduler=args.scheduler,
                      quiet=args.quiet)
    log = sweep.log
    plotted = None  # every file on disk before the table and its verdict are shown
    if not args.no_plot and sweep.summary:
        plotted = plot(sweep.summary, log.directory / "sweep.png")
    print(f"Sweep: {len(sweep.rows)} configurations ({sweep.run_now} run now, "
          f"{sweep.from_log} from {log.path})")
    if plan.settings.get("optimizer"):
        print(f"every configuration trains with {plan.settings['optimizer']} (its own learning "
              f"rate: the lr column does not apply)")
    if plan.settings.get("front"):
        print(f"every network starts with {plan.settings['front']}, then the swept dense layers")
    print(table(sweep.summary))
    if plotted:
        print(f"plot: {plotted}")
    print(f"results: {log.directory / 'sweep.json'}, {log.directory / 'sweep.csv'}")
    return AGREE if sweep.agree else DISAGREE


MAX_CONFIGURATIONS = 10_000  # activations x depths x seeds in one sweep


def _check_size(activations: int, depths: list[int], seeds: int) -> None:
    """The plan's size, before it is built: deeper than MAX_LAYERS or more than
    MAX_CONFIGURATIONS runs is refused, with the limit."""
    from handrolled.errors import SpecError
    from handrolled.spec import MAX_LAYERS

    if max(depths) > MAX_LAYERS:
        raise SpecError(f"--depths {max(depths):,} is deeper than {MAX_LAYERS:,} hidden layers, "
                        f"the most a network may have")
    runs = activations * len(depths) * seeds
    if runs > MAX_CONFIGURATIONS:
        raise SpecError(f"the sweep has {activations} activations x {len(depths)} depths x "
                        f"{seeds} seeds = {runs:,} runs; at most {MAX_CONFIGURATIONS:,} are "
                        f"accepted")


def _check_train_rows(args) -> None:
    """--train-rows must fit the data set (loaded here once, so a missing data set
    also stops the sweep before any configuration runs)."""
    from handrolled.errors import SpecError

    from ..datasets import load_dataset

    data = load_dataset(args.dataset, preprocess=args.preprocess, seed=0, dtype=args.dtype)
    rows = len(data.y_train)
    if args.train_rows is not None and args.train_rows > rows:
        raise SpecError(f"--train-rows {args.train_rows} is more than the {rows} training rows "
                        f"of {args.dataset}; accepted: 1 to {rows}")


def _optimizer(args) -> str:
    """--optimizer checked now, as its canonical text ('' : SGD at --lr)."""
    from handrolled import optimizers
    from handrolled.errors import SpecError

    if not args.optimizer.strip():
        return ""
    if args.lr is not None:
        raise SpecError("--lr is SGD's learning rate; with --optimizer give it inside, "
                        "e.g. --optimizer 'adam(learning_rate=0.01)'")
    return optimizers.get(args.optimizer).text
