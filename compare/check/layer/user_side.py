"""Running the user's layer on a case, through the UserProcess, in the user's own terms.

Each case gets a fresh start: a new LAYER_CLASS instance (made with the
configuration when its constructor takes `config`), or, in the function style,
nothing to reset (state travels in `params`).  Arrays go in converted to the
user's layout and names and come back converted to canonical ones, so every
comparison after this module is one loop over the same keys.

What the user's code does wrong as code is a TargetError (exit 2, one line):
it raises, returns the wrong structure, NaN or infinity, an output of the wrong
shape, or gradients under other names.  A dx that is None or empty is kept as
data: that is the [p:-p]-at-pad-0 bug, which the diagnosis names.
"""

from __future__ import annotations

import numpy as np

from ..errors import TargetError
from .contract import LayerTarget
from .results import StepResult

ARRAYS = ("dict", "array")


class UserLayer:
    def __init__(self, user, target: LayerTarget):
        self.user, self.target, self.layout = user, target, target.layout

    def _forward_returns(self):
        if self.target.stateful:
            return ("tuple", ["array", "handle", ("optional", ARRAYS)])
        return ("tuple", ["array", "handle"])

    def _callables(self, case):
        if self.target.style == "functions":
            return "forward", "backward"
        args = (case.config.options(),) if self.target.takes_config else ()
        instance = self.user.call(self.target.class_name, *args, returns="handle")
        return (instance, "forward"), (instance, "backward")

    def run(self, case) -> list[StepResult]:
        forward, backward = self._callables(case)
        extra = ((case.config.options(),)
                 if self.target.style == "functions" and self.target.takes_config else ())
        state = dict(case.state)
        results = []
        for index, step in enumerate(case.steps):
            mode = "training" if step.training else "inference"
            where = f"{case.label}, call {index + 1} ({mode})"
            params = self.layout.params_to_user({**case.trainable, **state})
            x = self.layout.data_to_user(step.x)
            returned = self._call(forward, where, self._forward_returns(),
                                  x, params, step.training, *extra)
            out, cache = returned[0], returned[1]
            expected = step.dout.shape
            if out.shape != self.layout.shape_to_user(None, expected):
                raise TargetError(f"{self._name('forward')} returned an output of shape "
                                  f"{out.shape} for an input of shape {x.shape} ({where}); "
                                  f"Keras' output has shape "
                                  f"{self.layout.shape_to_user(None, expected)}")
            self._finite(out, "the output", "forward", where)
            dx, grads = self._call(backward, where,
                                   ("tuple", [("optional", "array"), ("optional", ARRAYS)]),
                                   self.layout.data_to_user(step.dout), cache)
            grads = self._grads(grads or {}, case, where)
            if dx is not None and dx.size:
                self._finite(dx, "dx", "backward", where)
            if self.target.stateful:
                state = self._state(returned[2], state, case, where)
            result = StepResult(self.layout.data_from_user(out).astype(out.dtype),
                                None if dx is None else self._dx(dx, step.x),
                                grads, dict(state))
            if case.config.kind == "dropout" and step.training:
                result.kept = float(np.mean(out != 0))
            results.append(result)
        return results

    # ------------------------------------------------------------ conversions
    def _dx(self, dx, x):
        if dx.shape == self.layout.shape_to_user(None, x.shape):
            return self.layout.data_from_user(dx)
        if dx.size == 0:
            return dx                                   # the empty-dx bug: data, not an error
        raise TargetError(f"{self._name('backward')} returned dx of shape {dx.shape}; the "
                          f"input has shape {self.layout.shape_to_user(None, x.shape)}")

    def _grads(self, grads: dict, case, where) -> dict:
        expected = dict(case.trainable)
        wanted = {self.layout.user_name(k) for k in expected}
        if set(grads) != wanted:
            raise TargetError(f"{self._name('backward')} returned gradients for "
                              f"{sorted(grads) or 'nothing'}; expected exactly {sorted(wanted)} "
                              f"({where}; Keras' names {sorted(expected)}, renamed by "
                              f"PARAM_NAMES)")
        out = {}
        for user_name, value in grads.items():
            name = self.layout.keras_name(user_name)
            self._finite(value, f"the gradient '{user_name}'", "backward", where)
            if name == "bias" and value.ndim == 3:     # one value per position (a named bug):
                value = self.layout.data_from_user(value[None])[0]   # canonical (oh, ow, F)
            out[name] = self.layout.param_from_user(name, value, expected[name].shape)
        return out

    def _state(self, returned, previous, case, where) -> dict:
        if not returned:
            return previous                              # None or {}: unchanged
        wanted = {self.layout.user_name(k) for k in case.state}
        if set(returned) != wanted:
            raise TargetError(f"{self._name('forward')} returned state {sorted(returned)}; "
                              f"expected exactly {sorted(wanted)} ({where})")
        state = {}
        for user_name, value in returned.items():
            name = self.layout.keras_name(user_name)
            self._finite(value, f"the state '{user_name}'", "forward", where)
            if value.shape != case.state[name].shape:
                raise TargetError(f"{self._name('forward')} returned state '{user_name}' of "
                                  f"shape {value.shape}; expected {case.state[name].shape}")
            state[name] = value
        return state

    def _call(self, what, where, returns, *args):
        from ..errors import ContractError

        try:
            return self.user.call(what, *args, returns=returns)
        except ContractError as error:
            name = self._name(what if isinstance(what, str) else what[1])
            raise TargetError(f"{name} returned {self._described(error)} ({where}); "
                              f"{self._expected(what)}", getattr(error, "details", "")) from None

    def _described(self, error) -> str:
        path = "".join(f"[{p!r}]" for p in getattr(error, "path", ()) or ())
        problem = getattr(error, "problem", "") or str(error)
        return f"a result whose part {path} {problem}" if path else f"a result that {problem}"

    def _expected(self, what) -> str:
        name = what if isinstance(what, str) else what[1]
        if name == "forward":
            return ("forward must return (out, cache, state)" if self.target.stateful
                    else "forward must return (out, cache)")
        return "backward must return (dx, grads), grads a dict of arrays"

    def _finite(self, value, what, function, where):
        if not np.all(np.isfinite(value)):
            raise TargetError(f"{self._name(function)} returned NaN or infinity in {what} "
                              f"({where})")

    def _name(self, function: str) -> str:
        return (f"{function}()" if self.target.style == "functions"
                else f"LAYER_CLASS.{function}()")
