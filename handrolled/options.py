"""Options declared once per argument: binding, defaults, config, text and usage.

A configurable class (a layer, an optimizer, a schedule, a regularizer, an
activation with parameters) lists its arguments once, in order, as `Option`s:

    class Dense(Layer):
        OPTIONS = (Option("units", size, positional=True),
                   Option("activation", activation_text, "linear", positional=True,
                          convert=to_activation),
                   Option("kernel_regularizer", regularizer_text, None, alias="kernel",
                          convert=to_regularizer), ...)

and everything else is derived from that one list:

    Dense(10, "relu")          __init__, with the signature (units, activation="linear", ...)
                               (`inspect.signature` shows it); each value stored as an
                               attribute of the same name, after `convert`; then
                               `__post_init__()` for what the class computes from them
    Dense.from_options([..], {..})   text or JSON values: bound (`bind`), each parsed
    dense.get_config()         {"units": 10, "activation": "relu", ...}: an option stored
                               as an object (activation, regularizer, schedule) by its text
    dense.text                 'dense(10,relu)': the positional options while they matter,
                               the others as keyword=value where they differ from the default
    Dense.form()               'dense(units,[activation],kernel_regularizer=...,...)': usage

An `Option` is: `name` (Keras' argument name), `parse(value, what)` (text or a
Python value -> the canonical value, or a SpecError naming what is accepted),
`default` (REQUIRED when there is none), `positional` (written by position in
the text), `alias` (a short name the text also accepts, and writes if
`alias_in_text`), `convert(value, what)`
(the canonical value -> what the object keeps, e.g. an activation object),
`write` (value -> its text), `always` (written even at its default) and
`variadic` (the last positional option takes the rest, as a list: piecewise's knots).

The parsers every family shares are here too (`integer`, `positive_int`,
`number`, `boolean`, ...), each defined once.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .errors import SpecError
from .ranges import INT64_MAX, float32_number, int64_number


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()   # the default of an option that has none
ALL = "all"                    # POSITIONAL_ACCEPTED: every option may be given by position


def format_value(value) -> str:
    """How a value is written in the text form: 0.01, 1e-07, 100, true, none, 100/200,
    an object (activation, regularizer, schedule) by its text."""
    if hasattr(value, "text"):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):
        return "/".join(format_value(v) for v in value)
    return repr(value)


@dataclass(frozen=True)
class Option:
    """One argument of a configurable class, declared once (see the module notes)."""

    name: str
    parse: Callable[[Any, str], Any]
    default: Any = REQUIRED
    positional: bool = False
    alias: str | None = None
    alias_in_text: bool = False
    convert: Callable[[Any, str], Any] | None = None
    write: Callable[[Any], str] = format_value
    always: bool = False
    variadic: bool = False    # the last positional one: takes every positional value left

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def config(self, stored):
        """The value get_config shows: an object kept by `convert` as its text."""
        return getattr(stored, "text", stored) if self.convert is not None else stored


def same(a, b) -> bool:
    """Equal, and a bool only equals a bool (False is not 0.0)."""
    return isinstance(a, bool) == isinstance(b, bool) and a == b


class Declared:
    """The mixin a configurable class family's base derives from (Layer, Optimizer,
    Schedule, Regularizer, Activation).  A subclass sets OPTIONS and the `name`
    attribute its registry sets (`NAME_ATTRIBUTE`); it writes no `__init__`: one
    with the declared signature is made for it, which calls the family base's
    `__init__` (state that is not an option; by default none), and that calls
    `set_options`."""

    OPTIONS: tuple[Option, ...] = ()
    # how many leading options the text accepts by position: None for those written by
    # position, ALL for every one (as a Python call does), or a number
    POSITIONAL_ACCEPTED: int | str | None = None
    NAME_ATTRIBUTE = "name"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.option_signature = _signature(cls.OPTIONS)   # raises if an optional precedes a required
        if "__init__" not in cls.__dict__:  # its own OPTIONS, inherited ones, or none
            cls.__init__ = _declared_init(cls)

    # ------------------------------------------------------------- building
    def __init__(self, *args, **options):
        self.set_options(*args, **options)

    def set_options(self, *args, **kwargs) -> None:
        """Store each option (given or default) as an attribute, then __post_init__."""
        bound = self.option_signature.bind(*args, **kwargs)
        bound.apply_defaults()
        for option in self.OPTIONS:
            value = bound.arguments[option.name]
            if option.convert is not None:
                value = option.convert(value, self.option_label(option.name))
            setattr(self, option.name, value)
        self.__post_init__()

    def __post_init__(self) -> None:
        """What a class computes from its options (checks, derived values)."""

    @classmethod
    def owner(cls) -> str:
        """The registry name, which starts every message about an option."""
        return getattr(cls, cls.NAME_ATTRIBUTE, "") or cls.__name__

    @classmethod
    def option_label(cls, name: str) -> str:
        """How messages name option `name`: 'conv kernel_size', 'adam beta_1'."""
        return f"{cls.owner()} {name}"

    @classmethod
    def defaults(cls) -> dict:
        return {o.name: o.default for o in cls.OPTIONS if not o.required}

    # --------------------------------------------------------------- reading
    def options(self) -> dict:
        """{option: the value kept} in declared order (objects as objects)."""
        return {option.name: getattr(self, option.name) for option in self.OPTIONS}

    def declared_config(self) -> dict:
        """{option: value}, an object kept by `convert` shown by its text: what the
        text is written from, and what `get_config` returns unless a family adds more."""
        return {option.name: option.config(getattr(self, option.name))
                for option in self.OPTIONS}

    def get_config(self) -> dict:
        return self.declared_config()

    def is_default(self, name: str, config: dict) -> bool:
        """Whether option `name` has its default value (and so is left out of the text)."""
        defaults = self.defaults()
        return name in defaults and same(config[name], defaults[name])

    @property
    def text(self) -> str:
        """'conv(8,3,relu,strides=2)': the positional options up to the last one that
        is not at its default (a required one always), the others as keyword=value
        where they differ from the default."""
        config = self.declared_config()
        shown = {o.name for o in self.OPTIONS
                 if o.required or o.always or not self.is_default(o.name, config)}
        leading = [o for o in self.OPTIONS if o.positional]
        last = max((i + 1 for i, o in enumerate(leading) if o.name in shown), default=0)
        parts = [o.write(config[o.name]) for o in leading[:last]]
        parts += [f"{o.alias if o.alias_in_text else o.name}={o.write(config[o.name])}"
                  for o in self.OPTIONS if not o.positional and o.name in shown]
        return f"{self.owner()}({','.join(parts)})" if parts else self.owner()

    # --------------------------------------------------------------- parsing
    @classmethod
    def form(cls) -> str:
        """The usage: 'conv(filters,kernel_size,[activation],strides=...,...)'."""
        parts = [(f"{o.name}..." if o.variadic else o.name if o.required else f"[{o.name}]")
                 if o.positional else f"{o.name}=..." for o in cls.OPTIONS]
        return f"{cls.owner()}({','.join(parts)})" if parts else cls.owner()

    @classmethod
    def from_options(cls, positional: list, keywords: dict):
        """Built from positional and keyword values (text or JSON), each parsed."""
        return cls(**bind(cls, positional, keywords))

    @classmethod
    def from_text(cls, args: str | None):
        """Built from the text inside the parentheses ('8,3,relu,strides=2'; None: none)."""
        from .text import split_arguments

        return cls.from_options(*split_arguments(args))


def _signature(options) -> inspect.Signature:
    return inspect.Signature([
        inspect.Parameter(o.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          default=inspect.Parameter.empty if o.required else o.default)
        for o in options])


def _declared_init(cls):
    """An __init__ with the declared signature that calls the family base's __init__."""
    family_init = next(klass.__dict__["__init__"] for klass in cls.__mro__[1:]
                       if "__init__" in klass.__dict__
                       and not getattr(klass.__dict__["__init__"], "declared", False))

    def __init__(self, *args, **kwargs):
        family_init(self, *args, **kwargs)

    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    __init__.__signature__ = cls.option_signature.replace(
        parameters=[self_parameter, *cls.option_signature.parameters.values()])
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__doc__ = f"{cls.__name__}{cls.option_signature}: the options declared in OPTIONS."
    __init__.declared = True
    return __init__


def bind(cls, positional: list, keywords: dict) -> dict:
    """{option: parsed value} for positional and keyword values (text or JSON).

    A positional one too many, an unknown or doubled keyword (an alias and its name
    count as one), or a missing required option is a SpecError showing `cls.form()`."""
    owner, options = cls.owner(), cls.OPTIONS
    names = [o.name for o in options]
    aliases = {o.alias: o.name for o in options if o.alias}
    accepted = cls.POSITIONAL_ACCEPTED
    limit = (len(names) if accepted == ALL else
             sum(o.positional for o in options) if accepted is None else accepted)
    if 0 < limit <= len(options) and options[limit - 1].variadic and len(positional) >= limit:
        positional = [*positional[:limit - 1], list(positional[limit - 1:])]
    if len(positional) > limit:
        what = ("no positional arguments" if limit == 0 else
                f"at most one positional argument ({names[0]})" if limit == 1 else
                f"at most {limit} positional arguments")
        raise SpecError(f"{owner} takes {what}, got {len(positional)}; "
                        f"expected {cls.form()}")
    given = dict(zip(names, positional))
    spelled = {name: name for name in given}
    for key, value in keywords.items():
        name = aliases.get(key, key)
        if name not in names:
            listed = ", ".join(f"{o.name} ({o.alias})" if o.alias else o.name
                               for o in options)
            raise SpecError(f"{owner} has no option '{key}'; accepted: {listed} "
                            f"(expected {cls.form()})")
        if name in given:
            if name in names[:len(positional)]:
                how = "by name" if key == name else f"as '{key}'"
                raise SpecError(f"{owner}: '{name}' is given twice (by position and {how}); "
                                f"expected {cls.form()}")
            raise SpecError(f"{owner}: '{spelled[name]}' and '{key}' are the same "
                            f"option; give one")
        given[name], spelled[name] = value, key
    missing = [o.name for o in options if o.required and o.name not in given]
    if missing:
        raise SpecError(f"{owner} needs {', '.join(missing)}; expected {cls.form()}")
    parsers = {o.name: o.parse for o in options}
    return {name: parsers[name](value, cls.option_label(name)) for name, value in given.items()}


# ------------------------------------------------------------ shared parsers
def integer(value, what: str, minimum: int = 0, maximum: int = INT64_MAX,
            kind: str = "an integer >= 0") -> int:
    """An integer from text ('8'), a Python or NumPy integer, or a whole float (8.0 from
    JSON), >= minimum and <= maximum (at most an int64, as Keras holds it); `kind`
    names it in the error ('a positive integer')."""
    if isinstance(value, bool):
        raise SpecError(f"{what} must be {kind}, got {value!r}")
    if isinstance(value, (int, np.integer)):
        number = int(value)
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise SpecError(f"{what} must be {kind}, got '{value}'") from None
    if number < minimum:
        raise SpecError(f"{what} must be {kind}, got {number}")
    if maximum < INT64_MAX and number > maximum:
        raise SpecError(f"{what} must be at most {maximum:,}, got {number:,}")
    return int64_number(number, what)


def positive_int(value, what: str) -> int:
    """An integer >= 1 (a number of steps)."""
    return integer(value, what, 1, kind="a positive integer")


def non_negative_int(value, what: str) -> int:
    """An integer >= 0 (a number of warm-up steps, a seed)."""
    return integer(value, what, 0, kind="an integer >= 0")


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


def boolean(value, what: str) -> bool:
    """true/false (any case) or a Python bool."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise SpecError(f"{what} must be true or false, got '{value}'")


def optional(parse: Callable) -> Callable:
    """`parse`, or None for none (no weight decay, no warm-up target)."""
    def parse_or_none(value, what: str):
        if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
            return None
        return parse(value, what)

    parse_or_none.__name__ = f"optional_{parse.__name__}"
    return parse_or_none


def slash_list(item: Callable) -> Callable:
    """A parser of 'A/B/C' or [A, B, C] -> (item(A), item(B), item(C)): the one way to
    write a list inside an option's parentheses is its items separated by '/'."""
    def parse_list(value, what: str) -> tuple:
        items = value.split("/") if isinstance(value, str) else list(value)
        if not items or any(isinstance(i, str) and not i.strip() for i in items):
            raise SpecError(f"{what} must be a list written A/B/C, got '{value}'")
        return tuple(item(i, what) for i in items)

    return parse_list
