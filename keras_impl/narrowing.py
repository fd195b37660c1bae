"""Where Keras computes a float64 network in float32 on this backend, measured.

Keras' type promotion (keras/src/backend/common/dtypes.py, `_lattice_result_type`)
turns a 64-bit result type into 32 bits on every backend but TensorFlow ("to be
aligned with JAX's default behavior"), even with JAX's float64 enabled.  So on
JAX and torch (Keras 3.15):

* `ops.tanh`, `ops.sin`, `ops.cos` of a float64 tensor return float32
  (they promote with Python's `float`);
* BatchNormalization computes in `result_type(inputs.dtype, "float32")`: float32,
  its output cast back to float64.

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


def narrowed_parts(spec) -> list[str]:
    """What of `spec`'s network Keras computes in a narrower float than spec.dtype here:
    activation texts, and 'BatchNormalization' (its computation dtype)."""
    layers = spec.build_layers()
    parts = narrowed_activations([layer.activation.text for layer in layers
                                  if getattr(layer, "activation", None) is not None],
                                 spec.dtype)
    if any(layer.kind == "batchnorm" for layer in layers) and narrows(spec.dtype):
        parts.append("BatchNormalization")
    return parts
