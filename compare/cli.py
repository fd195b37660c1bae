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
import contextlib
import os
import re
import sys

from .exit_codes import BAD_INPUT, BROKEN_PIPE, INTERRUPTED


class _Parser(argparse.ArgumentParser):
    """argparse prints a usage block before errors; we print one line, the same
    "nn-compare: error: ..." as every other error, with a "did you mean" where a
    mistyped command, option or choice is close to a real one.  Options are never
    abbreviated (`--epoch` is not `--epochs`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        if message.endswith("expected one argument"):  # e.g. --layers -3:relu
            message += " (for a value that starts with '-', write OPTION=VALUE)"
        self.exit(BAD_INPUT, f"nn-compare: error: {_suggested(message, self)}\n")

    def option_names(self) -> list[str]:
        """The options to suggest from: not the ones left out of --help (old names)."""
        return [name for name, action in self._option_string_actions.items()
                if name.startswith("--") and action.help != argparse.SUPPRESS]


def _suggested(message: str, parser: _Parser) -> str:
    """argparse's message with a "did you mean" for an invalid choice or an unknown option."""
    from handrolled.errors import did_you_mean

    choice = re.match(r"(.*invalid choice: '(.*?)') \(choose from (.*)\)$", message)
    if choice:
        said, value, accepted = choice.groups()
        accepted = (re.findall(r"'([^']*)'", accepted) or  # Python 3.12.8+: unquoted
                    [choice.strip() for choice in accepted.split(",")])
        return f"{said}{did_you_mean(value, accepted)}; accepted: {', '.join(accepted)}"
    unknown = re.match(r"unrecognized arguments: (.*)$", message)
    if unknown:
        options = [word.split("=")[0] for word in unknown.group(1).split()
                   if word.startswith("--")]
        hints = [hint for hint in (did_you_mean(option, parser.option_names())
                                   for option in options) if hint]
        return message + (hints[0] if len(options) == 1 and hints else "")
    return message


def build_parser() -> argparse.ArgumentParser:
    from .commands import COMMANDS

    parser = _Parser(prog="nn-compare", description="Build a network twice, by hand in NumPy "
                     "and in Keras, from one description and the same weights, and show with "
                     "numbers that the two agree.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    parser.commands = {}
    for command in COMMANDS:
        parser.commands[command.NAME] = command.add_parser(subparsers)
        parser.commands[command.NAME].set_defaults(run=command.run)
        _group_options(parser.commands[command.NAME])
    return parser


# --help lists a command's options under these headings, in this order; an option not
# named here stays under "options" (with --help), above them.
OPTION_GROUPS = {
    "network": ("hidden", "network", "loss", "dtype", "activation_module", "from_keras",
                "init", "weights", "activations", "depths", "units", "front", "config",
                "suite", "input_shape"),
    "data": ("dataset", "preprocess", "train_rows", "test_rows", "rows"),
    "training": ("preset", "epochs", "batch", "optimizer", "lr", "order", "loop", "steps",
                 "seeds"),
    "output": ("out", "force", "json", "quiet", "no_plot"),
    "run": ("seed", "threads", "backend", "timeout", "no_fd", "no_run", "workers",
            "scheduler", "impls", "repeats", "peak_size", "breakdown", "load"),
}


def _group_options(parser: argparse.ArgumentParser) -> None:
    """Move the parser's options under OPTION_GROUPS' headings (argparse argument groups),
    after they were added by the commands' shared helpers."""
    general = parser._optionals
    for title, names in OPTION_GROUPS.items():
        moved = [action for action in general._group_actions if action.dest in names]
        if moved:
            group = parser.add_argument_group(title)
            group._group_actions.extend(moved)
            for action in moved:
                general._group_actions.remove(action)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, parsed; an unknown option is reported by its command's parser,
    which knows the options to suggest."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def main(argv: list[str] | None = None) -> int:
    # Everything, imports included, runs inside the try: Ctrl-C at any moment is one line.
    try:
        from handrolled.errors import ReportedError
        from handrolled.usercode import marking_interrupts

        if sys.stdout is None:  # fd 1 was closed before Python started
            return _fail("stdout is closed; nn-compare prints its results there: run it "
                         "with stdout open (e.g. > results.txt)")
        try:
            with _named_stdout():
                try:
                    args = parse(argv)  # --help prints to stdout
                except SystemExit:
                    sys.stdout.flush()  # help on a full stdout: said below, not lost
                    if getattr(sys.stdout, "failed", None):
                        raise sys.stdout.failed from None
                    raise
                from . import console
                from .user_activations import session

                args.argv = list(sys.argv[1:] if argv is None else argv)  # rerun per backend
                console.set_quiet(getattr(args, "quiet", False))
                # a Ctrl-C told from user code raising it itself; activation modules' children
                with marking_interrupts(), session():
                    code = args.run(args)
                sys.stdout.flush()  # a full stdout fails here, not in Python's flush at exit
                return code
        except ReportedError as error:  # bad input, an unusable target, a machine fault
            details = getattr(error, "details", "")
            if details:  # the user's own code raised: their traceback, then our line
                sys.stderr.write(details)
            return _fail(" ".join(str(error).split("\n")))
        except BrokenPipeError:
            raise  # handled below: not a fault of the machine
        except OSError as error:  # a machine fault no command caught where it happened
            from .output import os_error
            if error.filename == _Named.NAME:
                _silence_stdout()
                return _fail(str(os_error("write to", "stdout", error)))
            return _fail(str(os_error("use", error.filename or "a file", error)))
        except MemoryError as error:
            return _fail(f"out of memory: {error or 'an array is too large'}; choose smaller "
                         f"layers (--layers), a smaller --batch or fewer rows")
    except KeyboardInterrupt:
        print("nn-compare: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # `nn-compare ... | head`: the reader left; say nothing more
        try:  # point stdout at /dev/null, so Python's flush at exit cannot fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass  # stdout is not a file (tests capture it): nothing to flush at exit
        return BROKEN_PIPE


class _Named:
    """stdout, with its name on the errors it raises: a write to a full stdout
    (/dev/full, a full disk) is an OSError without a file name, told from any other
    file's only here."""

    NAME = "stdout"

    def __init__(self, stream):
        self._stream = stream
        self.failed: OSError | None = None  # the first error (argparse swallows its own)

    def write(self, text):
        try:
            return self._stream.write(text)
        except OSError as error:
            raise self._named(error) from None

    def flush(self):
        try:
            return self._stream.flush()
        except OSError as error:
            raise self._named(error) from None

    def _named(self, error: OSError) -> OSError:
        self.failed = self.failed or OSError(error.errno, error.strerror, self.NAME)
        return self.failed

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def _named_stdout():
    real = sys.stdout
    sys.stdout = _Named(real)
    try:
        yield
    finally:
        if sys.stdout.__class__ is _Named:
            sys.stdout = real


def _silence_stdout() -> None:
    """Point a failed stdout at /dev/null, so Python's flush at exit cannot fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a file (tests capture it)


def _fail(message: str) -> int:
    print(f"nn-compare: error: {message}", file=sys.stderr)
    return BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
