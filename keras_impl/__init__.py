"""keras_impl: the Keras 3 twin of a `handrolled` network (on TensorFlow, JAX or torch).

    from keras_impl import build_model, loss_and_gradients
    model = build_model(spec, weights)          # same weights as the NumPy network
    loss, grads = loss_and_gradients(model, spec, X, Y)

Keras fixes its backend when it is first imported, so importing this package
imports nothing yet: `keras_impl.backends` (which backend, chosen by --backend
or KERAS_BACKEND, else TensorFlow) is usable before Keras is.  The first public
name used (or any module of keras_impl) imports Keras on the chosen backend,
quietly (see `runtime`; `tf` is None on JAX and torch).
`installed_conventions()` measures how this Keras rounds (factor rounding,
activity penalty per row, hyper-parameter casts: `conventions`); importing
keras_impl changes nothing in `handrolled`.
"""

from importlib import import_module

# public name -> the module of keras_impl that defines it
_EXPORTS = {
    "BACKEND": "runtime", "keras": "runtime", "tf": "runtime", "seed_everything": "runtime",
    "loss_and_gradients": "gradients", "loss_gradients_and_masks": "gradients",
    "build_model": "model", "check_dtype": "model", "loss_function": "model",
    "predict_logits": "model", "predict_proba": "model", "read_state": "model",
    "read_weights": "model", "training_callbacks": "model",
    "installed_conventions": "conventions",
}
_MODULES = ("activations", "layers", "backends")


def __getattr__(name: str):
    """Import on first use (PEP 562): Keras only once a name that needs it is used."""
    if name in _MODULES:
        return import_module(f"{__name__}.{name}")
    if name in _EXPORTS:
        import_module(f"{__name__}.model")  # the twin's layers registered
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [*_EXPORTS, "activations", "layers", "backends"]
