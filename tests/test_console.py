"""What the console says: one error prefix, no abbreviated options, "did you mean",
grouped --help, tables and notes within 120 columns, one wording for verdicts.
Every case here fails before anything trains (milliseconds), except those marked slow."""

from __future__ import annotations

import pytest

from handrolled.errors import SpecError, did_you_mean, unknown


def error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("args, expected", [
    (["train", "--epoch", "3"], "unrecognized arguments: --epoch 3 (did you mean '--epochs'?)"),
    (["trian"], "invalid choice: 'trian' (did you mean 'train'?); accepted: gradients, "),
    (["train", "--preset", "bok"], "invalid choice: 'bok' (did you mean 'book'?); accepted: "),
    (["gradients", "--no-fdd"], "unrecognized arguments: --no-fdd (did you mean '--no-fd'?)"),
    (["gradients", "--hidden", "8:rleu", "--dataset", "synthetic"],
     "unknown activation 'rleu' (did you mean 'relu'?); accepted: "),
    (["gradients", "--hidden", "convv(4,3),flatten", "--dataset", "synthetic"],
     "unknown layer 'convv' (did you mean 'conv'?); accepted: "),
])
def test_a_typo_is_one_line_exit_2_with_a_suggestion(cli, args, expected):
    """argparse's own errors and the registries' read the same way: 'nn-compare: error: '
    (never 'nn-compare train: error:'), one line, exit 2, the closest name suggested."""
    code, out, err = cli(*args)
    line = error_line(err)
    assert code == 2 and out == "" and line.startswith("nn-compare: error: "), err
    assert expected in line, line


def test_options_are_not_abbreviated(cli):
    """The twin of the --epoch case: without allow_abbrev=False, '--epoch' was '--epochs'
    and '--hid' was '--hidden'."""
    from compare.cli import build_parser

    for command in build_parser().commands.values():
        assert command.allow_abbrev is False, command.prog
    code, _, err = cli("gradients", "--hid", "8:relu", "--dataset", "synthetic")
    assert code == 2 and "unrecognized arguments: --hid" in error_line(err)


def test_a_far_off_name_gets_no_suggestion():
    """did_you_mean suggests only what is close: the twin of the suggestions above."""
    assert did_you_mean("rleu", ["relu", "tanh"]) == " (did you mean 'relu'?)"
    assert did_you_mean("RELU ", ["relu", "tanh"]) == " (did you mean 'relu'?)"
    assert did_you_mean("quux", ["relu", "tanh"]) == ""
    error = unknown("activation", "quux", ["relu", "tanh"])
    assert isinstance(error, SpecError)
    assert str(error) == "unknown activation 'quux'; accepted: relu, tanh"


def test_help_groups_the_options(cli):
    code, out, _ = cli("train", "--help")
    assert code == 0
    headings = [line[:-1] for line in out.splitlines() if line.endswith(":") and
                not line.startswith(" ")]
    assert headings == ["options", "network", "data", "training", "output", "run"], headings
    network = out[out.index("\nnetwork:"):out.index("\ndata:")]
    assert "--hidden" in network and "--epochs" not in network
