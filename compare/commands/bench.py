"""`nn-compare bench`: seconds per epoch by hand and in Keras, against the machine's peak."""

from __future__ import annotations

from handrolled.errors import SpecError

from ..exit_codes import SUCCESS
from .common import add_json_option, check_output_options, positive_int, seed

NAME = "bench"
HELP = "time training epochs of handrolled and Keras, and compare with the matmul peak"

DTYPE_CHOICES = ("float32", "float64")


def add_parser(subparsers):
    from ..bench.runner import BOOK, BOOK_BATCHES, DEEP, DEFAULT_IMPLS, IMPLS

    batches = ", ".join(map(str, BOOK_BATCHES))

    parser = subparsers.add_parser(
        NAME, help=HELP,
        description=HELP + f". Default configurations: {BOOK} at batch {batches} and {DEEP} "
        "at batch 128, in float32 and float64, on synthetic data of MNIST shape. Timings are "
        "the median of --repeats epochs after one warm-up epoch, the implementations taking "
        "turns epoch by epoch.")
    parser.add_argument("--config", action="append", metavar="HIDDEN@BATCH",
                        help="a configuration to time instead of the defaults, e.g. "
                             "'100:sigmoid@1000' (repeatable)")
    parser.add_argument("--hidden", metavar="SPEC",
                        help="time this network instead of the defaults, at each --batch")
    parser.add_argument("--batch", metavar="N[,N...]",
                        help=f"batch sizes for --hidden (default: {batches}), or a filter "
                             "on the default configurations")
    parser.add_argument("--dtype", default="float32,float64", metavar="DTYPE[,DTYPE]",
                        help="float32, float64 or both (default: float32,float64)")
    parser.add_argument("--impls", default=",".join(DEFAULT_IMPLS), metavar="NAME[,NAME...]",
                        help=f"implementations to time, of {', '.join(IMPLS)} "
                             f"(default: {','.join(DEFAULT_IMPLS)})")
    parser.add_argument("--rows", type=positive_int, default=60000,
                        help="rows of synthetic data per epoch (default: 60000)")
    parser.add_argument("--repeats", type=positive_int, default=3,
                        help="timed epochs after the warm-up (default: 3)")
    parser.add_argument("--lr", type=float, default=0.01, help="learning rate (default: 0.01)")
    parser.add_argument("--seed", type=seed, default=0,
                        help="seed for weights, data and shuffling (default: 0)")
    parser.add_argument("--peak-size", type=positive_int, default=2048, metavar="N",
                        help="side of the square product that measures the peak (default: 2048)")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time each phase of a handrolled step (matmul, bias, "
                             "activation, softmax, update, gather, and the rest), with the %% "
                             "of peak those phases allow")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_json_option(parser)
    return parser


def configs_from_args(args):
    """The configurations to time, validated (SpecError on bad input)."""
    from handrolled import NetworkSpec

    from ..bench.runner import BOOK_BATCHES, DEFAULT_SHAPES, Config

    dtypes = _names(args.dtype, DTYPE_CHOICES, "dtype")
    batches = _batches(args.batch) if args.batch is not None else None
    if args.config:
        if args.hidden is not None or args.batch is not None:
            raise SpecError("--config cannot be combined with --hidden/--batch; "
                            "use one or the other")
        shapes = [_parse_config(text) for text in args.config]
    elif args.hidden is not None:  # '' is a network too: no hidden layer
        shapes = [(args.hidden, batch) for batch in (batches or BOOK_BATCHES)]
    else:
        shapes = [(hidden, batch) for hidden, batch in DEFAULT_SHAPES
                  if batches is None or batch in batches]
        if not shapes:
            raise SpecError(f"no default configuration has batch {args.batch}; default "
                            f"batches: {', '.join(map(str, BOOK_BATCHES))}, and 128 for the "
                            f"deep network (use --hidden to choose a network)")
    for hidden, batch in shapes:
        NetworkSpec.from_text(hidden)  # fails now, in one line, on a bad network
        if batch > args.rows:
            raise SpecError(f"batch {batch} is larger than --rows {args.rows}; accepted: "
                            f"batches of 1 to {args.rows} (or a larger --rows)")
    return [Config(hidden, batch, dtype) for hidden, batch in shapes for dtype in dtypes]


def _parse_config(text: str):
    hidden, sep, batch = text.rpartition("@")
    if not sep or not hidden:
        raise SpecError(f"--config '{text}' is not HIDDEN@BATCH, e.g. '100:sigmoid@1000'")
    batches = _batches(batch)
    if len(batches) > 1:  # silently timing only the first would be worse
        raise SpecError(f"--config '{text}' has {len(batches)} batch sizes; give one per "
                        f"--config (repeat the option), or use --hidden {hidden} --batch {batch}")
    return hidden, batches[0]


def _batches(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise SpecError(f"batch '{text}' is not a positive integer or a comma-separated list "
                        f"of them, e.g. '32,128'")
    return values


def _names(text: str, accepted, what: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in accepted]
    if unknown or not names:
        raise SpecError(f"unknown {what} '{','.join(unknown) or text}'; accepted: "
                        f"{', '.join(accepted)} (comma-separated)")
    return list(dict.fromkeys(names))


def run(args) -> int:
    import sys

    from ..bench.runner import IMPLS, run_bench
    from ..bench.table import bench_table, breakdown_table

    check_output_options(args)
    configs = configs_from_args(args)
    impls = _names(args.impls, tuple(IMPLS), "implementation")
    if not 0 < args.lr < float("inf"):  # inf passed `> 0` and timed NaN arithmetic
        raise SpecError(f"--lr must be positive and finite, got {args.lr}")

    def progress(config):
        if not args.quiet:
            print(f"bench: {config.hidden} batch {config.batch} {config.dtype} ...",
                  file=sys.stderr, flush=True)

    result = run_bench(configs, impls, rows=args.rows, repeats=args.repeats, lr=args.lr,
                       seed=args.seed, peak_size=args.peak_size, progress=progress)
    if args.breakdown:
        from ..bench.breakdown import breakdown

        result["breakdown"] = [breakdown(c.hidden, c.batch, c.dtype, rows=args.rows,
                                         seed=args.seed) for c in configs]
    print(bench_table(result))
    if args.breakdown:
        print()
        print(breakdown_table(result["breakdown"], result["peak_gflops"]))
    if args.json:
        from ..output import write_json
        write_json(args.json, result)
    return SUCCESS
