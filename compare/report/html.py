"""report.html: one self-contained page (plots embedded as base64 PNG, no outside files)."""

from __future__ import annotations

import base64
from html import escape

from . import tables
from .markdown import LOSS_NOTE, PLOT_TITLES, environment_rows, headline, optimizer_section

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
th { background: #f3f3f3; }
.agree { color: #1a7f37; } .disagree { color: #cf222e; }
img { max-width: 100%; border: 1px solid #eee; }
code { background: #f6f8fa; padding: 0 0.3em; }
"""


def _list(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"


def _image(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f"<h3>{escape(PLOT_TITLES.get(name, name))}</h3>"
            f'<img alt="{escape(name)}" src="data:image/png;base64,{data}">')


def render_html(results: dict, plots: dict[str, bytes]) -> str:
    training = results["training"]
    verdict_class = "agree" if results["agree"] else "disagree"
    lines = headline(results)
    body = [f'<h1>handrolled vs Keras: <span class="{verdict_class}">'
            f'{escape(results["verdict"])}</span></h1>', _list(lines)]
    if "gradients" in results:
        g = results["gradients"]
        body += ["<h2>Gradients on the first training batch</h2>",
                 tables.gradient_table(g, "html"),
                 _list([f"tolerance {g['tolerance']['dtype']}: vs keras relative <= "
                        f"{g['tolerance']['rtol']:g}, vs finite differences <= "
                        f"{g['tolerance']['fd_rtol']:g}",
                        f"verdict: {'AGREE' if g['agree'] else 'DISAGREE'}"])]
    body += ["<h2>Training side by side</h2>",
             f"<p>{escape(LOSS_NOTE)} "
             "Accuracies in percent, computed the same way for both (the class each side's "
             "logits give, in NumPy). h = handrolled, k = keras.</p>",
             tables.training_table(training, "html"), _list(tables.training_summary(training))]
    optimizer = optimizer_section(training)
    if optimizer:
        intro, equations = optimizer
        body += ["<h2>Optimizer</h2>", f"<p>{escape(intro.replace('`', ''))}</p>",
                 f"<pre>{escape(equations)}</pre>"]
    body += ["<h2>Runtime</h2>", tables.runtime_table(training, "html"),
             _list(tables.runtime_notes(training)), "<h2>Plots</h2>"]
    body += [_image(name, png) for name, png in plots.items()]
    env = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>"
                  for k, v in environment_rows(results))
    body += ["<h2>Environment</h2>", f"<table>{env}</table>"]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>handrolled vs Keras: {escape(training['network'])}</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
