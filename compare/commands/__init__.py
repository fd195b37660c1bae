"""One module per `nn-compare` subcommand, each with `add_parser` and `run`.

Modules import the heavy parts (TensorFlow) inside `run`, so `--help` and
bad-input errors answer at once.
"""

from . import bench, check, gradients, activations, report, train, sweep

COMMANDS = [gradients, check, bench, activations, report, train, sweep]
