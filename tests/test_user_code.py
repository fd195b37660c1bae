"""User code stays inside its contract: what it raises (sys.exit, KeyboardInterrupt
included) is reported as what it is, a real Ctrl-C still interrupts, a user activation
is checked on the real batch shape, gradients must be real floating-point numbers, and
a result never overwrites an input.  The one-line messages themselves are in the
bad-input table of docs/reference/errors.md (tests/bad_input_cases.py)."""

from __future__ import annotations

import argparse
import os
import signal
import time

import numpy as np
import pytest

from handrolled import NetworkSpec, SpecError
from handrolled.activations import UserActivation, check_user_activations
from handrolled.usercode import marking_interrupts

Z = np.linspace(-1.0, 1.0, 12).reshape(3, 4)


def activation(function) -> UserActivation:
    return UserActivation("mine", function, lambda z, a: np.ones_like(z))


def raises_keyboard_interrupt(z, xp):
    raise KeyboardInterrupt


def presses_ctrl_c(z, xp):
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)  # the signal arrives long before this ends
    return z


def test_keyboard_interrupt_raised_by_user_code_is_a_one_line_error():
    with marking_interrupts(), pytest.raises(SpecError, match="raised KeyboardInterrupt "
                                                              "itself"):
        activation(raises_keyboard_interrupt).value(Z)


def test_a_real_ctrl_c_inside_user_code_still_interrupts():  # the twin
    previous = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), marking_interrupts():
        activation(presses_ctrl_c).value(Z)
    assert signal.getsignal(signal.SIGINT) is previous  # the handler is put back


def test_outside_the_command_line_a_keyboard_interrupt_cannot_be_told_apart():
    with pytest.raises(KeyboardInterrupt):  # no marking: Python's own rule
        activation(raises_keyboard_interrupt).value(Z)


def test_sys_exit_in_a_user_activation_is_a_one_line_error():
    def exits(z, xp):
        raise SystemExit(0)

    with pytest.raises(SpecError, match=r"its function called sys.exit\(0\)"):
        activation(exits).value(Z)


def wrong_beyond_three_rows(z, xp):
    return z if z.shape[0] <= 3 else z[:, :1]


@pytest.mark.parametrize("rows, fails", [(5, True), (3, False)])  # False: the twin
def test_user_activation_checked_on_the_real_batch_shape(clean_registry, rows, fails):
    from handrolled.activations import register_user_activation

    register_user_activation("narrow", wrong_beyond_three_rows, lambda z, a: np.ones_like(z))
    layers = NetworkSpec.from_text("4:narrow", inputs=6).build_layers()
    if fails:
        with pytest.raises(SpecError, match=r"returns shape \(5, 1\) for input shape \(5, 4\)"):
            check_user_activations(layers, [rows])
    else:
        check_user_activations(layers, [rows])


@pytest.mark.parametrize("value, dtype", [(np.ones(3, np.float32), np.float32),
                                          ([0.5, 1.5], np.float64),
                                          (np.ones(2, np.longdouble), np.float64)])
def test_real_floating_gradients_are_accepted(value, dtype):  # the twin of the refusals
    from compare.check.child import as_floats  # runs in the user's process

    assert as_floats(value, ()).dtype == dtype


@pytest.mark.parametrize("value, words", [(np.ones(2, complex), "complex dtype"),
                                          (np.ones(2, bool), "dtype bool"),
                                          ([1, 2], "dtype int"),
                                          (["a"], "not an array of numbers")])
def test_other_gradients_are_refused_not_cast(value, words):
    from compare.check.child import Contract, as_floats

    with pytest.raises(Contract, match=words):
        as_floats(value, ())


def test_an_output_beside_its_input_is_fine(tmp_path):  # the twin of "is the input"
    from compare.commands.common import check_output_options

    weights = tmp_path / "w.npz"
    weights.write_bytes(b"")
    args = argparse.Namespace(weights=str(weights), json=str(tmp_path / "r.json"),
                              dataset=f"idx:{tmp_path / 'data'}")
    check_output_options(args, tmp_path / "report")
    with pytest.raises(SpecError, match="is the --weights input"):
        check_output_options(argparse.Namespace(weights=str(weights), json=str(weights)))
    with pytest.raises(SpecError, match="holds the --weights input"):
        check_output_options(argparse.Namespace(weights=str(weights), json=None), tmp_path)
