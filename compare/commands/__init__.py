"""One module per `nn-compare` subcommand, each with `add_parser` and `run`.

Modules import the heavy parts (TensorFlow) inside `run`, so `--help` and
bad-input errors answer at once.
"""

from . import activations, bench, check, code, gradients, pitfalls, report, sweep, train

# In the order a newcomer meets them (and `nn-compare --help` lists them).
COMMANDS = [gradients, report, train, code, check, activations, pitfalls, sweep, bench]
