"""Weight and activity penalties, by hand, as Keras adds them to the loss.

    l1(f):       f * sum |w|            gradient f * sign(w)   (sign(0) = 0, as TensorFlow)
    l2(f):       f * sum w^2            gradient 2 f w         (no 1/2, no learning rate)
    l1_l2(a, b): a * sum |w| + b * sum w^2

A layer takes them as `kernel=l2(0.01)` (Keras' kernel_regularizer: a penalty
on the layer's kernel, added at every step) and `activity=l1(0.0004)` (Keras'
activity_regularizer: a penalty on the layer's output a, computed on each
batch).  The loss Keras reports and differentiates is the data loss plus every
penalty.

Two details change from one Keras version and backend to another: whether the
factor is rounded to float32 first (Keras casts the Python float with `ops.cast`,
which goes through float32 on TensorFlow: l1(0.0004) is applied as
0.00039999998989515) and whether an activity penalty is divided by the batch
size.  They are a `Conventions` value (handrolled/conventions.py) that the caller
passes in: `value(w, conventions)`, `gradient(w, conventions)`; the network passes
its spec's.
"""

from __future__ import annotations

import numpy as np

from .activations.core import parse_number
from .conventions import KERAS, Conventions
from .errors import SpecError, unknown
from .ranges import float32_number
from .text import split_arguments, split_call


class Regularizer:
    name = ""
    has_kink = False  # |w| has a kink at 0: sign(w) tells a finite difference it crossed

    def value(self, w: np.ndarray, conventions: Conventions = KERAS) -> float:
        raise NotImplementedError

    def kink_pattern(self, w: np.ndarray) -> bytes:
        """Where |w|'s slope jumps: the signs of w (l1), nothing for l2."""
        return np.sign(w).astype(np.int8).tobytes() if self.has_kink else b""

    def gradient(self, w: np.ndarray, conventions: Conventions = KERAS) -> np.ndarray:
        raise NotImplementedError

    @property
    def text(self) -> str:
        raise NotImplementedError

    def __eq__(self, other):
        return type(other) is type(self) and other.text == self.text

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return f"<regularizer {self.text}>"


class L1(Regularizer):
    name = "l1"
    has_kink = True

    def __init__(self, l1: float):
        self.l1 = l1

    def factor(self, conventions: Conventions = KERAS) -> float:
        """The factor applied: l1 as given, or rounded to float32 where Keras does."""
        return conventions.factor("l1", self.l1)

    def value(self, w, conventions=KERAS):
        return self.factor(conventions) * np.sum(np.abs(w))         # f sum |w|

    def gradient(self, w, conventions=KERAS):
        return self.factor(conventions) * np.sign(w)                 # f sign(w)

    @property
    def text(self):
        return f"l1({_number(self.l1)})"


class L2(Regularizer):
    name = "l2"

    def __init__(self, l2: float):
        self.l2 = l2

    def factor(self, conventions: Conventions = KERAS) -> float:
        """The factor applied: l2 as given, or rounded to float32 where Keras does."""
        return conventions.factor("l2", self.l2)

    def value(self, w, conventions=KERAS):
        return self.factor(conventions) * np.sum(np.square(w))      # f sum w^2

    def gradient(self, w, conventions=KERAS):
        return 2 * self.factor(conventions) * w                      # 2 f w

    @property
    def text(self):
        return f"l2({_number(self.l2)})"


class L1L2(Regularizer):
    name = "l1_l2"

    def __init__(self, l1: float, l2: float):
        self.parts = [part for part in (L1(l1), L2(l2)) if (part.l1 if part.name == "l1"
                                                           else part.l2) != 0.0]
        self.l1, self.l2 = l1, l2
        self.has_kink = l1 != 0.0

    def value(self, w, conventions=KERAS):
        total = 0.0
        for part in self.parts:  # Keras: 0.0 + the l1 term + the l2 term, in that order
            total += part.value(w, conventions)
        return total

    def gradient(self, w, conventions=KERAS):
        return sum((part.gradient(w, conventions) for part in self.parts), np.zeros_like(w))

    @property
    def text(self):
        return f"l1_l2({_number(self.l1)},{_number(self.l2)})"


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


_FORM = "l1(F), l2(F) or l1_l2(F1,F2) with factors >= 0, e.g. l2(0.01)"


def get(text) -> Regularizer | None:
    """'l2(0.01)' -> L2(0.01); None or 'none' -> None."""
    if text is None or isinstance(text, Regularizer):
        return text
    text = str(text).strip()
    if text.lower() in ("", "none"):
        return None
    name, args = split_call(text, "regularizer", "'l2(0.01)'")
    positional, keywords = split_arguments(args)
    forms = {"l1": ("l1",), "l2": ("l2",), "l1_l2": ("l1", "l2")}
    names = forms.get(name)
    if names is None:
        raise unknown("regularizer", name, forms, _FORM)
    given = dict(zip(names, positional), **keywords)
    if len(positional) > len(names) or set(given) - set(names) or \
            (name != "l1_l2" and len(given) != 1):
        raise SpecError(f"malformed regularizer '{text}'; expected {_FORM}")
    factors = {key: float32_number(parse_number(given.get(key, "0"), f"the factor of {name}"),
                                   f"the factor of {name}") for key in names}
    if any(f < 0 for f in factors.values()):
        raise SpecError(f"regularizer factors must be >= 0, got '{text}'")
    return {"l1": L1, "l2": L2, "l1_l2": L1L2}[name](**factors)
