"""User activations: written once against xp, usable by name on both sides,
checked against autodiff; loaded from the command line."""

from pathlib import Path

import numpy as np
import pytest

from handrolled import NetworkSpec, SpecError, activations, init_weights

EXAMPLE = str(Path(__file__).resolve().parents[1] / "examples" / "my_activations.py")


def square_plus(z, xp):
    return (z + xp.sqrt(z * z + 4)) / 2


def square_plus_derivative(z, a):
    return (1 + z / np.sqrt(z * z + 4)) / 2


def test_registered_function_works_by_name_on_both_sides(clean_registry):
    import keras_impl
    from compare.gradients import compare_gradients

    activations.register_user_activation("square_plus", square_plus, square_plus_derivative)
    assert keras_impl.activations.names() == activations.names()
    spec = NetworkSpec.from_text("6:square_plus,5:mix(square_plus,relu)", inputs=4, classes=3)
    X = np.random.default_rng(0).normal(size=(12, 4))
    Y = np.eye(3)[np.arange(12) % 3]
    result = compare_gradients(spec, init_weights(spec), X, Y)
    assert result.agree and max(r.max_rel_diff for r in result.rows) <= 1e-12


def test_a_wrong_hand_written_derivative_is_caught(clean_registry):
    """Twin: the same checks with a derivative that is off by a factor."""
    from compare.activation_check import check_activation
    from compare.gradients import compare_gradients

    activations.register_user_activation("square_plus", square_plus,
                                         lambda z, a: 1 + z / np.sqrt(z * z + 4))
    row = check_activation("square_plus")
    assert not row.agree and row.keras_max_rel_diff > 0.1
    spec = NetworkSpec.from_text("6:square_plus", inputs=4, classes=3)
    X = np.random.default_rng(0).normal(size=(12, 4))
    assert not compare_gradients(spec, init_weights(spec), X, np.eye(3)[np.arange(12) % 3]).agree


@pytest.mark.parametrize("function,derivative,message", [
    (lambda z, xp: xp.sum(z), lambda z, a: z, "returns shape \\(\\) for input shape \\(3, 4\\)"),
    (lambda z, xp: z, lambda z, a: z[0], "derivative of user activation 'bad' returns shape")])
def test_wrong_shapes_are_refused_at_registration(clean_registry, function, derivative, message):
    with pytest.raises(SpecError, match=message):
        activations.register_user_activation("bad", function, derivative)
    assert "bad" not in activations.names()


def test_names_are_checked(clean_registry):
    with pytest.raises(SpecError, match="already exists"):
        activations.register_user_activation("relu", square_plus, square_plus_derivative)
    with pytest.raises(SpecError, match="not a Python identifier"):
        activations.register_user_activation("my act", square_plus, square_plus_derivative)


@pytest.mark.slow  # a second TensorFlow, in the activation module's process
def test_cli_checks_the_example_file(cli, clean_registry):
    code, out, err = cli("activations", "--activation-module", EXAMPLE)
    assert code == 0, err
    assert "softsign" in out and "bent_identity" in out and "verdict: AGREE" in out


@pytest.mark.slow  # a second TensorFlow, in the activation module's process
def test_cli_reports_a_disagreeing_derivative_row(cli, clean_registry, tmp_path):
    module = tmp_path / "wrong.py"
    module.write_text("import numpy as np\n"
                      "from handrolled.activations import register_user_activation\n"
                      "register_user_activation('cube', lambda z, xp: z * z * z,\n"
                      "                         lambda z, a: 3 * z)  # should be 3 z^2\n")
    code, out, err = cli("activations", "--activation-module", str(module))
    assert code == 1
    assert "cube" in out and "NO" in out and "verdict: DISAGREE" in out


@pytest.mark.slow  # a second TensorFlow, in the activation module's process
def test_cli_uses_user_activations_in_other_commands(cli, clean_registry):
    code, out, err = cli("gradients", "--activation-module", EXAMPLE, "--hidden",
                         "16:softsign,8:mix(bent_identity,hard_tanh)", "--batch", "8")
    assert code == 0, err
    assert "softsign" in out and "verdict: AGREE" in out


def test_import_error_shows_the_users_traceback_and_exits_2(cli, clean_registry, tmp_path):
    module = tmp_path / "broken.py"
    module.write_text("import numpy as np\n\ndef f(z, xp):\n    return z\n\nraise RuntimeError("
                      "'oops in my file')\n")
    code, out, err = cli("gradients", "--activation-module", str(module))
    assert code == 2
    assert "Traceback" in err and "broken.py" in err and "oops in my file" in err
    assert err.strip().splitlines()[-1].startswith("nn-compare: error: activation module")


def test_wrong_shape_in_a_module_is_one_line(cli, clean_registry, tmp_path):
    module = tmp_path / "shape.py"
    module.write_text("from handrolled.activations import register_user_activation\n"
                      "register_user_activation('total', lambda z, xp: xp.sum(z, axis=1),\n"
                      "                         lambda z, a: z)\n")
    code, out, err = cli("gradients", "--activation-module", str(module))
    assert code == 2
    assert err.count("\n") == 1 and "returns shape (3,)" in err and "Traceback" not in err


def test_missing_module_file_is_one_line(cli):
    code, out, err = cli("activations", "--activation-module", "/nonexistent/acts.py")
    assert code == 2 and "does not exist" in err and err.count("\n") == 1
