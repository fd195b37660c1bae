"""--layers, the layers before the output layer, and --hidden, its old name (still accepted).

Every command that took --hidden takes --layers; the two parse to the same settings and give
the same run (convolutions included); --help shows --layers only.  The twin: another network
given with either flag gives another run, so the comparison can fail."""

from __future__ import annotations

import pytest

from compare.cli import build_parser, parse
from test_cli_bad_input import idx_dir  # noqa: F401 (a fixture: 30 train rows of 4x3 pixels)

CONV = "conv(2,2,relu),flatten,dense(3,tanh)"


def commands_with_layers() -> list[str]:
    return [name for name, parser in build_parser().commands.items()
            if "--layers" in parser._option_string_actions]


REQUIRED = {"code": ["--out", "program"]}  # what a command needs besides the layers


def settings(argv: list[str]) -> dict:
    args = vars(parse([*argv, *REQUIRED.get(argv[0], [])]))
    args.pop("run")
    return args


def test_every_command_that_took_hidden_takes_layers():
    for name, parser in build_parser().commands.items():
        options = parser._option_string_actions
        assert ("--hidden" in options) == ("--layers" in options), name
    assert set(commands_with_layers()) >= {"gradients", "train", "report", "code", "bench"}


@pytest.mark.parametrize("command", commands_with_layers())
def test_layers_and_hidden_parse_to_the_same_settings(command):
    new = settings([command, "--layers", CONV])
    assert new == settings([command, "--hidden", CONV])
    assert new != settings([command, "--layers", "3:relu"])  # the twin: the value is read


def test_help_shows_layers_not_the_old_name(cli):
    code, out, _ = cli("gradients", "--help")
    assert code == 0 and "--layers SPEC" in out and "--hidden is its old name" in out
    assert "--hidden SPEC" not in out


def gradients_stdout(cli, idx_dir, flag: str, layers: str) -> str:
    code, out, err = cli("gradients", flag, layers, "--no-fd", "--dataset", f"idx:{idx_dir}",
                         "--batch", "8", "--quiet")
    assert code == 0, err
    return out


@pytest.mark.slow  # three runs through Keras (TensorFlow imported, three models built)
def test_layers_and_hidden_give_the_same_run(cli, idx_dir):
    """A tiny CNN on 4x3 images, one batch, no finite differences: the whole table."""
    by_layers = gradients_stdout(cli, idx_dir, "--layers", CONV)
    assert "conv(2,2,relu)-flatten-dense(3,tanh)" in by_layers
    assert "verdict: AGREE" in by_layers
    assert gradients_stdout(cli, idx_dir, "--hidden", CONV) == by_layers
    other = gradients_stdout(cli, idx_dir, "--hidden", "conv(2,2,relu),flatten,dense(4,tanh)")
    assert other != by_layers  # the twin: a different network is a different run


def test_from_keras_names_the_new_flag(cli, tmp_path):
    code, _, err = cli("gradients", "--from-keras", str(tmp_path / "m.keras"), "--hidden", "3:relu")
    assert code == 2 and "leave out --layers" in err


def test_network_spec_body_and_its_old_name():
    from handrolled import NetworkSpec

    spec = NetworkSpec.from_text(CONV, inputs=(4, 3, 1))
    assert spec.hidden is spec.body and spec.hidden_text == spec.body_text == CONV
    assert [layer.kind for layer in spec.body] == ["conv", "flatten", "dense"]
    assert spec.layers[:-1] == spec.body  # the output layer comes after the body
