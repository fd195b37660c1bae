"""Dropout, BatchNormalization, regularizers and losses against Keras, with failing twins.

Gradients: float64, 32 rows of real digits, handrolled vs Keras (the same dropout
masks: the ones Keras' own layer draws, recovered) and vs finite differences
(the masks held still).  Training: three epochs side by side, loss at every
step, final weights and moving statistics.
"""

from __future__ import annotations

import numpy as np
import pytest

from compare import pitfalls
from compare.tolerances import ROUNDOFF_FACTOR
from handrolled import Network, NetworkSpec, SpecError, init_weights, losses, regularizers
from handrolled.conventions import KERAS, WRITTEN, Conventions

DENSE = "dense(64,relu),batchnorm,dropout(0.5),dense(32,tanh,kernel=l2(0.01),activity=l1(0.0004))"
CONV = "conv(8,3,relu),batchnorm,dropout(0.25),maxpool(2),flatten,dense(32,relu)"


def compare(text, loss="categorical_crossentropy", dtype="float64", network=None, rows=32,
            classes=None, fd=True):
    from compare.batch import sample_batch
    from compare.gradients import compare_gradients

    spec = NetworkSpec.from_text(text, dtype=dtype, loss=loss)
    X, Y, _, _ = sample_batch(spec, "mnist-sample", rows, 0)
    if classes is not None:  # a subset of the digits, relabelled 0..len(classes)-1
        labels = Y.argmax(axis=1)
        keep = np.isin(labels, classes)
        X, labels = X[keep], np.searchsorted(classes, labels[keep])
        spec = NetworkSpec.from_text(text, dtype=dtype, loss=loss, classes=len(classes))
        Y = np.eye(len(classes))[labels]
    weights = init_weights(spec)
    net = network(spec, weights) if network else None
    return compare_gradients(spec, weights, X, Y, finite_differences=fd, network=net)


@pytest.mark.parametrize("text", [DENSE, CONV])
def test_every_row_agrees_with_keras_and_finite_differences(text):
    result = compare(text)
    assert result.agree
    for row in result.rows:
        # 1e-12, or within 1000x the row's own measured round-off: after a convolution,
        # BatchNormalization's 21,632-term sums put TensorFlow's round-off near 1e-12
        assert row.max_rel_diff <= max(1e-12, ROUNDOFF_FACTOR * row.roundoff), row
        assert row.roundoff <= 1e-13, row
        assert row.fd_max_rel_diff is None or row.fd_max_rel_diff <= 1e-6, row
    assert sum(row.fd_checks for row in result.rows) > 0


def test_a_millionth_off_is_caught_despite_the_round_off_allowance():
    """The round-off allowance (1000x a row's own round-off, ~1e-11 at most here) is far
    below any bug: a batch-normalization gradient off by one part in a million fails."""
    from handrolled.layers import BatchNormalization

    class Off(BatchNormalization):
        def backward(self, params, dy, cache, input_gradient=True):
            dx, grads = super().backward(params, dy, cache, input_gradient)
            return dx, dict(grads, gamma=grads["gamma"] * (1 + 1e-6))

    def make(spec, weights):  # each batchnorm layer replaced by an Off built from its config
        network = Network(spec, weights)
        network.layers = [Off(**layer.get_config()).built(layer.name, layer.input_shape)
                          if layer.kind == "batchnorm" else layer for layer in network.layers]
        return network

    result = compare(CONV, network=make, fd=False)
    assert not result.agree
    (bad,) = [row for row in result.rows if not row.agree]
    assert bad.name == "batchnorm2/gamma"


@pytest.mark.parametrize("loss, classes", [("binary_crossentropy", [3, 8]),
                                           ("binary_crossentropy", None),
                                           ("mean_squared_error", None)])
def test_other_losses_agree(loss, classes):
    result = compare("dense(16,relu),dense(8,tanh)", loss=loss, classes=classes)
    assert result.agree and max(row.max_rel_diff for row in result.rows) <= 1e-12


class HalfDelta(losses.BinaryCrossentropy):
    def delta(self, z, Y):  # the mean over the outputs forgotten (or the 1/n): a factor off
        return super().delta(z, Y) * z.shape[1] if z.shape[1] > 1 else super().delta(z, Y) / 2


class MSEWithoutTwo(losses.MeanSquaredError):
    def delta(self, z, Y):  # d/dz (z - y)^2 without its 2
        return super().delta(z, Y) / 2


@pytest.mark.parametrize("loss, classes, wrong", [
    ("binary_crossentropy", [3, 8], HalfDelta), ("binary_crossentropy", None, HalfDelta),
    ("mean_squared_error", None, MSEWithoutTwo)])
def test_a_wrong_loss_gradient_disagrees(loss, classes, wrong):
    def make(spec, weights):
        network = Network(spec, weights)
        network.loss_function = wrong()
        return network

    assert not compare("dense(16,relu),dense(8,tanh)", loss=loss, classes=classes,
                       network=make, fd=False).agree


def test_binary_crossentropy_has_one_unit_for_two_classes():
    spec = NetworkSpec.from_text("8:relu", inputs=4, classes=2, loss="bce")
    assert spec.outputs == 1 and spec.param_shapes()["dense2/kernel"] == (8, 1)
    assert NetworkSpec.from_text("8:relu", inputs=4, classes=5, loss="bce").outputs == 5
    with pytest.raises(SpecError, match="unknown loss 'hinge'; accepted: categorical"):
        NetworkSpec.from_text("8:relu", loss="hinge")


def test_a_regularizer_twin_is_caught_in_the_gradients():
    """l2 with a 1/2 (gradient f w instead of 2 f w) changes the kernel's gradient."""
    def make(spec, weights):
        network = Network(spec, weights)
        pitfalls._l2_with_half(network)
        return network

    assert not compare(DENSE, network=make, fd=False).agree


def test_dropout_draws_its_own_masks_reproducibly_with_the_keep_rate_and_scale():
    from handrolled.layers import Dropout

    def draw(seed):
        layer = Dropout(0.3, seed=seed).built("dropout1", (1000,))
        return layer.forward({}, np.ones((200, 1000)), training=True)[0]

    y = draw(5)
    np.testing.assert_array_equal(y, draw(5))
    assert not np.array_equal(y, draw(6))
    kept = y != 0
    n = kept.size  # keep rate 0.7: 3 standard deviations of a binomial count
    assert abs(kept.mean() - 0.7) <= 3 * np.sqrt(0.7 * 0.3 / n)
    np.testing.assert_array_equal(np.unique(y[kept]), [1 / 0.7])  # inverted dropout
    x = np.arange(6.0).reshape(2, 3)
    layer = Dropout(0.3).built("d", (3,))
    assert layer.forward({}, x, training=False)[0] is x  # inference: the identity


def test_keras_factor_rounding_and_activity_division_are_measured_not_assumed():
    from keras_impl import installed_conventions

    measured = installed_conventions()
    assert regularizers.L1(0.0004).factor(measured) == (float(np.float32(0.0004))
                                                        if measured.l1_factor_float32 else 0.0004)
    assert regularizers.L1(0.0004).factor(WRITTEN) == 0.0004
    assert regularizers.L1(0.0004).factor(KERAS) == float(np.float32(0.0004))


def test_the_comparison_holds_the_hand_written_side_to_the_measured_conventions():
    """compare_gradients replaces whatever conventions the spec holds by the measured ones
    (a spec with the wrong ones still agrees); its twin: a network that keeps the wrong
    ones disagrees, so the value is what reaches the hand-written side."""
    from compare.gradients import compare_gradients
    from keras_impl import installed_conventions
    from tests.conftest import make_batch

    wrong = installed_conventions().with_changes(activity_per_row=False)
    spec = NetworkSpec.from_text("dense(6,tanh,kernel=l2(0.01),activity=l1(0.01))", inputs=5,
                                 classes=3).with_conventions(wrong)
    X, Y = make_batch(spec, rows=8)
    weights = init_weights(spec)
    assert compare_gradients(spec, weights, X, Y, finite_differences=False).agree
    kept = compare_gradients(spec, weights, X, Y, finite_differences=False,
                             network=Network(spec, weights))
    assert not kept.agree
    assert spec.conventions == wrong and Network(NetworkSpec.from_text("4:relu")).conventions \
        == KERAS == Conventions()


def test_regularizer_and_layer_text():
    spec = NetworkSpec.from_text(DENSE)
    assert NetworkSpec.from_text(spec.hidden_text) == spec
    assert "kernel=l2(0.01),activity=l1(0.0004)" in spec.hidden_text
    assert spec.state_shapes() == {"batchnorm2/moving_mean": (64,),
                                   "batchnorm2/moving_variance": (64,)}
    for bad, message in [("dense(8,kernel=l3(1))", "unknown regularizer 'l3'"),
                         ("dense(8,activity=l1(-1))", "must be >= 0"),
                         ("dropout(1.5)", r"dropout rate must be in \[0, 1\)"),
                         ("batchnorm(momentum=2)", r"must be in \[0, 1\)")]:
        with pytest.raises(SpecError, match=message):
            NetworkSpec.from_text(bad)


@pytest.mark.slow
def test_batchnorm_and_dropout_train_the_same_on_mnist_sample():
    """Three epochs on the mnist-sample digits (4,000 rows, 375 steps) with
    BatchNormalization and Dropout(0.5): the per-step loss, the accuracies, the weights
    and the moving statistics agree.  (At lr 0.1 a relu network with batch
    normalization moves its two trajectories apart from round-off, 1e-16 -> 4e-11 in
    three epochs, as a pre-activation lands on the other side of relu's kink; the
    verdict for that is issue "verdicts people can trust".)"""
    from compare.datasets import load_dataset
    from compare.training import train_side_by_side

    data = load_dataset("mnist-sample", preprocess="scale", seed=0, dtype="float64")
    spec = NetworkSpec.from_text("dense(64,relu),batchnorm,dropout(0.5),dense(32,tanh),"
                                 "batchnorm,dropout(0.5)", inputs=data.input_shape)
    result = train_side_by_side(spec, init_weights(spec), data, epochs=3, batch_size=32,
                                lr=0.01, seed=0)
    assert result.agree, result.to_dict()
    assert result.max_loss_diff <= 1e-9 and result.max_weight_diff <= 1e-9
    assert result.max_state_diff <= 1e-9
    assert result.handrolled.test_accuracy == result.keras.test_accuracy


def test_the_same_seed_gives_the_same_dropout_masks_and_numbers(cli, tmp_path):
    runs = []
    for i in range(2):
        out = tmp_path / f"g{i}.json"
        code, _, err = cli("gradients", "--hidden", "dense(16,relu),dropout(0.5)", "--no-fd",
                           "--json", str(out))
        assert code == 0, err
        runs.append(out.read_text())
    assert runs[0] == runs[1]
    code, _, _ = cli("gradients", "--hidden", "dense(16,relu),dropout(0.5)", "--no-fd",
                     "--seed", "1", "--json", str(tmp_path / "other.json"))
    assert (tmp_path / "other.json").read_text() != runs[0]
