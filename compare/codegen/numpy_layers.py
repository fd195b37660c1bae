"""numpy_version.py's layers: handrolled's own functions, and each kind's Keras line.

The formulas are not restated here.  Every layer kind's forward and backward
are pure functions in its file under handrolled/layers/ (`dense_forward`,
`dense_backward`, `batchnorm_forward`, ...), the very functions the project's
`Layer` classes call; numpy_version.py embeds their source text
(`inspect.getsource`), and so the `Windows` geometry of conv and pooling and
the activations' `value` and `derivative`.  What is written here is only the
glue a standalone program needs around them: a small class per kind that hands
the functions this layer's arrays out of the one `weights` dict and stores its
gradients back under the network's names, the expression that builds one layer
in NumPy, and the Keras line that builds its twin.

One entry per layer kind, registered under the kind's name as handrolled.layers
registers the layers (`LAYERS.lookup("conv")`).  A kind without an entry whose
class gives its pure `FUNCTIONS = (forward, backward)` needs none: its functions
are embedded as they are and one shared glue class (`FunctionLayer`) calls them
with the layer's config; its Keras line is keras.layers.<keras_name>(**config).
Only the kinds a network uses are written into its program.
"""

from __future__ import annotations

import inspect
import textwrap

from handrolled.activations import zoo
from handrolled.errors import SpecError
from handrolled.layers import activation as activation_layer
from handrolled.layers import avgpool, batchnorm, conv2d, dense, dropout, flatten, maxpool
from handrolled.layers import normalization, pooling, windows
from handrolled.registry import Registry

from .blocks import literal

LAYERS = Registry("layer kind for `nn-compare code`")
ACTIVATIONS = Registry("activation for `nn-compare code`")


def source(*definitions) -> str:
    """The source text of handrolled functions and classes as written there, two blank
    lines apart: what numpy_version.py runs is the code the project's tests run."""
    return "\n\n\n".join(textwrap.dedent(inspect.getsource(d)).strip("\n")
                          for d in definitions)


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
    """The template of an activation function (a SpecError for one not written)."""
    return written(ACTIVATIONS, f.text, "activations")



# ---------------------------------------------------------------- activations
def activation_code(function_class, name: str) -> str:
    """An activation's `value` and `derivative`, as its class in handrolled writes them,
    and the one object of it the layers are given (`relu = ReLU()`)."""
    methods = "\n\n".join(inspect.getsource(getattr(function_class, method)).rstrip("\n")
                           for method in ("value", "derivative"))
    cls = function_class.__name__
    return (f'class {cls}:\n    """{name}: a = f(z) and f\'(z) side by side '
            f'(handrolled/activations)."""\n\n{methods}\n\n\n{name} = {cls}()\n')


def _activation(name: str, function_class):
    template = type(function_class.__name__, (), {
        "function": function_class,
        "code": activation_code(function_class, name)})
    return ACTIVATIONS.register(name)(template)


for _name, _class in (("sigmoid", zoo.Sigmoid), ("tanh", zoo.Tanh), ("relu", zoo.ReLU),
                      ("linear", zoo.Linear)):
    _activation(_name, _class)


# ---------------------------------------------------------------- helpers
LAYER_GLUE = '''
class Layer:
    """The glue between the network and one layer\'s functions below: the layer\'s arrays
    live in `weights` under "<layer name>/<variable>" (Keras\' names, "dense1/kernel"),
    and its functions take and give them by their own names ({"kernel": ...})."""
    params = ()                                 # the trainable ones: the optimizer\'s

    def own(self, weights):
        """{"kernel": weights["dense1/kernel"], ...}: this layer\'s arrays (the same objects)."""
        prefix = self.name + "/"
        return {key[len(prefix):]: value for key, value in weights.items()
                if key.startswith(prefix)}

    def store(self, grads, own_grads):
        """This layer\'s gradients back into `grads`, under the network\'s names."""
        for key, g in own_grads.items():
            grads[self.name + "/" + key] = g
'''

FUNCTION_GLUE = '''
class FunctionLayer(Layer):
    """A layer that computes the same in training and inference: its forward and
    backward functions, called with its options (config) as keywords."""

    def __init__(self, name, forward, backward, config, params=()):
        self.name, self.forward_function, self.backward_function = name, forward, backward
        self.config, self.params = config, params

    def forward(self, weights, x, training, step):
        y, self.cache = self.forward_function(self.own(weights), x, **self.config)
        return y

    def backward(self, weights, dy, grads):
        dx, own_grads = self.backward_function(self.own(weights), dy, self.cache,
                                               **self.config)
        self.store(grads, own_grads)
        return dx
'''

# the functions layer files share, embedded once per program where its layers call them
SHARED_FUNCTIONS = {
    "windows": (windows.output_size, windows.pad_amounts, windows.Windows),
    "pooling": (pooling.window_values, pooling.scatter_values),
    "normalization": (normalization.normalize, normalization.standardized),
}
HELPERS = {
    "layer": LAYER_GLUE,
    "functions": FUNCTION_GLUE,
    **{name: source(*shared) for name, shared in SHARED_FUNCTIONS.items()},
}
HELPER_ASIDES = {
    "layer": "# a keras.layers.Layer holds its own weights",
    "functions": "# Keras' layers differentiate themselves",
    "windows": "# Keras' Conv2D and pooling layers slide their windows inside TensorFlow",
    "pooling": "# inside TensorFlow's pooling ops",
    "normalization": "# inside Keras' BatchNormalization and LayerNormalization",
}
HELPER_IMPORTS = {"windows": "from numpy.lib.stride_tricks import sliding_window_view"}


# ---------------------------------------------------------------- layers
def layer_code(functions: tuple, glue: str) -> str:
    """A layer kind's block: handrolled's functions, then the program's glue class."""
    return source(*functions) + "\n\n\n" + glue.strip("\n") + "\n"


@LAYERS.register("dense")
class DenseCode:
    helpers = ()
    functions = (dense.dense_forward, dense.dense_backward)
    code = layer_code(functions, '''
class Dense(Layer):
    """A fully connected layer: dense_forward and dense_backward on its kernel and bias."""
    params = ("kernel", "bias")

    def __init__(self, name, f):
        self.name, self.f = name, f

    def forward(self, weights, x, training, step):
        a, self.cache = dense_forward(self.own(weights), x, self.f)
        return a

    def backward(self, weights, dy, grads):
        dx, own_grads = dense_backward(self.own(weights), dy, self.cache, self.f)
        self.store(grads, own_grads)
        return dx
''')

    @staticmethod
    def numpy(layer) -> str:
        return f'Dense({literal(layer.name)}, {layer.activation.name})'

    @staticmethod
    def keras(layer) -> str:
        return (f'keras.layers.Dense({layer.units}{keras_activation(layer.activation)}, '
                f'name={literal(layer.name)})')


@LAYERS.register("conv")
class Conv2DCode:
    helpers = ("windows",)
    functions = (conv2d.conv2d_forward, conv2d.conv2d_backward)
    code = layer_code(functions, '''
class Conv2D(Layer):
    """A 2-D convolution (as Keras: no kernel flip), kernel (kh, kw, C, F), over NHWC
    images: conv2d_forward and conv2d_backward on its kernel and bias."""
    params = ("kernel", "bias")

    def __init__(self, name, f, input_shape, kernel_size, strides, padding):
        self.name, self.f = name, f
        self.windows = Windows(input_shape, kernel_size, strides, padding)

    def forward(self, weights, x, training, step):
        a, self.cache = conv2d_forward(self.own(weights), x, self.f, self.windows)
        return a

    def backward(self, weights, dy, grads):
        dx, own_grads = conv2d_backward(self.own(weights), dy, self.cache, self.f,
                                        self.windows)
        self.store(grads, own_grads)
        return dx
''')

    @staticmethod
    def numpy(layer) -> str:
        return (f'Conv2D({literal(layer.name)}, {layer.activation.name}, '
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
class MaxPooling2DCode:
    helpers = ("windows",)
    functions = (maxpool.maxpool_forward, maxpool.maxpool_backward)
    code = layer_code(functions, '''
class MaxPooling2D(Layer):
    """The largest value of every window, per channel (no parameters)."""

    def __init__(self, name, input_shape, pool_size, strides, padding):
        self.name = name
        self.windows = Windows(input_shape, pool_size, strides, padding)

    def forward(self, weights, x, training, step):
        y, self.winner = maxpool_forward(x, self.windows)
        return y

    def backward(self, weights, dy, grads):
        dx, _ = maxpool_backward(dy, self.winner, self.windows)
        return dx
''')
    numpy = staticmethod(lambda layer: pooling_numpy("MaxPooling2D", layer))
    keras = staticmethod(lambda layer: pooling_keras("MaxPooling2D", layer))


@LAYERS.register("avgpool")
class AveragePooling2DCode:
    helpers = ("windows", "pooling")
    functions = (avgpool.window_counts, avgpool.avgpool_forward,
                       avgpool.avgpool_backward)
    code = layer_code(functions, '''
class AveragePooling2D(Layer):
    """The mean of every window, per channel (no parameters)."""

    def __init__(self, name, input_shape, pool_size, strides, padding):
        self.name = name
        self.windows = Windows(input_shape, pool_size, strides, padding)
        self.counts = window_counts(self.windows)

    def forward(self, weights, x, training, step):
        y, _ = avgpool_forward(x, self.windows, self.counts)
        return y

    def backward(self, weights, dy, grads):
        dx, _ = avgpool_backward(dy, self.windows, self.counts)
        return dx
''')
    numpy = staticmethod(lambda layer: pooling_numpy("AveragePooling2D", layer))
    keras = staticmethod(lambda layer: pooling_keras("AveragePooling2D", layer))


@LAYERS.register("flatten")
class FlattenCode:
    helpers = ()
    functions = (flatten.flatten_forward, flatten.flatten_backward)
    code = layer_code(functions, '''
class Flatten(Layer):
    """(n, H, W, C) -> (n, H W C), row-major as Keras\' Flatten (no parameters)."""

    def __init__(self, name):
        self.name = name

    def forward(self, weights, x, training, step):
        y, self.shape = flatten_forward(x)
        return y

    def backward(self, weights, dy, grads):
        dx, _ = flatten_backward(dy, self.shape)
        return dx
''')

    @staticmethod
    def numpy(layer) -> str:
        return f'Flatten({literal(layer.name)})'

    @staticmethod
    def keras(layer) -> str:
        return f'keras.layers.Flatten(name={literal(layer.name)})'


@LAYERS.register("activation")
class ActivationCode:
    helpers = ()
    functions = (activation_layer.activation_forward,
                       activation_layer.activation_backward)
    code = layer_code(functions, '''
class Activation(Layer):
    """a = f(z) on its own, after any layer (no parameters)."""

    def __init__(self, name, f):
        self.name, self.f = name, f

    def forward(self, weights, z, training, step):
        a, self.cache = activation_forward(z, self.f)
        return a

    def backward(self, weights, dy, grads):
        dz, _ = activation_backward(dy, self.cache, self.f)
        return dz
''')

    @staticmethod
    def numpy(layer) -> str:
        return f'Activation({literal(layer.name)}, {layer.activation.name})'

    @staticmethod
    def keras(layer) -> str:
        return (f'keras.layers.Activation({literal(layer.activation.name)}, '
                f'name={literal(layer.name)})')


@LAYERS.register("batchnorm")
class BatchNormalizationCode:
    helpers = ("normalization",)
    functions = (batchnorm.feature_sum, batchnorm.batch_statistics,
                       batchnorm.batchnorm_forward, batchnorm.moving_averages,
                       batchnorm.batchnorm_backward)
    code = layer_code(functions, '''
class BatchNormalization(Layer):
    """Per feature (per channel after a convolution): batchnorm_forward and
    batchnorm_backward on its gamma and beta; a training pass also moves its moving
    mean and variance (moving_averages), which the optimizer never touches."""
    params = ("gamma", "beta")

    def __init__(self, name, momentum, epsilon):
        self.name, self.momentum, self.epsilon = name, momentum, epsilon

    def forward(self, weights, x, training, step):
        y, self.cache = batchnorm_forward(self.own(weights), x, self.epsilon, training)
        for key, value in moving_averages(self.cache, self.momentum).items():
            weights[self.name + "/" + key] = value
        return y

    def backward(self, weights, dy, grads):
        dx, own_grads = batchnorm_backward(self.own(weights), dy, self.cache, self.epsilon)
        self.store(grads, own_grads)
        return dx
''')

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
class DropoutCode:
    helpers = ()
    functions = (dropout.dropout_forward, dropout.dropout_backward)
    code = layer_code(functions, '''
class Dropout(Layer):
    """Inverted dropout (no parameters).

    The keep masks are the ones Keras\' Dropout layers draw in keras_version.py (the same
    seed), step by step: NumPy cannot reproduce TensorFlow\'s random generator, so
    nn-compare code recorded them from its own Keras run into dropout_masks.npz.
    Drawing your own instead,
    keep = np.random.default_rng().random(x.shape) >= rate, trains the same network
    but on other masks: the numbers then agree with Keras only in distribution.
    """

    def __init__(self, name, rate):
        self.name, self.rate = name, rate

    def forward(self, weights, x, training, step):
        keep = dropout_masks[f"{self.name}/step{step}"] if training else None
        y, self.keep = dropout_forward(x, keep, self.rate)
        return y

    def backward(self, weights, dy, grads):
        dx, _ = dropout_backward(dy, self.keep, self.rate)
        return dx
''')

    @staticmethod
    def numpy(layer) -> str:
        return f'Dropout({literal(layer.name)}, {layer.rate!r})'

    @staticmethod
    def keras(layer) -> str:
        return f'keras.layers.Dropout({layer.rate!r}, name={literal(layer.name)})'


class FunctionsCode:
    """The entry of a kind that gives its pure functions (Layer.FUNCTIONS): their source,
    the shared FunctionLayer glue, and the Keras line from its keras_name and config."""
    def __init__(self, cls):
        self.cls = cls
        self.functions = tuple(cls.FUNCTIONS)
        self.code = source(*self.functions) + "\n"
        self.helpers = ("functions", *shared_helpers(self.functions))

    def numpy(self, layer) -> str:
        forward, backward = (f.__name__ for f in self.functions)
        names = [literal(name) for name in layer.param_shapes]
        params = f"({', '.join(names)}{',' if len(names) == 1 else ''})"
        return (f"FunctionLayer({literal(layer.name)}, {forward}, {backward}, "
                f"{config_literal(layer.get_config())}, params={params})")

    def keras(self, layer) -> str:
        return keras_call(layer.keras_name, **{key: repr(value) for key, value
                                               in layer.get_config().items()},
                          name=literal(layer.name))


def shared_helpers(functions) -> list[str]:
    """The SHARED_FUNCTIONS groups that `functions` call (by the globals they name)."""
    called = {id(f.__globals__.get(name)) for f in functions for name in f.__code__.co_names}
    return [group for group, shared in SHARED_FUNCTIONS.items()
            if any(id(item) in called for item in shared)]


def config_literal(config: dict) -> str:
    return "{" + ", ".join(f"{literal(key)}: {value!r}" for key, value in config.items()) + "}"


def layer_template(layer):
    """The template of a built handrolled layer (SpecErrors for what is not written)."""
    if layer.kind not in LAYERS.names() and layer.FUNCTIONS and not layer.state_shapes:
        return FunctionsCode(type(layer))
    template = written(LAYERS, layer.kind, "layers")
    if getattr(layer, "kernel_regularizer", None) or getattr(layer, "activity_regularizer", None):
        raise SpecError(f"layer {layer.name}: nn-compare code does not write regularizers yet; "
                        f"remove kernel=/activity= from the spec")
    if getattr(layer, "activation", None) is not None:
        activation(layer.activation)
    return template
