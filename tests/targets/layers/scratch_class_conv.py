"""A convolution as a "from scratch" repository writes it: a class that owns its weights
(self.W (out, in, k, k), self.b), channels-first, `forward(x) -> out`, `backward(dout) -> dx`
setting self.dW and self.db, symmetric zero padding of `padding` pixels.  Below it, the
adaptation to the layer-target contract (docs/checking/layer.md quotes it).  Tests copy
the file at stride 2 on 'same' padding, where symmetric padding is not TensorFlow's."""
import numpy as np


class Conv2D:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        rng = np.random.default_rng(0)
        self.W = rng.normal(0, 0.1, (out_channels, in_channels, kernel_size, kernel_size))
        self.b = np.zeros(out_channels)
        self.stride, self.padding = stride, padding

    def forward(self, x):
        s, p, k = self.stride, self.padding, self.W.shape[2]
        self.xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        oh = (self.xp.shape[2] - k) // s + 1
        ow = (self.xp.shape[3] - k) // s + 1
        out = np.empty((x.shape[0], self.W.shape[0], oh, ow))
        for i in range(oh):
            for j in range(ow):
                patch = self.xp[:, :, i * s:i * s + k, j * s:j * s + k]
                out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, self.W) + self.b
        return out

    def backward(self, dout):
        s, p, k = self.stride, self.padding, self.W.shape[2]
        dxp = np.zeros_like(self.xp)
        self.dW = np.zeros_like(self.W)
        self.db = dout.sum(axis=(0, 2, 3))
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                patch = self.xp[:, :, i * s:i * s + k, j * s:j * s + k]
                self.dW += np.einsum("nchw,no->ochw", patch, dout[:, :, i, j])
                dxp[:, :, i * s:i * s + k, j * s:j * s + k] += np.einsum(
                    "ochw,no->nchw", self.W, dout[:, :, i, j])
        return dxp[:, :, p:dxp.shape[2] - p, p:dxp.shape[3] - p]


# ---- the adaptation to the layer-target contract: 8 lines ----
LAYER = "conv(4,3,padding=same)"
DATA_FORMAT, KERNEL_LAYOUT, PARAM_NAMES = "channels_first", "oihw", {"kernel": "W", "bias": "b"}
layer = Conv2D(3, 4, 3, stride=1, padding=1)        # its own W and b are replaced below


def forward(x, params, training):
    layer.W, layer.b = params["W"], params["b"]
    return layer.forward(x), None


def backward(dout, cache):
    return layer.backward(dout), {"W": layer.dW, "b": layer.db}
