"""Running the generated programs, reading their per-epoch lines, and judging them.

Both print, after every epoch (numpy_training.REPORT):

    epoch 1: loss 0.532... accuracy 0.84... test_loss 0.61... test_accuracy 0.80...

`judge` compares every column against the reference (the project's own run,
`nn-compare train` on the same slice): losses within the training tolerance of
the dtype (compare/training/tolerances.py), accuracies to the same number of
rows right.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..processes import dies_with_us
from ..training.tolerances import TRAINING_TOLERANCES

COLUMNS = ("loss", "accuracy", "test_loss", "test_accuracy")
LINE = re.compile(r"^epoch (\d+): loss (\S+) accuracy (\S+) test_loss (\S+) "
                  r"test_accuracy (\S+)\s*$")


def parse(text: str) -> list[dict[str, float]]:
    """The per-epoch numbers a program printed, in order."""
    rows = []
    for line in text.splitlines():
        match = LINE.match(line)
        if match:
            rows.append(dict(zip(COLUMNS, map(float, match.groups()[1:]))))
    return rows


def reference(history) -> list[dict[str, float]]:
    """The same columns from a compare.training.History (the project's run)."""
    return [dict(zip(COLUMNS, values)) for values in
            zip(history.loss, history.train_accuracy, history.test_loss, history.test_accuracy)]


@dataclass
class Run:
    program: str
    returncode: int
    output: str        # stdout and stderr as printed

    @property
    def epochs(self) -> list[dict[str, float]]:
        return parse(self.output)


def run_program(folder: Path, program: str) -> Run:
    """`python PROGRAM` in `folder`, as a student would run it."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, program], cwd=folder, capture_output=True,
                          text=True, env=env, preexec_fn=dies_with_us())  # even after kill -9
    return Run(program, done.returncode, done.stdout + done.stderr)


@dataclass
class Judgement:
    agree: bool
    largest: dict[str, float]   # column -> the largest difference from the reference
    problems: list[str]


def judge(epochs: list[dict], expected: list[dict], dtype: str, rows: dict[str, int],
          name: str) -> Judgement:
    """`epochs` against `expected`; `rows`: {"train": n, "test": n} (accuracy resolution)."""
    tolerance = TRAINING_TOLERANCES[dtype]
    limits = {"loss": tolerance.loss, "test_loss": tolerance.loss,
              "accuracy": max(tolerance.accuracy, 0.5 / rows["train"]),
              "test_accuracy": max(tolerance.accuracy, 0.5 / rows["test"])}
    problems, largest = [], {column: 0.0 for column in COLUMNS}
    if len(epochs) != len(expected):
        problems.append(f"{name} printed {len(epochs)} epochs; expected {len(expected)}")
    for number, (got, want) in enumerate(zip(epochs, expected), start=1):
        for column in COLUMNS:
            difference = abs(got[column] - want[column])
            largest[column] = max(largest[column], difference)
            if not difference <= limits[column]:
                problems.append(f"{name} epoch {number} {column}: {got[column]!r} vs "
                                f"{want[column]!r} (difference {difference:.3g} > "
                                f"{limits[column]:.3g})")
    return Judgement(not problems, largest, problems)
