"""handrolled: a neural network written by hand in NumPy, readable like a textbook.

    from handrolled import NetworkSpec, Network, init_weights
    spec = NetworkSpec.from_text("100:sigmoid", inputs=784, classes=10)
    net = Network(spec, init_weights(spec))
    loss, grads = net.loss_and_gradients(X, Y)   # grads: {'W1': ..., 'b1': ..., ...}

NumPy only: nothing here imports a framework.
"""

from . import activations
from .errors import SpecError
from .loss import cross_entropy, one_hot, softmax
from .network import ForwardCache, Network, check_batch
from .spec import DTYPES, LayerSpec, NetworkSpec, parse_hidden
from .weights import (INIT_SCHEMES, Params, as_list, from_bias_row, from_list, init_weights,
                      load_weights, to_bias_row, validate)

__all__ = [
    "activations", "SpecError", "cross_entropy", "one_hot", "softmax", "ForwardCache",
    "Network", "check_batch", "DTYPES", "LayerSpec", "NetworkSpec", "parse_hidden",
    "INIT_SCHEMES", "Params", "as_list", "from_bias_row", "from_list", "init_weights", "load_weights",
    "to_bias_row", "validate",
]
