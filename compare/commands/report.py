"""`nn-compare report` (what `make report` runs): gradients, training, runtime, report directory.

The gradient check runs on the first training batch; then both
implementations train side by side (see train.py for the shared options).
The report directory (`--out`, default a new reports/<timestamp>[-N]/) holds
results.json, report.md, report.html (plots embedded) and the PNG plots; it is
written whole and then moved into place (an existing --out is replaced as a
whole, or left untouched if the run stops; compare/report/__init__.py).
"""

from __future__ import annotations

from .train import add_training_options, run_comparison

NAME = "report"
HELP = ("the main comparison: gradients on a batch, both implementations trained side by "
        "side, runtime, and a report directory")


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help=HELP, description=HELP + ". Exit 0 when "
                                   "gradients and training agree, 1 when not, 2 on bad input.")
    add_training_options(parser)
    return parser


def run(args) -> int:
    from ..report import DEFAULT_ROOT

    if args.out is None:  # a new folder under reports/ (--out '' is refused)
        return run_comparison(args, NAME, gradients=True, out_dir=DEFAULT_ROOT, fresh=True)
    return run_comparison(args, NAME, gradients=True, out_dir=args.out)
