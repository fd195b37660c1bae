"""Your own activations, usable by name in both implementations.

Write each function once against an array namespace `xp` (NumPy in the
hand-written network, keras.ops in Keras) and its derivative by hand (NumPy).
Then, for example:

    nn-compare activations --activation-module examples/my_activations.py
    nn-compare gradients --activation-module examples/my_activations.py --layers 64:softsign
    nn-compare sweep --activation-module examples/my_activations.py --activations relu,softsign,bent_identity

The first checks each hand-written derivative against TensorFlow's automatic
one and finite differences; a wrong derivative shows as a row marked NO, exit 1.
"""

import numpy as np

from handrolled.activations import register_user_activation


def softsign(z, xp):
    """f(z) = z / (1 + |z|)"""
    return z / (1 + xp.abs(z))


def softsign_derivative(z, a):
    """f'(z) = 1 / (1 + |z|)^2"""
    return 1 / (1 + np.abs(z)) ** 2


def bent_identity(z, xp):
    """f(z) = (sqrt(z^2 + 1) - 1) / 2 + z"""
    return (xp.sqrt(z * z + 1) - 1) / 2 + z


def bent_identity_derivative(z, a):
    """f'(z) = z / (2 sqrt(z^2 + 1)) + 1"""
    return z / (2 * np.sqrt(z * z + 1)) + 1


def hard_tanh(z, xp):
    """f(z) = clip(z, -1, 1): kinks at -1 and 1."""
    return xp.clip(z, -1, 1)


def hard_tanh_derivative(z, a):
    """1 strictly inside (-1, 1), 0 outside, and -- as TensorFlow's clip -- 1 at the ends."""
    return ((z >= -1) & (z <= 1)).astype(z.dtype)


register_user_activation("softsign", softsign, softsign_derivative)
register_user_activation("bent_identity", bent_identity, bent_identity_derivative)
register_user_activation("hard_tanh", hard_tanh, hard_tanh_derivative, kinks=(-1.0, 1.0))
