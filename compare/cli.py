"""The `nn-compare` command line (also `python -m compare`).

Exit codes (compare/exit_codes.py): 0 agree / success, 1 disagreement found,
2 bad input or an unusable target.  Bad input is reported in one line, never a
traceback; an operating-system fault (disk full, permission denied, ...) is one
line naming the path and the cause, exit 2; an error in the user's own code (a
check target, an --activation-module) shows their traceback first, then the
one line.  Ctrl-C: one line, exit 130.
"""

from __future__ import annotations

import argparse
import os
import sys

from .exit_codes import BAD_INPUT, BROKEN_PIPE, INTERRUPTED


class _Parser(argparse.ArgumentParser):
    """argparse prints a usage block before errors; we print one line."""

    def error(self, message):
        if message.endswith("expected one argument"):  # e.g. --hidden -3:relu
            message += " (for a value that starts with '-', write OPTION=VALUE)"
        self.exit(BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from .commands import COMMANDS

    parser = _Parser(prog="nn-compare", description="Build a network twice, by hand in NumPy "
                     "and in Keras, from one description and the same weights, and show with "
                     "numbers that the two agree.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for command in COMMANDS:
        command.add_parser(subparsers).set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Everything, imports included, runs inside the try: Ctrl-C at any moment is one line.
    try:
        from handrolled.errors import SpecError
        from handrolled.usercode import marking_interrupts

        args = build_parser().parse_args(argv)
        try:
            with marking_interrupts():  # a Ctrl-C told from user code raising KeyboardInterrupt
                return args.run(args)
        except SpecError as error:
            details = getattr(error, "details", "")
            if details:  # the user's own code raised: their traceback, then our line
                sys.stderr.write(details)
            return _fail(" ".join(str(error).split("\n")))
        except BrokenPipeError:
            raise  # handled below: not a fault of the machine
        except OSError as error:  # a machine fault no command caught where it happened
            from .output import os_error
            return _fail(str(os_error("use", error.filename or "a file", error)))
        except MemoryError as error:
            return _fail(f"out of memory: {error or 'an array is too large'}; choose smaller "
                         f"layers (--hidden), a smaller --batch or fewer rows")
    except KeyboardInterrupt:
        print("nn-compare: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # `nn-compare ... | head`: the reader left; say nothing more
        try:  # point stdout at /dev/null, so Python's flush at exit cannot fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass  # stdout is not a file (tests capture it): nothing to flush at exit
        return BROKEN_PIPE


def _fail(message: str) -> int:
    print(f"nn-compare: error: {message}", file=sys.stderr)
    return BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
