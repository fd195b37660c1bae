"""Writing results: atomic files, whole folders replaced in one step, and the one
error line for an operating-system fault.

Every file is written to a temporary name in the same directory and then
renamed, so an interrupted run never leaves a half-written result behind.  A
folder of results (a report) is written into a fresh hidden folder beside its
destination and then swapped in with one rename: the destination holds the
old complete folder or the new complete one, never a mix.  Any OSError on the
way (disk full, permission denied, read-only file system, ...) becomes one
MachineError line naming the path and the cause (exit 2), with the temporary
file or folder removed.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import math
import os
import re
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from handrolled.errors import InputError, MachineError, SpecError, os_fault

# What to do about the faults a user can fix; any other OSError gets its cause alone.
REMEDIES = {
    errno.ENOSPC: "free some space or choose another location",
    errno.EDQUOT: "free some space or choose another location",
    errno.EACCES: "choose a location you can write to",
    errno.EPERM: "choose a location you can write to",
    errno.EROFS: "the file system is read-only; choose another location",
}

# Kinds of existing paths that must never be written through (a FIFO blocks, a device
# is not a result file).
_SPECIAL = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device",
            stat.S_IFBLK: "a device", stat.S_IFDIR: "a directory"}

STAGING = ".partial"  # suffix of a folder being written (hidden, beside its destination)

# Written into every folder the project writes (a report, `nn-compare code`'s output):
# each file's name and SHA-256.  A folder is replaced only while it holds nothing else
# than what its marker lists, unchanged (files may be missing): a folder of the user's,
# or one the user added to or edited, is never replaced.
MARKER = ".nn-compare-folder.json"


def os_error(action: str, path, error: OSError) -> InputError | MachineError:
    """The one line for an operating-system fault: `cannot ACTION PATH: cause; remedy`
    (a MachineError; an InputError where the path itself is wrong: `os_fault`)."""
    cause = error.strerror or str(error) or type(error).__name__
    remedy = REMEDIES.get(error.errno)
    return os_fault(f"cannot {action} {path}: {cause}" + (f"; {remedy}" if remedy else ""),
                    error)


def special_kind(path) -> str | None:
    """'a FIFO', 'a directory', ... for an existing path that is not a regular file."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return _SPECIAL.get(stat.S_IFMT(mode))


def check_file_target(path, option: str = "--json") -> None:
    """Before a long run: fail now if `path` cannot become a file later.  Creates nothing
    (a run stopped by other bad input must leave no trace)."""
    if not str(path).strip():
        raise SpecError(f"{option} needs a file path, e.g. {option} result.json")
    path = Path(path)
    if path.is_dir():
        raise SpecError(f"{option} {path} is a directory; expected a file path, "
                        f"e.g. {path / 'result.json'}")
    kind = special_kind(path)
    if kind:
        raise SpecError(f"{option} {path} is {kind}; expected a regular file path")
    _check_can_create(path.parent, f"{option} {path}")


def check_directory_target(path, option: str = "--out") -> None:
    """Before a long run: fail now if `path` cannot be (or become) a writable directory."""
    if not str(path).strip():
        raise SpecError(f"{option} needs a directory path, e.g. {option} reports/run1")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SpecError(f"{option} {path} is {special_kind(path) or 'a file'}; expected a "
                        f"directory (it will hold the results; a new one is created)")
    _check_can_create(path, f"{option} {path}")


def _check_can_create(directory: Path, what: str) -> None:
    """`directory` exists and is writable, or can be made under its nearest existing parent:
    a folder is made there and removed at once (root may "access" /proc, where nothing
    can be made)."""
    existing = directory.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise SpecError(f"{what}: {existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise MachineError(f"{what}: directory {existing} is not writable")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=f".nn-compare-probe.{os.getpid()}.", dir=existing))
    except OSError as error:
        raise os_fault(f"{what}: cannot create anything in {existing}: "
                       f"{error.strerror or error}", error) from None


def file_digest(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_marker(folder: Path, what: str) -> None:
    """The marker of a folder the project has written (every file in it listed)."""
    files = {entry.name: file_digest(entry) for entry in sorted(folder.iterdir())
             if entry.name != MARKER and entry.is_file() and not entry.is_symlink()}
    write_atomic(folder / MARKER, json.dumps({"written_by": "nn-compare", "what": what,
                                              "files": files}, indent=1) + "\n")


def foreign_entries(folder: Path) -> list[str]:
    """The entries of an existing `folder` the project did not write: everything, without
    a valid marker; else what its marker does not list, or lists with other contents."""
    entries = sorted(os.listdir(folder))
    try:
        listed = json.loads((folder / MARKER).read_text(encoding="utf-8"))["files"]
        if not isinstance(listed, dict):
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError):
        return [entry for entry in entries if entry != MARKER] or \
            ([MARKER] if MARKER in entries else [])
    foreign = []
    for entry in entries:
        path = folder / entry
        if entry == MARKER:
            continue
        if entry not in listed or path.is_symlink() or not path.is_file():
            foreign.append(entry)
            continue
        try:
            if file_digest(path) != listed[entry]:
                foreign.append(entry)
        except OSError:
            foreign.append(entry)
    return foreign


def check_replaceable(folder, what: str, option: str = "--out") -> None:
    """An existing non-empty `folder` may be replaced as a whole only if the project wrote
    all it holds (its marker); else one SpecError line naming what is the user's."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    foreign = foreign_entries(folder)
    if foreign:
        named = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise SpecError(f"{option} {folder} holds files that are not {what} ({named}) and "
                        f"would be replaced as a whole; choose a new or empty folder, or one "
                        f"nn-compare wrote")


def make_directory(directory: Path) -> None:
    """mkdir -p, with the one error line."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise SpecError(f"cannot create directory {directory}: a file of that name "
                        f"exists") from None
    except OSError as error:
        raise os_error("create directory", directory, error) from None


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write `data` to `path` via a temporary file and os.replace."""
    path = Path(path)
    make_directory(path.parent)
    kind = special_kind(path)
    if kind:
        raise SpecError(f"{path} is {kind}; expected a regular file path")
    mode = "wb" if isinstance(data, bytes) else "w"
    tmp = None
    try:
        remove_stale(path.parent, path.name)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                                   dir=path.parent)
        with os.fdopen(fd, mode) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # on the disk before it takes the final name
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
        os.replace(tmp, path)
    except BaseException as error:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise os_error("write", path, error) from None
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def staged_directory(destination: str | os.PathLike, fresh: bool = False,
                     what: str = "a report", replace: bool = True):
    """Yield a new hidden folder beside `destination` to write into; on leaving the block
    without an error it takes `destination`'s place in one step.

    fresh=False: an existing `destination` folder is replaced as a whole (its old
    content is deleted after the swap).  fresh=True: `destination` is a name to
    start from; the folder lands on the first of NAME, NAME-2, NAME-3, ... that
    does not exist, claimed by the rename itself (two runs never share one).
    The final path is in the yielded object's `.path` after the block.
    The folder gets a marker (`write_marker`, `what` it is); an existing folder is
    replaced only if the project wrote all it holds (`check_replaceable`), checked at
    the swap itself, and only with replace=True (else a non-empty one is refused).
    On any error (Ctrl-C included) the hidden folder is removed; one left by a
    killed run is removed by the next run into the same parent folder."""
    destination = Path(destination)
    if destination.is_symlink() and destination.is_dir():
        destination = destination.resolve()  # the folder it points to is replaced, not the link
    make_directory(destination.parent)
    remove_stale(destination.parent, destination.name)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.{os.getpid()}.",
                                        suffix=STAGING, dir=destination.parent))
        staging.chmod(0o777 & ~_umask())  # mkdtemp makes it private; give what mkdir would
    except OSError as error:
        raise os_error("write to", destination.parent, error) from None
    target = _Staged(staging)
    try:
        yield target
        write_marker(staging, what)
        target.path = _move_to_fresh_name(staging, destination) if fresh else \
            _replace_directory(staging, destination, what, replace)
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, OSError):
            raise os_error("write", destination, error) from None
        raise


class _Staged:
    def __init__(self, staging: Path):
        self.staging = staging  # where to write now
        self.path: Path | None = None  # where it is once in place


# Our temporary files and folders for NAME: .NAME.PID.RANDOM.tmp, .partial or .partial-old
# (RANDOM: the 8 characters tempfile draws).
_LEFTOVER = r"^\.{name}\.(?P<pid>\d+)\.[a-z0-9_]{{8}}\.(tmp|partial(?P<old>-old)?)$"


def remove_stale(parent: Path, name: str) -> None:
    """Remove the temporary files and folders for `name` left in `parent` by runs that
    are no longer alive (killed: no chance to clean up).  An old folder moved aside
    whose destination is missing is put back instead."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    pattern, destination = re.compile(_LEFTOVER.format(name=re.escape(name))), parent / name
    for entry in names:
        match = pattern.match(entry)
        if not match or _alive(int(match.group("pid"))):
            continue
        leftover = parent / entry
        if match.group("old") and not destination.exists():
            with contextlib.suppress(OSError):
                os.rename(leftover, destination)  # the old result, back in place
        elif leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                leftover.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # someone else's live process (or a name that is not ours)
    return True


def _move_to_fresh_name(staging: Path, destination: Path) -> Path:
    """Rename `staging` to the first free one of NAME, NAME-2, ...: a rename onto an
    existing non-empty folder or a file fails, so the rename is the check-and-create."""
    n = 1
    while True:
        candidate = destination if n == 1 else destination.with_name(f"{destination.name}-{n}")
        try:
            os.rename(staging, candidate)
            return candidate
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
                raise
        n += 1


def _replace_directory(staging: Path, destination: Path, what: str = "a report",
                       replace: bool = True) -> Path:
    """Put `staging` at `destination`, replacing an existing folder as a whole if the
    project wrote it (and `replace`); checked now, not only when the run started."""
    if destination.exists() and not destination.is_dir():
        raise SpecError(f"--out {destination} is a file; expected a directory")
    try:
        os.rename(staging, destination)  # absent (or an empty folder): done in one step
        return destination
    except OSError as error:
        if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
            raise
    if not replace:
        raise SpecError(f"--out {destination} is not empty any more (something else wrote "
                        f"into it during the run); give a new folder or --force")
    check_replaceable(destination, what)
    if _exchange(staging, destination):  # one atomic swap; staging now holds the old folder
        if foreign_entries(staging):  # changed between the check and the swap: put it back
            _exchange(staging, destination)   # the user's folder, back in place
            check_replaceable(destination, what)  # the line naming what is theirs
        shutil.rmtree(staging, ignore_errors=True)
        return destination
    # No atomic swap here: move the old folder aside first.  Between the two renames
    # the old folder lives on under a hidden name, and a later run cleans it away.
    aside = staging.with_name(staging.name + "-old")
    os.rename(destination, aside)
    if foreign_entries(aside):  # changed between the check and the move: put it back
        os.rename(aside, destination)
        check_replaceable(destination, what)
    os.rename(staging, destination)
    shutil.rmtree(aside, ignore_errors=True)
    return destination


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:  # glibc before 2.28
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # the file system cannot swap
    raise OSError(code, os.strerror(code), str(b))


def _json_safe(value):
    """NaN and inf are not JSON: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def json_text(obj) -> str:
    return json.dumps(_json_safe(obj), indent=2) + "\n"


def write_json(path: str | os.PathLike, obj) -> Path:
    return write_atomic(path, json_text(obj))


def fmt(value, digits: int = 2) -> str:
    """A float in scientific notation for tables; '-' for None."""
    if value is None:
        return "-"
    return f"{value:.{digits}e}"
