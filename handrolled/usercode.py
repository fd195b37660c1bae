"""Calling code the user wrote, and saying what it did when it did not return.

A user's function (a check target's `gradients()`, a user activation, an
activation module being loaded) may raise any exception, call `sys.exit()`, or
raise `KeyboardInterrupt` itself.  None of these may end a run silently (a
`sys.exit(0)` inside `gradients()` used to end `nn-compare check` with exit 0,
a silent "agree"), so each caller catches `ESCAPES` and reports `what_it_did`.

A Ctrl-C is the one exception: while `marking_interrupts()` is active (the
command line runs every command inside it), a SIGINT sets a flag before it
raises KeyboardInterrupt, so `is_real_interrupt` tells the user pressing Ctrl-C
(exit 130) from their code raising KeyboardInterrupt (a bug in it: exit 2).
Outside it (library use, worker processes) every KeyboardInterrupt counts as a
real one, as Python's default does.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

ESCAPES = (Exception, SystemExit, KeyboardInterrupt)  # what a call into user code catches

_marking = False
_signalled = False


def _on_sigint(signum, frame):
    global _signalled
    _signalled = True
    raise KeyboardInterrupt


@contextmanager
def marking_interrupts():
    """Within the block, a real Ctrl-C is marked, so user code raising KeyboardInterrupt
    itself can be told from it (main thread only; elsewhere a no-op)."""
    global _marking, _signalled
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_sigint)
    _marking, _signalled = True, False
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _marking = False


def is_real_interrupt(error: BaseException) -> bool:
    """True for a KeyboardInterrupt that a Ctrl-C caused (or that cannot be told apart)."""
    return isinstance(error, KeyboardInterrupt) and (_signalled or not _marking)


def what_it_did(error: BaseException) -> str:
    """'raised ValueError: ...', 'called sys.exit(0)', ...: one line, for a message."""
    if isinstance(error, SystemExit):
        return (f"called sys.exit({error.code!r}) (SystemExit); it must return its "
                f"result, not end the program")
    if isinstance(error, KeyboardInterrupt):
        return "raised KeyboardInterrupt itself (no Ctrl-C was pressed)"
    first_line = (str(error).strip().splitlines() or [""])[0]
    return f"raised {type(error).__name__}: {first_line}"
