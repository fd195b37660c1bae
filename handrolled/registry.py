"""One registry per concept, as Keras has them: a name -> a class, `get` by name.

    LAYERS = Registry("layer")                 # in handrolled/layers/base.py
    @LAYERS.register("conv", "conv2d")         # the class gets .kind = "conv" (attribute=)
    class Conv2D(Layer): keras_name = "Conv2D"  # Keras' class name is an alias too
    LAYERS.lookup("Conv2D")                    # -> Conv2D (aliases match without case)
    LAYERS.lookup("convolution")               # -> SpecError naming the accepted names

Layers, losses, optimizers, learning-rate schedules and regularizers each keep
one; what their `get` does with the class found (build it from text, from
options) stays theirs.  The options themselves are declared once per argument
and bound the same way for all of them: handrolled/options.py.
"""

from __future__ import annotations

from .errors import unknown


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
