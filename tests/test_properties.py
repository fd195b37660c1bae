"""Property-based tests (hypothesis): random networks, random awkward batches.

Drawn: 1-6 hidden dense layers, 1-64 units each, activations from the zoo
(mix and piecewise included), float64 or float32, batches of 1-64 rows (1
drawn often), inputs with zero columns and constant rows.  For each:

* the gradients agree with Keras and with finite differences;
* one short epoch trained side by side agrees (judged by `agree`, not words);
* a bug from check's diagnosis list injected into one layer's gradients
  (one tensor or the whole layer: sign flipped, scaled, off by the batch size,
  zero) is caught and named with its tensor and factor.

Reproducible: `derandomize=True`, no example database.  The default profile
draws few examples (Keras builds a model per example); set
NN_PROPERTY_PROFILE=long for the longer run (`make property-tests`).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from compare.check.backprop import Backprop
from compare.check.diagnosis import diagnose
from compare.datasets import Dataset
from compare.gradients import compare_gradients
from compare.training import train_side_by_side
from handrolled import Network, NetworkSpec, activations, init_weights, one_hot
from handrolled.weights import to_legacy

PROFILES = {  # examples per property: (gradients, training, injected bugs)
    "default": (3, 2, 20),
    "long": (60, 25, 300),
}
try:
    GRADIENTS, TRAINING, BUGS = PROFILES[os.environ.get("NN_PROPERTY_PROFILE", "default")]
except KeyError:
    raise pytest.UsageError(f"NN_PROPERTY_PROFILE must be one of {sorted(PROFILES)}") from None


def profile(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# Every elementwise zoo function and the per-neuron mix, by its example text;
# stochastic redraws per step and has its own tests (test_stochastic.py).
ZOO = sorted(text for name, text in activations.examples().items() if name != "stochastic")
assert any(text.startswith("mix(") for text in ZOO)
assert any(text.startswith("piecewise(") for text in ZOO)


@dataclasses.dataclass
class Case:
    spec: NetworkSpec
    X: np.ndarray
    y: np.ndarray

    @property
    def Y(self):
        return one_hot(self.y, self.spec.classes, self.spec.dtype)


@st.composite
def cases(draw, dtypes=("float64", "float32")) -> Case:
    depth = draw(st.integers(1, 6))
    hidden = ",".join(f"{draw(st.integers(1, 64))}:{draw(st.sampled_from(ZOO))}"
                      for _ in range(depth))
    inputs = draw(st.integers(1, 12))
    classes = draw(st.integers(2, 5))
    rows = draw(st.one_of(st.just(1), st.integers(1, 64)))
    seed = draw(st.integers(0, 2**16))
    spec = NetworkSpec.from_text(hidden, inputs=inputs, classes=classes,
                                 dtype=draw(st.sampled_from(dtypes)), seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, inputs))
    X[:, sorted(draw(st.sets(st.integers(0, inputs - 1), max_size=inputs)))] = 0.0  # zero columns
    for row in draw(st.sets(st.integers(0, rows - 1), max_size=rows)):     # constant rows
        X[row] = draw(st.sampled_from([0.0, 1.0, -2.5]))
    y = rng.integers(0, classes, size=rows)
    return Case(spec, X.astype(spec.dtype), y)


@profile(GRADIENTS)
@given(cases())
def test_gradients_agree_with_keras_and_finite_differences(case):
    result = compare_gradients(case.spec, init_weights(case.spec), case.X, case.Y)
    assert result.agree, [(row.name, row.max_rel_diff, row.fd_max_rel_diff, row.limit)
                          for row in result.rows if not row.agree]


@profile(TRAINING)
@given(cases())
def test_one_short_epoch_agrees_side_by_side(case):
    data = Dataset(name="drawn", X_train=case.X, y_train=case.y, X_test=case.X,
                   y_test=case.y, classes=case.spec.classes, source="hypothesis")
    result = train_side_by_side(case.spec, init_weights(case.spec), data, epochs=1,
                                batch_size=max(1, case.X.shape[0] // 3), lr=0.05,
                                seed=case.spec.seed)
    assert result.agree


SCOPES = ("W", "b", "layer")
FACTORS = {  # the injected factor, as a function of the batch size n -> the bug's name
    "sign_flipped": lambda n: -1.0,
    "scaled": lambda n: 0.5,
    "sum_not_mean": lambda n: float(n),
    "mean_twice": lambda n: 1.0 / n,
    "missing": lambda n: 0.0,
}


@profile(BUGS)
@given(cases(dtypes=("float64",)), st.sampled_from(sorted(FACTORS)), st.sampled_from(SCOPES),
       st.data())
def test_an_injected_bug_is_caught_and_named(case, bug, scope, data):
    spec = case.spec
    params = to_legacy(spec, init_weights(spec, "book", spec.seed))  # biases not zero
    _, grads = Network(spec, params).loss_and_gradients(case.X, case.Y)
    right = to_legacy(spec, grads)
    l = data.draw(st.integers(1, spec.depth), label="layer")
    n = case.X.shape[0]
    factor = FACTORS[bug](n)
    assume(n > 1 or bug not in ("sum_not_mean", "mean_twice"))  # n = 1: no bug at all
    touched = [f"W{l}", f"b{l}"] if scope == "layer" else [f"{scope}{l}"]
    # a tensor that is 0 (or nearly) has no wrong version to find
    assume(all(np.abs(right[name]).max() > 1e-6 * max(np.abs(right[f"W{l}"]).max(),
                                                      np.abs(right[f"b{l}"]).max(), 1e-300)
               for name in touched))
    assume(np.abs(right[f"W{l}"]).max() > 0 and np.abs(right[f"b{l}"]).max() > 0)
    user = dict(right)
    for name in touched:
        user[name] = factor * right[name]
    bp = Backprop(spec, params, case.X, case.Y, "separate")
    findings = diagnose(bp, user, {l}).findings
    named = "scaled x0.5" if bug == "scaled" else bug
    where = f"layer {l}" if scope == "layer" else f"{scope}{l} only"
    assert {f.layer for f in findings} == {l}, findings
    assert f"{named} ({where})" in {f.label for f in findings}, findings
