"""The check's text report: a table per layer and parameter, localisation, diagnosis,
activation statistics, verdict.  `CheckResult.to_dict` is the JSON form."""

from __future__ import annotations

import textwrap

from tabulate import tabulate

from ..output import fmt
from ..gradient_table import finite_differences_ran, gradient_rows_table
from .objective import describe_network
from .runner import CheckResult
from .text import WIDTH, item, wrap



def format_report(result: CheckResult) -> str:
    target, spec = result.target, result.target.spec
    objective = result.objective or target.objective
    parts = [wrap(f"Check: {target.path.name}  ({describe_network(spec, objective)}, layout "
                  f"{target.layout}; {result.data}, seed {result.seed}; book-style weights)"),
             textwrap.fill(f"loss: {objective.describe()}" + (
                 " (as found below, not as declared)" if result.conventions else ""),
                 width=WIDTH, subsequent_indent="  "),
             _forward_line(result),
             "Gradients, your code vs keras, in backprop order (output layer first):",
             _gradient_table(result),
             "tolerance " + result.tolerance.describe(finite_differences_ran(result.rows))
             .replace("handrolled", "yours"),
             textwrap.fill(_localisation(result), width=WIDTH, subsequent_indent="  ")]
    if result.conventions:
        parts.append("Conventions (not bugs):")
        parts += [item(f"{c.name}: {c.message}") for c in result.conventions]
    findings = result.diagnosis.findings
    if findings:
        parts.append("Diagnosis:")
        parts += [item(f"layer {f.layer}: {f.label}: {f.message}") for f in findings]
        layers = [f.layer for f in findings]
        if len(set(layers)) < len(layers):
            parts.append(item("(where one layer has several matches, they give identical "
                               "numbers on this batch; each is a way to get them)"))
    if result.unexplained:
        parts.append(f"Layer {result.diagnosis.unexplained}, not diagnosed:")
        parts += [item(sentence) for sentence in result.unexplained]
    if result.notes:
        parts.append("Notes:")
        parts += [item(note) for note in result.notes]
    if result.stats:
        parts.append(stats_table(result))
    parts.append(f"verdict: {'AGREE' if result.agree else 'DISAGREE'}")
    return "\n".join(parts)


def _forward_line(result: CheckResult) -> str:
    row = result.forward
    if row is None:
        return "forward: not defined in the target, so not compared"
    verdict = "agrees" if row.agree else "DISAGREES"
    return (f"forward: your probabilities vs keras: max abs diff {fmt(row.max_abs_diff)}, "
            f"max rel diff {fmt(row.max_rel_diff)}: {verdict}")


def _gradient_table(result: CheckResult) -> str:
    rows = sorted(result.rows, key=lambda r: (-r.layer, r.param != "W"))
    return gradient_rows_table(rows, fd_header="fd rel diff (your forward)")


def _localisation(result: CheckResult) -> str:
    first = result.first_mismatch
    if first is None:
        if result.forward is not None and not result.forward.agree:
            return "first mismatch: the forward pass (the gradients agree)"
        return "first mismatch: none"
    line = (f"first mismatch, counting back from the output: layer {first.layer}, "
            f"{first.param}{first.layer}")
    if result.forward is None:
        return line + " (forward pass not compared: no forward() in the target)"
    if result.forward.agree and first.layer == max(row.layer for row in result.rows):
        return line + ("; the forward pass agrees, and this is the output layer, where "
                       "backprop starts, so the bug is in its delta (the loss' derivative "
                       "through the output activation) or in how its gradients are formed")
    if result.forward.agree:
        return line + ("; the forward pass agrees, and every layer above is right, so the "
                       "bug is in how backprop reaches this layer")
    return line + "; the forward pass already DISAGREES"


def stats_table(result: CheckResult) -> str:
    table = [[s.layer, s.activation, _pct(s.zero_preactivations), _pct(s.dead_units),
              _pct(s.saturated), _pct(s.derivative_zero), _pct(s.derivative_one),
              "behaves as a linear layer" if s.behaves_linear else ""]
             for s in result.stats]
    headers = ["layer", "activation", "z == 0", "dead units", "saturated",
               "your f' == 0", "your f' == 1", "note"]
    return ("Activation statistics (hidden layers, on the check batch):\n"
            + tabulate(table, headers=headers, tablefmt="simple", disable_numparse=True))


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"
