"""Results that survive interruption: an append-only log, and files derived from it.

`sweep.jsonl` gets one JSON line per finished configuration, written and
flushed to disk as soon as it finishes; a rerun reads it and skips every
configuration whose key is there.  A line cut short by a kill is ignored (that
configuration simply runs again).  `sweep.json` and `sweep.csv` are rewritten
from the log, atomically, after every row.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from handrolled.errors import SpecError

from ..output import write_atomic, write_json

CSV_COLUMNS = ["activation", "depth", "seed", "lr", "handrolled_accuracy", "keras_accuracy",
               "seconds", "handrolled_seconds", "keras_seconds", "agree", "verdict", "max_loss_diff",
               "max_roundoff_envelope", "diverged", "evaluation", "hidden", "units", "epochs", "batch", "dataset",
               "preprocess", "dtype", "train_rows"]


class ResultsLog:
    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.path = self.directory / "sweep.jsonl"
        if self.directory.exists() and not self.directory.is_dir():
            raise SpecError(f"--out {directory} is a file; expected a directory")
        if self.path.exists() and not self.path.is_file():
            raise SpecError(f"{self.path} is not a file; it must be the sweep's log (or absent)")

    def rows(self) -> dict[str, dict]:
        """Finished rows by key (the last one wins); a truncated last line is skipped."""
        done: dict[str, dict] = {}
        if not self.path.exists():
            return done
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue  # cut short by a kill: that configuration runs again
                if isinstance(row, dict) and "key" in row:
                    done[row["key"]] = row
        return done

    def append(self, row: dict) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # checked before the run, but a disk can change its mind
            raise SpecError(f"cannot create --out directory {self.directory}: "
                            f"{error.strerror}") from None
        line = json.dumps(row) + "\n"
        with open(self.path, "a", encoding="utf-8") as handle:
            if handle.tell() and not self._ends_with_newline():
                line = "\n" + line  # after a torn line, start a fresh one
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"


def write_outputs(directory: Path, rows: list[dict], summary: list[dict], meta: dict) -> None:
    """sweep.json ({"rows", "summary", ...}) and sweep.csv, both atomically."""
    write_json(directory / "sweep.json", dict(meta, rows=rows, summary=summary))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(directory / "sweep.csv", buffer.getvalue())
