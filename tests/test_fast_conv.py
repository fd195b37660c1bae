"""The layer-by-layer fast epoch (handrolled/fast_conv.py) computes the textbook epoch's
numbers, bit for bit.

Its fast layers perform the same floating-point operations in the same order as
handrolled/layers/ (im2col, one product, col2im; the max-pooling walk; Dense),
only into preallocated buffers, so the check is exact equality, not a tolerance.
Each twin feeds a wrong fast layer (another summation order) to the same check
and asserts that it fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from handrolled import Network, NetworkSpec, init_weights, one_hot, optimizers
from handrolled import fast_conv
from handrolled.fast import sgd_epoch_fast
from handrolled.fast_conv import sgd_epoch_layers
from handrolled.train import sgd_epoch

ROWS, BATCH, EPOCHS = 29, 8, 2       # 29 = 3 * 8 + 5: a partial last batch
SHAPE = (9, 9, 2)                    # 7x7 after a 3x3 conv: a 2x2 pool leaves a row uncovered

NETWORKS = {
    "table": "conv(4,3,relu),maxpool(2),flatten,dense(8,relu)",
    # padding, strides, a conv with an input gradient (col2im), sigmoid and tanh
    "padded": "conv(3,3,tanh,padding=same),conv(4,3,relu,strides=2),maxpool(2),flatten,"
              "dense(6,sigmoid)",
    # the book-ch19 kind: batch norm and dropout run their own code, between fast layers
    "ch19": "conv(3,3,relu),batchnorm,dropout(0.5),conv(4,3,relu),batchnorm,dropout(0.5),"
            "flatten,dense(10,relu),batchnorm,dropout(0.5),dense(6,relu)",
    # no fast path: overlapping pools, an activation without an in-place form
    "generic": "conv(3,3,elu),maxpool(3,strides=1),flatten,dense(5,relu)",
}


def run_both(hidden, dtype, optimizer, epoch_b=sgd_epoch_layers):
    """EPOCHS epochs of the textbook epoch and of `epoch_b` from the same weights and
    orders; returns (losses_a, losses_b, network_a, network_b)."""
    spec = NetworkSpec.from_text(hidden, inputs=SHAPE, classes=10, dtype=dtype, seed=3)
    rng = np.random.default_rng(7)
    X = rng.normal(size=(ROWS, *SHAPE)).astype(dtype)
    Y = one_hot(X[:, 0, 0, 0].argsort() % 10, 10, dtype)
    weights = init_weights(spec)
    nets = [Network(spec, {k: v.copy() for k, v in weights.items()}) for _ in range(2)]
    opts = [optimizers.for_training(optimizer) for _ in range(2)]
    losses = ([], [])
    for epoch in range(EPOCHS):
        order = rng.permutation(ROWS)
        for net, opt, fn, out in zip(nets, opts, (sgd_epoch, epoch_b), losses):
            out.append(fn(net, X, Y, BATCH, opt, order, epoch, epoch * 4))
    return np.concatenate(losses[0]), np.concatenate(losses[1]), nets[0], nets[1]


def identical(hidden, dtype, optimizer, epoch_b=sgd_epoch_layers) -> bool:
    la, lb, a, b = run_both(hidden, dtype, optimizer, epoch_b)
    return (np.array_equal(la, lb)
            and all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
            and all(np.array_equal(a.state[k], b.state[k]) for k in a.state))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,optimizer", [("table", "sgd(0.1)"), ("padded", "sgd(0.1)"),
                                            ("ch19", "adam"), ("generic", "sgd(0.1)")])
def test_fast_layers_are_bit_identical_to_textbook(name, optimizer, dtype):
    la, lb, a, b = run_both(NETWORKS[name], dtype, optimizer)
    assert la.shape == (EPOCHS * 4,) and np.all(np.isfinite(la))
    assert np.array_equal(la, lb), f"losses: max diff {np.max(abs(la - lb))}"
    for k in a.params:
        assert a.params[k].dtype == b.params[k].dtype == np.dtype(dtype)
        assert np.array_equal(a.params[k], b.params[k]), f"{k}: textbook vs fast differ"
    for k in a.state:
        assert np.array_equal(a.state[k], b.state[k]), f"{k}: textbook vs fast differ"


def test_the_fast_layers_are_the_ones_used():
    """The table's network gets its fast paths; overlapping pools and elu do not."""
    kinds = lambda text: [type(f).__name__ for f in fast_conv.Plan(  # noqa: E731
        Network(NetworkSpec.from_text(text, inputs=SHAPE, dtype="float32")), 4).layers]
    assert kinds(NETWORKS["table"]) == ["FastConv2D", "FastMaxPool", "Generic", "FastDense",
                                        "FastDense"]
    assert kinds(NETWORKS["generic"])[:2] == ["Generic", "Generic"]


def test_sgd_epoch_fast_takes_the_fast_layers_for_a_conv_network(monkeypatch):
    calls = []
    monkeypatch.setattr(fast_conv.Plan, "commit", lambda self, net: calls.append(1))
    run_both(NETWORKS["table"], "float32", "sgd(0.1)", epoch_b=sgd_epoch_fast)
    assert len(calls) == EPOCHS * 4


# ----------------------------------------------------------- failing twins
def test_twin_bias_gradient_summed_by_rows_is_caught(monkeypatch):
    """dL/db as delta.sum(axis=0) instead of the product 1^T delta: the same sum on
    paper, another order of additions."""
    backward = fast_conv.FastConv2D.backward

    def summed(self, params, dy, input_gradient):
        dx, grads = backward(self, params, dy, input_gradient)
        np.sum(dy.reshape(-1, self.filters), axis=0, out=grads["bias"])  # delta, over dy
        return dx, grads

    monkeypatch.setattr(fast_conv.FastConv2D, "backward", summed)
    assert not identical(NETWORKS["table"], "float32", "sgd(0.1)")


def test_twin_col2im_in_reverse_order_is_caught(monkeypatch):
    """col2im adding the kernel offsets last to first: overlapping windows' shares are
    summed in another order."""
    class Reversed:
        def __init__(self, windows):
            self.windows = windows

        def offsets(self):
            return reversed(list(self.windows.offsets()))

        def __getattr__(self, name):
            return getattr(self.windows, name)

    init = fast_conv.FastConv2D.__init__

    def reversed_init(self, layer, batch, dtype):
        init(self, layer, batch, dtype)
        self.windows = Reversed(self.windows)

    monkeypatch.setattr(fast_conv.FastConv2D, "__init__", reversed_init)
    assert not identical(NETWORKS["padded"], "float64", "sgd(0.1)")
