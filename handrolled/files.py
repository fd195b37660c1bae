"""Reading a file the user named: one-line errors, and never more than asked for.

    data = read_head("net.json", "network file", 1 << 20)

A missing file, a directory or a FIFO is an InputError, an operating-system
fault (no permission, an I/O error) a MachineError (`errors.os_fault`), each
naming the path and the cause (exit 2 on the command line); at most
`size` bytes are read, so a huge file cannot fill the memory before it is
refused, and a FIFO never blocks.
"""

from __future__ import annotations

import os
import stat

from .errors import InputError, os_fault


def read_head(path, what: str, size: int, form: str = "") -> bytes:
    """The first `size` bytes of the regular file `path` (`what` names it: 'weights file')."""
    hint = f"; {form}" if form else ""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"{what} {path} does not exist") from None
    except OSError as error:
        raise os_fault(f"cannot read {what} {path}: {error.strerror}", error) from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{what} {path} is a directory{hint}")
    if not stat.S_ISREG(mode):
        raise InputError(f"{what} {path} is not a regular file{hint}")
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError as error:
        raise os_fault(f"cannot read {what} {path}: {error.strerror}", error) from None
