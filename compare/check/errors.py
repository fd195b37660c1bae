"""What makes a check target unusable: exit 2, one line (and the user's traceback)."""

from __future__ import annotations

from handrolled.errors import SpecError


class TargetError(SpecError):
    """The target cannot be checked.  `details` holds the user's traceback, if any."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


class ContractError(TargetError):
    """A result of the user's code that does not have the promised form: `path` is the
    place inside the result (indices and keys), `problem` what is wrong there, `got` the
    type of what was there."""

    def __init__(self, message: str, path: tuple = (), problem: str = "", got: str = ""):
        super().__init__(message)
        self.path, self.problem, self.got = path, problem, got  # got: the type found there
