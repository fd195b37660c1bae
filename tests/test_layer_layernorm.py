"""LayerNormalization in every command: gradients (vs Keras and finite differences, with
broken twins), train, code, --from-keras, bench.  Tiny shapes (tests/every_command.py)."""

from __future__ import annotations

import numpy as np
import pytest

from handrolled import SpecError, layers
from handrolled.layers.layernorm import layernorm_backward
from handrolled.layers.normalization import normalize
from every_command import (code_program_matches_and_a_broken_line_does_not, gradients,
                          round_trip, trained, with_functions)

DENSE = "dense(5,tanh),layernorm,dense(4,relu),layernorm(epsilon=0.01)"
IMAGES = "conv(3,2),layernorm,flatten"   # per pixel, over its 3 channels


@pytest.mark.parametrize("text, inputs", [(DENSE, 6), (IMAGES, (4, 3, 1))])
def test_float64_gradients_agree_with_keras_and_finite_differences(text, inputs):
    result = gradients(text, inputs)
    assert result.agree
    assert {row.name for row in result.rows} >= {"layernorm2/gamma", "layernorm2/beta"}
    for row in result.rows:
        assert row.max_rel_diff <= 1e-12, row
        assert row.fd_max_rel_diff is not None and row.fd_max_rel_diff <= 1e-6, row


def backward_without_one_over_n(params, dy, cache, epsilon):
    """Twin: dL/dx without its 1/N (the rest right)."""
    x = cache[0]
    dx, grads = layernorm_backward(params, dy, cache, epsilon)
    return dx * x.shape[-1], grads


def backward_with_constant_statistics(params, dy, cache, epsilon):
    """Twin: mu and var treated as constants, dL/dx = dy gamma / sqrt(var + eps)."""
    x, mu, var = cache
    _, grads = layernorm_backward(params, dy, cache, epsilon)
    return dy * params["gamma"] / np.sqrt(var + epsilon), grads


def forward_with_unbiased_variance(params, x, epsilon):
    """Twin: the variance divided by N - 1 (NumPy's ddof=1), not Keras' N."""
    n = x.shape[-1]
    mu = x.mean(axis=-1, keepdims=True)
    var = np.square(x - mu).sum(axis=-1, keepdims=True) / (n - 1)
    return normalize(x, mu, var, params["gamma"], params["beta"], epsilon), (x, mu, var)


@pytest.mark.parametrize("twin", [dict(backward=backward_without_one_over_n),
                                  dict(backward=backward_with_constant_statistics),
                                  dict(forward=forward_with_unbiased_variance)],
                         ids=["no 1/N", "constant mu and var", "unbiased variance"])
def test_twin_a_wrong_layernorm_disagrees(twin):
    result = gradients(DENSE, 6, network=with_functions("layernorm", **twin), fd=False)
    assert not result.agree


def test_the_keras_twin_is_layer_normalization_from_its_config():
    from keras_impl.model import keras_layers
    from every_command import spec_of

    norm = keras_layers(spec_of("dense(4),layernorm(epsilon=0.01)", 6))[1]
    assert type(norm).__name__ == "LayerNormalization" and norm.name == "layernorm2"
    assert norm.epsilon == 0.01 and norm.axis == -1 and norm.center and norm.scale


def test_a_saved_keras_model_comes_back_with_its_epsilon_and_weights(tmp_path):
    from keras_impl import keras

    twin, model = round_trip(tmp_path, [keras.layers.Dense(4, activation="tanh"),
                                        keras.layers.LayerNormalization(epsilon=0.01)], (6,))
    assert twin.spec.hidden_text == "dense(4,tanh),layernorm(epsilon=0.01)"
    assert np.array_equal(twin.weights["layernorm2/gamma"], model.layers[1].gamma.numpy())
    with pytest.raises(SpecError, match="center=False is not supported"):  # the twin
        round_trip(tmp_path, [keras.layers.LayerNormalization(center=False)], (6,))


def test_it_counts_no_flops():
    from compare.bench.flops import flops_per_row
    from every_command import spec_of

    assert flops_per_row(spec_of("dense(5),layernorm", 6)) == flops_per_row(spec_of("dense(5)", 6))


@pytest.mark.slow
def test_it_trains_the_same_on_both_sides():
    result = trained("conv(3,2,tanh),layernorm,flatten")
    assert result.agree and result.max_loss_diff <= 1e-9 and result.modes == {}


@pytest.mark.slow
def test_the_code_program_runs_and_matches_and_its_twin_does_not(tmp_path):
    code_program_matches_and_a_broken_line_does_not(tmp_path, "conv(3,2,tanh),layernorm,flatten",
                                                    "* (rstd / n)", "* rstd")


def test_the_layer_is_registered_by_its_file_alone():
    assert layers.get("layernorm") is layers.get("LayerNormalization")
    assert "layernorm" in layers.names()
