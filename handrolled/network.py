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

from .errors import SpecError
from .spec import NetworkSpec
from .weights import Params, init_state, init_weights, validate, validate_state


@dataclass
class ForwardCache:
    """What backward needs: each layer's own cache and output, the logits z_L, what the
    loss shares between its value and its gradient (`output`: log p for softmax
    cross-entropy, so the loss of this pass needs no second log-softmax), and the
    penalties of the regularizers on this pass."""

    layers: list
    outputs: list
    logits: np.ndarray
    output: np.ndarray
    penalty: float = 0.0
    training: bool = False

    @property
    def p(self) -> np.ndarray:
        """softmax(z_L), from softmax cross-entropy's `output` (log p)."""
        return np.exp(self.output)


class Network:
    """The hand-written network for one `NetworkSpec`, its weights and its state."""

    def __init__(self, spec: NetworkSpec, params: Params | None = None,
                 state: Params | None = None):
        self.spec = spec
        # how penalties and the optimizer's hyper-parameters are rounded: the spec's value
        # (handrolled/conventions.py); a variant network may hold another one
        self.conventions = spec.conventions
        self.loss_function = spec.loss_function
        self.layers = spec.build_layers()
        self.params = validate(spec, params) if params is not None else init_weights(spec)
        self.state = validate_state(spec, state) if state is not None else init_state(spec)

    @property
    def activations(self) -> list:
        """The activation object of every layer that applies one (the output's excluded)."""
        return [layer.activation for layer in self.layers[:-1] if layer.activation is not None]

    def layer_params(self, layer) -> dict[str, np.ndarray]:
        """{'kernel': ..., 'bias': ...} (and the layer's state, e.g. 'moving_mean'): this
        layer's arrays, the very ones in `params` and `state`."""
        own = {variable: self.params[f"{layer.name}/{variable}"]
               for variable in layer.param_shapes}
        own.update({variable: self.state[f"{layer.name}/{variable}"]
                    for variable in layer.state_shapes})
        return own

    def use_dropout_masks(self, masks: dict) -> None:
        """{'dropout3': mask or masks}: the masks the Dropout layers apply (see
        layers/dropout.py); layers not named keep drawing their own."""
        for layer in self.layers:
            if layer.name in masks:
                layer.use_masks(masks[layer.name])

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
        """Every layer's forward (eqs. 1-2 for Dense), the regularizers' penalties, and
        what the loss needs of the logits.  training=True: batch statistics and dropout
        masks (the state is updated only by `commit`); False: inference mode."""
        a, caches, outputs, penalty = X, [], [], 0.0
        for layer in self.layers:
            a, cache = layer.forward(self.layer_params(layer), a, training)
            caches.append(cache)
            outputs.append(a)
            penalty += self._penalty(layer, a)
        return ForwardCache(caches, outputs, a, self.loss_function.output(a), penalty, training)

    def _penalty(self, layer, a) -> float:
        """kernel: f(W), added at every step; activity: f(a), per row where Keras
        divides by the batch size (the network's conventions)."""
        total, conventions = 0.0, self.conventions
        if layer.kernel_regularizer is not None:
            total += layer.kernel_regularizer.value(self.params[f"{layer.name}/kernel"],
                                                    conventions)
        if layer.activity_regularizer is not None:
            total += layer.activity_regularizer.value(a, conventions) / \
                conventions.activity_rows(a)
        return total

    def loss_of(self, cache: ForwardCache, Y: np.ndarray) -> float:
        """The loss Keras reports: the data loss plus every penalty."""
        return self.loss_function.value(cache.output, Y) + cache.penalty

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """The output layer's activation on the logits (softmax, sigmoid or linear)."""
        return self.loss_function.probabilities(self.forward(X).logits)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class per row (inference mode)."""
        return self.loss_function.predict(self.forward(X).logits)

    def loss(self, X: np.ndarray, Y: np.ndarray) -> float:
        return self.loss_of(self.forward(X), Y)

    # ------------------------------------------------------------ backward
    def backward(self, cache: ForwardCache, Y: np.ndarray) -> Params:
        """Eq. 3 at the output, then every layer's backward from the top down, each
        layer's penalties' gradients added where they enter."""
        grads: Params = {}
        dy = self.loss_function.delta(cache.output, Y)  # eq. 3
        for index in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[index]
            if layer.activity_regularizer is not None:  # d f(a) / da, into dL/da
                a = cache.outputs[index]
                dy = dy + layer.activity_regularizer.gradient(a, self.conventions) / \
                    self.conventions.activity_rows(a)
            dy, layer_grads = layer.backward(self.layer_params(layer), dy, cache.layers[index],
                                             input_gradient=index > 0)
            if layer.kernel_regularizer is not None:
                kernel = self.params[f"{layer.name}/kernel"]
                layer_grads["kernel"] = layer_grads["kernel"] + \
                    layer.kernel_regularizer.gradient(kernel, self.conventions)
            for variable, grad in layer_grads.items():
                grads[f"{layer.name}/{variable}"] = grad
        return {name: grads[name] for name in self.spec.param_shapes()}

    def loss_and_gradients(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, Params]:
        """One training-mode forward pass, the loss from it, and the gradients from the
        same cache (the state is not committed: a gradient check changes nothing)."""
        cache = self.forward(X, training=True)
        return self.loss_of(cache, Y), self.backward(cache, Y)

    def commit(self, cache: ForwardCache) -> None:
        """After a training step: the state the pass computed (moving statistics)."""
        for layer, layer_cache in zip(self.layers, cache.layers):
            for variable, value in layer.state_updates(layer_cache).items():
                self.state[f"{layer.name}/{variable}"] = value

    def kink_pattern(self, cache: ForwardCache) -> list[bytes]:
        """Per layer, what changes when a perturbation crosses a kink (see Layer), and the
        signs an l1 penalty depends on (of the kernel, or of the layer's output)."""
        pattern = []
        for layer, layer_cache, a in zip(self.layers, cache.layers, cache.outputs):
            pattern.append(layer.kink_pattern(layer_cache))
            if layer.kernel_regularizer is not None:
                kernel = self.params[f"{layer.name}/kernel"]
                pattern.append(layer.kernel_regularizer.kink_pattern(kernel))
            if layer.activity_regularizer is not None:
                pattern.append(layer.activity_regularizer.kink_pattern(a))
        return pattern


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
    if Y.shape == (X.shape[0], spec.classes) and spec.outputs != spec.classes:
        Y = spec.loss_function.from_one_hot(Y)  # two classes, one sigmoid unit
    if Y.shape != (X.shape[0], spec.outputs):
        raise SpecError(f"targets have shape {Y.shape}; expected one-hot ({X.shape[0]}, "
                        f"{spec.classes})")
    if X.shape[0] < 1:
        raise SpecError("the batch is empty; it needs at least one row")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise SpecError("data contains NaN or inf; inputs and targets must be finite")
    return (np.ascontiguousarray(X, dtype=spec.dtype), np.ascontiguousarray(Y, dtype=spec.dtype))
