"""The report's figures, as PNG bytes, from the results dictionary.

matplotlib's object API (`Figure`, no pyplot): nothing global is touched and
the Agg renderer is used whatever the user's default backend is.  Hand-written
is drawn as a solid line, Keras as dashed markers on top, so two curves that
agree look like one line with markers on it.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

STYLE = {"handrolled": dict(color="tab:blue", linestyle="-", label="handrolled"),
         "keras": dict(color="tab:orange", linestyle="--", marker=".", label="keras")}
SMALLEST = 1e-18  # a difference of exactly 0 is drawn here on log axes


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _floats(values) -> np.ndarray:
    """JSON lists may hold None (NaN/inf were written as null)."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def loss_plot(training: dict) -> bytes:
    """Loss per epoch and per step for both sides, and their difference per step."""
    figure = Figure(figsize=(14, 4.4), layout="constrained")
    epochs_ax, steps_ax, diff_ax = figure.subplots(1, 3)
    steps = {}
    for side in ("handrolled", "keras"):
        history = training[side]
        loss = _floats(history["loss"])
        epochs_ax.plot(np.arange(1, len(loss) + 1), loss, **STYLE[side])
        steps[side] = _floats([v for epoch in history["step_loss"] for v in epoch])
        steps_ax.plot(np.arange(1, len(steps[side]) + 1), steps[side],
                      **dict(STYLE[side], marker=None))
    difference_vs_envelope(diff_ax, training, steps)
    epochs_ax.set(title="training-set loss after each epoch", xlabel="epoch", ylabel="loss")
    steps_ax.set(title="training loss of every step", xlabel="step", ylabel="loss")
    for ax in (epochs_ax, steps_ax):
        ax.legend()
    return _png(figure)


def difference_vs_envelope(ax, training: dict, steps: dict) -> None:
    """|handrolled - keras| per step on log axes, over the round-off envelope
    (a side against itself with each batch's rows reversed) and the band the
    verdict allows (compare/training/verdict.py).  Thin lines: every step (a
    difference of exactly 0 is not drawn); thick lines: the largest so far."""
    common = min(len(steps["handrolled"]), len(steps["keras"]))
    curves = {"|handrolled - keras|": (np.abs(steps["handrolled"][:common]
                                               - steps["keras"][:common]), "tab:green")}
    roundoff = training.get("roundoff")
    if roundoff:
        mine = _floats([v for epoch in roundoff["step_loss"] for v in epoch])
        n = min(common, len(mine))
        curves["round-off envelope: rows reversed"] = (
            np.abs(steps["handrolled"][:n] - mine[:n]), "tab:gray")
    for label, (values, color) in curves.items():
        x = np.arange(1, len(values) + 1)
        ax.semilogy(x, np.where(values > 0, values, np.nan), color=color, linewidth=0.4,
                    alpha=0.35)
        largest = np.fmax.accumulate(np.where(np.isfinite(values), values, np.nan))
        ax.semilogy(x, np.where(largest > 0, largest, np.nan), color=color, linewidth=1.6,
                    label=f"{label} (largest so far)")
    if roundoff:
        band = _floats(roundoff["band"])
        ax.semilogy(np.arange(1, len(band) + 1), band, color="tab:red", linestyle=":",
                    label="band the verdict allows")
    outcome = training.get("outcome") or {}
    if outcome.get("step"):
        ax.axvline(outcome["step"], color="black", linewidth=0.6)
    ax.set(title=f"loss difference per step: {training['verdict'].split(':')[0]}",
           xlabel="step", ylabel="|difference| (log scale)")
    ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.18))


def accuracy_plot(training: dict) -> bytes:
    """Accuracy per epoch on every evaluated set, both sides."""
    sets = [name for name in ("train_accuracy", "validation_accuracy", "test_accuracy")
            if training["handrolled"].get(name)]
    figure = Figure(figsize=(4 * len(sets), 3.6))
    for ax, name in zip(np.atleast_1d(figure.subplots(1, len(sets))), sets):
        for side in ("handrolled", "keras"):
            acc = 100 * _floats(training[side].get(name, []))
            ax.plot(np.arange(1, len(acc) + 1), acc, **STYLE[side])
        ax.set(title=name.replace("_", " "), xlabel="epoch", ylabel="%")
        ax.legend()
    return _png(figure)


def gradient_plot(gradients: dict) -> bytes:
    """Max relative difference per parameter tensor: vs Keras and vs finite differences."""
    rows = gradients["gradients"]
    names = [f"{row['param']}{row['layer']}" for row in rows]
    x = np.arange(len(rows))
    keras = np.maximum([row["max_rel_diff"] for row in rows], SMALLEST)
    fd = np.array([np.nan if row["fd_max_rel_diff"] is None else max(row["fd_max_rel_diff"],
                                                                       SMALLEST) for row in rows])
    figure = Figure(figsize=(max(5, 1.2 * len(rows)), 3.6))
    ax = figure.subplots()
    ax.bar(x - 0.2, keras, width=0.4, label="handrolled vs keras", color="tab:orange")
    ax.bar(x + 0.2, fd, width=0.4, label="handrolled vs finite differences", color="tab:gray")
    tol = gradients["tolerance"]
    ax.axhline(tol["rtol"], color="tab:orange", linestyle=":", label="tolerance vs keras")
    ax.axhline(tol["fd_rtol"], color="tab:gray", linestyle=":", label="tolerance vs fd")
    ax.set_yscale("log")
    ax.set_xticks(x, names)
    ax.set(title=f"gradient differences per tensor ({gradients['dtype']}; 0 drawn at "
                 f"{SMALLEST:g})", ylabel="max relative difference")
    ax.legend(fontsize="small")
    return _png(figure)


def runtime_plot(training: dict) -> bytes:
    """First and steady-state epoch seconds for each implementation."""
    sides = ("handrolled", "keras")
    first = [training[s]["runtime"]["first_epoch_seconds"] or 0.0 for s in sides]
    steady = [training[s]["runtime"]["steady_epoch_seconds"] or 0.0 for s in sides]
    figure = Figure(figsize=(6, 3.6))
    ax = figure.subplots()
    x = np.arange(len(sides))
    ax.bar(x - 0.2, first, width=0.4, label="first epoch", color="tab:gray")
    ax.bar(x + 0.2, steady, width=0.4, label="steady epoch (median)", color="tab:blue")
    ax.set_xticks(x, sides)
    ax.set(title="seconds per epoch (lower is faster)", ylabel="seconds")
    ax.legend()
    return _png(figure)


def all_plots(results: dict) -> dict[str, bytes]:
    """File name -> PNG bytes for every figure that the results support."""
    training = results["training"]
    plots = {"loss.png": loss_plot(training), "accuracy.png": accuracy_plot(training)}
    if "gradients" in results:
        plots["gradients.png"] = gradient_plot(results["gradients"])
    plots["runtime.png"] = runtime_plot(training)
    return plots
