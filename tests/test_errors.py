"""The kinds of error that stop a run (handrolled/errors.py): input, target, machine fault.

Each is caught as the base class the command line catches, each becomes one line and exit 2,
SpecError is still the input error's name, and an operating-system error is told apart by its
cause.  The twins: an error of the project's own code (a bug) is not swallowed into that line,
and a wrong path is not called the machine's fault."""

from __future__ import annotations

import errno
import os
import pickle

import pytest

import handrolled
from handrolled.errors import (InputError, MachineError, ReportedError, SpecError, TargetError,
                               os_fault)

KINDS = [InputError, TargetError, MachineError]


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_caught_as_the_base(kind):
    with pytest.raises(ReportedError, match="what went wrong"):
        raise kind("what went wrong")


def test_spec_error_is_the_old_name_of_the_input_error():
    assert SpecError is InputError and handrolled.SpecError is InputError
    with pytest.raises(InputError):
        raise SpecError("old name, same class")
    with pytest.raises(SpecError):  # a target is input too: old `except SpecError` still holds
        raise TargetError("the user's file")
    assert issubclass(InputError, ValueError)  # as SpecError always was


def test_a_machine_fault_is_not_bad_input():
    """The twin of the alias: a full disk is not caught where bad input is."""
    assert not issubclass(MachineError, InputError)
    with pytest.raises(MachineError):
        try:
            raise MachineError("cannot write r.json: No space left on device")
        except SpecError:  # pragma: no cover - the check: this must not catch it
            pytest.fail("a machine fault was caught as bad input")


def test_check_errors_are_the_same_classes():
    from compare.check import TargetError as from_check
    from compare.check.errors import ContractError

    assert from_check is TargetError and issubclass(ContractError, TargetError)
    from handrolled.activations import ActivationModuleError
    assert issubclass(ActivationModuleError, TargetError)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_keeps_its_class_and_details_across_processes(kind):
    error = kind("one line") if kind is not TargetError else TargetError("one line", "Traceback")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is kind and str(copy) == "one line"
    assert getattr(copy, "details", "") == getattr(error, "details", "")


@pytest.mark.parametrize("code, kind", [
    (errno.ENOSPC, MachineError), (errno.EACCES, MachineError), (errno.EROFS, MachineError),
    (errno.EIO, MachineError), (errno.ENOENT, InputError), (errno.ENOTDIR, InputError),
    (errno.ENAMETOOLONG, InputError),
])
def test_an_os_error_is_the_machine_s_fault_unless_the_path_is_wrong(code, kind):
    error = os_fault("cannot write x", OSError(code, os.strerror(code)))
    assert type(error) is kind and str(error) == "cannot write x"


def test_write_atomic_on_a_full_disk_is_a_machine_error(tmp_path, monkeypatch):
    from compare import output

    def no_space(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(MachineError, match="No space left on device; free some space"):
        output.write_atomic(tmp_path / "r.json", "{}")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_a_missing_file_named_by_the_user_is_input(tmp_path):
    from handrolled.files import read_head

    with pytest.raises(InputError, match="does not exist"):
        read_head(tmp_path / "none.json", "network file", 10)


def raising(error):
    def run(args):
        raise error
    return run


@pytest.mark.parametrize("error", [
    InputError("--batch 0: accepted 1 to 100000"),
    TargetError("gradients returned 3 arrays; expected 4", "Traceback (user)\n"),
    MachineError("cannot write r.json: No space left on device"),
], ids=lambda error: type(error).__name__)
def test_the_command_line_reports_each_kind_as_one_line_and_exit_2(cli, monkeypatch, error):
    from compare.commands import activations

    monkeypatch.setattr(activations, "run", raising(error))
    code, out, err = cli("activations")
    assert code == 2 and out == ""
    assert err == getattr(error, "details", "") + f"nn-compare: error: {error}\n"


def test_a_bug_of_the_project_is_not_turned_into_that_line(cli, monkeypatch):
    """The twin: only the reported kinds become the line; anything else stays loud."""
    from compare.commands import activations

    monkeypatch.setattr(activations, "run", raising(RuntimeError("a bug")))
    with pytest.raises(RuntimeError, match="a bug"):
        cli("activations")


def test_a_layer_s_error_names_it_and_is_returned_for_the_caller_to_raise():
    from handrolled import layers

    layer = layers.get("conv").from_text("8,3")
    error = layer.error("kernel 3x3 is larger than its input")  # returned, not raised
    assert isinstance(error, InputError)
    assert str(error) == "layer conv (conv(8,3)): kernel 3x3 is larger than its input"
    assert type(layer).fail is type(layer).error  # the old name
    with pytest.raises(InputError, match=r"layer conv1 \(conv\(8,3\)\): gets inputs of shape"):
        layer.built("conv1", (5,))  # build raises what error() returns
