"""The report's figures, as PNG bytes, from the results dictionary.

matplotlib's object API (`Figure`, no pyplot): nothing global is touched and
the Agg renderer is used whatever the user's default backend is.  Hand-written
is drawn as a solid line, Keras as dashed markers on top, so two curves that
agree look like one line with markers on it.

Each `*_figure` returns the matplotlib Figure (tests read its ticks, legends and
colours); each `*_plot` returns its PNG bytes.  Conventions that make them read at a
glance: legends outside the data, whole-number epoch and step ticks, tick labels
rotated so that they never touch, accuracy axes from 0 to 100 %, and in the
gradient plot a bar is red exactly where the table says "NO".
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

STYLE = {"handrolled": dict(color="tab:blue", linestyle="-", label="handrolled"),
         "keras": dict(color="tab:orange", linestyle="--", marker=".", label="keras")}
SMALLEST = 1e-18  # a difference of exactly 0 is drawn here on log axes
OVER = "tab:red"  # a bar over the limit its row is judged by: "NO" in the table
LEGEND = dict(fontsize="medium", frameon=False)


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _floats(values) -> np.ndarray:
    """JSON lists may hold None (NaN/inf were written as null)."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _whole_numbers(ax) -> None:
    """Epochs and steps are counted: no 2.5 on their axis."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _legend_right(ax) -> None:
    """The legend beside the axes, never over the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0, **LEGEND)


def _legend_below(ax) -> None:
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), borderaxespad=0, **LEGEND)


def loss_figure(training: dict) -> Figure:
    """Loss per epoch and per step for both sides, and their difference per step."""
    figure = Figure(figsize=(10, 9), layout="constrained")  # two rows: readable at 800 px
    axes = figure.subplot_mosaic([["epochs", "steps"], ["difference", "difference"]])
    epochs_ax, steps_ax, diff_ax = axes["epochs"], axes["steps"], axes["difference"]
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
    for ax in (epochs_ax, steps_ax, diff_ax):
        _whole_numbers(ax)
        _legend_below(ax)
    return figure


def loss_plot(training: dict) -> bytes:
    return _png(loss_figure(training))


# the difference on top, solid; the envelope beneath, wide, pale and dashed: where the two
# are equal both still show
DIFFERENCE = dict(color="tab:green", linestyle="-", linewidth=1.6, zorder=3)
ENVELOPE = dict(color="tab:gray", linestyle="--", linewidth=3.2, alpha=0.7, zorder=2)


def difference_vs_envelope(ax, training: dict, steps: dict) -> None:
    """|handrolled - keras| per step on log axes, over the round-off envelope
    (a side against itself with each batch's rows reversed) and the band the
    verdict allows (compare/training/verdict.py).  Thin lines: every step (a
    difference of exactly 0 is not drawn); thick lines: the largest so far."""
    common = min(len(steps["handrolled"]), len(steps["keras"]))
    curves = {"|handrolled - keras|": (np.abs(steps["handrolled"][:common]
                                               - steps["keras"][:common]), DIFFERENCE)}
    roundoff = training.get("roundoff")
    if roundoff:
        mine = _floats([v for epoch in roundoff["step_loss"] for v in epoch])
        n = min(common, len(mine))
        curves["round-off envelope: rows reversed"] = (
            np.abs(steps["handrolled"][:n] - mine[:n]), ENVELOPE)
    for label, (values, style) in curves.items():
        x = np.arange(1, len(values) + 1)
        ax.semilogy(x, np.where(values > 0, values, np.nan), color=style["color"],
                    linewidth=0.4, alpha=0.35, zorder=1)
        largest = np.fmax.accumulate(np.where(np.isfinite(values), values, np.nan))
        ax.semilogy(x, np.where(largest > 0, largest, np.nan), label=f"{label} (largest so far)",
                    **style)
    if roundoff:
        band = _floats(roundoff["band"])
        ax.semilogy(np.arange(1, len(band) + 1), band, color="tab:red", linestyle=":",
                    label="band the verdict allows")
    outcome = training.get("outcome") or {}
    if outcome.get("step"):
        ax.axvline(outcome["step"], color="black", linewidth=0.6)
    ax.set(title=f"loss difference per step: {training['verdict'].split(':')[0]}",
           xlabel="step", ylabel="|difference| (log scale)")


def accuracy_figure(training: dict) -> Figure:
    """Accuracy per epoch on every evaluated set, both sides, on axes from 0 to 100 %."""
    sets = [name for name in ("train_accuracy", "validation_accuracy", "test_accuracy")
            if training["handrolled"].get(name)]
    figure = Figure(figsize=(4 * len(sets), 4.2), layout="constrained")
    for ax, name in zip(np.atleast_1d(figure.subplots(1, len(sets))), sets):
        for side in ("handrolled", "keras"):
            acc = 100 * _floats(training[side].get(name, []))
            ax.plot(np.arange(1, len(acc) + 1), acc, **STYLE[side])
        ax.set(title=name.replace("_", " "), xlabel="epoch", ylabel="%", ylim=(0, 100))
        _whole_numbers(ax)
        _legend_below(ax)
    return figure


def accuracy_plot(training: dict) -> bytes:
    return _png(accuracy_figure(training))


def gradient_figure(gradients: dict) -> Figure:
    """Max relative difference per parameter tensor: vs Keras and vs finite differences.

    A row is judged against its own limit (compare/gradients.py: the tolerance, or
    more where the row's own round-off is larger), drawn as a black dash over its
    bar; a bar over its limit, and the tick of a row the table marks "NO", are red."""
    rows = gradients["gradients"]
    tol = gradients["tolerance"]
    names = [f"{row['layer']}/{row['param']}" for row in rows]
    x = np.arange(len(rows))
    keras = _floats([row["max_rel_diff"] for row in rows])
    limits = _floats([row.get("limit") or tol["rtol"] for row in rows])
    fd = _floats([row["fd_max_rel_diff"] for row in rows])
    over_keras = ~(keras <= limits)  # NaN is over
    over_fd = fd > tol["fd_rtol"]  # NaN: no finite-difference check (a kink)
    figure = Figure(figsize=(max(3.0, 0.8 * len(rows)) + 4, 4.2), layout="constrained")
    ax = figure.subplots()
    shown = np.where(np.isfinite(keras), np.maximum(keras, SMALLEST), np.nan)
    ax.bar(x - 0.2, shown, width=0.4, color=np.where(over_keras, OVER, "tab:orange"),
           label="handrolled vs keras")
    ax.plot(x - 0.2, limits, linestyle="none", marker="_", markersize=16, markeredgewidth=2,
            color="black", label="its limit (over it: NO)")
    ax.bar(x + 0.2, np.where(np.isfinite(fd), np.maximum(fd, SMALLEST), np.nan), width=0.4,
           color=np.where(over_fd, OVER, "tab:gray"), label="handrolled vs finite differences")
    ax.axhline(tol["fd_rtol"], color="tab:gray", linestyle=":",
               label="limit vs finite differences")
    if (over_keras | over_fd).any():
        ax.bar([np.nan], [np.nan], color=OVER, label="over its limit: NO in the table")
    ax.set_yscale("log")
    ax.set_xticks(x, names, rotation=35, ha="right", rotation_mode="anchor")
    for label, row in zip(ax.get_xticklabels(), rows):
        if not row["agree"]:
            label.set_color(OVER)
    ax.set(title=f"gradient differences per tensor ({gradients['dtype']}; 0 drawn at "
                 f"{SMALLEST:g})", ylabel="max relative difference")
    _legend_right(ax)
    return figure


def gradient_plot(gradients: dict) -> bytes:
    return _png(gradient_figure(gradients))


def runtime_figure(training: dict) -> Figure:
    """First and steady-state epoch seconds for each implementation."""
    sides = ("handrolled", "keras")
    first = [training[s]["runtime"]["first_epoch_seconds"] or 0.0 for s in sides]
    steady = [training[s]["runtime"]["steady_epoch_seconds"] or 0.0 for s in sides]
    figure = Figure(figsize=(7, 3.6), layout="constrained")
    ax = figure.subplots()
    x = np.arange(len(sides))
    ax.bar(x - 0.2, first, width=0.4, label="first epoch", color="tab:gray")
    ax.bar(x + 0.2, steady, width=0.4, label="steady epoch (median)", color="tab:blue")
    ax.set_xticks(x, sides)
    ax.set(title="seconds per epoch (lower is faster)", ylabel="seconds")
    _legend_right(ax)
    return figure


def runtime_plot(training: dict) -> bytes:
    return _png(runtime_figure(training))


def all_plots(results: dict) -> dict[str, bytes]:
    """File name -> PNG bytes for every figure that the results support."""
    training = results["training"]
    plots = {"loss.png": loss_plot(training), "accuracy.png": accuracy_plot(training)}
    if "gradients" in results:
        plots["gradients.png"] = gradient_plot(results["gradients"])
    plots["runtime.png"] = runtime_plot(training)
    return plots
