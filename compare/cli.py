"""The `nn-compare` command line (also `python -m compare`).

Exit codes: 0 agree / success, 1 disagreement found, 2 bad input or an
unusable target.  Bad input is reported in one line, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from handrolled.errors import SpecError

from .commands import COMMANDS

EXIT_AGREE, EXIT_DISAGREE, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse prints a usage block before errors; we print one line."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nn-compare", description="Build a network twice, by hand in NumPy "
                     "and in Keras, from one description and the same weights, and show with "
                     "numbers that the two agree.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for command in COMMANDS:
        command.add_parser(subparsers).set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except SpecError as error:
        print(f"nn-compare: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("nn-compare: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
