"""The hand-written side against Keras on another backend (JAX, torch): float64.

Runs in a process whose Keras backend is not TensorFlow (`make backend-tests`:
KERAS_BACKEND=jax); under the default backend the same checks are the other test
files' (test_gradient_parity, test_regularization_layers, test_layers,
test_optimizer_training), so this file is skipped there.  Same figures as on
TensorFlow: gradients <= 1e-12 (or the row's round-off allowance), trajectories
within the round-off verdict.  Every agreement has a failing twin: a wrong
hand-written side must DISAGREE on this backend too.  Two conventions differ
from TensorFlow's, measured and pinned here: JAX casts a Python-float
hyper-parameter straight to float64 where TensorFlow goes through float32
(keras_impl/conventions.py installed_conventions), and Keras' type promotion narrows
float64 to float32 on every backend but TensorFlow (keras_impl/narrowing.py):
tanh, sin and cos, and BatchNormalization's whole computation.  So the float64
networks below use sigmoid, relu, elu and softplus and no BatchNormalization; a
tanh or BatchNormalization network is shown to differ by float32's round-off in
float64, and BatchNormalization to agree in float32.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from keras_impl import backends

if backends.chosen() != "jax":  # torch: a float32 witness, tests/test_backend_torch.py
    pytest.skip("the backend agreement tests run with KERAS_BACKEND=jax "
                "(make backend-tests)", allow_module_level=True)

from compare.gradients import compare_gradients  # noqa: E402
from compare.tolerances import ROUNDOFF_FACTOR  # noqa: E402
from handrolled import NetworkSpec, init_weights, optimizers  # noqa: E402
from handrolled.train import sgd_epoch  # noqa: E402
from tests.conftest import make_batch  # noqa: E402
from tests.every_command import halved_backward  # noqa: E402
from tests.test_optimizers import COMPUTED_SCHEDULES, SCHEDULE_TOLERANCE  # noqa: E402

NETWORKS = {
    "dense": "13:sigmoid,11:elu,9:relu",
    "conv": "conv(4,3,relu),maxpool(2),conv(3,2,softplus,padding=same),avgpool(2),flatten,"
            "dense(8,sigmoid)",
    "dropout": "dense(12,relu),dropout(0.4),dense(10,elu,kernel=l2(0.01),activity=l1(0.001))",
}
INPUTS = {"conv": (8, 8, 1)}

OPTIMIZERS = [
    "sgd(learning_rate=0.1)",
    "sgd(learning_rate=exp_decay(0.1,10,0.9),momentum=0.9,nesterov=true)",
    "rmsprop(momentum=0.5,centered=true)",
    "adam",
    "adam(amsgrad=true)",
    "adamw",
    "adagrad(learning_rate=0.01)",
]


BATCHNORM = "dense(12,relu),batchnorm,dense(10,sigmoid),batchnorm"


def spec_of(kind: str, dtype: str = "float64") -> NetworkSpec:
    return NetworkSpec.from_text(NETWORKS.get(kind, BATCHNORM), inputs=INPUTS.get(kind, 20),
                                 classes=7, seed=3, dtype=dtype)


def test_this_process_runs_the_chosen_backend():
    import keras

    import keras_impl

    assert keras_impl.BACKEND.NAME == backends.chosen() == keras.backend.backend()
    assert keras_impl.tf is None


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("kind", list(NETWORKS))
def test_float64_gradients_agree_to_1e12(kind):
    spec = spec_of(kind)
    X, Y = make_batch(spec, rows=16)
    result = compare_gradients(spec, init_weights(spec, "book"), X, Y)
    assert result.agree, result.to_dict()
    assert abs(result.loss_handrolled - result.loss_keras) <= 1e-12
    for row in result.rows:
        assert row.max_rel_diff <= max(1e-12, ROUNDOFF_FACTOR * row.roundoff), row


def test_batchnorm_agrees_in_float32_and_is_float32_in_float64():
    """Keras computes BatchNormalization in result_type(dtype, 'float32'): float32 here,
    float64 on TensorFlow.  In float32 both sides agree within float32's tolerance; in
    float64 the difference is float32's round-off, and it is named as Keras' narrowing."""
    from keras_impl.narrowing import narrowed_parts, narrows

    assert narrows("float64")
    spec = spec_of("batchnorm", "float32")
    X, Y = make_batch(spec, rows=16)
    result = compare_gradients(spec, init_weights(spec, "book"), X, Y, finite_differences=False)
    assert result.agree and max(row.max_rel_diff for row in result.rows) <= 1e-3
    spec = spec_of("batchnorm")
    assert narrowed_parts(spec) == ["BatchNormalization"]
    X, Y = make_batch(spec, rows=16)
    result = compare_gradients(spec, init_weights(spec, "book"), X, Y, finite_differences=False)
    worst = max(row.max_rel_diff for row in result.rows)
    assert not result.agree and 1e-9 < worst < 1e-3


def _wrong_backward(layer_kind: str):
    """A network whose first `layer_kind` layer returns half its kernel gradient."""
    return lambda spec, weights: halved_backward(spec, weights, layer_kind)


@pytest.mark.parametrize("kind, layer, dtype", [
    ("dense", "dense", "float64"), ("conv", "conv", "float64"),
    ("batchnorm", "batchnorm", "float32"), ("dropout", "dense", "float64")])
def test_a_wrong_backward_disagrees(kind, layer, dtype):
    spec = spec_of(kind, dtype)
    X, Y = make_batch(spec, rows=16)
    weights = init_weights(spec, "book")
    # float32: a halved gradient is far beyond float32's tolerance too
    result = compare_gradients(spec, weights, X, Y, finite_differences=False,
                               network=_wrong_backward(layer)(spec, weights))
    assert not result.agree


def test_dropout_masks_are_keras_own():
    """The mask peeked before a pass is the one the pass draws (the generator's state put
    back), and the pass advances the generator, as a training step does."""
    import keras_impl
    from keras_impl.dropout import dropout_shapes, next_masks

    spec = spec_of("dropout")
    keras_impl.seed_everything(0)
    model = keras_impl.build_model(spec, init_weights(spec))
    peeked = next_masks(model, dropout_shapes(spec), 16)["dropout2"]
    assert 0 < peeked.mean() < 1
    X, Y = make_batch(spec, rows=16)
    _, _, drawn = keras_impl.loss_gradients_and_masks(model, spec, X, Y)
    np.testing.assert_array_equal(drawn["dropout2"], peeked)
    after = next_masks(model, dropout_shapes(spec), 16)["dropout2"]
    assert not np.array_equal(after, peeked)


# ------------------------------------------------------------------ conventions
def test_hyper_parameters_are_cast_as_this_backend_does():
    """JAX (float64 enabled) and torch cast 0.9 straight to float64; TensorFlow first to
    float32.  Measured, and the hand-written optimizers follow it."""
    from keras_impl import installed_conventions

    measured = installed_conventions()
    assert not measured.hyperparameters_via_float32
    assert measured.cast(0.9, "float64") == optimizers.exact(0.9, "float64") == 0.9
    # what a comparison hands the hand-written optimizer (the network's conventions)
    adam = optimizers.get("adam").build({"w": np.zeros(1)}, measured)
    assert adam.applied["beta_1 (in beta_1**t)"] == 0.9


def test_tanh_sin_and_cos_are_float32_in_keras_here():
    """Keras' result_type maps float64 to float32 on this backend: measured, and a float64
    tanh network then differs from the hand-written one by float32's round-off (the
    gradient check catches it, and `nn-compare gradients` says why in a note)."""
    from compare.activation_check import elementwise_examples
    from keras_impl.narrowing import narrowed_activations as narrowed

    narrow = narrowed(elementwise_examples())
    assert "tanh" in narrow and not {"sigmoid", "relu", "elu", "softplus"} & set(narrow)
    spec = NetworkSpec.from_text("13:tanh", inputs=20, classes=7, seed=3)
    X, Y = make_batch(spec, rows=16)
    result = compare_gradients(spec, init_weights(spec), X, Y, finite_differences=False)
    worst = max(row.max_rel_diff for row in result.rows)
    assert not result.agree and 1e-9 < worst < 1e-4


def test_regularizer_factors_are_not_rounded_here():
    from keras_impl import installed_conventions

    measured = installed_conventions()
    assert not measured.l1_factor_float32 and not measured.l2_factor_float32
    assert measured.activity_per_row


# ------------------------------------------------------------------ training
@pytest.fixture(scope="module")
def digits():
    """Small learnable blobs shaped as 4x3x1 images (the conv network needs images)."""
    from tests.training_blobs import blobs

    return blobs(train=96, test=32, inputs=12, classes=4)


def train(data, hidden, optimizer, handrolled_epoch=sgd_epoch, epochs=2, batch=16,
          dtype="float64"):
    from compare.training import train_side_by_side

    if dtype != "float64":
        data = dataclasses.replace(data, X_train=data.X_train.astype(dtype),
                                   X_test=data.X_test.astype(dtype))
    spec = NetworkSpec.from_text(hidden, inputs=(4, 3, 1) if hidden.startswith("conv") else 12,
                                 classes=4, seed=0, dtype=dtype)
    return train_side_by_side(spec, init_weights(spec), data, epochs=epochs, batch_size=batch,
                              lr=optimizer, seed=0, handrolled_epoch=handrolled_epoch)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_trains_the_same(digits, optimizer):
    r = train(digits, "dense(16,relu),dense(8,sigmoid)", optimizer)
    assert r.agree, r.verdict
    # a schedule's float32 power (XLA's, not the C library's powf) may be one float32 ulp
    # off: the verdict's samples run it one ulp up and down; the bounds of the TF test allow it
    computed = any(name in optimizer for name in COMPUTED_SCHEDULES)
    bound = SCHEDULE_TOLERANCE["float64"] if computed else 1e-9
    assert r.max_loss_diff <= bound and r.max_weight_diff <= bound
    assert r.max_optimizer_state_diff <= bound


@pytest.mark.parametrize("hidden, dtype", [
    ("dense(16,relu),dropout(0.3),dense(8,elu)", "float64"),
    ("conv(3,2,relu),maxpool(2),flatten,dense(8,sigmoid)", "float64"),
    ("dense(16,relu),batchnorm,dropout(0.3),dense(8,elu)", "float32"),
    # penalties: fit's metrics on JAX cannot read model.losses (keras_impl/train.py LossTracker)
    ("dense(16,relu,kernel=l2(0.01)),dense(8,elu,activity=l1(0.001))", "float64"),
])
def test_batchnorm_dropout_and_conv_train_within_roundoff(digits, hidden, dtype):
    r = train(digits, hidden, "adam(learning_rate=0.01)", dtype=dtype)
    assert r.agree, r.verdict
    if dtype == "float64":
        assert r.max_loss_diff <= 1e-9 and r.max_weight_diff <= 1e-9


def replaced_by(make):
    def epoch(network, X, Y, batch_size, optimizer, **kwargs):
        if not hasattr(network, "optimizer_twin"):
            network.optimizer_twin = make(optimizer).build(network.params)
        return sgd_epoch(network, X, Y, batch_size, network.optimizer_twin, **kwargs)
    return epoch


class TensorFlowCastAdam(optimizers.Adam):
    """Adam rounding its betas through float32, as on TensorFlow: wrong on this backend."""
    keras_cast = staticmethod(optimizers.via_float32)


@pytest.mark.parametrize("optimizer, twin", [
    ("adam(learning_rate=0.001)", lambda o: optimizers.AdamTextbook(learning_rate=0.001)),
    ("adam(learning_rate=0.001)", lambda o: TensorFlowCastAdam(**o.options())),
])
def test_a_wrong_optimizer_disagrees(digits, optimizer, twin):
    r = train(digits, "dense(16,relu),dense(8,sigmoid)", optimizer,
              handrolled_epoch=replaced_by(twin))
    assert not r.agree and r.verdict.startswith("disagree from step ")
