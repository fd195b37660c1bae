"""The user's optimizer, called through its own process: the contract of an optimizer target.

    OPTIMIZER = "adam(learning_rate=0.001)"     # the Keras twin, in the project's text
    def update(w, g, state):                    # one parameter array, one step
        ...                                     # state: None at the first step, then
        return w, state                         #   whatever this returned last time

Three forms (`FORM`, default "array"):

* "array": `update(w, g, state) -> (w, state)` for one array; the checker keeps one
  state per parameter array (CS231n's `adam(w, dw, config)` is this form);
* "dict": `update(params, grads, state) -> (params, state)` over dicts of arrays with
  the same keys (the project's names, e.g. "conv1/kernel"), one call per step;
* a class: `update = MyAdam` (any class; FORM is not needed).  Each run makes a fresh
  instance with no arguments and calls its `update(params, grads) -> params` method
  (or `step`) once per step, over dicts; the instance keeps its own state.  A method
  that changes the arrays in place must still return them: the arrays it receives
  are copies.

State never leaks between runs: every run (one per dtype) starts from `state = None`
or a fresh instance.
"""

from __future__ import annotations

import numpy as np

from .errors import ContractError, TargetError

FORMS = ("array", "dict")
CONTRACT = ("an optimizer target defines OPTIMIZER (e.g. \"adam(learning_rate=0.001)\") and "
            "update(w, g, state) -> (w, state); with FORM = \"dict\", update(params, grads, "
            "state) -> (params, state) over dicts; or update = YourClass with an "
            "update(params, grads) -> params method (see docs/checking/optimizer.md)")


def form_of(declared: dict) -> str:
    """'array', 'dict' or 'class', from what the file declares."""
    update = declared.get("update")
    if not isinstance(update, dict) or update.get("callable") not in ("function", "class"):
        raise TargetError(f"update is not a function or a class; {CONTRACT}")
    if update["callable"] == "class":
        methods = update.get("methods") or []
        if not any(m in methods for m in ("update", "step")):
            raise TargetError(f"update is a class without an update or step method; {CONTRACT}")
        return "class"
    form = declared.get("FORM", "array")
    if form not in FORMS:
        raise TargetError(f"FORM is {form!r}; accepted: 'array' (update(w, g, state) per "
                          f"array) or 'dict' (update(params, grads, state) over dicts)")
    return form


def describe_form(form: str) -> str:
    return {"array": "update(w, g, state), one call per parameter array",
            "dict": "update(params, grads, state) over dicts, one call per step",
            "class": "a fresh update() instance per run, its update(params, grads) per step"
            }[form]


def run_user(user, form: str, start: dict, grads: list, declared: dict) -> list[dict]:
    """The weights after every step of the user's optimizer, from `start` (a fresh state)."""
    names = list(start)
    weights = {n: w.copy() for n, w in start.items()}
    out = []
    if form == "class":
        methods = declared["update"].get("methods") or []
        instance = user.call("update", returns="handle")
        method = (instance, "update" if "update" in methods else "step")
    state = {n: None for n in names} if form == "array" else None
    for t, g in enumerate(grads, start=1):
        try:
            if form == "array":
                for n in names:
                    where = f"update(w, g, state) for {n} at step {t}"
                    weights[n], state[n] = user.call("update", weights[n], g[n], state[n],
                                                     returns=("tuple", ["array", "handle"]))
            elif form == "dict":
                where = f"update(params, grads, state) at step {t}"
                weights, state = user.call("update", weights, g, state,
                                           returns=("tuple", [("dict", "array"), "handle"]))
            else:
                where = f"update().{method[1]}(params, grads) at step {t}"
                weights = user.call(method, weights, g, returns=("dict", "array"))
        except ContractError as error:
            raise TargetError(f"{where} returned something else than the contract: "
                              f"{_named(error.path, form)} {error.problem}; {CONTRACT}",
                              getattr(error, "details", "")) from None
        _check(weights, start, where)
        out.append({n: np.asarray(weights[n]) for n in names})
    return out


def _named(path: tuple, form: str) -> str:
    """A place in update's result in the user's terms: 'w', 'params['conv1/kernel']', 'state'."""
    if not path:
        return "the result"
    if form == "class":
        return f"params[{path[0]!r}]"
    if path[0] == 1:
        return "state"
    return "w" if form == "array" else (f"params[{path[1]!r}]" if len(path) > 1 else "params")


def _check(weights: dict, start: dict, where: str) -> None:
    if set(weights) != set(start):
        raise TargetError(f"{where} returned parameters {sorted(weights)}; expected the keys "
                          f"it was given, {sorted(start)}")
    for n, w in weights.items():
        if np.shape(w) != start[n].shape:
            raise TargetError(f"{where} returned shape {np.shape(w)} for {n}; expected "
                              f"{start[n].shape}, the shape it was given")
        bad = ~np.isfinite(w)
        if bad.any():
            kind = "NaN" if np.isnan(w).any() else "inf"
            raise TargetError(f"{where} returned {kind} in {n} ({int(bad.sum())} of {w.size} "
                              f"values); the parameters must stay finite")
