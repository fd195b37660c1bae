"""Named bugs as variants: what a layer with that one bug returns on a case.

Each variant is registered per layer kind under the bug's id and computes, with
NumPy, the results (out, dx, gradients, state) the buggy layer would give on
the same case; the diagnosis names every variant whose numbers reproduce the
user's on the whole grid (`diagnosis.py`).  A variant is the right layer with
one small deviation: most run handrolled's own layer (`handrolled_steps`) on
changed inputs (a flipped kernel) or with one piece of its geometry changed
(the padding split, the pooling counts); batch normalization's deviations sit
in one parametrised function (`batchnorm_steps`), whose undeviated form is
pinned to handrolled's layer by a test.  Where the bug does not show on a case
(the padding split at stride 1, a pooling window without ties) the variant
gives the right numbers there, so a match is judged on every case at once.

    variant(case, user_results, target) -> [StepResult per call]

`user_results` is what the user's code returned: dropout's variants use the
user's own mask, read from it.  A variant marked `convention` is a documented
difference of convention, not a bug (the flatten order of channels-first code).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

import numpy as np

from handrolled.layers.avgpool import window_counts

from .keras_side import dropout_expectation
from .results import StepResult, full_params, handrolled_steps


@dataclass(frozen=True)
class Variant:
    kind: str
    bug: str
    label: str
    message: str
    predict: Callable
    convention: bool = False


VARIANTS: dict[str, list[Variant]] = {}


def variant(kinds, bug: str, label: str, message: str, convention: bool = False):
    def register(function):
        for kind in (kinds if isinstance(kinds, tuple) else (kinds,)):
            VARIANTS.setdefault(kind, []).append(
                Variant(kind, bug, label, message, function, convention))
        return function
    return register


def variants_for(kind: str) -> list[Variant]:
    return VARIANTS.get(kind, [])


def _with_kernel(case, change, change_back):
    """Handrolled's layer with kernel K' = change(K); the kernel gradient mapped back."""
    swapped = copy.copy(case)
    swapped.params = dict(case.params, kernel=change(case.params["kernel"]))
    results = handrolled_steps(swapped)
    for result in results:
        result.grads["kernel"] = change_back(result.grads["kernel"])
    return results


# ------------------------------------------------------------------ convolution

@variant("conv", "conv_flipped_kernel", "flipped kernel",
         "your layer computes a true convolution (the kernel flipped in both spatial axes); "
         "Keras' Conv2D computes a cross-correlation, with no flip: index the kernel as "
         "K[u, v] for input pixel (i*stride + u, j*stride + v).")
def _flipped(case, user, target):
    flip = lambda k: k[::-1, ::-1]
    return _with_kernel(case, flip, flip)


@variant("conv", "conv_kernel_transposed", "kernel layout transposed",
         "your layer reads the kernel with its two spatial axes swapped (K[v, u] where "
         "K[u, v] belongs): a transposed or wrongly ordered kernel layout; check the axis "
         "order against KERNEL_LAYOUT.")
def _transposed(case, user, target):
    kernel = case.params["kernel"]
    if kernel.shape[0] != kernel.shape[1]:
        return handrolled_steps(case)     # a non-square kernel would not even fit
    swap = lambda k: k.transpose(1, 0, 2, 3)
    return _with_kernel(case, swap, swap)


def _symmetric_padding(case):
    """The case's layer with 'same' padding split evenly, max(before, after) on both
    sides, keeping TensorFlow's output size (the extra pixel at the start too)."""
    layer = copy.deepcopy(case.layer)
    windows = getattr(layer, "windows", None)
    if windows is None or windows.padding != "same":
        return None
    windows.pad_h = (max(windows.pad_h),) * 2
    windows.pad_w = (max(windows.pad_w),) * 2
    if hasattr(layer, "counts"):                         # average pooling's divisors
        layer.counts = window_counts(windows)
    changed = copy.copy(case)
    changed.layer = layer
    return changed


@variant(("conv", "maxpool", "avgpool"), "same_padding_symmetric",
         "'same' padding split symmetrically",
         "with padding='same' where the total padding is odd (stride 2 on an even size), "
         "your layer pads both sides equally; TensorFlow puts pad // 2 before and the rest "
         "after, so the extra pixel goes at the bottom/right.")
def _same_symmetric(case, user, target):
    changed = _symmetric_padding(case)
    return handrolled_steps(changed if changed is not None else case)


@variant("conv", "conv_dx_empty_at_pad0", "dx empty at pad 0",
         "your backward returns an empty (or no) dx when the padding is 0: slicing the "
         "padded gradient as [p:-p] gives nothing for p = 0; slice [p:p + H] instead, or "
         "skip the slicing when p is 0.")
def _dx_empty(case, user, target):
    results = handrolled_steps(case)
    if "pad0" in case.tags:
        for result in results:
            result.dx = np.empty((0,))
    return results


def _bias_variant(case, per_position: bool):
    results = handrolled_steps(case)
    if "bias" not in case.params:
        return results
    for result, step in zip(results, case.steps):
        delta = _delta(case, step)
        per_batch = delta.sum(axis=0)                      # (out_h, out_w, filters)
        result.grads["bias"] = per_batch if per_position else per_batch.mean(axis=(0, 1))
    return results


def _delta(case, step):
    """dL/dz of the case's convolution: dout times the activation's derivative."""
    layer = case.layer
    _, cache = layer.forward(full_params(case.params), step.x, step.training)
    _, z, a = cache
    return step.dout * layer.activation.derivative(z, a)


@variant("conv", "conv_bias_not_summed", "bias gradient not summed over positions",
         "your bias gradient keeps one value per output position (summed over the batch "
         "only); the bias is shared by every position, so its gradient is the sum of delta "
         "over the batch and all positions: one value per filter.")
def _bias_per_position(case, user, target):
    return _bias_variant(case, per_position=True)


@variant("conv", "conv_bias_averaged_over_positions", "bias gradient not summed over positions",
         "your bias gradient averages delta over the output positions instead of summing "
         "it: it is 1/(out_h*out_w) of the right one; the bias is shared by every position, "
         "so every position adds its delta.")
def _bias_mean(case, user, target):
    return _bias_variant(case, per_position=False)


# ------------------------------------------------------------------ pooling

def _window_winners(case, step, pick: str) -> np.ndarray:
    """(n, oh, ow, C, kh*kw) 0/1 masks of the windows' maxima that get the gradient."""
    layer = case.layer
    values = layer.window_values(step.x, -np.inf)
    top = values.max(axis=-1, keepdims=True)
    if pick == "all":
        return (values == top).astype(step.x.dtype)
    size = values.shape[-1]
    last = size - 1 - np.argmax(values[..., ::-1], axis=-1)
    return (np.arange(size) == last[..., None]).astype(step.x.dtype)


def _max_pool_ties(case, pick):
    results = handrolled_steps(case)
    for result, step in zip(results, case.steps):
        winners = _window_winners(case, step, pick)
        result.dx = case.layer.scatter(winners * step.dout[..., None])
    return results


@variant("maxpool", "maxpool_grad_to_all_ties", "gradient to every tied maximum",
         "where a window holds several equal maxima (blank regions of an image), your "
         "backward gives the gradient to each of them (a mask x == max); Keras gives it to "
         "one, the first in row-major order: take the argmax of the window.")
def _ties_all(case, user, target):
    return _max_pool_ties(case, "all")


@variant("maxpool", "maxpool_grad_to_last_tie", "gradient to the last tied maximum",
         "where a window holds several equal maxima, your backward gives the gradient to "
         "the last of them; Keras (TensorFlow on the CPU) gives it to the first in "
         "row-major order, as np.argmax does.")
def _ties_last(case, user, target):
    return _max_pool_ties(case, "last")


@variant("avgpool", "avgpool_counts_padding", "average divided by the wrong count at borders",
         "with padding='same', your average pooling divides the border windows by the "
         "full window size; Keras (TensorFlow) divides by the number of real pixels in the "
         "window, not counting the padding.")
def _avg_counts(case, user, target):
    windows = getattr(case.layer, "windows", None)
    if windows is None or windows.padding != "same":
        return handrolled_steps(case)
    changed = copy.copy(case)
    changed.layer = copy.deepcopy(case.layer)
    changed.layer.counts = np.full_like(case.layer.counts, np.prod(case.layer.pool_size))
    return handrolled_steps(changed)


# ------------------------------------------------------------------ batch normalization

def batchnorm_steps(case, per_position=False, ddof=0, moving_ddof=None, eps_outside=False,
                    backward="full", momentum_swapped=False, first_batch_start=False,
                    inference_batch=False) -> list[StepResult]:
    """BatchNormalization with the named deviations (none: Keras' formulas, as
    handrolled/layers/batchnorm.py; a test pins the two together).

    Training: mu, var over every axis but the last (per_position: over the batch axis
    only), var = sum((x - mu)^2) / (m - ddof); r = 1/sqrt(var + eps) (eps_outside:
    1/(sqrt(var) + eps)); y = gamma (x - mu) r + beta; and, for D = m - ddof,

        dx = gamma r [dy - mean(dy) - (x - mu) r'(var) sum(dy (x - mu)) 2 / (D r)]

    with r'(var) the derivative of r, which is -r^3/2 with eps inside;
    backward='no_mean' drops the mean(dy) term, 'no_var' the last one.  Moving
    statistics: moving*momentum + batch*(1 - momentum) (momentum_swapped: the other
    way round), the variance with moving_ddof; first_batch_start: the first call
    sets them to the batch's statistics.  Inference: the moving statistics
    (inference_batch: the batch's, as in training)."""
    layer = case.layer
    momentum, eps = layer.momentum, layer.epsilon
    gamma, beta = case.params["gamma"], case.params["beta"]
    moving = {"moving_mean": case.params["moving_mean"],
              "moving_variance": case.params["moving_variance"]}
    moving_ddof = ddof if moving_ddof is None else moving_ddof
    results, calls = [], 0
    for step in case.steps:
        x, dy = step.x, step.dout
        axes = (0,) if per_position else tuple(range(x.ndim - 1))
        m = int(np.prod([x.shape[a] for a in axes]))
        batch = step.training or inference_batch
        if batch:
            mu = x.mean(axis=axes, keepdims=True)
            squares = ((x - mu) ** 2).sum(axis=axes, keepdims=True)
            var = squares / max(m - ddof, 1)
        else:
            mu, var = moving["moving_mean"], moving["moving_variance"]
        s = np.sqrt(var)
        r = 1 / (s + eps) if eps_outside else 1 / np.sqrt(var + eps)
        y = gamma * (x - mu) * r + beta
        x_hat = (x - mu) * r
        sum_axes = tuple(range(x.ndim - 1))
        grads = {"gamma": (dy * x_hat).sum(axis=sum_axes), "beta": dy.sum(axis=sum_axes)}
        if not batch:
            dx = dy * gamma * r
        else:
            mean_dy = dy.mean(axis=axes, keepdims=True) if backward != "no_mean" else 0.0
            dr_dvar = (-1 / (s + eps) ** 2 / (2 * np.where(s > 0, s, 1)) if eps_outside
                       else -0.5 * r ** 3)
            var_term = ((x - mu) * (dr_dvar / r) * (dy * (x - mu)).sum(axis=axes, keepdims=True)
                        * 2 / max(m - ddof, 1))
            dx = gamma * r * (dy - mean_dy + (var_term if backward != "no_var" else 0.0))
        if step.training:
            batch_mean = mu.reshape(-1, x.shape[-1]).mean(axis=0) if per_position else mu.ravel()
            batch_var = (squares / max(m - moving_ddof, 1))
            batch_var = (batch_var.reshape(-1, x.shape[-1]).mean(axis=0) if per_position
                         else batch_var.ravel())
            keep, new = (1.0 - momentum, momentum) if momentum_swapped else \
                (momentum, 1.0 - momentum)
            if first_batch_start and calls == 0:
                moving = {"moving_mean": batch_mean, "moving_variance": batch_var}
            else:
                moving = {"moving_mean": moving["moving_mean"] * keep + batch_mean * new,
                          "moving_variance": moving["moving_variance"] * keep + batch_var * new}
            calls += 1
        results.append(StepResult(y, dx, grads, dict(moving)))
    return results


def _bn(label, bug, message, **deviation):
    variant("batchnorm", bug, label, message)(
        lambda case, user, target: batchnorm_steps(case, **deviation))


_bn("statistics per position", "batchnorm_per_position",
    "your batch normalization takes the mean and variance over the batch axis only, one "
    "per position and channel; after a convolution Keras takes them per channel, over "
    "the batch and every position (all axes but the channel axis).", per_position=True)
_bn("mean term missing from the backward", "batchnorm_no_mean_term",
    "your dx leaves out the term from the batch mean (- mean(dout)); mu depends on every "
    "input, so dx = gamma/sqrt(var+eps) * (dout - mean(dout) - x_hat*mean(dout*x_hat)).",
    backward="no_mean")
_bn("variance term missing from the backward", "batchnorm_no_variance_term",
    "your dx leaves out the term from the batch variance (- x_hat*mean(dout*x_hat)); var "
    "depends on every input, so dx = gamma/sqrt(var+eps) * (dout - mean(dout) - "
    "x_hat*mean(dout*x_hat)).", backward="no_var")
_bn("unbiased variance", "batchnorm_unbiased_variance",
    "your batch normalization divides the variance by m - 1 (unbiased); Keras normalizes "
    "with the biased variance, divided by m, and keeps the biased one in moving_variance.",
    ddof=1)
_bn("unbiased moving variance", "batchnorm_unbiased_moving_variance",
    "your moving_variance accumulates the unbiased batch variance (m - 1, as PyTorch "
    "does); Keras accumulates the biased one, divided by m.", moving_ddof=1)
_bn("momentum convention reversed", "batchnorm_momentum_reversed",
    "your moving statistics use the other momentum convention, moving*(1 - momentum) + "
    "batch*momentum (PyTorch's); Keras keeps momentum of the old value: "
    "moving*momentum + batch*(1 - momentum).", momentum_swapped=True)
_bn("moving statistics start from the first batch", "batchnorm_first_batch_start",
    "your moving statistics start from the first batch's mean and variance; Keras starts "
    "them at mean 0 and variance 1 and updates them with momentum from the first call on.",
    first_batch_start=True)
_bn("epsilon outside the square root", "batchnorm_eps_outside_sqrt",
    "your batch normalization divides by sqrt(var) + eps; Keras divides by "
    "sqrt(var + eps).", eps_outside=True)
_bn("inference uses batch statistics", "batchnorm_inference_batch_statistics",
    "in inference (training=False) your layer normalizes with the batch's own mean and "
    "variance; Keras uses moving_mean and moving_variance there.", inference_batch=True)


# ------------------------------------------------------------------ dropout

def _dropout(case, user, scale=None, inference_scale=1.0, keep=None):
    rate = case.layer.rate
    scale = 1 / (1 - rate) if scale is None else scale
    return dropout_expectation(case, {"scale": scale}, user, rate, scale, inference_scale, keep)


@variant("dropout", "dropout_not_scaled", "not scaled",
         "your dropout keeps units unchanged in training; Keras' (inverted) dropout scales "
         "the kept units by 1/(1 - rate) in training and leaves inference alone.")
def _not_scaled(case, user, target):
    return _dropout(case, user, scale=1.0)


@variant("dropout", "dropout_scaled_at_inference", "scaled at inference",
         "your dropout scales at inference (by 1 - rate): the classic, non-inverted form; "
         "Keras scales the kept units by 1/(1 - rate) in training and its inference pass "
         "is the identity.")
def _classic(case, user, target):
    rate = case.layer.rate
    return _dropout(case, user, scale=1.0, inference_scale=1 - rate)


@variant("dropout", "dropout_scaled_in_both_modes", "scaled at inference",
         "your dropout scales by 1/(1 - rate) in training and again at inference; Keras' "
         "inference pass is the identity.")
def _scaled_twice(case, user, target):
    return _dropout(case, user, inference_scale=1 / (1 - case.layer.rate))


@variant("dropout", "dropout_rate_as_keep_probability", "rate taken as keep probability",
         "your dropout keeps a unit with probability `rate` and scales by 1/rate: it reads "
         "the rate as the keep probability; Keras' rate is the fraction dropped (keep with "
         "probability 1 - rate, scale by 1/(1 - rate)).")
def _rate_as_keep(case, user, target):
    rate = case.layer.rate
    return _dropout(case, user, scale=1 / rate, keep=rate)


# ------------------------------------------------------------------ flatten

@variant("flatten", "flatten_channels_first_order", "flattened in (C, H, W) order",
         "your channels-first Flatten orders the features (C, H, W), a plain reshape of "
         "NCHW (PyTorch's order); Keras' Flatten(data_format='channels_first') orders them "
         "(H, W, C). Both are consistent; a Dense layer after it needs its kernel rows "
         "permuted to move between the two.", convention=True)
def _flatten_chw(case, user, target):
    if target.layout.data_format != "channels_first":
        return handrolled_steps(case)
    results = []
    for step in case.steps:
        nchw = np.transpose(step.x, (0, 3, 1, 2))
        out = nchw.reshape(nchw.shape[0], -1)
        dx = np.transpose(step.dout.reshape(nchw.shape), (0, 2, 3, 1))
        results.append(StepResult(out, dx))
    return results
