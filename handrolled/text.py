"""The small grammar shared by every text form: names, parentheses, options.

    split_top_level("conv(8,3,relu),flatten")   -> ["conv(8,3,relu)", "flatten"]
    split_call("leaky_relu(0.1)")               -> ("leaky_relu", "0.1")
    split_arguments("8,3,relu,strides=2")       -> (["8", "3", "relu"], {"strides": "2"})

Layers (`handrolled.layers`), activations (`handrolled.activations`) and the
network text (`handrolled.spec`) all parse with these, so a comma inside
parentheses means the same thing everywhere.
"""

from __future__ import annotations

import re

from .errors import SpecError

MAX_NESTING = 16  # parentheses inside parentheses; the deepest real form needs 3
# (dense(3,mix(leaky_relu(0.1),abs))): deeper is a mistake or an attack, and each level
# is one Python call deeper, so it is refused before parsing recurses.

_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """Split on `separator` outside parentheses: 'a(1,2),b' -> ['a(1,2)', 'b']."""
    check_nesting(text)
    pieces, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise SpecError(f"unbalanced ')' in '{text}'")
        elif char == separator and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    if depth != 0:
        raise SpecError(f"unbalanced '(' in '{text}'")
    pieces.append(text[start:])
    return pieces


def check_nesting(text: str) -> None:
    """Refuse parentheses nested deeper than MAX_NESTING (a one-line SpecError, not a
    RecursionError half-way through parsing)."""
    depth = deepest = 0
    for char in text:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    if deepest > MAX_NESTING:
        raise SpecError(f"'{_shorten(text)}' nests parentheses {deepest} deep; at most "
                        f"{MAX_NESTING} are accepted")


def _shorten(text: str, width: int = 60) -> str:
    """The start and end of a long text, for a one-line message."""
    text = " ".join(text.split())
    return text if len(text) <= width else f"{text[:width // 2]}...{text[-width // 2:]}"


def split_call(text: str, what: str = "name",
               example: str = "'relu' or 'leaky_relu(0.1)'") -> tuple[str, str | None]:
    """'leaky_relu(0.1)' -> ('leaky_relu', '0.1');  'relu' -> ('relu', None)."""
    check_nesting(text)
    match = _CALL.match(text)
    if not match:
        raise SpecError(f"malformed {what} '{text.strip()}'; expected a name such as {example}")
    return match.group(1), match.group(2)


def split_arguments(args: str | None) -> tuple[list[str], dict[str, str]]:
    """'8,3,relu,strides=2' -> (['8', '3', 'relu'], {'strides': '2'}).

    Positional arguments come first; a keyword given twice, or a positional
    argument after a keyword, is an error."""
    positional: list[str] = []
    keywords: dict[str, str] = {}
    if args is None or not args.strip():
        return positional, keywords
    for item in split_top_level(args):
        item = item.strip()
        key, sep, value = item.partition("=")
        if sep and "(" not in key:
            key = key.strip()
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise SpecError(f"malformed option '{item}'; expected NAME=VALUE")
            if key in keywords:
                raise SpecError(f"option '{key}' is given twice in '({args})'")
            keywords[key] = value.strip()
        elif keywords:
            raise SpecError(f"positional argument '{item}' after a keyword in '({args})'")
        elif not item:
            raise SpecError(f"empty argument in '({args})'")
        else:
            positional.append(item)
    return positional, keywords
