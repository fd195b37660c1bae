"""What a check target's loss is: the declared loss, output activation and conventions.

    LOSS = "mse"              # or "categorical_crossentropy" (softmax output, the default)
                              #    or "binary_crossentropy" (sigmoid outputs, one or many)
    UNITS = "sum"             # one sample's loss: summed over the output units (the
                              #    textbook's) or "mean" (Keras'); the same for softmax CE
    HALF = True               # the 1/2 of the quadratic cost 1/2 sum_j (a_j - y_j)^2
    REDUCTION = "sum"         # over the batch: "mean" (Keras') or "sum"
    REGULARIZATION = "l2(0.001)"   # Keras' meaning, on every kernel (not the biases): adds
                                   #    0.001 * sum(w^2) to the loss; a list: one per layer

The loss the target's gradients must be the gradient of, for logits z = z_L, output
a = f(z) and Keras' loss K(Y, a) (mean over units for mse and binary cross-entropy,
mean over the batch):

    L = scale * K(Y, a) + sum_l r_l(W_l),   scale = (k if UNITS sum) (1/2 if HALF) (n if sum)

`Objective` holds that and computes its pieces by the project's formulas
(handrolled.losses, handrolled.activations, handrolled.regularizers), scaled:

    delta_L = scale * dK/dz                       (eq. 3; mse: dK/da * f'(z))
    dL/dW_l += r_l'(W_l)                          (the penalty's gradient, biases untouched)

Penalties use the declared factor exactly (the conventions `WRITTEN`); Keras rounds
it to float32 first (runner's Keras side says how the comparison handles that).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from handrolled import activations, losses, regularizers
from handrolled.conventions import WRITTEN
from handrolled.errors import SpecError

ACCEPTED_LOSSES = ("'categorical_crossentropy' (softmax output), 'binary_crossentropy' "
                   "(sigmoid outputs) or 'mse' (any elementwise output activation: linear, "
                   "sigmoid, tanh, ...)")
OUTPUT_OF = {"categorical_crossentropy": "softmax", "binary_crossentropy": "sigmoid"}
CHOICES = {"UNITS": ("mean", "sum"), "REDUCTION": ("mean", "sum"), "HALF": (False, True)}
DECLARATIONS = ("LOSS", "UNITS", "HALF", "REDUCTION", "REGULARIZATION")
TINY = np.finfo(np.float64).tiny  # log(0) guard for probabilities that underflowed


class ObjectiveError(SpecError):
    """A declaration that cannot be used (target.py words it as a TargetError)."""


@dataclass(frozen=True)
class Objective:
    """The declared loss of a check target (module docstring)."""

    loss: str = losses.DEFAULT           # handrolled's canonical loss name
    output: str = "softmax"              # the output layer's activation, as declared
    units: str = "mean"
    half: bool = False
    reduction: str = "mean"
    regularizers: tuple = ()             # one Regularizer or None per layer
    declared: frozenset = frozenset()    # the names the target declared itself

    # ------------------------------------------------------------ conventions
    def scale(self, n: int, k: int) -> float:
        """The factor between this loss and Keras' (mean over units and batch)."""
        units = k if self.units == "sum" and self.loss != losses.DEFAULT else 1
        return units * (0.5 if self.half else 1.0) * (n if self.reduction == "sum" else 1)

    def regularizer(self, l: int):
        return self.regularizers[l - 1] if self.regularizers else None

    @property
    def regularized(self) -> bool:
        return any(r is not None for r in self.regularizers)

    def with_changes(self, **changes) -> "Objective":
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------ the output layer
    @property
    def output_function(self):
        """f of the output layer for mse (an elementwise activation); None otherwise."""
        return activations.get(self.output) if self.loss == "mean_squared_error" else None

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """a = f(z_L): softmax, sigmoid, or mse's output activation."""
        f = self.output_function
        return f.value(z) if f is not None else losses.get(self.loss).probabilities(z)

    def output_derivative(self, z: np.ndarray) -> np.ndarray:
        """f'(z_L), elementwise: the sigmoid's for binary CE, f's for mse."""
        f = self.output_function or activations.get("sigmoid")
        return f.derivative(z, f.value(z))

    def output_delta(self, z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """delta_L = dL/dz_L (eq. 3) under the declared conventions."""
        loss, scale = losses.get(self.loss), self.scale(*z.shape)
        if self.output_function is None:  # cross-entropies: (a - Y) / (n [k])
            return scale * loss.delta(loss.output(z), Y)
        return self.delta_at_output(z, Y) * self.output_derivative(z)

    def delta_at_output(self, z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """dL/da for mse (2 (a - Y) / (n k), scaled), without f'(z)."""
        loss = losses.get(self.loss)
        return self.scale(*z.shape) * loss.delta(self.probabilities(z), Y)

    def value(self, a: np.ndarray, Y: np.ndarray) -> float:
        """The data loss from the output a (the user's forward gives a, not z)."""
        n, k = a.shape
        if self.loss == "mean_squared_error":
            data = losses.get(self.loss).value(a, Y)
        elif self.loss == "binary_crossentropy":  # mean over units, then rows
            a = np.clip(a, TINY, 1 - np.finfo(np.float64).epsneg)
            data = -float(np.mean(np.mean(Y * np.log(a) + (1 - Y) * np.log1p(-a), axis=1)))
        else:
            data = -float(np.sum(Y * np.log(np.maximum(a, TINY)))) / n
        return self.scale(n, k) * data

    # ------------------------------------------------------------ penalties
    def penalty(self, weights: dict) -> float:
        """sum_l r_l(W_l), factors as declared; `weights`: {'W1': ..., ...}."""
        return float(sum(r.value(weights[f"W{l}"], WRITTEN) for l, r in
                         enumerate(self.regularizers, start=1) if r is not None))

    def penalty_gradient(self, l: int, W: np.ndarray) -> np.ndarray:
        """r_l'(W_l), factor as declared (zeros without a regularizer)."""
        r = self.regularizer(l)
        if r is None:
            return np.zeros_like(W)
        return r.gradient(W, WRITTEN)

    # ------------------------------------------------------------ words
    def describe(self) -> str:
        """'mse, sigmoid output, sum over units, 1/2, mean over the batch, l2(0.001)'."""
        parts = [self.loss if self.loss != "mean_squared_error" else "mse",
                 f"{self.output} output"]
        if self.loss != losses.DEFAULT:
            parts.append(f"{self.units} over units")
        if self.half:
            parts.append("1/2")
        parts.append(f"{self.reduction} over the batch")
        if self.regularized:
            parts.append(regularization_text(self.regularizers))
        return ", ".join(parts)


def default_objective(loss: str = losses.DEFAULT) -> Objective:
    """The loss with Keras' conventions and its usual output (softmax, sigmoid, linear)."""
    loss = losses.get(loss).name
    return Objective(loss, OUTPUT_OF.get(loss, "linear"))


def describe_network(spec, objective: Objective) -> str:
    """'784-30 sigmoid-10 sigmoid': the layers as the target declares them (spec.describe
    names the linear output layer Keras' side builds the logits with)."""
    parts = [str(spec.inputs), *(f"{layer.config['units']} {layer.config['activation']}"
                                 for layer in spec.body)]
    return "-".join([*parts, f"{spec.outputs} {objective.output}"])


def regularization_text(regs) -> str:
    """'l2(0.001)' when every layer has the same, else the list ['l2(0.001)', 'none']."""
    texts = [r.text if r is not None else "none" for r in regs]
    if len(set(texts)) == 1:
        return texts[0]
    return "[" + ", ".join(repr(t) for t in texts) + "]"


def declaration(name: str, objective: Objective) -> str:
    """The line a user would write: "UNITS = 'sum'", 'REGULARIZATION = "l2(0.001)"'."""
    if name == "REGULARIZATION":
        text = regularization_text(objective.regularizers)
        return f'REGULARIZATION = "{text}"' if not text.startswith("[") else \
            f"REGULARIZATION = {text}"
    value = {"UNITS": objective.units, "HALF": objective.half,
             "REDUCTION": objective.reduction}[name]
    return f"{name} = {value!r}"


# ---------------------------------------------------------------- reading declarations

def read_objective(declared: dict, output: str, depth: int) -> Objective:
    """The Objective from the module's plain-data declarations (`declared`: name -> value,
    what UserProcess.declared gives), the last layer's activation and the number of layers.
    An unusable declaration: ObjectiveError naming what is accepted."""
    name = declared.get("LOSS", None)
    if name is None:
        if output != "softmax":
            raise ObjectiveError(
                f"the last layer is {output!r} and LOSS is not declared; declare LOSS = "
                f"'binary_crossentropy' or 'mse' (a softmax output means "
                f"'categorical_crossentropy', the default)")
        name = losses.DEFAULT
    if not isinstance(name, str):
        raise ObjectiveError(f"LOSS is {name!r}; expected a name: {ACCEPTED_LOSSES}")
    try:
        loss = losses.get(name).name
    except SpecError:
        raise ObjectiveError(f"LOSS is {name!r}; accepted: {ACCEPTED_LOSSES}") from None
    wanted = OUTPUT_OF.get(loss)
    if wanted is not None and output != wanted:
        raise ObjectiveError(f"LOSS {name!r} needs a {wanted} output layer; the last layer "
                             f"is {output!r}")
    if wanted is None:
        _check_mse_output(output)
    values = {}
    for key, choices in CHOICES.items():
        value = declared.get(key, choices[0])
        if isinstance(value, bool) != isinstance(choices[0], bool) or value not in choices:
            raise ObjectiveError(f"{key} is {value!r}; accepted: "
                                 f"{' or '.join(repr(c) for c in choices)}")
        values[key.lower()] = value
    if values["half"] and loss != "mean_squared_error":
        raise ObjectiveError(f"HALF = True is the 1/2 of the quadratic cost; LOSS is {name!r} "
                             f"(declare LOSS = 'mse' or leave HALF out)")
    regs = _regularizers(declared.get("REGULARIZATION", None), depth)
    return Objective(loss, output, values["units"], values["half"], values["reduction"],
                     regs, frozenset(n for n in DECLARATIONS if n in declared))


def _check_mse_output(output: str) -> None:
    if output == "softmax":
        raise ObjectiveError("LOSS 'mse' with a softmax output is not supported (softmax is "
                             "not elementwise); use an elementwise output such as linear or "
                             "sigmoid, or LOSS = 'categorical_crossentropy'")
    try:
        function = activations.get(output)
    except SpecError as error:
        raise ObjectiveError(f"the output activation {output!r}: {error}") from None
    if function.per_unit:
        raise ObjectiveError(f"the output activation {output!r} is per unit; LOSS 'mse' takes "
                             f"an elementwise one such as linear, sigmoid or tanh")


def _regularizers(value, depth: int) -> tuple:
    form = ("the regularizer text, e.g. \"l2(0.001)\" (Keras' meaning: adds 0.001 * sum(w^2) "
            "to the loss, on every kernel), or a list with one per layer (\"none\" for none)")
    items = value if isinstance(value, (list, tuple)) else [value] * depth
    if len(items) != depth:
        raise ObjectiveError(f"REGULARIZATION lists {len(items)} regularizers; the network "
                             f"has {depth} layers: give one per layer or one text for all")
    out = []
    for item in items:
        if item is not None and not isinstance(item, str):
            raise ObjectiveError(f"REGULARIZATION is {value!r}; expected {form}")
        try:
            out.append(regularizers.get(item))
        except SpecError as error:
            raise ObjectiveError(f"REGULARIZATION: {error}") from None
    return tuple(out) if any(r is not None for r in out) else ()
