"""Where one step of the fast hand-written loop spends its time.

For dense networks only: `handrolled.fast`'s fused loop is written for them
(a network with other layers runs the textbook epoch, which has no such
phases; `nn-compare bench --breakdown` skips it with a note).  Each phase of
`handrolled.fast` is run on its own, on the same buffers and
shapes as a real step, many times; the figure is the *minimum* per step (the
cost of the work itself; interference from other processes only adds).  The
phases:

    matmul      every matrix product of the step (forward, grad_W, delta W^T)
    bias        z += b and grad_b = sum of delta's rows
    activation  the fused in-place f(z) and the multiply by f'(z)
    softmax     log-softmax, the loss and delta_L = (p - Y) / m
    update      W -= lr grad_W, b -= lr grad_b
    gather      one batch's rows of the permutation copied into the batch buffer

`step` is one whole fast step (the minimum over steps on successive batches,
without the gather) plus the gather; `other` is step minus the phases:
Python dispatch between the NumPy calls and cache effects that the isolated
phases do not see.  Each figure is a minimum taken at a different moment, so
on a busy machine the phases can add up to more than the step; then `other`
is 0 and `excess` says by how much (a fraction of the step), and the table
says the machine was too noisy instead of printing a negative share
(`account`).

`ceilings` turns these into the limit a loop of these NumPy calls can reach,
as a percentage of the matmul peak: if only the products took time
("matmul"), and if every phase ran at its isolated best with nothing between
them ("phases").  A loop of these calls, one after another, does not get past
the second without fewer or cheaper phases, however little Python sits
between them.
"""

from __future__ import annotations

import numpy as np

from handrolled import Network, SpecError, init_weights
from handrolled import fast

from .flops import flops_per_row
from .timing import best_seconds

PHASES = ("matmul", "bias", "activation", "softmax", "update", "gather")


def breakdown(hidden: str, batch: int, dtype: str, rows: int = 60000, repeats: int = 50,
              seed: int = 0, input_shape=None) -> dict:
    """Seconds per full step for each phase, the whole step, and the rest."""
    from ..synthetic import synthetic_batch

    from .runner import bench_spec

    spec = bench_spec(hidden, dtype, seed, *([input_shape] if input_shape else []))  # flat rows
    if not spec.is_dense:  # the phases below are those of the fused dense loop
        raise SpecError(f"the breakdown times the phases of handrolled.fast's dense loop; "
                        f"{spec.describe()} is not a dense network")
    network = Network(spec, init_weights(spec))
    X, Y = synthetic_batch(spec, rows, seed)
    order = np.random.default_rng(seed).permutation(rows)
    ws = fast.workspace(network, batch)
    weights = [(network.params[f"{layer.name}/kernel"], network.params[f"{layer.name}/bias"])
               for layer in network.layers]
    kernels = [fast.kernel_for(f) for f in network.activations]
    X_b, Y_b = X[:batch], Y[:batch]
    a = fast._forward(network, ws, weights, kernels, X_b)  # fills every buffer once
    fast._softmax_loss_delta(ws, Y_b)
    fast._backward_update(network, ws, weights, kernels, a, 0.0)  # fills the deltas too

    def delta(l):  # delta_l's buffer: the top layer's own, else the one below it filled
        return ws.delta if l == spec.depth else ws.g[l - 1]

    def matmuls():
        for l, (W, _) in enumerate(weights, start=1):
            np.matmul(a[l - 1], W, out=ws.z[l - 1])
            np.matmul(a[l - 1].T, delta(l), out=ws.grad_W[l - 1])
            if l > 1:
                np.matmul(delta(l), W.T, out=ws.g[l - 2])

    def bias():
        for l, (_, b) in enumerate(weights, start=1):
            np.add(ws.z[l - 1], b, out=ws.z[l - 1])
            np.sum(delta(l), axis=0, out=ws.grad_b[l - 1])

    saved_z = [z.copy() for z in ws.z[:-1]]  # pre-activations of the hidden layers
    saved_g = [g.copy() for g in ws.g]

    def copies():  # fresh z and delta W^T each time; timed alone and subtracted below
        for i in range(len(saved_z)):
            np.copyto(ws.scratch[i], saved_z[i])
            np.copyto(ws.g[i], saved_g[i])

    def activation():
        copies()
        for i, (f, kernel) in enumerate(zip(network.activations, kernels)):
            a_i = fast._activate(f, kernel, ws.scratch[i])  # f(z), in place when fused
            fast._times_derivative(f, kernel, ws.g[i], saved_z[i], a_i, ws.z[i])

    def update():
        for l, (W, b) in enumerate(weights, start=1):
            for param, grad in ((W, ws.grad_W[l - 1]), (b, ws.grad_b[l - 1])):
                np.multiply(grad, 0.0, out=grad)  # lr 0: the timing, not the weights, matters
                np.subtract(param, grad, out=param)

    steps = len(range(0, rows, batch))
    seconds = {
        "matmul": best_seconds(matmuls, repeats),
        "bias": best_seconds(bias, repeats),
        "activation": max(best_seconds(activation, repeats) - best_seconds(copies, repeats), 0.0),
        "softmax": best_seconds(lambda: fast._softmax_loss_delta(ws, Y_b), repeats),
        "update": best_seconds(update, repeats),
        "gather": best_seconds(_cycling(lambda start: ws.gather(X, Y, order[start:start + batch]),
                                        rows, batch), min(repeats, steps - 1)),
    }
    step = _best_step(network, X, Y, batch, repeats)
    seconds["step"] = step + seconds["gather"]
    fast.release_workspace(network)
    return {"hidden": hidden, "batch": batch, "dtype": dtype, "rows": rows,
            "flops_per_step": batch * flops_per_row(spec.sizes), **account(seconds)}


def account(seconds: dict) -> dict:
    """`seconds` (each phase and the whole step) with `other` = step - phases, never
    negative; `excess`: how much more than the step the phases add up to, as a
    fraction of the step (0 when they fit: the machine was quiet enough)."""
    phases = sum(seconds[phase] for phase in PHASES)
    return {"seconds_per_step": dict(seconds, other=max(seconds["step"] - phases, 0.0)),
            "excess": max(phases - seconds["step"], 0.0) / seconds["step"]}


def shares(result: dict) -> dict:
    """Each column's % of the step, or of the phases' sum when that is larger (a
    noisy machine): never negative, never above 100."""
    seconds = result["seconds_per_step"]
    whole = max(seconds["step"], sum(seconds[phase] for phase in PHASES))
    return {name: 100 * seconds[name] / whole for name in (*PHASES, "other")}


def ceilings(result: dict, peak_gflops: float) -> dict:
    """% of `peak_gflops` for a breakdown's whole step, and the two ceilings above it."""
    seconds = result["seconds_per_step"]
    times = {"step": seconds["step"],
             "phases": sum(seconds[phase] for phase in PHASES),
             "matmul": seconds["matmul"]}
    return {name: 100 * result["flops_per_step"] / t / 1e9 / peak_gflops
            for name, t in times.items()}


def _cycling(fn, rows, batch):
    """fn(start) for start = 0, batch, 2 batch, ... on successive calls, as the steps
    of an epoch: each call's rows come from memory, not from the cache."""
    starts = list(range(0, rows - batch + 1, batch))
    count = iter(range(10 ** 9))
    return lambda: fn(starts[next(count) % len(starts)])


def _best_step(network, X, Y, batch, repeats) -> float:
    """One whole fast step without the gather (a one-batch epoch, lr 0) on
    successive batches of rows."""
    return best_seconds(_cycling(lambda start: fast.sgd_epoch_fast(
        network, X[start:start + batch], Y[start:start + batch], batch, 0.0), X.shape[0], batch),
        min(repeats, X.shape[0] // batch - 1))
