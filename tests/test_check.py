"""`compare.check`: correct targets agree; each buggy twin is caught, localised and named."""

from pathlib import Path

import numpy as np
import pytest

from handrolled.weights import to_legacy

from compare.check import load_target, run_check
from compare.batch import sample_batch
from handrolled import init_weights

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "tests" / "targets"
EXAMPLES = ROOT / "examples"


def check(path, **options):
    return run_check(load_target(path), batch=32, seed=0, **options)


@pytest.mark.parametrize("path", [
    EXAMPLES / "book_network.py",             # bias_row, one hidden layer, with forward
    TARGETS / "correct_bias_row_deep.py",     # bias_row, three hidden layers
    TARGETS / "correct_separate_one.py",      # separate, one hidden layer, no forward
    TARGETS / "correct_separate_deep.py",     # separate, two hidden layers
    TARGETS / "correct_small_inputs.py",      # 6 inputs, 3 classes: synthetic batch
], ids=lambda p: p.stem)
def test_correct_targets_agree(path):
    result = check(path)
    assert result.agree, [(row.name, row.max_rel_diff) for row in result.rows]
    assert result.first_mismatch is None
    assert result.diagnosis.findings == [] and result.diagnosis.unexplained is None
    if result.forward is not None:
        assert result.forward.agree
        assert all(row.fd_checks > 0 for row in result.rows)


# The failing twins: (file, first mismatching layer and param, the bug expected there,
# the layers where a bug is reported).
BUGGY = [
    (EXAMPLES / "book_network_relu_bug.py", 1, "W", "derivative_of_output", {1}),
    (TARGETS / "bug_derivative_of_output_middle.py", 2, "W", "derivative_of_output", {2}),
    (TARGETS / "bug_relu_ge_every_layer.py", 2, "W", "derivative_of_output", {1, 2}),
    (TARGETS / "bug_derivative_missing.py", 1, "W", "derivative_missing", {1}),
    (TARGETS / "bug_wrong_derivative.py", 1, "W", "wrong_derivative", {1}),
    (TARGETS / "book_tanh_kept_sigmoid_gradient.py", 1, "W", "wrong_derivative", {1}),
    (TARGETS / "book_sum_not_mean_w1.py", 1, "W", "sum_not_mean", {1}),
    (TARGETS / "bug_sum_not_mean_output.py", 3, "W", "sum_not_mean", {3}),
    (TARGETS / "book_sign_flipped.py", 2, "W", "sign_flipped", {2}),
    (TARGETS / "book_bias_row_kept.py", 1, "W", "bias_row_in_backprop", {1}),
    (TARGETS / "bug_transposed.py", 2, "W", "transposed", {2}),
]


@pytest.mark.parametrize("path, layer, param, bug, bug_layers", BUGGY,
                         ids=[case[0].stem for case in BUGGY])
def test_buggy_targets_are_localised_and_named(path, layer, param, bug, bug_layers):
    result = check(path)
    assert not result.agree
    first = result.first_mismatch
    assert (first.layer, first.param) == (layer, param)
    assert {f.layer for f in result.diagnosis.findings} == bug_layers
    assert bug in {f.bug for f in result.diagnosis.findings if f.layer == layer}
    assert result.diagnosis.unexplained is None
    # Gradients above the buggy layer are right, at and below it wrong or inherited.
    assert all(row.agree for row in result.rows if row.layer > layer)


def test_a_bug_above_is_not_blamed_on_the_layers_below():
    result = check(TARGETS / "bug_derivative_of_output_middle.py")
    assert [row.agree for row in result.rows if row.layer == 1] == [False, False]
    assert result.diagnosis.inherited == [1]


def test_only_the_matching_bug_is_named():
    bugs = {f.bug for f in check(TARGETS / "bug_wrong_derivative.py").diagnosis.findings}
    assert bugs == {"wrong_derivative"}
    message = check(TARGETS / "bug_wrong_derivative.py").diagnosis.findings[0].message
    assert "derivative of sigmoid instead of tanh" in message


def test_book_sigmoid_gradient_kept_for_tanh_is_named():
    """sigmoid_gradient(h) = h (1 - h) fed the tanh layer's output: sigmoid's formula."""
    findings = check(TARGETS / "book_tanh_kept_sigmoid_gradient.py").diagnosis.findings
    assert {f.bug for f in findings} == {"wrong_derivative"}
    assert "matches sigmoid's derivative formula, written in terms of the output" in \
        findings[0].message


def test_relu_ge_bug_flags_the_layer_as_linear():
    result = check(EXAMPLES / "book_network_relu_bug.py")
    (stats,) = result.stats
    assert stats.activation == "relu"
    assert stats.derivative_one == 1.0 and stats.derivative_zero == 0.0
    assert stats.behaves_linear
    message = next(f.message for f in result.diagnosis.findings
                   if f.bug == "derivative_of_output")
    assert "`z >= 0`" in message and "as if it were linear" in message


def test_stats_of_a_correct_relu_network_are_the_true_derivative():
    result = check(TARGETS / "correct_separate_deep.py")
    target = load_target(TARGETS / "correct_separate_deep.py")
    X, _, _, _ = sample_batch(target.spec, "mnist-sample", 32, 0)
    params = to_legacy(target.spec, init_weights(target.spec, "book", 0))
    z1 = X @ params["W1"] + params["b1"]  # computed here, independently of the checker
    first = result.stats[0]
    assert first.derivative_zero == pytest.approx(np.mean(z1 <= 0))
    assert first.derivative_zero + first.derivative_one == pytest.approx(1.0)
    assert 0 < first.derivative_zero < 1 and not first.behaves_linear
    assert first.saturated is None  # relu does not saturate
    assert check(EXAMPLES / "book_network.py").stats[0].saturated is not None


def test_bias_averaged_twice_is_named_for_its_tensor():
    """Only b3 is wrong, 1/32 of the right one: named with its tensor and factor."""
    result = check(TARGETS / "bug_bias_mean.py")
    assert not result.agree
    assert (result.first_mismatch.layer, result.first_mismatch.param) == (3, "b")
    assert [(f.layer, f.label) for f in result.diagnosis.findings] == [
        (3, "mean_twice (b3 only)")]
    assert "1/32" in result.diagnosis.findings[0].message
    assert result.diagnosis.unexplained is None


def test_unlisted_bug_is_reported_with_where_it_sits(tmp_path):
    """A bias gradient off in one unit only: no listed bug, so where it sits is said."""
    path = tmp_path / "one_unit.py"
    source = (TARGETS / "bug_bias_mean.py").read_text()
    path.write_text(source.replace("db3 = d3.mean(axis=0)", "db3 = d3.sum(axis=0) + np.eye(10)[3]"))
    result = check(path)
    assert not result.agree and result.diagnosis.findings == []
    assert (result.first_mismatch.layer, result.first_mismatch.param) == (3, "b")
    assert result.diagnosis.unexplained == 3
    text = " ".join(result.unexplained)
    assert "none of the listed bugs" in text
    assert "only the bias gradient differs" in text and "unit(s) 3 (100%" in text


def test_forward_bug_is_reported_as_forward():
    result = check(TARGETS / "bug_forward_sigmoid.py")
    assert result.forward is not None and not result.forward.agree
    assert result.first_mismatch.layer == 2
    assert any("finite differences of your own forward()" in note for note in result.notes)


UNLISTED_HIDDEN = '''
import numpy as np
INPUTS = 784
LAYERS = [(12, "relu"), (10, "softmax")]
LAYOUT = "separate"

def gradients(X, Y, weights):
    W1, b1, W2, b2 = weights
    z1 = X @ W1 + b1
    h = np.maximum(z1, 0)
    s = h @ W2 + b2
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    d2 = (p - Y) / len(X)
    d1 = (d2 @ W2.T) * (z1 > 0.1)         # a threshold nobody lists
    return [X.T @ d1, d1.sum(0), h.T @ d2, d2.sum(0)]
'''


def test_effective_derivative_is_recovered_when_no_bug_matches(tmp_path):
    path = tmp_path / "threshold.py"
    path.write_text(UNLISTED_HIDDEN)
    result = check(path)
    assert result.diagnosis.unexplained == 1
    target = load_target(path)
    X, _, _, _ = sample_batch(target.spec, "mnist-sample", 32, 0)
    params = to_legacy(target.spec, init_weights(target.spec, "book", 0))
    z1 = X @ params["W1"] + params["b1"]
    (stats,) = result.stats
    assert stats.derivative_source == "recovered"
    assert stats.derivative_zero == pytest.approx(np.mean(z1 <= 0.1), abs=0.02)


def test_same_seed_same_numbers():
    first = check(TARGETS / "bug_transposed.py").to_dict()
    second = check(TARGETS / "bug_transposed.py").to_dict()
    assert first == second
