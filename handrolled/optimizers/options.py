"""The optimizers' own option parsers and the two options every optimizer declares.

The parsers every family shares (`number`, `non_negative`, `boolean`,
`positive_int`, ...) and the `Option` declaration are in handrolled/options.py;
here are the ranges only hyper-parameters have.  Each takes a value from the
text form (a string) or from Python, checks it, and returns the canonical value;
a bad one raises a one-line SpecError that names the option (`what`) and what
is accepted.
"""

from __future__ import annotations

from ..errors import SpecError
from ..options import Option, non_negative, number, optional
from . import schedules
from .schedules import Schedule


def unit_interval(value, what: str) -> float:
    """A number in [0, 1] (momentum, rho)."""
    return number(value, what, 0.0, 1.0)


def beta(value, what: str) -> float:
    """A number in [0, 1) (Adam's decay rates: beta = 1 would divide by zero)."""
    return number(value, what, 0.0, 1.0, high_open=True)


optional_non_negative = optional(non_negative)   # a number >= 0, or none (no weight decay)


def learning_rate(value, what: str = "learning_rate"):
    """A number >= 0, a Schedule, or a schedule's text ('exp_decay(0.01,1000,0.9)')."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, str) and "(" in value:
        return schedules.get(value)
    if isinstance(value, str) and value.strip() and value.strip()[0].isalpha():
        raise SpecError(f"{what} must be a number >= 0 or a schedule "
                        f"({schedules.EXAMPLES}), got '{value}'")
    return non_negative(value, what)


def learning_rate_option(default: float) -> Option:
    """learning_rate: a number >= 0 or a schedule (its default is the optimizer's); the
    one option the text also takes by position (sgd(0.1)), and as lr=."""
    return Option("learning_rate", learning_rate, default, alias="lr")


# Every Keras optimizer takes weight_decay (none: no decay); AdamW declares its own.
WEIGHT_DECAY = Option("weight_decay", optional_non_negative, None)
