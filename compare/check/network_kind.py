"""The "network" target kind: the user's whole network's gradients against Keras on one
batch (`target.py` is its contract, `runner.py` the comparison, `report.py` its text)."""

from __future__ import annotations

from .kinds import CheckOptions, target_kind
from .process import UserProcess

NETWORK_NAMES = ("INPUTS", "LAYERS", "LAYOUT", "gradients")


@target_kind("network", detect=lambda declared: any(n in declared for n in NETWORK_NAMES),
             order=90, declares="INPUTS, LAYERS, LAYOUT, gradients(X, Y, weights)")
def run_network_check(user: UserProcess, options: CheckOptions):
    from .target import target_from
    from .user_side import run_user_side

    target = target_from(user)
    side = run_user_side(target, options.dataset, options.batch, options.seed)  # before TF

    from .runner import run_check  # imports TensorFlow

    return run_check(target, dataset=options.dataset, batch=options.batch, seed=options.seed,
                     finite_differences=options.finite_differences, user_side=side)
