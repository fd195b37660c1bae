"""side_by_side.html: the two programs block by block, and the numbers each printed.

Self-contained: inline CSS, no script, no image, no external resource, so it
opens offline and prints as it shows.  Each row is one block (blocks.py): the
NumPy code on the left, the Keras code on the right (or, where Keras has no code
of its own for the block, the Keras lines that do its job, in grey).  Above them,
the verdict and, per epoch, the numbers of the project's own run and of both programs.
"""

from __future__ import annotations

import html
import re

from .outputs import COLUMNS

CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.35em; margin: 0 0 .3em; }
p.sub { margin: 0 0 1em; color: #555; }
table.code { border-collapse: collapse; width: 100%; table-layout: fixed; }
table.code th { text-align: left; background: #f0f0f3; padding: .35em .6em; font-size: .95em; }
table.code td { vertical-align: top; border-top: 1px solid #ddd; padding: 0; }
td.title { width: 7.5em; padding: .5em !important; font-weight: 600; font-size: .85em;
           color: #444; background: #fafafa; }
pre { margin: 0; padding: .5em .7em; font: 12px/1.35 ui-monospace, Menlo, Consolas, monospace;
      white-space: pre-wrap; word-break: break-word; }
td.numpy pre { background: #f7fbff; }
td.keras pre { background: #fff8f2; }
td.keras pre.aside { background: #fcfcfc; color: #777; font-style: italic; }
span.c { color: #6a737d; }
span.k { color: #a626a4; font-weight: 600; }
table.numbers { border-collapse: collapse; margin-top: .6em; font-size: .85em; }
table.numbers th, table.numbers td { border: 1px solid #ddd; padding: .25em .5em; }
table.numbers td { font-family: ui-monospace, Menlo, Consolas, monospace; text-align: right; }
details { margin: 0 0 1em; } summary { cursor: pointer; color: #444; }
.agree { color: #11772d; font-weight: 600; } .disagree { color: #b00020; font-weight: 600; }
"""

KEYWORDS = re.compile(r"\b(def|class|return|for|in|if|else|import|from|not|None|True|False)\b")


def code_html(code: str) -> str:
    """Escaped code, comments and keywords marked (a light touch, line by line)."""
    lines = []
    for line in code.strip("\n").splitlines():
        text, comment = line, ""
        index = line.find("#")
        if index >= 0 and line[:index].count('"') % 2 == 0 and line[:index].count("'") % 2 == 0:
            text, comment = line[:index], line[index:]
        text = KEYWORDS.sub(lambda m: f'<span class="k">{m.group(1)}</span>', html.escape(text))
        if comment:
            text += f'<span class="c">{html.escape(comment)}</span>'
        lines.append(text)
    return "\n".join(lines)


def block_rows(blocks) -> str:
    rows = []
    for block in blocks:
        keras = (f"<pre>{code_html(block.keras)}</pre>" if block.keras.strip() else
                 f'<pre class="aside">{code_html(block.aside)}</pre>' if block.aside else "")
        rows.append(f'<tr><td class="title">{html.escape(block.title)}</td>'
                    f'<td class="numpy"><pre>{code_html(block.numpy)}</pre></td>'
                    f'<td class="keras">{keras}</td></tr>')
    return "\n".join(rows)


def numbers_table(generated) -> str:
    sources = [("nn-compare train (handrolled)", generated.reference),
               ("nn-compare train (Keras)", generated.keras_reference)]
    sources += [(name, run.epochs) for name, run in generated.runs.items()]
    head = "".join(f"<th>{html.escape(name)}</th>" for name, _ in sources)
    rows = []
    for epoch in range(len(generated.reference)):
        for column in COLUMNS:
            cells = "".join(f"<td>{values[epoch][column]:.15f}</td>" if epoch < len(values)
                            else "<td>-</td>" for _, values in sources)
            rows.append(f"<tr><th>epoch {epoch + 1} {column}</th>{cells}</tr>")
    return f'<table class="numbers"><tr><th></th>{head}</tr>\n' + "\n".join(rows) + "</table>"


def verdict(generated) -> str:
    if generated.agree is None:
        return ("<p>The programs were not run (<code>--no-run</code>): run them with "
                "<code>python numpy_version.py</code> and <code>python keras_version.py</code>"
                " in this folder.</p>")
    if generated.agree:
        largest = max(j.largest["loss"] for j in generated.judgements.values())
        return (f'<p class="agree">AGREE: both programs print the project\'s numbers '
                f"(largest loss difference {largest:.2g}).</p>")
    problems = [p for j in generated.judgements.values() for p in j.problems]
    failed = [f"{name} exited with {run.returncode}" for name, run in generated.runs.items()
              if run.returncode]
    return ('<p class="disagree">DISAGREE: ' + html.escape("; ".join(failed + problems)[:2000])
            + "</p>")


def render(generated, spec, command: str) -> str:
    title = f"{spec.describe()}: NumPy by hand and Keras, side by side"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{CSS}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="sub">Written by <code>{html.escape(command)}</code>. Left: numpy_version.py.
Right: keras_version.py (grey: what Keras does for that block inside its own layers).</p>
{verdict(generated)}
<details open><summary>The numbers, epoch by epoch</summary>
{numbers_table(generated)}
</details>
<table class="code">
<tr><th style="width:7.5em"></th><th>numpy_version.py</th><th>keras_version.py</th></tr>
{block_rows(generated.blocks)}
</table>
</body></html>
"""
