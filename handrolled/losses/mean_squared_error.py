"""Mean squared error with a linear output, on one-hot targets.

    L     = (1/n) sum_i (1/k) sum_j (z_ij - Y_ij)^2     Keras: mean over outputs, then rows
    dL/dz = 2 (z - Y) / (n k)

Keras twin: keras.losses.MeanSquaredError().
"""

from __future__ import annotations

import numpy as np

from .base import Loss, register


@register("mean_squared_error", "mse")
class MeanSquaredError(Loss):
    keras_name = "MeanSquaredError"
    output_activation = "linear"

    def value(self, z, Y):
        return float(np.mean(np.mean(np.square(z - Y), axis=1)))

    def delta(self, z, Y):
        n, k = z.shape
        return 2 * (z - Y) / (n * k)
