"""Where Keras computes a float64 network in float32 on this backend, measured.

Keras' type promotion (keras/src/backend/common/dtypes.py, `_lattice_result_type`)
turns a 64-bit result type into 32 bits on every backend but TensorFlow ("to be
aligned with JAX's default behavior"), even with JAX's float64 enabled.  So on
JAX and torch (Keras 3.15):

* `ops.tanh`, `ops.sin`, `ops.cos` of a float64 tensor return float32
  (they promote with Python's `float`);
* BatchNormalization computes in `result_type(inputs.dtype, "float32")`: float32,
  its output cast back to float64.

Some of the backends' own ops go through the same promotion.  On torch,
`ops.matmul` (every Dense layer: its output layer too) casts two float64
operands to `result_type(float64, float64)`, float32, and multiplies in
float32; `ops.divide_no_nan` (the loss' mean over the batch) likewise.  So on
torch no float64 network is float64 in Keras: there it is a float32 witness.
`NARROWING_OPS` names the ops a part computes with; each is measured.

A float64 comparison through them differs by float32's round-off (about 1e-7
relative): Keras' convention on that backend, not the hand-written side's.
`narrowed_parts(spec)` names them for a network; `nn-compare gradients` prints
a note, and tests/test_backend_agreement.py pins both.
"""

from __future__ import annotations

import numpy as np

from .activations import get
from .runtime import keras


def narrows(dtype: str = "float64") -> bool:
    """Whether Keras' type promotion narrows `dtype` on this backend."""
    return keras.backend.result_type(dtype, "float32") != dtype


def narrowed_activations(texts, dtype: str = "float64") -> list[str]:
    """The elementwise activations among `texts` whose Keras function returns a narrower
    float than `dtype` here, measured on a few points."""
    z = keras.ops.convert_to_tensor(np.linspace(-2.0, 2.0, 5), dtype=dtype)
    out = []
    for text in dict.fromkeys(texts):
        function = get(text)
        if isinstance(function, keras.layers.Layer):
            continue  # per-unit layers: their functions are listed one by one
        if keras.backend.standardize_dtype(function(z).dtype) != dtype:
            out.append(text)
    return out


# a part of a network -> (the layer kind it belongs to, or None: every network has it;
# the Keras op it computes with), measured by `narrowed_ops`
NARROWING_OPS = {
    "Dense (ops.matmul)": ("dense", lambda x: keras.ops.matmul(x, x)),
    "the loss' batch mean (ops.divide_no_nan)": (None, lambda x: keras.ops.divide_no_nan(x, x)),
}


def narrowed_ops(dtype: str = "float64") -> list[str]:
    """The parts of NARROWING_OPS whose Keras op returns a narrower float than `dtype` here."""
    x = keras.ops.ones((2, 2), dtype=dtype)
    return [part for part, (_, op) in NARROWING_OPS.items()
            if keras.backend.standardize_dtype(op(x).dtype) != dtype]


def narrowed_parts(spec) -> list[str]:
    """What of `spec`'s network Keras computes in a narrower float than spec.dtype here:
    activation texts, 'BatchNormalization' (its computation dtype), and the parts of
    NARROWING_OPS it has."""
    layers = spec.build_layers()
    parts = narrowed_activations([layer.activation.text for layer in layers
                                  if getattr(layer, "activation", None) is not None],
                                 spec.dtype)
    if any(layer.kind == "batchnorm" for layer in layers) and narrows(spec.dtype):
        parts.append("BatchNormalization")
    kinds = {layer.kind for layer in layers}
    parts += [part for part in narrowed_ops(spec.dtype)
              if NARROWING_OPS[part][0] in (None, *kinds)]
    return parts
