"""Where a hand-written step of the bench's CNN goes, layer by layer.

docs/PERFORMANCE.md, "Convolutions".  Run from the repository root:

    .venv/bin/python docs/experiments/conv_layer_times.py 32
    .venv/bin/python docs/experiments/conv_layer_times.py 128

For conv(16,3,relu),maxpool(2),flatten,dense(100,relu) on 28x28x1 float32
images, one BLAS thread: each layer's forward and backward (the first layer
sends no gradient down, as in training), the best of 5 x 10 calls, in ms;
then the parts of the convolution's forward and backward on their own, and
two ways for max pooling to keep each window's winner.
"""

import sys
import timeit

import numpy as np
from threadpoolctl import threadpool_limits

from handrolled import Network, NetworkSpec, init_weights

CNN = "conv(16,3,relu),maxpool(2),flatten,dense(100,relu)"
batch = int(sys.argv[1]) if len(sys.argv) > 1 else 32


def best_ms(fn, number=10):
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e3


spec = NetworkSpec.from_text(CNN, inputs=(28, 28, 1), classes=10, dtype="float32", seed=0)
network = Network(spec, init_weights(spec))
x = np.random.default_rng(0).random((batch, *spec.input_shape), dtype=np.float32)
with threadpool_limits(limits=1, user_api="blas"):
    print(f"batch {batch}: layer, forward ms, backward ms, output dtype")
    for layer in network.layers:
        params = network.layer_params(layer)
        y, cache = layer.forward(params, x, True)
        dy = np.ones_like(y)
        down = layer is not network.layers[0]
        fwd = best_ms(lambda: layer.forward(params, x, True))
        bwd = best_ms(lambda: layer.backward(params, dy, cache, down))
        print(f"{layer.name:10s} {fwd:8.3f} {bwd:8.3f}  {y.dtype}")
        if layer is network.layers[0]:
            conv, conv_x = layer, x
        x = y

    K = network.params["conv1/kernel"].reshape(-1, conv.filters)
    cols = conv.windows.columns(conv_x).reshape(-1, K.shape[0])
    z = cols @ K
    delta = np.ones_like(z)
    print("conv1 parts, ms:")
    for name, fn in (("im2col (columns)", lambda: conv.windows.columns(conv_x)),
                     ("product cols K", lambda: cols @ K),
                     ("relu f(z)", lambda: conv.activation.value(z)),
                     ("relu f'(z)", lambda: conv.activation.derivative(z, z)),
                     ("kernel gradient cols^T delta", lambda: cols.T @ delta),
                     ("bias gradient, column sum", lambda: delta.sum(axis=0)),
                     ("bias gradient, 1^T delta", lambda: np.ones(len(delta), np.float32)
                      @ delta)):
        print(f"  {name:30s} {best_ms(fn):8.3f}")

    # max pooling: one window offset of the running maximum, two ways to keep the winner
    a = conv.activation.value(z).reshape(batch, 26, 26, 16)
    y, values = a[:, 0::2, 0::2].copy(), a[:, 0::2, 1::2]
    winner = np.zeros(y.shape, np.uint8)
    later = values > y
    print("maxpool, one offset, ms:")
    for name, fn in (("np.copyto(winner, 1, where=later)",
                      lambda: np.copyto(winner, 1, where=later)),
                     ("winner += later * (1 - winner)",
                      lambda: np.add(winner, later * (1 - winner), out=winner))):
        print(f"  {name:36s} {best_ms(fn):8.3f}")
