"""Child processes that must not outlive the command that started them.

    die_with_parent(parent_pid)   # first thing in the child: ends it when the parent ends
    subprocess.run(cmd, preexec_fn=dies_with_us())   # any program started from here

Used by the sweep's worker processes, by the process that runs a user's check target
(`compare/check/child.py`) and by `nn-compare code`'s runs of the generated programs
(`dies_with_us`: the kernel's parent-death signal is kept across exec).  Standard
library only: a child calls it before anything heavy is imported.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_PARENT_S = 0.5


def die_with_parent(parent: int) -> None:
    """End this process when `parent` ends, however it ends (kill -9 included): a
    sweep worker holds a whole TensorFlow (about 900 MB), a check target's process the
    user's code, and neither may outlive its command.

    Linux: the kernel sends SIGKILL on the parent's death (prctl PR_SET_PDEATHSIG);
    elsewhere a daemon thread polls the parent's pid.  A parent already gone before
    this ran is caught by comparing os.getppid() with the pid it handed over."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            _watch_parent(parent)
    else:
        _watch_parent(parent)
    if os.getppid() != parent:
        os._exit(1)


def _watch_parent(parent: int) -> None:
    def watch():
        while os.getppid() == parent:
            threading.Event().wait(WATCH_PARENT_S)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


# resolved here, in the parent: the child between fork and exec only calls it
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def dies_with_us():
    """A `preexec_fn` for subprocess: the program it starts gets SIGKILL when this process
    dies, kill -9 included (Linux; None elsewhere, where nothing is done)."""
    if _PRCTL is None:
        return None
    parent = os.getpid()

    def in_the_child():  # between fork and exec: no imports, no locks
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)
    return in_the_child


def exit_description(code: int | None) -> str:
    """How a child ended, from its exit status: "was killed by SIGKILL (the system's
    out-of-memory killer, or another process)", "exited with code 1", ..."""
    if code is None:
        return "did not end"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        how = f"was killed by {name}"
        if -code == signal.SIGKILL:
            how += " (the system's out-of-memory killer, or another process)"
        elif -code in (signal.SIGSEGV, signal.SIGBUS):
            how += " (a crash in native code)"
        return how
    return f"exited with code {code}"
