"""Which common hand-written backprop bug explains the user's gradients?

Each hypothesis is one function, registered under the bug's id, that computes
what the user's code would return for layer l *if* it had that bug there,
given the delta the user's code had one layer up:

    hypothesis(bp, l, delta_above) -> [Prediction, ...]   (variants; [] if not applicable)

A bug at layer l changes delta_l, and delta_l feeds every layer below, so the
layers are walked from the output down (the order backprop runs in), carrying
the delta each explanation implies.  At each layer: if the delta from above
already explains the user's gradient, there is no new bug there (a layer that
disagrees with Keras only because of a bug above is reported as such);
otherwise every hypothesis is tried, and each one that reproduces the user's
gradient is a finding.  Most hypotheses are fixed formulas; the `FITTED` ones
take the constant from the user's numbers (the factor c of user = c * right,
fitted by least squares, c = <user, right> / <right, right>), for one tensor
alone or for the whole layer, and still have to reproduce the gradient.

A finding names the tensors it touches: `sign_flipped (b4 only)`,
`scaled x0.5 (W2 only)`, or `sign_flipped (layer 2)` for a bug in every
tensor of the layer (`Finding.label`).  So a bug at hidden layer 2 of 3 is named at layer 2,
not at layer 1 which merely inherits it, and a bug repeated in every layer of a
loop is named at each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from handrolled import Params, activations

from ..tolerances import max_diffs
from .backprop import Backprop, Prediction
from .differences import fitted_factor

# A hypothesis reproduces the user's gradient when the two agree to this
# relative difference.  Looser than the agreement tolerance because the
# hypothesis is computed in our order, the user's buggy code in theirs; every
# listed bug changes a gradient by a relative amount of order 1, so 1e-6
# cannot confuse one bug with another or with round-off.
MATCH_RTOL = 1e-6

MAX_PATHS = 16  # explanations followed at once (equal ones share a path)

Hypothesis = Callable[[Backprop, int, "np.ndarray | None"], "list[Prediction]"]
HYPOTHESES: dict[str, Hypothesis] = {}

# Hypotheses fitted to the user's gradients of layer l: (bp, l, delta_above, W, b).
Fitted = Callable[[Backprop, int, "np.ndarray | None", np.ndarray, np.ndarray],
                  "list[Prediction]"]
FITTED: dict[str, Fitted] = {}


def hypothesis(bug: str, registry: dict = HYPOTHESES):
    def decorate(function):
        registry[bug] = function
        return function
    return decorate


# ---------------------------------------------------------------- derivative bugs

def _all_ones_note(values: np.ndarray) -> str:
    if np.all(values == 1):
        return (f" The derivative was 1 for all {values.size} values, so the layer "
                f"backpropagates as if it were linear.")
    return ""


def _kink_variants(f, x: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """f'(x), plus the same with the other one-sided slope at kinks that x hits exactly."""
    base = np.asarray(f.derivative(x, f.value(x)), dtype=np.float64)
    variants = [(base, "")]
    for kink in f.kinks:
        at_kink = x == kink
        if not at_kink.any():
            continue
        for side, sign in (("right", 1.0), ("left", -1.0)):
            point = np.array([kink + sign * 1e-6 * max(1.0, abs(kink))])
            slope = float(f.derivative(point, f.value(point))[0])
            values = np.where(at_kink, slope, base)
            if any(np.array_equal(values, seen) for seen, _ in variants):
                continue
            note = f", with the derivative at the kink z = {kink:g} taken as {slope:g}"
            if side == "right":
                note += f" (as `z >= {kink:g}` instead of `z > {kink:g}` does)"
            variants.append((values, note))
    return variants


@hypothesis("derivative_of_output")
def derivative_of_output(bp: Backprop, l: int, above) -> list[Prediction]:
    """f'(a_l) instead of f'(z_l): the derivative fed the layer's output."""
    if l == bp.depth:
        return []
    f, a = bp.activation(l), bp.a(l)
    out = []
    for values, note in _kink_variants(f, a):
        message = (f"layer {l}'s gradient matches the {f.text} derivative evaluated at the "
                   f"layer's output a = {f.text}(z) instead of at its input z{note}: the "
                   f"derivative was fed the activation, not the pre-activation."
                   + _all_ones_note(values))
        out.append(bp.with_derivative(l, above, values, "derivative_of_output", message))
    return out


@hypothesis("derivative_missing")
def derivative_missing(bp: Backprop, l: int, above) -> list[Prediction]:
    """delta_l = e_l: the multiplication by f'(z_l) left out."""
    if l == bp.depth or np.all(bp.derivative(l) == 1):
        return []
    f = bp.activation(l)
    message = (f"layer {l}'s gradient matches backprop without the {f.text} derivative "
               f"(the error was not multiplied by f'(z)): the layer backpropagates as if it "
               f"were linear.")
    return [bp.with_derivative(l, above, np.ones_like(bp.z(l)), "derivative_missing", message)]


@hypothesis("wrong_derivative")
def wrong_derivative(bp: Backprop, l: int, above) -> list[Prediction]:
    """Another registered activation g's derivative: g'(z_l), or g's derivative
    formula fed this layer's output a_l (the book's `sigmoid_gradient(h)` kept
    after switching the layer to tanh: h * (1 - h) with h = tanh(z))."""
    if l == bp.depth:
        return []
    f, z, a, right = bp.activation(l), bp.z(l), bp.a(l), bp.derivative(l)
    out, seen = [], []
    for name in activations.names():
        for values, how in _other_derivatives(name, f.name, z, a):
            # All ones is derivative_missing; equal to f' here cannot be told apart.
            if np.all(values == 1) or np.allclose(values, right, rtol=1e-12, atol=0) or any(
                    np.array_equal(values, earlier) for earlier in seen):
                continue
            seen.append(values)
            message = how.format(l=l, name=name, f=f.text)
            out.append(bp.with_derivative(l, above, values, "wrong_derivative", message))
    return out


_AT_Z = ("layer {l}'s gradient matches the derivative of {name} instead of {f}: the {f} "
         "layer used {name}'s derivative.")
_ON_OUTPUT = ("layer {l}'s gradient matches {name}'s derivative formula, written in terms of "
              "the output (like the book's sigmoid_gradient(h) = h * (1 - h)), applied to "
              "this {f} layer's output: the {f} layer still uses {name}'s derivative.")


def _other_derivatives(name: str, own: str, z: np.ndarray,
                       a: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """g'(z), and g's derivative formula evaluated with this layer's output a in
    place of g(z) (it differs from g'(z) only for formulas written in terms of
    the output, like sigmoid's a (1 - a) and tanh's 1 - a^2)."""
    if name == own:
        return []
    try:  # user-registered and parameterised activations may refuse default arguments
        g = activations.get(name)
        with np.errstate(all="ignore"):  # overflow in some other function's tails is no news
            candidates = [(g.derivative(z, g.value(z)), _AT_Z), (g.derivative(z, a), _ON_OUTPUT)]
    except Exception:
        return []
    found = []
    for values, how in candidates:
        values = np.asarray(values, dtype=np.float64)
        if values.shape == z.shape and np.all(np.isfinite(values)):
            found.append((values, how))
    return found


@hypothesis("output_formula_on_input")
def output_formula_on_input(bp: Backprop, l: int, above) -> list[Prediction]:
    """A derivative written in terms of the output (sigmoid: a(1 - a)) fed z instead of a."""
    if l == bp.depth:
        return []
    f, z = bp.activation(l), bp.z(l)
    values = np.asarray(f.derivative(z, z), dtype=np.float64)
    if np.allclose(values, bp.derivative(l), rtol=1e-12, atol=0) or not np.all(
            np.isfinite(values)):
        return []
    message = (f"layer {l}'s gradient matches the {f.text} derivative written for the output "
               f"(like a * (1 - a) for sigmoid) but fed the pre-activation z instead of "
               f"a = {f.text}(z).")
    return [bp.with_derivative(l, above, values, "output_formula_on_input", message)]


# ---------------------------------------------------------------- scale bugs

def _scaled(bp: Backprop, l: int, above, factor: float, bug: str, only_gradient: str,
            in_delta: str) -> list[Prediction]:
    """The right gradient times `factor`: in layer l's gradient only, or in delta_l
    (then every layer below inherits it)."""
    base = bp.correct(l, above)
    out = [Prediction(bug, only_gradient, factor * base.grad_W, factor * base.grad_b,
                      base.delta, base.derivative)]
    if l > 1:  # layer 1 has no layer below to inherit anything
        out.append(Prediction(bug, in_delta, factor * base.grad_W, factor * base.grad_b,
                              factor * base.delta, base.derivative))
    return out


@hypothesis("sum_not_mean")
def sum_not_mean(bp: Backprop, l: int, above) -> list[Prediction]:
    n = bp.n
    if n < 2 or bp.objective.reduction == "sum":
        return []
    head = (f"layer {l}'s gradient is {n} times too large: it is summed over the {n} rows of "
            f"the batch instead of averaged")
    where = ("the output error y_hat - Y was not divided by the number of rows"
             if l == bp.depth else f"layer {l}'s error delta was multiplied by {n}")
    return _scaled(bp, l, above, float(n), "sum_not_mean",
                   f"{head} (divide this layer's gradient by the number of rows).",
                   f"{head}: {where}, so every layer below inherits the factor.")


@hypothesis("mean_not_sum")
def mean_not_sum(bp: Backprop, l: int, above) -> list[Prediction]:
    """REDUCTION = 'sum' declared, the code averages over the batch."""
    n = bp.n
    if n < 2 or bp.objective.reduction != "sum":
        return []
    head = (f"layer {l}'s gradient is 1/{n} of the right one: it is averaged over the {n} "
            f"rows of the batch, but the target declares REDUCTION = 'sum'")
    return _scaled(bp, l, above, 1.0 / n, "mean_not_sum",
                   f"{head} (multiply this layer's gradient by the number of rows, or "
                   f"declare REDUCTION = 'mean').",
                   f"{head}: the output error was divided by the number of rows, so every "
                   f"layer below inherits the factor (declare REDUCTION = 'mean' if that is "
                   f"what you mean).")


# A declared UNITS or HALF the code does not keep: (name, the other choice) -> (bug, words).
DECLARED_SCALE = {
    ("UNITS", "sum"): ("units_sum_not_mean", "one sample's loss is summed over its {k} output "
                                             "units, but the target declares UNITS = 'mean'"),
    ("UNITS", "mean"): ("units_mean_not_sum", "one sample's loss is averaged over its {k} "
                                              "output units, but the target declares "
                                              "UNITS = 'sum'"),
    ("HALF", False): ("half_missing", "the quadratic cost has no 1/2 in the code, but the "
                                      "target declares HALF = True"),
    ("HALF", True): ("half_extra", "the quadratic cost has a 1/2 in the code, but the target "
                                   "does not declare HALF = True"),
}


@hypothesis("declared_scale")
def declared_scale(bp: Backprop, l: int, above) -> list[Prediction]:
    """The output error scaled as the other choice of a declared UNITS or HALF would: the
    code keeps another convention than the one the file declares."""
    objective, out = bp.objective, []
    if l != bp.depth:
        return out
    n, k = bp.Y.shape
    for name, choices in (("UNITS", ("mean", "sum")), ("HALF", (False, True))):
        if name not in objective.declared:
            continue
        other = [c for c in choices if c != getattr(objective, name.lower())][0]
        factor = (objective.with_changes(**{name.lower(): other}).scale(n, k)
                  / objective.scale(n, k))
        if factor == 1.0:  # UNITS with softmax CE or one unit, HALF without mse
            continue
        bug, words = DECLARED_SCALE[(name, other)]
        head = f"layer {l}'s gradient is {factor:g} times the right one: {words.format(k=k)}"
        for prediction in _scaled(bp, l, above, factor, bug, f"{head}.",
                                  f"{head}; every layer below inherits the factor."):
            prediction.label = f"{bug} (layer {l})"
            out.append(prediction)
    return out


@hypothesis("sign_flipped")
def sign_flipped(bp: Backprop, l: int, above) -> list[Prediction]:
    head = (f"layer {l}'s gradient has the wrong sign: it is the gradient of the negative "
            f"loss, so gradient descent would climb the loss")
    where = ("the output error is Y - y_hat instead of y_hat - Y" if l == bp.depth
             else f"layer {l}'s error delta has the wrong sign")
    return _scaled(bp, l, above, -1.0, "sign_flipped", f"{head}.",
                   f"{head}: {where}, and every layer below inherits it.")


# ---------------------------------------------------------------- output-layer slips

@hypothesis("output_derivative_twice")
def output_derivative_twice(bp: Backprop, l: int, above) -> list[Prediction]:
    """Binary cross-entropy with sigmoid outputs: delta_L = (a - y) already holds sigma'(z)
    (it cancels the 1/(a(1 - a)) of dL/da); code that multiplies by sigma'(z) again."""
    if l != bp.depth or bp.objective.loss != "binary_crossentropy":
        return []
    derivative = bp.objective.output_derivative(bp.z(l))
    message = (f"layer {l}'s gradient matches the cross-entropy output error a - y multiplied "
               f"by the sigmoid's derivative a (1 - a) once more: with binary cross-entropy "
               f"the derivative is already in a - y (it cancels), so delta = a - y, not "
               f"(a - y) * a * (1 - a) (that is the quadratic cost's delta).")
    return [bp.predict(l, bp.output_delta() * derivative, "output_derivative_twice", message)]


@hypothesis("output_derivative_missing")
def output_derivative_missing(bp: Backprop, l: int, above) -> list[Prediction]:
    """The quadratic cost with a nonlinear output: delta_L = dL/da * f'(z_L); code that
    leaves out f'(z_L) (the cross-entropy's delta used with the quadratic cost)."""
    objective = bp.objective
    if l != bp.depth or objective.output_function is None:
        return []
    z = bp.z(l)
    if np.all(objective.output_derivative(z) == 1):
        return []
    f = objective.output
    message = (f"layer {l}'s gradient matches the quadratic cost's output error without "
               f"the {f} output's derivative: delta = (a - y) * {f}'(z) for the quadratic "
               f"cost, and the code left out {f}'(z) (a - y alone is the cross-entropy's "
               f"delta).")
    return [bp.predict(l, objective.delta_at_output(z, bp.Y), "output_derivative_missing",
                       message)]


# ---------------------------------------------------------------- shape-preserving slips

@hypothesis("bias_row_in_backprop")
def bias_row_in_backprop(bp: Backprop, l: int, above) -> list[Prediction]:
    """Book layout: the error sent back through w_{l+1}[:-1] instead of w_{l+1}[1:]."""
    if l == bp.depth or bp.layout != "bias_row":
        return []
    shifted = bp.bias_row_matrix(l + 1)[:-1]  # the bias row kept, the last weight row lost
    derivative = bp.derivative(l)
    delta = bp.error(l, above, shifted) * derivative
    message = (f"layer {l}'s gradient matches propagating the error back through layer "
               f"{l + 1}'s matrix without dropping its bias row: rows 0..{bp.W(l + 1).shape[0] - 1}"
               f" (w{l + 1}[:-1]) were used instead of rows 1..{bp.W(l + 1).shape[0]} "
               f"(w{l + 1}[1:]), so the bias row acted as the weights of unit 0. Use "
               f"w{l + 1}[1:].")
    return [bp.predict(l, delta, "bias_row_in_backprop", message, derivative)]


@hypothesis("transposed")
def transposed(bp: Backprop, l: int, above) -> list[Prediction]:
    """A square matrix used the wrong way round: the gradient itself, or W in backprop."""
    base = bp.correct(l, above)
    out = []
    if bp.layout in ("separate", "column") and base.grad_W.shape[0] == base.grad_W.shape[1]:
        out.append(Prediction("transposed", _transposed_message(l, base.grad_W.shape),
                              base.grad_W.T, base.grad_b, base.delta, base.derivative,
                              label=f"transposed (W{l} only)"))
        if bp.layout == "column":
            out[-1].message = out[-1].message.replace(
                "a_prev.T @ delta, not delta.T @ a_prev", "delta @ a_prev.T, not a_prev @ delta.T")
    full = np.vstack([base.grad_b[None, :], base.grad_W])
    if bp.layout == "bias_row" and full.shape[0] == full.shape[1]:
        flipped = full.T
        out.append(Prediction("transposed", _transposed_message(l, full.shape), flipped[1:],
                              flipped[0], base.delta, base.derivative))
    if l < bp.depth and bp.W(l + 1).shape[0] == bp.W(l + 1).shape[1]:
        derivative = bp.derivative(l)
        delta = bp.error(l, above, bp.W(l + 1).T) * derivative  # delta @ W, not delta @ W.T
        message = (f"layer {l}'s gradient matches propagating the error back through "
                   f"W{l + 1} instead of its transpose (delta @ W{l + 1} rather than "
                   f"delta @ W{l + 1}.T); the layer is square, so the shapes matched.")
        out.append(bp.predict(l, delta, "transposed", message, derivative))
    return out


def _transposed_message(l: int, shape) -> str:
    return (f"layer {l}'s weight gradient is the transpose of the right one (a "
            f"{shape[0]}x{shape[1]} matrix, so the shapes matched): compute a_prev.T @ delta, "
            f"not delta.T @ a_prev.")


# ---------------------------------------------------------------- fitted: a constant factor

def factor_bug(c: float, n: int, reduction: str = "mean") -> str | None:
    """The bug a factor c on the right gradient names: -1 sign_flipped, n (the batch
    size) sum_not_mean, 1/n mean_twice, 0 missing, 1 none, anything else scaled.  Where
    the target declares REDUCTION = 'sum', 1/n is mean_not_sum (and n is only scaled)."""
    by_n = (((1.0 / n, "mean_not_sum"),) if reduction == "sum" else
            ((float(n), "sum_not_mean"), (1.0 / n, "mean_twice")))
    named = ((1.0, None), (-1.0, "sign_flipped"), *by_n, (0.0, "missing"))
    for value, bug in named:
        if abs(c - value) <= MATCH_RTOL * max(1.0, abs(value)):
            return bug
    return "scaled"


FACTOR_WORDS = {
    "sign_flipped": "the wrong sign (-1 times the right one)",
    "sum_not_mean": "{n} times the right one, the batch size: summed over the rows instead "
                    "of averaged",
    "mean_twice": "1/{n} of the right one, one over the batch size: divided by the number "
                  "of rows twice",
    "mean_not_sum": "1/{n} of the right one: averaged over the {n} rows, but the target "
                    "declares REDUCTION = 'sum'",
    "missing": "all zeros: never computed, or left at zero",
    "scaled": "{c:.6g} times the right one",
}


def factor_label(bug: str, c: float) -> str:
    """'scaled x0.5'; the named factors need no number ('sign_flipped')."""
    return f"{bug} x{c:.6g}" if bug == "scaled" else bug


@hypothesis("one_tensor", FITTED)
def one_tensor(bp: Backprop, l: int, above, user_W, user_b) -> list[Prediction]:
    """One tensor of the layer (W or b) is c times the right one, the other tensor and the
    delta passed down are right: a slip in that one line of the user's code."""
    base = bp.correct(l, above)
    out = []
    for name, right, user in ((f"W{l}", base.grad_W, user_W), (f"b{l}", base.grad_b, user_b)):
        c = fitted_factor(user, right)
        bug = None if c is None else factor_bug(c, bp.n, bp.objective.reduction)
        if bug is None:
            continue
        grads = {f"W{l}": base.grad_W, f"b{l}": base.grad_b, name: c * right}
        words = FACTOR_WORDS[bug].format(n=bp.n, c=c)
        message = (f"only {name}'s gradient is wrong: it is {words}; the layer's other "
                   f"gradient and the delta it passes down are right.")
        out.append(Prediction(bug, message, grads[f"W{l}"], grads[f"b{l}"], base.delta,
                              base.derivative, label=f"{factor_label(bug, c)} ({name} only)"))
    return out


@hypothesis("whole_layer", FITTED)
def whole_layer(bp: Backprop, l: int, above, user_W, user_b) -> list[Prediction]:
    """Both tensors of the layer c times the right ones (in the gradient only, or in the
    delta too).  sign_flipped and sum_not_mean have their own hypotheses above."""
    base = bp.correct(l, above)
    c = fitted_factor(np.concatenate([user_W.ravel(), user_b.ravel()]),
                      np.concatenate([base.grad_W.ravel(), base.grad_b.ravel()]))
    bug = None if c is None else factor_bug(c, bp.n, bp.objective.reduction)
    if bug in (None, "sign_flipped", "sum_not_mean", "mean_not_sum"):  # their own hypotheses
        return []
    head = f"layer {l}'s gradient (W{l} and b{l}) is {FACTOR_WORDS[bug].format(n=bp.n, c=c)}"
    predictions = _scaled(bp, l, above, c, bug, f"{head}.",
                          f"{head}, and so is the delta it passes down: every layer below "
                          f"inherits it.")
    for prediction in predictions:
        prediction.label = f"{factor_label(bug, c)} (layer {l})"
    return predictions



# ---------------------------------------------------------------- fitted: the penalty term

# The regularization findings (a penalty's gradient c * r'(W) instead of r'(W)): the
# factor's name, and what it says.  s: the fitted multiple of the declared r'(W).
REGULARIZATION_FACTORS = (
    (0.0, "regularization_missing",
     "has no penalty term: the declared {reg} adds {grad} to the weight gradient, and the "
     "code leaves it out"),
    (2.0, "regularization_doubled",
     "has twice the declared penalty's gradient {grad}: the 1/2 of 1/2 lambda sum(w^2) "
     "dropped from the gradient, or the term added twice"),
    (0.5, "regularization_half",
     "has half the declared penalty's gradient {grad}: the 2 of d(lambda w^2)/dw = "
     "2 lambda w is missing"),
)
FITTED_BUGS = ("regularization (missing, doubled, halved, on the biases, scaled by n)",)


def _regularization_names(n: int):
    yield from REGULARIZATION_FACTORS
    if n > 1:
        yield (float(n), "regularization_times_n",
               f"has {n} times the declared penalty's gradient {{grad}}: the penalty is "
               f"multiplied by the batch size ({n} rows)")
        yield (1.0 / n, "regularization_over_n",
               f"has 1/{n} of the declared penalty's gradient {{grad}}: the penalty is "
               f"divided by the batch size ({n} rows), as in lambda/(2n) sum(w^2); if "
               f"that is your loss, declare the factor that includes the 1/n")


@hypothesis("regularization", FITTED)
def regularization(bp: Backprop, l: int, above, user_W, user_b) -> list[Prediction]:
    """The weight gradient's data part is right, its penalty part is s times the declared
    r'(W_l) (fitted s); or the penalty is applied to the biases too.  Without a declared
    regularizer on this layer: an L2 term 2 lambda W_l (lambda fitted) that is not declared."""
    base = bp.correct(l, above)
    declared = bp.objective.regularizer(l)
    penalty = bp.penalty_gradient(l)
    data_W = base.grad_W - penalty
    direction = penalty if declared is not None else bp.W(l)
    s = fitted_factor(user_W - data_W, direction)
    if s is None:
        return []
    out = []
    if declared is None:
        if abs(s) > 0:
            message = (f"W{l}'s gradient has an L2 term {s:.6g} * W{l} (factor fitted: "
                       f"l2({s / 2:.6g}) in Keras' meaning) that REGULARIZATION does not "
                       f"declare; the data part of the gradient is right. If your loss has "
                       f"that penalty, declare it.")
            out.append(Prediction("l2_undeclared", message, data_W + s * direction,
                                  base.grad_b, base.delta, base.derivative,
                                  label=f"L2 term in your gradient, factor fitted (W{l})"))
        return out
    grad = f"r'(W{l}) for {declared.text}"
    for value, bug, words in _regularization_names(bp.n):
        if abs(s - value) <= MATCH_RTOL * max(1.0, abs(value)):
            message = f"W{l}'s gradient {words.format(reg=declared.text, grad=grad)}."
            out.append(Prediction(bug, message, data_W + s * penalty, base.grad_b, base.delta,
                                  base.derivative, label=f"{bug} (W{l})"))
            break
    else:
        if abs(s - 1.0) > MATCH_RTOL:
            out.append(Prediction("regularization_scaled",
                                  f"W{l}'s penalty gradient is {s:.6g} times the declared "
                                  f"{declared.text}'s; the data part of the gradient is right.",
                                  data_W + s * penalty, base.grad_b, base.delta,
                                  base.derivative, label=f"regularization_scaled x{s:.6g} (W{l})"))
    with_biases = base.grad_b + bp.objective.penalty_gradient(l, bp.params[f"b{l}"])
    out.append(Prediction("regularization_on_biases",
                          f"b{l}'s gradient has the penalty's gradient too: {declared.text} "
                          f"applies to the kernels only (Keras' kernel_regularizer), not to "
                          f"the biases.", base.grad_W, with_biases, base.delta,
                          base.derivative, label=f"regularization_on_biases (b{l})"))
    return out


# ---------------------------------------------------------------- walking down the layers

@dataclass
class Finding:
    layer: int
    bug: str
    message: str
    label: str = ""   # the bug with its factor and tensors: "sign_flipped (b4 only)"


@dataclass
class _Path:
    """One explanation of the layers so far: the delta it implies at the last layer."""

    delta: np.ndarray | None
    steps: list = field(default_factory=list)  # (layer, Prediction, parent _Path)


@dataclass
class Diagnosis:
    findings: list[Finding]
    inherited: list[int]            # disagreeing layers fully explained by a bug above
    unexplained: int | None         # the first layer no hypothesis explains
    delta_above_unexplained: np.ndarray | None
    derivatives: dict[int, np.ndarray]  # the user's effective f'(z_l), where known
    rounding: list[int]             # disagreeing layers within MATCH_RTOL of the right value
    stopped: int | None = None      # a second unexplained layer: the walk ended there


def matches(prediction: Prediction, user: Params, l: int, rtol: float = MATCH_RTOL) -> bool:
    return (max_diffs(prediction.grad_W, user[f"W{l}"])[1] <= rtol
            and max_diffs(prediction.grad_b, user[f"b{l}"])[1] <= rtol)


def diagnose(bp: Backprop, user: Params, disagreeing: set[int]) -> Diagnosis:
    """Walk from the output layer down, explaining each layer's gradient."""
    frontier = [_Path(None)]
    unexplained = stopped = delta_above = None
    for l in range(bp.depth, 0, -1):
        clean = _try(frontier, lambda path: [bp.correct(l, path.delta)], user, l)
        found = clean or _try(frontier, lambda path: _propose(bp, l, path.delta, user), user, l)
        if found:
            frontier = _merge(found, l)
        elif unexplained is None:
            # Go on as if the bug stayed in this layer's gradient and passed the right
            # delta down: if the layers below then agree, that is what happened.
            unexplained, delta_above = l, frontier[0].delta
            right = bp.correct(l, delta_above)
            placeholder = Prediction(None, "", right.grad_W, right.grad_b, right.delta, None)
            frontier = [_Path(right.delta, [(l, placeholder, path) for path in frontier])]
        else:
            stopped = l
            break
    live = _live_steps(frontier)
    return _summarise(bp, live, disagreeing, unexplained, delta_above, stopped)


def _propose(bp: Backprop, l: int, above, user: Params) -> list[Prediction]:
    """Every hypothesis' predictions for layer l: the fixed ones and the fitted ones."""
    fixed = [p for hyp in HYPOTHESES.values() for p in hyp(bp, l, above)]
    return fixed + [p for fit in FITTED.values()
                    for p in fit(bp, l, above, user[f"W{l}"], user[f"b{l}"])]


def _try(frontier, propose, user, l) -> list[tuple[Prediction, _Path]]:
    return [(prediction, path) for path in frontier for prediction in propose(path)
            if matches(prediction, user, l)]


def _merge(found, l: int) -> list[_Path]:
    """Group matching predictions by the delta they pass down (equal deltas share a path)."""
    paths: list[_Path] = []
    for prediction, parent in found:
        for path in paths:
            if np.array_equal(path.delta, prediction.delta):
                path.steps.append((l, prediction, parent))
                break
        else:
            if len(paths) < MAX_PATHS:
                paths.append(_Path(prediction.delta, [(l, prediction, parent)]))
    return paths


def _live_steps(frontier: list[_Path]) -> dict[int, list[Prediction]]:
    """Every (layer, prediction) on a path that reaches the end of the walk."""
    live: dict[int, list[Prediction]] = {}
    seen, stack = set(), list(frontier)
    while stack:
        path = stack.pop()
        if id(path) in seen:
            continue
        seen.add(id(path))
        for layer, prediction, parent in path.steps:
            live.setdefault(layer, []).append(prediction)
            stack.append(parent)
    return live


def _summarise(bp, live, disagreeing, unexplained, delta_above, stopped) -> Diagnosis:
    findings, inherited, rounding, derivatives = [], [], [], {}
    bug_order = [*HYPOTHESES, "mean_twice", "missing", "scaled"]  # the fitted ones last
    rank = lambda p: (-1 if not p.bug else bug_order.index(p.bug)  # noqa: E731
                      if p.bug in bug_order else len(bug_order))
    for l in sorted(live, reverse=True):
        if l == unexplained:
            continue
        predictions = live[l]
        bugs = {}
        for prediction in sorted(predictions, key=rank):
            label = prediction.label or f"{prediction.bug} (layer {l})"
            if prediction.bug and label not in bugs:
                bugs[label] = Finding(l, prediction.bug, prediction.message, label)
        findings += list(bugs.values())
        if l in disagreeing and not bugs:
            bug_above = any(f.layer > l for f in findings)
            (inherited if bug_above else rounding).append(l)
        known = [p.derivative for p in predictions if p.derivative is not None]
        if known:
            derivatives[l] = known[0]
    return Diagnosis(findings, inherited, unexplained, delta_above, derivatives, rounding,
                     stopped)
