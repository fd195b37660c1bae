"""handrolled: a neural network written by hand in NumPy, readable like a textbook.

    from handrolled import NetworkSpec, Network, init_weights
    spec = NetworkSpec.from_text("100:sigmoid", inputs=784, classes=10)
    net = Network(spec, init_weights(spec))
    loss, grads = net.loss_and_gradients(X, Y)   # {'dense1/kernel': ..., 'dense1/bias': ...}

    spec = NetworkSpec.from_text("conv(8,3,relu),maxpool(2),flatten,dense(32,relu)",
                                 inputs=(28, 28, 1), classes=10)

NumPy only: nothing here imports a framework.
"""

from . import activations, layers, losses, optimizers, regularizers
from .errors import InputError, MachineError, ReportedError, SpecError, TargetError
from .loss import cross_entropy, one_hot, softmax
from .network import ForwardCache, Network, check_batch
from .spec import (DTYPES, MNIST_SHAPE, LayerSpec, NetworkSpec, dense_layer, network_from_json,
                   parse_hidden, parse_layers)
from .weights import (INIT_SCHEMES, Params, as_list, from_bias_row, from_list, init_weights,
                      load_weights, to_bias_row, validate)

__all__ = [
    "activations", "layers", "losses", "optimizers", "regularizers",
    "ReportedError", "InputError", "SpecError", "TargetError", "MachineError",
    "cross_entropy", "one_hot", "softmax", "ForwardCache",
    "Network", "check_batch", "DTYPES", "MNIST_SHAPE", "LayerSpec", "NetworkSpec",
    "dense_layer", "network_from_json", "parse_hidden", "parse_layers",
    "INIT_SCHEMES", "Params", "as_list", "from_bias_row", "from_list", "init_weights", "load_weights",
    "to_bias_row", "validate",
]
