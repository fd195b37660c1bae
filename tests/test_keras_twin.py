import numpy as np
import pytest

import keras_impl
from handrolled import Network, NetworkSpec, init_weights
from tests.conftest import make_batch


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_model_really_runs_in_the_spec_dtype(dtype):
    spec = NetworkSpec.from_text("13:relu,11:tanh", inputs=20, classes=7, dtype=dtype)
    model = keras_impl.build_model(spec, init_weights(spec))
    assert keras_impl.keras.config.floatx() == "float32"  # the global default is untouched
    assert {v.dtype for v in model.weights} == {dtype}
    X, _ = make_batch(spec)
    assert keras_impl.predict_logits(model, X).dtype == np.dtype(dtype)


def test_structure_is_dense_layers_with_keras_kernels():
    spec = NetworkSpec.from_text("13:relu,11:tanh", inputs=20, classes=7)
    model = keras_impl.build_model(spec, init_weights(spec))
    dense = [layer for layer in model.layers]
    assert [type(layer).__name__ for layer in dense] == ["Dense"] * 3
    assert [tuple(layer.kernel.shape) for layer in dense] == [(20, 13), (13, 11), (11, 7)]


def test_weights_round_trip_and_forward_agrees():
    spec = NetworkSpec.from_text("13:sigmoid,11:relu", inputs=20, classes=7)
    weights = init_weights(spec, "book")
    model = keras_impl.build_model(spec, weights)
    back = keras_impl.read_weights(model)
    assert list(back) == list(weights)
    assert all(np.array_equal(back[k], weights[k]) for k in weights)
    X, _ = make_batch(spec)
    np.testing.assert_allclose(keras_impl.predict_proba(model, X),
                               Network(spec, weights).predict_proba(X), rtol=1e-13, atol=1e-15)


def test_model_without_weights_uses_the_seeded_init():
    spec = NetworkSpec.from_text("13:relu", inputs=20, classes=7, seed=5)
    back = keras_impl.read_weights(keras_impl.build_model(spec))
    expected = init_weights(spec)
    assert all(np.array_equal(back[k], expected[k]) for k in expected)
