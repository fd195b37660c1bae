"""Per-neuron activations: each unit of a layer computes its own function.

    100:mix(relu,abs,sin)               unit j gets functions[j % 3]: relu, abs, sin, relu, ...
    100:mix(relu,abs,sin;random)        the same counts, shuffled with seed 0
    100:mix(relu,abs,sin;random,seed=7) ... with seed 7
    mix_of(["relu", "abs", "abs", ...]) an explicit unit -> function list (from Python)

The assignment is a vector `assignment[j] = k` (unit j computes functions[k]).
`value` and `derivative` group the columns by function, so NumPy runs one
vectorised call per function, never a Python loop over units:

    a[:, cols_k] = f_k(z[:, cols_k])        f'[:, cols_k] = f_k'(z[:, cols_k])

The Keras twin (keras_impl.layers.PerUnitActivation) selects the same thing
with the one-hot mask of the same assignment (nested `where`s, so no unit
sees another unit's f_k), and unit j is column j on both sides.
"""

from __future__ import annotations

import numpy as np

from ..errors import SpecError
from ..text import split_top_level
from .core import Activation, get, register

_MIX_FORM = ("mix(F1,F2,...) or mix(F1,F2,...;random[,seed=N]) with elementwise functions, "
             "e.g. mix(relu,abs,sin)")


class PerUnitActivation(Activation):
    """Base of mix and stochastic: a unit -> function assignment, applied by groups."""

    per_unit = True

    def __init__(self, functions):
        if not functions:
            raise SpecError(f"{self.name} needs at least one function; expected {self.form}")
        self.functions = [get(f) for f in functions]
        for f in self.functions:
            if f.per_unit:
                raise SpecError(f"{self.name}(...) takes elementwise functions, got '{f.text}' "
                                f"inside it")
        self.kinks = tuple(sorted({c for f in self.functions for c in f.kinks}))
        self._groups_cache: tuple | None = None

    form = _MIX_FORM

    def assignment(self, units: int) -> np.ndarray:
        """assignment[j] = index into self.functions for unit j (now)."""
        raise NotImplementedError

    def _state_key(self):
        """What the current assignment depends on besides `units` (for the cache)."""
        return None

    def groups(self, units: int) -> list[tuple[Activation, np.ndarray]]:
        """[(f_k, columns computing f_k)] for the current assignment, empty groups left out."""
        key = (units, self._state_key())
        if self._groups_cache is None or self._groups_cache[0] != key:
            assignment = self.assignment(units)
            groups = [(f, np.flatnonzero(assignment == k)) for k, f in enumerate(self.functions)]
            self._groups_cache = (key, [(f, cols) for f, cols in groups if cols.size])
        return self._groups_cache[1]

    def mask(self, units: int, dtype="float64") -> np.ndarray:
        """One-hot (len(functions), units): mask[k, j] = 1 where unit j computes f_k."""
        return (self.assignment(units)[None, :] ==
                np.arange(len(self.functions))[:, None]).astype(dtype)

    def value(self, z):
        a = np.empty_like(z)
        for f, cols in self.groups(z.shape[-1]):
            a[..., cols] = f.value(z[..., cols])
        return a

    def derivative(self, z, a):
        d = np.empty_like(z)
        for f, cols in self.groups(z.shape[-1]):
            d[..., cols] = f.derivative(z[..., cols], a[..., cols])
        return d

    def _functions_text(self) -> str:
        return ",".join(f.text for f in self.functions)


def parse_body(name: str, args: str | None, form: str) -> tuple[list[str], dict[str, str]]:
    """'relu,abs;random,seed=3' -> (['relu', 'abs'], {'random': '', 'seed': '3'})."""
    if args is None or not args.strip():
        raise SpecError(f"{name} needs a list of functions; expected {form}")
    parts = split_top_level(args, ";")
    functions = [f.strip() for f in split_top_level(parts[0])]
    if any(not f for f in functions):
        raise SpecError(f"empty function name in '{name}({args})'; expected {form}")
    options: dict[str, str] = {}
    for part in parts[1:]:
        for item in part.split(","):
            key, _, value = item.strip().partition("=")
            if not key:
                raise SpecError(f"empty option in '{name}({args})'; expected {form}")
            options[key.strip()] = value.strip()
    return functions, options


def parse_seed(options: dict[str, str], name: str) -> int:
    text = options.pop("seed", "0")
    if not text.isdigit():
        raise SpecError(f"{name}'s seed must be a non-negative integer, got '{text}'")
    return int(text)


def reject_unknown(options: dict[str, str], name: str, accepted: str) -> None:
    if options:
        raise SpecError(f"unknown option '{next(iter(options))}' in {name}(...); "
                        f"accepted: {accepted}")


@register("mix", example="mix(relu,abs,sin)")
class Mix(PerUnitActivation):
    """A fixed assignment: repeating pattern, seeded shuffle, or an explicit list."""

    def __init__(self, functions, rule: str = "pattern", seed: int = 0,
                 assignment=None):
        super().__init__(functions)
        self.rule, self.seed = rule, int(seed)
        self.explicit = None
        if rule == "explicit":
            explicit = np.asarray(assignment)
            if explicit.ndim != 1 or explicit.size == 0 or explicit.dtype.kind not in "iu" \
                    or explicit.min() < 0 or explicit.max() >= len(self.functions):
                raise SpecError(f"an explicit mix assignment is a list of function indices "
                                f"0..{len(self.functions) - 1}, one per unit")
            self.explicit = explicit.astype(np.int64)

    @classmethod
    def from_text(cls, args):
        functions, options = parse_body("mix", args, _MIX_FORM)
        if "assign" in options:
            indices = options.pop("assign").split("/")
            if not all(i.isdigit() for i in indices):
                raise SpecError(f"mix's assign= takes function indices separated by '/', "
                                f"e.g. assign=0/1/1/0, got '{'/'.join(indices)}'")
            reject_unknown(options, "mix", "assign=I/J/...")
            return cls(functions, "explicit", assignment=[int(i) for i in indices])
        random = options.pop("random", None) is not None
        seed = parse_seed(options, "mix")
        reject_unknown(options, "mix", "random, seed=N")
        if seed and not random:
            raise SpecError("mix's seed=N needs 'random': mix(F1,F2,...;random,seed=N)")
        return cls(functions, "random" if random else "pattern", seed)

    @property
    def text(self):
        body = self._functions_text()
        if self.rule == "random":
            body += ";random" + (f",seed={self.seed}" if self.seed else "")
        elif self.rule == "explicit":
            body += ";assign=" + "/".join(map(str, self.explicit))
        return f"mix({body})"

    def assignment(self, units):
        k = len(self.functions)
        if self.rule == "explicit":
            if self.explicit.size != units:
                raise SpecError(f"the explicit mix assignment lists {self.explicit.size} units "
                                f"but the layer has {units}")
            return self.explicit
        pattern = np.arange(units) % k
        if self.rule == "random":
            # A shuffled pattern: every function gets its share of units.
            return np.random.default_rng(self.seed).permutation(pattern)
        return pattern


def mix_of(unit_functions) -> Mix:
    """An explicit per-unit layer from Python: mix_of(["relu", "abs", "abs", "sin"]).

    Functions are listed once each, in order of first appearance; use it as
    `LayerSpec(len(unit_functions), mix_of(...).text)`.
    """
    texts = [get(f).text for f in unit_functions]
    functions = list(dict.fromkeys(texts))
    return Mix(functions, "explicit", assignment=[functions.index(t) for t in texts])
