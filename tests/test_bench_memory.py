"""`bench`'s memory per implementation (compare/bench/memory.py) and `--suite cnn`.

The meter is checked on allocations of known size: what a setup keeps counts as
held, what an epoch allocates and frees counts as its peak, and an earlier,
larger peak of the process does not leak into a later epoch's (the twin: a
meter that does not reset the high-water mark reports it).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from compare.bench import memory

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not memory.reset_peak(),
                                reason="needs Linux's /proc/self/clear_refs")


# Each measurement runs in a fresh Python: in a test worker, earlier tests' garbage
# (collected or trimmed while a setup allocates) moves RSS by more than the sizes measured.
PRELUDE = """
import json, sys
import numpy as np
from compare.bench import memory
from compare.bench.memory import Meter
MB = 2 ** 20
def touched(megabytes):
    return np.ones(megabytes * MB // 8)  # written, so resident
"""


def figures_of(body: str) -> dict:
    """Run PRELUDE + body (which leaves a Meter in `meter`) in a fresh Python; its figures."""
    script = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(meter.figures()))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_meter_counts_what_a_setup_keeps_and_what_an_epoch_allocates():
    figures = figures_of("""
        meter, kept = Meter(), []
        meter.setup(lambda: kept.append(touched(40)))
        def epoch():
            touched(60)  # allocated, written, freed
            return 0.0
        meter.epoch(epoch)
    """)
    assert 36 <= figures["held_mb"] <= 60, figures
    assert 54 <= figures["epoch_peak_mb"] <= 80, figures
    assert figures["memory_mb"] == pytest.approx(figures["held_mb"] + figures["epoch_peak_mb"],
                                                 abs=0.11)


def test_an_earlier_peak_is_not_an_epochs():
    figures = figures_of("""
        touched(150)  # the process's high-water mark is now >= 150 MB above its RSS
        meter = Meter()
        meter.epoch(lambda: 0.0)
    """)
    assert figures["epoch_peak_mb"] < 20, figures


def test_twin_a_meter_that_does_not_reset_the_peak_is_caught():
    figures = figures_of("""
        touched(150)
        memory.reset_peak = lambda: True  # claims to, does not
        meter = Meter()
        meter.epoch(lambda: 0.0)
    """)
    assert figures["epoch_peak_mb"] >= 100, figures


def test_suite_cnn_is_the_conv_table_and_the_ch19_network_on_few_rows():
    from compare.bench.runner import CH19_ROWS, CONV, OTHER_ROWS
    from compare.cli import build_parser
    from compare.commands.bench import configs_from_args
    from compare.presets import BOOK_CH19_CNN

    args = build_parser().parse_args(["bench", "--suite", "cnn", "--dtype", "float32"])
    assert [(c.hidden, c.batch, c.rows) for c in configs_from_args(args)] == [
        (CONV, 32, OTHER_ROWS), (CONV, 128, OTHER_ROWS), (BOOK_CH19_CNN, 32, CH19_ROWS)]
    args = build_parser().parse_args(["bench", "--suite", "cnn", "--dtype", "float32",
                                      "--rows", "64", "--batch", "32"])
    assert [(c.batch, c.rows) for c in configs_from_args(args)] == [(32, 64), (32, 64)]
