"""docs/checking/layer.md's buggy example: the same code at padding 0 ('valid'), where its
[pad:-pad] slicing returns an empty dx."""
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    F, C, HH, WW = w.shape
    N, _, H, W = x.shape
    out = np.zeros((N, F, (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    F, C, HH, WW = w.shape
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            dw += np.tensordot(dout[:, :, i, j], window, axes=([0], [0]))
            dxp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += \
                np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    db = dout.sum(axis=(0, 2, 3))
    dx = dxp[:, :, pad:-pad, pad:-pad]
    return dx, dw, db


# ---- the adaptation to the layer-target contract: 8 lines ----
LAYER = "conv(4,3)"
DATA_FORMAT, KERNEL_LAYOUT, PARAM_NAMES = "channels_first", "oihw", {"kernel": "w", "bias": "b"}
PAD = 0


def forward(x, params, training):
    return conv_forward_naive(x, params["w"], params["b"], {"stride": 1, "pad": PAD})


def backward(dout, cache):
    dx, dw, db = conv_backward_naive(dout, cache)
    return dx, {"w": dw, "b": db}
