"""The steps an optimizer check compares: a fixed gradient sequence from a real training
run, the trajectories of Keras' optimizer and of the project's variants on it, and
the round-off-aware comparison of two trajectories.

    problem = gradient_problem(steps=20, seed=0)      # start weights, gradients per step
    k = keras_trajectory("adam(learning_rate=0.001)", problem, "float32")
    h = handrolled_trajectory(optimizer, problem, "float32")
    compare_trajectories(user, k, problem, "float32")  # -> Comparison

The gradients are those of a small convolutional network ("conv(2,3,relu),flatten"
on 6x6 images, 4 classes: a (3, 3, 1, 2) kernel, a (2,) bias, a (32, 4) kernel and
a (4,) bias) trained by the project's own code (`handrolled.Network`, plain SGD at
0.5, seeded batches of 8 synthetic images): magnitudes from 1e-5 to 1e-1, exact
zeros where a relu is off, the drift of a real run.  Nothing is stored: the same
seed makes the same numbers.  The optimizer under test never changes the gradients
(the sequence is fixed), so differences between two optimizers do not feed back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handrolled import Network, NetworkSpec, init_weights, optimizers as hr
from handrolled.conventions import KERAS, Conventions

SPEC_TEXT, IMAGE, CLASSES, ROWS, TRAINING_LR = "conv(2,3,relu),flatten", (6, 6, 1), 4, 8, 0.5
DEFAULT_STEPS = 20

# Round-off allowance per element at step t: RTOL[dtype] x (|w_0| + sum_{s<=t} |step_s|),
# the step sizes taken from Keras' run.  Measured over 20 steps (tests/test_check_optimizers.py
# `test_tolerance_is_measured`): correct hand-written optimizers (tests/targets/optimizers:
# CS231n's function, a class, the textbook Adam, PyTorch's and CS231n's momentum, RMSprop,
# Adagrad) against the variant they match, in other orders of operations, stay within
# 1.2e-15 of that scale in float64 (2.7e-15 for a bug variant's order: m = b1 m + (1 - b1) g
# against Keras' m += (g - m)(1 - b1)), so 1e-13 leaves a margin of 37; and within 8.4e-6 in
# float32 (Python-double bias corrections: 1 - 0.999**t in double is 1.3e-5 away, relatively,
# from Keras' float32 power at t = 1), so 1e-4 leaves 12.  The smallest named difference
# lies far outside: Keras' float32 rounding of Adagrad's starting accumulator moves a float64
# run by 7.4e-9 of that scale, of Adam's betas by 6.7e-6; a bug by 1e-3 and more.
RTOL = {"float64": 1e-13, "float32": 1e-4}


@dataclass(frozen=True)
class Problem:
    """Start weights (float64) and the gradients of every step, by the project's names."""

    start: dict
    grads: list
    names: tuple

    def cast(self, dtype: str) -> tuple[dict, list]:
        start = {n: w.astype(dtype) for n, w in self.start.items()}
        return start, [{n: g.astype(dtype) for n, g in step.items()} for step in self.grads]

    def shapes(self) -> dict:
        return {n: w.shape for n, w in self.start.items()}


def gradient_problem(steps: int = DEFAULT_STEPS, seed: int = 0) -> Problem:
    """The gradients of `steps` SGD steps of a small network trained by the project's code."""
    spec = NetworkSpec.from_text(SPEC_TEXT, inputs=IMAGE, classes=CLASSES, seed=seed)
    network = Network(spec, init_weights(spec, "glorot", seed))
    start = {n: w.copy() for n, w in network.params.items()}
    rng = np.random.default_rng(seed)
    # images with structure: a bright square whose corner tells the class, plus noise
    labels = rng.integers(0, CLASSES, size=steps * ROWS)
    X = rng.random((steps * ROWS, *IMAGE)) * 0.2
    for i, label in enumerate(labels):
        r, c = divmod(int(label), 2)
        X[i, 3 * r:3 * r + 3, 3 * c:3 * c + 3, 0] += 0.8
    Y = np.eye(CLASSES)[labels]
    sgd = hr.SGD(learning_rate=TRAINING_LR)
    grads = []
    for t in range(steps):
        rows = slice(t * ROWS, (t + 1) * ROWS)
        _, g = network.loss_and_gradients(X[rows], Y[rows])
        grads.append({n: np.array(g[n]) for n in start})
        sgd.apply(network.params, g)
    return Problem(start, grads, tuple(start))


# ---------------------------------------------------------------- trajectories
def handrolled_trajectory(optimizer: hr.Optimizer, problem: Problem, dtype: str,
                          conventions: Conventions = KERAS) -> list[dict]:
    """The weights after every step of a (fresh) handrolled optimizer, its hyper-parameters
    rounded by `conventions` (handrolled/conventions.py; the checker passes the installed
    Keras')."""
    start, grads = problem.cast(dtype)
    params = {n: w.copy() for n, w in start.items()}
    optimizer.build(params, conventions)
    out = []
    with np.errstate(all="ignore"):
        for g in grads:
            optimizer.apply(params, g)
            out.append({n: w.copy() for n, w in params.items()})
    return out


def keras_trajectory(text: str, problem: Problem, dtype: str) -> list[dict]:
    """The weights after every step of keras.optimizers' twin of `text`, applied to
    keras.Variables of `dtype` (imports TensorFlow)."""
    from keras_impl.optimizers import keras_optimizer
    from keras_impl.runtime import keras
    from keras_impl.train import floatx

    start, grads = problem.cast(dtype)
    with floatx(dtype):
        variables = {}
        for name, value in start.items():
            layer, variable = name.split("/")
            with keras.name_scope(layer):
                variables[name] = keras.Variable(value.copy(), name=variable, dtype=dtype)
        optimizer = keras_optimizer(hr.get(text), dtype)
        order = list(variables)
        out = []
        for g in grads:
            optimizer.apply([g[n] for n in order], [variables[n] for n in order])
            out.append({n: np.array(v.numpy()) for n, v in variables.items()})
    return out


# ---------------------------------------------------------------- comparison
@dataclass
class Comparison:
    """One trajectory against a reference, step by step."""

    dtype: str
    max_abs: float                 # largest |difference| over every step and element
    max_scaled: float              # largest |difference| / (|w_0| + sum |step|)
    first_step: int | None         # the first step (from 1) outside the allowance
    where: dict | None             # at that step: the parameter, elements, largest
    step1_diff: float              # largest |difference| at step 1
    per_parameter: dict            # parameter -> largest |difference| over every step

    @property
    def agree(self) -> bool:
        return self.first_step is None

    @property
    def identical(self) -> bool:
        return self.max_abs == 0.0

    def to_dict(self) -> dict:
        return {"dtype": self.dtype, "agree": self.agree, "identical": self.identical,
                "max_abs_diff": self.max_abs, "max_scaled_diff": self.max_scaled,
                "first_step": self.first_step, "where": self.where,
                "step1_diff": self.step1_diff, "per_parameter": self.per_parameter}


def scales(reference: list[dict], start: dict) -> list[dict]:
    """|w_0| + sum_{s<=t} |step_s| per element, for every step t of the reference."""
    out, total, previous = [], {n: np.abs(w).astype(np.float64) for n, w in start.items()}, start
    for weights in reference:
        total = {n: total[n] + np.abs(weights[n].astype(np.float64) - previous[n]) for n in total}
        out.append(total)
        previous = {n: w.astype(np.float64) for n, w in weights.items()}
    return out


def compare_trajectories(user: list[dict], reference: list[dict], scale: list[dict],
                         dtype: str) -> Comparison:
    """`user` against `reference` within RTOL[dtype] x scale, step by step."""
    rtol = RTOL[dtype]
    max_abs = max_scaled = step1 = 0.0
    first, where, per = None, None, {}
    for t, (u, r, s) in enumerate(zip(user, reference, scale), start=1):
        for name in r:
            d = np.abs(u[name].astype(np.float64) - r[name].astype(np.float64))
            d = np.where(np.isnan(d), np.inf, d)
            max_abs = max(max_abs, float(d.max(initial=0.0)))
            per[name] = max(per.get(name, 0.0), float(d.max(initial=0.0)))
            ratio = d / np.maximum(s[name], np.finfo(np.float64).tiny)
            max_scaled = max(max_scaled, float(ratio.max(initial=0.0)))
            if t == 1:
                step1 = max(step1, float(d.max(initial=0.0)))
            bad = d > rtol * s[name]
            if first is None and bad.any():
                first = t
                where = _where(name, bad, u[name], r[name], d)
    return Comparison(dtype, max_abs, max_scaled, first, where, step1, per)


def _where(name, bad, u, r, d) -> dict:
    index = np.unravel_index(int(np.argmax(np.where(bad, d, -1))), d.shape)
    return {"parameter": name, "elements": int(bad.sum()), "of": int(bad.size),
            "largest_at": [int(i) for i in index], "yours": float(u[index]),
            "keras": float(r[index]), "first_elements": [[int(i) for i in ix] for ix in
                                                         list(zip(*np.nonzero(bad)))[:3]]}
