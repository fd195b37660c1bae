"""How many floating-point operations one epoch of training needs.

Only the matrix products are counted (the rest -- activations, softmax, bias,
pooling, update -- is O(m n) per layer, not O(m n k), and is what separates a
loop from the machine's matrix-multiply peak).  A product of (m x k) by
(k x n) counts 2 m n k (one multiply and one add per term).  Per step of m
rows and per Dense layer l with n_{l-1} inputs and n_l outputs:

    forward   z_l = a_{l-1} W_l             2 m n_{l-1} n_l
    backward  grad_W_l = a_{l-1}^T delta_l  2 m n_{l-1} n_l
              delta_l W_l^T                 2 m n_l n_{l-1}   not for the network's
                                            first layer: no gradient with respect
                                            to the inputs X is needed

Each layer counts its own (`flops_per_row` in its file under handrolled/layers/).
A Conv2D layer is the same three products on its im2col rows
(handrolled/layers/conv2d.py): each of a row's out_h x out_w windows is a
row of kh kw C_in numbers, multiplied by the (kh kw C_in) x F kernel, so per
row of data each product counts

    2 (out_h out_w) (kh kw C_in) F          (padding's zeros included, as computed)

and again the first layer of the network skips the third (its dL/dx).  A
layer that is not the first computes dL/dx even when the layer below has no
parameters (handrolled.Network.loss_and_gradients skips only layer 1's).

Pooling, Flatten and Activation layers have no product: they count 0, like
the bias and the activations of Dense and Conv2D; so do the normalizations, whose
gamma and beta only scale and shift.

All the terms are linear in m, so an epoch of R rows (the last batch partial
or not) costs R times the per-row figure.  For a dense network the count is
the one `sizes` gives: (784, 100, 10) -> 2 (2 784 100 + 3 100 10).
"""

from __future__ import annotations


def layer_flops_per_row(layer, first: bool) -> int:
    """Matmul flops of one training row through one built layer (handrolled.layers):
    forward, kernel gradient and, unless `first`, the gradient sent to the layer below.
    Each layer counts its own (`Layer.flops_per_row`): 0 for a layer without
    parameters, and a layer with parameters that does not say raises."""
    return layer.flops_per_row(first)


def flops_per_row(network) -> int:
    """Matmul flops of one training row.  `network`: a NetworkSpec, its built
    layers (spec.build_layers()), or the layer sizes (n_0, ..., n_L) of a dense network."""
    if isinstance(network, (tuple, list)) and all(isinstance(n, int) for n in network):
        return _dense_flops_per_row(tuple(network))
    layers = network.build_layers() if hasattr(network, "build_layers") else list(network)
    return sum(layer_flops_per_row(layer, first=index == 0)
               for index, layer in enumerate(layers))


def epoch_flops(network, rows: int) -> int:
    """Matmul flops of one epoch over `rows` rows (any batch size); `network` as in
    `flops_per_row`."""
    return rows * flops_per_row(network)


def _dense_flops_per_row(sizes: tuple[int, ...]) -> int:
    total = 0
    for l in range(1, len(sizes)):
        products = 2 if l == 1 else 3  # forward, grad_W (, delta to the layer below)
        total += products * 2 * sizes[l - 1] * sizes[l]
    return total

