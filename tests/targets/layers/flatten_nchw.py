"""Flatten in the plain channels-first way: x.reshape(n, -1), so the features come in
(C, H, W) order (PyTorch's); Keras' Flatten(data_format="channels_first") gives (H, W, C).
A convention, not a bug.  BUG = "wrong_order" (set by the tests): (W, H, C), no convention."""
LAYER = "flatten"
DATA_FORMAT = "channels_first"
BUG = None


def forward(x, params, training):
    if BUG == "wrong_order":
        return x.transpose(0, 3, 2, 1).reshape(x.shape[0], -1), x.shape
    return x.reshape(x.shape[0], -1), x.shape


def backward(dout, shape):
    if BUG == "wrong_order":
        n, c, h, w = shape
        return dout.reshape(n, w, h, c).transpose(0, 3, 2, 1), {}
    return dout.reshape(shape), {}


def set_bug(name):
    global BUG
    BUG = name
