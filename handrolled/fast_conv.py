"""One epoch of any layered network, fast: the same numbers as `train.sgd_epoch`.

`fast.py` fuses the dense network's whole step; this module speeds up the
layer-by-layer step of `train.sgd_epoch` and `Network.forward/backward` for
the networks the fused loop does not take (convolutions, pooling, batch
normalization, dropout, any optimizer).  It computes *the same floating-point
operations in the same order* as the textbook layers in handrolled/layers/ --
so the results are bit-identical, which `tests/test_fast_conv.py` checks --
but into buffers allocated once per network and batch size:

* Conv2D (conv2d.py): im2col by one strided copy per kernel offset into a
  preallocated column buffer, z = cols K by one product into a preallocated z,
  the bias added in place, the activation in place where its class defines the
  in-place form (`fast.kernel_for`), dL/dK = cols^T delta, dL/db = 1^T delta
  and d cols = delta K^T by products into preallocated gradients, and col2im as
  one strided add per kernel offset into a preallocated dx;
* MaxPooling2D (maxpool.py) whose windows tile the image (strides = pool size,
  'valid'): the running maximum and its winner offset in preallocated arrays,
  the gradient by one product per offset into dx's tiles (a reshape of dx, no
  scatter);
* Dense (dense.py): z = x W + b into a preallocated z (the Dense after a
  Flatten reads the pooling's buffer through a reshape, without a copy),
  delta, dL/dW, dL/db and dL/dx into preallocated arrays;
* every other layer (Flatten, BatchNormalization, Dropout, other pooling, ...)
  runs its own textbook `forward` / `backward`, so nothing is written twice.

The loss and its delta are the loss object's own functions, the update is the
optimizer's `apply` (in place, handrolled/optimizers/base.py), as in the
textbook step.  Networks with regularizers take the textbook epoch.
"""

from __future__ import annotations

import weakref

import numpy as np

from .activations import Linear
from .errors import SpecError
from .fast import kernel_for
from .layers.conv2d import Conv2D
from .layers.dense import Dense
from .layers.maxpool import MaxPooling2D
from .network import Network
from .optimizers import SGD, Optimizer
from .train import batch_starts, batches, sgd_epoch


# ------------------------------------------------------------------- layers
class Generic:
    """A layer without a fast path: its own textbook forward and backward."""

    def __init__(self, layer, batch, dtype):
        self.layer, self.cache = layer, None

    def forward(self, params, x):
        a, self.cache = self.layer.forward(params, x, training=True)
        return a

    def backward(self, params, dy, input_gradient):
        return self.layer.backward(params, dy, self.cache, input_gradient=input_gradient)

    def state_updates(self):
        return self.layer.state_updates(self.cache)


class Activated:
    """What Dense and Conv2D share: a = f(z) in place, over z, by f's in-place form
    (`fast.kernel_for`: only for an activation whose class defines one), and
    delta = dy * f'(z) by that form, over dy (the gradient sent down from the layer
    above, which nothing reads again)."""

    def __init__(self, activation, z_shape, dtype):
        self.kernel = kernel_for(activation)
        self.z = np.empty(z_shape, dtype=dtype)
        self.scratch = np.empty(z_shape, dtype=dtype)

    def activate(self, z):
        self.kernel.forward(z)                     # a = f(z), over z
        return z

    def times_derivative(self, dy):
        """delta = dy * f'(z), over dy."""
        m = dy.shape[0]
        self.kernel.backward(dy, self.z[:m], self.scratch[:m])   # z holds a = f(z)
        return dy


class FastDense(Activated):
    """dense.py's forward and backward (eqs. 1, 2, 4, 5) into buffers."""

    def __init__(self, layer: Dense, batch, dtype):
        super().__init__(layer.activation, (batch, layer.units), dtype)
        # f'(z) = 1: dense.py's dy * 1 is dy exactly, so skipping it keeps the bits
        self.linear = type(layer.activation) is Linear
        self.grad_W = np.empty(layer.param_shapes["kernel"], dtype=dtype)
        self.grad_b = np.empty(layer.param_shapes["bias"], dtype=dtype)
        self.dx = np.empty((batch, layer.param_shapes["kernel"][0]), dtype=dtype)
        self.x = None

    def forward(self, params, x):
        m, self.x = x.shape[0], x
        z = self.z[:m]
        np.matmul(x, params["kernel"], out=z)      # eq. 1: z = x W + b
        np.add(z, params["bias"], out=z)
        return self.activate(z)                    # eq. 2

    def backward(self, params, dy, input_gradient):
        m = dy.shape[0]
        delta = dy if self.linear else self.times_derivative(dy)          # eq. 5
        np.matmul(self.x.T, delta, out=self.grad_W)                       # eq. 4
        np.sum(delta, axis=0, out=self.grad_b)
        dx = None
        if input_gradient:
            dx = np.matmul(delta, params["kernel"].T, out=self.dx[:m])    # eq. 5
        return dx, {"kernel": self.grad_W, "bias": self.grad_b}

    def state_updates(self):
        return {}


class FastConv2D(Activated):
    """conv2d.py's forward and backward (im2col, one product, col2im) into buffers."""

    def __init__(self, layer: Conv2D, batch, dtype):
        w = self.windows = layer.windows
        kh, kw = w.window
        self.filters, self.taps = layer.filters, kh * kw * w.channels
        super().__init__(layer.activation, (batch, w.out_h, w.out_w, layer.filters), dtype)
        padded = (batch, w.height + sum(w.pad_h), w.width + sum(w.pad_w), w.channels)
        self.padded = np.zeros(padded, dtype=dtype) if w.padding != "valid" else None
        self.cols = np.empty((batch, w.out_h, w.out_w, kh, kw, w.channels), dtype=dtype)
        self.ones = np.ones(batch * w.out_h * w.out_w, dtype=dtype)
        self.grad_K = np.empty(layer.param_shapes["kernel"], dtype=dtype)
        self.grad_b = np.empty(layer.param_shapes["bias"], dtype=dtype)
        self.d_cols = np.empty_like(self.cols)
        self.dx_padded = np.empty(padded, dtype=dtype)

    def pad(self, x):
        """windows.pad(x): x inside a zero border (the border is never written)."""
        if self.padded is None:
            return x
        (top, _), (left, _) = self.windows.pad_h, self.windows.pad_w
        padded = self.padded[:x.shape[0]]
        padded[:, top:top + self.windows.height, left:left + self.windows.width] = x
        return padded

    def forward(self, params, x):
        m = x.shape[0]
        x_padded, cols = self.pad(x), self.cols[:m]
        for u, v, pixels in self.windows.offsets():          # im2col (windows.columns)
            cols[:, :, :, u, v, :] = x_padded[pixels]
        rows = cols.reshape(-1, self.taps)
        z = self.z[:m]
        z_rows = z.reshape(-1, self.filters)
        np.matmul(rows, params["kernel"].reshape(-1, self.filters), out=z_rows)  # z = cols K
        z_rows += params["bias"]                                               # + b
        return self.activate(z)

    def backward(self, params, dy, input_gradient):
        m = dy.shape[0]
        delta_rows = self.times_derivative(dy).reshape(-1, self.filters)   # dy * f'(z)
        rows = self.cols[:m].reshape(-1, self.taps)
        np.matmul(rows.T, delta_rows, out=self.grad_K.reshape(-1, self.filters))  # cols^T delta
        np.matmul(self.ones[:delta_rows.shape[0]], delta_rows, out=self.grad_b)   # 1^T delta
        grads = {"kernel": self.grad_K, "bias": self.grad_b}
        if not input_gradient:
            return None, grads
        d_cols = self.d_cols[:m]
        kernel = params["kernel"].reshape(-1, self.filters)
        np.matmul(delta_rows, kernel.T, out=d_cols.reshape(-1, self.taps))      # delta K^T
        dx = self.dx_padded[:m]
        dx.fill(0)
        for u, v, pixels in self.windows.offsets():           # col2im (windows.scatter)
            dx[pixels] += d_cols[:, :, :, u, v, :]
        w = self.windows
        (top, _), (left, _) = w.pad_h, w.pad_w
        return dx[:, top:top + w.height, left:left + w.width, :], grads

    def state_updates(self):
        return {}


class FastMaxPool:
    """maxpool.py's forward and backward for tiled windows (strides = pool size,
    'valid'), into buffers; the running maximum and winner as the textbook walks them."""

    def __init__(self, layer: MaxPooling2D, batch, dtype):
        w = self.windows = layer.windows
        kh, kw = w.window
        shape = (batch, w.out_h, w.out_w, w.channels)
        self.y = np.empty(shape, dtype=dtype)
        self.winner = np.empty(shape, dtype=np.min_scalar_type(kh * kw - 1))
        self.step = np.empty_like(self.winner)
        self.later = np.empty(shape, dtype=bool)
        self.wins = np.empty(shape, dtype=bool)
        self.dx = np.zeros((batch, w.height, w.width, w.channels), dtype=dtype)  # uncovered
        self.kw = kw                                  # pixels stay 0: never written

    def forward(self, params, x):
        m = x.shape[0]
        y, winner, later, step = self.y[:m], self.winner[:m], self.later[:m], self.step[:m]
        for u, v, pixels in self.windows.offsets():
            values = x[pixels]
            if u == v == 0:
                np.copyto(y, values)
                winner.fill(0)
                continue
            np.greater(values, y, out=later)          # strictly: the first maximum stays
            np.maximum(y, values, out=y)
            # the textbook's winner += later (u kw + v - winner): winner becomes u kw + v
            # where later; offsets grow, so that is max(winner, later (u kw + v)), exactly
            np.multiply(later, step.dtype.type(u * self.kw + v), out=step)
            np.maximum(winner, step, out=winner)
        return y

    def backward(self, params, dy, input_gradient):
        if not input_gradient:
            return None, {}
        m = dy.shape[0]
        dx, winner, wins = self.dx[:m], self.winner[:m], self.wins[:m]
        tiles = self.windows.as_tiles(dx)             # (n, oh, kh, ow, kw, C), a view of dx
        for u, v, _ in self.windows.offsets():        # the textbook's (winner == offset) * dy,
            np.equal(winner, u * self.kw + v, out=wins)   # one offset at a time (the same
            np.multiply(wins, dy, out=tiles[:, :, u, :, v, :])  # products, 2x faster here)
        return dx, {}

    def state_updates(self):
        return {}


def fast_layer(layer, batch, dtype):
    """The layer's fast path, or Generic (its own code): Dense and Conv2D only with an
    activation that has its in-place form, max pooling only over tiled windows."""
    activation = getattr(layer, "activation", None)
    activated = activation is not None and kernel_for(activation) is not None
    if type(layer) is Conv2D and activated:
        return FastConv2D(layer, batch, dtype)
    if type(layer) is Dense and activated:
        return FastDense(layer, batch, dtype)
    if type(layer) is MaxPooling2D and layer.windows.tiled:
        return FastMaxPool(layer, batch, dtype)
    return Generic(layer, batch, dtype)


# ------------------------------------------------------------------- the step
class Plan:
    """The fast path of every layer of one network, for batches of up to `batch` rows."""

    def __init__(self, network: Network, batch: int):
        dtype = np.dtype(network.spec.dtype)
        self.key = (id(network.layers), batch, dtype)
        self.layers = [fast_layer(layer, batch, dtype) for layer in network.layers]

    def forward(self, network, X):
        """Network.forward(X, training=True): the logits."""
        a = X
        for layer, fast in zip(network.layers, self.layers):
            a = fast.forward(network.layer_params(layer), a)
            if a.dtype != X.dtype:  # a layer's own code changed the dtype: the buffers
                raise SpecError(f"layer {layer.name} returned {a.dtype} for {X.dtype} input; "
                                f"the fast loop computes in one dtype throughout")
        return a

    def backward(self, network, dy):
        """Network.backward: every layer's gradients, from the top down."""
        grads = {}
        for index in range(len(self.layers) - 1, -1, -1):
            layer = network.layers[index]
            dy, layer_grads = self.layers[index].backward(network.layer_params(layer), dy,
                                                          input_gradient=index > 0)
            for variable, grad in layer_grads.items():
                grads[f"{layer.name}/{variable}"] = grad
        return grads

    def commit(self, network):
        """Network.commit: the state the pass computed (moving statistics)."""
        for layer, fast in zip(network.layers, self.layers):
            for variable, value in fast.state_updates().items():
                network.state[f"{layer.name}/{variable}"] = value


_PLANS: "weakref.WeakKeyDictionary[Network, Plan]" = weakref.WeakKeyDictionary()


def plan(network: Network, batch_size: int) -> Plan:
    """The network's buffers for this batch size (made on first use, then reused)."""
    dtype = np.dtype(network.spec.dtype)
    found = _PLANS.get(network)
    if found is None or found.key != (id(network.layers), batch_size, dtype):
        found = _PLANS[network] = Plan(network, batch_size)
    return found


def release_plan(network: Network) -> None:
    """Free the buffers kept for `network` (they go anyway when it is collected)."""
    _PLANS.pop(network, None)


def supported(network: Network, X: np.ndarray) -> bool:
    """Every network the textbook step runs, except one with regularizers (their
    penalties and gradients are added by `Network`, not here), on rows of its dtype."""
    return (X.dtype == np.dtype(network.spec.dtype)
            and all(layer.kernel_regularizer is None and layer.activity_regularizer is None
                    for layer in network.layers))


def sgd_epoch_layers(network: Network, X: np.ndarray, Y: np.ndarray, batch_size: int, lr,
                     order=None, epoch: int = 0, first_step: int = 0) -> np.ndarray:
    """`train.sgd_epoch`, step for step and bit for bit, through the fast layers."""
    if not supported(network, X):
        return sgd_epoch(network, X, Y, batch_size, lr, order, epoch, first_step)
    optimizer = lr if isinstance(lr, Optimizer) else SGD(learning_rate=lr)
    if not optimizer.built:  # its hyper-parameters rounded by the network's conventions
        optimizer.build(network.params, network.conventions)
    loss = network.loss_function
    rows = X.shape[0]
    steps = plan(network, min(batch_size, rows)) if rows else None
    losses = np.empty(len(batch_starts(rows, batch_size)), dtype=np.float64)
    for i, (X_batch, Y_batch) in enumerate(batches(X, Y, batch_size, order)):
        network.on_step(epoch, first_step + i)
        logits = steps.forward(network, X_batch)                   # eqs. 1-2
        output = loss.output(logits)
        losses[i] = loss.value(output, Y_batch) + 0.0              # no penalties
        grads = steps.backward(network, loss.delta(output, Y_batch))  # eqs. 3-5
        optimizer.apply(network.params, grads)
        steps.commit(network)
    return losses
