"""Assertions several test modules share."""

from __future__ import annotations

import pytest

from handrolled.errors import SpecError


def one_line_error(call, *words: str, kind: type = SpecError) -> str:
    """Run `call`, expect a SpecError (or `kind`: MachineError, ...) of one line mentioning
    every word; return the message."""
    with pytest.raises(kind) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message, message
    for word in words:
        assert word in message, (word, message)
    return message
