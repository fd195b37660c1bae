"""What a new layer's test file checks, once for every layer: the layer in every command.

    comparison = gradients("dense(5,tanh),layernorm", inputs=6)     # vs Keras and FD
    comparison = gradients(..., network=with_functions(backward=wrong))  # its broken twin
    twin = round_trip(tmp_path, [keras.layers.LayerNormalization()], (6,))  # --from-keras
    generated = written_code(tmp_path, "conv(2,2),globalavgpool", (4, 3, 1))  # `code`
    epochs = run_numpy_program(generated.out); judged(epochs, generated)
    result = trained("conv(2,2),globalavgpool", (4, 3, 1))          # `train`, side by side

Tiny shapes: a few rows of seeded noise (or tests/training_blobs.py's blobs), so a
layer's whole file stays within a few seconds.  Every weight is moved off its start
(gamma 1 and beta 0 would hide a backward that forgets gamma).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from handrolled import Network, NetworkSpec, init_weights


def spec_of(text: str, inputs, classes: int = 3, dtype: str = "float64") -> NetworkSpec:
    return NetworkSpec.from_text(text, inputs=inputs, classes=classes, dtype=dtype)


def moved_weights(spec: NetworkSpec, seed: int = 1) -> dict:
    """init_weights with seeded noise added to every array (gamma no longer 1, ...)."""
    rng = np.random.default_rng(seed)
    return {name: w + rng.normal(0, 0.3, w.shape).astype(w.dtype)
            for name, w in init_weights(spec).items()}


def batch(spec: NetworkSpec, rows: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (rows, *spec.input_shape)).astype(spec.dtype)
    Y = np.eye(spec.classes, dtype=spec.dtype)[rng.integers(0, spec.classes, rows)]
    return X, Y


def gradients(text: str, inputs, network=None, rows: int = 5, fd: bool = True):
    """compare_gradients (hand-written vs Keras vs finite differences) in float64 on a
    tiny seeded batch; `network(spec, weights)` substitutes the hand-written side."""
    from compare.gradients import compare_gradients

    spec = spec_of(text, inputs)
    weights = moved_weights(spec)
    X, Y = batch(spec, rows)
    net = network(spec, weights) if network else None
    return compare_gradients(spec, weights, X, Y, finite_differences=fd, network=net)


def with_functions(kind: str, forward=None, backward=None):
    """network(spec, weights) whose first layer of `kind` runs other FUNCTIONS: a broken
    twin of the layer, the rest of the network as it is."""
    def make(spec, weights):
        network = Network(spec, weights)
        layer = next(layer for layer in network.layers if layer.kind == kind)
        right_forward, right_backward = layer.FUNCTIONS
        layer.FUNCTIONS = (forward or right_forward, backward or right_backward)
        return network
    return make


def round_trip(tmp_path: Path, keras_layers: list, input_shape: tuple, classes: int = 3):
    """A Keras model of `keras_layers` and a Dense(classes) output, built by hand in
    float64 and saved; `--from-keras`'s import of it (a SpecError if refused)."""
    from keras_impl import keras
    from keras_impl.from_keras import import_model

    inputs = keras.Input(input_shape, dtype="float64")
    model = keras.Sequential([inputs, *keras_layers,
                              keras.layers.Dense(classes, dtype="float64")])
    path = str(tmp_path / "model.keras")
    model.save(path)
    return import_model(path), model


def trained(text: str, epochs: int = 2, **options):
    """train_side_by_side on tiny 4x3x1 image blobs (`options`: e.g. handrolled_epoch)."""
    from compare.training import train_side_by_side
    from training_blobs import blobs

    data = replace(blobs(train=40, test=16, inputs=12, classes=4), image_shape=(4, 3, 1))
    spec = spec_of(text, data.input_shape, classes=4)
    return train_side_by_side(spec, moved_weights(spec), data, epochs=epochs, batch_size=16,
                              lr=0.1, seed=0, **options)


def written_code(tmp_path: Path, text: str, shape=(4, 3, 1)):
    """`nn-compare code`'s folder for `text` on tiny image blobs (programs not run yet)."""
    from compare.codegen.generate import generate
    from compare.experiment import Prepared
    from compare.presets import PRESETS
    from training_blobs import blobs

    data = replace(blobs(train=40, test=16, inputs=12, classes=4), image_shape=(4, 3, 1))
    config = replace(PRESETS["default"], hidden=text, optimizer=None, lr=0.5, epochs=2,
                     batch=16, dtype="float64", dataset="blobs")
    spec = spec_of(text, shape, classes=4)
    return generate(Prepared(config, data, spec, init_weights(spec)), tmp_path / "code",
                    command="test", run=False)


def run_numpy_program(folder: Path) -> list[dict]:
    """numpy_version.py in a fresh Python; the epochs it printed."""
    from compare.codegen import outputs

    done = subprocess.run([sys.executable, "numpy_version.py"], cwd=folder,
                          capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], "OPENBLAS_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    return outputs.parse(done.stdout)


def judged(epochs: list[dict], generated, name: str = "numpy_version.py"):
    from compare.codegen import outputs

    return outputs.judge(epochs, generated.reference, "float64", {"train": 40, "test": 16},
                         name)


def halved_backward(spec: NetworkSpec, weights, layer_kind: str) -> Network:
    """A broken twin: the network whose first `layer_kind` layer returns half its kernel
    gradient (or half its first gradient, for a layer without a kernel)."""
    import types

    network = Network(spec, weights)
    layer = next(layer for layer in network.layers if layer.kind == layer_kind)
    backward = layer.backward

    def halved(self, params, dy, cache, input_gradient=True):
        dx, grads = backward(params, dy, cache, input_gradient)
        key = "kernel" if "kernel" in grads else next(iter(grads))
        return dx, dict(grads, **{key: grads[key] / 2})
    layer.backward = types.MethodType(halved, layer)
    return network


def code_program_matches_and_a_broken_line_does_not(tmp_path: Path, text: str, right: str,
                                                    wrong: str) -> None:
    """`nn-compare code`'s NumPy program for `text` runs and matches Keras, contains the
    layer's own line `right` as it is, and with `right` replaced by `wrong` (the broken
    twin) no longer matches."""
    generated = written_code(tmp_path, text)
    judgement = judged(run_numpy_program(generated.out), generated)
    assert judgement.agree and judgement.largest["loss"] <= 1e-12, judgement.problems
    program = generated.out / "numpy_version.py"
    source = program.read_text()
    assert right in source  # the layer's own backward, embedded as it is
    program.write_text(source.replace(right, wrong))
    assert not judged(run_numpy_program(generated.out), generated).agree

