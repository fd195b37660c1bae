"""A NaN or inf is never agreement (issue 27): gradients that overflow on both sides are
a disagreement that names what is not finite, however equal the two infinities are."""

from __future__ import annotations

import numpy as np

from compare.gradient_table import gradient_table
from compare.gradients import compare_gradient_dicts, compare_gradients
from handrolled import NetworkSpec, init_weights
from tests.conftest import make_batch

SPEC = NetworkSpec.from_text("3:tanh", inputs=2, classes=2)


def gradients(value: float) -> dict[str, np.ndarray]:
    return {name: np.full(shape, value) for name, shape in SPEC.param_shapes().items()}


def test_the_same_infinity_on_both_sides_disagrees_even_with_an_infinite_roundoff():
    for value in (np.inf, -np.inf, np.nan):
        with np.errstate(invalid="ignore"):  # inf - inf
            rows = compare_gradient_dicts(SPEC, gradients(value), gradients(value),
                                          reordered=gradients(value), loss=np.inf)
        assert not any(row.agree for row in rows), value
        assert all(row.limit < 1 for row in rows)  # no allowance from an inf round-off


def test_twin_the_same_large_finite_gradients_agree():
    rows = compare_gradient_dicts(SPEC, gradients(1e300), gradients(1e300),
                                  reordered=gradients(1e300), loss=2.0)
    assert all(row.agree for row in rows)


def test_an_activation_overflowing_on_both_sides_is_a_disagreement_that_names_it():
    """A variant of the break attempt's piecewise(0:-1e308,1:1e308): huge finite knots, inf later."""
    with np.errstate(all="ignore"):  # the knots' slopes overflow already
        spec = NetworkSpec.from_text("6:piecewise(-1:1e308,0:-1e308,1:1e308)", inputs=4,
                                     classes=3)
        X, Y = make_batch(spec, rows=5)
        result = compare_gradients(spec, init_weights(spec), X, Y, finite_differences=False)
    assert not result.agree and not any(row.agree for row in result.rows)
    text = gradient_table(result)
    assert "not finite:" in text and "never agreement" in text and "verdict: DISAGREE" in text
    assert "within round-off" not in text


def test_twin_the_same_network_with_small_knots_agrees():
    spec = NetworkSpec.from_text("6:piecewise(-1:1,0:-1,1:1)", inputs=4, classes=3)
    X, Y = make_batch(spec, rows=5)
    result = compare_gradients(spec, init_weights(spec), X, Y, finite_differences=False)
    assert result.agree and "not finite" not in gradient_table(result)
