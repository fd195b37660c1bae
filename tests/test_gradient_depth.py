"""Gradient tolerances that scale with depth and with the loss (compare/tolerances.py).

A 500-layer tanh network: its first layers' gradients (~1e-33) sit far below
the loss's resolution, and a deep backprop accumulates round-off; neither may
fail a correct row.  The twin: one wrong derivative in the same network is
still a disagreement.  Keras' side of a 500-layer network takes seconds to
build, so these tests feed `compare_gradient_dicts` the hand-written gradients
and a second copy of them moved by round-off of the size measured against
Keras (README, "Gradients": `nn-compare gradients` on this network); the
end-to-end run is in the README.
"""

import numpy as np

from compare.gradients import compare_gradient_dicts
from compare.tolerances import depth_rtol, max_diffs, resolution_floor, tolerance_for
from handrolled import Network, NetworkSpec, init_weights
from tests.conftest import make_batch

DEPTH = 500
MEASURED = 5e-12  # the largest handrolled-vs-Keras rel diff measured on this network


def deep_tanh():
    spec = NetworkSpec.from_text(",".join(["4:tanh"] * DEPTH), inputs=6, classes=3)
    weights = init_weights(spec)
    X, Y = make_batch(spec, rows=8)
    return spec, weights, X, Y


def with_roundoff(grads, size, seed=0):
    """Each element moved by a relative `size`, as another summation order would."""
    rng = np.random.default_rng(seed)
    return {name: g * (1 + size * rng.uniform(-1, 1, size=g.shape)) for name, g in grads.items()}


class ScaledDerivative:
    """An activation whose derivative is `factor` times the right one."""

    def __init__(self, f, factor):
        self.f, self.factor, self.kinks, self.text = f, factor, f.kinks, f.text

    def value(self, z):
        return self.f.value(z)

    def derivative(self, z, a):
        return self.factor * self.f.derivative(z, a)


def test_the_floors_are_derived_from_loss_depth_and_epsilon():
    assert resolution_floor("float64", 500, 2.3) == 500 * np.finfo(np.float64).eps * 2.3
    assert resolution_floor("float32", 3, 0.1) == 3 * np.finfo(np.float32).eps  # |L| < 1
    assert depth_rtol("float64", 500) == 1000 * 500 * np.finfo(np.float64).eps
    # an element below the floor is judged against the floor, not its own size
    assert max_diffs(np.array([1e-33, 1.0]), np.array([2e-33, 1.0]))[1] == 1e-33 / 1e-2
    assert max_diffs(np.array([1e-33]), np.array([2e-33]), floor=1e-13)[1] == 1e-33 / 1e-13


def test_deep_tanh_network_agrees_within_its_roundoff():
    spec, weights, X, Y = deep_tanh()
    loss, grads = Network(spec, weights).loss_and_gradients(X, Y)
    assert np.abs(grads["dense1/kernel"]).max() < 1e-20  # vanished: below any resolution
    other = with_roundoff(grads, MEASURED)
    rows = compare_gradient_dicts(spec, grads, other, loss=loss)
    assert all(row.agree for row in rows), [(r.name, r.max_rel_diff) for r in rows
                                            if not r.agree]
    # the fixed float64 tolerance alone would have failed them
    assert max(row.max_rel_diff for row in rows) > tolerance_for("float64").rtol


def test_one_wrong_derivative_in_the_deep_network_still_disagrees():
    """Twin: the last hidden layer's derivative 1.01 times the right one."""
    spec, weights, X, Y = deep_tanh()
    loss, grads = Network(spec, weights).loss_and_gradients(X, Y)
    wrong = Network(spec, weights)
    layer = wrong.layers[DEPTH - 1]
    layer.activation = ScaledDerivative(layer.activation, 1.01)
    _, wrong_grads = wrong.loss_and_gradients(X, Y)
    rows = {row.name: row for row in compare_gradient_dicts(spec, wrong_grads, grads, loss=loss)}
    # the bias carries delta itself; the kernel, a_prev^T delta, vanished with a_prev
    # (the forward pass shrinks through 500 tanh layers) and sits below the floor
    assert not rows[f"dense{DEPTH}/bias"].agree
    assert rows[f"dense{DEPTH}/bias"].max_rel_diff > 1e-3
    assert rows[f"dense{DEPTH + 1}/kernel"].agree  # the output layer has no derivative
