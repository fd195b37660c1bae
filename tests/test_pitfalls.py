"""The usual pitfalls of hand-written Dropout, BatchNormalization and regularizers.

The right network agrees with Keras to 1e-9 over three epochs (loss at every
step, final weights and moving statistics); each pitfall, one thing done the
way people often write it, is a failing twin: DISAGREE.
"""

import pytest

from compare import pitfalls
from handrolled import NetworkSpec


@pytest.fixture(scope="module")
def data():
    from training_blobs import blobs

    return blobs(train=160, test=48, inputs=12, classes=4)


def run(name, data, epochs=2):
    pitfall = next(p for p in pitfalls.PITFALLS if p.name == name)
    spec = NetworkSpec.from_text(pitfalls.SPEC.replace("64", "16").replace("32", "8"),
                                 inputs=12, classes=4)
    return pitfalls.run_pitfall(pitfall, spec, data, epochs=epochs, batch=16, lr=0.1, seed=0)


def test_the_right_network_agrees_step_by_step_with_keras(data):
    result = run("right", data, epochs=3)
    assert result.agree and result.verdict in ("identical", "agree within round-off")
    assert result.max_loss_diff <= 1e-9 and result.max_weight_diff <= 1e-9
    assert result.max_state_diff <= 1e-9
    assert result.handrolled.test_accuracy == result.keras.test_accuracy


# the first pitfall in `make test`, the others in `make slow-tests` (about 5 s each)
@pytest.mark.parametrize("name", [
    pytest.param(p.name, marks=() if index == 0 else pytest.mark.slow)
    for index, p in enumerate(p for p in pitfalls.PITFALLS if p.name != "right")])
def test_each_pitfall_disagrees(data, name):
    result = run(name, data)
    assert not result.agree and result.verdict.startswith("disagree from step ")


def test_a_pitfall_changes_its_own_network_only():
    """activity_not_per_row gives the patched network other conventions (a new value);
    the spec, and every network built from it afterwards, keep the spec's."""
    from handrolled import Network

    spec = NetworkSpec.from_text(pitfalls.SPEC.replace("64", "4").replace("32", "3"),
                                 inputs=5, classes=3)
    patched = Network(spec)
    pitfall = next(p for p in pitfalls.PITFALLS if p.name == "activity_not_per_row")
    pitfall.patch(patched)
    assert not patched.conventions.activity_per_row
    assert spec.conventions.activity_per_row and Network(spec).conventions.activity_per_row


@pytest.mark.slow  # each pitfall is also its own (fast) test below; this is the whole command
def test_the_command_prints_every_pitfall(cli, tmp_path):
    out = tmp_path / "p.json"
    code, stdout, err = cli("pitfalls", "--train-rows", "64", "--batch", "16", "--json", str(out))
    assert code == 0, err
    for name in pitfalls.NAMES:
        assert name in stdout
    assert max(map(len, stdout.splitlines())) <= 120, stdout  # explanations below the table
    assert stdout.rstrip().splitlines()[-1].startswith("verdict: AGREE (the right network")
    import json

    rows = json.loads(out.read_text())["rows"]
    verdicts = [r["verdict"].split(" from step")[0] for r in rows]
    assert verdicts == [rows[0]["verdict"]] + ["disagree"] * (len(rows) - 1)
    assert rows[0]["verdict"] in ("identical", "agree within round-off")
    code, _, err = cli("pitfalls", "--train-rows", "999999")
    assert code == 2 and err.count("\n") == 1 and "accepted: 1 to 4000" in err
