"""What makes a check target unusable: exit 2, one line (and the user's traceback).

`TargetError` itself lives in handrolled/errors.py, beside the other kinds of error
(input, machine fault); it is imported here so that `compare.check.errors.TargetError`
stays the same class."""

from __future__ import annotations

from handrolled.errors import TargetError

__all__ = ["ContractError", "TargetError"]


class ContractError(TargetError):
    """A result of the user's code that does not have the promised form: `path` is the
    place inside the result (indices and keys), `problem` what is wrong there, `got` the
    type of what was there."""

    def __init__(self, message: str, path: tuple = (), problem: str = "", got: str = ""):
        super().__init__(message)
        self.path, self.problem, self.got = path, problem, got  # got: the type found there
