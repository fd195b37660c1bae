"""An undeclared convention that explains the user's gradients: never a bug.

A target that declares nothing about its loss is held to Keras' conventions (the
mean over output units and over the batch, no penalty).  Textbook code often
differs by a known convention: Nielsen's quadratic cost 1/2 sum_j (a_j - y_j)^2
(UNITS = "sum", HALF = True), a loss summed over the batch (REDUCTION = "sum"), an
L2 term in the loss (REGULARIZATION = "l2(...)").  Its gradients are then the right
ones times a constant (k, 1/2, n) or plus c * W_l: that is a difference of
convention, and the user should declare it, not hunt a bug.

`find_convention` tries every variant that changes only what the target left
undeclared; the L2 factor of each layer is fitted from the user's numbers
(user_W - right_W = c W_l, c = 2 lambda), rounded to 10 significant digits.  A
variant counts only when its right gradients reproduce the user's in every layer
(diagnosis.MATCH_RTOL); the runner then compares against Keras built with it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from handrolled import Params, regularizers

from ..tolerances import max_diffs
from .backprop import Backprop
from .differences import fitted_factor
from .objective import Objective, declaration

MATCH_RTOL = 1e-6   # as diagnosis.MATCH_RTOL: a variant must reproduce every gradient
DIGITS = 10         # a fitted L2 factor, rounded to this many significant digits


@dataclass
class Convention:
    name: str        # the declaration: UNITS, HALF, REDUCTION or REGULARIZATION
    message: str


def find_convention(bp: Backprop, user: Params) -> tuple[Objective, list[int]] | None:
    """The variant of bp's objective, changing only undeclared names, whose right
    gradients reproduce `user` in the most layers counted from the output down (all of
    them, or down to a bug), more than the declared objective does; and those layers.
    None: no convention explains more than the declaration."""
    declared = bp.objective
    best, best_layers = None, _explained(bp, user)
    for variant in variants(declared, *bp.Y.shape):
        candidate = _with(bp, variant)
        if "REGULARIZATION" not in declared.declared:
            candidate = _with(bp, variant.with_changes(regularizers=fit_l2(candidate, user)))
        if candidate.objective == declared:
            continue
        layers = _explained(candidate, user)
        if len(layers) > len(best_layers):
            best, best_layers = candidate.objective, layers
    return None if best is None else (best, best_layers)


def same_numbers(bp: Backprop, found: Objective) -> list[Objective]:
    """Other variants that give exactly the found one's factor on this batch (UNITS = 'sum'
    with as many output units as rows is REDUCTION = 'sum'): the batch cannot tell them
    apart, so the message names them too."""
    n, k = bp.Y.shape
    return [variant.with_changes(regularizers=found.regularizers)
            for variant in variants(bp.objective, n, k)
            if variant.with_changes(regularizers=found.regularizers) != found
            and variant.scale(n, k) == found.scale(n, k)
            and variant.scale(n, k) != bp.objective.scale(n, k)]


def _explained(bp: Backprop, user: Params) -> list[int]:
    """The layers, from the output down, whose right gradients reproduce the user's."""
    right, layers = bp.right_gradients(), []
    for l in range(bp.depth, 0, -1):
        if any(max_diffs(right[name], user[name])[1] > MATCH_RTOL
               for name in (f"W{l}", f"b{l}")):
            break
        layers.append(l)
    return layers


def variants(objective: Objective, n: int, k: int):
    """Every combination of the undeclared UNITS, HALF and REDUCTION (the declared
    objective first); a choice that changes nothing here (UNITS for softmax CE or one
    unit, REDUCTION for one row) is not varied."""
    choices = {}
    if "UNITS" not in objective.declared and objective.loss != "categorical_crossentropy" \
            and k > 1:
        choices["units"] = ("mean", "sum")
    if "HALF" not in objective.declared and objective.loss == "mean_squared_error":
        choices["half"] = (False, True)
    if "REDUCTION" not in objective.declared and n > 1:
        choices["reduction"] = ("mean", "sum")
    keys = list(choices)
    for values in itertools.product(*(choices[key] for key in keys)):
        yield objective.with_changes(**dict(zip(keys, values)))


def _with(bp: Backprop, objective: Objective) -> Backprop:
    return Backprop(bp.spec, bp.params, bp.cache.layers[0][0], bp.Y, bp.layout, objective)


def fit_l2(bp: Backprop, user: Params) -> tuple:
    """Per layer, L2(lambda) with 2 lambda W_l = user_W - the right (unpenalised) weight
    gradient, fitted; None where that difference is 0.  A layer where it is neither 0 nor
    a positive multiple of W_l (a bug of its own there) gets the factor the other layers
    share, if they share one: one REGULARIZATION is usually meant for every kernel."""
    right = bp.right_gradients()
    regs, unclear = [], []
    for l in range(1, bp.depth + 1):
        W = bp.W(l)
        residual = user[f"W{l}"] - right[f"W{l}"]
        scale = max(np.abs(user[f"W{l}"]).max(), np.abs(right[f"W{l}"]).max(), 1e-300)
        c = fitted_factor(residual, W)
        if np.abs(residual).max() <= MATCH_RTOL * scale:
            regs.append(None)                               # no penalty on this layer
        elif c is not None and c > 0 and \
                np.abs(residual - c * W).max() <= MATCH_RTOL * scale:
            regs.append(regularizers.get(f"l2({float(f'{c / 2:.{DIGITS}g}')!r})"))
        else:
            regs.append(None)
            unclear.append(l - 1)
    fitted = {r.text: r for r in regs if r is not None}
    if not fitted:
        return ()
    if len(fitted) == 1:
        for index in unclear:
            regs[index] = next(iter(fitted.values()))
    return tuple(regs)


def describe(declared: Objective, found: Objective, k: int, n: int,
             layers: list[int] | None = None, alike: list[Objective] = ()) -> list[Convention]:
    """One sentence per name the found variant sets differently from the declared one;
    `layers`: the layers it explains when not all of them; `alike`: variants this batch
    cannot tell from it (`same_numbers`)."""
    out = []
    if found.units != declared.units:
        out.append(Convention("UNITS", _sentence(
            "UNITS", found, f"one sample's loss {'summed' if found.units == 'sum' else 'averaged'}"
            f" over its {k} output units")))
    if found.half != declared.half:
        out.append(Convention("HALF", _sentence(
            "HALF", found, "the quadratic cost with its 1/2: 1/2 sum_j (a_j - y_j)^2"
            if found.half else "the quadratic cost without a 1/2")))
    if found.reduction != declared.reduction:
        out.append(Convention("REDUCTION", _sentence(
            "REDUCTION", found, f"the loss {'summed' if found.reduction == 'sum' else 'averaged'}"
            f" over the {n} rows of the batch")))
    if found.regularizers != declared.regularizers:
        out.append(Convention("REGULARIZATION", _sentence(
            "REGULARIZATION", found,
            "an L2 term in your loss in Keras' meaning: factor * sum(w^2) added to the loss, "
            "gradient 2 * factor * W, biases untouched; the factor fitted from your "
            "gradients")))
    for other in alike:
        names = [name for name in ("UNITS", "HALF", "REDUCTION")
                 if getattr(other, name.lower()) != getattr(declared, name.lower())]
        out.append(Convention("SAME_NUMBERS", (
            f"{', '.join(declaration(name, other) for name in names) or 'Keras default'} "
            f"gives the same numbers on this batch ({n} rows, {k} output units); run with "
            f"another --batch to tell them apart.")))
    if layers is not None:
        where = ", ".join(map(str, layers))
        for convention in out:
            convention.message = convention.message.replace(
                "agrees with", f"layer(s) {where} agree with", 1)
    return out


def _sentence(name: str, found: Objective, what: str) -> str:
    return (f"agrees with {declaration(name, found)} ({what}); declare it in your file. "
            f"A difference of convention, not a bug.")
