"""Kinds of check target, one registry: which kind a file is, from what it declares.

    @target_kind("layer", detect=lambda declared: "LAYER" in declared, order=20,
                 declares="LAYER, forward(x, params, training), backward(dout, cache)")
    def run_layer_check(user: UserProcess, options: CheckOptions) -> outcome: ...

`nn-compare check FILE` starts the file's process (`process.UserProcess`), asks
`detect_kind` which kind it is (the lowest `order` whose `detect` accepts the file's
declarations), and runs that kind.  An outcome has `.agree`, `.to_dict()` (JSON: at least
"kind", "agree", "target", "diagnosis", "conventions") and `.format()` (the terminal text).
Each kind lives in its own module, listed in `KIND_MODULES`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from .errors import TargetError
from .process import DEFAULT_TIMEOUT, UserProcess

KIND_MODULES = [
    "compare.check.layer_kind",
    "compare.check.network_kind",
    "compare.check.optimizer_kind",
    "compare.check.training_loop_kind",
]


@dataclass
class CheckOptions:
    """What the command line (or compare.testing) asks of a check."""

    dataset: str = "mnist-sample"
    batch: int = 32
    seed: int = 0
    finite_differences: bool = True
    steps: int | None = None        # kinds that run several steps: None for their default
    timeout: float = DEFAULT_TIMEOUT
    dtype: str | None = None        # "float64" / "float32"; None for the kind's default
    activation_modules: tuple = ()  # --activation-module files: loaded here and in the child


@dataclass(frozen=True)
class TargetKind:
    name: str
    detect: Callable[[dict], bool]
    run: Callable[[UserProcess, CheckOptions], object]
    order: int
    declares: str                   # for the message about a file that is no target


KINDS: dict[str, TargetKind] = {}


def target_kind(name: str, detect: Callable[[dict], bool], order: int, declares: str):
    """Register the decorated function as the check of target kind `name`."""
    def register(run):
        KINDS[name] = TargetKind(name, detect, run, order, declares)
        return run
    return register


def _load() -> None:
    for module in KIND_MODULES:
        importlib.import_module(module)


def get(name: str) -> TargetKind:
    """The kind registered as `name`; an unknown name is a one-line error listing them."""
    _load()
    if name not in KINDS:
        raise TargetError(f"unknown check target kind {name!r}; accepted: "
                          f"{', '.join(sorted(KINDS))}")
    return KINDS[name]


def detect_kind(user: UserProcess) -> TargetKind:
    """The kind of target the file in `user`'s process declares."""
    _load()
    for kind in sorted(KINDS.values(), key=lambda k: k.order):
        if kind.detect(user.declared):
            return kind
    listing = "; ".join(f"{_a(k.name)} {k.name.replace('_', ' ')} ({k.declares})"
                        for k in sorted(KINDS.values(), key=lambda k: k.order))
    raise TargetError(f"{user.path.name} is not a check target: it declares none of what "
                      f"one declares: {listing} (see docs/checking/)")


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def run_check_file(path, options: CheckOptions | None = None, kind: str | None = None):
    """Check the target file at `path` (of `kind`, or the kind it declares): the outcome."""
    options = options or CheckOptions()
    from ..user_activations import load

    # the checker's side needs them too (Keras): stand-ins for functions run in a child
    load(options.activation_modules, timeout=options.timeout)
    with UserProcess(path, timeout=options.timeout,
                     activation_modules=options.activation_modules) as user:
        chosen = get(kind) if kind else detect_kind(user)
        if kind and not chosen.detect(user.declared):
            raise TargetError(f"{user.path.name} is not a {kind.replace('_', ' ')} target: "
                              f"one declares {chosen.declares}")
        from .. import console

        console.start_keras()  # the target loaded: the checks need Keras (seconds)
        return chosen.run(user, options)
