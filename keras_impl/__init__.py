"""keras_impl: the Keras 3 (TensorFlow) twin of a `handrolled` network.

    from keras_impl import build_model, loss_and_gradients
    model = build_model(spec, weights)          # same weights as the NumPy network
    loss, grads = loss_and_gradients(model, spec, X, Y)

Importing this package imports TensorFlow quietly (see `runtime`), and holds
the hand-written regularizers to the installed Keras' conventions (factor
rounding, activity penalty per row: see `regularizers`).
"""

from .runtime import keras, seed_everything, tf  # noqa: F401  (import TF first, quietly)
from . import activations, layers  # noqa: E402  (layers registers mix and stochastic)
from .gradients import loss_and_gradients, loss_gradients_and_masks  # noqa: E402
from .model import (build_model, check_dtype, loss_function, predict_logits,  # noqa: E402
                    predict_proba, read_state, read_weights, training_callbacks)
from .regularizers import match_installed_keras  # noqa: E402

match_installed_keras()

__all__ = ["keras", "tf", "seed_everything", "activations", "layers", "loss_and_gradients",
           "loss_gradients_and_masks", "build_model", "check_dtype", "loss_function",
           "predict_logits", "predict_proba", "read_state", "read_weights", "training_callbacks",
           "match_installed_keras"]
