"""The layer-based core: every layer kind against Keras, and each backward's failing twin.

The three networks of the issue are checked in float64 (handrolled vs Keras to
1e-12 relative, vs finite differences to 1e-6) and float32 (its tolerance),
on 32 rows of real digits.  "book" weights give every bias a random start, so
no conv bias sits exactly at relu's kink on blank patches of the digits (with
zero biases, z = 0 there and finite differences cannot see a slope at all).

Every twin below changes one layer's backward in one small way (a flipped
kernel, the wrong max in a tie, a reshape in the wrong order, ...) and the
same comparison must then say DISAGREE.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

from handrolled import Network, NetworkSpec, SpecError, init_weights, layers, network_from_json

CNN = "conv(8,3,relu),maxpool(2),conv(16,3,tanh),avgpool(2),flatten,dense(32,sigmoid)"
CNN_SAME = ("conv(8,3,relu,strides=2,padding=same),maxpool(2,padding=same),"
            "conv(16,3,tanh,strides=2,padding=same),avgpool(2,padding=same),flatten,"
            "dense(32,sigmoid)")
LINEAR = "conv(4,5,linear),flatten"
SPECS = [CNN, CNN_SAME, LINEAR]


def digits(spec, rows=32, seed=0):
    from compare.batch import sample_batch

    X, Y, _, _ = sample_batch(spec, "mnist-sample", rows, seed)
    return X, Y


def compare(text, dtype="float64", network=None, init="book", rows=32, fd=True):
    from compare.gradients import compare_gradients

    spec = NetworkSpec.from_text(text, inputs=(28, 28, 1), dtype=dtype)
    weights = init_weights(spec, init)
    X, Y = digits(spec, rows)
    net = network(spec, weights) if network else None
    return compare_gradients(spec, weights, X, Y, finite_differences=fd, network=net)


@pytest.mark.parametrize("text", SPECS)
def test_float64_every_row_agrees_with_keras_and_finite_differences(text):
    result = compare(text)
    assert result.agree
    for row in result.rows:
        assert row.max_rel_diff <= 1e-12, row
        assert row.fd_max_rel_diff is not None and row.fd_max_rel_diff <= 1e-6, row


@pytest.mark.parametrize("text", SPECS)
def test_float32_every_row_agrees_within_its_tolerance(text):
    result = compare(text, "float32", init="glorot", fd=False)
    assert result.agree and max(row.max_rel_diff for row in result.rows) <= 1e-3


# ------------------------------------------------------------ failing twins
def broken(name, wrong_backward):
    """A network whose layer `name` (or first layer of that kind) runs `wrong_backward`."""
    def make(spec, weights):
        network = Network(spec, weights)
        layer = next(layer for layer in network.layers if name in (layer.name, layer.kind))
        layer.backward = types.MethodType(wrong_backward, layer)
        forward = layer.forward

        def keep_input(params, x, training=False):
            layer._input = x
            return forward(params, x, training)

        layer.forward = keep_input
        return network
    return make


def conv_kernel_gradient_flipped(self, params, dy, cache, input_gradient=True):
    dx, grads = type(self).backward(self, params, dy, cache, input_gradient)
    return dx, dict(grads, kernel=grads["kernel"][::-1, ::-1])  # a convolution, not Keras'


def conv_input_gradient_through_flipped_kernel(self, params, dy, cache, input_gradient=True):
    flipped = dict(params, kernel=params["kernel"][::-1, ::-1])
    dx, _ = type(self).backward(self, flipped, dy, cache, input_gradient)
    _, grads = type(self).backward(self, params, dy, cache, input_gradient)
    return dx, grads


def maxpool_last_maximum(self, params, dy, cache, input_gradient=True):
    """The gradient goes to the last maximum of a window instead of the first."""
    x = self._input  # kept by the forward below
    values = self.window_values(x, -np.inf)[..., ::-1]
    last = values.shape[-1] - 1 - values.argmax(axis=-1)
    return type(self).backward(self, params, dy, last, input_gradient)


def avgpool_counts_padding(self, params, dy, cache, input_gradient=True):
    size = self.pool_size[0] * self.pool_size[1]
    share = dy / size  # the padded pixels counted as if they were there
    return self.scatter(np.repeat(share[..., None], size, axis=-1)), {}


def flatten_column_major(self, params, dy, cache, input_gradient=True):
    return dy.reshape(cache, order="F"), {}


def dense_bias_mean(self, params, dy, cache, input_gradient=True):
    dx, grads = type(self).backward(self, params, dy, cache, input_gradient)
    return dx, dict(grads, bias=grads["bias"] / dy.shape[0])


def activation_derivative_scaled(self, params, dy, cache, input_gradient=True):
    dx, grads = type(self).backward(self, params, dy, cache, input_gradient)
    return dx * 1.01, grads


@pytest.mark.parametrize("text, kind, wrong", [
    (LINEAR, "conv", conv_kernel_gradient_flipped),
    (CNN, "conv3", conv_input_gradient_through_flipped_kernel),
    ("conv(4,3),avgpool(3,padding=same),flatten", "avgpool", avgpool_counts_padding),
    (CNN, "flatten", flatten_column_major),
    (CNN, "dense", dense_bias_mean),
    ("conv(4,3),activation(tanh),flatten", "activation", activation_derivative_scaled),
])
def test_a_wrong_backward_turns_the_verdict(text, kind, wrong):
    assert compare(text, fd=False).agree  # the right network agrees ...
    result = compare(text, network=broken(kind, wrong), fd=False)
    assert not result.agree  # ... and its one-line-wrong twin does not


def test_maxpool_gradient_goes_to_the_first_maximum_like_tensorflow():
    """Ties: a window of four equal values sends its gradient to the top-left one (TF on
    the CPU); the twin that picks the last maximum is caught by the same comparison."""
    import keras_impl

    spec = NetworkSpec.from_text("maxpool(2),flatten", inputs=(4, 4, 1), classes=2)
    weights = init_weights(spec)
    X = np.ones((1, 4, 4, 1))  # every window a tie
    Y = np.array([[1.0, 0.0]])
    network = Network(spec, weights)
    _, grads = network.loss_and_gradients(X, Y)
    layer = network.layers[0]
    cache = layer.forward({}, X)[1]
    dx, _ = layer.backward({}, np.ones((1, 2, 2, 1)), cache)
    assert dx[0, :, :, 0].tolist() == [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    tf = keras_impl.tf
    x = tf.Variable(X)
    with tf.GradientTape() as tape:
        y = keras_impl.keras.layers.MaxPooling2D(2, dtype="float64")(x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), dx)
    last = broken("maxpool", maxpool_last_maximum)(spec, weights).layers[0]
    last.forward({}, X)
    wrong, _ = last.backward({}, np.ones((1, 2, 2, 1)), cache)
    assert not np.array_equal(wrong, dx)


# ------------------------------------------------------------- the spec
def test_text_round_trip_and_names():
    spec = NetworkSpec.from_text(CNN_SAME)
    assert NetworkSpec.from_text(spec.hidden_text) == spec
    assert list(spec.param_shapes())[:2] == ["conv1/kernel", "conv1/bias"]
    assert spec.param_shapes()["conv3/kernel"] == (3, 3, 8, 16)
    assert spec.input_shape == (28, 28, 1)
    assert NetworkSpec.from_text("100:relu").input_shape == (784,)  # dense: flat rows


@pytest.mark.parametrize("text, shape", [
    ("conv(2,3)", (26, 26, 2)), ("conv(2,3,padding=same)", (28, 28, 2)),
    ("conv(2,3,strides=2)", (13, 13, 2)), ("conv(2,4,strides=3,padding=same)", (10, 10, 2)),
    ("maxpool(3)", (9, 9, 1)), ("maxpool(3,padding=same)", (10, 10, 1)),
    ("avgpool(2,strides=1)", (27, 27, 1)), ("conv(2,3x5)", (26, 24, 2)),
])
def test_output_shapes_are_keras_shapes(text, shape):
    import keras_impl

    spec = NetworkSpec.from_text(text + ",flatten")
    assert spec.build_layers()[0].output_shape == shape
    model = keras_impl.build_model(spec)
    assert tuple(model.layers[0].output.shape[1:]) == shape


def test_json_form_gives_the_same_network():
    text = '{"layers": ["conv(8,3,relu)", {"type": "MaxPooling2D", "pool_size": 2}, ' \
           '{"type": "flatten"}, {"type": "dense", "units": 32, "activation": "sigmoid"}]}'
    from_json = NetworkSpec((28, 28, 1), network_from_json(text))
    assert from_json == NetworkSpec.from_text("conv(8,3,relu),maxpool,flatten,dense(32,sigmoid)")
    assert NetworkSpec((28, 28, 1), network_from_json(from_json.to_json())) == from_json


@pytest.mark.parametrize("text, fragment", [
    ("convolution(3,3)", "unknown layer 'convolution'; accepted: dense, conv, maxpool"),
    ("conv(8,30),flatten", "conv1 (conv(8,30)): kernel 30x30 is larger than its 28x28 input"),
    ("conv(-8,3),flatten", "conv filters must be a positive integer, got -8"),
    ("conv(8,3),dense(10)", "dense2 (dense(10)): gets inputs of shape (26, 26, 8); "
                            "Dense takes flat rows, so put 'flatten' before it"),
    ("conv(8,3)", "the output layer dense2 (dense, 10 outputs) gets inputs of shape"),
    ("conv(8,3,relu,stride=2),flatten", "conv has no option 'stride'; accepted: filters"),
    ("conv(8),flatten", "conv needs kernel_size"),
    ("maxpool(2,padding=full),flatten", "padding must be one of valid, same"),
    ("dense(10),conv(3,3)", "conv2 (conv(3,3)): gets inputs of shape (10,)"),
    ("conv(8,3,relu", "unbalanced"),
    ("conv(8,3,nope),flatten", "unknown activation 'nope'"),
    ("dense(10000000)", "must be at most 1,000,000"),
])
def test_bad_specs_are_one_line_errors_naming_the_layer(text, fragment):
    with pytest.raises(SpecError) as error:
        NetworkSpec.from_text(text)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_registry_holds_each_kind_once_and_accepts_keras_names():
    names = layers.names()
    assert len(names) == len(set(names))
    assert {"dense", "conv", "maxpool", "avgpool", "flatten", "activation", "batchnorm",
            "dropout"} <= set(names)
    assert layers.get("Conv2D") is layers.get("conv") is layers.Conv2D
    for kind in names:  # every kind is found by its Keras class name too
        assert layers.get(layers.get(kind).keras_name) is layers.get(kind)


def test_weights_by_old_names_and_a_mismatch_is_an_error():
    spec = NetworkSpec.from_text("5:relu", inputs=3, classes=2)
    weights = init_weights(spec)
    book = {"W1": weights["dense1/kernel"], "b1": weights["dense1/bias"],
            "W2": weights["dense2/kernel"], "b2": weights["dense2/bias"]}
    assert Network(spec, book).params.keys() == weights.keys()
    with pytest.raises(SpecError, match="expected"):
        Network(spec, {"W1": book["W1"], "b1": book["b1"]})


# ------------------------------------------------------------ training
def image_blobs():
    """Gaussian blobs (tests/training_blobs.py) as 4x3x1 images."""
    from dataclasses import replace

    from training_blobs import blobs

    return replace(blobs(train=120, test=40, inputs=12, classes=4), image_shape=(4, 3, 1))


@pytest.mark.slow
def test_a_convolutional_network_trains_the_same_on_both_sides():
    from compare.training import train_side_by_side

    data = image_blobs()
    spec = NetworkSpec.from_text("conv(3,2,tanh),maxpool(2,strides=1),flatten,dense(6,relu)",
                                 inputs=data.input_shape, classes=4)
    result = train_side_by_side(spec, init_weights(spec), data, epochs=3, batch_size=16,
                                lr=0.1, seed=0)
    assert result.agree and result.max_loss_diff <= 1e-9 and result.max_weight_diff <= 1e-9
    assert result.handrolled.test_accuracy == result.keras.test_accuracy


@pytest.mark.slow
def test_a_wrong_conv_backward_trains_apart():
    """Twin: the same run with conv1's kernel gradient flipped disagrees."""
    from compare.training import train_side_by_side
    from handrolled.train import sgd_epoch

    def wrong_epoch(network, *args, **kwargs):
        layer = network.layers[0]
        layer.backward = types.MethodType(conv_kernel_gradient_flipped, layer)
        return sgd_epoch(network, *args, **kwargs)

    data = image_blobs()
    spec = NetworkSpec.from_text("conv(3,2,tanh),maxpool(2,strides=1),flatten,dense(6,relu)",
                                 inputs=data.input_shape, classes=4)
    result = train_side_by_side(spec, init_weights(spec), data, epochs=3, batch_size=16,
                                lr=0.1, seed=0, handrolled_epoch=wrong_epoch)
    assert not result.agree and result.verdict.startswith("disagree from step ")


def test_a_fifo_or_a_directory_given_as_a_file_is_one_line(cli, tmp_path):
    import os

    fifo = tmp_path / "w.npz"
    os.mkfifo(fifo)
    code, _, err = cli("gradients", "--weights", str(fifo))
    assert code == 2 and err.count("\n") == 1 and "is not a regular file" in err
    (tmp_path / "net.json").mkdir()
    code, _, err = cli("gradients", "--network", str(tmp_path / "net.json"))
    assert code == 2 and err.count("\n") == 1 and "is a directory" in err


def test_bench_takes_a_json_network_file(cli, tmp_path):
    import json

    path = tmp_path / "net.json"
    path.write_text(json.dumps({"layers": ["conv(2,3,relu)", {"type": "flatten"}]}))
    code, out, err = cli("bench", "--network", str(path), "--batch", "16", "--rows", "64",
                         "--repeats", "1", "--impls", "handrolled", "--dtype", "float64",
                         "--peak-size", "64", "--quiet", "--json", str(tmp_path / "b.json"))
    assert code == 0, err
    assert json.loads((tmp_path / "b.json").read_text())["rows"][0]["hidden"] == \
        "conv(2,3,relu),flatten"



def arrays_not_in(dtype, network, X, Y) -> list[str]:
    """The layer outputs and gradients of one training step whose dtype is not `dtype`."""
    cache = network.forward(X, training=True)
    outputs = {layer.name: a for layer, a in zip(network.layers, cache.outputs)}
    grads = network.backward(cache, Y)
    return [name for name, array in {**outputs, **grads}.items() if array.dtype != dtype]


def test_a_float32_cnn_computes_in_float32_throughout():
    # every layer kind of a CNN, tiled and overlapping pooling: no silent upcast
    from conftest import make_batch

    spec = NetworkSpec.from_text("conv(4,3,relu),maxpool(2),conv(4,3,tanh,padding=same),"
                                 "maxpool(2,strides=1),avgpool(2),flatten,dense(8,relu)",
                                 inputs=(12, 12, 2), classes=3, dtype="float32")
    X, Y = make_batch(spec, 6)
    X = X.reshape(6, *spec.input_shape)
    network = Network(spec, init_weights(spec))
    assert arrays_not_in(np.float32, network, X, Y) == []
    pool = network.layers[1]  # the twin: one layer that upcasts its output
    forward = pool.forward
    pool.forward = lambda params, x, training=False: (
        (lambda y, cache: (y.astype(np.float64), cache))(*forward(params, x, training)))
    assert "maxpool2" in arrays_not_in(np.float32, network, X, Y)
