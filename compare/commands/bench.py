"""`nn-compare bench`: seconds per epoch by hand and in Keras, against the machine's peak."""

from __future__ import annotations

import argparse

from handrolled.errors import SpecError

from ..exit_codes import SUCCESS
from .common import (MAX_BENCH_ROWS, MAX_BENCH_VALUES, MAX_PEAK_SIZE, add_backend_option,
                     add_json_option, add_threads_option, check_output_options,
                     choose_backends, int_between, network_text, positive_int, seed)

MAX_LOAD = 64  # --load: competitor processes (more is a typo, or a fork bomb)

NAME = "bench"
HELP = "time training epochs of handrolled and Keras, and compare with the matmul peak"

DTYPE_CHOICES = ("float32", "float64")


def add_parser(subparsers):
    from ..bench.runner import (BOOK, BOOK_BATCHES, CONV, CONV_BATCHES, DEEP, DEFAULT_IMPLS,
                                DEFAULT_SUITE, DENSE_ROWS, IMPLS, OTHER_ROWS, SUITES)

    batches = ", ".join(map(str, BOOK_BATCHES))
    conv_batches = ", ".join(map(str, CONV_BATCHES))

    parser = subparsers.add_parser(
        NAME, help=HELP,
        description=HELP + f". Default configurations (--suite all): {BOOK} at batch {batches} "
        f"and {DEEP} at batch 128 (--suite dense), and {CONV} at batch {conv_batches} "
        f"(--suite conv; --suite cnn adds the book-ch19-cnn network on a few hundred rows), "
        f"in float32 and float64, on synthetic data of MNIST shape "
        f"(28x28x1 images for a convolution). Timings are the median of --repeats epochs "
        f"after one warm-up epoch, the implementations taking turns epoch by epoch.")
    parser.add_argument("--network", "--layers", dest="network", metavar="SPEC|FILE.json",
                        help="time this network instead of the defaults, at each --batch: "
                             "dense layers such as '100:sigmoid' or any layers such as "
                             f"'{CONV}', or a JSON network file (--hidden: the old name)")
    parser.add_argument("--hidden", dest="network", help=argparse.SUPPRESS)  # the old name
    parser.add_argument("--config", action="append", metavar="SPEC@BATCH",
                        help="a configuration to time instead of the defaults, e.g. "
                             "'100:sigmoid@1000' or 'conv(8,3,relu),flatten@128': the batch "
                             "after the last '@' (repeatable)")
    parser.add_argument("--suite", choices=tuple(SUITES), metavar="NAME",
                        help=f"which default configurations: {', '.join(SUITES)} "
                             f"(default: {DEFAULT_SUITE})")
    parser.add_argument("--batch", metavar="N[,N...]",
                        help=f"batch sizes for --network (default: {batches}), or a filter "
                             "on the default configurations")
    parser.add_argument("--dtype", default="float32,float64", metavar="DTYPE[,DTYPE]",
                        help="float32, float64 or both (default: float32,float64)")
    parser.add_argument("--impls", default=None, metavar="NAME[,NAME...]",
                        help=f"implementations to time, of {', '.join(IMPLS)} "
                             f"(default: {','.join(DEFAULT_IMPLS)}; keras_compiled is "
                             f"TensorFlow's only)")
    parser.add_argument("--rows", default=None,
                        type=int_between(1, MAX_BENCH_ROWS, "synthetic rows per epoch"),
                        help=f"rows of synthetic data per epoch, for every configuration "
                             f"(default: {DENSE_ROWS} for a dense network, {OTHER_ROWS} for "
                             f"any other: NumPy convolutions are slow)")
    parser.add_argument("--repeats", type=positive_int, default=3,
                        help="timed epochs after the warm-up (default: 3)")
    parser.add_argument("--lr", type=float, default=0.01,
                        help="SGD's learning rate (default: 0.01)")
    parser.add_argument("--optimizer", metavar="SPEC",
                        help="train with this optimizer instead of SGD at --lr, e.g. 'adam' "
                             "(the hand-written side then runs the layer-by-layer fast epoch)")
    parser.add_argument("--seed", type=seed, default=0,
                        help="seed for weights, data and shuffling (default: 0)")
    parser.add_argument("--peak-size", default=2048, metavar="N",
                        type=int_between(1, MAX_PEAK_SIZE, "the side of the square product"),
                        help="side of the square product that measures the peak (default: 2048)")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time each phase of a handrolled step (matmul, bias, "
                             "activation, softmax, update, gather, and the rest), with the %% "
                             "of peak those phases allow; dense networks only (the fast loop)")
    parser.add_argument("--input-shape", default="28x28x1", metavar="HxWxC",
                        help="shape of one synthetic image, e.g. 32x32x3 (CIFAR's) "
                             "(default: 28x28x1, MNIST's; a dense network gets them flat)")
    parser.add_argument("--load", type=int_between(0, MAX_LOAD, "busy processes"), default=0,
                        metavar="N",
                        help="keep N other processes busy (pure-Python loops, one core each) "
                             "while timing, to measure a busy machine; they are stopped at the "
                             "end (default: 0)")
    add_threads_option(parser)
    add_backend_option(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_json_option(parser)
    return parser


def configs_from_args(args):
    """The configurations to time, validated (SpecError on bad input)."""
    from ..bench.runner import (BOOK_BATCHES, DEFAULT_SUITE, SUITES, Config, bench_spec,
                                default_rows)

    dtypes = _names(args.dtype, DTYPE_CHOICES, "dtype")
    batches = _batches(args.batch) if args.batch is not None else None
    suite = getattr(args, "suite", None)
    if args.config:
        if args.network is not None or args.batch is not None or suite is not None:
            raise SpecError("--config cannot be combined with --network/--batch/--suite; "
                            "use one or the other")
        shapes = [_parse_config(text) for text in args.config]
    elif args.network is not None:  # '' is a network too: no hidden layer
        if suite is not None:
            raise SpecError("--suite chooses among the default configurations; it cannot "
                            "be combined with --network")
        text, _ = network_text(args.network)  # a text form, or a JSON network file
        shapes = [(text, batch) for batch in (batches or BOOK_BATCHES)]
    else:
        defaults = SUITES[suite or DEFAULT_SUITE]
        shapes = [shape for shape in defaults if batches is None or shape[1] in batches]
        if not shapes:
            accepted = sorted({shape[1] for shape in defaults})
            raise SpecError(f"no default configuration{f' of --suite {suite}' if suite else ''}"
                            f" has batch {args.batch}; default batches: "
                            f"{', '.join(map(str, accepted))} (use --network to choose a "
                            f"network)")
    input_shape = _input_shape(getattr(args, "input_shape", None) or "28x28x1")
    configs = []
    for network, batch, *suite_rows in shapes:  # a suite may give its rows per epoch
        spec = bench_spec(network, input_shape=input_shape)  # a bad network: one line, now
        rows = args.rows or (suite_rows[0] if suite_rows else default_rows(spec))
        if rows * spec.inputs > MAX_BENCH_VALUES:
            raise SpecError(f"{rows:,} rows of {spec.inputs:,} inputs are {rows * spec.inputs:,} "
                            f"numbers; at most {MAX_BENCH_VALUES:,} are accepted (fewer --rows)")
        if batch > rows:
            rows_text = (f"--rows {rows}" if args.rows else f"the {rows} rows per epoch of "
                         f"{'a dense network' if spec.is_dense else 'a network with other layers'}")
            raise SpecError(f"batch {batch} is larger than {rows_text}; accepted: batches of "
                            f"1 to {rows} (or a larger --rows)")
        configs += [Config(network, batch, dtype, rows, input_shape) for dtype in dtypes]
    return configs


def _input_shape(text: str) -> tuple[int, int, int]:
    try:
        shape = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise SpecError(f"--input-shape '{text}' is not HxWxC with positive sizes, e.g. "
                        f"28x28x1 or 32x32x3")
    return shape


def _parse_config(text: str):
    """'SPEC@BATCH': the batch is what follows the last '@' (a spec has none); the
    spec may hold commas and parentheses, 'conv(8,3,relu),flatten@128'."""
    network, sep, batch = text.rpartition("@")
    if not sep or not network.strip():
        raise SpecError(f"--config '{text}' is not SPEC@BATCH, e.g. '100:sigmoid@1000' or "
                        f"'conv(8,3,relu),flatten@128'")
    batches = _batches(batch)
    if len(batches) > 1:  # silently timing only the first would be worse
        raise SpecError(f"--config '{text}' has {len(batches)} batch sizes; give one per "
                        f"--config (repeat the option), or use --network '{network}' "
                        f"--batch {batch}")
    return network, batches[0]


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
        from handrolled.errors import did_you_mean

        hint = did_you_mean(unknown[0], accepted) if len(unknown) == 1 else ""
        raise SpecError(f"unknown {what} '{','.join(unknown) or text}'{hint}; accepted: "
                        f"{', '.join(accepted)} (comma-separated)")
    return list(dict.fromkeys(names))


def breakdown_configs(configs) -> tuple[list, list[str]]:
    """(the configurations --breakdown times, the networks it skips): the breakdown
    times the phases of handrolled.fast's fused loop, which is written for dense
    networks only.  SpecError when it would time none of them."""
    from ..bench.runner import bench_spec

    dense = {c.hidden: bench_spec(c.hidden, input_shape=c.input_shape).is_dense
             for c in configs}
    skipped = [network for network, is_dense in dense.items() if not is_dense]
    if len(skipped) == len(dense):
        verb = "is not a dense network" if len(skipped) == 1 else "are not dense networks"
        raise SpecError(f"--breakdown times the phases of the fast dense loop "
                        f"(handrolled.fast), and {', '.join(skipped)} {verb}; drop "
                        f"--breakdown, or add a dense network")
    return [c for c in configs if dense[c.hidden]], skipped


def backend_impls(text: str | None, backend: str) -> list[str]:
    """--impls (None: the default list) for this backend: keras_compiled (the epoch as one
    tf.function, keras_impl/compiled.py) is TensorFlow's alone, left out of the default
    list on another backend and refused there when named."""
    from ..bench.runner import DEFAULT_IMPLS, IMPLS, TENSORFLOW_ONLY

    impls = _names(text, tuple(IMPLS), "implementation") if text is not None \
        else list(DEFAULT_IMPLS)
    if backend == "tensorflow":
        return impls
    named = [impl for impl in impls if impl in TENSORFLOW_ONLY]
    if named and text is not None:
        raise SpecError(f"--impls {named[0]} runs on TensorFlow only (the epoch as one "
                        f"tf.function); on {backend} choose from "
                        f"{', '.join(i for i in IMPLS if i not in TENSORFLOW_ONLY)}")
    return [impl for impl in impls if impl not in TENSORFLOW_ONLY]


def run(args) -> int:
    import sys

    from ..bench.runner import bench_spec, run_bench
    from ..bench.table import bench_table, breakdown_table

    check_output_options(args)
    (backend,) = choose_backends(args)  # before anything imports Keras
    configs = configs_from_args(args)
    impls = backend_impls(args.impls, backend)
    if not 0 < args.lr < float("inf"):  # inf passed `> 0` and timed NaN arithmetic
        raise SpecError(f"--lr must be positive and finite, got {args.lr}")
    if args.breakdown:
        broken_down, skipped = breakdown_configs(configs)  # before any timing

    def progress(config):
        if not args.quiet:
            print(f"bench: {config.hidden} batch {config.batch} {config.dtype} "
                  f"({config.rows} rows) ...", file=sys.stderr, flush=True)

    if args.optimizer is not None:
        from handrolled import optimizers

        args.optimizer = optimizers.get(args.optimizer).text  # a typo: one line, exit 2
    from .. import console

    console.start_keras()
    result = run_bench(configs, impls, repeats=args.repeats,
                       lr=args.optimizer if args.optimizer is not None else args.lr,
                       seed=args.seed, peak_size=args.peak_size, progress=progress,
                       threads=args.threads, load=args.load)
    if args.breakdown:
        from ..bench.breakdown import breakdown

        from ..threads import decide

        result["breakdown"] = []
        for c in broken_down:  # under the configuration's thread policy, as its epochs
            with decide(bench_spec(c.hidden, c.dtype, args.seed, c.input_shape), c.batch,
                        args.threads,
                        args.seed).blas_limits():
                result["breakdown"].append(breakdown(c.hidden, c.batch, c.dtype, rows=c.rows,
                                                     seed=args.seed, input_shape=c.input_shape))
        result["breakdown_skipped"] = skipped
    print(bench_table(result))
    if result.get("optimizer"):
        print(f"optimizer: {result['optimizer']} on every side (the hand-written side runs the "
              f"layer-by-layer fast epoch; the fused fast loop is plain SGD's)")
    if args.breakdown:
        print()
        print(breakdown_table(result["breakdown"], result["peak_gflops"]))
        for network in skipped:
            print(f"breakdown: skipped {network}: not a dense network (the breakdown times "
                  f"the phases of handrolled.fast's dense loop; this network's epochs run "
                  f"the textbook loop)")
    if args.json:
        from ..output import write_json
        write_json(args.json, result)
    return SUCCESS
