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
from .errors import SpecError
from .options import Declared, Option
from .ranges import float32_number
from .registry import Registry
from .text import split_call


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def penalty_factor(value, what: str) -> float:
    """A penalty factor: a number >= 0 that float32 holds (Keras casts it)."""
    number = float32_number(parse_number(str(value), what), what)
    if number < 0:
        raise SpecError(f"{what} must be >= 0, got {_number(number)}")
    return number


REGULARIZERS = Registry("regularizer")


class Regularizer(Declared):
    """Base class: a subclass declares its factors as OPTIONS (handrolled/options.py)."""

    name = ""
    has_kink = False  # |w| has a kink at 0: sign(w) tells a finite difference it crossed

    def value(self, w: np.ndarray, conventions: Conventions = KERAS) -> float:
        raise NotImplementedError

    def kink_pattern(self, w: np.ndarray) -> bytes:
        """Where |w|'s slope jumps: the signs of w (l1), nothing for l2."""
        return np.sign(w).astype(np.int8).tobytes() if self.has_kink else b""

    def gradient(self, w: np.ndarray, conventions: Conventions = KERAS) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def option_label(cls, name: str) -> str:
        return f"the factor of {cls.owner()}"

    def __eq__(self, other):
        return type(other) is type(self) and other.text == self.text

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return f"<regularizer {self.text}>"


@REGULARIZERS.register("l1")
class L1(Regularizer):
    OPTIONS = (Option("l1", penalty_factor, positional=True, write=_number),)
    has_kink = True

    def factor(self, conventions: Conventions = KERAS) -> float:
        """The factor applied: l1 as given, or rounded to float32 where Keras does."""
        return conventions.factor("l1", self.l1)

    def value(self, w, conventions=KERAS):
        return self.factor(conventions) * np.sum(np.abs(w))         # f sum |w|

    def gradient(self, w, conventions=KERAS):
        return self.factor(conventions) * np.sign(w)                 # f sign(w)


@REGULARIZERS.register("l2")
class L2(Regularizer):
    OPTIONS = (Option("l2", penalty_factor, positional=True, write=_number),)

    def factor(self, conventions: Conventions = KERAS) -> float:
        """The factor applied: l2 as given, or rounded to float32 where Keras does."""
        return conventions.factor("l2", self.l2)

    def value(self, w, conventions=KERAS):
        return self.factor(conventions) * np.sum(np.square(w))      # f sum w^2

    def gradient(self, w, conventions=KERAS):
        return 2 * self.factor(conventions) * w                      # 2 f w


@REGULARIZERS.register("l1_l2")
class L1L2(Regularizer):
    OPTIONS = (Option("l1", penalty_factor, 0.0, positional=True, always=True,
                      write=_number),
               Option("l2", penalty_factor, 0.0, positional=True, always=True,
                      write=_number))

    def __post_init__(self):
        self.parts = [part for part in (L1(self.l1), L2(self.l2))
                      if (part.l1 if part.name == "l1" else part.l2) != 0.0]
        self.has_kink = self.l1 != 0.0

    def value(self, w, conventions=KERAS):
        total = 0.0
        for part in self.parts:  # Keras: 0.0 + the l1 term + the l2 term, in that order
            total += part.value(w, conventions)
        return total

    def gradient(self, w, conventions=KERAS):
        return sum((part.gradient(w, conventions) for part in self.parts), np.zeros_like(w))


_FORM = "l1(F), l2(F) or l1_l2(F1,F2) with factors >= 0, e.g. l2(0.01)"


def get(text) -> Regularizer | None:
    """'l2(0.01)' -> L2(0.01); None or 'none' -> None."""
    if text is None or isinstance(text, Regularizer):
        return text
    text = str(text).strip()
    if text.lower() in ("", "none"):
        return None
    name, args = split_call(text, "regularizer", "'l2(0.01)'")
    cls = REGULARIZERS.lookup(name, hint=f" ({_FORM})")
    if not (args or "").strip() and any(option.required for option in cls.OPTIONS):
        raise SpecError(f"{cls.name} needs a factor; expected {_FORM}")
    return cls.from_text(args)
