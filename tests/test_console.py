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
    and '--hid' was '--hidden' (the old name of --layers)."""
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
    assert "--layers" in network and "--epochs" not in network


# ------------------------------------------------------------------ wording

def test_verdicts_read_as_the_check_reports_do():
    from compare.training.verdict import shown

    assert shown("identical") == "AGREE (identical)"
    assert shown("agree within round-off") == "AGREE (within round-off)"
    assert shown("disagree from step 3 (epoch 1)") == "DISAGREE from step 3 (epoch 1)"
    assert shown("training diverged on both sides at epoch 1, step 2; try a learning rate "
                 "below 0.1").startswith("TRAINING DIVERGED on both sides at epoch 1")


def test_without_finite_differences_the_tolerance_names_none():
    from compare.gradient_table import finite_differences_ran
    from compare.tolerances import TOLERANCES

    tolerance = TOLERANCES["float64"]
    assert "finite differences" in tolerance.describe()  # the twin: with them, it does
    assert "finite" not in tolerance.describe(finite_differences=False)
    row = {"fd_max_rel_diff": None, "fd_kinks": 0}
    assert not finite_differences_ran([row, row])          # --no-fd
    assert finite_differences_ran([row, dict(row, fd_kinks=2)])  # every probe at a kink
    assert finite_differences_ran([dict(row, fd_max_rel_diff=1e-9)])


def test_tensorflows_unset_pools_are_not_called_zero_threads():
    """--from-keras starts TensorFlow before the policy: its pools read 0, 'not set'."""
    from compare.threads import ThreadPolicy

    kept = ThreadPolicy(1, 0, 0, "measured", {1: 1e-4, 2: 2e-4}, tensorflow_applied=False)
    text = kept.describe()
    assert "0 intra-op" not in text and "0 inter-op" not in text, text
    assert "TensorFlow's default intra-op and inter-op pools" in text
    assert "TensorFlow 2 intra-op, 1 inter-op" in ThreadPolicy(1, 2, 1, "--threads").describe()


def test_a_bug_in_the_output_layer_is_not_blamed_on_the_layers_above():
    from types import SimpleNamespace

    from compare.check.report import _localisation

    rows = [SimpleNamespace(layer=layer) for layer in (1, 2, 3)]

    def said(layer):
        first = SimpleNamespace(layer=layer, param="W")
        return _localisation(SimpleNamespace(first_mismatch=first, rows=rows,
                                             forward=SimpleNamespace(agree=True)))

    assert "this is the output layer" in said(3) and "above" not in said(3)
    assert "every layer above is right" in said(2)  # a hidden layer: those above agree


# ------------------------------------------------------------------ progress

def test_each_run_gets_its_own_bar_and_no_estimate_before_an_epoch(capsys):
    """The bar of `train`: a Keras epoch is ~100 hand-written ones, so one bar over both
    sides guessed 01:41 for a 12 s run; each run's bar times its own epochs."""
    from types import SimpleNamespace

    from compare import console
    from compare.commands.train import ProgressBar

    console.set_quiet(False)
    history = SimpleNamespace(loss=[0.5], test_accuracy=[0.9])
    with ProgressBar(3, quiet=False) as progress:
        progress.begin("handrolled")
        assert progress.bar.n == 0 and progress.bar.total == 3
        for epoch in range(3):
            progress("handrolled", epoch, history)
        assert progress.bar is None  # the run is done: its bar is gone
        progress.begin("keras")
        first = progress.bar.start_t
        assert progress.bar.n == 0 and "keras epoch 1" in progress.bar.desc
        progress("keras", 0, history)
        assert progress.bar.start_t == first and "keras epoch 2" in progress.bar.desc
    err = capsys.readouterr().err
    assert "handrolled epoch 1: " in err and "0/3 [00:00, left=?]" in err  # no guess yet


def test_the_estimate_leaves_out_a_first_epoch_that_traced_the_graph():
    from compare.console import time_left

    assert time_left([], 5) == "?"
    assert time_left([4.0], 2) == "~00:08"             # one epoch: all there is to go by
    assert time_left([30.0, 1.0, 1.2, 0.9], 10) == "~00:10"  # Keras: tracing in the first
    assert time_left([1.0, 1.0, 1.0], 0) == "~00:00"


def test_quiet_silences_lines_and_bars(capsys):
    from compare import console

    console.set_quiet(True)
    try:
        console.say("starting")
        with console.waiting("waiting"), console.bar(2, "step") as bar:
            bar.update(2)
    finally:
        console.set_quiet(False)
    assert capsys.readouterr().err == ""
    with console.waiting("starting Keras"):  # the twin: not quiet, a line at once
        pass
    assert capsys.readouterr().err == "starting Keras ...\n"


@pytest.mark.parametrize("choices", ["'book', 'book-ch16', 'default'",   # Python 3.11
                                     "book, book-ch16, default"])        # later releases
def test_a_suggestion_whatever_argparses_choice_list_looks_like(choices):
    from compare.cli import _suggested, build_parser

    message = f"argument --preset: invalid choice: 'bok' (choose from {choices})"
    assert _suggested(message, build_parser().commands["train"]) == (
        "argument --preset: invalid choice: 'bok' (did you mean 'book'?); "
        "accepted: book, book-ch16, default")


def test_the_gradient_table_fits_120_columns_and_names_no_unrun_witness():
    """`nn-compare gradients --no-fd` on a deep network: the header wrapped, no 'finite
    differences' in the tolerance line; the twin: with them, they are named."""
    from dataclasses import dataclass
    from types import SimpleNamespace

    from compare.gradient_table import gradient_table
    from compare.tolerances import TOLERANCES

    @dataclass
    class Row:  # the fields of compare.gradients.GradientRow (which imports TensorFlow)
        layer: str
        param: str
        shape: tuple
        max_abs_diff: float
        max_rel_diff: float
        fd_max_rel_diff: float | None
        fd_kinks: int
        agree: bool
        limit: float | None = None

        @property
        def name(self):
            return f"{self.layer}/{self.param}"

    layers = ",".join(["conv(8,3,relu)", "maxpool(2)", "flatten"] + ["dense(32,relu)"] * 6)
    spec = SimpleNamespace(describe=lambda: f"28x28x1-{layers}-10", dtype="float64", seed=0)

    def table(fd):
        rows = [Row("dense1", "kernel", (32, 32), 1e-17, 1e-14, fd, 0, True)]
        return gradient_table(SimpleNamespace(
            spec=spec, rows=rows, tolerance=TOLERANCES["float64"], agree=True, batch=32,
            loss_handrolled=2.3, loss_keras=2.3, data="a seeded synthetic batch of 32 rows"))

    without, with_fd = table(None), table(1e-9)
    assert max(map(len, without.splitlines())) <= 120 and "seed 0" in without, without
    assert "finite" not in without and "handrolled vs finite differences" in with_fd


@pytest.mark.slow
def test_start_keras_imports_keras_under_its_line():
    """The keras_impl package is lazy: the line must cover the real import, not an empty one
    (the twin: importing the package alone leaves Keras unimported)."""
    import subprocess
    import sys

    probe = ("import sys\nfrom compare import console\n{call}\n"
             "print('keras' in sys.modules)")
    for call, imported in (("console.start_keras()", "True"), ("import keras_impl", "False")):
        done = subprocess.run([sys.executable, "-c", probe.format(call=call)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and done.stdout.split()[-1] == imported, done.stderr


def test_the_sweep_table_fits_with_the_longest_activation_text():
    """Twin: the table before its two-line headers and joined seconds (one line per
    header word, two seconds columns) was 125 columns wide on the same rows."""
    from tabulate import tabulate

    from compare.console import WIDTH
    from compare.sweep import summary

    row = {"activation": "stochastic(relu,abs,sin;every=epoch)", "depth": 1, "lr": 0.1,
           "handrolled_mean": 0.9077, "handrolled_std": 0.0021, "keras_mean": 0.9077,
           "keras_std": 0.0021, "max_accuracy_diff": 0.0, "agree": 3, "seeds": 3,
           "handrolled_seconds": 11.34, "keras_seconds": 22.14, "evaluation": None}
    assert max(map(len, summary.table([row]).splitlines())) <= WIDTH
    old = tabulate([["stochastic(relu,abs,sin;every=epoch)", "1", "0.1", "90.77 ± 0.21",
                     "90.77 ± 0.21", "0.00", "3/3", "11.34", "22.14"]],
                   headers=["activation", "depth", "lr", "handrolled acc %", "keras acc %",
                            "max |diff| pts", "agree", "handrolled s", "keras s"],
                   disable_numparse=True)
    assert max(map(len, old.splitlines())) > WIDTH
