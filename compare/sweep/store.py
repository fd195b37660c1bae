"""Results that survive interruption: an append-only log, and files derived from it.

`sweep.jsonl` gets one JSON line per finished configuration, written and
flushed to disk as soon as it finishes; a rerun reads it and skips every
configuration whose key is there.  A damaged line (cut short by a kill, not
UTF-8, not JSON, a field missing or of the wrong type, a digest that does not match
the row's fields, a field that contradicts the row's key) is skipped with a
warning naming it, moved to `sweep.jsonl.damaged`, and its configuration
simply runs again.  `sweep.json` and `sweep.csv` are rewritten from the log,
atomically, after every row.

One sweep at a time works on a folder: `SweepLock` holds an exclusive lock
(fcntl.flock on OUT/.sweep.lock, released by the kernel even after kill -9;
the file is removed when the sweep ends) from reading the log to the last
row, so two sweeps on one folder never compute the same row twice: the second
waits, then finds the first one's rows in the log.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import sys
from pathlib import Path

from handrolled.errors import SpecError

from ..output import make_directory, os_error, write_atomic, write_json

CSV_COLUMNS = ["activation", "depth", "seed", "lr", "handrolled_accuracy", "keras_accuracy",
               "seconds", "handrolled_seconds", "keras_seconds", "agree", "verdict", "max_loss_diff",
               "max_roundoff_envelope", "diverged", "evaluation", "hidden", "units", "epochs", "batch", "dataset",
               "preprocess", "dtype", "train_rows", "backend"]

_NUMBER, _ACCURACY = (int, float), (int, float, type(None))
# The fields a row needs (the table, the summary and the resume read them), and their types.
ROW_FIELDS = {"key": str, "activation": str, "depth": int, "seed": int, "lr": _NUMBER,
              "handrolled_accuracy": _ACCURACY, "keras_accuracy": _ACCURACY,
              "seconds": _NUMBER, "handrolled_seconds": _NUMBER, "keras_seconds": _NUMBER,
              "agree": bool}


def row_digest(row: dict) -> str:
    """SHA-256 of a row's fields (its "digest" left out), as JSON with sorted keys."""
    import hashlib

    fields = {key: value for key, value in row.items() if key != "digest"}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def signed(row: dict) -> dict:
    """The row as the log holds it: with the digest of its own fields."""
    return dict(row, digest=row_digest(row))


def key_problem(row: dict) -> str | None:
    """Where a row contradicts its own key (the settings it claims to be for)."""
    try:
        settings = json.loads(row["key"])
    except json.JSONDecodeError:
        return "its key is not the JSON of its settings"
    if not isinstance(settings, dict):
        return "its key is not the JSON of its settings"
    for field, value in settings.items():
        if field in row and row[field] != value:
            return f"its {field} {row[field]!r} is not its key's {value!r}"
    return None


def row_problem(line: bytes) -> str | None:
    """What is wrong with one log line, or None for a good row: not a row, a field
    missing, not the row its digest was computed from (edited by hand), or a row that
    contradicts its own key."""
    try:
        row = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return "not UTF-8"
    except json.JSONDecodeError:
        return "not a JSON object (cut short?)"
    if not isinstance(row, dict):
        return "not a JSON object"
    for field, kind in ROW_FIELDS.items():
        if field not in row:
            return f"field '{field}' missing"
        if not isinstance(row[field], kind):
            return f"field '{field}' has the wrong type"
    if row.get("digest") != row_digest(row):
        return "its digest does not match its fields (not the row the sweep wrote)"
    return key_problem(row)


class ResultsLog:
    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.path = self.directory / "sweep.jsonl"
        if self.directory.exists() and not self.directory.is_dir():
            raise SpecError(f"--out {directory} is a file; expected a directory")
        if self.path.exists() and not self.path.is_file():
            raise SpecError(f"{self.path} is not a file; it must be the sweep's log (or absent)")

    def rows(self, warn=None) -> dict[str, dict]:
        """Finished rows by key (the last one wins).  Damaged lines are skipped with a
        warning on `warn` and moved out of the log (call it with the lock held)."""
        try:
            with open(self.path, "rb") as handle:
                lines = handle.read().splitlines(keepends=True)
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise os_error("read the sweep log", self.path, error) from None
        done: dict[str, dict] = {}
        good, damaged = [], []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            problem = row_problem(line)
            if problem:
                print(f"warning: {self.path} line {number} is damaged ({problem}); skipped, "
                      f"kept in {self.path.name}.damaged, its configuration runs again",
                      file=warn or sys.stderr)
                damaged.append(line.rstrip(b"\r\n") + b"\n")
                continue
            row = json.loads(line)
            row.pop("digest")
            done[row["key"]] = row
            good.append(line.rstrip(b"\r\n") + b"\n")
        if damaged:
            self._set_aside(good, damaged)
        return done

    def _set_aside(self, good: list[bytes], damaged: list[bytes]) -> None:
        """The log without its damaged lines; those appended to sweep.jsonl.damaged."""
        aside = self.path.with_name(self.path.name + ".damaged")
        try:
            with open(aside, "ab") as handle:
                handle.write(b"".join(damaged))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise os_error("write", aside, error) from None
        write_atomic(self.path, b"".join(good))

    def append(self, row: dict) -> None:
        make_directory(self.directory)  # checked before the run, but a disk can change its mind
        line = json.dumps(signed(row)) + "\n"
        try:
            with open(self.path, "a", encoding="utf-8") as handle:
                if handle.tell() and not self._ends_with_newline():
                    line = "\n" + line  # after a torn line, start a fresh one
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:  # a torn line from a full disk is skipped by the next read
            raise os_error("append to the sweep log", self.path, error) from None

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"


class SweepLock:
    """The folder's exclusive lock, held for a whole sweep; a second sweep waits for it.

    The lock file is removed when the sweep ends (only a kill -9 leaves it; the next
    sweep there then takes it over).  Removing it is safe because it is removed by its
    holder only: a sweep that was waiting on the removed file finds, once it holds
    it, that the file is no longer the folder's lock, and locks the folder's current one."""

    NAME = ".sweep.lock"

    def __init__(self, directory: str | os.PathLike, warn=None):
        self.directory, self.warn = Path(directory), warn
        self.path = self.directory / self.NAME

    def __enter__(self):
        self.created = not self.directory.exists()
        said = False
        while True:
            make_directory(self.directory)  # again: the last holder may have removed it
            try:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as error:
                raise os_error("lock", self.path, error) from None
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not said:
                    holder = os.pread(self.fd, 32, 0).decode("ascii", "replace").strip() or "?"
                    print(f"sweep: waiting for the sweep (pid {holder}) already working in "
                          f"{self.directory}; its rows will not be computed twice",
                          file=self.warn or sys.stderr, flush=True)
                    said = True
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX)
                except BaseException:
                    os.close(self.fd)
                    raise
            if self._is_the_lock_file():
                break
            os.close(self.fd)  # its holder removed it as it finished: lock the current one
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)
        return self

    def _is_the_lock_file(self) -> bool:
        try:
            return os.path.samestat(os.stat(self.path), os.fstat(self.fd))
        except FileNotFoundError:
            return False

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)  # still held: no one else can be using this name
        if self.created and not os.listdir(self.directory):
            self.directory.rmdir()  # nothing was written: leave no trace
        os.close(self.fd)  # releases the lock


def write_outputs(directory: Path, rows: list[dict], summary: list[dict], meta: dict) -> None:
    """sweep.json ({"rows", "summary", ...}) and sweep.csv, both atomically."""
    write_json(directory / "sweep.json", dict(meta, rows=rows, summary=summary))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(directory / "sweep.csv", buffer.getvalue())
