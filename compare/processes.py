"""Child processes that end with the process that started them, however it ends.

A child of nn-compare (a sweep worker holding a whole TensorFlow, `nn-compare code`
running keras_version.py) must not outlive it, not even after kill -9, which no
`finally` sees.  Linux: the kernel sends the child SIGKILL when its parent dies
(prctl PR_SET_PDEATHSIG, kept across exec); elsewhere a daemon thread polls the
parent's pid (Python children only).  A parent already gone before this ran is
caught by comparing os.getppid() with the pid it handed over.

    die_with_parent(parent_pid)                    # in a Python child (a pool initializer)
    subprocess.run(cmd, preexec_fn=dies_with_us())  # any program started from here
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_PARENT_S = 0.5
# resolved here, in the parent: the child between fork and exec only calls it
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _kill_me_with_parent() -> bool:
    """Ask the kernel for SIGKILL when the parent dies; False where it cannot."""
    return _PRCTL is not None and _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0


def die_with_parent(parent: int) -> None:
    """End this (Python) process when `parent` ends, kill -9 included."""
    if not _kill_me_with_parent():
        _watch_parent(parent)
    if os.getppid() != parent:
        os._exit(1)


def _watch_parent(parent: int) -> None:
    def watch():
        while os.getppid() == parent:
            threading.Event().wait(WATCH_PARENT_S)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def dies_with_us():
    """A `preexec_fn` for subprocess: the program it starts gets SIGKILL when this process
    dies (Linux; None elsewhere, where nothing is done)."""
    if _PRCTL is None:
        return None
    parent = os.getpid()

    def in_the_child():  # between fork and exec: no imports, no locks
        _kill_me_with_parent()
        if os.getppid() != parent:
            os._exit(1)
    return in_the_child
