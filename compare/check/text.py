"""The check reports' line breaking, one rule for every target kind: lines fit WIDTH columns."""

from __future__ import annotations

import textwrap

WIDTH = 100


def wrap(line: str, width: int = WIDTH) -> str:
    """A line as it is when it fits, else broken with a two-space hanging indent."""
    if len(line) <= width:
        return line
    return textwrap.fill(line, width=width, subsequent_indent="  ")


def item(text: str) -> str:
    """A sentence in a list under a heading: indented by two, continued by four."""
    return textwrap.fill(text, width=WIDTH, initial_indent="  ", subsequent_indent="    ")
