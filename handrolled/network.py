"""A fully connected network of any depth, forward and backward by hand.

Notation (layer l = 1..L, a_0 = X):

    z_l = a_{l-1} W_l + b_l          pre-activation   (forward, eq. 1)
    a_l = f_l(z_l)                   activation       (forward, eq. 2)
    p   = softmax(z_L)               output           (the last layer has no f)

Backward, for the mean cross-entropy loss L:

    delta_L = (p - Y) / n                              (eq. 3)
    grad_W_l = a_{l-1}^T delta_l,  grad_b_l = sum_rows delta_l   (eq. 4)
    delta_{l-1} = (delta_l W_l^T) * f'_{l-1}(z_{l-1})  (eq. 5)

`forward` returns a cache holding every z_l and a_l, and `backward` reads
that cache, so a training step never computes the forward pass twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import activations as activation_registry
from . import loss as loss_fns
from .errors import SpecError
from .spec import NetworkSpec
from .weights import Params, init_weights, validate


@dataclass
class ForwardCache:
    """What backward needs: a[0] = X, then z[l-1] and a[l] for each layer l.

    `z[-1]` is the logits z_L; `p` is softmax(z_L) = exp(log_p), and `log_p`
    is kept so that the loss of this pass needs no second log-softmax.
    """

    a: list[np.ndarray]
    z: list[np.ndarray]
    p: np.ndarray
    log_p: np.ndarray


class Network:
    """The hand-written network for one `NetworkSpec` and its weights."""

    def __init__(self, spec: NetworkSpec, params: Params | None = None):
        self.spec = spec
        self.activations = [activation_registry.get(layer.activation) for layer in spec.hidden]
        self.params = validate(spec, params) if params is not None else init_weights(spec)

    # ------------------------------------------------------------ schedule
    def on_step(self, epoch: int, step: int) -> None:
        """Tell time-dependent activations that training step `step` (counted
        from 0 over the whole run) of epoch `epoch` (from 0) is about to run."""
        for f in self.activations:
            f.on_step(epoch, step)

    def on_train_end(self) -> None:
        for f in self.activations:
            f.on_train_end()

    # ------------------------------------------------------------- forward
    def forward(self, X: np.ndarray) -> ForwardCache:
        """Eqs. 1-2 for every layer, then softmax at the output."""
        a = X
        cache_a, cache_z = [X], []
        for l in range(1, self.spec.depth + 1):
            z = a @ self.params[f"W{l}"] + self.params[f"b{l}"]  # eq. 1
            cache_z.append(z)
            if l < self.spec.depth:
                a = self.activations[l - 1].value(z)  # eq. 2
                cache_a.append(a)
        log_p = loss_fns.log_softmax(cache_z[-1])
        return ForwardCache(a=cache_a, z=cache_z, p=np.exp(log_p), log_p=log_p)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.forward(X).p

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class per row (argmax of the output probabilities)."""
        return self.forward(X).z[-1].argmax(axis=1)

    def loss(self, X: np.ndarray, Y: np.ndarray) -> float:
        return loss_fns.mean_cross_entropy(self.forward(X).log_p, Y)

    # ------------------------------------------------------------ backward
    def backward(self, cache: ForwardCache, Y: np.ndarray) -> Params:
        """Eqs. 3-5: the gradient of the mean cross-entropy for every W_l, b_l."""
        grads: Params = {}
        delta = loss_fns.grad_logits(cache.p, Y)  # eq. 3
        for l in range(self.spec.depth, 0, -1):
            grads[f"W{l}"] = cache.a[l - 1].T @ delta  # eq. 4
            grads[f"b{l}"] = delta.sum(axis=0)
            if l > 1:
                f = self.activations[l - 2]
                z, a = cache.z[l - 2], cache.a[l - 1]
                delta = (delta @ self.params[f"W{l}"].T) * f.derivative(z, a)  # eq. 5
        return {name: grads[name] for name in self.spec.param_shapes()}

    def loss_and_gradients(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, Params]:
        """One forward pass, the loss from it, and the gradients from the same cache."""
        cache = self.forward(X)
        return loss_fns.mean_cross_entropy(cache.log_p, Y), self.backward(cache, Y)


def check_batch(spec: NetworkSpec, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate a batch against `spec` and cast it to spec.dtype."""
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2 or X.shape[1] != spec.inputs:
        raise SpecError(f"inputs have shape {X.shape}; expected (n, {spec.inputs}) "
                        f"for a {spec.describe()} network")
    if Y.shape != (X.shape[0], spec.classes):
        raise SpecError(f"targets have shape {Y.shape}; expected one-hot ({X.shape[0]}, "
                        f"{spec.classes})")
    if X.shape[0] < 1:
        raise SpecError("the batch is empty; it needs at least one row")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise SpecError("data contains NaN or inf; inputs and targets must be finite")
    return (np.ascontiguousarray(X, dtype=spec.dtype), np.ascontiguousarray(Y, dtype=spec.dtype))
