"""One epoch of mini-batch SGD, fast: the same numbers as `train.sgd_epoch`.

`train.sgd_epoch` is the textbook loop (forward, backward, update, one
allocation per intermediate).  This module computes *the same floating-point
operations in the same order* -- so the results are bit-identical, which
`tests/test_fast.py` checks -- but spends less time around them:

* contiguous batches: the epoch's permutation is applied once, with
  `np.take(..., out=buffer, mode="wrap")` into a preallocated copy of the data
  (mode "raise" would buffer the whole result), so each step reads a plain
  slice instead of fancy-indexing a new batch;
* preallocated buffers, `out=` everywhere: z_l, a_l, delta_l, grad_W_l and the
  softmax scratch live in a `Workspace` kept per network and reused by every
  step and every epoch; the last partial batch uses leading rows of them;
* fused, in-place activations where the activation's own class defines them
  (sigmoid, tanh, relu, linear: `value_inplace` / `times_derivative_inplace`,
  written beside `value` / `derivative` in activations/zoo.py): a_l
  overwrites z_l, because their derivatives need only a_l; any other
  activation runs through its own `value` and `derivative` (the generic
  path), exactly as the textbook loop calls them;
* the softmax, the loss and delta_L in place by `loss.cross_entropy_and_delta_inplace`,
  the in-place form written beside loss.py's textbook functions;
* each layer is updated as soon as its delta has been passed down, while its
  gradient is still in cache;
* one dtype throughout: every ufunc runs with casting="no", so an operand of
  another dtype (an np.float64 scalar, a float64 activation output) raises
  instead of silently computing in float64.  Python scalars (lr, n) are fine:
  under NumPy's NEP 50 they take the array's dtype.

The equations are those of `network.py` (eqs. 1-5); the comments name them.
This module holds no activation or loss formula of its own: those live, once,
in activations/zoo.py and loss.py.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import activations as act
from .activations.core import NO_CAST  # every ufunc: same dtype in and out, or an error
from .errors import SpecError
from .loss import cross_entropy_and_delta_inplace
from .network import Network
from .optimizers import SGD, Optimizer
from .train import batch_starts


# ----------------------------------------------------- in-place activations
@dataclass(frozen=True)
class Kernel:
    """A fused activation: forward(z) in place, backward(g, a, scratch) in place."""

    forward: Callable[[np.ndarray], None]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], None]


INPLACE_METHODS = ("value_inplace", "times_derivative_inplace")


def kernel_for(f: act.Activation) -> Kernel | None:
    """f's own in-place kernel (`value_inplace`, `times_derivative_inplace`), or
    None for the generic path.

    Only when f's own class defines both methods: a subclass that merely
    inherits them (relu_ge from relu) may have overridden `value` or
    `derivative`, so it takes the generic path.
    """
    own = vars(type(f))
    if not all(name in own for name in INPLACE_METHODS):
        return None
    return Kernel(f.value_inplace, f.times_derivative_inplace)


# ------------------------------------------------------------- the buffers
@dataclass
class Workspace:
    """Every array one step needs, allocated once for (network shape, dtype, batch)."""

    sizes: tuple[int, ...]
    dtype: np.dtype
    batch: int
    z: list[np.ndarray] = field(default_factory=list)       # z_l, l = 1..L (a_l in place)
    g: list[np.ndarray] = field(default_factory=list)       # delta_l @ W_l^T, l = 2..L
    scratch: list[np.ndarray] = field(default_factory=list)  # f'(z) per hidden layer
    grad_W: list[np.ndarray] = field(default_factory=list)
    grad_b: list[np.ndarray] = field(default_factory=list)
    row: np.ndarray | None = None      # (batch, 1): row max, then log-sum-exp
    log_p: np.ndarray | None = None    # (batch, C)
    p: np.ndarray | None = None        # (batch, C): also holds Y * log p
    delta: np.ndarray | None = None    # (batch, C): delta_L
    X: np.ndarray | None = None        # the epoch's rows in `order`, contiguous
    Y: np.ndarray | None = None

    @classmethod
    def create(cls, sizes, dtype, batch) -> "Workspace":
        ws = cls(tuple(sizes), np.dtype(dtype), batch)
        empty = lambda *shape: np.empty(shape, dtype=ws.dtype)  # noqa: E731
        depth = len(sizes) - 1
        for l in range(1, depth + 1):
            ws.z.append(empty(batch, sizes[l]))
            ws.grad_W.append(empty(sizes[l - 1], sizes[l]))
            ws.grad_b.append(empty(sizes[l]))
        for l in range(1, depth):  # hidden layers
            ws.g.append(empty(batch, sizes[l]))
            ws.scratch.append(empty(batch, sizes[l]))
        classes = sizes[-1]
        ws.row, ws.log_p = empty(batch, 1), empty(batch, classes)
        ws.p, ws.delta = empty(batch, classes), empty(batch, classes)
        return ws

    def arrays(self) -> list[np.ndarray]:
        """Every buffer, for checking dtypes."""
        singles = [self.row, self.log_p, self.p, self.delta, self.X, self.Y]
        return [*self.z, *self.g, *self.scratch, *self.grad_W, *self.grad_b,
                *(a for a in singles if a is not None)]

    def gather(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray):
        """X[order], Y[order] into preallocated contiguous buffers (no temporary).

        The buffers have as many rows as `order`: the whole epoch, or one batch.
        """
        rows = order.shape[0]
        if self.X is None or self.X.shape[0] < rows or self.X.shape[1] != X.shape[1]:
            self.X = np.empty((rows, X.shape[1]), dtype=self.dtype)
            self.Y = np.empty((rows, Y.shape[1]), dtype=self.dtype)
        X_out, Y_out = self.X[:rows], self.Y[:rows]
        # mode="wrap" after _check_inputs' bounds check: the same rows as X[order]
        # (negative indices included), and no buffered copy as mode="raise" makes.
        np.take(X, order, axis=0, out=X_out, mode="wrap")
        np.take(Y, order, axis=0, out=Y_out, mode="wrap")
        return X_out, Y_out


_WORKSPACES: "weakref.WeakKeyDictionary[Network, Workspace]" = weakref.WeakKeyDictionary()


def workspace(network: Network, batch_size: int) -> Workspace:
    """The network's workspace for this batch size (made on first use, then reused)."""
    sizes, dtype = network.spec.sizes, np.dtype(network.spec.dtype)
    ws = _WORKSPACES.get(network)
    if ws is None or (ws.sizes, ws.dtype, ws.batch) != (sizes, dtype, batch_size):
        ws = _WORKSPACES[network] = Workspace.create(sizes, dtype, batch_size)
    return ws


def release_workspace(network: Network) -> None:
    """Free the buffers kept for `network` (they go anyway when it is collected)."""
    _WORKSPACES.pop(network, None)


# ------------------------------------------------------------------ checks
def _check_inputs(network: Network, X, Y, batch_size: int, lr, order):
    dtype = np.dtype(network.spec.dtype)
    for name, array in (("X", X), ("Y", Y)):
        if not isinstance(array, np.ndarray) or array.dtype != dtype or array.ndim != 2:
            raise SpecError(f"{name} must be a 2-D {dtype} array for a {dtype} network "
                            f"(cast it with handrolled.check_batch), got "
                            f"{getattr(array, 'dtype', type(array).__name__)}")
    for name, value in network.params.items():
        if value.dtype != dtype:
            raise SpecError(f"weight {name} is {value.dtype}; the network is {dtype}")
    if X.shape[0] != Y.shape[0]:
        raise SpecError(f"X has {X.shape[0]} rows but Y has {Y.shape[0]}")
    if isinstance(lr, np.generic) and lr.dtype != dtype:
        raise SpecError(f"learning rate is a NumPy {lr.dtype} scalar, which would make the "
                        f"{dtype} update compute in {lr.dtype}; pass a Python float")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise SpecError(f"batch size must be a positive integer, got {batch_size!r}")
    if order is None:
        return None
    order = np.asarray(order)
    if order.ndim != 1 or not np.issubdtype(order.dtype, np.integer):
        raise SpecError(f"order must be a 1-D integer index array, got {order.dtype} "
                        f"of shape {order.shape}")
    n = X.shape[0]
    if order.shape[0] != n:
        raise SpecError(f"order has {order.shape[0]} indices; expected one per row of X ({n})")
    if order.size and (order.max() >= n or order.min() < -n):
        raise SpecError(f"order holds indices outside the {n} rows of X")
    return order


# -------------------------------------------------------------------- loop
def sgd_epoch_fast(network: Network, X: np.ndarray, Y: np.ndarray, batch_size: int,
                   lr: float, order=None, epoch: int = 0, first_step: int = 0,
                   gather: str = "step") -> np.ndarray:
    """One epoch of mini-batch SGD in place on network.params; per-step losses.

    Same signature and numbers as `train.sgd_epoch`: rows in `order` (None:
    as stored), sequential slices of `batch_size`, the last partial batch kept
    and averaged over its own size, `network.on_step(epoch, step)` before
    each step, the loss taken from that step's own forward pass.

    gather: how rows in `order` become contiguous batches -- "step" (default)
    copies each batch's rows into one batch-sized buffer just before its step,
    so they are still in cache for the step's products; "epoch" copies the
    whole permuted set once (a second full-size array, written to memory and
    read back).  Same numbers either way; docs/PERFORMANCE.md has the timings.

    The fused loop is written for dense networks (eqs. 1-5) and plain SGD (a
    learning rate, or an SGD optimizer without momentum, weight decay or
    schedule, whose step count it advances); anything else -- convolutions,
    batch normalization, other optimizers -- runs the textbook epoch layer by
    layer with preallocated buffers (`fast_conv.sgd_epoch_layers`, the same
    numbers as `train.sgd_epoch`, tests/test_fast_conv.py).
    """
    optimizer = lr if isinstance(lr, Optimizer) else None
    rate = optimizer.plain_rate() if isinstance(optimizer, SGD) else None
    if (optimizer is not None and rate is None) or not network.spec.is_dense:
        from .fast_conv import sgd_epoch_layers  # the layer-by-layer fast path (it imports this)
        return sgd_epoch_layers(network, X, Y, batch_size, optimizer or lr, order, epoch,
                                first_step)
    if optimizer is not None:
        if not optimizer.built:
            optimizer.build(network.params, network.conventions)
        lr = rate
    order = _check_inputs(network, X, Y, batch_size, lr, order)
    if gather not in GATHERS:
        raise SpecError(f"unknown gather '{gather}'; accepted: {', '.join(GATHERS)}")
    ws = workspace(network, batch_size)
    params = network.params
    weights = [(params[f"{layer.name}/kernel"], params[f"{layer.name}/bias"])
               for layer in network.layers]
    kernels = [kernel_for(f) for f in network.activations]
    losses = np.empty(len(batch_starts(X.shape[0], batch_size)), dtype=np.float64)
    for step, (X_b, Y_b) in enumerate(_batches(ws, X, Y, batch_size, order, gather)):
        network.on_step(epoch, first_step + step)
        a = _forward(network, ws, weights, kernels, X_b)
        losses[step] = _softmax_loss_delta(ws, Y_b)
        _backward_update(network, ws, weights, kernels, a, lr)
    if optimizer is not None:
        optimizer.iterations += len(losses)  # the steps it took, as its own apply counts
    return losses


GATHERS = ("step", "epoch")


def _batches(ws, X, Y, batch_size, order, gather):
    """(X_b, Y_b) for each step: contiguous slices, never a fancy-indexed copy."""
    if order is None and not (X.flags.c_contiguous and Y.flags.c_contiguous):
        X, Y = np.ascontiguousarray(X), np.ascontiguousarray(Y)
    if order is not None and gather == "epoch":
        X, Y = ws.gather(X, Y, order)
        order = None
    for start in batch_starts(X.shape[0], batch_size):
        if order is None:
            yield X[start:start + batch_size], Y[start:start + batch_size]
        else:
            yield ws.gather(X, Y, order[start:start + batch_size])


def _forward(network, ws, weights, kernels, X_b) -> list[np.ndarray]:
    """Eqs. 1-2 for every layer into ws.z; returns [a_0 = X_b, a_1, ..., z_L]."""
    m = X_b.shape[0]
    a = [X_b]
    for l, (W, b) in enumerate(weights, start=1):
        z = ws.z[l - 1][:m]
        np.matmul(a[-1], W, out=z, **NO_CAST)
        np.add(z, b, out=z, **NO_CAST)  # eq. 1: z_l = a_{l-1} W_l + b_l
        if l < len(weights):
            a.append(_activate(network.activations[l - 1], kernels[l - 1], z))  # eq. 2
        else:
            a.append(z)  # the logits z_L
    return a


def _activate(f, kernel, z):
    if kernel is not None:
        kernel.forward(z)  # a_l overwrites z_l
        return z
    a = f.value(z)  # generic path: the activation's own code, as the textbook loop
    _same_dtype(f, "value", a, z)
    return a


def _softmax_loss_delta(ws, Y_b) -> float:
    """log-softmax, the mean cross-entropy, and delta_L = (p - Y) / m (eq. 3),
    by loss.py's in-place form, into the leading m rows of the workspace."""
    m = Y_b.shape[0]
    return cross_entropy_and_delta_inplace(ws.z[-1][:m], Y_b, ws.row[:m], ws.log_p[:m],
                                           ws.p[:m], ws.delta[:m])


def _backward_update(network, ws, weights, kernels, a, lr) -> None:
    """Eqs. 4-5 from the top layer down; each W_l, b_l is updated once delta_l
    has been passed below it (W_l is not needed after that)."""
    m = a[0].shape[0]
    delta = ws.delta[:m]
    for l in range(len(weights), 0, -1):
        W, b = weights[l - 1]
        grad_W, grad_b = ws.grad_W[l - 1], ws.grad_b[l - 1]
        np.matmul(a[l - 1].T, delta, out=grad_W, **NO_CAST)  # eq. 4
        np.sum(delta, axis=0, out=grad_b)
        if l > 1:  # the first layer needs no gradient with respect to X
            g = ws.g[l - 2][:m]
            np.matmul(delta, W.T, out=g, **NO_CAST)          # eq. 5: delta W^T ...
            _times_derivative(network.activations[l - 2], kernels[l - 2], g, ws.z[l - 2][:m],
                              a[l - 1], ws.scratch[l - 2][:m])  # ... * f'(z_{l-1})
            delta = g
        for param, grad in ((W, grad_W), (b, grad_b)):  # W <- W - lr grad_W
            np.multiply(grad, lr, out=grad, **NO_CAST)
            np.subtract(param, grad, out=param, **NO_CAST)


def _times_derivative(f, kernel, g, z, a, scratch) -> None:
    if kernel is not None:
        kernel.backward(g, a, scratch)
        return
    derivative = f.derivative(z, a)  # generic path
    _same_dtype(f, "derivative", derivative, z)
    np.multiply(g, derivative, out=g, **NO_CAST)


def _same_dtype(f, method, result, z) -> None:
    if getattr(result, "dtype", None) != z.dtype:
        raise SpecError(f"activation '{f.text}' {method} returned "
                        f"{getattr(result, 'dtype', type(result).__name__)} for {z.dtype} "
                        f"input; the fast loop computes in one dtype throughout")
