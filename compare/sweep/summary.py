"""The sweep's table (mean +- std over seeds, per implementation) and its plot."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from tabulate import tabulate

from ..output import write_atomic


def summarize(rows: list[dict], activations: list[str], depths: list[int]) -> list[dict]:
    """One entry per (activation, depth) that has rows, in the order they were asked for."""
    out = []
    for depth in depths:
        for activation in activations:
            group = [r for r in rows if r["activation"] == activation and r["depth"] == depth]
            if not group:
                continue
            h = _accuracies(group, "handrolled_accuracy")
            k = _accuracies(group, "keras_accuracy")
            diffs = [abs(a - b) for a, b in zip(h, k)]
            out.append({
                "activation": activation, "depth": depth, "lr": group[0]["lr"],
                "seeds": len(group), "handrolled_mean": _mean(h), "handrolled_std": _std(h),
                "keras_mean": _mean(k), "keras_std": _std(k),
                "max_accuracy_diff": max(diffs) if len(diffs) == len(group) else None,
                "agree": sum(bool(r["agree"]) for r in group),
                "seconds": float(np.mean([r["seconds"] for r in group])),
                "handrolled_seconds": float(np.mean([r["handrolled_seconds"] for r in group])),
                "keras_seconds": float(np.mean([r["keras_seconds"] for r in group])),
                "evaluation": group[0].get("evaluation")})
    return out


def _accuracies(group, key):
    return [r[key] for r in group if r[key] is not None]


def _mean(values):
    return float(np.mean(values)) if values else None


def _std(values):
    return float(np.std(values)) if values else None  # population std over the seeds


def _pct(mean, std):
    return "-" if mean is None else f"{100 * mean:.2f} ± {100 * std:.2f}"


def table(summary: list[dict], tablefmt: str = "simple") -> str:
    body = [[s["activation"], s["depth"], f"{s['lr']:g}", _pct(s["handrolled_mean"],
             s["handrolled_std"]), _pct(s["keras_mean"], s["keras_std"]),
             "-" if s["max_accuracy_diff"] is None else f"{100 * s['max_accuracy_diff']:.2f}",
             f"{s['agree']}/{s['seeds']}",
             f"{s['handrolled_seconds']:.2f} / {s['keras_seconds']:.2f}"] for s in summary]
    # two-line headers: the table fits 120 columns with the longest activation texts
    headers = ["activation", "depth", "lr", "handrolled\nacc %", "keras\nacc %",
               "max |diff|\npoints", "agree", "seconds\nhand / keras"]
    text = tabulate(body, headers=headers, tablefmt=tablefmt, disable_numparse=True)
    if any(s["evaluation"] for s in summary):
        text += ("\nstochastic layers are evaluated with "
                 + next(s["evaluation"] for s in summary if s["evaluation"]))
    return text


def figure(summary: list[dict]):
    """Test accuracy per activation, one group of bars per depth, std as error bars; the
    accuracy axis runs from 0 to 100 % (a shorter axis makes small gaps look large), the
    legend sits beside the axes."""
    from matplotlib.figure import Figure

    activations = list(dict.fromkeys(s["activation"] for s in summary))
    depths = sorted({s["depth"] for s in summary})
    width = 0.8 / max(len(depths), 1)
    fig = Figure(figsize=(max(6, 1.1 * len(activations)) + 2.5, 4.5), layout="constrained")
    ax = fig.subplots()
    for i, depth in enumerate(depths):
        cells = {s["activation"]: s for s in summary if s["depth"] == depth}
        x = np.array([j + (i - (len(depths) - 1) / 2) * width
                      for j, a in enumerate(activations) if a in cells])
        hs = [cells[a] for a in activations if a in cells]
        ax.bar(x, [100 * (s["handrolled_mean"] or 0) for s in hs], width,
               yerr=[100 * (s["handrolled_std"] or 0) for s in hs], capsize=3,
               label=f"{depth} hidden layer{'s' if depth > 1 else ''} (handrolled)")
        ax.plot(x, [100 * (s["keras_mean"] or 0) for s in hs], linestyle="none", marker="D",
                markersize=6, markerfacecolor="white", markeredgecolor="black", zorder=3,
                label="keras (mean)" if i == 0 else None)
    ax.set_xticks(range(len(activations)), activations, rotation=30, ha="right",
                  rotation_mode="anchor")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Activation sweep: mean over seeds, ± std")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0, frameon=False)
    ax.set_ylim(0, 100)
    return fig


def plot(summary: list[dict], path: Path) -> Path:
    """The figure as a PNG at `path`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = figure(summary)
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    return write_atomic(path, buffer.getvalue())  # atomic, like every other output
