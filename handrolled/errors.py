"""The exceptions that stop a run with one line and exit 2, named for what went wrong.

    ReportedError            anything the command line reports as one line, exit 2
    |- InputError (SpecError) bad user input: a network text, an option, weights, data,
    |   |                     a file the user names (missing, the wrong kind, malformed)
    |   '- TargetError        a check target or the user's code that cannot be used (it
    |                         does not import, breaks the contract, raises, ends its
    |                         process); `details`: the user's traceback, if any
    '- MachineError           a fault of the machine, not of the input: a full disk, a
                              permission refused, too little memory, a dataset or a
                              package this machine cannot provide

`SpecError` is the old name of `InputError` and stays one.  Every message is a single
line that says what is wrong and what is accepted (or what to do); `compare/cli.py`
prints it as `nn-compare: error: ...` and exits with code 2, no traceback.
"""

import errno

# Operating-system errors that say the path itself is wrong (the user's input): no such
# file, not a directory, a name too long, a loop of links.  Any other (no space, no
# permission, a read-only file system, an I/O error, too many open files) is the machine's.
PATH_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG,
                         errno.ELOOP})


class ReportedError(Exception):
    """What the command line reports as one line and exit 2; never a bug of the project."""


class InputError(ReportedError, ValueError):
    """Bad user input: a network description, weights, data, an option or a file named."""


SpecError = InputError  # the old name: `except SpecError` and `raise SpecError(...)` still work


class TargetError(InputError):
    """A check target (or other code of the user's) that cannot be used.  `details` holds
    the user's traceback, if any: the command line prints it before the one line."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


class MachineError(ReportedError):
    """A fault of the machine, not of the input: no space left, no permission, too little
    memory, a dataset or package that cannot be had here.  The message names the path
    or the need, the cause, and what to do about it."""


def os_fault(message: str, error: OSError) -> "InputError | MachineError":
    """`message` (one line about `error`) as the error its cause calls for: an InputError
    where the path is wrong (`PATH_ERRNOS`), else a MachineError."""
    return (InputError if error.errno in PATH_ERRNOS else MachineError)(message)


def did_you_mean(name, accepted) -> str:
    """The text " (did you mean 'relu'?)" for the accepted name closest to a mistyped `name`
    (difflib's ratio 0.6 or more, case ignored), else ''.  Appended to the one line
    that names an unknown value, so that every registry suggests the same way."""
    import difflib

    accepted = [str(choice) for choice in accepted]
    lowered = {choice.lower(): choice for choice in accepted}
    close = difflib.get_close_matches(str(name).strip().lower(), list(lowered), n=1)
    return f" (did you mean '{lowered[close[0]]}'?)" if close else ""


def unknown(what: str, name, accepted, listed: str | None = None) -> InputError:
    """The error for an unknown name: "unknown activation 'rleu' (did you mean 'relu'?);
    accepted: ...".  `accepted`: the names to suggest from; `listed`: how the accepted
    values are written out, when not simply those names (default: them, comma-joined)."""
    accepted = list(accepted)
    listed = ", ".join(map(str, accepted)) if listed is None else listed
    return InputError(f"unknown {what} '{str(name).strip()}'{did_you_mean(name, accepted)}; "
                     f"accepted: {listed}")
