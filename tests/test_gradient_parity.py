"""handrolled vs Keras vs finite differences on the same weights and batch.

Layer sizes are all different (20 -> 13 -> 11 -> 9 -> 7), so no weight matrix
is square and a transposed layout cannot pass by accident.
"""

import numpy as np
import pytest

from compare.gradients import compare_gradients
from compare.tolerances import max_diffs
from handrolled import Network, NetworkSpec, init_weights
from tests.conftest import make_batch

SIZES = [13, 11, 9]


def hidden_text(activation: str, depth: int) -> str:
    return ",".join(f"{units}:{activation}" for units in SIZES[:depth])


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear"])
def test_float64_gradients_agree_to_1e12(activation, depth):
    spec = NetworkSpec.from_text(hidden_text(activation, depth), inputs=20, classes=7, seed=depth)
    X, Y = make_batch(spec, rows=16)
    result = compare_gradients(spec, init_weights(spec), X, Y)
    assert abs(result.loss_handrolled - result.loss_keras) <= 1e-12
    for row in result.rows:
        assert row.max_rel_diff <= 1e-12, f"{row.name}: handrolled vs keras {row.max_rel_diff}"
        if row.fd_max_rel_diff is not None:
            assert row.fd_max_rel_diff <= 1e-6, f"{row.name}: handrolled vs fd"
        assert row.fd_checks + row.fd_kinks == 4 + min(8, int(np.prod(row.shape)))
    assert result.agree


def test_book_and_deep_networks_on_mnist_shape():
    for hidden in ["100:sigmoid", "256:relu,256:tanh,256:sigmoid,256:linear"]:
        spec = NetworkSpec.from_text(hidden, inputs=784, classes=10)
        X, Y = make_batch(spec, rows=32)
        X = np.abs(X) / 3  # pixel-like, non-negative inputs
        result = compare_gradients(spec, init_weights(spec), X, Y)
        assert max(row.max_rel_diff for row in result.rows) <= 1e-12, hidden
        assert max(row.fd_max_rel_diff for row in result.rows) <= 1e-6, hidden
        assert result.agree


def test_float32_agrees_within_documented_tolerance():
    spec = NetworkSpec.from_text("13:tanh,11:relu", inputs=20, classes=7, dtype="float32")
    X, Y = make_batch(spec)
    result = compare_gradients(spec, init_weights(spec), X, Y)
    assert result.tolerance.rtol == 1e-3
    assert result.agree
    # float32 really ran: differences are round-off of float32, not of float64
    assert max(row.max_rel_diff for row in result.rows) > 1e-10


def test_book_init_with_random_biases_agrees():
    spec = NetworkSpec.from_text("13:sigmoid,11:tanh", inputs=20, classes=7)
    X, Y = make_batch(spec)
    assert compare_gradients(spec, init_weights(spec, "book"), X, Y).agree


class DerivativeAtOutput(Network):
    """A classic learner's bug: f'(a) instead of f'(z) in eq. 5."""

    def backward(self, cache, Y):
        broken = [(f, f.derivative) for f in self.activations]
        for f, derivative in broken:
            f.derivative = lambda z, a, d=derivative, f=f: d(a, f.value(a))
        try:
            return super().backward(cache, Y)
        finally:
            for f, derivative in broken:
                del f.derivative


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_wrong_derivative_is_reported_as_disagreement(activation):
    """Twin of the agreement tests: the same comparison fails on a wrong implementation."""
    spec = NetworkSpec.from_text(f"13:{activation}", inputs=20, classes=7)
    X, Y = make_batch(spec)
    weights = init_weights(spec)
    result = compare_gradients(spec, weights, X, Y, network=DerivativeAtOutput(spec, weights))
    assert not result.agree
    by_name = {row.name: row for row in result.rows}
    assert by_name["dense2/kernel"].agree and by_name["dense2/bias"].agree  # the output layer has no f'
    assert not by_name["dense1/kernel"].agree and by_name["dense1/kernel"].max_rel_diff > 1e-2
    assert by_name["dense1/kernel"].fd_max_rel_diff > 1e-2  # finite differences see it too


def test_transposed_gradient_would_not_fit():
    spec = NetworkSpec.from_text("13:tanh", inputs=20, classes=7)
    X, Y = make_batch(spec)
    _, grads = Network(spec, init_weights(spec)).loss_and_gradients(X, Y)
    with pytest.raises(ValueError, match="shapes differ"):
        max_diffs(grads["dense1/kernel"].T, grads["dense1/kernel"])


def test_relu_kinks_are_reported_not_failed():
    """Weights that put pre-activations exactly at 0 (zero weights into a relu layer)."""
    spec = NetworkSpec.from_text("13:relu", inputs=20, classes=7)
    weights = init_weights(spec)
    weights["dense1/kernel"][:] = 0.0  # every z is exactly 0: TF and we say relu'(0) = 0
    X, Y = make_batch(spec)
    result = compare_gradients(spec, weights, X, Y)
    w1 = result.rows[0]
    assert w1.fd_kinks > 0
    assert result.agree
