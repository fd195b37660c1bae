"""`run_layer_check`: the user's layer against the real Keras layer over the grid.

    target  = load_layer_target(user)            contract.py: what the file declares
    cases   = build_cases(configurations(...))   grid.py
    yours   = UserLayer(user, target).run(case)  user_side.py, in the user's process
    keras   = keras_steps(case)                  keras_side.py (dropout: Keras' measured
                                                 convention on your mask)
    rows    = compare_cases(yours, keras)        comparison.py
    if they differ: diagnose (variants.py), else nothing is claimed.

The user's code runs first, before TensorFlow is imported, so a target that
breaks its contract fails at once.
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import TargetError
from .comparison import LAYER_TOLERANCES, all_agree, compare_cases
from .contract import load_layer_target
from .diagnosis import diagnose, locate
from .grid import build_cases, configurations
from .keras_side import dropout_convention, dropout_expectation, keras_steps
from .outcome import LayerOutcome
from .user_side import UserLayer


def run_layer_check(user, options) -> LayerOutcome:
    started = time.perf_counter()
    target = load_layer_target(user)
    dtype = options.dtype or "float64"
    if dtype not in LAYER_TOLERANCES:
        raise TargetError(f"dtype must be float64 or float32 for a layer check, got {dtype!r}")
    configs = configurations(target.specs, target.takes_config)
    cases = [case.cast(dtype) for case in build_cases(configs, options.seed)]
    runner = UserLayer(user, target)
    mine = [runner.run(case) for case in cases]
    notes = []
    tolerance = LAYER_TOLERANCES[dtype]
    returned = {value.dtype for steps in mine for step in steps
                for value in step.quantities().values()
                if value is not None and value.dtype.kind == "f" and value.ndim}
    if dtype == "float64" and returned - {np.dtype("float64")}:
        tolerance = LAYER_TOLERANCES["float32"]
        notes.append(f"your layer returns {', '.join(sorted(map(str, returned)))} arrays in a "
                     f"float64 check, so the float32 tolerance applies.")
    expected = [_expected(case, my, dtype) for case, my in zip(cases, mine)]
    rows = compare_cases(mine, expected, tolerance.rtol)
    findings, conventions, unexplained = [], [], []
    keras_class = cases[0].layer.keras_name            # the twin's keras.layers class
    outcome = LayerOutcome(target, keras_class, dtype, tolerance,
                           [case.label for case in cases],
                           list(dict.fromkeys(c.config.text for c in cases)),
                           list(dict.fromkeys(c.inputs for c in cases)),
                           [["training" if s.training else "inference" for s in case.steps]
                            for case in cases], rows, notes=notes)
    if not all_agree(rows):
        matched = diagnose(target, cases, mine, tolerance.rtol)
        conventions = [f for f in matched if f.convention]
        findings = [f for f in matched if not f.convention]
        if conventions and not findings:
            # a documented convention: compare with Keras under it
            from .variants import variants_for
            variant = next(v for v in variants_for(target.kind) if v.bug == conventions[0].bug)
            expected = [variant.predict(case, my, target) for case, my in zip(cases, mine)]
            outcome.rows = compare_cases(mine, expected, tolerance.rtol)
        elif not findings:
            _shapes_explained_or_fail(target, cases, rows, outcome)
            unexplained = locate(target, cases, rows, mine, expected, outcome.name)
    outcome.diagnosis, outcome.conventions, outcome.unexplained = findings, conventions, unexplained
    _grid_notes(target, configs, outcome)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _expected(case, mine, dtype):
    if case.config.kind == "dropout":
        convention = dropout_convention(case, dtype)
        return dropout_expectation(case, convention, mine, case.layer.rate)
    return keras_steps(case, dtype)


def _shapes_explained_or_fail(target, cases, rows, outcome) -> None:
    """A wrong shape that no named bug explains: the target is unusable (exit 2)."""
    for row in rows:
        if row.note.startswith("shape"):
            raise TargetError(f"{outcome.name(row.quantity)} has {row.note} "
                              f"({cases[row.case].label}, call {row.call + 1}); "
                              f"in your layout ({target.layout.describe()})")


def _grid_notes(target, configs, outcome) -> None:
    from .grid import VARIATIONS

    if not target.takes_config and target.kind in VARIATIONS:
        outcome.notes.append(
            "only the declared configuration(s) were checked; give forward (or your "
            "class' __init__) a `config` parameter to be checked also at "
            + {"conv": "strides 1 and 2, padding valid and same, and use_bias=False",
               "maxpool": "strides 1 and 2 with padding valid and same",
               "avgpool": "strides 1 and 2 with padding valid and same",
               "dense": "use_bias=False",
               "dropout": "a second rate"}[target.kind] + ".")
    if target.kind == "dropout" and any(abs(c.spec.config["rate"] - 0.5) < 1e-12
                                        for c in configs) and len(configs) == 1:
        outcome.notes.append("at rate 0.5 a rate and a keep probability give the same "
                             "numbers: check another rate too.")
