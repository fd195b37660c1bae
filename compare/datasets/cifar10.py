"""`cifar10:DIR`: CIFAR-10's binary version, read with NumPy only (no pickle, ever).

The "CIFAR-10 binary version" (cifar-10-binary.tar.gz from the data set's home
page) unpacks into cifar-10-batches-bin/ with six files:

    data_batch_1.bin ... data_batch_5.bin   training, 10,000 records each
    test_batch.bin                          test, 10,000 records

One record is 3,073 bytes: the label (0..9), then the 32x32 image as three
planes, 1,024 red bytes, 1,024 green, 1,024 blue, each row-major.  Each row
of X here is the image in HWC order (height, width, channel): row r reshaped
to (32, 32, 3) is the picture, as Keras' Conv2D (channels_last) expects.

DIR may be that folder or the folder holding it.  The python version (pickled
data_batch_1 ... files) is refused, never unpickled: unpickling runs code.
Every file's size is checked against the format (a positive multiple of
3,073 bytes, at most one real batch) before a byte is read, so memory stays
bounded by the real data set's 60,000 images whatever DIR holds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handrolled.errors import SpecError, os_fault

from .dataset import Raw

PREFIX = "cifar10:"
CLASSES = 10
HEIGHT = WIDTH = 32
CHANNELS = 3
IMAGE_BYTES = HEIGHT * WIDTH * CHANNELS  # 3,072
RECORD_BYTES = 1 + IMAGE_BYTES           # 3,073: the label byte first
MAX_RECORDS = 10_000                     # one real batch file
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILES = ("test_batch.bin",)
BIN_FOLDER, PY_FOLDER = "cifar-10-batches-bin", "cifar-10-batches-py"
HOME_PAGE = "https://www.cs.toronto.edu/~kriz/cifar.html"
GET_IT = f"download the \"CIFAR-10 binary version\" (cifar-10-binary.tar.gz) from {HOME_PAGE}"
EXPECTED = ", ".join((*TRAIN_FILES, *TEST_FILES))


def find_directory(text: str) -> Path:
    """The folder holding the six .bin files: DIR itself or DIR/cifar-10-batches-bin."""
    if not text.strip():
        raise SpecError(f"{PREFIX} needs a directory, e.g. {PREFIX}~/cifar-10-batches-bin; it "
                        f"must hold {EXPECTED} ({GET_IT})")
    directory = Path(text).expanduser()
    if not directory.is_dir():
        raise SpecError(f"{PREFIX}{directory}: not a directory; give {PREFIX}DIR with the "
                        f"CIFAR-10 binary files {EXPECTED} ({GET_IT})")
    if not (directory / TRAIN_FILES[0]).exists() and (directory / BIN_FOLDER).is_dir():
        return directory / BIN_FOLDER
    return directory


def _missing_files_error(directory: Path, missing: list[str]) -> SpecError:
    python_version = ((directory / PY_FOLDER).is_dir() or directory.name == PY_FOLDER
                      or (directory / "data_batch_1").exists())
    if python_version:
        return SpecError(f"{directory}: this is CIFAR-10's python version (pickled files), "
                         f"which is never unpickled here; only the binary version is read: "
                         f"{GET_IT}, unpack it and give {PREFIX}DIR/{BIN_FOLDER}")
    hint = ""
    if (directory / "cifar-10-binary.tar.gz").is_file():
        hint = "; unpack cifar-10-binary.tar.gz first (tar xzf cifar-10-binary.tar.gz)"
    return SpecError(f"{directory}: no {', '.join(missing)}; {PREFIX}DIR needs the CIFAR-10 "
                     f"binary files {EXPECTED}{hint} ({GET_IT})")


def record_count(path: Path) -> int:
    """Records in one .bin file, from its size alone (nothing read yet)."""
    if not path.is_file():
        raise SpecError(f"{path}: not a regular file; expected a CIFAR-10 binary batch")
    size = path.stat().st_size
    if size == 0 or size % RECORD_BYTES or size > MAX_RECORDS * RECORD_BYTES:
        raise SpecError(f"{path}: {size} bytes is not a CIFAR-10 binary batch, which holds "
                        f"1 to {MAX_RECORDS:,} records of {RECORD_BYTES:,} bytes (a label byte "
                        f"and 3,072 pixel bytes); the file is truncated or not from the binary "
                        f"version ({GET_IT})")
    return size // RECORD_BYTES


def read_records(path: Path, count: int, X: np.ndarray, y: np.ndarray) -> None:
    """Fill X (count, 3072) with the HWC images and y (count,) with the labels of `path`."""
    try:
        data = np.fromfile(path, dtype=np.uint8, count=count * RECORD_BYTES)
    except OSError as error:
        raise os_fault(f"cannot read {path}: {error.strerror or error}", error) from None
    if data.size != count * RECORD_BYTES:
        raise SpecError(f"{path}: read {data.size} bytes, expected {count * RECORD_BYTES}; "
                        f"the file changed while it was read")
    records = data.reshape(count, RECORD_BYTES)
    labels = records[:, 0]
    bad = np.flatnonzero(labels >= CLASSES)
    if bad.size:
        raise SpecError(f"{path}: record {int(bad[0])} has label {int(labels[bad[0]])} "
                        f"({bad.size} such records); CIFAR-10 labels are 0..{CLASSES - 1}, so "
                        f"this is not a CIFAR-10 binary batch")
    planes = records[:, 1:].reshape(count, CHANNELS, HEIGHT, WIDTH)  # CHW, as stored
    X[...] = planes.transpose(0, 2, 3, 1).reshape(count, IMAGE_BYTES)  # HWC, row-major
    y[...] = labels


def read_split(directory: Path, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """All records of `names`, in order, as (n, 3072) uint8 HWC rows and (n,) labels."""
    paths = [directory / name for name in names]
    counts = [record_count(path) for path in paths]  # every size checked before any read
    X = np.empty((sum(counts), IMAGE_BYTES), dtype=np.uint8)
    y = np.empty(sum(counts), dtype=np.uint8)
    start = 0
    for path, count in zip(paths, counts):
        read_records(path, count, X[start:start + count], y[start:start + count])
        start += count
    return X, y


def load_cifar10_dir(text: str) -> Raw:
    """The six binary batch files of DIR: 50,000 training and 10,000 test images."""
    directory = find_directory(text)
    missing = [name for name in (*TRAIN_FILES, *TEST_FILES) if not (directory / name).exists()]
    if missing:
        raise _missing_files_error(directory, missing)
    for name in (*TRAIN_FILES, *TEST_FILES):
        record_count(directory / name)  # all six sizes checked before the first read
    X_train, y_train = read_split(directory, TRAIN_FILES)
    X_test, y_test = read_split(directory, TEST_FILES)
    return Raw(X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test, classes=CLASSES,
               source=f"CIFAR-10 binary version in {directory}",
               image_shape=(HEIGHT, WIDTH, CHANNELS))
