import numpy as np

from handrolled import cross_entropy, one_hot, softmax
from handrolled.loss import grad_logits


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])
    Y = one_hot(np.array([0, 2]), 3)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, p = cross_entropy(logits, Y)
    assert np.isfinite(loss)
    np.testing.assert_allclose(loss, np.log(3) / 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_gradient_at_logits_is_p_minus_y_over_n():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 4))
    Y = one_hot(rng.integers(0, 4, 5), 4)
    _, p = cross_entropy(logits, Y)
    h = 1e-6
    numeric = np.zeros_like(logits)
    for i in np.ndindex(logits.shape):
        up, down = logits.copy(), logits.copy()
        up[i] += h
        down[i] -= h
        numeric[i] = (cross_entropy(up, Y)[0] - cross_entropy(down, Y)[0]) / (2 * h)
    np.testing.assert_allclose(grad_logits(p, Y), numeric, atol=1e-9)
    np.testing.assert_array_equal(grad_logits(p, Y), (p - Y) / 5)
    np.testing.assert_allclose(softmax(logits), p)
