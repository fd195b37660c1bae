"""Check a user's own hand-written network against Keras (`nn-compare check FILE`).

    target = load_target("my_net.py")          # the contract: target.py
    result = run_check(target)                 # runner.py: Keras, diagnosis, statistics
    print(format_report(result))               # report.py
    result.agree, result.to_dict()

Modules: target (loading and the contract), backprop (the right pieces of
backprop), diagnosis (one function per bug hypothesis), differences (where
unexplained differences sit), stats (activation statistics), witness (finite
differences of the user's forward), runner, report.
Loading a target needs no TensorFlow; `run_check` and `format_report` import
it (lazily, so a broken target is reported at once).
"""

from .target import Target, TargetError, load_target

_LAZY = {"format_report": "report", "CheckResult": "runner", "run_check": "runner"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["format_report", "CheckResult", "run_check", "Target", "TargetError", "load_target"]
