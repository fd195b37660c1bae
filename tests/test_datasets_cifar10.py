"""cifar10:DIR: CIFAR-10's binary version, from tiny fake batch files (tests/cifar_files.py).

Every "this loads" test has twins that break one file and assert the one-line SpecError.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from cifar_files import RECORD, TEST_FILE, TRAIN_FILES, batch_bytes, small_batches, \
    write_cifar_dir
from compare.datasets import cifar10, is_dataset_name, load_dataset, load_raw
from handrolled import NetworkSpec
from assertions import one_line_error



def test_round_trip_shapes_labels_and_order(tmp_path):
    batches = small_batches(per_batch=3, n_test=4)
    write_cifar_dir(tmp_path, batches)
    ds = load_dataset(f"cifar10:{tmp_path}", preprocess="raw")
    assert (ds.X_train.shape, ds.X_test.shape, ds.classes) == ((15, 3072), (4, 3072), 10)
    assert ds.image_shape == ds.input_shape == (32, 32, 3)
    train_images = np.concatenate([batches[name][0] for name in TRAIN_FILES])
    train_labels = np.concatenate([batches[name][1] for name in TRAIN_FILES])
    # batch 1 first, batch 5 last; each flat row is the (32, 32, 3) image, HWC
    np.testing.assert_array_equal(ds.images("train"), train_images)
    np.testing.assert_array_equal(ds.y_train, train_labels)
    np.testing.assert_array_equal(ds.images("test"), batches[TEST_FILE][0])
    np.testing.assert_array_equal(ds.y_test, batches[TEST_FILE][1])
    assert str(tmp_path) in ds.source and "binary" in ds.source


def test_planes_become_hwc_rows(tmp_path):
    """Record 0: red plane 10 except 200 at (row 2, col 5), green 20, blue 30."""
    red = np.full((32, 32), 10, np.uint8)
    red[2, 5] = 200
    image = np.stack([red, np.full((32, 32), 20, np.uint8), np.full((32, 32), 30, np.uint8)], -1)
    batches = small_batches(per_batch=1, n_test=1)
    batches[TRAIN_FILES[0]] = (image[None], np.array([7], np.uint8))
    write_cifar_dir(tmp_path, batches)
    raw = load_raw(f"cifar10:{tmp_path}")
    row = raw.X_train[0]
    assert raw.X_train.dtype == np.uint8 and raw.pixels
    assert row[:6].tolist() == [10, 20, 30, 10, 20, 30]  # pixel (0, 0) RGB, then (0, 1)
    assert row[(2 * 32 + 5) * 3] == 200 and row[(2 * 32 + 5) * 3 + 1] == 20
    assert (row == 200).sum() == 1 and raw.y_train[0] == 7
    # twin: the stored CHW order read as is would put red's 1,024 bytes first
    stored = np.frombuffer(batch_bytes(image[None], [7]), np.uint8)[1:]
    assert not np.array_equal(stored, row)


def test_the_record_layout_of_the_writer():
    """Guard for the test helper: label byte, then 1,024 red, 1,024 green, 1,024 blue."""
    image = np.zeros((32, 32, 3), np.uint8)
    image[0, 1] = (1, 2, 3)
    data = batch_bytes(image[None], [9])
    assert len(data) == RECORD == 3073 and data[0] == 9
    assert (data[1 + 1], data[1 + 1024 + 1], data[1 + 2048 + 1]) == (1, 2, 3)


def test_scale_and_a_conv_network_for_the_image_shape(tmp_path):
    write_cifar_dir(tmp_path)
    ds = load_dataset(f"cifar10:{tmp_path}", preprocess="scale", dtype="float32")
    assert ds.X_train.dtype == np.float32 and 0 <= ds.X_train.min() and ds.X_train.max() <= 1
    raw = load_raw(f"cifar10:{tmp_path}")
    np.testing.assert_array_equal(ds.X_train, (raw.X_train / 255).astype(np.float32))
    spec = NetworkSpec.from_text("conv(4,3,relu),maxpool(2),flatten", inputs=ds.input_shape,
                                 classes=ds.classes)
    assert spec.outputs == 10


def test_the_unpacked_subfolder_is_found(tmp_path):
    write_cifar_dir(tmp_path / "cifar-10-batches-bin")
    ds = load_dataset(f"cifar10:{tmp_path}")
    assert ds.X_train.shape == (15, 3072) and "cifar-10-batches-bin" in ds.source


def test_names_are_registered():
    assert is_dataset_name("cifar10:/data") and is_dataset_name("idx:/data")
    assert not is_dataset_name("cifar10") and not is_dataset_name("cifar100:/data")


def test_the_reader_never_imports_pickle():
    tree = ast.parse(Path(cifar10.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {"pickle", "cPickle", "_pickle", "joblib"} & imported


# --- bad input: one line each ---------------------------------------------------------------

def _broken(directory: Path, replace: dict) -> Path:
    """A valid directory, with some files' bytes replaced (None: the file left out)."""
    write_cifar_dir(directory)
    for name, payload in replace.items():
        (directory / name).unlink()
        if payload is not None:
            (directory / name).write_bytes(payload)
    return directory


def _batch(name: str) -> bytes:
    images, labels = small_batches()[name]
    return batch_bytes(images, labels)


@pytest.mark.parametrize("replace, words", [
    ({"data_batch_3.bin": None, TEST_FILE: None},
     ["no data_batch_3.bin, test_batch.bin;", "data_batch_1.bin", "CIFAR-10 binary version"]),
    ({"data_batch_2.bin": _batch("data_batch_2.bin")[:-1]},
     ["data_batch_2.bin", "9218 bytes", "records of 3,073 bytes", "truncated"]),
    ({TEST_FILE: _batch(TEST_FILE) + b"\0"}, [TEST_FILE, "12293 bytes"]),
    ({"data_batch_1.bin": b""}, ["data_batch_1.bin", "0 bytes", "1 to 10,000 records"]),
    ({TEST_FILE: bytes([10]) + _batch(TEST_FILE)[1:]},
     [TEST_FILE, "record 0 has label 10 (1 such records)", "0..9"]),
    ({"data_batch_5.bin": _batch("data_batch_5.bin")[:RECORD] + bytes([255])
      + _batch("data_batch_5.bin")[RECORD + 1:]}, ["data_batch_5.bin", "record 1", "label 255"]),
])
def test_bad_files_are_one_line_errors(tmp_path, replace, words):
    _broken(tmp_path, replace)
    one_line_error(lambda: load_dataset(f"cifar10:{tmp_path}"), *words)


def test_a_file_larger_than_a_real_batch_is_refused_before_reading(tmp_path, monkeypatch):
    _broken(tmp_path, {})
    with open(tmp_path / TEST_FILE, "r+b") as handle:  # sparse: no 30 MB actually written
        handle.truncate(10_001 * RECORD)
    monkeypatch.setattr(np, "fromfile", _must_not_read)
    one_line_error(lambda: load_dataset(f"cifar10:{tmp_path}"), TEST_FILE, "30733073 bytes",
                   "1 to 10,000 records")


def test_twin_a_full_size_batch_is_accepted(tmp_path):
    """10,000 records (the real size) pass the size check: only 10,001 is too many."""
    path = tmp_path / "data_batch_1.bin"
    with open(path, "wb") as handle:
        handle.truncate(10_000 * RECORD)
    assert cifar10.record_count(path) == 10_000


def test_every_size_is_checked_before_the_first_read(tmp_path, monkeypatch):
    _broken(tmp_path, {TEST_FILE: _batch(TEST_FILE)[:-7]})
    monkeypatch.setattr(np, "fromfile", _must_not_read)
    one_line_error(lambda: load_dataset(f"cifar10:{tmp_path}"), TEST_FILE, "bytes")


def _must_not_read(*args, **kwargs):
    raise AssertionError("a file was read before every size was checked")


@pytest.mark.parametrize("layout", ["py-folder", "py-files", "inside-py-folder"])
def test_the_python_version_is_refused_not_unpickled(tmp_path, layout):
    directory = tmp_path
    if layout == "py-folder":
        (tmp_path / "cifar-10-batches-py").mkdir()
    else:
        if layout == "inside-py-folder":
            directory = tmp_path / "cifar-10-batches-py"
            directory.mkdir()
        for name in ("data_batch_1", "test_batch", "batches.meta"):
            (directory / name).write_bytes(b"\x80\x04 not to be unpickled")
    one_line_error(lambda: load_dataset(f"cifar10:{directory}"), "python version",
                   "only the binary version is read", "CIFAR-10 binary version",
                   "https://www.cs.toronto.edu/~kriz/cifar.html")


def test_a_downloaded_archive_gets_the_unpack_hint(tmp_path):
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(b"\x1f\x8b")
    one_line_error(lambda: load_dataset(f"cifar10:{tmp_path}"), "no data_batch_1.bin",
                   "tar xzf cifar-10-binary.tar.gz")


@pytest.mark.parametrize("name, words", [
    ("cifar10:", ["needs a directory", "data_batch_1.bin", "binary version"]),
    ("cifar10:/no/such/dir", ["/no/such/dir", "not a directory", "test_batch.bin"]),
    ("cifar10", ["unknown dataset 'cifar10' (cifar10:DIR", "cifar10:DIR", "spiky-2d"]),
])
def test_bad_names_are_one_line_errors(name, words):
    one_line_error(lambda: load_dataset(name), *words)


def test_a_folder_named_like_a_batch_is_an_error(tmp_path):
    _broken(tmp_path, {"data_batch_4.bin": None})
    (tmp_path / "data_batch_4.bin").mkdir()
    one_line_error(lambda: load_dataset(f"cifar10:{tmp_path}"), "data_batch_4.bin",
                   "not a regular file")
