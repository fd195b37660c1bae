"""What a sweep runs: one Configuration per (activation, depth, seed)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from handrolled import MNIST_SHAPE, NetworkSpec
from handrolled.errors import SpecError
from handrolled.text import split_top_level

DEFAULT_LR = 0.1


@dataclass(frozen=True)
class Configuration:
    """Everything one training run depends on; `key` identifies it in the results log."""

    activation: str
    depth: int
    seed: int
    lr: float
    units: int
    epochs: int
    batch: int
    dataset: str
    preprocess: str
    dtype: str
    train_rows: int | None = None
    activation_modules: tuple[str, ...] = ()
    front: str = ""  # fixed layers before the swept dense ones, e.g. "conv(8,3,relu),flatten"
    optimizer: str = ""  # "" : SGD at lr; else the optimizer's text
    inputs: str = ""     # `inputs_digest`: the data files, activation modules, project version
    timeout: float = 60.0  # seconds per call into an activation module's code
    backend: str = "tensorflow"  # Keras' backend (keras_impl/backends), chosen in the worker

    @property
    def hidden(self) -> str:
        dense = [f"{self.units}:{self.activation}"] * self.depth
        return ",".join([self.front, *dense] if self.front else dense)

    @property
    def key(self) -> str:
        settings = asdict(self)
        settings.pop("activation_modules")  # where a function was defined is not a result
        settings.pop("timeout")  # nor how long a call into it may take
        for option in ("front", "optimizer", "inputs"):
            if not settings[option]:
                settings.pop(option)  # the keys of sweeps logged before the option existed
        if settings["backend"] == "tensorflow":
            settings.pop("backend")  # likewise: the only backend before --backend
        return json.dumps(settings, sort_keys=True)


def inputs_digest(dataset: str, modules=()) -> str:
    """A digest of what a row was computed from besides its settings: the project's
    version, every file of an idx:/cifar10: folder and every activation module (their
    bytes), so an edited module or replaced data files make new keys: their rows run again."""
    import hashlib
    from importlib import metadata
    from pathlib import Path

    from ..datasets import dataset_directory
    from ..output import file_digest

    try:
        version = metadata.version("handrolled-vs-keras")
    except metadata.PackageNotFoundError:
        version = "unknown"
    parts = [f"version {version}"]
    directory = dataset_directory(dataset)
    if directory:
        folder = Path(directory).expanduser()
        entries = sorted(folder.iterdir()) if folder.is_dir() else []
        parts += [f"data {entry.name} {file_digest(entry)}" for entry in entries
                  if entry.is_file()]
    parts += [f"module {i} {file_digest(Path(path))}" for i, path in enumerate(modules)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


@dataclass
class SweepPlan:
    activations: list[str]
    depths: list[int]
    seeds: int
    lr: dict[str, float]
    settings: dict = field(default_factory=dict)  # units, epochs, batch, dataset, ...

    def configurations(self) -> list[Configuration]:
        return [Configuration(activation, depth, seed, self.lr[activation], **self.settings)
                for depth in self.depths for activation in self.activations
                for seed in range(self.seeds)]

    def validate(self, inputs=MNIST_SHAPE, classes: int = 10) -> None:
        """Parse every network now, so a typo stops the sweep before anything runs."""
        for config in self.configurations()[::max(self.seeds, 1)]:
            NetworkSpec.from_text(config.hidden, inputs=inputs, classes=classes,
                                  dtype=config.dtype)


def parse_activations(text: str) -> list[str]:
    """'relu,"mix(relu,abs)",sin' -> ['relu', 'mix(relu,abs)', 'sin'] (commas in () stay)."""
    items = [item.strip().strip("'\"") for item in split_top_level(text)]
    if not all(items):
        raise SpecError(f"empty activation in --activations '{text}'; expected e.g. "
                        f"relu,sigmoid,\"mix(relu,abs,sin)\"")
    if len(set(items)) != len(items):
        raise SpecError(f"--activations lists an activation twice: '{text}'")
    return items


def parse_depths(text: str) -> list[int]:
    try:
        depths = [int(item) for item in text.split(",")]
    except ValueError:
        raise SpecError(f"--depths takes hidden-layer counts like 1,2,3, got '{text}'") from None
    if not depths or min(depths) < 1:
        raise SpecError(f"--depths must be 1 or more hidden layers each, got '{text}'")
    return sorted(set(depths))


def parse_lr(text: str | None, activations: list[str]) -> dict[str, float]:
    """'0.5' (all), 'relu=0.1,sigmoid=1.0' or '0.5,relu=0.1' -> {activation: lr}."""
    default, per, seen = DEFAULT_LR, {}, set()
    for item in split_top_level(text or ""):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.rpartition("=")
        name = name.strip().strip("'\"")
        lr = _positive(value, item)
        what = f"the rate of {name}" if sep else "the rate for all activations"
        if what in seen:  # two rates for one thing: silently taking the last would hide it
            raise SpecError(f"--lr '{text}' gives {what} twice; give each once, "
                            f"e.g. 0.5,relu=0.1")
        seen.add(what)
        if not sep:
            default = lr
        elif name not in activations:
            raise SpecError(f"--lr names '{name}', which is not in --activations "
                            f"({', '.join(activations)})")
        else:
            per[name] = lr
    return {activation: per.get(activation, default) for activation in activations}


def _positive(text: str, item: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SpecError(f"--lr item '{item}' is not NAME=RATE or RATE, e.g. relu=0.1") from None
    if not value > 0 or value == float("inf"):
        raise SpecError(f"learning rate must be a positive number, got '{item}'")
    return value
