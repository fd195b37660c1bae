"""spiky-2d: the generated two-class 2-D set, and float features through the pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from compare.datasets import Raw, load_dataset, load_raw, preprocess, spiky
from handrolled import NetworkSpec
from assertions import one_line_error



@pytest.fixture(scope="module")
def ds():
    return load_dataset("spiky-2d", preprocess="raw", seed=0)


def test_shapes_kind_and_balance(ds):
    assert (ds.X_train.shape, ds.X_test.shape) == ((2000, 2), (1000, 2))
    assert (ds.inputs, ds.input_shape, ds.image_shape, ds.classes) == (2, (2,), None, 2)
    assert ds.X_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    assert np.bincount(ds.y_train).tolist() == [1000, 1000]
    assert np.bincount(ds.y_test).tolist() == [500, 500]
    assert np.abs(np.concatenate([ds.X_train, ds.X_test])).max() <= 1
    assert len(np.unique(ds.y_train[:20])) == 2  # shuffled: not all of class 1 first
    assert "seed 0" in ds.source and "spiky-2d" in ds.summary()
    one_line_error(ds.images, "no image shape", "features")


def test_train_and_test_are_different_points(ds):
    both = np.concatenate([ds.X_train, ds.X_test])
    assert len(np.unique(both, axis=0)) == 3000


def test_same_seed_same_points_other_seed_other_points(ds):
    again = load_dataset("spiky-2d", preprocess="raw", seed=0)
    np.testing.assert_array_equal(again.X_train, ds.X_train)
    np.testing.assert_array_equal(again.y_test, ds.y_test)
    other = load_dataset("spiky-2d", preprocess="raw", seed=1)
    assert not np.array_equal(other.X_train, ds.X_train)


def _rule(X):
    """The definition's boundary, without the blur: 1 inside the 7-spike star."""
    theta = np.arctan2(X[:, 1], X[:, 0])
    return (np.hypot(X[:, 0], X[:, 1]) < 0.4 + 0.4 * ((1 + np.cos(7 * theta)) / 2) ** 2)


def test_class_1_is_the_star_up_to_the_blur(ds):
    agree = (_rule(ds.X_test) == ds.y_test).mean()
    assert 0.93 < agree < 0.995  # the blur makes a few points near the boundary cross over
    # the spikes matter: points at the same radius are in or out by angle
    r = np.hypot(ds.X_train[:, 0], ds.X_train[:, 1])
    ring = (r > 0.5) & (r < 0.7)
    assert 0.2 < ds.y_train[ring].mean() < 0.8


def test_a_line_cannot_separate_it_nor_a_circle():
    """Logistic regression (plain NumPy gradient descent) stays near chance; the best
    circle around the centre stays well below what the spikes allow."""
    data = load_dataset("spiky-2d", preprocess="standardize", seed=0)
    X = np.c_[data.X_train, np.ones(len(data.X_train))]
    y = data.y_train
    w = np.zeros(3)
    for _ in range(500):
        p = 1 / (1 + np.exp(-X @ w))
        w -= 1.0 * X.T @ (p - y) / len(y)
    X_test = np.c_[data.X_test, np.ones(len(data.X_test))]
    line = ((X_test @ w > 0) == data.y_test).mean()
    assert line < 0.65
    r = np.hypot(data.X_test[:, 0], data.X_test[:, 1])
    circle = max(((r < c) == data.y_test).mean() for c in np.linspace(0, 3, 301))
    assert 0.7 < circle < 0.9


def test_the_books_two_hidden_layer_network_builds_for_it(ds):
    spec = NetworkSpec.from_text("100:sigmoid,30:sigmoid", inputs=ds.input_shape, classes=2,
                                 loss="binary_crossentropy")
    assert spec.outputs == 1 and [layer.config["units"] for layer in spec.layers] == [100, 30, 1]


# --- float features through the preprocessing ----------------------------------------------

def test_scale_and_raw_keep_features_as_they_are(ds):
    scaled = load_dataset("spiky-2d", preprocess="scale", seed=0)
    np.testing.assert_array_equal(scaled.X_train, ds.X_train)  # never x / 255 on features
    np.testing.assert_array_equal(scaled.X_test, load_raw("spiky-2d").X_test)
    assert scaled.preprocess == "scale"


def test_standardize_features_with_one_mean_and_std(ds):
    std = load_dataset("spiky-2d", preprocess="standardize", seed=0)
    mean, sd = ds.X_train.mean(), ds.X_train.std()
    np.testing.assert_allclose(std.X_test, (ds.X_test - mean) / sd, rtol=0, atol=1e-12)
    assert abs(std.X_train.mean()) < 1e-12 and abs(std.X_train.std() - 1) < 1e-12


def test_float32_features_are_the_float64_ones_rounded_once(ds):
    f32 = load_dataset("spiky-2d", preprocess="raw", seed=0, dtype="float32")
    assert f32.X_train.dtype == f32.Y_train.dtype == np.float32
    np.testing.assert_array_equal(f32.X_train, ds.X_train.astype(np.float32))


def test_pixels_are_still_divided_by_255():
    X = np.array([[0, 51, 255]], np.uint8)
    train, test = preprocess.apply("scale", X, X, "float64")
    assert train.tolist() == [[0.0, 0.2, 1.0]]
    features = X.astype(np.float64)  # twin: the same numbers as features stay as they are
    train, _ = preprocess.apply("scale", features, features, "float64")
    assert train.tolist() == [[0.0, 51.0, 255.0]]


def test_preprocessing_refuses_other_dtypes():
    X = np.array([[1, 2]], np.int32)
    one_line_error(lambda: preprocess.apply("scale", X, X, "float64"), "int32",
                   "uint8 pixels or float features")
    mixed = np.array([[1, 2]], np.uint8), np.array([[1.0, 2.0]])
    one_line_error(lambda: preprocess.apply("raw", *mixed, "float64"), "uint8", "float64")


def _raw(**change):
    arrays = dict(X_train=np.zeros((4, 2)), y_train=np.array([0, 1, 0, 1]),
                  X_test=np.zeros((2, 2)), y_test=np.array([0, 1]), classes=2, source="test")
    return Raw(**{**arrays, **change})


def test_raw_holds_float64_features_or_uint8_pixels():
    assert not _raw().pixels
    assert _raw(X_train=np.zeros((4, 2), np.uint8), X_test=np.zeros((2, 2), np.uint8)).pixels
    one_line_error(lambda: _raw(X_train=np.zeros((4, 2), np.float32)), "float32 and float64",
                   "uint8 pixels or float64 features")
    one_line_error(lambda: _raw(X_test=np.zeros((2, 2), np.int64),
                                X_train=np.zeros((4, 2), np.int64)), "int64")
    bad = np.zeros((2, 2))
    bad[1, 0] = np.inf
    one_line_error(lambda: _raw(X_test=bad), "test features", "NaN or inf")
    one_line_error(lambda: _raw(y_train=np.array([0, 1])), "4 rows", "2 labels")


def test_the_generator_fills_both_classes_exactly(monkeypatch):
    """Few candidates per round: the loop runs many rounds and still stops at the count."""
    monkeypatch.setattr(spiky, "CANDIDATES", 7)
    X, y = spiky.generate(np.random.default_rng(3), 25)
    assert X.shape == (50, 2) and y.tolist() == [1] * 25 + [0] * 25
    assert _rule(X[:25]).mean() > 0.8 and _rule(X[25:]).mean() < 0.2
