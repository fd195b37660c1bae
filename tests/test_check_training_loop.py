"""Training-loop targets (compare/check/training_loop_kind.py) against Keras' fit.

A book-style bias-row loop with SGD and a class-per-layer network with a hand-written
Adam agree; each named bug of the loop (the update before the gradient is finished, a
learning rate off by a factor, momentum as an average, Adam's step counter, Adam's bias
correction) is named in the text and the JSON; textbook Adam and PyTorch's momentum are
conventions (exit 0).  Small networks, 8 steps of 16 synthetic rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compare.check.errors import TargetError
from compare.check.kinds import CheckOptions, run_check_file
from compare.testing import assert_training_matches_keras

TARGETS = Path(__file__).parent / "targets" / "training"
OPTIONS = dict(dataset="synthetic", batch=16, steps=8)

AGREE = {"book_sgd": set(), "layers_adam": {"exact_hyperparameters"},
         "layers_adam_textbook": {"textbook_epsilon"},
         "book_momentum_pytorch": {"exact_hyperparameters"}}
BUGS = {"book_sgd_update_too_early": "update_before_gradient",
        "book_sgd_lr_factor": "learning_rate_factor",
        "layers_adam_step_off_by_one": "step_counter_off_by_one",
        "layers_adam_no_bias_correction": "bias_correction_missing",
        "book_momentum_averaged": "momentum_averaged"}
FAST = {"book_sgd", "layers_adam_textbook", "book_sgd_update_too_early",
        "layers_adam_step_off_by_one"}


def check(name, **options):
    return run_check_file(TARGETS / f"{name}.py", CheckOptions(**dict(OPTIONS, **options)))


def maybe_slow(names):
    return [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in sorted(names)]


@pytest.mark.parametrize("name", maybe_slow(AGREE))
def test_correct_loop_agrees(name):
    outcome = check(name)
    data = outcome.to_dict()
    assert outcome.agree and data["diagnosis"] == [], outcome.format()
    assert {c["name"] for c in data["conventions"]} == AGREE[name]
    assert "verdict: AGREE" in outcome.format()
    if name == "book_sgd":  # the book's plain SGD does fit's arithmetic: identical
        assert data["verdict"]["text"] == "identical"
    if name == "layers_adam_textbook":  # the documented convention, exit 0
        text = " ".join(outcome.format().split())
        assert "agrees with Adam as written in Kingma & Ba" in text and "at step 1" in text


@pytest.mark.parametrize("name", maybe_slow(BUGS))
def test_each_named_bug_is_named(name):
    outcome = check(name)
    data = outcome.to_dict()
    assert not outcome.agree and not data["agree"]
    assert [d["bug"] for d in data["diagnosis"]] == [BUGS[name]], outcome.format()
    assert "verdict: DISAGREE" in outcome.format()
    assert data["verdict"]["first_step"] == 1


@pytest.mark.slow
def test_assert_training_matches_keras_and_its_twin():
    assert assert_training_matches_keras(TARGETS / "book_sgd.py", **OPTIONS).agree
    with pytest.raises(AssertionError, match="updated before the delta is passed down"):
        assert_training_matches_keras(TARGETS / "book_sgd_update_too_early.py", **OPTIONS)


def test_nan_loss_is_one_line(tmp_path):
    source = (TARGETS / "book_sgd.py").read_text().replace("return [w1, w2], state, loss",
                                                           "return [w1, w2], state, loss * np.nan")
    path = tmp_path / "nan_loop.py"
    path.write_text(source)
    with pytest.raises(TargetError, match="NaN or inf") as error:
        run_check_file(path, CheckOptions(**OPTIONS))
    assert "\n" not in str(error.value)


BAD = {
    "transposed": ("return [w1, w2], state, loss", "return [w1.T, w2], state, loss", "shapes"),
    "exit": ("    w1, w2 = weights\n", "    w1, w2 = weights\n    import sys; sys.exit(1)\n",
             "sys.exit"),
    "complex": ("return [w1, w2], state, loss", "return [w1 + 0j, w2], state, loss", "complex"),
    "two_values": ("return [w1, w2], state, loss", "return [w1, w2], loss", "train_step"),
    "no_optimizer": ('OPTIMIZER = "sgd(learning_rate=0.5)"\n', "", "OPTIMIZER"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_unusable_loop_is_one_line(case, tmp_path):
    old, new, words = BAD[case]
    source = (TARGETS / "book_sgd.py").read_text()
    assert old in source
    path = tmp_path / f"{case}.py"
    path.write_text(source.replace(old, new))
    with pytest.raises(TargetError) as error:
        run_check_file(path, CheckOptions(**OPTIONS))
    message = str(error.value)
    assert "\n" not in message and words.lower() in message.lower(), message


@pytest.mark.slow
def test_float32_loop_agrees_and_its_twin_is_named():
    """--dtype float32: the same loop in float32 against fit in float32, the band from the
    project's loop in float32."""
    good = check("book_sgd", dtype="float32")
    assert good.agree and good.to_dict()["dtype"] == "float32"
    bad = check("book_sgd_update_too_early", dtype="float32")
    assert not bad.agree
    assert [d["bug"] for d in bad.to_dict()["diagnosis"]] == ["update_before_gradient"]
