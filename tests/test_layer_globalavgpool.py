"""GlobalAveragePooling2D in every command: gradients (vs Keras and finite differences,
with broken twins), train, code, --from-keras, bench.  Tiny shapes (tests/every_command.py)."""

from __future__ import annotations

import pytest

from handrolled import NetworkSpec, SpecError, layers
from handrolled.layers.globalavgpool import globalavgpool_backward
from every_command import (code_program_matches_and_a_broken_line_does_not, gradients,
                          round_trip, spec_of, trained, with_functions)

CNN = "conv(3,2,tanh),globalavgpool,dense(4,relu)"


@pytest.mark.parametrize("text, inputs", [(CNN, (4, 3, 2)), ("globalavgpool", (3, 2, 3))])
def test_float64_gradients_agree_with_keras_and_finite_differences(text, inputs):
    result = gradients(text, inputs)
    assert result.agree
    for row in result.rows:
        assert row.max_rel_diff <= 1e-12, row
        assert row.fd_max_rel_diff is not None and row.fd_max_rel_diff <= 1e-6, row


def backward_without_one_over_pixels(params, dy, shape):
    """Twin: every pixel gets the whole dy, not its 1/(H W) share."""
    dx, grads = globalavgpool_backward(params, dy, shape)
    return dx * (shape[1] * shape[2]), grads


def backward_over_the_height_only(params, dy, shape):
    """Twin: the share divided by H alone (the mean taken as if over one axis)."""
    dx, grads = globalavgpool_backward(params, dy, shape)
    return dx * shape[2], grads


@pytest.mark.parametrize("backward", [backward_without_one_over_pixels,
                                      backward_over_the_height_only])
def test_twin_a_wrong_backward_disagrees(backward):
    result = gradients(CNN, (4, 3, 2), network=with_functions("globalavgpool", backward=backward),
                       fd=False)
    assert not result.agree


def test_shapes_the_keras_twin_and_flops():
    from compare.bench.flops import flops_per_row
    from keras_impl.model import keras_layers

    spec = spec_of("globalavgpool,dense(4)", (4, 3, 2))  # images kept: it takes images
    assert spec.input_shape == (4, 3, 2) and spec.build_layers()[0].output_shape == (2,)
    pool = keras_layers(spec)[0]
    assert type(pool).__name__ == "GlobalAveragePooling2D" and pool.name == "globalavgpool1"
    assert flops_per_row(spec_of(CNN, (4, 3, 2))) == \
        flops_per_row(spec_of("conv(3,2,tanh),flatten,dense(4,relu)", (4, 3, 2))) - \
        3 * 2 * (3 * 2 * 3) * 4 + 3 * 2 * 3 * 4   # dense4 sees 3 numbers, not 3x2x3
    with pytest.raises(SpecError, match="takes images"):
        NetworkSpec.from_text("dense(4),globalavgpool", inputs=(4, 3, 2))


def test_a_saved_keras_model_comes_back_and_keepdims_is_refused(tmp_path):
    from keras_impl import keras

    twin, _ = round_trip(tmp_path, [keras.layers.Conv2D(3, 2),
                                    keras.layers.GlobalAveragePooling2D()], (4, 3, 2))
    assert twin.spec.hidden_text == "conv(3,2),globalavgpool"
    with pytest.raises(SpecError, match="keepdims=True is not supported"):  # the twin
        round_trip(tmp_path, [keras.layers.GlobalAveragePooling2D(keepdims=True),
                              keras.layers.Flatten()], (4, 3, 2))


@pytest.mark.slow
def test_it_trains_the_same_on_both_sides():
    result = trained("conv(3,2,tanh),globalavgpool")
    assert result.agree and result.max_loss_diff <= 1e-9


@pytest.mark.slow
def test_the_code_program_runs_and_matches_and_its_twin_does_not(tmp_path):
    code_program_matches_and_a_broken_line_does_not(tmp_path, "conv(3,2,tanh),globalavgpool",
                                                    "share = dy / (height * width)", "share = dy")


def test_the_layer_is_registered_by_its_file_alone():
    assert layers.get("globalavgpool") is layers.get("GlobalAveragePooling2D")
