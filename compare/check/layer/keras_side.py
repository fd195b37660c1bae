"""The real Keras layer on a case: output, dx and every gradient by the backend's differentiation, state.

Built by keras_impl.model's twin registry from the same handrolled layer (so
"conv(8,3,strides=2,padding=same)" is the Conv2D the network check builds),
except use_bias=False, which the layer text cannot say.  The layer computes
in the case's dtype (dtype= per layer, not floatx).  Gradients are those of

    s = sum(out * dout)      so ds/dx = dL/dx for a loss whose dL/dout is dout,

the quantity a layer's backward(dout) returns.  Moving statistics are read
after every call (Keras updates them inside a training call).

Dropout draws its mask from TensorFlow's generator, which NumPy cannot
reproduce; so its expected results are Keras' convention, measured here on
the real layer (the value a kept unit takes, the inference pass), applied to
the mask the user's code drew (`dropout_expectation`).
"""

from __future__ import annotations

import numpy as np

from .results import StepResult


def keras_layer(case, dtype: str):
    from keras_impl.model import twin_layers
    from keras_impl.runtime import keras

    layer, config = case.layer, case.config
    if not config.use_bias and config.kind == "dense":
        return keras.layers.Dense(layer.units, activation=layer.activation.text,
                                  use_bias=False, dtype=dtype, name="dense")
    if not config.use_bias and config.kind == "conv":
        return keras.layers.Conv2D(layer.filters, layer.kernel_size, strides=layer.strides,
                                   padding=layer.padding, activation=layer.activation.text,
                                   use_bias=False, dtype=dtype, name="conv")
    built = twin_layers(layer, dtype)
    if len(built) != 1:
        from ..errors import TargetError
        raise TargetError(f"LAYER {config.text}: its Keras twin is {len(built)} layers; a "
                          f"layer target checks one Keras layer")
    return built[0]


def keras_steps(case, dtype: str) -> list[StepResult]:
    from keras_impl.runtime import BACKEND, keras

    layer = keras_layer(case, dtype)
    layer.build((None, *case.steps[0].x.shape[1:]))
    for variable in layer.weights:
        variable.assign(case.params[variable.name].astype(dtype))
    results = []
    for step in case.steps:
        dout = keras.ops.convert_to_tensor(np.asarray(step.dout, dtype=dtype))
        _, out, dx, gradients = BACKEND.call_and_gradients(
            layer, np.asarray(step.x, dtype=dtype), lambda out, _: keras.ops.sum(out * dout),
            training=step.training, keep_state=False, input_gradient=True)
        grads = {v.name: gradients[id(v)] for v in layer.trainable_weights}
        state = {v.name: np.asarray(v.numpy()) for v in layer.non_trainable_weights}
        results.append(StepResult(out, dx, grads, state))
    return results


def dropout_convention(case, dtype: str) -> dict:
    """Keras' dropout, measured on the real layer for this case's rate and shapes:
    {'scale': what a kept unit is multiplied by, 'keep': the kept fraction (an estimate),
     'inference_identity': whether the inference pass returns its input}."""
    keras_results = keras_steps(case, dtype)
    scale, keep, identity = None, None, True
    for step, result in zip(case.steps, keras_results):
        if step.training:
            kept = result.out != 0
            ratios = result.out[kept] / step.x[kept]
            scale = float(np.median(ratios)) if ratios.size else 1.0
            keep = float(kept.mean())
        else:
            identity = identity and bool(np.array_equal(result.out, step.x))
    return {"scale": scale, "keep": keep, "inference_identity": identity}


def dropout_expectation(case, convention: dict, user: list[StepResult], rate: float,
                        scale: float | None = None, inference_scale: float = 1.0,
                        keep: float | None = None) -> list[StepResult]:
    """Dropout's results with the user's own masks (read from their training outputs):
    kept units times `scale` (Keras' measured scale unless given), the inference pass
    times `inference_scale`; `kept` is the expected kept fraction."""
    scale = convention["scale"] if scale is None else scale
    keep = 1.0 - rate if keep is None else keep
    results = []
    for step, mine in zip(case.steps, user):
        if step.training:
            mask = (mine.out != 0).astype(step.x.dtype)
            results.append(StepResult(step.x * mask * scale, step.dout * mask * scale,
                                      kept=keep))
        else:
            results.append(StepResult(step.x * inference_scale, step.dout * inference_scale))
    return results
