"""The one exception type for bad input anywhere in the project.

A `SpecError` message is a single line that says what is wrong and what is
accepted; the command line prints it as it is and exits with code 2.
"""


class SpecError(ValueError):
    """Bad user input: a network description, weights, data or an option."""


def did_you_mean(name, accepted) -> str:
    """The text " (did you mean 'relu'?)" for the accepted name closest to a mistyped `name`
    (difflib's ratio 0.6 or more, case ignored), else ''.  Appended to the one line
    that names an unknown value, so that every registry suggests the same way."""
    import difflib

    accepted = [str(choice) for choice in accepted]
    lowered = {choice.lower(): choice for choice in accepted}
    close = difflib.get_close_matches(str(name).strip().lower(), list(lowered), n=1)
    return f" (did you mean '{lowered[close[0]]}'?)" if close else ""


def unknown(what: str, name, accepted, listed: str | None = None) -> SpecError:
    """The error for an unknown name: "unknown activation 'rleu' (did you mean 'relu'?);
    accepted: ...".  `accepted`: the names to suggest from; `listed`: how the accepted
    values are written out, when not simply those names (default: them, comma-joined)."""
    accepted = list(accepted)
    listed = ", ".join(map(str, accepted)) if listed is None else listed
    return SpecError(f"unknown {what} '{str(name).strip()}'{did_you_mean(name, accepted)}; "
                     f"accepted: {listed}")
