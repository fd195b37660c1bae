"""The in-place optimizer updates give the one-line formulas' numbers, bit for bit.

Each optimizer's `update` computes its equations with `out=` into preallocated
scratch arrays, on pieces of at most CHUNK numbers (handrolled/optimizers/base.py).
Every operation is elementwise IEEE arithmetic (+, -, *, /, sqrt, max), rounded
once, so the result must equal, exactly, the same equations written as array
expressions with temporaries (FORMULAS below: each optimizer's docstring, as
code).  NumPy rounds these operations correctly on every CPU, so bit equality
is the right check here.  The twins feed a wrong in-place update (a reordered
product, a missing bias correction) to the same check and assert that it fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from handrolled import optimizers as hr
from handrolled.optimizers import base

STEPS = 4


# ------------------------------------------------- the formulas, with temporaries
def adam(opt, w, g, lr, s):
    c = opt.applied
    alpha = opt.step_size(lr)
    m, v = s["m"], s["v"]
    m[...] = m + (g - m) * c["1 - beta_1"]
    v[...] = v + (np.square(g) - v) * c["1 - beta_2"]
    if opt.amsgrad:
        s["v_hat"][...] = np.maximum(s["v_hat"], v)
        v = s["v_hat"]
    w[...] = w - (m * alpha) / (np.sqrt(v) + c["epsilon"])


def adam_textbook(opt, w, g, lr, s):
    c = opt.applied
    m, v = s["m"], s["v"]
    m[...] = c["beta_1"] * m + c["1 - beta_1"] * g
    v[...] = c["beta_2"] * v + c["1 - beta_2"] * np.square(g)
    correction_1, correction_2 = opt.bias_corrections()
    w[...] = w - lr * (m / correction_1) / (np.sqrt(v / correction_2) + c["epsilon"])


def rmsprop(opt, w, g, lr, s):
    c = opt.applied
    v = s["v"]
    v[...] = c["rho"] * v + c["1 - rho"] * np.square(g)
    mean_square = v
    if opt.centered:
        s["g_avg"][...] = c["rho"] * s["g_avg"] + c["1 - rho"] * g
        mean_square = v - np.square(s["g_avg"])
    increment = (lr * g) / np.sqrt(mean_square + c["epsilon"])
    if opt.momentum > 0:
        s["mom"][...] = c["momentum"] * s["mom"] + increment
        w[...] = w - s["mom"]
    else:
        w[...] = w - increment


def sgd(opt, w, g, lr, s):
    if opt.momentum == 0:
        w[...] = w - g * lr
        return
    mu, m = opt.applied["momentum"], s["m"]
    m[...] = m * mu - g * lr
    w[...] = w + (m * mu - g * lr if opt.nesterov else m)


def adagrad(opt, w, g, lr, s):
    s["acc"][...] = s["acc"] + np.square(g)
    w[...] = w - (lr * g) / np.sqrt(s["acc"] + opt.applied["epsilon"])


FORMULAS = {"adam": adam, "adamw": adam, "adam_textbook": adam_textbook, "rmsprop": rmsprop,
            "sgd": sgd, "adagrad": adagrad}


def formula_step(opt, params, grads, update=None):
    """One step as base.Optimizer.apply takes it, with whole arrays and temporaries."""
    lr = opt.current_learning_rate()
    if opt.weight_decay is not None:
        wd = opt.applied["weight_decay"]
        for w in params.values():
            w[...] = w - w * wd * lr
    for name, w in params.items():
        (update or FORMULAS[opt.name])(opt, w, grads[name], lr, opt.slots_by_param[name])
    opt.iterations += 1


# -------------------------------------------------------------------- the runs
def problem(dtype):
    """Parameters of several shapes: one spans pieces (CHUNK is made 7 below), one is
    Fortran-ordered (updated whole), one is a single number; parameters and gradients
    of mixed magnitudes."""
    rng = np.random.default_rng(5)
    params = {"kernel": rng.normal(size=(6, 5)), "bias": rng.normal(size=5),
              "fortran": np.asfortranarray(rng.normal(size=(4, 3))), "one": rng.normal(size=1)}
    # mixed magnitudes, some as small as a step: a step's last bit then reaches w
    params = {k: (v * 10.0 ** rng.uniform(-5, 0, v.shape)).astype(dtype)
              for k, v in params.items()}
    grads = [{k: (rng.normal(size=w.shape) * 10.0 ** rng.uniform(-5, 0, w.shape)).astype(dtype)
              for k, w in params.items()} for _ in range(STEPS)]
    return params, grads


def run_both(text, dtype, monkeypatch, in_place=None, update=None):
    """(params, state) after STEPS steps of `apply` (in place) and of the formulas."""
    monkeypatch.setattr(base, "CHUNK", 7)
    start, grads = problem(dtype)
    results = []
    for stepper in (in_place, formula_step):
        opt = hr.get(text) if stepper is formula_step or in_place is None else in_place()
        params = {k: v.copy(order="K") for k, v in start.items()}
        opt.build(params)
        for g in grads:
            if stepper is formula_step:
                formula_step(opt, params, g, update)
            else:
                opt.apply(params, g)
        results.append((params, opt.state()))
    return results


def same_bits(results) -> bool:
    (pa, sa), (pb, sb) = results
    return (all(np.array_equal(pa[k], pb[k]) for k in pa)
            and sa.keys() == sb.keys()
            and all(np.array_equal(sa[k], sb[k]) for k in sa))


CONFIGS = ["adam", "adam(amsgrad=true)", "adamw(weight_decay=0.1)", "adam_textbook",
           "rmsprop", "rmsprop(centered=true,momentum=0.9)", "rmsprop(momentum=0.5)",
           "sgd(0.1)", "sgd(learning_rate=0.1,momentum=0.9)",
           "sgd(learning_rate=0.1,momentum=0.9,nesterov=true,weight_decay=0.01)",
           "adagrad(learning_rate=0.1)"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("text", CONFIGS)
def test_in_place_update_is_the_formula_bit_for_bit(text, dtype, monkeypatch):
    results = run_both(text, dtype, monkeypatch)
    (pa, _), _ = results
    start, _ = problem(dtype)
    assert all(pa[k].dtype == np.dtype(dtype) for k in pa)
    assert not np.array_equal(pa["kernel"], start["kernel"])  # it moved
    assert same_bits(results)


def test_pieces_cover_a_parameter_once():
    w = np.arange(20.0).reshape(4, 5)
    seen = [piece.copy() for (piece,), _ in base.pieces([w], {})]
    assert np.array_equal(np.concatenate(seen), w.reshape(-1))


# ------------------------------------------------------------------- the twins
class ReorderedAdam(hr.Adam):
    """m * (alpha / den) instead of (m * alpha) / den: equal on paper, not in bits."""

    def update(self, w, g, lr, s):
        c = self.applied
        alpha = self.step_size(lr)
        m, v = s["m"], s["v"]
        t, u = self.scratch(0, w), self.scratch(1, w)
        np.subtract(g, m, out=t)
        t *= c["1 - beta_1"]
        m += t
        np.square(g, out=t)
        t -= v
        t *= c["1 - beta_2"]
        v += t
        np.sqrt(v, out=u)
        u += c["epsilon"]
        np.divide(alpha, u, out=t)
        t *= m
        w -= t


class NoFirstCorrectionAdam(hr.Adam):
    def bias_corrections(self):
        return self.dtype.type(1), super().bias_corrections()[1]


class RootOfSumRMSprop(hr.RMSprop):
    """rho * v + g**2 * (1 - rho) computed as v + (1 - rho) * (g**2 - v): same on paper."""

    def update(self, w, g, lr, s):
        c, v = self.applied, s["v"]
        t, u = self.scratch(0, w), self.scratch(1, w)
        np.square(g, out=t)
        t -= v
        t *= c["1 - rho"]
        v += t
        root = self.root(v, t)
        np.multiply(g, lr, out=u)
        u /= root
        w -= u


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("wrong,text", [(ReorderedAdam, "adam"),
                                        (NoFirstCorrectionAdam, "adam"),
                                        (RootOfSumRMSprop, "rmsprop")])
def test_twin_wrong_in_place_update_is_caught(wrong, text, dtype, monkeypatch):
    assert not same_bits(run_both(text, dtype, monkeypatch, in_place=wrong))
