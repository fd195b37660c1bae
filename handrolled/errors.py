"""The one exception type for bad input anywhere in the project.

A `SpecError` message is a single line that says what is wrong and what is
accepted; the command line prints it as it is and exits with code 2.
"""


class SpecError(ValueError):
    """Bad user input: a network description, weights, data or an option."""
