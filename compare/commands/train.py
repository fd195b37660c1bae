"""`nn-compare train`: both implementations trained side by side, tables, results.json.

`nn-compare report` (report.py) is the same run with the gradient check in
front and the report directory always written; both share the options and
the code below.
"""

from __future__ import annotations

import argparse
import sys
import time

from handrolled import INIT_SCHEMES

from ..exit_codes import AGREE, BAD_INPUT, DISAGREE
from .common import (add_backend_option, add_data_options, add_from_keras_option,
                     add_json_option, add_network_options, add_threads_option,
                     check_output_options, choose_backends, import_keras_model, positive_float,
                     positive_int, resolve_network, spec_from_args)

NAME = "train"
HELP = "train handrolled and Keras side by side on the same batches and compare them"


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """The options of `train` and `report`: what to train (`add_run_options`), then
    where the results go."""
    add_run_options(parser)
    parser.add_argument("--out", metavar="DIR", help="write the report directory here")
    add_json_option(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_threads_option(parser)
    add_backend_option(parser, several=True)
    from ..training.keras_process import AUTO_BYTES, MODES

    parser.add_argument("--keras-process", choices=MODES, default="auto",
                        help="where Keras trains: always in a process of its own, one run "
                             "after the other with the hand-written ones (TensorFlow's memory "
                             "is never held beside theirs), never (in this process), or auto: "
                             "its own process when the network's parameters and optimizer "
                             f"slots take {AUTO_BYTES // 2 ** 20} MB or more and Keras is not "
                             "running here already (--from-keras) (default: auto)")


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """What to train, shared by `train`, `report` and `code`.  Those a preset sets
    default to None here, so that a preset fills in only what the user left out."""
    from ..presets import LOOPS, ORDERS, PRESETS

    add_network_options(parser)
    add_from_keras_option(parser)
    add_data_options(parser)
    parser.set_defaults(preprocess=None, dataset=None)  # from the preset unless given
    parser.add_argument("--preset", default="default", choices=sorted(PRESETS),
                        help="default: scale, 20 epochs, batch 32, lr 1.0, shuffled; book: the "
                             "book's final setup (standardize, 10 epochs, batch 256, lr 1, book "
                             "init, sequential batches, test set split into validation and test "
                             "halves); book-ch16, book-ch17, book-ch18, book-ch18-bn, "
                             "book-ch19-cnn: the book's Part 3 networks (docs/howto/"
                             "presets.md); options given explicitly override the preset")
    default, book = PRESETS["default"], PRESETS["book"]

    def preset_values(name: str) -> str:
        return f"(default: {getattr(default, name)}; book: {getattr(book, name)})"

    parser.add_argument("--epochs", type=positive_int,
                        help=f"passes over the training set {preset_values('epochs')}")
    parser.add_argument("--batch", type=positive_int, help="rows per SGD step, the last one "
                        f"may be shorter {preset_values('batch')}")
    parser.add_argument("--optimizer", metavar="SPEC",
                        help="sgd, rmsprop, adam, adamw, adagrad or adam_textbook with Keras' "
                             "option names, e.g. 'adam(learning_rate=0.001)', "
                             "'sgd(learning_rate=0.05,momentum=0.9,nesterov=true)', "
                             "'rmsprop(lr=exp_decay(0.01,1000,0.9))'; a bare name means "
                             "Keras' defaults (default: SGD at --lr)")
    parser.add_argument("--train-rows", type=positive_int, metavar="N",
                        help="train on the first N training rows only (default: all; "
                             "book-ch19-cnn: 1000)")
    parser.add_argument("--lr", type=positive_float,
                        help=f"SGD learning rate {preset_values('lr')}")
    parser.add_argument("--init", choices=INIT_SCHEMES,
                        help=f"weight initialisation {preset_values('init')}")
    parser.add_argument("--order", choices=ORDERS, help="shuffle: a seeded permutation per "
                        "epoch, the same for both; sequential: the book's slices in order "
                        f"{preset_values('order')}")
    parser.add_argument("--loop", choices=LOOPS, help="the hand-written epoch: fast "
                        "(handrolled/fast.py, preallocated buffers) or textbook "
                        "(handrolled/train.py); both compute the same numbers bit for bit "
                        f"{preset_values('loop')}")
    parser.add_argument("--weights", metavar="NPZ", help="start from these weights (W1, b1, "
                        "... or the book's w1, w2, ...)")


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP + ". Exit 0 when the "
                                   "two agree, 1 when they do not, 2 on bad input.")
    add_training_options(parser)
    return parser


def run(args) -> int:
    return run_comparison(args, NAME, gradients=False, out_dir=args.out)


def run_comparison(args, command: str, gradients: bool, out_dir, fresh: bool = False) -> int:
    """Shared by `train` and `report`: prepare, run, write, print, exit code.
    fresh: `out_dir` is the parent of a new time-stamped report folder.
    The results go to disk first: a verdict on the screen means they are saved
    (a disk that fails is one error line and exit 2, with no verdict)."""
    from ..experiment import prepare
    from ..presets import resolve_config

    check_output_options(args, out_dir)
    backends = choose_backends(args)  # before anything imports Keras
    if len(backends) > 1:
        from ..witnesses import run_across_backends
        return run_across_backends(args, command, backends, out_dir=out_dir, fresh=fresh)
    if out_dir is not None and not fresh:
        from ..report import check_replaceable
        check_replaceable(out_dir)  # before the run, not after it
    twin = import_keras_model(args)  # --from-keras: its layers and loss into args
    resolve_network(args)  # --network FILE.json -> the text form in args.hidden
    config = resolve_config(args)
    prepared = prepare(config, weights_file=args.weights,
                       weights=twin.weights if twin else None,
                       state=twin.state if twin else None,
                       spec_from=lambda inputs, classes: spec_from_args(
                           args, inputs, classes, config.hidden, config.loss))
    from .. import console

    print(console.wrap(f"{command}: {prepared.spec.describe()}, {prepared.dataset.summary()}, "
                       f"{_optimizer_text(config)}, batch {config.batch}, {config.epochs} "
                       f"epochs ({config.order})"), flush=True)

    from ..threads import apply_tensorflow_threads, decide

    # before TensorFlow starts; the line that says what was set is under the Runtime table
    threads = apply_tensorflow_threads(decide(prepared.spec, config.batch, args.threads,
                                              config.seed))

    from ..experiment import run as run_experiment
    from ..training.keras_process import wanted

    keras_apart = wanted(args.keras_process, prepared.spec, config.training_optimizer)
    if not keras_apart:
        console.start_keras()
    with ProgressBar(config.epochs, args.quiet) as progress:
        outcome = run_experiment(prepared, gradients=gradients, progress=progress,
                                 command=command, threads=threads, keras_apart=keras_apart)
    if args.keras_arrays:  # a child of a comparison across backends
        from ..witnesses import save_keras_arrays
        save_keras_arrays(args.keras_arrays, outcome.gradients)
    saved = write_outputs(outcome.results, out_dir, args.json, fresh)
    print_tables(outcome)
    from ..console import wrap
    from .gradients import narrowing_notes
    notes = outcome.training.keras_notes  # measured in Keras' own process, if it had one
    for note in narrowing_notes(prepared.spec) if notes is None else notes:
        print(wrap(f"note: {note}"))
    for line in saved:
        print(line)
    return exit_code(outcome)


class ProgressBar:
    """A bar on stderr per run (handrolled, keras, the round-off samples), each over that
    run's epochs: its estimate comes from its own timed epochs only (a Keras epoch is
    100 times a hand-written one, its first also traces the graph; console.time_left),
    shown once the first is done.  Silent with --quiet."""

    def __init__(self, epochs: int, quiet: bool):
        self.epochs, self.quiet = epochs, quiet
        self.bar, self.side, self.seconds, self.last = None, None, [], 0.0

    def __enter__(self):
        return self

    def begin(self, side: str) -> None:
        """A run starts: a fresh bar (and clock) for it."""
        from .. import console

        self.close()
        self.side, self.seconds, self.last = side, [], time.monotonic()
        self.bar = console.bar(self.epochs, "epoch", f"{side} epoch 1", self.quiet,
                               estimate=False)
        self.bar.set_postfix(left="?")  # no estimate before an epoch is timed

    def __call__(self, side: str, epoch: int, history) -> None:
        from .. import console

        if side != self.side:  # a caller that does not announce its runs
            self.begin(side)
        now = time.monotonic()
        self.seconds.append(now - self.last)
        self.last = now
        self.bar.set_description_str(f"{side} epoch {min(epoch + 2, self.epochs)}",
                                     refresh=False)
        self.bar.set_postfix(left=console.time_left(self.seconds, self.epochs - epoch - 1),
                             loss=f"{history.loss[-1]:.4f}",
                             test_acc=f"{100 * history.test_accuracy[-1]:.2f}%", refresh=False)
        self.bar.update(1)
        if self.bar.n >= self.epochs:  # the run is done: its bar goes
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __exit__(self, *exc) -> None:
        self.close()


def print_tables(outcome) -> None:
    from ..console import wrap
    from ..report import tables
    from ..gradient_table import gradient_table
    from ..training.verdict import shown

    training = outcome.results["training"]
    if outcome.gradients is not None:
        print(gradient_table(outcome.gradients, label="gradients"), end="\n\n")
    print(wrap(f"Training: handrolled (h) vs keras (k), {training['network']}, "
               f"{training['dtype']}"))
    print(tables.training_table(training))
    print("\n".join(map(wrap, tables.training_summary(training))), end="\n\n")
    print("Runtime")
    print(tables.runtime_table(training))
    print("\n".join(map(wrap, tables.runtime_notes(training))))
    print()
    print(wrap(f"verdict: {shown(outcome.results['verdict'])}"), flush=True)
    reason = training["outcome"]["reason"]
    if reason and outcome.results["verdict"] == training["verdict"]:
        print(wrap(f"  ({reason})"), flush=True)


def write_outputs(results: dict, out_dir, json_path, fresh: bool = False) -> list[str]:
    """The report folder and --json FILE; return the lines that say where they are."""
    from ..output import write_json

    saved = []
    if out_dir is not None:
        from ..report import write_report
        written = write_report(out_dir, results, fresh=fresh)
        others = ", ".join(sorted(set(written) - {"report.html"}))
        saved += [f"report: {written['report.html']}", f"  beside it: {others}"]
    if json_path:
        write_json(json_path, results)
    return saved


def exit_code(outcome) -> int:
    """0 identical or agree within round-off, 1 disagree; a run whose two sides both
    blew up is an unusable configuration (2), one side alone a disagreement."""
    training = outcome.training
    for side in ("handrolled", "keras"):
        divergence = getattr(training, side).diverged
        if divergence:
            print(f"nn-compare: {divergence.message(side)}", file=sys.stderr)
    if outcome.agree:
        return AGREE
    return BAD_INPUT if training.diverged_together and outcome.gradients_agree else DISAGREE


def _optimizer_text(config) -> str:
    return f"optimizer {config.optimizer}" if config.optimizer else f"lr {config.lr:g}"
