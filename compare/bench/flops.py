"""How many floating-point operations one epoch of training needs.

Only the matrix products are counted (the rest -- activations, softmax, bias,
update -- is O(m n) per layer, not O(m n k), and is what separates a loop
from the machine's matrix-multiply peak).  A product of (m x k) by (k x n)
counts 2 m n k (one multiply and one add per term).  Per step of m rows and
per layer l with n_{l-1} inputs and n_l outputs:

    forward   z_l = a_{l-1} W_l             2 m n_{l-1} n_l    every layer
    backward  grad_W_l = a_{l-1}^T delta_l  2 m n_{l-1} n_l    every layer
              delta_l W_l^T                 2 m n_l n_{l-1}    layers 2..L only:
                                            layer 1 needs no gradient with
                                            respect to the inputs X

All three terms are linear in m, so an epoch of R rows (the last batch
partial or not) costs R times the per-row figure.
"""

from __future__ import annotations


def flops_per_row(sizes: tuple[int, ...]) -> int:
    """Matmul flops of one training row through a network with layer sizes `sizes`."""
    total = 0
    for l in range(1, len(sizes)):
        products = 2 if l == 1 else 3  # forward, grad_W (, delta to the layer below)
        total += products * 2 * sizes[l - 1] * sizes[l]
    return total


def epoch_flops(sizes: tuple[int, ...], rows: int) -> int:
    """Matmul flops of one epoch over `rows` rows (any batch size)."""
    return rows * flops_per_row(sizes)
