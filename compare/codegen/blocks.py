"""`Block`: one step of the program, its NumPy code beside its Keras code.

Both generated programs are the concatenation of their side of the same blocks,
in order, so `side_by_side.html` can put them next to each other block by block
and the alignment cannot drift from the programs themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    title: str
    numpy: str          # its lines in numpy_version.py ('' when it has none)
    keras: str          # its lines in keras_version.py ('' when it has none)
    aside: str = ""     # shown beside the NumPy code in the HTML only (where Keras has
                        # no code of its own for it: the Keras line that does this job)


def literal(text) -> str:
    """`text` as a double-quoted Python string literal, as the programs write strings:
    every quote, backslash, control and non-ASCII character escaped (json's escapes are
    also Python's), so no data can end the string or add code."""
    return json.dumps(str(text))


def docstring_text(text) -> str:
    """`text` escaped for the inside of a \"\"\"docstring\"\"\" (the same escapes as
    `literal`, without the quotes around it): it reads back as `text`, and cannot end the
    docstring."""
    return literal(text)[1:-1]


def program(blocks: list[Block], side: str) -> str:
    """One program's text: its side of every block, two blank lines between blocks."""
    parts = [getattr(block, side).strip("\n") for block in blocks]
    return "\n\n\n".join(part for part in parts if part) + "\n"
