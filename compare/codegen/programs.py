"""The blocks of one network's two programs (see blocks.py): header, data, the layers'
code, the network, the loss, the optimizer, the weights, the training loop."""

from __future__ import annotations

from handrolled import NetworkSpec, optimizers

from .blocks import Block, docstring_text, literal
from .numpy_layers import HELPER_ASIDES, HELPER_IMPORTS, HELPERS, activation, layer_template
from .numpy_training import (LOSS_KERAS, LOSS_NUMPY, check_loss, keras_optimizer_line,
                             optimizer_template, training_keras, training_numpy)


def check_supported(spec: NetworkSpec, optimizer) -> None:
    """A SpecError (one line) for anything the templates do not write yet."""
    check_loss(spec.loss)
    for layer in spec.build_layers():
        layer_template(layer)
    optimizer_template(optimizers.for_training(optimizer))


def blocks(spec: NetworkSpec, optimizer, epochs: int, batch: int, seed: int,
           command: str) -> list[Block]:
    """Every block of the two programs for `spec` trained with `optimizer` (its text, or
    SGD's learning rate)."""
    check_supported(spec, optimizer)
    optimizer = optimizers.for_training(optimizer)
    layers = spec.build_layers()
    kinds = list(dict.fromkeys(layer.kind for layer in layers))
    templates = {kind: layer_template(next(l for l in layers if l.kind == kind))
                 for kind in kinds}
    helpers = list(dict.fromkeys(["layer", *(h for kind in kinds
                                             for h in templates[kind].helpers)]))
    functions = list(dict.fromkeys(layer.activation.name for layer in layers
                                   if getattr(layer, "activation", None) is not None))
    dropout = "dropout" in kinds
    out = [header(spec, optimizer, epochs, batch, seed, command, helpers),
           data_block(spec, dropout)]
    out.append(Block("activations", "\n\n\n".join(activation(f).code.strip("\n")
                                                  for f in unique_activations(layers)),
                     "", aside="\n".join(f"activation={literal(name)}" for name in functions
                                         if name != "linear") +
                     "\n# the output layer has none: it gives the logits"))
    for helper in helpers:
        out.append(Block(f"helper: {helper}", HELPERS[helper], "", aside=HELPER_ASIDES[helper]))
    for kind in kinds:
        lines = [templates[kind].keras(layer) for layer in layers if layer.kind == kind]
        out.append(Block(f"layer: {kind}", templates[kind].code, "", aside="\n".join(lines)))
    out.append(network_block(spec, layers, templates))
    out.append(Block("loss", LOSS_NUMPY, LOSS_KERAS))
    out.append(Block("optimizer", optimizer_template(optimizer).code(optimizer),
                     keras_optimizer_line(optimizer) + "\nmodel.compile(optimizer=optimizer, "
                     "loss=loss, metrics=[\"categorical_accuracy\"],\n              "
                     "jit_compile=False)   # no XLA: it may reorder sums"))
    out.append(Block("training", training_numpy(optimizer), training_keras()))
    return out


def unique_activations(layers):
    seen, out = set(), []
    for layer in layers:
        f = getattr(layer, "activation", None)
        if f is not None and f.name not in seen:
            seen.add(f.name)
            out.append(f)
    return out


def header(spec, optimizer, epochs, batch, seed, command, helpers) -> Block:
    about = docstring_text(f"{spec.describe()}, {optimizer.text}, batch {batch}, "
                           f"{epochs} epochs")
    command = docstring_text(command)
    imports = "\n".join(["import numpy as np", *(HELPER_IMPORTS[h] for h in helpers
                                                  if h in HELPER_IMPORTS)])
    numpy = f'''"""{about}: trained by hand in NumPy.

Its twin is keras_version.py: the same network, data, initial weights and batch order,
and the same numbers printed.  Written by: {command}
Run it from this folder:  python numpy_version.py
"""
{imports}

DTYPE = np.{spec.dtype}          # every array and every constant in this precision
EPOCHS, BATCH = {int(epochs)}, {int(batch)}'''
    from keras_impl import backends  # the chosen Keras backend (--backend, KERAS_BACKEND)

    backend = backends.lookup(backends.chosen())
    keras = f'''"""{about}: in Keras (on {backend.name}).

Its twin is numpy_version.py: the same network, data, initial weights and batch order,
and the same numbers printed.  Written by: {command}
Run it from this folder:  python keras_version.py
"""
import os
import numpy as np
{backend.program_setup}
import keras

keras.config.set_floatx({literal(spec.dtype)})          # first: losses, optimizers and fit's data follow it
keras.config.set_dtype_policy({literal(spec.dtype)})    # and the layers (the policy is fixed at first use)
keras.utils.set_random_seed({int(seed)})         # Dropout's masks come from Keras' seeded generators
{backend.program_determinism}

EPOCHS, BATCH = {int(epochs)}, {int(batch)}'''
    return Block("imports and settings", numpy, keras)


def data_block(spec, dropout: bool) -> Block:
    common = '''data = np.load("data.npz")                 # the rows nn-compare code sliced out
X_train, y_train = data["X_train"], data["y_train"]
X_test, y_test = data["X_test"], data["y_test"]
orders = data["orders"][:EPOCHS]             # the row order of every epoch, shared by both'''
    numpy = (common + f'''
Y_train = np.eye({spec.classes}, dtype=DTYPE)[y_train]   # one-hot targets
Y_test = np.eye({spec.classes}, dtype=DTYPE)[y_test]''')
    if dropout:
        numpy += '''
dropout_masks = np.load("dropout_masks.npz")   # the masks Keras drew, "<layer>/step<n>"'''
    keras = (common + f'''
Y_train = keras.utils.to_categorical(y_train, {spec.classes})
Y_test = keras.utils.to_categorical(y_test, {spec.classes})''')
    return Block("data", numpy, keras)


def network_block(spec, layers, templates) -> Block:
    last = len(layers) - 1
    numpy_lines = [f"    {templates[l.kind].numpy(l)},"
                   + ("   # the output layer: logits" if i == last else "")
                   for i, l in enumerate(layers)]
    keras_lines = [f"    {templates[l.kind].keras(l)},"
                   + ("   # logits: the loss applies softmax" if i == last else "")
                   for i, l in enumerate(layers)]
    numpy = ('''weights = dict(np.load("weights.npz"))    # "dense1/kernel", ...: Keras' names
layers = [
''' + "\n".join(numpy_lines) + '''
]
trainable = [layer.name + "/" + p for layer in layers for p in layer.params]


def forward(x, training=False, step=None):
    """Every layer's forward pass in turn; training: batch statistics and dropout."""
    for layer in layers:
        x = layer.forward(weights, x, training, step)
    return x


def backward(delta):
    """dL/dz of the logits (eq. 3) down through every layer; the gradients by name."""
    grads = {}
    for layer in reversed(layers):
        delta = layer.backward(weights, delta, grads)
    return grads''')
    keras = (f'''model = keras.Sequential([
    keras.Input(shape={tuple(spec.input_shape)}),
''' + "\n".join(keras_lines) + '''
])
initial = np.load("weights.npz")            # the same starting weights, by name
for layer in model.layers:
    for variable in layer.weights:
        variable.assign(initial[f"{layer.name}/{variable.name}"])''')
    return Block("the network", numpy, keras)
