import pytest

from handrolled import NetworkSpec, SpecError, dense_layer, parse_hidden, parse_layers


def test_parse_hidden_text_form():
    assert parse_hidden("100:sigmoid") == (dense_layer(100, "sigmoid"),)
    assert parse_hidden("256:relu, 256:relu,256:tanh") == (
        dense_layer(256, "relu"), dense_layer(256, "relu"), dense_layer(256, "tanh"))
    assert parse_hidden("") == ()


def test_short_dense_form_means_dense():
    assert parse_layers("100:relu") == parse_layers("dense(100,relu)") \
        == parse_layers("dense(units=100, activation=relu)")


def test_spec_shapes_follow_keras_layout():
    spec = NetworkSpec.from_text("100:sigmoid,50:relu", inputs=784, classes=10)
    assert spec.sizes == (784, 100, 50, 10)
    assert spec.param_shapes() == {"dense1/kernel": (784, 100), "dense1/bias": (100,),
                                   "dense2/kernel": (100, 50), "dense2/bias": (50,),
                                   "dense3/kernel": (50, 10), "dense3/bias": (10,)}
    assert spec.legacy_names()["W3"] == "dense3/kernel"
    assert spec.describe() == "784-100 sigmoid-50 relu-10"
    assert spec.hidden_text == "100:sigmoid,50:relu"


def test_spec_is_immutable():
    spec = NetworkSpec.from_text("10:relu", inputs=4, classes=3)
    with pytest.raises(AttributeError):
        spec.inputs = 5


@pytest.mark.parametrize("text, fragment", [
    ("100", "malformed hidden layer"),
    ("100:", "malformed hidden layer"),
    (":relu", "malformed hidden layer"),
    ("abc:relu", "not an integer"),
    ("0:relu", "positive integer"),
    ("-5:relu", "positive integer"),
    ("10:nope", "unknown activation 'nope'; accepted:"),
    ("10:relu(", "unbalanced"),
    ("10:relu(1)", "takes no parameters"),
])
def test_bad_hidden_text_is_one_clear_line(text, fragment):
    with pytest.raises(SpecError) as error:
        NetworkSpec.from_text(text)
    assert fragment in str(error.value)
    assert "\n" not in str(error.value)


def test_bad_dtype_and_sizes():
    with pytest.raises(SpecError, match="accepted: float64, float32"):
        NetworkSpec.from_text("10:relu", dtype="float16")
    with pytest.raises(SpecError, match="classes must be at least 2"):
        NetworkSpec.from_text("10:relu", classes=1)
    with pytest.raises(SpecError, match="inputs must be at least 1"):
        NetworkSpec.from_text("10:relu", inputs=0)
