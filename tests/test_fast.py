"""The fast epoch (handrolled/fast.py) computes the textbook epoch's numbers, bit for bit.

The fast loop performs the same floating-point operations in the same order
as handrolled.train.sgd_epoch, only into preallocated buffers, so the check
is exact equality (np.array_equal), not a tolerance.  Each twin feeds a
wrong variant to the same check and asserts that it fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from handrolled import Network, NetworkSpec, SpecError, activations, init_weights, one_hot
from handrolled import fast
from handrolled.fast import sgd_epoch_fast
from handrolled.train import sgd_epoch

ROWS, BATCH, EPOCHS, LR = 203, 32, 3, 0.5  # 203 = 6 * 32 + 11: a partial last batch


def make_data(spec: NetworkSpec, rows: int = ROWS, seed: int = 7):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, spec.inputs)).astype(spec.dtype)
    labels = X[:, :spec.classes].argmax(axis=1)  # learnable, so the loss falls
    Y = one_hot(labels, spec.classes, spec.dtype)
    return X, Y


def train_both(spec, epoch_a, epoch_b, shuffle=True, prepare=None):
    """Run EPOCHS epochs of two epoch functions from the same weights and orders.

    Returns (losses_a, losses_b, params_a, params_b).
    """
    X, Y = make_data(spec)
    weights = init_weights(spec)
    nets = [Network(spec, {k: v.copy() for k, v in weights.items()}) for _ in range(2)]
    if prepare:
        for net in nets:
            prepare(net)
    rng = np.random.default_rng(11)
    losses = ([], [])
    steps = len(range(0, ROWS, BATCH))
    for epoch in range(EPOCHS):
        order = rng.permutation(ROWS) if shuffle else None
        for net, fn, out in zip(nets, (epoch_a, epoch_b), losses):
            out.append(fn(net, X, Y, BATCH, LR, order, epoch, epoch * steps))
    return np.concatenate(losses[0]), np.concatenate(losses[1]), nets[0].params, nets[1].params


def identical(spec, epoch_a, epoch_b, **kwargs) -> bool:
    la, lb, pa, pb = train_both(spec, epoch_a, epoch_b, **kwargs)
    return np.array_equal(la, lb) and all(np.array_equal(pa[k], pb[k]) for k in pa)


NETWORKS = ["100:sigmoid",                       # the book's network
            "24:relu,16:tanh,12:linear,8:sigmoid"]  # every fused kernel, depth 5


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", NETWORKS)
def test_fast_epoch_is_bit_identical_to_textbook(hidden, dtype):
    spec = NetworkSpec.from_text(hidden, inputs=40, classes=10, dtype=dtype, seed=3)
    la, lb, pa, pb = train_both(spec, sgd_epoch, sgd_epoch_fast)
    assert la.dtype == lb.dtype == np.float64 and la.shape == (EPOCHS * 7,)
    assert np.all(np.isfinite(la)) and la[-7:].mean() < la[:7].mean()  # it trains
    assert np.array_equal(la, lb), f"losses handrolled vs fast: max diff {np.max(abs(la - lb))}"
    for name in pa:
        assert pa[name].dtype == pb[name].dtype == np.dtype(dtype)
        assert np.array_equal(pa[name], pb[name]), f"{name}: textbook vs fast differ"


def test_fast_epoch_in_file_order_is_identical():
    spec = NetworkSpec.from_text("30:sigmoid", inputs=40, dtype="float32")
    assert identical(spec, sgd_epoch, sgd_epoch_fast, shuffle=False)


# ----------------------------------------------------------- failing twins
def test_twin_reordered_derivative_is_caught(monkeypatch):
    """sigma' as a - a*a equals a(1 - a) on paper but rounds differently: caught."""
    def reordered(self, g, a, scratch):
        np.multiply(a, a, out=scratch)
        np.subtract(a, scratch, out=scratch)
        np.multiply(g, scratch, out=g)

    monkeypatch.setattr(activations.Sigmoid, "times_derivative_inplace", reordered)
    spec = NetworkSpec.from_text("100:sigmoid", inputs=40, dtype="float32")
    assert not identical(spec, sgd_epoch, sgd_epoch_fast)


def test_twin_dropping_partial_batch_is_caught():
    def drops_last_batch(network, X, Y, batch_size, lr, order=None, epoch=0, first_step=0):
        full = (X.shape[0] // batch_size) * batch_size
        order = np.arange(X.shape[0]) if order is None else order
        return sgd_epoch_fast(network, X[order][:full], Y[order][:full], batch_size, lr,
                              None, epoch, first_step)

    spec = NetworkSpec.from_text("30:sigmoid", inputs=40, dtype="float64")
    assert not identical(spec, sgd_epoch, drops_last_batch)


def test_twin_ignoring_order_is_caught():
    def ignores_order(network, X, Y, batch_size, lr, order=None, epoch=0, first_step=0):
        return sgd_epoch_fast(network, X, Y, batch_size, lr, None, epoch, first_step)

    spec = NetworkSpec.from_text("30:sigmoid", inputs=40, dtype="float64")
    assert not identical(spec, sgd_epoch, ignores_order)


# ------------------------------------------------ the generic path, on_step
class ScheduledSoftsign(activations.Activation):
    """Not one of the fused kernels: f(z) = z / (1 + s|z|), s changing every step.

    Records the on_step calls it receives, to check the fast loop's schedule.
    """

    name = "scheduled_softsign"

    def __init__(self):
        self.scale, self.calls = 1.0, []

    def on_step(self, epoch, step):
        self.calls.append((epoch, step))
        self.scale = 1.0 + 0.01 * step

    def value(self, z):
        return z / (1.0 + self.scale * np.abs(z))

    def derivative(self, z, a):
        return 1.0 / (1.0 + self.scale * np.abs(z)) ** 2


def _with_softsign(network):
    network.layers[0].activation = ScheduledSoftsign()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_generic_path_and_on_step_schedule(dtype):
    spec = NetworkSpec.from_text("20:sigmoid,16:relu", inputs=40, dtype=dtype)
    assert fast.kernel_for(ScheduledSoftsign()) is None  # really the generic path
    X, Y = make_data(spec)
    weights = init_weights(spec)
    nets = [Network(spec, {k: v.copy() for k, v in weights.items()}) for _ in range(2)]
    for net in nets:
        _with_softsign(net)
    order = np.random.default_rng(0).permutation(ROWS)
    la = sgd_epoch(nets[0], X, Y, BATCH, LR, order, epoch=2, first_step=14)
    lb = sgd_epoch_fast(nets[1], X, Y, BATCH, LR, order, epoch=2, first_step=14)
    assert np.array_equal(la, lb)
    assert all(np.array_equal(nets[0].params[k], nets[1].params[k]) for k in weights)
    assert nets[1].activations[0].calls == [(2, 14 + i) for i in range(7)]
    assert nets[0].activations[0].calls == nets[1].activations[0].calls


def test_twin_generic_path_without_on_step_is_caught():
    def skips_on_step(network, *args):
        network.on_step = lambda epoch, step: None
        return sgd_epoch_fast(network, *args)

    spec = NetworkSpec.from_text("20:sigmoid", inputs=40, dtype="float64")
    assert not identical(spec, sgd_epoch, skips_on_step, prepare=_with_softsign)


# ------------------------------------------------------------ one dtype only
def test_float32_buffers_and_weights_stay_float32():
    spec = NetworkSpec.from_text("24:relu,16:tanh", inputs=40, dtype="float32")
    network = Network(spec)
    X, Y = make_data(spec)
    sgd_epoch_fast(network, X, Y, BATCH, LR, np.arange(ROWS)[::-1].copy())
    ws = fast.workspace(network, BATCH)
    assert ws.X is not None and all(a.dtype == np.float32 for a in ws.arrays())
    assert all(p.dtype == np.float32 for p in network.params.values())
    assert fast.workspace(network, BATCH) is ws  # reused, not reallocated


def test_upcasting_activation_is_refused():
    class Upcasting(ScheduledSoftsign):
        def value(self, z):
            return super().value(z).astype(np.float64)

    spec = NetworkSpec.from_text("20:sigmoid", inputs=40, dtype="float32")
    network = Network(spec)
    network.layers[0].activation = Upcasting()
    X, Y = make_data(spec)
    with pytest.raises(SpecError, match="returned float64 for float32"):
        sgd_epoch_fast(network, X, Y, BATCH, LR)


@pytest.mark.parametrize("change, message", [
    (lambda X, Y, o: (X.astype(np.float64), Y, o), "X must be a 2-D float32"),
    (lambda X, Y, o: (X, Y[:-1], o), "rows"),
    (lambda X, Y, o: (X, Y, o[:-1]), "one per row"),
    (lambda X, Y, o: (X, Y, o + 1), "outside"),
    (lambda X, Y, o: (X, Y, o.astype(float)), "integer"),
])
def test_bad_inputs_are_spec_errors(change, message):
    spec = NetworkSpec.from_text("20:sigmoid", inputs=40, dtype="float32")
    X, Y = make_data(spec)
    X, Y, order = change(X, Y, np.arange(ROWS))
    with pytest.raises(SpecError, match=message):
        sgd_epoch_fast(Network(spec), X, Y, BATCH, LR, order)


def test_numpy_float64_learning_rate_is_refused_for_float32():
    spec = NetworkSpec.from_text("20:sigmoid", inputs=40, dtype="float32")
    X, Y = make_data(spec)
    with pytest.raises(SpecError, match="learning rate"):
        sgd_epoch_fast(Network(spec), X, Y, BATCH, np.float64(0.1))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "linear"])
def test_builtin_activations_get_a_fused_kernel(name):
    # Guards the speed, not the numbers: if the registry's classes change, the
    # fast loop would quietly fall back to the generic path.
    assert fast.kernel_for(activations.get(name)) is not None


# ------------------------------------------------- each formula has one home
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "linear"])
def test_the_fused_kernel_is_the_activations_own_method(name):
    """fast.py keeps no formulas: its kernel is the in-place pair written beside
    value/derivative in the activation's class (activations/zoo.py)."""
    f = activations.get(name)
    kernel = fast.kernel_for(f)
    assert kernel.forward.__func__ is type(f).value_inplace
    assert kernel.backward.__func__ is type(f).times_derivative_inplace


def test_a_subclass_inheriting_the_inplace_pair_takes_the_generic_path():
    # relu_ge overrides derivative; ReLU's in-place derivative would be wrong at z = 0.
    f = activations.get("relu_ge")
    assert isinstance(f, activations.ReLU) and fast.kernel_for(f) is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "linear"])
def test_inplace_pair_is_bit_identical_to_value_and_derivative(name, dtype):
    f = activations.get(name)
    rng = np.random.default_rng(5)
    z = (rng.normal(size=(17, 9)) * 6).astype(dtype)
    z[0, :4] = [0.0, -0.0, 200.0, -200.0]       # relu's kink, signed zero, sigmoid's tails
    g = rng.normal(size=z.shape).astype(dtype)
    a = f.value(z)
    expected = g * f.derivative(z, a)
    a_inplace = z.copy()
    f.value_inplace(a_inplace)
    g_inplace = g.copy()
    f.times_derivative_inplace(g_inplace, a_inplace, np.empty_like(z))
    assert a_inplace.dtype == g_inplace.dtype == np.dtype(dtype)
    assert np.array_equal(a_inplace, a) and np.array_equal(g_inplace, expected)
    assert np.array_equal(np.signbit(g_inplace), np.signbit(expected))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_inplace_cross_entropy_is_bit_identical_to_loss_py(dtype):
    from handrolled import loss

    rng = np.random.default_rng(6)
    logits = (rng.normal(size=(13, 10)) * 20).astype(dtype)
    Y = one_hot(rng.integers(0, 10, size=13), 10, dtype)
    row, log_p, p, delta = (np.empty((13, k), dtype) for k in (1, 10, 10, 10))
    value = loss.cross_entropy_and_delta_inplace(logits, Y, row, log_p, p, delta)
    expected, p_expected = loss.cross_entropy(logits, Y)
    assert value == expected
    assert np.array_equal(log_p, loss.log_softmax(logits)) and np.array_equal(p, p_expected)
    assert np.array_equal(delta, loss.grad_logits(p_expected, Y))
