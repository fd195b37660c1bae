"""Option parsers shared by the optimizers and the schedules.

Each takes a value from the text form (a string) or from Python, checks it,
and returns the canonical value; a bad one raises a one-line SpecError that
names the option (`what`) and what is accepted.  `format_value` writes a
value back the way the text form reads it.
"""

from __future__ import annotations

import math

from ..errors import SpecError
from ..ranges import float32_number, int64_number


def number(value, what: str, low: float = -math.inf, high: float = math.inf,
           high_open: bool = False) -> float:
    """A finite float from text or a Python number, checked against [low, high] or
    [low, high) and against float32's range (handrolled/ranges.py)."""
    if isinstance(value, bool):
        raise SpecError(f"{what} must be a number, got {value!r}")
    try:
        result = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise SpecError(f"{what} must be a number, got '{value}'") from None
    bound = f"[{low:g}, {high:g}{')' if high_open else ']'}"
    if (not math.isfinite(result) or result < low or result > high
            or (high_open and result == high)):
        raise SpecError(f"{what} must be a number in {bound}, got '{value}'")
    return float32_number(result, what)   # every option here reaches Keras as a float32


def non_negative(value, what: str) -> float:
    return number(value, what, 0.0)


def unit_interval(value, what: str) -> float:
    """A number in [0, 1] (momentum, rho)."""
    return number(value, what, 0.0, 1.0)


def beta(value, what: str) -> float:
    """A number in [0, 1) (Adam's decay rates: beta = 1 would divide by zero)."""
    return number(value, what, 0.0, 1.0, high_open=True)


def boolean(value, what: str) -> bool:
    """true/false (any case) or a Python bool."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise SpecError(f"{what} must be true or false, got '{value}'")


def optional_non_negative(value, what: str) -> float | None:
    """A number >= 0, or none (no weight decay)."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return None
    return non_negative(value, what)


def positive_int(value, what: str) -> int:
    """An integer >= 1 (a number of steps)."""
    if isinstance(value, bool):
        raise SpecError(f"{what} must be a positive integer, got {value!r}")
    try:
        result = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise SpecError(f"{what} must be a positive integer, got '{value}'") from None
    if isinstance(value, float) and value != result or result < 1:
        raise SpecError(f"{what} must be a positive integer, got '{value}'")
    return int64_number(result, what)


def non_negative_int(value, what: str) -> int:
    """An integer >= 0 (a number of warm-up steps)."""
    if str(value).strip() == "0":
        return 0
    return positive_int(value, what)


def slash_list(value, what: str, item) -> tuple:
    """'100/200' or [100, 200] -> (item(100), item(200)): the one way to write a list
    inside an option's parentheses is its items separated by '/'."""
    items = value.split("/") if isinstance(value, str) else list(value)
    if not items or any(isinstance(i, str) and not i.strip() for i in items):
        raise SpecError(f"{what} must be a list written A/B/C, got '{value}'")
    return tuple(item(i, what) for i in items)


def format_value(value) -> str:
    """How a value is written in the text form: 0.01, 1e-07, 100, true, none, 100/200,
    a schedule's text."""
    if hasattr(value, "text"):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return "/".join(format_value(v) for v in value)
    return repr(value)
