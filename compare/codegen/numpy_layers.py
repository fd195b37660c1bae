"""The NumPy template of every layer kind and activation, and each one's Keras line.

One entry per layer kind, registered under the kind's name as handrolled.layers
registers the layers (`LAYERS.lookup("conv")`): its class definition for
numpy_version.py (the equations beside the code, written from the layer's
docstring in handrolled/layers/), the helpers it needs, the expression that
builds one layer in NumPy and the Keras line that builds its twin.  Only the
kinds a network uses are written into its program.

The programs must compute what the project computes (the tests run them against
`nn-compare train`); where handrolled/ chose an order of operations to match
Keras, the template keeps it.
"""

from __future__ import annotations

from handrolled.errors import SpecError
from handrolled.registry import Registry

from .blocks import literal

LAYERS = Registry("layer kind for `nn-compare code`")
ACTIVATIONS = Registry("activation for `nn-compare code`")


def pair(values) -> str:
    return f"({int(values[0])}, {int(values[1])})"


def size(values) -> str:
    """A Keras size argument as its guides write it: 3 for (3, 3)."""
    return str(int(values[0])) if values[0] == values[1] else pair(values)


def keras_call(cls: str, *positional: str, **options) -> str:
    """`keras.layers.Conv2D(8, 3, padding="same", name="conv1")`: options that are None
    (Keras' default) are left out."""
    arguments = [*positional, *(f"{key}={value}" for key, value in options.items()
                                if value is not None)]
    return f"keras.layers.{cls}({', '.join(arguments)})"


def default_or(value, default, text: str):
    return None if value == default else text


def keras_activation(f) -> str:
    """`, activation="relu"` (nothing for linear: Keras' default)."""
    return "" if f.name == "linear" else f', activation={literal(f.name)}'


def written(registry: Registry, name: str, what: str):
    """The template registered under `name`, or a SpecError naming the ones written."""
    try:
        return registry.lookup(name)
    except SpecError:
        raise SpecError(f"nn-compare code writes the {what} {', '.join(registry.names())}; "
                        f"'{name}' is not one of them yet") from None


def activation(f):
    """The template of an activation function."""
    return written(ACTIVATIONS, f.text, "activations")


# ---------------------------------------------------------------- activations
@ACTIVATIONS.register("sigmoid")
class Sigmoid:
    code = '''
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))          # sigma(z) = 1 / (1 + e^-z)


def sigmoid_derivative(z, a):
    return a * (1.0 - a)                     # sigma'(z) = sigma(z) (1 - sigma(z))
'''


@ACTIVATIONS.register("tanh")
class Tanh:
    code = '''
def tanh(z):
    return np.tanh(z)


def tanh_derivative(z, a):
    return 1.0 - a * a                       # tanh'(z) = 1 - tanh(z)^2
'''


@ACTIVATIONS.register("relu")
class ReLU:
    code = '''
def relu(z):
    return np.maximum(z, 0)                  # relu(z) = max(z, 0)


def relu_derivative(z, a):
    return (z > 0).astype(z.dtype)           # 1 where z > 0, else 0 (0 at z = 0, as TensorFlow)
'''


@ACTIVATIONS.register("linear")
class Linear:
    code = '''
def linear(z):
    return z                                 # the output layer's z are the logits


def linear_derivative(z, a):
    return np.ones_like(z)
'''


# ---------------------------------------------------------------- helpers
WINDOWS = '''
class Windows:
    """The sliding windows of a convolution or pooling layer over NHWC images.

    valid:  out = (n - k) // s + 1          no padding
    same:   out = ceil(n / s), padded by (out - 1) s + k - n pixels, the odd one
            at the bottom/right (as TensorFlow)
    """

    def __init__(self, input_shape, window, strides, padding):
        (self.height, self.width, self.channels), self.window = input_shape, window
        self.strides, self.padding = strides, padding
        (kh, kw), (sh, sw) = window, strides
        if padding == "valid":
            self.out_h, self.out_w = (self.height - kh) // sh + 1, (self.width - kw) // sw + 1
        else:
            self.out_h, self.out_w = -(-self.height // sh), -(-self.width // sw)
        pad_h = max((self.out_h - 1) * sh + kh - self.height, 0)
        pad_w = max((self.out_w - 1) * sw + kw - self.width, 0)
        self.pad_h, self.pad_w = (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2)

    def view(self, x, pad_value=0.0):
        """Every window, (n, out_h, out_w, C, kh, kw), as a view of the padded input."""
        x = np.pad(x, ((0, 0), self.pad_h, self.pad_w, (0, 0)), constant_values=pad_value)
        windows = sliding_window_view(x, self.window, axis=(1, 2))
        return windows[:, ::self.strides[0], ::self.strides[1]][:, :self.out_h, :self.out_w]

    def scatter(self, d_windows):
        """The adjoint of `view`: (n, out_h, out_w, kh, kw, C) -> dL/dx (n, H, W, C),
        each window's gradient added back onto its pixels (a loop over the kernel's
        offsets, not over pixels)."""
        (kh, kw), (sh, sw) = self.window, self.strides
        dx = np.zeros((d_windows.shape[0], self.height + sum(self.pad_h),
                       self.width + sum(self.pad_w), self.channels), dtype=d_windows.dtype)
        last_h, last_w = sh * (self.out_h - 1) + 1, sw * (self.out_w - 1) + 1
        for i in range(kh):
            for j in range(kw):
                dx[:, i:i + last_h:sh, j:j + last_w:sw, :] += d_windows[:, :, :, i, j, :]
        top, left = self.pad_h[0], self.pad_w[0]
        return dx[:, top:top + self.height, left:left + self.width, :]
'''

HELPERS = {"windows": WINDOWS}
HELPER_IMPORTS = {"windows": "from numpy.lib.stride_tricks import sliding_window_view"}


# ---------------------------------------------------------------- layers
@LAYERS.register("dense")
class Dense:
    helpers = ()
    code = '''
class Dense:
    """Fully connected: z = x W + b (eq. 1), a = f(z) (eq. 2); W is (inputs, units).

    Backward, from dy = dL/da:  delta = dy f'(z)          (eq. 5)
                                dL/dW = x^T delta,  dL/db = sum of delta over rows   (eq. 4)
                                dL/dx = delta W^T          (eq. 5: to the layer below)
    """
    params = ("kernel", "bias")

    def __init__(self, name, f, f_derivative):
        self.name, self.f, self.f_derivative = name, f, f_derivative

    def forward(self, weights, x, training, step):
        W, b = weights[self.name + "/kernel"], weights[self.name + "/bias"]
        z = x @ W + b                                        # eq. 1
        a = self.f(z)                                        # eq. 2
        self.cache = (x, z, a)
        return a

    def backward(self, weights, dy, grads):
        x, z, a = self.cache
        delta = dy * self.f_derivative(z, a)                 # eq. 5
        grads[self.name + "/kernel"] = x.T @ delta           # eq. 4
        grads[self.name + "/bias"] = delta.sum(axis=0)
        return delta @ weights[self.name + "/kernel"].T      # eq. 5: dL/dx
'''

    @staticmethod
    def numpy(layer) -> str:
        f = layer.activation.name
        return f'Dense({literal(layer.name)}, {f}, {f}_derivative)'

    @staticmethod
    def keras(layer) -> str:
        return (f'keras.layers.Dense({layer.units}{keras_activation(layer.activation)}, '
                f'name={literal(layer.name)})')


@LAYERS.register("conv")
class Conv2D:
    helpers = ("windows",)
    code = '''
class Conv2D:
    """Cross-correlation over NHWC images (no kernel flip, as Keras), kernel (kh, kw, C, F).

    im2col: every window of the padded input becomes one row of `cols`, then one product
        z = cols K + b    (K: the kernel as a (kh kw C, F) matrix),   a = f(z)
    Backward:  delta = dy f'(z);  dL/dK = cols^T delta;  dL/db = sum of delta
               dL/dx = every window's share of delta K^T added back onto its pixels
    """
    params = ("kernel", "bias")

    def __init__(self, name, f, f_derivative, input_shape, kernel_size, strides, padding):
        self.name, self.f, self.f_derivative = name, f, f_derivative
        self.windows = Windows(input_shape, kernel_size, strides, padding)

    def forward(self, weights, x, training, step):
        K, b = weights[self.name + "/kernel"], weights[self.name + "/bias"]
        kh, kw, C, F = K.shape
        windows = self.windows.view(x)                                   # (n, oh, ow, C, kh, kw)
        cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, kh * kw * C)
        z = (cols @ K.reshape(-1, F) + b).reshape(x.shape[0], self.windows.out_h,
                                                  self.windows.out_w, F)
        a = self.f(z)
        self.cache = (cols, z, a)
        return a

    def backward(self, weights, dy, grads):
        cols, z, a = self.cache
        K = weights[self.name + "/kernel"]
        kh, kw, C, F = K.shape
        delta = (dy * self.f_derivative(z, a)).reshape(-1, F)           # one row per pixel
        grads[self.name + "/kernel"] = (cols.T @ delta).reshape(K.shape)
        grads[self.name + "/bias"] = delta.sum(axis=0)
        d_cols = delta @ K.reshape(-1, F).T                              # (n oh ow, kh kw C)
        return self.windows.scatter(d_cols.reshape(dy.shape[0], self.windows.out_h,
                                                   self.windows.out_w, kh, kw, C))
'''

    @staticmethod
    def numpy(layer) -> str:
        f = layer.activation.name
        return (f'Conv2D({literal(layer.name)}, {f}, {f}_derivative, '
                f'{tuple(layer.input_shape)}, '
                f'{pair(layer.kernel_size)}, {pair(layer.strides)}, {literal(layer.padding)})')

    @staticmethod
    def keras(layer) -> str:
        activation = layer.activation.name
        return keras_call("Conv2D", str(layer.filters), size(layer.kernel_size),
                          strides=default_or(tuple(layer.strides), (1, 1), size(layer.strides)),
                          padding=default_or(layer.padding, "valid", literal(layer.padding)),
                          activation=default_or(activation, "linear", literal(activation)),
                          name=literal(layer.name))

POOLING = '''
class {cls}:
    """{summary}"""
    params = ()

    def __init__(self, name, input_shape, pool_size, strides, padding):
        self.name = name
        self.windows = Windows(input_shape, pool_size, strides, padding)
        self.size = pool_size[0] * pool_size[1]
{init}
    def window_values(self, x, pad_value):
        windows = self.windows.view(x, pad_value)                        # (n, oh, ow, C, kh, kw)
        return windows.reshape(*windows.shape[:4], self.size)

    def scatter_values(self, d_values):
        """(n, oh, ow, C, kh kw) -> dL/dx, through Windows.scatter's layout."""
        kh, kw = self.windows.window
        return self.windows.scatter(d_values.reshape(*d_values.shape[:4], kh, kw)
                                    .transpose(0, 1, 2, 4, 5, 3))
{methods}'''


def pooling_keras(cls: str, layer) -> str:
    return keras_call(cls, size(layer.pool_size),
                      strides=default_or(tuple(layer.strides), tuple(layer.pool_size),
                                         size(layer.strides)),
                      padding=default_or(layer.padding, "valid", literal(layer.padding)),
                      name=literal(layer.name))

def pooling_numpy(cls: str, layer) -> str:
    return (f'{cls}({literal(layer.name)}, {tuple(layer.input_shape)}, '
            f'{pair(layer.pool_size)}, '
            f'{pair(layer.strides)}, {literal(layer.padding)})')


@LAYERS.register("maxpool")
class MaxPooling2D:
    helpers = ("windows",)
    code = POOLING.format(cls="MaxPooling2D", summary="""y = the largest value of every window, per channel.

    Backward: a window's whole gradient goes to its winner, the first maximum in
    row-major order (as TensorFlow on the CPU); padded pixels are -inf and never win.
    """, init="", methods='''
    def forward(self, weights, x, training, step):
        values = self.window_values(x, -np.inf)
        self.winner = values.argmax(axis=-1)                             # the first maximum
        return np.take_along_axis(values, self.winner[..., None], axis=-1)[..., 0]

    def backward(self, weights, dy, grads):
        d_values = (np.arange(self.size) == self.winner[..., None]) * dy[..., None]
        return self.scatter_values(d_values.astype(dy.dtype))
''')
    numpy = staticmethod(lambda layer: pooling_numpy("MaxPooling2D", layer))
    keras = staticmethod(lambda layer: pooling_keras("MaxPooling2D", layer))


@LAYERS.register("avgpool")
class AveragePooling2D:
    helpers = ("windows",)
    code = POOLING.format(cls="AveragePooling2D", summary="""y = the mean of every window, per channel.

    m = the window's real pixels (padding not counted, as TensorFlow).
    Backward: every pixel of a window gets dy / m.
    """, init='''        ones = np.ones((1, input_shape[0], input_shape[1], 1))
        self.counts = self.window_values(ones, 0.0).sum(axis=-1)         # m per window
''', methods='''
    def forward(self, weights, x, training, step):
        return self.window_values(x, 0.0).sum(axis=-1) / self.counts.astype(x.dtype)

    def backward(self, weights, dy, grads):
        share = dy / self.counts.astype(dy.dtype)
        return self.scatter_values(np.repeat(share[..., None], self.size, axis=-1))
''')
    numpy = staticmethod(lambda layer: pooling_numpy("AveragePooling2D", layer))
    keras = staticmethod(lambda layer: pooling_keras("AveragePooling2D", layer))


@LAYERS.register("flatten")
class Flatten:
    helpers = ()
    code = '''
class Flatten:
    """(n, H, W, C) -> (n, H W C), row-major as Keras' Flatten; backward: the inverse reshape."""
    params = ()

    def __init__(self, name):
        self.name = name

    def forward(self, weights, x, training, step):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, weights, dy, grads):
        return dy.reshape(self.shape)
'''

    @staticmethod
    def numpy(layer) -> str:
        return f'Flatten({literal(layer.name)})'

    @staticmethod
    def keras(layer) -> str:
        return f'keras.layers.Flatten(name={literal(layer.name)})'


@LAYERS.register("activation")
class Activation:
    helpers = ()
    code = '''
class Activation:
    """a = f(z) on its own; backward: dL/dz = dL/da f'(z)."""
    params = ()

    def __init__(self, name, f, f_derivative):
        self.name, self.f, self.f_derivative = name, f, f_derivative

    def forward(self, weights, z, training, step):
        a = self.f(z)
        self.cache = (z, a)
        return a

    def backward(self, weights, dy, grads):
        return dy * self.f_derivative(*self.cache)
'''

    @staticmethod
    def numpy(layer) -> str:
        f = layer.activation.name
        return f'Activation({literal(layer.name)}, {f}, {f}_derivative)'

    @staticmethod
    def keras(layer) -> str:
        return (f'keras.layers.Activation({literal(layer.activation.name)}, '
                f'name={literal(layer.name)})')


@LAYERS.register("batchnorm")
class BatchNormalization:
    helpers = ()
    code = '''
class BatchNormalization:
    """Per feature (per channel after a convolution: statistics over every axis but the last).

    Training, with the batch's mean mu and *biased* variance var (m values per feature):
        y = gamma (x - mu) / sqrt(var + eps) + beta
        moving_mean <- moving_mean momentum + mu (1 - momentum)      (likewise the variance)
    Inference: the moving statistics in place of mu and var.
    Backward in training (mu and var depend on every row), x_hat = (x - mu) / sqrt(var + eps):
        dL/dbeta = sum dy,  dL/dgamma = sum dy x_hat
        dL/dx = gamma / (m sqrt(var + eps)) (m dy - dL/dbeta - x_hat dL/dgamma)
    """
    params = ("gamma", "beta")

    def __init__(self, name, momentum, epsilon):
        self.name, self.momentum, self.epsilon = name, momentum, epsilon

    def forward(self, weights, x, training, step):
        gamma, beta = weights[self.name + "/gamma"], weights[self.name + "/beta"]
        mean, variance = self.name + "/moving_mean", self.name + "/moving_variance"
        if training:
            m = x.size // x.shape[-1]
            mu = feature_sum(x) / m
            var = feature_sum(np.square(x - mu)) / m                     # biased: / m
            weights[mean] = weights[mean] * self.momentum + mu * (1.0 - self.momentum)
            weights[variance] = weights[variance] * self.momentum + var * (1.0 - self.momentum)
        else:
            mu, var = weights[mean], weights[variance]
        inv = 1 / np.sqrt(var + self.epsilon) * gamma
        self.cache = (x, mu, var)
        return x * inv + (beta - mu * inv)

    def backward(self, weights, dy, grads):
        x, mu, var = self.cache
        m = x.size // x.shape[-1]
        rstd = 1 / np.sqrt(var + self.epsilon)
        x_hat = (x - mu) * rstd
        d_gamma, d_beta = feature_sum(dy * x_hat), feature_sum(dy)
        grads[self.name + "/gamma"], grads[self.name + "/beta"] = d_gamma, d_beta
        gamma = weights[self.name + "/gamma"]
        return (gamma * rstd / m) * (m * dy - d_beta - x_hat * d_gamma)


def feature_sum(a):
    """The sum over every axis but the last; each feature's values laid out contiguously
    first, so NumPy sums them pairwise (as accurate as TensorFlow's)."""
    return np.ascontiguousarray(a.reshape(-1, a.shape[-1]).T).sum(axis=1)
'''

    @staticmethod
    def numpy(layer) -> str:
        return (f'BatchNormalization({literal(layer.name)}, {layer.momentum!r}, '
                f'{layer.epsilon!r})')

    @staticmethod
    def keras(layer) -> str:
        return keras_call("BatchNormalization",
                          momentum=default_or(layer.momentum, 0.99, repr(layer.momentum)),
                          epsilon=default_or(layer.epsilon, 1e-3, repr(layer.epsilon)),
                          name=literal(layer.name))

@LAYERS.register("dropout")
class Dropout:
    helpers = ()
    code = '''
class Dropout:
    """Inverted dropout: y = (x / (1 - rate)) keep, keep = 1 for a kept unit, else 0;
    dL/dx = (dy / (1 - rate)) keep.  Inference: y = x.

    The keep masks are the ones Keras' Dropout layers draw in keras_version.py (the same
    seed), step by step: NumPy cannot reproduce TensorFlow's random generator, so
    nn-compare code recorded them from its own Keras run into dropout_masks.npz.
    Drawing your own instead,
    keep = np.random.default_rng().random(x.shape) >= rate, trains the same network
    but on other masks: the numbers then agree with Keras only in distribution.
    """
    params = ()

    def __init__(self, name, rate):
        self.name, self.rate = name, rate

    def forward(self, weights, x, training, step):
        if not training:
            self.keep = None
            return x
        self.keep = dropout_masks[f"{self.name}/step{step}"]
        return (x * (1 / (1 - self.rate))) * self.keep.astype(x.dtype)

    def backward(self, weights, dy, grads):
        if self.keep is None:
            return dy
        return (dy * (1 / (1 - self.rate))) * self.keep.astype(dy.dtype)
'''

    @staticmethod
    def numpy(layer) -> str:
        return f'Dropout({literal(layer.name)}, {layer.rate!r})'

    @staticmethod
    def keras(layer) -> str:
        return f'keras.layers.Dropout({layer.rate!r}, name={literal(layer.name)})'


def layer_template(layer):
    """The template of a built handrolled layer (SpecErrors for what is not written)."""
    template = written(LAYERS, layer.kind, "layers")
    if getattr(layer, "kernel_regularizer", None) or getattr(layer, "activity_regularizer", None):
        raise SpecError(f"layer {layer.name}: nn-compare code does not write regularizers yet; "
                        f"remove kernel=/activity= from the spec")
    if getattr(layer, "activation", None) is not None:
        activation(layer.activation)
    return template
