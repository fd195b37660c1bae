"""Per-neuron activations: assignments, grouped NumPy evaluation, the Keras layer
(unit order, serialization)."""

import numpy as np
import pytest

from handrolled import Network, NetworkSpec, SpecError, activations, init_weights
from handrolled.spec import dense_layer


def test_pattern_repeats_and_random_is_a_seeded_shuffle_of_it():
    assert activations.get("mix(relu,abs,sin)").assignment(7).tolist() == [0, 1, 2, 0, 1, 2, 0]
    shuffled = activations.get("mix(relu,abs,sin;random)").assignment(30)
    assert sorted(shuffled.tolist()) == sorted((np.arange(30) % 3).tolist())  # same shares
    assert shuffled.tolist() != (np.arange(30) % 3).tolist()
    again = activations.get("mix(relu,abs,sin;random,seed=0)").assignment(30)
    other = activations.get("mix(relu,abs,sin;random,seed=1)").assignment(30)
    assert shuffled.tolist() == again.tolist() and shuffled.tolist() != other.tolist()


def test_value_and_derivative_are_each_units_own_function():
    f = activations.get("mix(relu,abs,sin,leaky_relu(0.1);random,seed=5)")
    z = np.random.default_rng(0).normal(size=(9, 11))
    a, d = f.value(z), f.derivative(z, f.value(z))
    for j, k in enumerate(f.assignment(11)):  # the reference: one unit at a time
        g = f.functions[k]
        assert np.array_equal(a[:, j], g.value(z[:, j]))
        assert np.array_equal(d[:, j], g.derivative(z[:, j], g.value(z[:, j])))


def test_explicit_assignment_from_python():
    f = activations.mix_of(["relu", "abs", "abs", "sin", "relu"])
    assert f.assignment(5).tolist() == [0, 1, 1, 2, 0]
    assert f.text == "mix(relu,abs,sin;assign=0/1/1/2/0)"
    assert activations.get(f.text).assignment(5).tolist() == [0, 1, 1, 2, 0]
    spec = NetworkSpec(4, (dense_layer(5, f.text),), classes=2)
    with pytest.raises(SpecError, match="lists 5 units but the layer has 6"):
        Network(NetworkSpec(4, (dense_layer(6, f.text),), classes=2)).forward(np.ones((1, 4)))
    assert Network(spec).forward(np.ones((2, 4))).p.shape == (2, 2)


@pytest.mark.parametrize("text,message", [
    ("mix(relu,absx)", "unknown activation 'absx'"),
    ("mix()", "needs a list of functions"),
    ("mix", "needs a list of functions"),
    ("mix(relu,,abs)", "empty function name"),
    ("mix(relu,abs;shuffle)", "unknown option 'shuffle'"),
    ("mix(relu,abs;seed=2)", "needs 'random'"),
    ("mix(relu,abs;random,seed=x)", "non-negative integer"),
    ("mix(relu,mix(abs,sin))", "elementwise functions"),
    ("mix(relu,abs;assign=0/7)", "function indices 0..1"),
    ("mix(relu,abs", "unbalanced"),
    ("stochastic(relu,abs;every=batch)", "every= must be one of step, epoch"),
    ("stochastic(relu;often)", "unknown option 'often'")])
def test_typos_are_one_line_errors(text, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(")) as error:
        NetworkSpec.from_text(f"6:{text}", inputs=3, classes=2)
    assert "\n" not in str(error.value)


def keras_and_handrolled_outputs(spec, model_spec=None):
    import keras_impl

    weights = init_weights(spec)
    X = np.random.default_rng(2).normal(size=(10, spec.inputs))
    model = keras_impl.build_model(model_spec or spec, weights)
    return Network(spec, weights).forward(X).logits, keras_impl.predict_logits(model, X)


def test_keras_layer_keeps_the_unit_order_of_the_numpy_columns():
    spec = NetworkSpec.from_text("12:mix(relu,abs,sin,cos;random,seed=9)", inputs=4, classes=3)
    hand, keras = keras_and_handrolled_outputs(spec)
    assert np.max(np.abs(hand - keras)) < 1e-14


def test_a_different_unit_order_on_the_keras_side_is_seen():
    """Twin: the same functions in another unit order give different outputs."""
    spec = NetworkSpec.from_text("12:mix(relu,abs,sin,cos;random,seed=9)", inputs=4, classes=3)
    other = NetworkSpec.from_text("12:mix(relu,abs,sin,cos;random,seed=8)", inputs=4, classes=3)
    hand, keras = keras_and_handrolled_outputs(spec, other)
    assert np.max(np.abs(hand - keras)) > 1e-3


def test_weights_keep_their_keys_with_per_unit_layers():
    import keras_impl

    spec = NetworkSpec.from_text("6:mix(relu,sin),5:stochastic(abs,tanh)", inputs=4, classes=3)
    weights = init_weights(spec)
    model = keras_impl.build_model(spec, weights)
    read = keras_impl.read_weights(model)
    assert list(read) == ["dense1/kernel", "dense1/bias", "dense2/kernel", "dense2/bias",
                          "dense3/kernel", "dense3/bias"]
    assert all(np.array_equal(read[k], weights[k]) for k in weights)


def save_and_load(model, path):
    from keras_impl import keras

    model.save(path)
    return keras.models.load_model(path)


def test_keras_file_round_trip_gives_identical_outputs(tmp_path):
    import keras_impl

    spec = NetworkSpec.from_text("9:mix(relu,abs,sin;random,seed=4),5:mix(sin,gelu)",
                                 inputs=6, classes=3)
    model = keras_impl.build_model(spec, init_weights(spec))
    loaded = save_and_load(model, tmp_path / "mix.keras")
    X = np.random.default_rng(0).normal(size=(20, 6))
    assert np.array_equal(keras_impl.predict_logits(model, X), keras_impl.predict_logits(loaded, X))
    assert [l.get_config().get("activation") for l in loaded.layers[1::2]] == \
        ["mix(relu,abs,sin;random,seed=4)", "mix(sin,gelu)"]


def test_round_trip_check_sees_a_different_assignment(tmp_path):
    """Twin: if the loaded layer had another assignment, the outputs would differ."""
    import keras_impl
    from keras_impl.layers import PerUnitActivation

    spec = NetworkSpec.from_text("9:mix(relu,abs,sin;random,seed=4)", inputs=6, classes=3)
    model = keras_impl.build_model(spec, init_weights(spec))
    model.save(tmp_path / "mix.keras")
    original = PerUnitActivation.get_config
    PerUnitActivation.get_config = lambda self: dict(
        original(self), activation="mix(relu,abs,sin;random,seed=5)")
    try:
        model.save(tmp_path / "other.keras")
    finally:
        PerUnitActivation.get_config = original
    from keras_impl import keras
    loaded = keras.models.load_model(tmp_path / "other.keras")
    X = np.random.default_rng(0).normal(size=(20, 6))
    assert not np.array_equal(keras_impl.predict_logits(model, X),
                              keras_impl.predict_logits(loaded, X))


# ------------------------------------------- a function that overflows elsewhere
@pytest.fixture
def exp_activation(clean_registry):
    activations.register_user_activation("exp_test", lambda z, xp: xp.exp(z), lambda z, a: a)
    return "exp_test"


def mix_layer_outputs(text, z):
    """(handrolled value, handrolled derivative, Keras output, Keras gradient of sum(a))."""
    from keras_impl import tf
    from keras_impl.layers import PerUnitActivation

    hand = activations.get(text)
    value = hand.value(z)
    layer = PerUnitActivation(text, dtype="float64")
    z_tf = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(z_tf)
        a = layer(z_tf)
    return value, hand.derivative(z, value), a.numpy(), tape.gradient(a, z_tf).numpy()


OVERFLOWING_Z = np.array([[1000.0, 1.0, -1000.0, 2.0]])  # exp(1000) = inf; exp's units get 1, 2


def test_an_overflowing_function_does_not_reach_other_units(exp_activation):
    value, derivative, keras_a, keras_grad = mix_layer_outputs("mix(relu,exp_test)",
                                                               OVERFLOWING_Z)
    assert np.array_equal(value, [[1000.0, np.e, 0.0, np.exp(2.0)]])
    assert np.isfinite(keras_a).all() and np.isfinite(keras_grad).all()
    # relu's units exactly; exp's within one ulp (TensorFlow's exp is not NumPy's)
    assert np.array_equal(keras_a[:, ::2], value[:, ::2])
    np.testing.assert_allclose(keras_a, value, rtol=3e-16, atol=0)
    np.testing.assert_allclose(keras_grad, derivative, rtol=3e-16, atol=0)  # [[1, e, 0, e^2]]


@pytest.fixture
def log_abs_activation(clean_registry):
    activations.register_user_activation("log_abs_test", lambda z, xp: xp.log(xp.abs(z)),
                                         lambda z, a: 1.0 / z)
    return "log_abs_test"


Z_NO_ZEROS = np.array([[3.0, 4.0, -2.0, 0.25]])  # relu, log_abs, relu, log_abs


def test_an_infinite_value_elsewhere_does_not_reach_the_gradient(log_abs_activation):
    """log|z| is -inf at 0 and its gradient there is 0 * inf = NaN: the units that are
    not its own see z = 0 inside the layer, and none of that may come back to them."""
    value, derivative, keras_a, keras_grad = mix_layer_outputs("mix(relu,log_abs_test)",
                                                               Z_NO_ZEROS)
    np.testing.assert_allclose(keras_a, value, rtol=3e-16, atol=0)  # [[3, log 4, 0, -log 4]]
    assert np.array_equal(keras_grad, derivative)  # [[1, 0.25, 0, 4]]


def test_twin_a_masked_sum_over_all_functions_gives_nan(exp_activation, monkeypatch):
    """The layer as it was: a = sum_k mask_k * f_k(z) puts 0 * exp(1000) = 0 * inf
    = NaN into the relu units, and the same comparison catches it."""
    from keras_impl.layers import PerUnitActivation

    def masked_sum(self, z):
        mask = self._mask.variable
        return sum(mask[k] * f(z) for k, f in enumerate(self.functions))

    monkeypatch.setattr(PerUnitActivation, "call", masked_sum)
    value, _, keras_a, _ = mix_layer_outputs("mix(relu,exp_test)", OVERFLOWING_Z)
    assert np.isnan(keras_a[0, 0]) and np.isfinite(keras_a[0, 1:]).all()
    assert not np.array_equal(keras_a, value)


def test_twin_zeroing_other_units_by_multiplication_gives_nan_gradients(log_abs_activation,
                                                                         monkeypatch):
    """Feeding the other units 0 as z * mask_k instead of where(own_k, z, 0): the
    forward pass is the same, but the NaN of log|z|'s gradient at 0 flows back into z
    (NaN * 0 is NaN; `where` drops it instead)."""
    from keras_impl import tf
    from keras_impl.layers import PerUnitActivation

    def multiplied(self, z):
        mask = self._mask.variable
        own = tf.greater(mask, 0)
        a = None
        for k in reversed(range(len(self.functions))):
            a_k = self.functions[k](z * mask[k])
            a = a_k if a is None else tf.where(own[k], a_k, a)
        return a

    monkeypatch.setattr(PerUnitActivation, "call", multiplied)
    value, derivative, keras_a, keras_grad = mix_layer_outputs("mix(relu,log_abs_test)",
                                                               Z_NO_ZEROS)
    np.testing.assert_allclose(keras_a, value, rtol=3e-16, atol=0)  # the forward pass is fine
    assert np.isnan(keras_grad[0, 0]) and not np.array_equal(keras_grad, derivative)


@pytest.mark.parametrize("text", ["mix(relu,abs,sin)", "stochastic(relu,abs,sin;every=step)"])
def test_the_layer_compiles_with_xla(text):
    """Static shapes only: XLA (jit_compile, Keras' "auto" on a GPU) can compile it."""
    from keras_impl import tf
    from keras_impl.layers import PerUnitActivation

    layer = PerUnitActivation(text, dtype="float64")
    z = tf.constant(np.random.default_rng(0).normal(size=(5, 9)))
    compiled = tf.function(lambda z: layer(z), jit_compile=True)(z).numpy()
    # XLA's own sin may differ from TensorFlow's by an ulp
    np.testing.assert_allclose(compiled, layer(z).numpy(), rtol=1e-15, atol=0)
    np.testing.assert_allclose(compiled, activations.get(text).value(z.numpy()), rtol=1e-15,
                               atol=0)


def test_twin_a_layer_with_data_dependent_shapes_does_not_compile_with_xla(monkeypatch):
    """The check above can fail: gathering each function's columns and stitching them
    back (group sizes read from the mask at run time) is refused by XLA."""
    from keras_impl import tf
    from keras_impl.layers import PerUnitActivation

    def gather_and_stitch(self, z):
        owner = tf.argmax(self._mask.variable, axis=0, output_type=tf.int32)
        positions, parts = [], []
        for k, f in enumerate(self.functions):
            cols = tf.reshape(tf.where(tf.equal(owner, k)), [-1])
            positions.append(tf.cast(cols, tf.int32))
            parts.append(tf.transpose(f(tf.gather(z, cols, axis=1))))
        return tf.transpose(tf.dynamic_stitch(positions, parts))

    monkeypatch.setattr(PerUnitActivation, "call", gather_and_stitch)
    layer = PerUnitActivation("mix(relu,abs,sin)", dtype="float64")
    z = tf.constant(np.random.default_rng(0).normal(size=(5, 9)))
    np.testing.assert_allclose(layer(z).numpy(), activations.get("mix(relu,abs,sin)").value(
        z.numpy()), rtol=1e-15, atol=0)  # right numbers eagerly ...
    with pytest.raises(Exception, match="compile-time constant"):  # ... but not under XLA
        tf.function(lambda z: layer(z), jit_compile=True)(z)
