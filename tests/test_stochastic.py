"""Stochastic activations: a shared seeded schedule, exact training agreement."""

import types

import numpy as np
import pytest

from handrolled import NetworkSpec, activations, init_weights


def tiny_data():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 5)), rng.integers(0, 3, 50)
    return types.SimpleNamespace(name="tiny", X_train=X[:35], y_train=y[:35], X_test=X[35:],
                                 y_test=y[35:])


def test_schedule_redraws_per_step_or_per_epoch_and_is_seeded():
    f = activations.get("stochastic(relu,abs,sin;every=step)")
    first = f.assignment(40).copy()
    f.on_step(0, 1)
    second = f.assignment(40).copy()
    assert first.tolist() != second.tolist()
    f.on_step(0, 0)
    assert f.assignment(40).tolist() == first.tolist()  # a pure function of the counter
    g = activations.get("stochastic(relu,abs,sin;every=epoch)")
    g.on_step(0, 5)
    assert g.assignment(40).tolist() == first.tolist()  # still epoch 0
    g.on_step(1, 6)
    assert g.assignment(40).tolist() != first.tolist()
    h = activations.get("stochastic(relu,abs,sin;every=step,seed=1)")
    assert h.assignment(40).tolist() != first.tolist()


def test_evaluation_uses_the_last_training_assignment():
    f = activations.get("stochastic(relu,abs,sin;every=step)")
    f.on_step(3, 17)
    last = f.assignment(20).copy()
    f.on_train_end()
    assert f.assignment(20).tolist() == last.tolist()
    assert "last training step" in activations.EVALUATION_RULE


@pytest.mark.parametrize("hidden", ["7:stochastic(relu,abs,sin;every=step)",
                                    "7:stochastic(relu,abs,sin;every=epoch,seed=4),"
                                    "5:stochastic(tanh,sin;every=step)"])
def test_training_trajectories_agree_exactly(hidden):
    from compare.training import train_side_by_side

    spec = NetworkSpec.from_text(hidden, inputs=5, classes=3, seed=1)
    result = train_side_by_side(spec, init_weights(spec), tiny_data(), epochs=3,
                                batch_size=8, lr=0.3)
    assert result.agree
    assert result.max_loss_diff <= 1e-12 and result.max_weight_diff <= 1e-12


@pytest.mark.slow
def test_without_the_schedule_on_the_keras_side_they_disagree(monkeypatch):
    """Twin: Keras not told the steps keeps the step-0 draw and drifts away."""
    import keras_impl.train
    from compare.training import train_side_by_side

    monkeypatch.setattr(keras_impl.train, "training_callbacks", lambda model: [])
    spec = NetworkSpec.from_text("7:stochastic(relu,abs,sin;every=step)", inputs=5, classes=3,
                                 seed=1)
    result = train_side_by_side(spec, init_weights(spec), tiny_data(), epochs=2,
                                batch_size=8, lr=0.3)
    assert not result.agree and result.max_loss_diff > 1e-6


def test_callback_counts_steps_over_separate_fit_calls():
    import keras_impl
    from keras_impl.layers import scheduled_layers

    spec = NetworkSpec.from_text("6:stochastic(relu,abs;every=step)", inputs=3, classes=2)
    model = keras_impl.build_model(spec, init_weights(spec))
    layer = scheduled_layers(model)[0]
    for epoch in range(2):
        (callback,) = keras_impl.training_callbacks(model)  # new callback per fit call
        callback.on_epoch_begin(epoch)
        for batch in range(3):
            callback.on_train_batch_begin(batch)
    f = activations.get("stochastic(relu,abs;every=step)")
    f.on_step(1, 5)
    assert layer.steps_begun == 6 and np.array_equal(layer.mask, f.mask(6))


def test_trained_stochastic_model_round_trips_through_a_keras_file(tmp_path):
    import keras_impl
    from keras_impl import keras
    from keras_impl.train import compile_for_sgd, fit_epoch

    spec = NetworkSpec.from_text("8:stochastic(relu,abs,sin;every=step)", inputs=5, classes=3)
    model = keras_impl.build_model(spec, init_weights(spec))
    data = tiny_data()
    compile_for_sgd(model, spec, 0.1)
    fit_epoch(model, spec, data.X_train, np.eye(3)[data.y_train], 8)
    model.save(tmp_path / "s.keras")
    # compile=False: the training metric StepLoss (keras_impl.train) is not serializable
    loaded = keras.models.load_model(tmp_path / "s.keras", compile=False)
    assert np.array_equal(keras_impl.predict_logits(model, data.X_test),
                          keras_impl.predict_logits(loaded, data.X_test))
