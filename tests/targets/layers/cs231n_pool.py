"""Max and average pooling in CS231n's function style, channels-first (NCHW), with loops over
output positions, taking the grid's configurations.  LAYER's kind picks the pooling.

BUG names one deliberate mistake (None: correct); tests copy the file with another BUG or
LAYER.  The checker never reads it: it sees only the numbers."""
import numpy as np

LAYER = "maxpool(2)"
DATA_FORMAT = "channels_first"
BUG = None


def pads(size, k, s, padding):
    if padding == "valid":
        return 0, 0, (size - k) // s + 1
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    if BUG == "same_padding_symmetric":
        return total - total // 2, total - total // 2, out
    return total // 2, total - total // 2, out


def windows(x, config):
    (kh, kw), (s, _) = config["pool_size"], config["strides"]
    top, bottom, oh = pads(x.shape[2], kh, s, config["padding"])
    left, right, ow = pads(x.shape[3], kw, s, config["padding"])
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * s - top, i * s - top + kh)
            cols = slice(j * s - left, j * s - left + kw)
            yield i, j, (slice(max(rows.start, 0), max(rows.stop, 0)),
                         slice(max(cols.start, 0), max(cols.stop, 0))), (oh, ow), kh * kw


def forward(x, params, training, config):
    out = None
    for i, j, (rows, cols), (oh, ow), size in windows(x, config):
        if out is None:
            out = np.zeros((x.shape[0], x.shape[1], oh, ow))
        patch = x[:, :, rows, cols]
        if LAYER.startswith("maxpool"):
            out[:, :, i, j] = patch.max(axis=(2, 3))
        else:
            count = size if BUG == "avgpool_counts_padding" else patch.shape[2] * patch.shape[3]
            out[:, :, i, j] = patch.sum(axis=(2, 3)) / count
    return out, (x, config)


def backward(dout, cache):
    x, config = cache
    dx = np.zeros_like(x)
    for i, j, (rows, cols), _, size in windows(x, config):
        patch = x[:, :, rows, cols]
        g = dout[:, :, i, j][:, :, None, None]
        if LAYER.startswith("avgpool"):
            count = size if BUG == "avgpool_counts_padding" else patch.shape[2] * patch.shape[3]
            dx[:, :, rows, cols] += g / count
            continue
        flat = patch.reshape(*patch.shape[:2], -1)
        if BUG == "maxpool_grad_to_all_ties":
            mask = patch == patch.max(axis=(2, 3), keepdims=True)
        else:
            if BUG == "maxpool_grad_to_last_tie":
                first = flat.shape[2] - 1 - np.argmax(flat[:, :, ::-1], axis=2)
            else:
                first = np.argmax(flat, axis=2)
            mask = (np.arange(flat.shape[2]) == first[..., None]).reshape(patch.shape)
        dx[:, :, rows, cols] += mask * g
    return dx, {}


def set_bug(name):
    """For the tests: switch the deliberate mistake within one process."""
    global BUG
    BUG = name
