"""What a command shows while it works, on stderr: a line as each slow stage starts
(starting Keras, running a program), and progress bars whose estimates come from the
epochs already timed.  Never on stdout: its tables and --json are what scripts read.

    console.say("code: running keras_version.py ...")
    console.start_keras()            # the line, then the import (several seconds)
    with console.Bar(epochs, "epoch") as bar: ...

`--quiet` (set_quiet) silences all of it; errors are not progress and still print.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time

_quiet = False


def set_quiet(quiet: bool) -> None:
    global _quiet
    _quiet = bool(quiet)


def quiet() -> bool:
    return _quiet


WIDTH = 120  # columns every table and line on stdout fits in


def wrap(line: str) -> str:
    """A line of stdout within WIDTH columns (the check reports' rule, compare/check/text.py)."""
    from .check.text import wrap as wrap_to

    return wrap_to(line, WIDTH)


def say(text: str) -> None:
    """One line on stderr (above a progress bar, if one is shown), unless --quiet."""
    if _quiet:
        return
    from tqdm import tqdm

    tqdm.write(text, file=sys.stderr)
    sys.stderr.flush()


def start_keras() -> None:
    """Import Keras (and its backend) with a line first: it takes several seconds (13 s
    measured on a busy 2-core machine, 28 s on a busier one), otherwise silence."""
    if "keras" in sys.modules:
        return
    from keras_impl import backends

    with waiting(f"starting Keras on {backends.chosen()} (loading it takes a few seconds)"):
        import keras_impl.runtime  # noqa: F401  (imports Keras on the chosen backend; the
        # package itself is lazy and imports nothing until a name is used)


@contextlib.contextmanager
def waiting(text: str):
    """A slow stage with no steps to count: its line at once; on a terminal the line
    then counts the seconds ('starting Keras ... 7 s') and is cleared when done."""
    if _quiet:
        yield
        return
    if not sys.stderr.isatty():
        say(f"{text} ...")
        yield
        return
    done, start = threading.Event(), time.monotonic()

    def tick():
        while True:
            sys.stderr.write(f"\r{text} ... {time.monotonic() - start:.0f} s")
            sys.stderr.flush()
            if done.wait(1.0):
                return

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        sys.stderr.write("\r\033[K")  # the line cleared: what follows takes its place
        sys.stderr.flush()


def bar(total: int, unit: str, description: str = "", quiet: bool = False,
        estimate: bool = True):
    """A tqdm bar on stderr (disabled with --quiet), gone when it closes: no estimate until
    a first step is timed, then tqdm's from the timed steps (`estimate=False`: none, the
    caller gives its own in the postfix).  Its description changes with
    set_description_str."""
    from tqdm import tqdm

    remaining = "<{remaining}" if estimate else ""
    return tqdm(total=total, unit=unit, desc=description, disable=_quiet or quiet,
                file=sys.stderr, dynamic_ncols=True, leave=False, smoothing=0,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                           f"[{{elapsed}}{remaining}{{postfix}}]")


def time_left(seconds: list[float], remaining: int) -> str:
    """'~00:12': `remaining` steps at the typical measured step: the median of those after
    the first when there are two or more (a first Keras epoch also traces its graph, 2-10
    times a later one), else the first; '?' before any step is timed."""
    from tqdm import tqdm

    if not seconds:
        return "?"
    typical = seconds[0] if len(seconds) == 1 else sorted(seconds[1:])[len(seconds[1:]) // 2]
    return "~" + tqdm.format_interval(typical * remaining)
