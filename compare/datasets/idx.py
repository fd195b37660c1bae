"""Reading MNIST-format IDX files with NumPy only (struct + frombuffer).

An IDX file is a big-endian header followed by the raw values:

    magic   (4 bytes)  0x00000803 = 2051: unsigned bytes, 3 dimensions (images)
                       0x00000801 = 2049: unsigned bytes, 1 dimension  (labels)
    sizes   (4 bytes each)  n [, rows, cols]
    data    n [* rows * cols] bytes

Every check here exists because a real download can be truncated, renamed or
mixed up, and a silent reshape of the wrong bytes trains on garbage.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from handrolled.errors import SpecError, os_fault

from .dataset import Raw

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
_NDIM = {IMAGES_MAGIC: 3, LABELS_MAGIC: 1}
_WHAT = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}
SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
EXPECTED = ", ".join(name for pair in SPLITS.values() for name in pair)


def candidates(stem: str) -> list[str]:
    """The names one file may have: 'train-images-idx3-ubyte' or '...images.idx3-ubyte', [.gz]."""
    dotted = stem.replace("-idx", ".idx", 1)
    return [name + ext for ext in ("", ".gz") for name in (stem, dotted)]


def find_file(directory: Path, stem: str) -> Path:
    from ..output import special_kind

    for name in candidates(stem):
        path = directory / name
        if path.is_file():
            return path
        kind = special_kind(path) if path.exists() or path.is_symlink() else None
        if kind:  # there, but not a file to read: say so, not "missing"
            raise SpecError(f"{path} is {kind}, not a regular file; an IDX directory needs "
                            f"the four MNIST files {EXPECTED} (each optionally .gz)")
    raise SpecError(f"{directory}: no {stem}[.gz]; an IDX directory needs the four MNIST files "
                    f"{EXPECTED} (each optionally .gz)")


MAX_DATA_MEMORY = 2 << 30  # bytes one IDX file's values may take once trained on: as float64,
# 8 bytes each (full MNIST's training images: 47 million values, 376 MB)
MAX_IDX_BYTES = MAX_DATA_MEMORY // 8  # so the largest IDX file read, decompressed (its values
# are one byte each): a header announcing more is refused before anything is read
_CHUNK = 1 << 16  # bytes decompressed at a time (gzip holds each chunk once more)


def read_idx(path: Path, magic: int) -> np.ndarray:
    """The values of the IDX file at `path` (gzip when it ends in .gz), shaped by its header.

    The header is read first and checked (magic, sizes, at most MAX_IDX_BYTES); then the
    values are read, in chunks, straight into one array of the announced size, and one
    byte more is asked for: neither a lying header nor a gzip bomb can take more memory
    than the header's (bounded) size, and the values are never held twice."""
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as handle:
            return _read(handle, path, magic)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise SpecError(f"{path}: not a complete gzip file ({error}); "
                        f"download it again or decompress it yourself") from None
    except OSError as error:
        raise os_fault(f"cannot read {path}: {error.strerror or error}", error) from None


def _read(handle, path: Path, magic: int) -> np.ndarray:
    ndim = _NDIM[magic]
    header = 4 + 4 * ndim
    head = handle.read(header)
    if len(head) < header:
        raise SpecError(f"{path}: {len(head)} bytes is shorter than the {header}-byte IDX header "
                        f"of an MNIST {_WHAT[magic]} file")
    found = struct.unpack(">I", head[:4])[0]
    if found != magic:
        known = f" (that of an MNIST {_WHAT[found]} file)" if found in _WHAT else ""
        raise SpecError(f"{path}: magic number {found}{known}; expected {magic} for MNIST "
                        f"{_WHAT[magic]}")
    shape = struct.unpack(f">{ndim}I", head[4:])
    if 0 in shape:
        raise SpecError(f"{path}: header gives shape {shape}; every size must be at least 1")
    expected = header + math.prod(shape)
    announces = f"the header announces {_WHAT[magic]} of shape {shape} = {expected:,} bytes"
    if expected - header > MAX_IDX_BYTES:
        raise SpecError(f"{path}: {announces}, {8 * (expected - header):,} bytes of memory as "
                        f"float64; at most {MAX_DATA_MEMORY:,} bytes ({MAX_IDX_BYTES:,} "
                        f"values) are accepted")
    body = _read_at_most(handle, expected - header)
    size = header + len(body)
    if size < expected:
        raise SpecError(f"{path} is truncated: {announces}, the file has {size:,}")
    if handle.read(1):
        more = "more (decompressed)" if path.suffix == ".gz" else f"{path.stat().st_size:,}"
        raise SpecError(f"{path} has extra bytes: {announces}, the file has {more}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def _read_at_most(handle, size: int) -> bytearray:
    """Up to `size` bytes, in chunks appended to one bytearray: it grows with what the
    file really holds (a lying header allocates nothing), and in place (realloc), so
    the values are never held twice (joining a list of chunks did that)."""
    body = bytearray()
    while len(body) < size:
        chunk = handle.read(min(_CHUNK, size - len(body)))
        if not chunk:
            break
        body += chunk
    return body


def read_split(directory: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, rows, cols) and labels (n,) of the 'train' or 't10k' pair."""
    images_stem, labels_stem = SPLITS[split]
    images_path, labels_path = find_file(directory, images_stem), find_file(directory, labels_stem)
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise SpecError(f"{directory}: {images_path.name} holds {images.shape[0]} images but "
                        f"{labels_path.name} {labels.shape[0]} labels; they must match")
    return images, labels


def _check_every_class_occurs(directory: Path, labels: np.ndarray, classes: int) -> None:
    counts = np.bincount(labels, minlength=classes)
    missing = np.flatnonzero(counts == 0)
    if missing.size == 0:
        return
    top = classes - 1
    verb = "occurs" if missing.size == 1 else "occur"
    detail = ""
    if missing.tolist() == [0]:
        detail = " (1-based labels? subtract 1)"
    elif missing[-1] == top - 1:  # the gap ends just below the largest label: a stray one?
        rows = np.flatnonzero(labels == top)
        detail = f"; label {top} is on {rows.size} row(s) (first: {rows[0]})"
    raise SpecError(f"{directory}: training labels run {labels.min()}..{top}, so {classes} "
                    f"classes, but {_ranges(missing)} never {verb}{detail}; labels must be "
                    f"0..C-1 with every class in the training set")


def _ranges(values: np.ndarray) -> str:
    """[0, 10, 11, 12, 40] -> 'class 0, 10..12, 40'."""
    parts, start = [], values[0]
    for prev, value in zip(values, [*values[1:], None]):
        if value is None or value != prev + 1:
            parts.append(str(start) if start == prev else f"{start}..{prev}")
            start = value
    return ("class " if values.size == 1 else "classes ") + ", ".join(parts)


def load_idx_dir(directory: str | Path, source: str | None = None) -> Raw:
    """The four MNIST IDX files of `directory` as flattened uint8 pixels and labels.

    The number of classes is 1 + the largest training label (10 for MNIST and
    Fashion-MNIST); every class below it must occur in the training labels (a
    stray label 200 would otherwise make 201 classes, 1-based labels a class 0
    that never occurs), and a test label beyond it is an error.
    """
    if not str(directory).strip():
        raise SpecError(f"idx: needs a directory, e.g. idx:~/mnist; it must hold the four MNIST "
                        f"files {EXPECTED} (each optionally .gz)")
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise SpecError(f"idx:{directory}: not a directory; give idx:DIR with the four MNIST "
                        f"files {EXPECTED} (each optionally .gz)")
    train_images, train_labels = read_split(directory, "train")
    test_images, test_labels = read_split(directory, "test")
    if train_images.shape[1:] != test_images.shape[1:]:
        raise SpecError(f"{directory}: train images are {train_images.shape[1:]} pixels, test "
                        f"images {test_images.shape[1:]}; both must have the same size")
    classes = int(train_labels.max()) + 1
    if classes < 2:
        raise SpecError(f"{directory}: every training label is 0; a classifier needs labels "
                        f"of at least two classes")
    _check_every_class_occurs(directory, train_labels, classes)
    if test_labels.max() >= classes:
        raise SpecError(f"{directory}: test label {int(test_labels.max())} is outside the "
                        f"classes 0..{classes - 1} seen in the training labels")
    return Raw(X_train=train_images.reshape(len(train_images), -1), y_train=train_labels,
               X_test=test_images.reshape(len(test_images), -1), y_test=test_labels,
               classes=classes, source=source or f"IDX files in {directory}",
               image_shape=(*train_images.shape[1:3], 1))
