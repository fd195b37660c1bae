"""The project's own layers (handrolled/layers) as a layer target: channels-last, Keras'
names and layout, CS231n's function style, taking the grid's configurations (`config`).

Tests copy this file with another LAYER line to check every kind; BUG = "dx_off"
(set by the tests) is its failing twin: dx 1% off."""
import numpy as np

from handrolled import layers

LAYER = "conv(4,3)"
BUG = None
KIND = LAYER.split("(")[0]


def forward(x, params, training, config):
    options = {k: v for k, v in config.items() if k != "use_bias"}
    layer = layers.get(KIND)(**options).built(KIND, x.shape[1:])
    p = dict(params)
    if "kernel" in p and not config.get("use_bias", True):
        p["bias"] = np.zeros(p["kernel"].shape[-1])              # use_bias=False
    out, cache = layer.forward(p, x, training)
    state = layer.state_updates(cache) if layer.state_shapes else None
    return (out, (layer, p, cache, config)) + ((state,) if layer.state_shapes else ())


def backward(dout, cache):
    layer, p, inner, config = cache
    dx, grads = layer.backward(p, dout, inner)
    if not config.get("use_bias", True):
        del grads["bias"]
    if BUG == "dx_off":
        dx = dx * 1.01
    return dx, grads


def set_bug(name):
    """For the tests: switch the failing twin on within one process."""
    global BUG
    BUG = name
