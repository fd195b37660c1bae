"""Each hand-written derivative against a numerical derivative of its own value."""

import numpy as np
import pytest

from handrolled import SpecError, activations

CORE = ["sigmoid", "tanh", "relu", "linear"]


@pytest.mark.parametrize("name", CORE)
def test_derivative_matches_central_difference(name):
    f = activations.get(name)
    z = np.linspace(-4, 4, 801)
    z = z[np.abs(z[:, None] - np.asarray(f.kinks, dtype=float)).min(axis=1, initial=1) > 1e-3]
    h = 1e-6
    numeric = (f.value(z + h) - f.value(z - h)) / (2 * h)
    np.testing.assert_allclose(f.derivative(z, f.value(z)), numeric, rtol=1e-7, atol=1e-9)


def test_wrong_derivative_is_caught_by_the_same_check():
    """Twin of the test above: a derivative evaluated at f(z) must not pass it."""
    f = activations.get("tanh")
    z = np.linspace(-4, 4, 801)
    h = 1e-6
    numeric = (f.value(z + h) - f.value(z - h)) / (2 * h)
    wrong = 1 - np.tanh(f.value(z)) ** 2  # derivative at the output instead of the input
    assert not np.allclose(wrong, numeric, rtol=1e-7, atol=1e-9)


def test_relu_derivative_at_zero_is_zero_like_tensorflow():
    f = activations.get("relu")
    z = np.array([-1.0, 0.0, 1.0])
    assert f.derivative(z, f.value(z)).tolist() == [0.0, 0.0, 1.0]


def test_sigmoid_is_stable_for_large_inputs():
    f = activations.get("sigmoid")
    with np.errstate(invalid="raise", divide="raise"):
        out = f.value(np.array([-1000.0, 0.0, 1000.0]))
    assert out.tolist() == [0.0, 0.5, 1.0]


def test_dtype_is_preserved():
    for name in CORE:
        f = activations.get(name)
        z = np.linspace(-1, 1, 5, dtype=np.float32)
        assert f.value(z).dtype == np.float32
        assert f.derivative(z, f.value(z)).dtype == np.float32


def test_unknown_name_lists_accepted_names():
    with pytest.raises(SpecError, match=r"unknown activation 'relux' \(did you mean "
                                         r"'relu'\?\); accepted: .*relu"):
        activations.get("relux")
