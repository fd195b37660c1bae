"""The pieces of backprop that hand-written bugs replace, computed right.

For layer l = 1..L (a_0 = X, z_l = a_{l-1} W_l + b_l, a_l = f_l(z_l), p = softmax(z_L)):

    delta_L  = (p - Y) / n                          the output error (eq. 3)
    e_l      = delta_{l+1} W_{l+1}^T                the error arriving at hidden layer l
    delta_l  = e_l * f_l'(z_l)                      (eq. 5)
    grad_W_l = a_{l-1}^T delta_l + r_l'(W_l),  grad_b_l = sum over rows of delta_l   (eq. 4)

delta_L and the penalty gradient r_l' are the declared loss's (objective.py: the
loss, its output activation, units/half/reduction, the regularizers); the
defaults are the softmax cross-entropy above with no penalty.

A bug hypothesis swaps one piece (the derivative, the matrix the error goes back
through, a factor on the gradient) and keeps the rest; `Prediction` is what the
user's code would then return for layer l, and the delta it would pass down.

The right formulas are handrolled's, not written again here: the forward values
(z_l, a_l, p) come from `Network.forward`, f_l' from the activation's
`derivative`, delta_L from `loss.grad_logits`.  Only the matrix products of
eqs. 4-5 are spelled out here, one piece each, because hypotheses swap their
operands; the wrong variants themselves live in diagnosis.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handrolled import Network, NetworkSpec, Params

from .objective import Objective, default_objective


@dataclass
class Prediction:
    """Layer l's gradients under one hypothesis, and the delta_l it implies."""

    bug: str | None                 # None: no bug at this layer
    message: str
    grad_W: np.ndarray
    grad_b: np.ndarray
    delta: np.ndarray               # passed down to layer l - 1
    derivative: np.ndarray | None   # the f'(z_l) the hypothesis used (hidden layers only)
    label: str = ""                 # the bug and the tensors it touches: "scaled x0.5 (b2 only)"
                                    # ("": the bug's id, for the whole layer)


class Backprop:
    """The correct forward values of the check batch, and backprop assembled from pieces."""

    def __init__(self, spec: NetworkSpec, params: Params, X: np.ndarray, Y: np.ndarray,
                 layout: str, objective: Objective | None = None):
        self.spec, self.params, self.layout = spec, params, layout
        self.objective = objective or default_objective(spec.loss)
        network = Network(spec, params)
        self.activations = network.activations
        self.cache = network.forward(X)
        self.Y = Y
        self.n = X.shape[0]

    @property
    def depth(self) -> int:
        return self.spec.depth

    def z(self, l: int) -> np.ndarray:
        return self.cache.layers[l - 1][1]  # Dense's cache: (x, z, a)

    def a(self, l: int) -> np.ndarray:
        """a_l; a(0) is X (the input that layer l + 1 received)."""
        return self.cache.layers[l][0]

    def activation(self, l: int):
        return self.activations[l - 1]

    def W(self, l: int) -> np.ndarray:
        return self.params[f"W{l}"]

    def bias_row_matrix(self, l: int) -> np.ndarray:
        """[b_l; W_l]: the user's matrix in the book's layout."""
        return np.vstack([self.params[f"b{l}"][None, :], self.W(l)])

    # ------------------------------------------------------------ pieces
    def output_delta(self) -> np.ndarray:
        return self.objective.output_delta(self.z(self.depth), self.Y)  # eq. 3: (p - Y) / n

    def penalty_gradient(self, l: int) -> np.ndarray:
        """r_l'(W_l): the declared regularizer's gradient (zeros without one)."""
        return self.objective.penalty_gradient(l, self.W(l))

    def data_gradient(self, l: int, delta: np.ndarray) -> np.ndarray:
        """a_{l-1}^T delta_l: eq. 4 without the penalty."""
        return self.a(l - 1).T @ delta

    def derivative(self, l: int) -> np.ndarray:
        f = self.activation(l)
        return f.derivative(self.z(l), self.a(l))

    def error(self, l: int, delta_above: np.ndarray, matrix: np.ndarray | None = None
              ) -> np.ndarray:
        """e_l = delta_{l+1} M^T, M = W_{l+1} unless a hypothesis substitutes another."""
        matrix = self.W(l + 1) if matrix is None else matrix
        return delta_above @ matrix.T

    def predict(self, l: int, delta: np.ndarray, bug: str | None = None, message: str = "",
                derivative: np.ndarray | None = None) -> Prediction:
        """Eq. 4 from a given delta_l, the declared penalty's gradient included."""
        return Prediction(bug, message, self.data_gradient(l, delta) + self.penalty_gradient(l),
                          delta.sum(axis=0), delta, derivative)

    def correct(self, l: int, delta_above: np.ndarray | None) -> Prediction:
        """No bug at layer l, given the delta the user's code had one layer up."""
        if l == self.depth:
            return self.predict(l, self.output_delta())
        derivative = self.derivative(l)
        return self.predict(l, self.error(l, delta_above) * derivative, derivative=derivative)

    def with_derivative(self, l: int, delta_above: np.ndarray, derivative: np.ndarray,
                        bug: str, message: str) -> Prediction:
        """Hidden layer l with `derivative` in place of f_l'(z_l)."""
        return self.predict(l, self.error(l, delta_above) * derivative, bug, message, derivative)

    def right_gradients(self) -> Params:
        """Every layer's right gradient: {'W1': ..., 'b1': ..., ...}."""
        grads, delta = {}, None
        for l in range(self.depth, 0, -1):
            prediction = self.correct(l, delta)
            grads[f"W{l}"], grads[f"b{l}"], delta = (prediction.grad_W, prediction.grad_b,
                                                     prediction.delta)
        return grads
