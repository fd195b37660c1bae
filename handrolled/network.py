"""A network of any layers, forward and backward by hand: a loop over layers.

Each layer computes its own piece (handrolled/layers/, one file per kind);
the network only chains them.  For the dense network of the textbook
(layer l = 1..L, a_0 = X):

    z_l = a_{l-1} W_l + b_l          pre-activation   (forward, eq. 1)
    a_l = f_l(z_l)                   activation       (forward, eq. 2)
    p   = softmax(z_L)               output           (the last layer is linear)

Backward, for the mean cross-entropy loss L:

    delta_L = (p - Y) / n                              (eq. 3, from the loss)
    grad_W_l = a_{l-1}^T delta_l,  grad_b_l = sum_rows delta_l   (eq. 4, in Dense)
    delta_{l-1} = (delta_l W_l^T) * f'_{l-1}(z_{l-1})  (eq. 5: Dense sends delta_l W_l^T
                                                        down, the layer below multiplies
                                                        by its own f')

`forward` returns a cache holding what every layer kept, and `backward` reads
that cache, so a training step never computes the forward pass twice.
Parameters live in one dict, `params`, under "<layer>/<variable>" names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import loss as loss_fns
from .errors import SpecError
from .spec import NetworkSpec
from .weights import Params, init_weights, validate


@dataclass
class ForwardCache:
    """What backward needs: each layer's own cache, the logits z_L, and p = softmax(z_L).

    `log_p` is kept so that the loss of this pass needs no second log-softmax."""

    layers: list
    logits: np.ndarray
    p: np.ndarray
    log_p: np.ndarray


class Network:
    """The hand-written network for one `NetworkSpec` and its weights."""

    def __init__(self, spec: NetworkSpec, params: Params | None = None):
        self.spec = spec
        self.layers = spec.build_layers()
        self.params = validate(spec, params) if params is not None else init_weights(spec)

    @property
    def activations(self) -> list:
        """The activation object of every layer that applies one (the output's excluded)."""
        return [layer.activation for layer in self.layers[:-1] if layer.activation is not None]

    def layer_params(self, layer) -> dict[str, np.ndarray]:
        """{'kernel': ..., 'bias': ...}: this layer's arrays, the very ones in `params`."""
        return {variable: self.params[f"{layer.name}/{variable}"]
                for variable in layer.param_shapes}

    # ------------------------------------------------------------ schedule
    def on_step(self, epoch: int, step: int) -> None:
        """Tell time-dependent activations that training step `step` (counted
        from 0 over the whole run) of epoch `epoch` (from 0) is about to run."""
        for layer in self.layers:
            layer.on_step(epoch, step)

    def on_train_end(self) -> None:
        for layer in self.layers:
            layer.on_train_end()

    # ------------------------------------------------------------- forward
    def forward(self, X: np.ndarray, training: bool = False) -> ForwardCache:
        """Every layer's forward (eqs. 1-2 for Dense), then softmax at the output."""
        a, caches = X, []
        for layer in self.layers:
            a, cache = layer.forward(self.layer_params(layer), a, training)
            caches.append(cache)
        log_p = loss_fns.log_softmax(a)
        return ForwardCache(layers=caches, logits=a, p=np.exp(log_p), log_p=log_p)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.forward(X).p

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class per row (argmax of the output probabilities)."""
        return self.forward(X).logits.argmax(axis=1)

    def loss(self, X: np.ndarray, Y: np.ndarray) -> float:
        return loss_fns.mean_cross_entropy(self.forward(X).log_p, Y)

    # ------------------------------------------------------------ backward
    def backward(self, cache: ForwardCache, Y: np.ndarray) -> Params:
        """Eq. 3 at the output, then every layer's backward from the top down."""
        grads: Params = {}
        dy = loss_fns.grad_logits(cache.p, Y)  # eq. 3
        for index in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[index]
            dy, layer_grads = layer.backward(self.layer_params(layer), dy, cache.layers[index],
                                             input_gradient=index > 0)
            for variable, grad in layer_grads.items():
                grads[f"{layer.name}/{variable}"] = grad
        return {name: grads[name] for name in self.spec.param_shapes()}

    def loss_and_gradients(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, Params]:
        """One forward pass, the loss from it, and the gradients from the same cache."""
        cache = self.forward(X, training=True)
        return loss_fns.mean_cross_entropy(cache.log_p, Y), self.backward(cache, Y)

    def kink_pattern(self, cache: ForwardCache) -> list[bytes]:
        """Per layer, what changes when a perturbation crosses a kink (see Layer)."""
        return [layer.kink_pattern(c) for layer, c in zip(self.layers, cache.layers)]


def check_batch(spec: NetworkSpec, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate a batch against `spec`; cast it to spec.dtype and shape the rows as the
    network's input (flat rows of an image become (H, W, C) for a convolution)."""
    X, Y = np.asarray(X), np.asarray(Y)
    shape = spec.input_shape
    if X.ndim >= 2 and X.shape[1:] != shape and int(np.prod(X.shape[1:])) == spec.inputs:
        X = X.reshape((X.shape[0], *shape))  # row-major, as Keras' Flatten undoes it
    if X.ndim != len(shape) + 1 or X.shape[1:] != shape:
        expected = ", ".join(map(str, shape))
        raise SpecError(f"inputs have shape {X.shape}; expected (n, {expected}) "
                        f"for a {spec.describe()} network")
    if Y.shape != (X.shape[0], spec.classes):
        raise SpecError(f"targets have shape {Y.shape}; expected one-hot ({X.shape[0]}, "
                        f"{spec.classes})")
    if X.shape[0] < 1:
        raise SpecError("the batch is empty; it needs at least one row")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise SpecError("data contains NaN or inf; inputs and targets must be finite")
    return (np.ascontiguousarray(X, dtype=spec.dtype), np.ascontiguousarray(Y, dtype=spec.dtype))
