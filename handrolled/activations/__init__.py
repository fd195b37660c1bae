"""Activation functions for the hand-written network, each derivative beside its formula.

    from handrolled import activations
    f = activations.get("leaky_relu(0.1)")
    a = f.value(z);  da_dz = f.derivative(z, a)
    activations.names()        # every registered name, the same list keras_impl has

Modules:
    core        the contract (Activation: value, derivative, kinks, text, on_step)
                and the registry (get, register, names)
    zoo         elementwise functions: sigmoid, tanh, relu, relu_ge, leaky_relu,
                elu, softplus, swish, gelu, abs, linear, sin, cos, piecewise
    mix         per-neuron layers: mix(relu,abs,sin), ...;random, mix_of([...])
    stochastic  per-neuron functions redrawn on a seeded schedule during training
    user        register_user_activation: your own function, usable on both sides
"""

from .core import (Activation, examples, format_number, get, names, register,  # noqa: F401
                   register_factory, split_call, unregister)
from . import zoo  # noqa: F401,E402  (registers the zoo)
from .zoo import ReLU, Sigmoid, Tanh, Linear  # noqa: F401,E402
from .mix import Mix, PerUnitActivation, mix_of  # noqa: F401,E402
from .stochastic import EVALUATION_RULE, Stochastic  # noqa: F401,E402
from .user import (ActivationModuleError, UserActivation, check_user_activations,  # noqa: F401
                   load_activation_module,
                   register_user_activation, unregister_user_activation, user_names)

__all__ = ["Activation", "get", "names", "examples", "register", "register_factory",
           "split_call", "unregister", "format_number", "Mix", "PerUnitActivation", "mix_of",
           "Stochastic", "EVALUATION_RULE", "UserActivation", "register_user_activation",
           "unregister_user_activation", "load_activation_module", "ActivationModuleError",
           "user_names", "check_user_activations"]
