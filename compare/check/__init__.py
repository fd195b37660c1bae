"""Check a user's own hand-written code against Keras (`nn-compare check FILE`).

    outcome = run_check_file("my_net.py")      # kinds.py: whichever kind the file declares
    outcome.agree, outcome.to_dict(), print(outcome.format())

    target = load_target("my_net.py")          # a network target: target.py
    result = run_check(target)                 # runner.py: Keras, diagnosis, statistics

The user's code runs in a process of its own: process.py (the checker's side), child.py
(the process), wire.py (the messages: plain data and arrays, no pickle).  kinds.py is the
registry of target kinds; network_kind.py the network one.

Network modules: target (loading and the contract), backprop (the right pieces of
backprop), diagnosis (one function per bug hypothesis), differences (where
unexplained differences sit), stats (activation statistics), witness (finite
differences of the user's forward), runner, report.
Loading a target needs no TensorFlow; `run_check` and `format_report` import
it (lazily, so a broken target is reported at once).
"""

from .errors import ContractError, TargetError

# Lazy: the user's process imports compare.check.child, and must not pay for the rest.
_LAZY = {"format_report": "report", "CheckResult": "runner", "run_check": "runner",
         "CheckOptions": "kinds", "run_check_file": "kinds", "UserProcess": "process",
         "Target": "target", "load_target": "target"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["format_report", "CheckResult", "run_check", "Target", "TargetError", "load_target",
           "ContractError", "CheckOptions", "run_check_file", "UserProcess"]
