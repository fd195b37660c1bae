"""Where hand-written versions usually drift from Keras, each one measured.

Every pitfall is a hand-written network with one thing done the way people
often write it, trained side by side with the real Keras model on the same
batches, with the same dropout masks, from the same weights:

    momentum_swapped        BatchNormalization's moving average with the other momentum
                            convention: moving*(1 - m) + batch*m (PyTorch's 0.1 read as
                            Keras' 0.99, or the reverse)
    moving_variance_zero    the moving variance starting at 0 instead of 1
    unbiased_variance       the batch variance divided by m - 1 instead of m
    dropout_not_rescaled    dropout that zeroes units but does not scale the kept ones
                            by 1 / (1 - rate)
    l2_with_half            weight decay as (f/2) sum w^2 (gradient f w), not Keras'
                            f sum w^2 (gradient 2 f w)
    activity_not_per_row    the activity penalty summed over the batch, not divided by its
                            size (Keras before 3.14; from 3.14 Keras divides)

`run_pitfalls` trains the right network (which must agree) and each pitfall
(which must not) and returns one row each; `nn-compare pitfalls` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from handrolled import Network, NetworkSpec, init_weights, regularizers
from handrolled.conventions import KERAS
from handrolled.layers import BatchNormalization, Dropout
from handrolled.layers.batchnorm import batch_statistics, moving_averages
from handrolled.layers.dropout import dropout_backward, dropout_forward
from handrolled.train import sgd_epoch

SPEC = "dense(64,relu),batchnorm,dropout(0.5),dense(32,tanh,kernel=l2(0.01),activity=l1(0.0004))"


# ------------------------------------------------------------ the wrong layers
# Each overrides the one function its pitfall changes; every other line is the layer's own
# (handrolled/layers/batchnorm.py, dropout.py).
class SwappedMomentum(BatchNormalization):
    def state_updates(self, cache):
        # moving*(1 - m) + batch*m: the other convention (PyTorch's momentum is 1 - Keras')
        return moving_averages(cache, 1.0 - self.momentum)


class UnbiasedVariance(BatchNormalization):
    def batch_statistics(self, x):
        mu, var = batch_statistics(x)                  # the sum of squares divided by m
        m = x.size // x.shape[-1]
        return mu, var * m / (m - 1)                   # divided by m - 1: np.var(x, ddof=1)


class NotRescaled(Dropout):
    # dropout's own functions with the scale 1 / (1 - 0) = 1: the kept units not scaled up
    def forward(self, params, x, training=False):
        return dropout_forward(x, self.training_mask(x.shape, training), 0.0)

    def backward(self, params, dy, cache, input_gradient=True):
        return dropout_backward(dy, cache, 0.0)


class L2Half(regularizers.L2):
    def value(self, w, conventions=KERAS):
        return 0.5 * self.factor(conventions) * np.sum(np.square(w))

    def gradient(self, w, conventions=KERAS):
        return self.factor(conventions) * w


# ---------------------------------------------------------------- the pitfalls
def _replaced(kind: str, cls):
    """Each layer of `kind` replaced by a `cls` (the pitfall's subclass) built from the same
    config, name and input shape; a Dropout gets the same masks."""
    def patch(network: Network) -> None:
        for index, layer in enumerate(network.layers):
            if layer.kind == kind:
                wrong = cls(**layer.get_config()).built(layer.name, layer.input_shape)
                if isinstance(layer, Dropout):
                    wrong.use_masks(layer.masks)
                network.layers[index] = wrong
    return patch


def _moving_variance_zero(network: Network) -> None:
    for name in network.state:
        if name.endswith("/moving_variance"):
            network.state[name] = np.zeros_like(network.state[name])


def _l2_with_half(network: Network) -> None:
    for layer in network.layers:
        if isinstance(layer.kernel_regularizer, regularizers.L2):
            layer.kernel_regularizer = L2Half(layer.kernel_regularizer.l2)


def _activity_not_per_row(network: Network) -> None:
    # this network's conventions with the activity penalty summed over the batch (a new
    # value for this network only; the spec and every other network keep theirs)
    network.conventions = network.conventions.with_changes(activity_per_row=False)


@dataclass(frozen=True)
class Pitfall:
    name: str
    what: str
    patch: Callable[[Network], None] | None = None


PITFALLS = [
    Pitfall("right", "the layers as Keras computes them"),
    Pitfall("momentum_swapped", "moving = moving*(1-m) + batch*m",
            _replaced("batchnorm", SwappedMomentum)),
    Pitfall("moving_variance_zero", "moving variance starts at 0, not 1", _moving_variance_zero),
    Pitfall("unbiased_variance", "batch variance / (m-1), not / m",
            _replaced("batchnorm", UnbiasedVariance)),
    Pitfall("dropout_not_rescaled", "kept units not scaled by 1/(1-rate)",
            _replaced("dropout", NotRescaled)),
    Pitfall("l2_with_half", "(f/2) sum w^2, gradient f w", _l2_with_half),
    Pitfall("activity_not_per_row", "activity penalty not divided by the batch size",
            _activity_not_per_row),
]
NAMES = [p.name for p in PITFALLS]


def patched_epoch(pitfall: Pitfall, epoch_function=sgd_epoch):
    """The hand-written epoch, with the pitfall applied to the network before its first
    step (after the dropout masks were handed over).  Each network is marked once
    patched: an id() could be reused by the next run's network (the round-off run)."""

    def epoch(network, *args, **kwargs):
        if pitfall.patch is not None and not getattr(network, "pitfall_patched", False):
            pitfall.patch(network)
            network.pitfall_patched = True
        return epoch_function(network, *args, **kwargs)

    return epoch


def run_pitfall(pitfall: Pitfall, spec: NetworkSpec, dataset, epochs: int, batch: int,
                lr: float, seed: int):
    """One side-by-side run of the pitfall's hand-written network against Keras."""
    from .training import train_side_by_side

    return train_side_by_side(spec, init_weights(spec), dataset, epochs, batch, lr,
                              seed=seed, handrolled_epoch=patched_epoch(pitfall))


def pitfall_row(pitfall: Pitfall, result) -> dict:
    return {"pitfall": pitfall.name, "what": pitfall.what, "agree": result.agree,
            "verdict": result.verdict, "max_loss_diff": result.max_loss_diff,
            "max_weight_diff": result.max_weight_diff, "max_state_diff": result.max_state_diff,
            "final_accuracy_diff": result.final_accuracy_diff}
