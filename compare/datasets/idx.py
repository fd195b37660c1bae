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

from handrolled.errors import SpecError

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
    for name in candidates(stem):
        if (directory / name).is_file():
            return directory / name
    raise SpecError(f"{directory}: no {stem}[.gz]; an IDX directory needs the four MNIST files "
                    f"{EXPECTED} (each optionally .gz)")


def read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when it ends in .gz."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise SpecError(f"{path}: not a complete gzip file ({error}); "
                        f"download it again or decompress it yourself") from None
    except OSError as error:
        raise SpecError(f"cannot read {path}: {error.strerror or error}") from None


def parse(data: bytes, path: Path, magic: int) -> np.ndarray:
    """The values of an IDX file of the given magic, shaped by its header."""
    ndim = _NDIM[magic]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise SpecError(f"{path}: {len(data)} bytes is shorter than the {header}-byte IDX header "
                        f"of an MNIST {_WHAT[magic]} file")
    found = struct.unpack(">I", data[:4])[0]
    if found != magic:
        known = f" (that of an MNIST {_WHAT[found]} file)" if found in _WHAT else ""
        raise SpecError(f"{path}: magic number {found}{known}; expected {magic} for MNIST "
                        f"{_WHAT[magic]}")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if 0 in shape:
        raise SpecError(f"{path}: header gives shape {shape}; every size must be at least 1")
    expected = header + math.prod(shape)
    if len(data) != expected:
        problem = "is truncated" if len(data) < expected else "has extra bytes"
        raise SpecError(f"{path} {problem}: the header announces {_WHAT[magic]} of shape {shape} "
                        f"= {expected} bytes, the file has {len(data)}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_split(directory: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, rows, cols) and labels (n,) of the 'train' or 't10k' pair."""
    images_stem, labels_stem = SPLITS[split]
    images_path, labels_path = find_file(directory, images_stem), find_file(directory, labels_stem)
    images = parse(read_bytes(images_path), images_path, IMAGES_MAGIC)
    labels = parse(read_bytes(labels_path), labels_path, LABELS_MAGIC)
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
