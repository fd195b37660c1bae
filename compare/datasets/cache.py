"""A small on-disk cache of parsed arrays (.npz), written atomically.

Where: $HANDROLLED_CACHE_DIR if set (tests point it at a temporary folder),
else $XDG_CACHE_HOME/handrolled-vs-keras, else ~/.cache/handrolled-vs-keras.
A cache is an optimisation only: an unreadable entry is rebuilt, an
unwritable folder just means the next load parses again.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np

from handrolled.errors import ReportedError

ENV_VAR = "HANDROLLED_CACHE_DIR"
APP_DIR = "handrolled-vs-keras"


def cache_dir(override: str | os.PathLike | None = None) -> Path:
    if override is not None:
        return Path(override)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / APP_DIR


def load_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """All arrays of the .npz at `path`, or None if it is missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        return None


def save_arrays(path: Path, **arrays: np.ndarray) -> bool:
    """Write an .npz atomically (temp file + rename); False if the folder is not writable."""
    from compare.output import write_atomic

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # uncompressed: loading is a plain read, the point of a cache
    try:
        write_atomic(path, buffer.getvalue())
    except (ReportedError, OSError):
        return False
    return True
