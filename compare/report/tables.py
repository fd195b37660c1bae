"""The report's tables, built from the results dictionary (results.json).

Working from the dictionary, not from live objects, means the terminal, the
Markdown and the HTML show the same numbers, and a report can be rebuilt from
a results.json alone.  `tablefmt` is tabulate's: "simple" for the terminal,
"github" for Markdown, "html" for HTML.
"""

from __future__ import annotations

from tabulate import tabulate

from ..output import fmt
from ..threads import ThreadPolicy
from ..training.runtime import timing_warnings
from ..gradient_table import gradient_rows_table

SIDES = ("handrolled", "keras")


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _seconds(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _loss(value) -> str:
    return "-" if value is None else f"{value:.10f}"


def _cell(values: list, epoch: int):
    return values[epoch] if epoch < len(values) else None


def saved_gradient_table(gradients: dict, tablefmt: str = "simple") -> str:
    """The rows of results.json's "gradients" section as a table (the report is written
    from that dict; compare/gradient_table.py's `gradient_table` prints a live result,
    with its header and verdict)."""
    return gradient_rows_table(gradients["gradients"], tablefmt)


def training_table(training: dict, tablefmt: str = "simple") -> str:
    """One row per epoch: loss and accuracies of both sides, the loss difference after
    the epoch, and over the epoch's steps the largest |handrolled - keras| beside the
    round-off band it is judged against (compare/training/verdict.py).  On the console
    ("simple") the headers take two lines, so that the table fits 120 columns."""
    h, k = training["handrolled"], training["keras"]
    accuracies = {"train_accuracy": "train", "test_accuracy": "test"}
    if "validation_accuracy" in h or "validation_accuracy" in k:
        accuracies["validation_accuracy"] = "val"
    headers = ["epoch", "loss\nhandrolled", "loss\nkeras", "abs\ndiff", "max step\ndiff",
               "round-off\nband"]
    headers += [f"{short}\n{side} %" for short in accuracies.values() for side in "hk"]
    if tablefmt != "simple":  # one line: 'train acc % h'
        headers = [header.replace("\n", " ").replace(" h %", " acc % h")
                   .replace(" k %", " acc % k") for header in headers]
    step_diffs, bands = _per_epoch_steps(training)
    rows = []
    for epoch in range(max(len(h["loss"]), len(k["loss"]))):
        lh, lk = _cell(h["loss"], epoch), _cell(k["loss"], epoch)
        diff = fmt(abs(lh - lk)) if lh is not None and lk is not None else "-"
        row = [epoch + 1, _loss(lh), _loss(lk), diff, _max_fmt(_cell(step_diffs, epoch)),
               _max_fmt(_cell(bands, epoch))]
        for name in accuracies:
            row += [_percent(_cell(side.get(name, []), epoch)) for side in (h, k)]
        rows.append(row)
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def _per_epoch_steps(training: dict) -> tuple[list, list]:
    """Per epoch, |handrolled - keras| of each step and the round-off band of each
    step (results.json lists: NaN/inf were written as null)."""
    steps = [[float("nan") if v is None else v for v in losses]
             for losses in training["handrolled"]["step_loss"]]
    others = [[float("nan") if v is None else v for v in losses]
              for losses in training["keras"]["step_loss"]]
    diffs = [[abs(a - b) for a, b in zip(x, y)] for x, y in zip(steps, others)]
    band = (training.get("roundoff") or {}).get("band", [])
    per_epoch = training["steps_per_epoch"]
    bands = [band[start:start + per_epoch] for start in range(0, len(band), per_epoch)]
    return diffs, bands


def _max_fmt(values) -> str:
    if not values:
        return "-"
    return fmt(max(values, key=lambda v: float("inf") if v != v else v))


def _keras_ratio(roundoff: dict) -> str:
    """', the hand-written one times N (...)' where Keras' round-off widened the envelope."""
    ratio = roundoff.get("keras_ratio", 1.0)
    return (f", the hand-written one times {ratio:.3g}: Keras' round-off on step 1's "
            f"gradients, as many times ours" if ratio > 1 else "")


def training_summary(training: dict) -> list[str]:
    """The lines under the training table: differences, the round-off envelope, divergence."""
    roundoff = training.get("roundoff") or {}
    lines = [
        f"max loss diff (every step and epoch): {fmt(training['max_loss_diff'])}; round-off "
        f"envelope ({'each side' if roundoff.get('keras_sample') else 'handrolled'} vs itself "
        f"with each batch's rows reversed{_keras_ratio(roundoff)}): "
        f"{fmt(training.get('max_roundoff_envelope'))}",
        f"max accuracy diff: {100 * _none_inf(training['max_accuracy_diff']):.2f} points; "
        f"final test accuracy diff {100 * _none_inf(training['final_accuracy_diff']):.2f} points",
        f"max final weight diff: {fmt(training['max_weight_diff'])}; round-off envelope "
        f"{fmt(roundoff.get('max_weight_diff'))}",
    ]
    if roundoff.get("rule"):
        rule = roundoff["rule"]
        lines.append(f"rule ({rule['dtype']}): every difference at step t inside max("
                     f"{rule['factor']:g} x its round-off envelope up to step t + "
                     f"{rule['onset_lag']} + {rule['lead_fraction']:g} t, {rule['floor_ulps']:g} eps "
                     f"x max(|value|, 1)); once the difference takes off (no earlier than "
                     f"1/{rule['onset_ratio']:g} of the envelope's take-off step) it may grow as "
                     f"the envelope grew after its own; accuracies may also differ by "
                     f"{rule['accuracy_rows']} rows")
    if training.get("max_state_diff") is not None:
        lines.append(f"max final moving-statistics diff: {fmt(training['max_state_diff'])}")
    if training.get("optimizer"):
        applied = ", ".join(f"{k}={v}" for k, v in training.get("optimizer_applied", {}).items())
        lines.append(f"optimizer: {training['optimizer']} (as applied: {applied}); max "
                     f"optimizer-state diff: {fmt(training.get('max_optimizer_state_diff'))}")
    peak = training.get("peak_memory_mb") or {}
    if peak.get("run") is not None and peak.get("keras_process") is not None:
        # Keras ran in a process of its own (compare/training/keras_process.py)
        children = [f"Keras' process {peak['keras_process']:,.0f} MB"]
        if peak.get("keras_sample_process") is not None:
            children.append(f"its round-off sample's {peak['keras_sample_process']:,.0f} MB")
        lines.append(f"peak resident memory (ru_maxrss), one process after the other: this "
                     f"process {peak['run']:,.0f} MB (after the handrolled run "
                     f"{peak['handrolled']:,.0f} MB), {', '.join(children)}")
    elif peak.get("run") is not None:
        sides = ", ".join(f"after the {side} run {peak[side]:,.0f} MB" for side in SIDES
                          if peak.get(side) is not None)
        lines.append(f"peak resident memory of the process (ru_maxrss): {peak['run']:,.0f} MB"
                     + (f" ({sides})" if sides else ""))
    modes = training.get("modes")
    if modes:
        lines.append(f"modes ({', '.join(modes['layers'])}): training mode for "
                     f"{modes['training mode']}; inference mode for {modes['inference mode']}")
    for side in SIDES:
        if training[side]["diverged"]:
            d = training[side]["diverged"]
            where = f"epoch {d['epoch']}, step {d['step']}" if d["step"] else \
                f"end of epoch {d['epoch']}"
            lines.append(f"blew up: {side} loss became {d['value']} at {where}")
    return lines


def _none_inf(value) -> float:
    return float("inf") if value is None else value


def runtime_table(training: dict, tablefmt: str = "simple") -> str:
    """Per implementation: first epoch, steady epoch, step, samples/s; then the ratio."""
    headers = ["implementation", "first epoch s", "steady epoch s", "step ms", "samples/s",
               "total s"]
    rows = []
    for side in SIDES:
        r = training[side]["runtime"]
        rows.append([side, _seconds(r["first_epoch_seconds"]), _seconds(r["steady_epoch_seconds"]),
                     _seconds(r["step_seconds"] and 1000 * r["step_seconds"]),
                     "-" if r["samples_per_second"] is None else f"{r['samples_per_second']:,.0f}",
                     _seconds(r["total_seconds"])])
    ratio = training["runtime_ratio"]
    rows.append(["ratio handrolled/keras", _ratio(ratio["first_epoch_seconds"]),
                 _ratio(ratio["steady_epoch_seconds"]), _ratio(ratio["step_seconds"]),
                 _ratio(ratio["steady_epoch_seconds"] and 1 / ratio["steady_epoch_seconds"]),
                 ""])
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def _ratio(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def runtime_notes(training: dict) -> list[str]:
    """How the times were taken, with the measured cost of each Keras fit call's set-up."""
    keras = training["keras"]
    loop = training.get("handrolled_loop")
    loop_note = f" ({loop} loop)" if loop else ""
    lines = [f"epoch time: handrolled = the hand-written epoch{loop_note}; keras = the epoch inside "
             "model.fit (on_epoch_begin to on_epoch_end) plus gathering the epoch's rows; "
             "evaluation is not timed; first epoch apart (Keras traces its graph there), "
             "steady = median of the later epochs"]
    calls, epochs = keras.get("fit_call_seconds") or [], keras["epoch_seconds"]
    if calls:
        overhead = sorted(c - e for c, e in zip(calls, epochs))
        lines.append(f"keras: each fit call (one per epoch here) spends a further "
                     f"{overhead[len(overhead) // 2]:.3f} s (median) setting up, not counted "
                     f"above; a single fit(epochs=N) pays it once")
    threads = training.get("threads")
    if threads:
        lines.append(f"threads: {ThreadPolicy.from_dict(threads).describe()}")
    return lines + timing_warnings({side: training[side]["epoch_seconds"] for side in SIDES},
                                   training.get("load_average"))
