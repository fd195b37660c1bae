"""The activation zoo: same names on both sides, hand-written derivatives that agree
with TensorFlow's to round-off, in a network and on their own."""

import math
import re
import types

import numpy as np
import pytest

from handrolled import Network, NetworkSpec, SpecError, activations, init_weights, one_hot

EXAMPLES = sorted(set(activations.examples().values()) | {
    "leaky_relu", "elu(0.5)", "mix(relu,abs,sin;random,seed=3)",
    "stochastic(relu,abs,sin;every=epoch,seed=2)"})
ELEMENTWISE = [t for t in EXAMPLES if not activations.get(t).per_unit]


def tiny_spec(text, dtype="float64"):
    return NetworkSpec.from_text(f"7:{text},6:{text}", inputs=5, classes=3, dtype=dtype, seed=3)


def batch(spec, rows=16, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, spec.inputs)).astype(spec.dtype)
    return X, one_hot(rng.integers(0, spec.classes, rows), spec.classes, spec.dtype)


def test_both_registries_have_the_same_names():
    import keras_impl

    assert keras_impl.activations.names() == activations.names()
    assert {"sigmoid", "tanh", "relu", "relu_ge", "leaky_relu", "elu", "softplus", "swish",
            "gelu", "abs", "linear", "sin", "cos", "piecewise", "mix",
            "stochastic"} <= set(activations.names())


@pytest.mark.parametrize("text", EXAMPLES)
def test_gradients_agree_with_keras_in_float64(text):
    from compare.gradients import compare_gradients

    spec = tiny_spec(text)
    result = compare_gradients(spec, init_weights(spec), *batch(spec))
    assert max(row.max_rel_diff for row in result.rows) <= 1e-12
    assert result.agree


@pytest.mark.parametrize("text,wrong", [
    ("swish", lambda z, a: 1 / (1 + np.exp(-z))),           # sigmoid instead of swish'
    ("gelu", lambda z, a: 0.5 * (1 + np.tanh(z))),          # a plausible-looking mistake
    ("sin", lambda z, a: np.cos(z) + 1e-9),                 # off by a hair
    ("piecewise(-1:-1,0:0,1:2)", lambda z, a: np.where(z > 0, 1.0, 2.0))])  # slopes swapped
def test_a_wrong_derivative_is_caught(text, wrong):
    """Twin of the test above: the same check on a network with one broken derivative."""
    from compare.gradients import compare_gradients

    spec = tiny_spec(text)
    network = Network(spec, init_weights(spec))
    for f in network.activations:
        f.derivative = wrong
    result = compare_gradients(spec, init_weights(spec), *batch(spec), network=network)
    assert not result.agree


def zero_preactivation_batch(spec):
    """Rows of zeros: with zero biases every z of layer 1 is exactly 0 there."""
    X, Y = batch(spec, rows=12)
    X[::2] = 0.0
    return X, Y


def test_relu_ge_differs_from_relu_only_at_zero_and_agrees_with_its_keras_twin():
    from compare.gradients import compare_gradients

    spec = NetworkSpec.from_text("6:relu_ge", inputs=5, classes=3, seed=1)
    relu = NetworkSpec.from_text("6:relu", inputs=5, classes=3, seed=1)
    weights = init_weights(spec)
    X, Y = zero_preactivation_batch(spec)
    assert compare_gradients(spec, weights, X, Y, finite_differences=False).agree
    _, grads_ge = Network(spec, weights).loss_and_gradients(X, Y)
    _, grads_relu = Network(relu, weights).loss_and_gradients(X, Y)
    assert not np.allclose(grads_ge["dense1/bias"], grads_relu["dense1/bias"])  # f'(0) matters here
    # Twin: the >= derivative against Keras' relu (f'(0) = 0) is caught.
    wrong = compare_gradients(relu, weights, X, Y, network=Network(spec, weights),
                              finite_differences=False)
    assert not wrong.agree


@pytest.mark.parametrize("text", ELEMENTWISE)
def test_derivative_agrees_with_autodiff_and_finite_differences(text):
    from compare.activation_check import check_activation

    row = check_activation(text)
    assert row.agree, row
    assert row.keras_max_rel_diff <= 1e-12 and row.fd_points > 2000


def test_activation_check_catches_a_wrong_derivative():
    from compare.activation_check import check_activation

    broken = activations.get("softplus")
    broken.derivative = lambda z, a: np.exp(z) / (1 + np.exp(z)) ** 2  # sigma', not sigma
    row = check_activation("softplus", activation=broken)
    assert not row.agree and row.keras_max_rel_diff > 0.1 and row.fd_max_rel_diff > 0.1


@pytest.mark.parametrize("text", EXAMPLES)
def test_text_round_trips_through_get(text):
    f = activations.get(text)
    assert activations.get(f.text).text == f.text


@pytest.mark.parametrize("text", ELEMENTWISE)
def test_float32_stays_float32(text):
    f = activations.get(text)
    z = np.linspace(-3, 3, 13, dtype=np.float32)
    assert f.value(z).dtype == np.float32 and f.derivative(z, f.value(z)).dtype == np.float32


@pytest.mark.slow
def test_training_trajectories_agree_for_the_whole_zoo():
    """Every zoo function in one network per group of four layers, trained side by side."""
    from compare.training import train_side_by_side

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(48, 5)), rng.integers(0, 3, 48)
    data = types.SimpleNamespace(name="tiny", X_train=X[:32], y_train=y[:32], X_test=X[32:],
                                 y_test=y[32:])
    for start in range(0, len(EXAMPLES), 4):
        hidden = ",".join(f"6:{t}" for t in EXAMPLES[start:start + 4])
        spec = NetworkSpec.from_text(hidden, inputs=5, classes=3, seed=2)
        result = train_side_by_side(spec, init_weights(spec), data, epochs=2, batch_size=10,
                                    lr=0.2)
        assert result.agree, hidden
        assert result.max_loss_diff <= 1e-9 and result.max_weight_diff <= 1e-9


# ------------------------------------------------------------- definitions
def test_leaky_relu_default_slope_and_float32_rounding():
    f = activations.get("leaky_relu")
    assert f.given == 0.2 and f.text == "leaky_relu(0.2)"
    g = activations.get("leaky_relu(0.1)")
    z = np.array([-1.0, 0.0, 2.0])
    assert g.value(z).tolist() == [-float(np.float32(0.1)), 0.0, 2.0]
    assert g.derivative(z, g.value(z)).tolist() == [g.slope, g.slope, 1.0]


def test_abs_and_relu_derivatives_at_zero_follow_tensorflow():
    z = np.array([-2.0, 0.0, 2.0])
    assert activations.get("abs").derivative(z, None).tolist() == [-1.0, 0.0, 1.0]
    assert activations.get("relu_ge").derivative(z, None).tolist() == [0.0, 1.0, 1.0]


def test_piecewise_extends_end_slopes_and_takes_left_slope_at_knots():
    f = activations.get("piecewise(-1:-1,0:0,1:2)")
    z = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    assert f.value(z).tolist() == [-3.0, -1.0, -0.5, 0.0, 1.0, 2.0, 6.0]
    assert f.derivative(z, f.value(z)).tolist() == [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    assert f.kinks == (0.0,)


@pytest.mark.parametrize("text,message", [
    ("piecewise(0:1)", "at least two knots"),
    ("piecewise(0:0,0:1)", "strictly increasing"),
    ("piecewise(1:0,0:1)", "strictly increasing"),
    ("piecewise(0:0,1)", "not z:y"),
    ("piecewise", "needs knots"),
    ("piecewise(a:0,1:1)", "must be a number"),
    ("leaky_relu(x)", "must be a number"),
    ("leaky_relu(0.1,2)", "takes at most one positional argument (negative_slope)"),
    ("elu(-1)", "must be positive"),
    ("sin(2)", "takes no parameters"),
    ("relux", "unknown activation 'relux' (did you mean 'relu'?); accepted:")])
def test_bad_activation_text_is_one_line(text, message):
    with pytest.raises(SpecError, match=re.escape(message)) as error:
        NetworkSpec.from_text(f"4:{text}", inputs=3, classes=2)
    assert "\n" not in str(error.value)


def test_gelu_is_the_exact_erf_form_up_to_tensorflows_constant():
    f = activations.get("gelu")
    z = np.linspace(-6, 6, 241)
    exact = np.array([0.5 * v * math.erfc(-v / math.sqrt(2)) for v in z])
    # TensorFlow's float32-rounded 1/sqrt(2) moves it by at most ~1e-6 relative.
    assert np.max(np.abs(f.value(z) - exact)) < 1e-8
    assert np.max(np.abs(f.value(z) - exact)) > 0  # it is TensorFlow's constant, not ours
