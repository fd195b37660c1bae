"""`nn-compare check` names a bug confined to one tensor of a layer, with the tensor and
its factor, and a bug in every tensor of a layer for the layer (compare/check/diagnosis.py).

Each target is a small correct network written as a learner would, with one line
changed; the diagnosis comes from the numbers the file returns, not its text.
"""

import pytest

from compare.check import format_report, load_target, run_check

TARGET = '''
import numpy as np
INPUTS = 6
LAYERS = [(5, "tanh"), (5, "sigmoid"), (3, "softmax")]
LAYOUT = "separate"

def gradients(X, Y, weights):
    W1, b1, W2, b2, W3, b3 = weights
    n = X.shape[0]
    z1 = X @ W1 + b1
    h1 = np.tanh(z1)
    z2 = h1 @ W2 + b2
    h2 = 1 / (1 + np.exp(-z2))
    s = h2 @ W3 + b3
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    d3 = (p - Y) / n
    dW3, db3 = h2.T @ d3, d3.sum(axis=0)
    d2 = (d3 @ W3.T) * h2 * (1 - h2)
    dW2, db2 = h1.T @ d2, d2.sum(axis=0)
    d1 = (d2 @ W2.T) * (1 - h1 ** 2)
    dW1, db1 = X.T @ d1, d1.sum(axis=0)
    {slip}
    return [dW1, db1, dW2, db2, dW3, db3]
'''

BATCH = 12

# (the line slipped in, the label the check must give, the layer it is found at)
SLIPS = [
    ("db3 = -db3", "sign_flipped (b3 only)", 3),
    ("dW2 = 0.5 * dW2", "scaled x0.5 (W2 only)", 2),
    ("dW2 = dW2.T", "transposed (W2 only)", 2),
    ("db2 = db2 * n", "sum_not_mean (b2 only)", 2),
    ("db1 = db1 / n", "mean_twice (b1 only)", 1),
    ("db1 = np.zeros_like(db1)", "missing (b1 only)", 1),
    ("dW2, db2 = 3 * dW2, 3 * db2", "scaled x3 (layer 2)", 2),
    ("dW3, db3 = -dW3, -db3", "sign_flipped (layer 3)", 3),
]


def check(tmp_path, slip):
    path = tmp_path / "slipped.py"
    path.write_text(TARGET.replace("{slip}", slip))
    return run_check(load_target(path), batch=BATCH, seed=0, finite_differences=False)


@pytest.mark.parametrize("slip, label, layer", SLIPS, ids=[case[1] for case in SLIPS])
def test_single_tensor_and_whole_layer_bugs_are_named(tmp_path, slip, label, layer):
    result = check(tmp_path, slip)
    assert not result.agree
    assert [(f.layer, f.label) for f in result.diagnosis.findings] == [(layer, label)]
    assert result.diagnosis.unexplained is None
    assert f"layer {layer}: {label}:" in format_report(result)
    assert result.to_dict()["diagnosis"][0]["label"] == label


def test_the_correct_twin_names_nothing(tmp_path):
    result = check(tmp_path, "pass")
    assert result.agree and result.diagnosis.findings == []


def test_an_unlisted_slip_in_one_tensor_is_not_named(tmp_path):
    """One bias entry off: no factor reproduces it, so no diagnosis is invented."""
    result = check(tmp_path, "db2 = db2 + np.eye(5)[0]")
    assert not result.agree
    assert result.diagnosis.findings == [] and result.diagnosis.unexplained == 2
