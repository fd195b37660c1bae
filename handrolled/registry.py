"""One registry per concept, as Keras has them: a name -> a class, `get` by name.

    LAYERS = Registry("layer")                 # in handrolled/layers/base.py
    @LAYERS.register("conv", "conv2d")         # the class gets .kind = "conv" (attribute=)
    class Conv2D(Layer): keras_name = "Conv2D"  # Keras' class name is an alias too
    LAYERS.lookup("Conv2D")                    # -> Conv2D (aliases match without case)
    LAYERS.lookup("convolution")               # -> SpecError naming the accepted names

Layers, losses, optimizers and learning-rate schedules each keep one; what
their `get` does with the class found (build it from text, from options)
stays theirs.  `bind_options` matches positional and keyword options to a
class' named arguments the same way for all of them.
"""

from __future__ import annotations

from typing import Callable

from .errors import SpecError, unknown


class Registry:
    def __init__(self, what: str, attribute: str = "name"):
        self.what, self.attribute = what, attribute
        self._classes: dict[str, type] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, *aliases: str):
        """Class decorator: the class under `name`, its aliases and its `keras_name`."""

        def decorate(cls):
            setattr(cls, self.attribute, name)
            self._classes[name] = cls
            for alias in (name, *aliases, getattr(cls, "keras_name", "")):
                if alias:
                    self._aliases[alias.lower()] = name
            return cls

        return decorate

    def names(self) -> list[str]:
        """The registered names, in the order they were registered."""
        return list(self._classes)

    def lookup(self, name, hint: str = "") -> type:
        """The class for a name, an alias or a Keras class name; else a SpecError."""
        canonical = self._aliases.get(str(name).strip().lower())
        if canonical is None:
            raise unknown(self.what, name, self._aliases,
                          f"{', '.join(self.names())}{hint}")
        return self._classes[canonical]


def bind_options(cls, owner: str, arguments, required: int, positional: list,
                 keywords: dict, aliases: dict | None = None,
                 max_positional: int | None = None) -> dict:
    """{argument: parsed value} for positional and keyword values (text or JSON).

    `arguments`: (name, parser) pairs in positional order; the first `required`
    have no default.  A positional one too many, an unknown or doubled keyword, or a
    missing required argument is a SpecError showing `cls.form()`."""
    names = [name for name, _ in arguments]
    form = cls.form()
    limit = len(names) if max_positional is None else max_positional
    if len(positional) > limit:
        raise SpecError(f"{owner} takes at most {limit} positional arguments, "
                        f"got {len(positional)}; expected {form}")
    given = dict(zip(names, positional))
    for key, value in keywords.items():
        key = (aliases or {}).get(key, key)
        if key not in names:
            raise SpecError(f"{owner} has no option '{key}'; accepted: {', '.join(names)} "
                            f"(expected {form})")
        if key in given:
            raise SpecError(f"{owner}: '{key}' is given twice; expected {form}")
        given[key] = value
    missing = [name for name in names[:required] if name not in given]
    if missing:
        raise SpecError(f"{owner} needs {', '.join(missing)}; expected {form}")
    parsers: dict[str, Callable] = dict(arguments)
    return {key: parsers[key](value, f"{owner} {key}") for key, value in given.items()}
