"""The report's and the sweep's pictures read at a glance: checked on the matplotlib
objects (tick labels, legends, line styles, axis limits, bar colours), from a small
hand-made results dictionary (no training)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import same_color

from compare.gradient_table import gradient_rows_table
from compare.report import plots
from compare.sweep import summary as sweep_summary

EPOCHS, STEPS = 5, 4  # 20 steps: matplotlib's default ticks for 1..5 would be 1, 1.5, ... 5


def training() -> dict:
    rng = np.random.default_rng(0)
    steps = [list(2 - 0.1 * np.arange(e * STEPS, (e + 1) * STEPS)) for e in range(EPOCHS)]

    def side(shift):
        return {"loss": [1.5 - 0.2 * e + shift for e in range(EPOCHS)],
                "step_loss": [[v + shift for v in epoch] for epoch in steps],
                "train_accuracy": [0.6 + 0.05 * e for e in range(EPOCHS)],
                "test_accuracy": [0.55 + 0.05 * e for e in range(EPOCHS)],
                "runtime": {"first_epoch_seconds": 0.3, "steady_epoch_seconds": 0.1}}

    return {"handrolled": side(0.0), "keras": side(4.4e-16), "verdict": "identical",
            "roundoff": {"step_loss": [[v + 4.4e-16 for v in epoch] for epoch in steps],
                         "band": list(1e-14 * (1 + rng.random(EPOCHS * STEPS)))}}


def row(layer, param, rel=1e-15, limit=1e-12, fd=1e-9, agree=True) -> dict:
    return {"layer": layer, "param": param, "shape": [3, 4], "max_abs_diff": rel,
            "max_rel_diff": rel, "limit": limit, "fd_max_rel_diff": fd, "fd_kinks": 0,
            "agree": agree}


def gradients() -> dict:
    """Twelve tensors of a batch-norm network; batchnorm2/gamma is over the tolerance
    (1e-12) but within its own round-off limit ("yes"), conv3/bias over its limit and
    dense4/bias over the finite-difference limit ("NO")."""
    rows = [row(layer, param) for layer, params in
            [("dense1", ("kernel", "bias")), ("batchnorm2", ("gamma", "beta")),
             ("conv3", ("kernel", "bias")), ("dense4", ("kernel", "bias")),
             ("batchnorm5", ("gamma", "beta")), ("dense6", ("kernel", "bias"))]
            for param in params]
    rows[2].update(max_rel_diff=5e-12, limit=1e-10)
    rows[5].update(max_rel_diff=1e-9, limit=1e-11, agree=False)
    rows[7].update(fd_max_rel_diff=3e-6, agree=False)
    return {"gradients": rows, "dtype": "float64",
            "tolerance": {"dtype": "float64", "rtol": 1e-12, "fd_rtol": 1e-6}}


def drawn(figure):
    FigureCanvasAgg(figure).draw()
    return figure


def overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def labels_touch(ax) -> bool:
    """Whether two neighbouring x tick labels touch: level ones by their boxes, rotated
    ones (parallel lines of text) when their baselines are closer than a line's height."""
    labels = ax.get_xticklabels()
    for a, b in zip(labels, labels[1:]):
        angle = np.radians(a.get_rotation())
        if angle == 0:
            if overlap(a.get_window_extent(), b.get_window_extent()):
                return True
            continue
        gap = abs(ax.transData.transform((b.get_position()[0], 0))[0]
                  - ax.transData.transform((a.get_position()[0], 0))[0])
        if gap * np.sin(angle) < a.get_fontsize() * ax.figure.dpi / 72:
            return True
    return False


def test_gradient_tick_labels_are_rotated_and_never_touch(figures):
    ax = figures["gradients"].axes[0]
    labels = ax.get_xticklabels()
    assert [t.get_text() for t in labels[:3]] == ["dense1/kernel", "dense1/bias",
                                                    "batchnorm2/gamma"]
    assert all(t.get_rotation() > 0 for t in labels) and not labels_touch(ax)


def test_twin_level_labels_of_twelve_tensors_touch():
    ax = plots.gradient_figure(gradients()).axes[0]
    ax.set_xticks(ax.get_xticks(), [f"{t.get_text()}_long" for t in ax.get_xticklabels()],
                  rotation=0)
    drawn(ax.figure)
    assert labels_touch(ax)


FIGURES = {"gradients": lambda: plots.gradient_figure(gradients()),
           "loss": lambda: plots.loss_figure(training()),
           "accuracy": lambda: plots.accuracy_figure(training()),
           "runtime": lambda: plots.runtime_figure(training()),
           "sweep": lambda: sweep_summary.figure(
               [{"activation": a, "depth": 1, "handrolled_mean": 0.9, "handrolled_std": 0.01,
                 "keras_mean": 0.9} for a in ("relu", "tanh", "sigmoid")])}


@pytest.fixture(scope="module")
def figures():
    """Each figure built and drawn once (drawing is the slow part)."""
    return {name: drawn(build()) for name, build in FIGURES.items()}


@pytest.mark.parametrize("name", FIGURES)
def test_every_legend_sits_outside_its_axes_in_a_readable_size(figures, name):
    figure = figures[name]
    legends = [(ax, ax.get_legend()) for ax in figure.axes if ax.get_legend()]
    assert legends
    for ax, legend in legends:
        assert not overlap(legend.get_window_extent(), ax.get_window_extent())
        assert all(text.get_fontsize() >= 9 for text in legend.get_texts())


def red_rows(ax) -> set[int]:
    """The x positions (rows) of the bars drawn red."""
    return {round(bar.get_x() + bar.get_width() / 2) for bar in ax.patches
            if same_color(bar.get_facecolor(), plots.OVER) and np.isfinite(bar.get_x())}


def test_a_bar_is_red_exactly_where_the_table_says_no():
    data = gradients()
    ax = plots.gradient_figure(data).axes[0]
    table = gradient_rows_table(data["gradients"]).splitlines()[2:]
    said_no = {i for i, line in enumerate(table) if line.rstrip().endswith("NO")}
    assert said_no == {5, 7} == red_rows(ax)
    assert {i for i, t in enumerate(ax.get_xticklabels())
            if same_color(t.get_color(), plots.OVER)} == said_no
    # batchnorm2/gamma: over the tolerance line but under its own limit, which is drawn
    (limits,) = [line for line in ax.get_lines() if line.get_marker() == "_"]
    assert limits.get_ydata()[2] == 1e-10 and 2 not in red_rows(ax)


def test_the_difference_and_its_envelope_differ_in_style_and_the_difference_is_on_top(figures):
    ax = figures["loss"].axes[2]
    lines = {line.get_label(): line for line in ax.get_lines()}
    difference = lines["|handrolled - keras| (largest so far)"]
    envelope = lines["round-off envelope: rows reversed (largest so far)"]
    # in this run the two are equal at every step: both must still show
    assert np.allclose(difference.get_ydata(), envelope.get_ydata())
    assert difference.get_linestyle() != envelope.get_linestyle()
    assert envelope.get_linewidth() > difference.get_linewidth()
    assert difference.get_zorder() > envelope.get_zorder()


@pytest.mark.parametrize("name", ["loss", "accuracy"])
def test_epoch_and_step_ticks_are_whole_numbers(figures, name):
    for ax in figures[name].axes:
        if ax.get_xlabel() in ("epoch", "step"):
            low, high = ax.get_xlim()
            ticks = [t for t in ax.get_xticks() if low <= t <= high]
            assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks


@pytest.mark.parametrize("name", ["accuracy", "sweep"])
def test_accuracy_axes_run_from_0_to_100(figures, name):
    for ax in figures[name].axes:
        assert ax.get_ylim() == (0, 100)
