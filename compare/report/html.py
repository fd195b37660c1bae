"""report.html: one self-contained page (plots embedded as base64 PNG, no outside files).

Every text is escaped (`_text`).  The page reads at 800 px as at 1400 px: each
table scrolls sideways inside its own box (`div.scroll`), a table cell never
wraps, and a word or number with a hyphen in it ("round-off", "8.88e-16",
"--epochs") is never split at the hyphen (`keep_whole`, `span.nw`); the reproduce command is
a code block that wraps only between its arguments.
"""

from __future__ import annotations

import base64
import re
from html import escape

from . import tables
from .markdown import LOSS_NOTE, PLOT_TITLES, environment_rows, headline, optimizer_section

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; }
div.scroll { max-width: 100%; overflow-x: auto; margin: 0.5em 0 1em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
td { white-space: nowrap; }
th { background: #f3f3f3; }
.nw { white-space: nowrap; }
table.environment td { white-space: normal; text-align: left; overflow-wrap: anywhere; }
.agree { color: #1a7f37; } .disagree { color: #cf222e; }
img { max-width: 100%; border: 1px solid #eee; }
code, pre { background: #f6f8fa; }
code { padding: 0 0.3em; }
pre code { padding: 0; }
pre { padding: 0.5em; overflow-x: auto; }
pre.command { white-space: pre-wrap; }
"""

# a run of characters with a hyphen in it and no space: "round-off", "8.88e-16", "--epochs"
HYPHENATED = re.compile(r"[^\s<>]*-[^\s<>]*")


def keep_whole(escaped: str) -> str:
    """Escaped text with each hyphenated word or number in a span that never wraps."""
    return HYPHENATED.sub(lambda m: f'<span class="nw">{m.group(0)}</span>', escaped)


def _text(text: str) -> str:
    return keep_whole(escape(text))


def _table(table_html: str) -> str:
    """tabulate's (escaped) HTML table in a box that scrolls sideways, its words kept whole."""
    kept = re.sub(r">([^<]+)<", lambda m: ">" + keep_whole(m.group(1)) + "<", table_html)
    return f'<div class="scroll">{kept}</div>'


def _list(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{_text(line)}</li>" for line in lines) + "</ul>"


def _image(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f"<h3>{_text(PLOT_TITLES.get(name, name))}</h3>"
            f'<img alt="{escape(name)}" src="data:image/png;base64,{data}">')


def _command(command: str) -> str:
    """The reproduce command: a code block that wraps between arguments only."""
    return ('<p>Reproduce:</p><pre class="command"><code>'
            + " ".join(f'<span class="nw">{escape(word)}</span>' for word in command.split())
            + "</code></pre>")


def render_html(results: dict, plots: dict[str, bytes]) -> str:
    training = results["training"]
    verdict_class = "agree" if results["agree"] else "disagree"
    lines = headline(results, command=False)
    body = [f'<h1>handrolled vs Keras: <span class="{verdict_class}">'
            f'{_text(results["verdict"])}</span></h1>', _list(lines),
            _command(results["command"])]
    if "gradients" in results:
        g = results["gradients"]
        body += ["<h2>Gradients on the first training batch</h2>",
                 _table(tables.saved_gradient_table(g, "html")),
                 _list([f"tolerance {g['tolerance']['dtype']}: vs keras relative <= "
                        f"{g['tolerance']['rtol']:g}, vs finite differences <= "
                        f"{g['tolerance']['fd_rtol']:g}",
                        f"verdict: {'AGREE' if g['agree'] else 'DISAGREE'}"])]
    body += ["<h2>Training side by side</h2>",
             f"<p>{_text(LOSS_NOTE)} "
             "Accuracies in percent, computed the same way for both (the class each side's "
             "logits give, in NumPy). h = handrolled, k = keras.</p>",
             _table(tables.training_table(training, "html")),
             _list(tables.training_summary(training))]
    optimizer = optimizer_section(training)
    if optimizer:
        intro, equations = optimizer
        body += ["<h2>Optimizer</h2>", f"<p>{_text(intro.replace('`', ''))}</p>",
                 f"<pre>{escape(equations)}</pre>"]
    body += ["<h2>Runtime</h2>", _table(tables.runtime_table(training, "html")),
             _list(tables.runtime_notes(training)), "<h2>Plots</h2>"]
    body += [_image(name, png) for name, png in plots.items()]
    env = "".join(f"<tr><th>{_text(k)}</th><td>{_text(v)}</td></tr>"
                  for k, v in environment_rows(results))
    body += ["<h2>Environment</h2>", f'<div class="scroll"><table class="environment">{env}</table></div>']
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>handrolled vs Keras: {escape(training['network'])}</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
