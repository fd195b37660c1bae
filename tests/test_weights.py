import numpy as np
import pytest

from handrolled import (NetworkSpec, SpecError, as_list, from_bias_row, from_list, init_weights,
                        to_bias_row, validate)


@pytest.fixture
def spec():
    return NetworkSpec.from_text("30:relu,20:tanh", inputs=50, classes=7, seed=3)


def test_glorot_uniform_matches_keras_rule(spec):
    params = init_weights(spec)
    for l in range(1, spec.depth + 1):
        n_in, n_out = spec.sizes[l - 1], spec.sizes[l]
        limit = np.sqrt(6 / (n_in + n_out))
        W = params[f"dense{l}/kernel"]
        assert W.shape == (n_in, n_out)
        assert np.abs(W).max() <= limit
        assert np.abs(W).max() > 0.9 * limit  # really spread over the range
        assert not params[f"dense{l}/bias"].any()


def test_init_is_seeded(spec):
    a, b = init_weights(spec), init_weights(spec)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c = init_weights(spec, seed=4)
    assert not np.array_equal(a["dense1/kernel"], c["dense1/kernel"])


def test_book_scheme_has_random_bias_and_book_std():
    spec = NetworkSpec.from_text("400:sigmoid", inputs=784, classes=10)
    params = init_weights(spec, "book")
    first = to_bias_row(params)[0]
    assert first.shape == (785, 400)
    assert params["dense1/bias"].std() > 0
    assert abs(first.std() - np.sqrt(1 / 785)) < 0.05 * np.sqrt(1 / 785)


def test_bias_row_round_trip(spec):
    params = init_weights(spec, "book")
    matrices = to_bias_row(params)
    assert [m.shape for m in matrices] == [(51, 30), (31, 20), (21, 7)]
    np.testing.assert_array_equal(matrices[0][0], params["dense1/bias"])
    np.testing.assert_array_equal(matrices[0][1:], params["dense1/kernel"])
    back = from_bias_row(spec, matrices)
    assert all(np.array_equal(back[k], params[k]) for k in params)


def test_list_order_is_keras_order(spec):
    params = init_weights(spec)
    arrays = as_list(params)
    assert [a.shape for a in arrays] == list(spec.param_shapes().values())
    back = from_list(spec, arrays)
    assert all(np.array_equal(back[k], params[k]) for k in params)


def test_transposed_weights_are_rejected(spec):
    params = init_weights(spec)
    params["dense1/kernel"] = params["dense1/kernel"].T
    with pytest.raises(SpecError, match=r"dense1/kernel has shape \(30, 50\); expected \(50, 30\)"):
        validate(spec, params)


def test_wrong_count_and_nan_are_rejected(spec):
    params = init_weights(spec)
    with pytest.raises(SpecError, match="got 5 weight arrays; expected 6"):
        from_list(spec, as_list(params)[:-1])
    params["dense2/bias"] = params["dense2/bias"].copy()
    params["dense2/bias"][0] = np.nan
    with pytest.raises(SpecError, match="dense2/bias contains NaN or inf"):
        validate(spec, params)
    with pytest.raises(SpecError, match=r"expected 3 \(one per layer\)"):
        from_bias_row(spec, to_bias_row(init_weights(spec))[:2])
