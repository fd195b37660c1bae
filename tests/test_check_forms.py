"""`nn-compare check` on the forms real hand-written networks take (issue 20).

Each correct target in tests/targets/forms/ (written for these tests, in the styles of
the book, Nielsen, CS231n, class-per-layer code, per-sample loops) agrees with Keras in
float64 with no diagnosis; each has failing twins, made by one textual change, whose bug
is named; a target that leaves a convention undeclared agrees and is told to declare it;
an unusable declaration is one line, exit 2.
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from compare.check import TargetError, format_report, load_target, run_check
from compare.check.target import read_layout, read_network

FORMS = Path(__file__).resolve().parent / "targets" / "forms"


def check(path, fd=False, **options):
    with load_target(path) as target:  # the user's code runs in its own process
        return run_check(target, dataset="synthetic", batch=8, seed=0,
                         finite_differences=fd, **options)


def variant(tmp_path, name, *replacements):
    """The target `name` with each (old, new) replaced once (the old text must occur)."""
    source = (FORMS / name).read_text()
    for old, new in replacements:
        assert source.count(old) >= 1, old
        source = source.replace(old, new)
    path = tmp_path / name
    path.write_text(source)
    return path


CORRECT = ["book_bias_row_l2.py", "nielsen_column.py", "nielsen_per_sample.py",
           "cs231n_l2.py", "class_layers_l2.py", "bce_sigmoid.py", "summed_loss.py",
           "mse_linear.py"]


@pytest.mark.parametrize("name", CORRECT)
def test_correct_forms_agree_with_no_diagnosis(name):
    result = check(FORMS / name)
    assert result.agree, format_report(result)
    assert result.diagnosis.findings == [] and result.diagnosis.unexplained is None
    assert result.conventions == []
    assert result.tolerance.dtype == "float64"
    if result.forward is not None:
        assert result.forward.agree


@pytest.mark.parametrize("name", ["nielsen_column.py", "cs231n_l2.py"])
def test_the_witness_uses_the_declared_loss(name):
    """Finite differences of the user's forward() with the declared loss and penalty."""
    result = check(FORMS / name, fd=True)
    assert result.agree, format_report(result)
    assert all(row.fd_checks > 0 and row.fd_max_rel_diff <= 1e-6 for row in result.rows)


# ---------------------------------------------------------------- the failing twins

# (target, replacements, the label expected among the findings, its layer)
BUGS = [
    ("cs231n_l2.py", [("dW1 + REG * W1, db1, dW2 + REG * W2", "dW1, db1, dW2")],
     "regularization_missing (W2)", 2),
    ("cs231n_l2.py", [("dW1 + REG * W1", "dW1 + 2 * REG * W1")],
     "regularization_doubled (W1)", 1),
    ("cs231n_l2.py", [("dW2 + REG * W2", "dW2 + REG * W2 / X.shape[0]")],
     "regularization_over_n (W2)", 2),
    ("cs231n_l2.py", [("dW2 + REG * W2", "dW2 + REG * W2 * X.shape[0]")],
     "regularization_times_n (W2)", 2),
    ("class_layers_l2.py", [("2 * self.l2 * self.W", "self.l2 * self.W")],
     "regularization_half (W3)", 3),
    ("class_layers_l2.py", [("self.db = grad.sum(axis=0)",
                             "self.db = grad.sum(axis=0) + 2 * self.l2 * self.b")],
     "regularization_on_biases (b3)", 3),
    ("book_bias_row_l2.py", [("g[1:] += LAMBDA * w[1:]", "g += LAMBDA * w")],
     "regularization_on_biases (b2)", 2),
    ("summed_loss.py", [("delta2 = a - Y", "delta2 = (a - Y) / X.shape[0]")],
     "mean_not_sum (layer 2)", 2),
    ("bce_sigmoid.py", [('LOSS = "binary_crossentropy"',
                         'LOSS = "binary_crossentropy"\nREDUCTION = "mean"'),
                        ("/ Y.size", "/ Y.shape[1]")], "sum_not_mean (layer 2)", 2),
    ("bce_sigmoid.py", [("delta2 = (a - Y) / Y.size", "delta2 = (a - Y) * a * (1 - a) / Y.size")],
     "output_derivative_twice (layer 2)", 2),
    ("nielsen_column.py", [("(activations[-1] - Y) * sigmoid_prime(zs[-1]) / n",
                            "(activations[-1] - Y) / n")],
     "output_derivative_missing (layer 3)", 3),
    ("nielsen_column.py", [("nabla_w[-l] = delta @ activations[-l - 1].T",
                            "nabla_w[-l] = (delta @ activations[-l - 1].T if l != 2 "
                            "else activations[-l - 1] @ delta.T)")],
     "transposed (W2 only)", 2),
    ("mse_linear.py", [("w2[1:].T", "w2[:-1].T")], "bias_row_in_backprop (layer 1)", 1),
    ("nielsen_per_sample.py", [("delta1 = (w2.T @ delta2) * (1 - h ** 2)",
                                "delta1 = w2.T @ delta2")],
     "derivative_missing (layer 1)", 1),
]


@pytest.mark.parametrize("name, replacements, label, layer", BUGS,
                         ids=[case[2].split(" (")[0] + "-" + case[0][:-3] for case in BUGS])
def test_each_bug_is_named(tmp_path, name, replacements, label, layer):
    result = check(variant(tmp_path, name, *replacements))
    assert not result.agree
    assert label in {f.label for f in result.diagnosis.findings}, format_report(result)
    assert result.conventions == []
    assert all(f.layer <= layer for f in result.diagnosis.findings)
    assert label in format_report(result)
    assert "mean_twice" not in {f.bug for f in result.diagnosis.findings}  # a declared sum


def test_the_documented_example_and_its_bug():
    """docs/checking/network.md's example agrees; its bug is named as the page shows."""
    examples = FORMS.parents[2] / "examples"
    assert check(examples / "nielsen_network.py").agree
    result = check(examples / "nielsen_network_bug.py")
    assert [f.label for f in result.diagnosis.findings] == [
        "output_derivative_missing (layer 2)"]


def test_the_issue_case_undeclared_l2_agrees_as_a_convention(tmp_path):
    """A correct two-layer network with 0.5 * reg * sum(W^2) in its loss and nothing
    declared: AGREE, with the fitted declaration, never a backprop bug."""
    path = variant(tmp_path, "cs231n_l2.py", ('REGULARIZATION = "l2(0.01)"', ""))
    result = check(path)
    assert result.agree, format_report(result)
    assert result.diagnosis.findings == []
    (convention,) = result.conventions
    assert convention.name == "REGULARIZATION"
    assert 'agrees with REGULARIZATION = "l2(0.01)"' in convention.message
    text = format_report(result)
    assert "declare it" in text and "verdict: AGREE" in text


def test_undeclared_nielsen_cost_agrees_as_units_sum_and_half(tmp_path):
    path = variant(tmp_path, "nielsen_column.py", ('UNITS = "sum"', ""), ("HALF = True", ""))
    result = check(path)
    assert result.agree, format_report(result)
    assert {c.name for c in result.conventions} == {"UNITS", "HALF"}
    assert "agrees with UNITS = 'sum'" in format_report(result)


def test_undeclared_sum_over_the_batch_is_a_convention_declared_mean_is_a_bug(tmp_path):
    undeclared = check(variant(tmp_path, "summed_loss.py", ('REDUCTION = "sum"', "")))
    assert undeclared.agree and [c.name for c in undeclared.conventions] == ["REDUCTION"]
    declared = check(variant(tmp_path, "summed_loss.py", ('"sum"', '"mean"')))
    assert not declared.agree and declared.conventions == []
    assert "sum_not_mean (layer 2)" in {f.label for f in declared.diagnosis.findings}


def test_a_batch_that_cannot_tell_two_conventions_apart_says_so(tmp_path):
    """UNITS = 'sum' over 8 output units is a factor 8, and so is REDUCTION = 'sum' over
    8 rows: both are named, and another batch size separates them."""
    path = variant(tmp_path, "bce_sigmoid.py", ("(3, \"sigmoid\")", "(8, \"sigmoid\")"),
                   ("/ Y.size", "/ Y.shape[0]"))
    result = check(path)
    assert result.agree
    first, same = result.conventions
    assert first.name in ("UNITS", "REDUCTION") and same.name == "SAME_NUMBERS"
    other = {"UNITS": "REDUCTION", "REDUCTION": "UNITS"}[first.name]
    assert f"{other} = 'sum' gives the same numbers" in same.message
    other = run_check(load_target(path), dataset="synthetic", batch=5, seed=0,
                      finite_differences=False)
    other.target.close()
    assert other.agree and [c.name for c in other.conventions] == ["UNITS"]


PER_LAYER = [('REGULARIZATION = "l2(0.001)"',
              'REGULARIZATION = ["l2(0.001)", "none", "l2(0.002)"]'),
             ("Dense(W2, b2), ReLU(), Dense(W3, b3)",
              "Dense(W2, b2, l2=0.0), ReLU(), Dense(W3, b3, l2=0.002)")]


def test_one_regularizer_per_layer_declared_or_found(tmp_path):
    declared = check(variant(tmp_path, "class_layers_l2.py", *PER_LAYER))
    assert declared.agree and declared.conventions == [], format_report(declared)
    found = check(variant(tmp_path, "class_layers_l2.py", *PER_LAYER[1:],
                          ('REGULARIZATION = "l2(0.001)"', "")))
    assert found.agree and [c.name for c in found.conventions] == ["REGULARIZATION"]
    assert ("REGULARIZATION = ['l2(0.001)', 'none', 'l2(0.002)']"
            in found.conventions[0].message)
    twin = check(variant(tmp_path, "class_layers_l2.py", PER_LAYER[0]))  # code: 0.001 all
    assert not twin.agree
    assert {f.label for f in twin.diagnosis.findings} == {
        "regularization_half (W3)", "L2 term in your gradient, factor fitted (W2)"}


def test_l1_l2_declared_agrees_and_without_its_l1_part_disagrees(tmp_path):
    l1_l2 = [('REGULARIZATION = "l2(0.01)"', 'REGULARIZATION = "l1_l2(0.003,0.01)"'),
             ("dW1 + REG * W1, db1, dW2 + REG * W2",
              "dW1 + REG * W1 + 0.003 * np.sign(W1), db1, dW2 + REG * W2 + 0.003 * np.sign(W2)")]
    result = check(variant(tmp_path, "cs231n_l2.py", *l1_l2))
    assert result.agree and result.diagnosis.findings == [], format_report(result)
    assert not check(variant(tmp_path, "cs231n_l2.py", l1_l2[0])).agree


def test_assert_matches_keras_on_a_form_and_its_twin(tmp_path):
    from compare.testing import assert_matches_keras

    options = dict(dataset="synthetic", batch=8, finite_differences=False)
    assert assert_matches_keras(FORMS / "bce_sigmoid.py", **options).agree
    twin = variant(tmp_path, "bce_sigmoid.py",
                   ("delta2 = (a - Y) / Y.size", "delta2 = (a - Y) * a * (1 - a) / Y.size"))
    with pytest.raises(AssertionError, match=r"output_derivative_twice \(layer 2\)"):
        assert_matches_keras(twin, **options)


def test_a_declared_convention_that_the_code_does_not_keep_disagrees(tmp_path):
    """The twin of the conventions: declaring UNITS = 'sum' on Keras-style code."""
    result = check(variant(tmp_path, "bce_sigmoid.py",
                           ('LOSS = "binary_crossentropy"',
                            'LOSS = "binary_crossentropy"\nUNITS = "sum"')))
    assert not result.agree and result.conventions == []
    assert "units_mean_not_sum (layer 2)" in {f.label for f in result.diagnosis.findings}
    result = check(variant(tmp_path, "bce_sigmoid.py",
                           ('LOSS = "binary_crossentropy"',
                            'LOSS = "binary_crossentropy"\nUNITS = "mean"'),
                           ("/ Y.size", "/ Y.shape[0]")))
    assert not result.agree and result.conventions == []
    assert "units_sum_not_mean (layer 2)" in {f.label for f in result.diagnosis.findings}
    result = check(variant(tmp_path, "nielsen_column.py",
                           ("* sigmoid_prime(zs[-1]) / n", "* sigmoid_prime(zs[-1]) / n * 2")))
    assert "half_missing (layer 3)" in {f.label for f in result.diagnosis.findings}


def test_undeclared_l2_beside_a_real_bug_is_named_not_blamed(tmp_path):
    path = variant(tmp_path, "class_layers_l2.py", ('REGULARIZATION = "l2(0.001)"', ""),
                   ("return grad * (1 - self.out ** 2)", "return grad"))
    result = check(path)
    assert not result.agree
    assert [f.label for f in result.diagnosis.findings] == ["derivative_missing (layer 1)"]
    (convention,) = result.conventions
    assert convention.name == "REGULARIZATION"
    assert convention.message.startswith('layer(s) 3, 2 agree with REGULARIZATION = "l2(0.001)"')


def test_when_nothing_matches_only_the_place_is_said(tmp_path):
    path = variant(tmp_path, "class_layers_l2.py",
                   ("self.dW = self.x.T @ grad + 2 * self.l2 * self.W",
                    "self.dW = self.x.T @ grad + 2 * self.l2 * self.W ** 3"))
    result = check(path)
    assert not result.agree and result.conventions == []
    assert result.diagnosis.findings == []
    assert result.diagnosis.unexplained == 3


# ---------------------------------------------------------------- the command line

def test_cli_text_and_json_name_the_bug(cli, tmp_path):
    path = variant(tmp_path, "bce_sigmoid.py",
                   ("delta2 = (a - Y) / Y.size", "delta2 = (a - Y) * a * (1 - a) / Y.size"))
    json_path = tmp_path / "check.json"
    code, out, _ = cli("check", str(path), "--dataset", "synthetic", "--batch", "8",
                       "--no-fd", "--json", str(json_path))
    assert code == 1 and "verdict: DISAGREE" in out
    assert "output_derivative_twice (layer 2)" in out
    data = json.loads(json_path.read_text())
    assert data["kind"] == "network" and data["agree"] is False
    assert [f["bug"] for f in data["diagnosis"]] == ["output_derivative_twice"]
    assert data["conventions"] == []
    assert data["loss"].startswith("binary_crossentropy, sigmoid output")


def test_cli_convention_exits_0_and_is_in_the_json(cli, tmp_path):
    path = variant(tmp_path, "cs231n_l2.py", ('REGULARIZATION = "l2(0.01)"', ""))
    json_path = tmp_path / "check.json"
    code, out, _ = cli("check", str(path), "--dataset", "synthetic", "--batch", "8",
                       "--no-fd", "--json", str(json_path))
    assert code == 0 and "verdict: AGREE" in out
    data = json.loads(json_path.read_text())
    assert data["diagnosis"] == []
    assert [c["name"] for c in data["conventions"]] == ["REGULARIZATION"]


BCE_LAYERS = [[4, "relu"], [3, "sigmoid"]]  # as UserProcess.declared gives them: lists


@pytest.mark.parametrize("declared, layers, fragment", [
    ({"LOSS": "hinge"}, BCE_LAYERS,
     "LOSS is 'hinge'; accepted: 'categorical_crossentropy' (softmax output), "
     "'binary_crossentropy' (sigmoid outputs) or 'mse'"),
    ({"LOSS": "bce", "UNITS": "all"}, BCE_LAYERS, "UNITS is 'all'; accepted: 'mean' or 'sum'"),
    ({"LOSS": "bce", "HALF": 1}, BCE_LAYERS, "HALF is 1; accepted: False or True"),
    ({"LOSS": "bce", "HALF": True}, BCE_LAYERS, "HALF = True is the 1/2 of the quadratic cost"),
    ({"LOSS": "bce", "REDUCTION": "max"}, BCE_LAYERS, "REDUCTION is 'max'; accepted"),
    ({"LOSS": "bce", "REGULARIZATION": "l3(0.1)"}, BCE_LAYERS,
     "REGULARIZATION: unknown regularizer 'l3'"),
    ({"LOSS": "bce", "REGULARIZATION": ["l2(0.1)"]}, BCE_LAYERS,
     "REGULARIZATION lists 1 regularizers; the network has 2 layers"),
    ({"LOSS": "bce", "REGULARIZATION": 0.1}, BCE_LAYERS, "REGULARIZATION is 0.1; expected"),
    ({"LOSS": "categorical_crossentropy"}, BCE_LAYERS,
     "LOSS 'categorical_crossentropy' needs a softmax output layer"),
    ({}, BCE_LAYERS, "the last layer is 'sigmoid' and LOSS is not declared"),
    ({"LOSS": "mse"}, [[4, "relu"], [3, "softmax"]], "LOSS 'mse' with a softmax output"),
    ({"LOSS": "mse"}, [[4, "relu"], [1, "linear"]], "one output unit is accepted with LOSS "
                                                    "'binary_crossentropy'"),
])
def test_unusable_declarations_are_refused_saying_what_is_accepted(declared, layers, fragment):
    with pytest.raises(TargetError, match=re.escape(fragment)):
        read_network(5, layers, declared)


def test_an_unusable_declaration_is_one_line_exit_2(cli, tmp_path):
    path = variant(tmp_path, "bce_sigmoid.py", ('LOSS = "binary_crossentropy"', 'LOSS = "hinge"'))
    code, out, err = cli("check", str(path), "--dataset", "synthetic")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("nn-compare: error: LOSS is 'hinge'; accepted:"), err


def test_an_unknown_layout_lists_the_accepted_ones():
    with pytest.raises(TargetError, match=re.escape(
            "LAYOUT is 'rows'; accepted: 'bias_row' (one (n_in + 1, n_out) array per layer, "
            "bias in row 0); 'separate'")) as error:
        read_layout("rows")
    assert "'column' (W (n_out, n_in) then b (n_out, 1) per layer" in str(error.value)


@pytest.mark.parametrize("replacements, fragment", [
    ([("    return a\n", "    return a.T\n")],
     "forward returned shape (8, 3); expected (3, 8): one column of outputs per input column"),
    ([("nabla_w[-1] = delta @ activations[-2].T", "nabla_w[-1] = activations[-2] @ delta.T")],
     "W3 (layer 3 weights), has shape (4, 3); expected (3, 4) (transposed: the weight "
     "gradient is delta @ a_prev.T)"),
    ([("nabla_b[-1] = delta.sum(axis=1, keepdims=True)",
       "nabla_b[-1] = delta.sum(axis=1, keepdims=True) * np.nan")], "contains NaN"),
])
def test_the_column_contract_is_one_line_exit_2(cli, tmp_path, replacements, fragment):
    """One line (after the user's own traceback where their code raised), exit 2."""
    code, out, err = cli("check", str(variant(tmp_path, "nielsen_column.py", *replacements)),
                         "--dataset", "synthetic", "--batch", "8")
    assert code == 2 and out == ""
    *traceback, line = err.strip().splitlines()
    assert line.startswith("nn-compare: error: ") and fragment in line, err
    assert not traceback or traceback[0].startswith("Traceback"), err


def test_a_column_bias_without_keepdims_gets_a_hint(tmp_path):
    path = variant(tmp_path, "nielsen_column.py",
                   ("nabla_b[-1] = delta.sum(axis=1, keepdims=True)",
                    "nabla_b[-1] = delta.sum(axis=1)"))
    with pytest.raises(TargetError, match=r"keep b a column: delta.sum\(axis=1, keepdims=True\)"):
        check(path)


def test_layouts_round_trip_the_weights():
    """What the user gets is what the checker means: the column layout is W.T and b[:, None]."""
    with load_target(FORMS / "nielsen_column.py") as target:
        pass
    rng = np.random.default_rng(0)
    params = {f"{kind}{l}": rng.normal(size=shape) for l, (n_in, n_out) in
              enumerate([(5, 4), (4, 4), (4, 3)], start=1)
              for kind, shape in (("W", (n_in, n_out)), ("b", (n_out,)))}
    arrays = target.user_weights(params)
    assert [a.shape for a in arrays] == target.expected_shapes()
    assert np.array_equal(arrays[0], params["W1"].T) and arrays[1].shape == (4, 1)
    back = target.to_params(arrays)
    assert all(np.array_equal(back[name], params[name]) for name in params)
