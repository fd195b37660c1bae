"""`--from-keras MODEL.keras`: a saved Keras model becomes its hand-written twin.

Round trip: build with the project -> model.save -> import -> the same gradients
to 1e-12 in float64, against the original hand-written network and against the
loaded Keras model itself; a perturbed saved weight is the failing twin.  Layers
the project does not have, options it cannot express, and code that safe mode
refuses are one-line errors, exit 2.
"""

from __future__ import annotations

import json
import warnings
import zipfile

import numpy as np
import pytest

from handrolled import Network, NetworkSpec, init_weights

from conftest import make_batch

SPECS = {
    "dense": ("dense(12,relu),dense(7,tanh,kernel=l2(0.01))", 20),
    "conv+pool": ("conv(3,3,relu,padding=same),maxpool(2),conv(2,3,leaky_relu(0.1),strides=2),"
                  "avgpool(2),flatten", (10, 10, 1)),
    "bn+dropout": ("dense(9,relu),batchnorm(momentum=0.9),dropout(0.25),dense(6,sigmoid)", 20),
}


def saved(tmp_path, text, inputs, name="model", classes=4):
    import keras_impl

    spec = NetworkSpec.from_text(text, inputs=inputs, classes=classes, seed=3)
    weights = init_weights(spec)
    model = keras_impl.build_model(spec, weights)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    return spec, weights, model, str(path)


def rel_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float(np.max(np.abs(a[k] - b[k]) / (np.abs(b[k]) + 1e-30))) for k in a)


def gradients(spec, weights, X, Y):
    return Network(spec, weights).loss_and_gradients(X, Y)[1]


@pytest.mark.parametrize("name", SPECS)
def test_round_trip_gives_the_same_gradients(tmp_path, name):
    from keras_impl import keras, loss_and_gradients
    from keras_impl.from_keras import import_model

    spec, weights, _, path = saved(tmp_path, *SPECS[name])
    twin = import_model(path, seed=3)
    assert twin.spec == spec  # every layer, option, name, input shape, classes and loss
    assert all(np.array_equal(twin.weights[k], weights[k]) for k in weights)
    X, Y = make_batch(spec, rows=8)
    X = X.reshape(-1, *spec.input_shape)
    assert rel_diff(gradients(twin.spec, twin.weights, X, Y), gradients(spec, weights, X, Y)) \
        <= 1e-12
    if "dropout" not in name:  # the loaded Keras model itself (its masks are its own)
        loaded = keras.saving.load_model(path, safe_mode=True)
        _, keras_grads = loss_and_gradients(loaded, twin.spec, X, Y)
        assert rel_diff(gradients(twin.spec, twin.weights, X, Y), keras_grads) <= 1e-12


def test_a_changed_saved_weight_fails_the_round_trip(tmp_path):
    """The failing twin: one kernel entry changed before saving shows in the gradients."""
    from keras_impl.from_keras import import_model

    spec, weights, model, _ = saved(tmp_path, *SPECS["dense"])
    kernel = model.get_layer("dense2").kernel
    kernel.assign(kernel.numpy() + np.eye(*kernel.shape) * 1e-3)
    model.save(tmp_path / "changed.keras")
    twin = import_model(str(tmp_path / "changed.keras"), seed=3)
    X, Y = make_batch(spec, rows=8)
    assert rel_diff(gradients(twin.spec, twin.weights, X, Y),
                    gradients(spec, weights, X, Y)) > 1e-6


@pytest.mark.slow
def test_cli_gradients_and_train_from_keras(tmp_path, cli, monkeypatch):
    """BatchNormalization's moving statistics come in as state; `gradients` agrees to the
    float64 tolerance and `train` starts both sides from the model's weights and moving
    statistics and records --from-keras."""
    from compare import experiment
    from keras_impl.from_keras import import_model

    spec, _, model, path = saved(tmp_path, "conv(2,3,relu),maxpool(2),flatten,dense(5,relu),"
                                 "batchnorm,dropout(0.2)", (28, 28, 1))
    mean = model.get_layer("batchnorm5").moving_mean
    mean.assign(np.arange(5.0))
    model.save(path)
    assert np.array_equal(import_model(path).state["batchnorm5/moving_mean"], np.arange(5.0))
    out = tmp_path / "gradients.json"
    code, stdout, stderr = cli("gradients", "--from-keras", path, "--dataset", "synthetic",
                               "--batch", "6", "--no-fd", "--json", str(out))
    assert code == 0, stderr
    rows = json.loads(out.read_text())["gradients"]
    assert len(rows) == 8 and max(row["max_rel_diff"] for row in rows) <= 1e-12
    spec, _, model, path = saved(tmp_path, "dense(4,relu),batchnorm", 2, "spiky", classes=2)
    model.get_layer("batchnorm2").moving_mean.assign(np.full(4, 1000.0))
    model.save(path)
    runs = []  # the TrainingResult of the run, kept by a spy around train_side_by_side
    train = experiment.train_side_by_side
    monkeypatch.setattr(experiment, "train_side_by_side",
                        lambda *args, **kwargs: runs.append(train(*args, **kwargs)) or runs[-1])
    code, stdout, stderr = cli("train", "--from-keras", path, "--dataset", "spiky-2d",
                               "--epochs", "1", "--batch", "16", "--train-rows", "64",
                               "--quiet", "--json", str(tmp_path / "train.json"))
    assert code == 0, stderr
    results = json.loads((tmp_path / "train.json").read_text())
    assert f"--from-keras {path}" in results["command"] and \
        results["training"]["network"] == spec.describe()
    # 4 steps at momentum 0.99 from 1000: about 961 on both sides (from 0 it would be ~0)
    for side in (runs[0].handrolled, runs[0].keras):
        assert np.all(side.state["batchnorm2/moving_mean"] > 900)


def test_functional_chain_with_keras_names_and_a_softmax_output(tmp_path, cli):
    """A model written the Keras way (functional API, Keras' own names, softmax output)."""
    from keras_impl import keras
    from keras_impl.from_keras import import_model

    inputs = keras.Input((6,), dtype="float64")
    hidden = keras.layers.Dense(5, activation="relu", dtype="float64")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", dtype="float64")(hidden)
    path = str(tmp_path / "functional.keras")
    keras.Model(inputs, outputs).save(path)
    twin = import_model(path)
    assert twin.spec.describe() == "6-5 relu-3" and twin.spec.loss == "categorical_crossentropy"
    assert sorted(twin.weights) == ["dense1/bias", "dense1/kernel", "dense2/bias",
                                    "dense2/kernel"]
    code, _, stderr = cli("gradients", "--from-keras", path, "--dataset", "synthetic",
                          "--batch", "4")
    assert code == 0, stderr


def sequential(*layers, inputs=(6,)):
    from keras_impl import keras

    return keras.Sequential([keras.Input(inputs), *layers, keras.layers.Dense(3)])


def unsupported_models():
    from keras_impl import keras

    layers = keras.layers
    return {
        "LSTM": (sequential(layers.LSTM(4, name="memory"), inputs=(5, 3)), "'memory' (LSTM)"),
        "Conv1D": (sequential(layers.Conv1D(2, 3, name="c1d"), layers.Flatten(),
                              inputs=(8, 2)), "'c1d' (Conv1D)"),
        "use_bias": (sequential(layers.Dense(4, use_bias=False, name="nobias")),
                     "option use_bias=False"),
        "dilation": (sequential(layers.Conv2D(2, 3, dilation_rate=2, name="dil"),
                                layers.Flatten(), inputs=(9, 9, 1)), "dilation_rate"),
        "Lambda": (sequential(layers.Lambda(lambda x: 2 * x)), "safe mode"),
        "no input": (keras.Sequential([layers.Dense(3)]), "without an input shape"),
    }


@pytest.mark.parametrize("case", ["LSTM", "Conv1D", "use_bias", "dilation", "Lambda",
                                  "no input"])
def test_an_unsupported_model_is_one_line_exit_2(tmp_path, cli, case):
    model, words = unsupported_models()[case]
    path = str(tmp_path / f"{case}.keras")
    with warnings.catch_warnings():  # "no input": Keras warns that the model is not built
        warnings.simplefilter("ignore", UserWarning)
        model.save(path)
    code, stdout, stderr = cli("gradients", "--from-keras", path, "--dataset", "synthetic")
    assert code == 2 and stdout == "" and len(stderr.strip().splitlines()) == 1, stderr
    assert words in stderr
    if case in ("LSTM", "Conv1D"):
        assert "supported layers: Dense, Conv2D" in stderr


def test_an_unknown_class_is_refused_in_safe_mode(tmp_path, cli):
    """A class this process does not know (a custom layer saved elsewhere) never loads."""
    from keras_impl import keras

    path = tmp_path / "custom.keras"
    sequential(keras.layers.Dense(4)).save(path)
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = files["config.json"].decode().replace('"Dense"', '"MyCustomDense"', 1)
    tampered = tmp_path / "tampered.keras"
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, config if name == "config.json" else data)
    code, stdout, stderr = cli("gradients", "--from-keras", str(tampered),
                               "--dataset", "synthetic")
    assert code == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert "safe mode" in stderr and "MyCustomDense" in stderr
