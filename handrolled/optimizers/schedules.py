"""Learning-rate schedules, matched to keras.optimizers.schedules step for step.

    exp_decay(0.01,1000,0.9)                        ExponentialDecay
    exp_decay(0.01,1000,0.9,staircase=true)
    piecewise_constant(100/200,0.1/0.05/0.01)       PiecewiseConstantDecay
    cosine_decay(0.01,1000)                         CosineDecay
    cosine_decay(0.01,1000,alpha=0.1,warmup_target=0.02,warmup_steps=100)

A list inside the parentheses is written with '/' between its items (the
commas already separate the arguments): boundaries 100/200, values
0.1/0.05/0.01.  The arguments Keras requires come first by position (or by
Keras' keyword, e.g. decay_rate=0.9); the optional ones by keyword.  Use one
as an optimizer's learning rate: `adam(learning_rate=exp_decay(0.01,1000,0.9))`.

The optimizer evaluates a schedule at its `iterations` (the number of steps
already taken, so 0 at the first step) before counting the step, as Keras'
`optimizer.learning_rate` does: `self._learning_rate(self._iterations)`.

float32, always.  Keras starts every schedule with
`ops.convert_to_tensor(self.initial_learning_rate)`: a Python float becomes a
float32 tensor whatever floatx is, and every other number is cast to that
dtype.  So a schedule computes in float32 even for a float64 model, and the
optimizer widens the result (`ops.cast(learning_rate, variable.dtype)`).  We
do the same: every value below is an np.float32 and every operation is a
float32 operation, in Keras' order.  Two functions need care to round as
TensorFlow's CPU kernels round a float32 scalar: TensorFlow calls the C
library's powf and cosf for them, and so do `pow32` and `cos32` (through
ctypes, part of the standard library), whatever CPU NumPy's own loops are
tuned for:

* power: NumPy's float32 power is not always powf: on an Intel Xeon with
  AVX-512 (issue 22) it gave 0.92239994 for 0.9 ** (23/30) where TensorFlow
  gave 0.9223999 (as powf does here, on AMD without AVX-512); float64 pow
  rounded to float32 differs from powf for about one argument in a thousand
  (measured: 16 of 16,800 exp_decay steps);
* cosine: NumPy's float32 cos is its own vectorised approximation (it differs
  in the last bit for about one argument in ten) and float64 cos rounded to
  float32 differs for about one in a hundred.

On a platform without them, float64 rounded to float32 stands in.  Either
way no test pins these last bits (another C library may round another way):
tests compare a schedule with Keras' within one float32 unit in the last
place, and the training verdict's round-off envelope runs with the schedule
one unit up and one unit down (`OneUlpAway`), so a one-ulp learning rate
counts as round-off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math

import numpy as np

from ..errors import SpecError
from ..options import (Declared, Option, boolean, format_value, non_negative, non_negative_int,
                       optional, positive_int, slash_list)
from ..registry import Registry
from ..text import split_call

f32 = np.float32
EXAMPLES = ("exp_decay(0.01,1000,0.9), piecewise_constant(100/200,0.1/0.05/0.01), "
            "cosine_decay(0.01,1000,alpha=0.1)")


def _c_library(name: str, arguments: int):
    """The C library's float32 function `name` (what TensorFlow's CPU kernel calls), or None."""
    try:
        function = getattr(ctypes.CDLL(ctypes.util.find_library("m")), name)
    except (OSError, AttributeError, TypeError):
        return None
    function.restype = ctypes.c_float
    function.argtypes = [ctypes.c_float] * arguments
    return function


_COSF = _c_library("cosf", 1)
_POWF = _c_library("powf", 2)


def cos32(x: np.float32) -> np.float32:
    """cos of a float32 scalar, rounded as TensorFlow's CPU kernel rounds it."""
    if _COSF is not None:
        return f32(_COSF(float(x)))
    return f32(math.cos(float(x)))


def pow32(x: np.float32, y: np.float32) -> np.float32:
    """x ** y of two float32 scalars, rounded as TensorFlow's CPU kernel rounds it."""
    if _POWF is not None:
        return f32(_POWF(float(x), float(y)))
    return f32(math.pow(float(x), float(y)))


class Schedule(Declared):
    """Base class: a subclass declares OPTIONS (one `Option` per argument, in Keras'
    order and under Keras' names, the required ones by position) and writes
    `__call__`; its __init__, text, form and get_config come from OPTIONS."""

    name: str = ""                 # the text name, e.g. "exp_decay" (set by `register`)
    keras_name: str = ""           # the class in keras.optimizers.schedules

    def __call__(self, step: int) -> np.float32:
        """The learning rate at optimizer step `step` (steps already taken)."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """Keras' constructor arguments (lists as lists), under Keras' names."""
        config = {"class_name": self.keras_name}
        for key, value in self.declared_config().items():
            config[key] = list(value) if isinstance(value, tuple) else value
        return config

    def __repr__(self) -> str:
        return f"<schedule {self.text}>"


SCHEDULES = Registry("learning-rate schedule")
register = SCHEDULES.register
names = SCHEDULES.names


def get(text) -> Schedule:
    """A schedule from its text, e.g. 'exp_decay(0.01,1000,0.9)'."""
    if isinstance(text, Schedule):
        return text
    name, args = split_call(str(text), "schedule", EXAMPLES)
    cls = SCHEDULES.lookup(name, hint=f" (e.g. {EXAMPLES})")
    if args is None:
        raise SpecError(f"{cls.name} needs arguments; expected {cls.form()}")
    return cls.from_text(args)


# ------------------------------------------------------------------ the schedules
@register("exp_decay", "exponential_decay")
class ExponentialDecay(Schedule):
    """lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps)

    with p = floor(step / decay_steps) instead if staircase.  In float32:

        p  = f32(step) / f32(decay_steps)          [floor(p) if staircase]
        lr = f32(initial_learning_rate) * f32(decay_rate) ** p
    """

    keras_name = "ExponentialDecay"
    OPTIONS = (Option("initial_learning_rate", non_negative, positional=True),
               Option("decay_steps", positive_int, positional=True),
               Option("decay_rate", non_negative, positional=True),
               Option("staircase", boolean, False))

    def __call__(self, step: int) -> np.float32:
        p = f32(step) / f32(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return f32(self.initial_learning_rate) * pow32(f32(self.decay_rate), p)


@register("piecewise_constant", "piecewise_constant_decay")
class PiecewiseConstantDecay(Schedule):
    """lr(step) = values[0]    if step <= boundaries[0]
                 values[i]    if boundaries[i-1] < step <= boundaries[i]
                 values[-1]   if step > boundaries[-1]

    (in float32; Keras adds up value * [step in its range], which gives the
    same number).  piecewise_constant(100/200,0.1/0.05/0.01): 0.1 for steps
    0..100, 0.05 for 101..200, 0.01 after."""

    keras_name = "PiecewiseConstantDecay"
    OPTIONS = (Option("boundaries", slash_list(non_negative_int), positional=True,
                      convert=lambda value, what: tuple(int(b) for b in value)),
               Option("values", slash_list(non_negative), positional=True,
                      convert=lambda value, what: tuple(float(v) for v in value)))

    def __post_init__(self):
        if len(self.boundaries) != len(self.values) - 1:
            raise SpecError(f"piecewise_constant needs one value more than boundaries, got "
                            f"{len(self.boundaries)} boundaries and {len(self.values)} values; "
                            f"e.g. piecewise_constant(100/200,0.1/0.05/0.01)")
        if any(b >= c for b, c in zip(self.boundaries, self.boundaries[1:])):
            raise SpecError(f"piecewise_constant boundaries must increase, got "
                            f"{format_value(self.boundaries)}")

    def __call__(self, step: int) -> np.float32:
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return f32(value)
        return f32(self.values[-1])


@register("cosine_decay")
class CosineDecay(Schedule):
    """Cosine decay, after an optional linear warm-up.  Without warmup_target:

        s  = min(step, decay_steps)
        lr = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi s / decay_steps)) + alpha)

    With warmup_target, for the first warmup_steps steps a straight line from
    initial_learning_rate to warmup_target, then the decay above from
    warmup_target, over s = min(step, decay_steps + warmup_steps) - warmup_steps.
    In float32, in Keras' order (`_warmup_function`, `_decay_function`):

        warm-up: (target - initial) * (step / warmup_steps) + initial
        decay:   c = 0.5 * (1 + cos(f32(pi) * (s / decay_steps)))
                 lr = from_lr * (f32(1 - alpha) * c + f32(alpha))
    """

    keras_name = "CosineDecay"
    OPTIONS = (Option("initial_learning_rate", non_negative, positional=True),
               Option("decay_steps", positive_int, positional=True),
               Option("alpha", non_negative, 0.0),
               Option("warmup_target", optional(non_negative), None),
               Option("warmup_steps", non_negative_int, 0))

    def _decay(self, step: np.float32, decay_steps: np.float32, from_lr: np.float32):
        completed_fraction = step / decay_steps
        cosine_decayed = f32(0.5) * (f32(1.0) + cos32(f32(math.pi) * completed_fraction))
        decayed = f32(1 - self.alpha) * cosine_decayed + f32(self.alpha)
        return from_lr * decayed

    def __call__(self, step: int) -> np.float32:
        initial = f32(self.initial_learning_rate)
        decay_steps = f32(self.decay_steps)
        step = f32(step)
        if self.warmup_target is None:
            return self._decay(min(step, decay_steps), decay_steps, initial)
        target = f32(self.warmup_target)
        warmup_steps = f32(self.warmup_steps)
        step = min(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            return (target - initial) * (step / warmup_steps) + initial
        return self._decay(step - warmup_steps, decay_steps, target)


class OneUlpAway(Schedule):
    """Another schedule's values one float32 unit in the last place up (direction +1)
    or down (-1): what a C library whose powf or cosf rounds the other way would give.
    Not registered (no text of its own): the training verdict's round-off samples run
    with it (compare/training/side_by_side.py), so that a one-ulp learning rate, all a
    schedule may differ by from Keras' on another machine, counts as round-off."""

    def __init__(self, schedule: Schedule, direction: int):
        self.schedule, self.direction = schedule, direction
        self.name, self.keras_name = schedule.name, schedule.keras_name

    def __call__(self, step: int) -> np.float32:
        return np.nextafter(self.schedule(step), f32(self.direction * np.inf), dtype=f32)

    def get_config(self) -> dict:
        return self.schedule.get_config()

    @property
    def text(self) -> str:
        return self.schedule.text
