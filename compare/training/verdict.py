"""The training verdict: the handrolled-Keras difference judged against round-off.

Two correct implementations of the same training run differ by round-off, and
training is chaotic: a difference of one unit in the last place grows, step by
step, until the two trajectories are as far apart as two runs from different
seeds.  How far round-off alone moves a correct run is measured in the same run:
the hand-written side trains twice more on the same batches with each batch's
rows reversed (`data.reversed_within_batches`) and every starting weight times
(1 + eps), then (1 - eps) (a learning-rate schedule one float32 ulp up, then
down), the same mathematics summed in another order.  Where the difference
leaves that envelope's band, Keras trains once more the same way (rows reversed
unless there is Dropout, weights times (1 + eps)), as its own round-off may be
the larger, and the run is judged again (`side_by_side.py`); before that, the
hand-written samples' distances are widened by how many times ours Keras' own
round-off is on step 1's gradients, as the gradient witness measures it
(`roundoff.keras_ratio`: Keras' sample in the same order does not resample
its long sums' rounding).  The largest
distance of a sample from its own side's run at every step counts
(`roundoff.widest`): that per step is the envelope e(t).

The handrolled-Keras difference d(t) is judged step by step, in time order:

    band(t) = max(factor * max_{s <= t'} e(s),  floor(t)),  t' = t + 10 + t/4
    floor(t) = floor_ulps * eps * max(|loss_h(t)|, |loss_k(t)|, 1)   (first-step round-off)

* d(t) <= floor(t) at every step, and every final tensor and accuracy as
  close: "identical";
* d(t) <= band(t) at every step, the per-epoch losses and accuracies and the
  final weights (moving statistics, optimizer slots) likewise inside their
  envelopes: "agree within round-off";
* the first step where one of them leaves its band: "disagree from step N".
  A bug shows at the step it first acts, when the envelope is still at
  round-off level; a difference that grows faster than the envelope leaves it
  later.  Once d takes off (leaves the floor for good, no earlier than
  1/onset_ratio of the envelope's own take-off), it may also grow as the
  envelope grew after its take-off (`takeoffs`): chaos sets in at a random step.
  The rule per dtype is in `tolerances.py`, with the measurements behind it;
  float64 stays strict through its envelope, ~1e-16 wherever the run is not
  chaotic, and no accuracy row may change that round-off did not change.

Divergence is named, not counted as disagreement: when both sides blow up
(`history.find_divergence`: a NaN or inf loss, or one far above the first)
and no difference left its band before, "training diverged on both sides"
(exit 2), with a learning rate to try.  One side alone blowing up is a
disagreement from that step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tolerances import ROUNDOFF_RULES, RoundoffRule

IDENTICAL = "identical"
WITHIN_ROUNDOFF = "agree within round-off"
DISAGREE = "disagree"
DIVERGED = "diverged"
AGREEING = (IDENTICAL, WITHIN_ROUNDOFF)


def shown(text: str) -> str:
    """A verdict's text as the console prints it, in the check reports' words and case:
    'AGREE (identical)', 'AGREE (within round-off)', 'DISAGREE from step 3 (epoch 1)',
    'TRAINING DIVERGED on both sides at ...'.  results.json keeps `text` as it is."""
    if text == IDENTICAL:
        return "AGREE (identical)"
    if text == WITHIN_ROUNDOFF:
        return "AGREE (within round-off)"
    for word in (DISAGREE, "training diverged"):
        if text.startswith(word):
            return word.upper() + text[len(word):]
    return text


@dataclass(frozen=True)
class Verdict:
    """The outcome, and where it was decided (steps and epochs counted from 1)."""

    outcome: str                  # IDENTICAL, WITHIN_ROUNDOFF, DISAGREE or DIVERGED
    step: int | None = None       # the first step of the disagreement or divergence
    epoch: int | None = None
    step_in_epoch: int | None = None
    reason: str = ""              # what left its band, with the numbers
    lr_hint: float | None = None  # DIVERGED: a learning rate to try

    @property
    def agree(self) -> bool:
        return self.outcome in AGREEING

    def text(self) -> str:
        """The words every output prints."""
        if self.outcome == DISAGREE:
            return f"disagree from step {self.step} (epoch {self.epoch})"
        if self.outcome == DIVERGED:
            where = f"epoch {self.epoch}, step {self.step_in_epoch}"
            if self.step == 1:
                return (f"training diverged on both sides at {where}: the loss is not finite "
                        f"before any update, so the network itself makes NaN or inf (an "
                        f"activation, the data or the weights), not the learning rate")
            hint = f"a learning rate below {self.lr_hint:g}" if self.lr_hint else \
                "a smaller learning rate"
            return f"training diverged on both sides at {where}; try {hint}"
        return self.outcome

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "text": self.text(), "step": self.step,
                "epoch": self.epoch, "step_in_epoch": self.step_in_epoch,
                "reason": self.reason, "lr_hint": self.lr_hint}


@dataclass(frozen=True)
class Crossing:
    """The first place a difference left its band."""

    step: int  # counted from 1
    reason: str


def steps_of(history) -> np.ndarray:
    """One side's per-step losses, all epochs in a row (float64)."""
    if not history.step_losses:
        return np.zeros(0)
    return np.concatenate([np.asarray(losses, dtype=np.float64)
                           for losses in history.step_losses])


def running_envelope(h: np.ndarray, r: np.ndarray) -> np.ndarray:
    """max over s <= t of |h(s) - r(s)|: how far round-off has moved the run by step t."""
    e = np.abs(h - r)
    return np.maximum.accumulate(np.where(np.isfinite(e), e, 0.0)) if e.size else e


def loss_floor(rule: RoundoffRule, *losses: np.ndarray) -> np.ndarray:
    """floor_ulps * eps * max(|loss|, 1): the round-off of computing one loss, before any
    update (a loss near 0 is a log-sum-exp of logits of order 1: its round-off is not
    relative to the loss)."""
    scale = np.max(np.abs(np.stack([*losses, np.ones_like(losses[0])])), axis=0)
    return rule.floor_ulps * np.finfo(rule.dtype).eps * scale


def step_bands(rule: RoundoffRule, h: np.ndarray, k: np.ndarray, r: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """(floor, band) per step over the steps all three runs have (see `takeoffs`)."""
    floor, band, _ = takeoffs(rule, h, k, r)
    return floor, band


def takeoffs(rule: RoundoffRule, h: np.ndarray, k: np.ndarray, r: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, int]:
    """(floor, band, lead) per step over the steps all three runs have; lead: how
    many steps earlier the difference took off than the envelope (0: not aligned).

    Chaos sets in at a random step: a difference sits at round-off level until,
    say, one relu unit flips in one run and not the other, then grows.  The
    envelope's own take-off (its first step above the floor, t_e) and the
    difference's (t_d) need not coincide, so when the difference takes off no
    earlier than t_e / onset_ratio, it may also grow as the envelope grew after
    its take-off: band(t_d + s) >= factor x E(t_e + s + onset_lag)."""
    n = min(len(h), len(k), len(r))
    floor = loss_floor(rule, h[:n], k[:n])
    envelope = running_envelope(h[:n], r[:n])
    steps = np.arange(n)
    # two samples of one chaotic process grow alike but not in step: step t is held
    # to the envelope a little later, at t + onset_lag + lead_fraction t
    later = np.minimum(steps + rule.onset_lag + (rule.lead_fraction * steps).astype(int), n - 1)
    band = np.maximum(rule.factor * envelope[later], floor) if n else floor
    t_e = first_crossing(np.abs(h[:n] - r[:n]), floor)
    t_d = first_crossing(np.abs(h[:n] - k[:n]), band)
    if t_e is None or t_d is None or t_d < t_e / rule.onset_ratio:
        return floor, band, 0
    growth = envelope[t_e:]  # the envelope from its take-off on
    after = np.minimum(np.arange(n - t_d) + rule.onset_lag, len(growth) - 1)
    band[t_d:] = np.maximum(band[t_d:], rule.factor * growth[after])
    return floor, band, max(t_e - t_d, 0)


def first_crossing(d: np.ndarray, band: np.ndarray) -> int | None:
    """Index of the first d > band (a NaN difference counts), or None."""
    outside = np.flatnonzero(~(d <= band))
    return int(outside[0]) if outside.size else None


def judge(result) -> Verdict:
    """The verdict on a `TrainingResult` that has its round-off run."""
    rule = ROUNDOFF_RULES[result.spec.dtype]
    per_epoch = result.steps_per_epoch
    h, k = steps_of(result.handrolled), steps_of(result.keras)
    r = steps_of(result.roundoff) if result.roundoff is not None else h
    blowups = [_blowup_step(history, per_epoch) for history in (result.handrolled, result.keras)]
    horizon = min([len(h), len(k)] + [b - 1 for b in blowups if b is not None])
    _, band, lead = takeoffs(rule, h[:horizon], k[:horizon], r)
    crossings = [c for c in (_step_crossing(rule, h[:horizon], k[:horizon], r),
                             _epoch_crossing(rule, result, horizon, band, lead),
                             _final_crossing(rule, result, horizon))
                 if c is not None]
    if crossings:
        first = min(crossings, key=lambda c: c.step)
        return _at(DISAGREE, first.step, per_epoch, first.reason)
    if all(b is not None for b in blowups):
        step = min(blowups)
        lr = result.lr if isinstance(result.lr, (int, float)) else None
        return _at(DIVERGED, step, per_epoch, "the loss blew up on both sides",
                   lr_hint=lr / 10 if lr else None)
    for side, step in zip(("handrolled", "keras"), blowups):
        if step is not None:
            value = getattr(result, side).diverged.value
            return _at(DISAGREE, step, per_epoch,
                       f"only {side}'s loss blew up ({value:g}); the other stayed finite")
    if len(h) != len(k):
        return _at(DISAGREE, min(len(h), len(k)) + 1, per_epoch,
                   f"the sides ran {len(h)} and {len(k)} steps")
    floor, _ = step_bands(rule, h, k, r)
    exact = (np.all(np.abs(h - k) <= floor)
             and all(ok for _, ok, _ in _final_pairs(rule, result, envelope=False))
             and result.max_accuracy_diff == 0)
    return Verdict(IDENTICAL if exact else WITHIN_ROUNDOFF, reason=chaos_note(result))


# Round-off alone moving the final test accuracy by this many points or more is worth
# a word: the agreement is then one between two samples of a chaotic run.
CHAOS_POINTS = 1.0


def chaos_note(result) -> str:
    """'' unless round-off alone visibly changed the outcome (a learning rate too large
    makes a run chaotic: mnist-sample, 100:relu, float32, lr 1.0 ends 48 points of test
    accuracy apart from its own reversed-rows run); then a sentence saying so, so that an
    "agree" between 30% and 87% is read as what it is."""
    H, R = result.handrolled, result.roundoff
    if R is None or not H.test_accuracy or not R.test_accuracy:
        return ""
    moved = 100 * abs(H.test_accuracy[-1] - R.test_accuracy[-1])
    if not moved >= CHAOS_POINTS:
        return ""
    return (f"note: round-off alone moved the final test accuracy by {moved:.2f} points "
            f"(the round-off samples: a side against itself with each batch's rows "
            f"reversed): the run is chaotic, so the two sides agree as two samples of it, "
            f"not number for number; a smaller learning rate makes it reproducible")


def _at(outcome: str, step: int, per_epoch: int, reason: str, lr_hint=None) -> Verdict:
    epoch, within = divmod(step - 1, per_epoch)
    return Verdict(outcome, step, epoch + 1, within + 1, reason, lr_hint)


def _blowup_step(history, per_epoch: int) -> int | None:
    """The global step (from 1) where a side's loss blew up, or None."""
    d = history.diverged
    if d is None:
        return None
    return (d.epoch - 1) * per_epoch + (d.step if d.step else per_epoch)


def _step_crossing(rule: RoundoffRule, h, k, r) -> Crossing | None:
    floor, band = step_bands(rule, h, k, r)
    d = np.abs(h[:len(band)] - k[:len(band)])
    i = first_crossing(d, band)
    if i is None:
        return None
    return Crossing(i + 1, f"loss of step {i + 1}: |handrolled - keras| = {d[i]:.3g} > "
                           f"{band[i]:.3g} = max({rule.factor:g} x round-off envelope "
                           f"{band[i] / rule.factor if band[i] > floor[i] else 0:.3g}, "
                           f"first-step round-off {floor[i]:.3g})")


def _epoch_crossing(rule: RoundoffRule, result, horizon: int, band: np.ndarray, lead: int
                    ) -> Crossing | None:
    """The per-epoch training-set loss and accuracies against their envelopes: the
    envelope's as many epochs on as the difference took off before it (`lead`
    steps), and the loss no tighter than the step band at the epoch's end."""
    per_epoch = result.steps_per_epoch
    epochs = min(horizon // per_epoch, len(result.handrolled.loss), len(result.keras.loss))
    if result.roundoff is None or epochs == 0:
        return None
    H, K, R = result.handrolled, result.keras, result.roundoff
    eps = np.finfo(rule.dtype).eps
    ahead = -(-lead // per_epoch)  # epochs, rounded up
    for e in range(min(epochs, len(R.loss))):
        end = (e + 1) * per_epoch
        later = (end - 1 + rule.onset_lag + int(rule.lead_fraction * (end - 1))) // per_epoch
        seen = range(min(max(e + ahead, later), len(R.loss) - 1) + 1)  # envelope's epochs
        loss_env = max(abs(H.loss[i] - R.loss[i]) for i in seen)
        floor = rule.floor_ulps * eps * max(abs(H.loss[e]), abs(K.loss[e]), 1.0)
        allowed = max(rule.factor * loss_env, floor, band[min(end, len(band)) - 1])
        if not abs(H.loss[e] - K.loss[e]) <= allowed:
            return Crossing(end, f"training-set loss after epoch {e + 1}: |handrolled - keras|"
                                 f" = {abs(H.loss[e] - K.loss[e]):.3g} > {allowed:.3g}")
        for name in ("train_accuracy", "test_accuracy", "validation_accuracy"):
            hs, ks, rs = getattr(H, name), getattr(K, name), getattr(R, name)
            if e >= min(len(hs), len(ks), len(rs)):
                continue
            accuracy_env = max(abs(hs[i] - rs[i]) for i in seen if i < len(rs))
            rows = result.evaluated_rows.get(name.replace("_accuracy", ""), 0)
            allowed = rule.factor * accuracy_env + (rule.accuracy_rows / rows if rows else 0)
            if abs(hs[e] - ks[e]) > allowed + 1e-12:
                return Crossing(end, f"{name.replace('_', ' ')} after epoch {e + 1}: "
                                     f"|handrolled - keras| = {100 * abs(hs[e] - ks[e]):.2f} "
                                     f"points > {100 * allowed:.2f}")
    return None


def _final_crossing(rule: RoundoffRule, result, horizon: int) -> Crossing | None:
    """Every final tensor (weights, moving statistics, optimizer slots) and the step count."""
    steps = result.epochs * result.steps_per_epoch
    if horizon < steps:
        return None
    for name, ok, reason in _final_pairs(rule, result, envelope=True):
        if not ok:
            return Crossing(steps, f"final {name}: {reason}")
    return None


def _final_pairs(rule: RoundoffRule, result, envelope: bool):
    """(name, inside, why) per final tensor: |h - k| against the envelope's |h - r|
    times the factor (envelope=True) or against the floor alone (False).

    With the envelope, a tensor is also allowed the largest *relative* round-off
    growth any final tensor showed in the envelope run (growth = max |h - r| /
    max(max |h|, 1)), times its own size and the factor: round-off spreads through
    every tensor a step touches, and reversing the rows happens to perturb some
    tensors (a BatchNormalization scale, say) far less than Keras' own order of
    reductions does (measured: book-ch19-cnn, 2 Adam steps in float64, gamma
    3.1e-14 apart against its own envelope 1.3e-15, while the envelope's largest
    relative growth was 2e-12).  A bug in one tensor still shows: it moves that
    tensor by far more than the run's round-off (1e-12 in a float64 run that is
    not chaotic)."""
    eps = np.finfo(rule.dtype).eps
    H, K, R = result.handrolled, result.keras, result.roundoff
    rows = []  # (name, d, size, env) of every numeric final tensor
    for part in ("weights", "state", "optimizer_state"):
        h, k = getattr(H, part), getattr(K, part)
        r = getattr(R, part) if R is not None else h
        for name in sorted(set(h) | set(k)):
            if name not in h or name not in k:
                yield name, False, "present on one side only"
                continue
            if name == "iterations":
                yield name, h[name] == k[name], f"{h[name]} and {k[name]} steps"
                continue
            hv, kv = np.asarray(h[name], dtype=np.float64), np.asarray(k[name], dtype=np.float64)
            d = float(np.max(np.abs(hv - kv), initial=0.0))
            size = float(np.max(np.abs(hv), initial=0.0))
            env = float(np.max(np.abs(hv - np.asarray(r[name], dtype=np.float64)),
                               initial=0.0)) if envelope and name in r else 0.0
            rows.append((name, d, size, env))
    growth = max((env / max(size, 1.0) for _, _, size, env in rows), default=0.0)
    for name, d, size, env in rows:
        floor = rule.floor_ulps * eps * size
        band = max(rule.factor * env, rule.factor * growth * max(size, 1.0), floor)
        yield name, d <= band, (f"|handrolled - keras| = {d:.3g} > {band:.3g} (round-off "
                                f"envelope {env:.3g}, the run's relative round-off growth "
                                f"{growth:.3g})")
