"""The project's own layers as a per-layer class, channels-first (NCHW) with (out, in, kh, kw)
kernels and PyTorch-like names: what a class-style "from scratch" layer looks like, made
fresh per configuration with the layer's options.

Tests copy this file with another LAYER line to check every kind; BUG = "dx_off"
(set by the tests) is its failing twin: dx 1% off."""
import numpy as np

from handrolled import layers

LAYER = "conv(4,3)"
BUG = None
DATA_FORMAT = "channels_first"
KERNEL_LAYOUT = "oihw"
PARAM_NAMES = {"kernel": "weight", "bias": "bias", "gamma": "weight_bn", "beta": "bias_bn",
               "moving_mean": "running_mean", "moving_variance": "running_var"}
KEYS = {v: k for k, v in PARAM_NAMES.items()}


def to_nhwc(a):
    return a.transpose(0, 2, 3, 1) if a.ndim == 4 else a


def to_nchw(a):
    return a.transpose(0, 3, 1, 2) if a.ndim == 4 else a


class Layer:
    def __init__(self, config):
        self.kind = LAYER.split("(")[0]
        self.use_bias = config.pop("use_bias", True)
        self.config = config

    def forward(self, x, params, training):
        self.layer = layers.get(self.kind)(**self.config).built(self.kind, to_nhwc(x).shape[1:])
        p = {KEYS[k]: v for k, v in params.items()}
        if "kernel" in p:
            k = p["kernel"]
            p["kernel"] = k.transpose(2, 3, 1, 0) if k.ndim == 4 else k.T
            p.setdefault("bias", np.zeros(p["kernel"].shape[-1]))
        out, self.cache = self.layer.forward(p, to_nhwc(x), training)
        self.p = p
        if not self.layer.state_shapes:
            return to_nchw(out), None
        state = self.layer.state_updates(self.cache) or {
            "moving_mean": p["moving_mean"], "moving_variance": p["moving_variance"]}
        return to_nchw(out), None, {PARAM_NAMES[k]: v for k, v in state.items()}

    def backward(self, dout, cache):
        dx, grads = self.layer.backward(self.p, to_nhwc(dout), self.cache)
        if "kernel" in grads:
            k = grads["kernel"]
            grads["kernel"] = k.transpose(3, 2, 0, 1) if k.ndim == 4 else k.T
            if not self.use_bias:
                del grads["bias"]
        if BUG == "dx_off":
            dx = dx * 1.01
        return to_nchw(dx), {PARAM_NAMES[k]: v for k, v in grads.items()}


LAYER_CLASS = Layer


def set_bug(name):
    """For the tests: switch the failing twin on within one process."""
    global BUG
    BUG = name
