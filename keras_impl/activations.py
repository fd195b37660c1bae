"""The Keras side of each registered activation, under the same names.

This maps every name in `handrolled.activations` to what a Keras user would
write: Keras' own functions where they exist (`keras.activations.relu`), so
the comparison is against the framework, not against a copy of our NumPy.
TensorFlow differentiates these automatically; we never write a derivative
here, which is what makes them an independent witness.

A factory receives the handrolled activation object, so parameterised ones
(`leaky_relu(0.1)`) read their parameters from it.
"""

from __future__ import annotations

from typing import Callable

from handrolled import activations as handrolled_activations
from handrolled.errors import SpecError

from .runtime import keras

# name -> factory(handrolled activation) -> function of a tensor
_REGISTRY: dict[str, Callable] = {}


def register(name: str):
    def decorate(factory):
        _REGISTRY[name] = factory
        return factory

    return decorate


def names() -> list[str]:
    return sorted(_REGISTRY)


def get(text) -> Callable:
    """The Keras function for an activation given by name/text or handrolled object."""
    activation = handrolled_activations.get(text)
    factory = _REGISTRY.get(activation.name)
    if factory is None:
        raise SpecError(f"activation '{activation.name}' has no Keras twin; "
                        f"accepted: {', '.join(names())}")
    return factory(activation)


register("sigmoid")(lambda act: keras.activations.sigmoid)
register("tanh")(lambda act: keras.activations.tanh)
register("relu")(lambda act: keras.activations.relu)  # TF: relu'(0) = 0
register("linear")(lambda act: keras.activations.linear)
