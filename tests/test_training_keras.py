"""The Keras side of training: each pinned behaviour, shown to matter."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from training_blobs import blobs

import keras_impl
import keras_impl.train as keras_train
from compare.training import train_side_by_side
from handrolled import NetworkSpec, init_weights
from keras_impl.runtime import keras


def spec_for(dtype="float64"):
    return NetworkSpec.from_text("16:sigmoid", inputs=12, classes=4, dtype=dtype)


def compiled(spec, lr=0.1):
    model = keras_impl.build_model(spec, init_weights(spec))
    keras_train.compile_for_sgd(model, spec, lr)
    return model


def test_step_loss_is_the_loss_of_the_steps_own_forward_pass():
    spec, data = spec_for(), blobs(100, 10)
    model = compiled(spec)
    first_loss, _ = keras_impl.loss_and_gradients(model, spec, data.X_train[:32],
                                                  data.Y_train[:32])
    run = keras_train.fit_epoch(model, spec, data.X_train, data.Y_train, 32)
    assert len(run.losses) == 4  # 32 + 32 + 32 + 4: the partial batch is kept
    assert run.losses[0] == first_loss  # before any update: the same number, exactly
    assert run.epoch_seconds > 0 and run.call_seconds >= run.epoch_seconds


class FitLogs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logged = []

    def on_train_batch_end(self, batch, logs=None):
        self.logged.append(float(logs["loss"]))


def test_twin_the_loss_fit_logs_is_a_running_mean_not_the_steps_loss(monkeypatch):
    spec, data = spec_for(), blobs(100, 10)
    model, logs = compiled(spec), FitLogs()
    monkeypatch.setattr(keras_train, "training_callbacks", lambda model: [logs])
    run = keras_train.fit_epoch(model, spec, data.X_train, data.Y_train, 32)
    assert abs(logs.logged[-1] - run.losses[-1]) > 1e-6
    sizes = np.array([32, 32, 32, 4])
    running_mean = np.cumsum(run.losses * sizes) / np.cumsum(sizes)
    np.testing.assert_allclose(logs.logged, running_mean, rtol=1e-12)


def test_learning_rate_variable_has_the_models_dtype():
    model = compiled(spec_for(), lr=0.1)
    assert model.optimizer.learning_rate.dtype == "float64"
    assert float(model.optimizer.learning_rate.numpy()) == 0.1
    assert keras.config.floatx() == "float32"  # restored after compile


@contextlib.contextmanager
def no_pin(dtype):
    yield


def test_twin_without_the_floatx_pin_float64_training_disagrees(monkeypatch):
    """fit rounds float64 data (and SGD its learning rate) to float32 unless pinned."""
    monkeypatch.setattr(keras_train, "floatx", no_pin)
    spec = spec_for()
    r = train_side_by_side(spec, init_weights(spec), blobs(100, 20), epochs=1, batch_size=32,
                           lr=0.1)
    assert not r.agree
    assert r.max_loss_diff > 1e-9


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_floatx_is_restored_even_after_an_error(dtype):
    with pytest.raises(RuntimeError):
        with keras_train.floatx(dtype):
            assert keras.config.floatx() == dtype
            raise RuntimeError("boom")
    assert keras.config.floatx() == "float32"


def test_a_model_compiled_for_training_saves_and_loads_with_its_metric(tmp_path):
    """load_model(compile=True) restores StepLoss, so the loaded model trains on with
    per-step losses that are again the loss of each step's own forward pass."""
    spec, data = spec_for(), blobs(100, 10)
    X, Y = data.X_train[:32], data.Y_train[:32]
    model = compiled(spec)
    keras_train.fit_epoch(model, spec, X, Y, 16)
    path = tmp_path / "model.keras"
    model.save(path)
    back = keras.models.load_model(path)
    np.testing.assert_array_equal(keras_impl.predict_logits(back, X),
                                  keras_impl.predict_logits(model, X))
    first_loss, _ = keras_impl.loss_and_gradients(back, spec, X[:16], Y[:16])
    run = keras_train.fit_epoch(back, spec, X, Y, 16)
    assert len(run.losses) == 2 and run.losses[0] == first_loss
