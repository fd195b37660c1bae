"""The "layer" target kind: the user's own layer (forward/backward) against the real Keras
layer over a grid of configurations (compare/check/layer/, docs/checking/layer.md)."""

from __future__ import annotations

from .kinds import CheckOptions, target_kind
from .process import UserProcess


@target_kind("layer", detect=lambda declared: "LAYER" in declared, order=20,
             declares="LAYER, forward(x, params, training) and backward(dout, cache), "
                      "or LAYER_CLASS")
def run_layer_check(user: UserProcess, options: CheckOptions):
    from .layer.run import run_layer_check as run

    return run(user, options)
