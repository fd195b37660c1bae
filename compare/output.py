"""Writing results: atomic files and tables.

Every file is written to a temporary name in the same directory and then
renamed, so an interrupted run never leaves a half-written result behind.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

from handrolled.errors import SpecError


def check_file_target(path, option: str = "--json") -> None:
    """Before a long run: fail now if `path` cannot become a file later.  Creates nothing
    (a run stopped by other bad input must leave no trace)."""
    if not str(path).strip():
        raise SpecError(f"{option} needs a file path, e.g. {option} result.json")
    path = Path(path)
    if path.is_dir():
        raise SpecError(f"{option} {path} is a directory; expected a file path, "
                        f"e.g. {path / 'result.json'}")
    _check_can_create(path.parent, f"{option} {path}")


def check_directory_target(path, option: str = "--out") -> None:
    """Before a long run: fail now if `path` cannot be (or become) a writable directory."""
    if not str(path).strip():
        raise SpecError(f"{option} needs a directory path, e.g. {option} reports/run1")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SpecError(f"{option} {path} is a file; expected a directory (it will hold "
                        f"the results; a new one is created)")
    _check_can_create(path, f"{option} {path}")


def _check_can_create(directory: Path, what: str) -> None:
    """`directory` exists and is writable, or can be made under its nearest existing parent."""
    existing = directory.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise SpecError(f"{what}: {existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SpecError(f"{what}: directory {existing} is not writable")


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write `data` to `path` via a temporary file and os.replace."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise SpecError(f"cannot create directory {path.parent}: a file of that name "
                        f"exists") from None
    except OSError as error:
        raise SpecError(f"cannot create directory {path.parent}: {error.strerror}") from None
    if path.is_dir():
        raise SpecError(f"{path} is a directory; expected a file path")
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise SpecError(f"cannot write to {path.parent}: {error.strerror}") from None
    try:
        with os.fdopen(fd, mode) as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _json_safe(value):
    """NaN and inf are not JSON: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def write_json(path: str | os.PathLike, obj) -> Path:
    return write_atomic(path, json.dumps(_json_safe(obj), indent=2) + "\n")


def fmt(value, digits: int = 2) -> str:
    """A float in scientific notation for tables; '-' for None."""
    if value is None:
        return "-"
    return f"{value:.{digits}e}"
