"""The hand-written side against Keras on PyTorch.

Runs where Keras' backend in this process is torch (`make torch-tests`:
KERAS_BACKEND=torch in an environment with torch); skipped otherwise, as the JAX
file (test_backend_agreement.py) is under TensorFlow.

On torch Keras is a float32 witness, whatever the network's dtype: its
`ops.matmul` (every Dense layer, the output layer included) casts two float64
operands to Keras' `result_type(float64, float64)`, which is float32 on every
backend but TensorFlow, and multiplies in float32; `ops.divide_no_nan` (the
loss' mean over the batch) likewise (keras_impl/narrowing.py).  That is Keras'
convention, measured and pinned here.  Our own route to the gradients
(keras_impl/backends/torch_backend.py, torch.autograd) keeps float64: a Conv2D
layer alone, which Keras computes in float64 on torch, agrees to 1e-12.  So the
agreement tests below run in float32, at float32's tolerance, each with a twin
that fails on a wrong hand-written side.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from keras_impl import backends

if backends.chosen() != "torch":
    pytest.skip("the torch tests run with KERAS_BACKEND=torch where torch is installed "
                "(make torch-tests)", allow_module_level=True)

from compare.gradients import compare_gradients  # noqa: E402
from handrolled import NetworkSpec, init_weights, optimizers  # noqa: E402
from handrolled.train import sgd_epoch  # noqa: E402
from tests.conftest import make_batch  # noqa: E402
from tests.every_command import halved_backward  # noqa: E402

NETWORKS = {
    "dense": "13:sigmoid,11:elu,9:relu",
    "conv": "conv(4,3,relu),maxpool(2),conv(3,2,softplus,padding=same),avgpool(2),flatten,"
            "dense(8,sigmoid)",
    "dropout": "dense(12,relu),dropout(0.4),dense(10,elu,kernel=l2(0.01),activity=l1(0.001))",
    "batchnorm": "dense(12,relu),batchnorm,dense(10,sigmoid),batchnorm",
}
INPUTS = {"conv": (8, 8, 1)}


def spec_of(kind: str, dtype: str = "float32") -> NetworkSpec:
    return NetworkSpec.from_text(NETWORKS[kind], inputs=INPUTS.get(kind, 20), classes=7,
                                 seed=3, dtype=dtype)


def test_this_process_runs_torch():
    import keras

    import keras_impl

    assert keras_impl.BACKEND.NAME == "torch" == keras.backend.backend()
    assert keras_impl.tf is None


# ------------------------------------------------------------------ Keras' narrowing
def test_keras_multiplies_float64_in_float32_here():
    """Measured: ops.matmul and ops.divide_no_nan of float64 tensors are float32 on torch;
    float32 stays float32.  Every network has a Dense layer (its output), so every
    float64 network is named as narrowed, and its float64 gradients differ from the
    hand-written ones by float32's round-off: beyond 1e-9, within 1e-4."""
    from keras_impl.narrowing import NARROWING_OPS, narrowed_ops, narrowed_parts

    assert narrowed_ops("float64") == list(NARROWING_OPS)
    assert narrowed_ops("float32") == []
    spec = spec_of("dense", "float64")
    assert set(NARROWING_OPS) <= set(narrowed_parts(spec))
    assert narrowed_parts(spec_of("dense")) == []
    X, Y = make_batch(spec, rows=10)
    result = compare_gradients(spec, init_weights(spec, "book"), X, Y, finite_differences=False)
    worst = max(row.max_rel_diff for row in result.rows)
    assert not result.agree and 1e-9 < worst < 1e-4
    assert 1e-12 < abs(result.loss_handrolled - result.loss_keras) < 1e-5


def _conv_layer_gradients(dtype: str, kernel_gradient_factor: float = 1.0):
    """A Conv2D alone in float64: Keras' kernel gradient (torch.autograd through our
    backend module) and the hand-written backward's, for s = sum(out * dout)."""
    from handrolled import layers
    from keras_impl.model import TWINS
    from keras_impl.runtime import BACKEND, keras

    layer = layers.get("conv")(filters=3, kernel_size=2, activation="softplus")
    layer.name = "conv1"
    layer.build((5, 5, 2))
    rng = np.random.default_rng(0)
    params = {"kernel": rng.normal(size=(2, 2, 2, 3)), "bias": rng.normal(size=3)}
    x, dout = rng.normal(size=(4, 5, 5, 2)), rng.normal(size=(4, 4, 4, 3))
    y, cache = layer.forward(params, x, training=True)
    _, grads = layer.backward(params, dout, cache, input_gradient=False)
    (twin,) = TWINS.lookup("conv")(layer, "float64")
    twin.build((None, 5, 5, 2))
    twin.kernel.assign(params["kernel"])
    twin.bias.assign(params["bias"])
    dout_t = keras.ops.convert_to_tensor(dout)
    _, out, _, by_variable = BACKEND.call_and_gradients(
        twin, x.astype(dtype), lambda out, _: keras.ops.sum(out * dout_t), keep_state=False)
    kernel = by_variable[id(twin.kernel)]
    rel = np.max(np.abs(kernel - kernel_gradient_factor * grads["kernel"])) / np.max(
        np.abs(grads["kernel"]))
    return rel, np.max(np.abs(out - y))


def test_our_torch_route_keeps_float64():
    """No float32 default on our side: a layer Keras computes in float64 on torch agrees
    to 1e-12 through keras_impl/backends/torch_backend.py."""
    rel, out = _conv_layer_gradients("float64")
    assert rel <= 1e-12 and out <= 1e-12


@pytest.mark.parametrize("dtype, factor", [("float32", 1.0), ("float64", 0.5)])
def test_the_float64_check_sees_float32_inputs_and_a_wrong_gradient(dtype, factor):
    """The twins: the same check fails when the input is rounded to float32 on the way,
    or when the hand-written kernel gradient is halved."""
    rel, _ = _conv_layer_gradients(dtype, factor)
    assert rel > 1e-9


# ------------------------------------------------------------------ float32 agreement
@pytest.mark.parametrize("kind", list(NETWORKS))
def test_float32_gradients_agree(kind):
    spec = spec_of(kind)
    X, Y = make_batch(spec, rows=16)
    result = compare_gradients(spec, init_weights(spec, "book"), X, Y, finite_differences=False)
    assert result.agree, result.to_dict()
    assert max(row.max_rel_diff for row in result.rows) <= 1e-3


@pytest.mark.parametrize("kind, layer", [("dense", "dense"), ("conv", "conv"),
                                         ("dropout", "dense"), ("batchnorm", "batchnorm")])
def test_a_wrong_backward_disagrees(kind, layer):
    spec = spec_of(kind)
    X, Y = make_batch(spec, rows=16)
    weights = init_weights(spec, "book")
    result = compare_gradients(spec, weights, X, Y, finite_differences=False,
                               network=halved_backward(spec, weights, layer))
    assert not result.agree


def test_dropout_masks_are_keras_own():
    """Keras' unseeded Dropout draws from torch's global generator on this backend (not from
    its SeedGenerator): the peeked mask is the one the pass draws only because that
    generator's state is put back too (BACKEND.random_state_kept).  The twin: peeking
    without putting it back leaves the pass drawing another mask."""
    import keras_impl
    from keras_impl.dropout import dropout_shapes, next_masks
    from keras_impl.runtime import BACKEND

    spec = spec_of("dropout")
    X, Y = make_batch(spec, rows=16)
    draws = []
    for keep in (True, False):
        keras_impl.seed_everything(0)
        model = keras_impl.build_model(spec, init_weights(spec))
        if keep:
            peeked = next_masks(model, dropout_shapes(spec), 16)["dropout2"]
        else:
            kept = BACKEND.random_state_kept
            BACKEND.random_state_kept = contextlib.nullcontext
            try:
                peeked = next_masks(model, dropout_shapes(spec), 16)["dropout2"]
            finally:
                BACKEND.random_state_kept = kept
        _, _, drawn = keras_impl.loss_gradients_and_masks(model, spec, X, Y)
        draws.append(np.array_equal(drawn["dropout2"], peeked))
        assert 0 < peeked.mean() < 1
    assert draws == [True, False]


# ------------------------------------------------------------------ training, float32
@pytest.fixture(scope="module")
def blobs32():
    import dataclasses

    from tests.training_blobs import blobs

    data = blobs(train=96, test=32, inputs=12, classes=4)
    return dataclasses.replace(data, X_train=data.X_train.astype("float32"),
                               X_test=data.X_test.astype("float32"))


def train(data, hidden, optimizer, handrolled_epoch=sgd_epoch):
    from compare.training import train_side_by_side

    spec = NetworkSpec.from_text(hidden, inputs=12, classes=4, seed=0, dtype="float32")
    return train_side_by_side(spec, init_weights(spec), data, epochs=2, batch_size=16,
                              lr=optimizer, seed=0, handrolled_epoch=handrolled_epoch)


@pytest.mark.parametrize("hidden, optimizer", [
    ("dense(16,relu),dense(8,sigmoid)", "sgd(learning_rate=0.1,momentum=0.9)"),
    ("dense(16,relu),dropout(0.3),dense(8,elu)", "adam(learning_rate=0.01)"),
    ("dense(16,relu),batchnorm,dense(8,elu)", "rmsprop"),
])
def test_float32_training_agrees_within_roundoff(blobs32, hidden, optimizer):
    r = train(blobs32, hidden, optimizer)
    assert r.agree, r.verdict


def test_a_wrong_optimizer_disagrees(blobs32):
    def epoch(network, X, Y, batch_size, optimizer, **kwargs):
        if not hasattr(network, "optimizer_twin"):
            network.optimizer_twin = optimizers.AdamTextbook(
                learning_rate=0.01).build(network.params)
        return sgd_epoch(network, X, Y, batch_size, network.optimizer_twin, **kwargs)

    r = train(blobs32, "dense(16,relu),dense(8,sigmoid)", "adam(learning_rate=0.01)",
              handrolled_epoch=epoch)
    assert not r.agree and r.verdict.startswith("disagree from step ")


# ------------------------------------------------------------------ check
@pytest.mark.parametrize("target, agree", [("book_network.py", True),
                                           ("book_network_relu_bug.py", False)])
def test_check_says_keras_narrows_here_and_still_finds_the_bug(target, agree):
    """A float64 check target on torch: Keras' Dense is float32 here, so the check says so
    and compares at float32's tolerance (not "is part of your computation in lower
    precision?"); the book's network agrees, and its ReLU bug (the twin) is still found."""
    from pathlib import Path

    from compare.check.kinds import CheckOptions, run_check_file

    examples = Path(__file__).resolve().parent.parent / "examples"
    outcome = run_check_file(examples / target, CheckOptions(batch=16))
    text = outcome.format()
    assert outcome.agree == agree, text
    assert "Keras on torch computes Dense (ops.matmul)" in " ".join(text.split())
    assert "lower precision" not in text
