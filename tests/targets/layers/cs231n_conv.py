"""A convolution in CS231n's function style, channels-first (NCHW), kernel (F, C, kh, kw),
written with loops over output positions, taking the grid's configurations.

BUG names one deliberate mistake (None: correct); tests copy the file with another BUG.
The checker never reads it: it sees only the numbers."""
import numpy as np

LAYER = "conv(4,3)"
DATA_FORMAT = "channels_first"
KERNEL_LAYOUT = "oihw"
PARAM_NAMES = {"kernel": "w", "bias": "b"}
BUG = None


def pads(size, k, s, padding):
    """(before, after, out) for one axis, as TensorFlow pads."""
    if padding == "valid":
        return 0, 0, (size - k) // s + 1
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    if BUG == "same_padding_symmetric":
        return total - total // 2, total - total // 2, out
    return total // 2, total - total // 2, out


def forward(x, params, training, config):
    w, b = params["w"], params.get("b")
    if BUG == "conv_flipped_kernel":
        w = w[:, :, ::-1, ::-1]
    if BUG == "conv_kernel_transposed":
        w = w.transpose(0, 1, 3, 2)
    (kh, kw), (s, _) = w.shape[2:], config["strides"]
    n, c, h, wd = x.shape
    top, bottom, oh = pads(h, kh, s, config["padding"])
    left, right, ow = pads(wd, kw, s, config["padding"])
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    out = np.zeros((n, w.shape[0], oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * s:i * s + kh, j * s:j * s + kw]
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", window, w)
    if b is not None:
        out += b[None, :, None, None]
    return out, (x, xp, w, s, (top, bottom, left, right), b is not None)


def backward(dout, cache):
    x, xp, w, s, (top, bottom, left, right), has_bias = cache
    kh, kw = w.shape[2:]
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = xp[:, :, i * s:i * s + kh, j * s:j * s + kw]
            dw += np.einsum("nchw,nf->fchw", window, dout[:, :, i, j])
            dxp[:, :, i * s:i * s + kh, j * s:j * s + kw] += np.einsum(
                "fchw,nf->nchw", w, dout[:, :, i, j])
    if BUG == "conv_dx_empty_at_pad0":
        dx = dxp[:, :, top:-bottom, left:-right]
    else:
        dx = dxp[:, :, top:top + x.shape[2], left:left + x.shape[3]]
    if BUG == "conv_flipped_kernel":
        dw = dw[:, :, ::-1, ::-1]
    if BUG == "conv_kernel_transposed":
        dw = dw.transpose(0, 1, 3, 2)
    grads = {"w": dw}
    if has_bias:
        grads["b"] = dout.sum(axis=(0, 2, 3))
        if BUG == "conv_bias_not_summed":
            grads["b"] = dout.sum(axis=0)
        if BUG == "conv_bias_averaged_over_positions":
            grads["b"] = dout.sum(axis=0).mean(axis=(1, 2))
    return dx, grads


def set_bug(name):
    """For the tests: switch the deliberate mistake within one process."""
    global BUG
    BUG = name
