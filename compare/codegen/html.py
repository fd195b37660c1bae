"""side_by_side.html: the two programs block by block, and the numbers each printed.

Self-contained: inline CSS, no script, no image, no external resource, so it
opens offline and prints as it shows.  Each row is one block (blocks.py): the
NumPy code on the left, the Keras code on the right (or, where Keras has no code
of its own for the block, the Keras lines that do its job, in grey).  Above them,
the verdict and, per epoch, the numbers of the project's own run and of both programs.
"""

from __future__ import annotations

import html

from pygments import lex
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer
from pygments.token import STANDARD_TYPES

from ..report.html import keep_whole
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
      white-space: pre-wrap; overflow-wrap: anywhere; }
/* one block per code line: a line too long for its column goes on 4ch right of its
   indentation (a hanging indent), at most half the column in */
span.line { display: block; --hang: min(calc(var(--indent) + 4ch), 50%);
            padding-left: var(--hang); text-indent: calc(-1 * var(--hang)); }
td.numpy pre { background: #f7fbff; }
td.keras pre { background: #fff8f2; }
td.keras pre.aside { background: #fcfcfc; color: #777; font-style: italic; }
td.keras pre.aside span span { color: inherit; font-weight: inherit; }
table.numbers { border-collapse: collapse; margin-top: .6em; font-size: .85em; }
table.numbers th, table.numbers td { border: 1px solid #ddd; padding: .25em .5em; }
table.numbers td { font-family: ui-monospace, Menlo, Consolas, monospace; text-align: right; }
details { margin: 0 0 1em; } summary { cursor: pointer; color: #444; }
.agree { color: #11772d; font-weight: 600; } .disagree { color: #b00020; font-weight: 600; }
.nw { white-space: nowrap; }
div.scroll { max-width: 100%; overflow-x: auto; }
"""


def code_html(code: str) -> str:
    """Escaped code coloured by Pygments' Python lexer (a keyword in a docstring or a
    comment stays text), one span per line: `--indent` holds the line's leading spaces,
    so a line too long for its column wraps with a hanging indent (CSS `span.line`)."""
    lines: list[list[str]] = [[]]
    for kind, value in lex(code.strip("\n"), PythonLexer(stripnl=False)):
        css = _css_class(kind)
        for i, piece in enumerate(value.split("\n")):
            if i:
                lines.append([])
            if piece:
                text = html.escape(piece)
                lines[-1].append(f'<span class="{css}">{text}</span>' if css else text)
    code_lines = code.strip("\n").split("\n")
    return "".join(
        f'<span class="line" style="--indent:{len(raw) - len(raw.lstrip(" "))}ch">'
        f'{"".join(parts) or " "}</span>' for raw, parts in zip(code_lines, lines))


def _css_class(kind) -> str:
    """Pygments' short class name of a token type ("k", "s2", "c1"; "" for plain text),
    the nearest ancestor's where the type has none of its own."""
    while kind not in STANDARD_TYPES:
        kind = kind.parent
    return STANDARD_TYPES[kind]


PYGMENTS_CSS = HtmlFormatter(style="default").get_style_defs("pre")


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
    return (f'<div class="scroll"><table class="numbers"><tr><th></th>{head}</tr>\n'
            + "\n".join(rows) + "</table></div>")


# why the two programs' lines may differ in their last digits although they agree
LAST_DIGITS = ("<p class=\"sub\">Their lines may still differ in the last printed digits "
               "(&hellip;128 against &hellip;129): NumPy and TensorFlow add the same terms in "
               "different orders (their matrix products, the mean over the rows), so equal "
               "formulas round differently, by a few units of the dtype's last bit (float64: "
               "about 1e-16, the 15th decimal; float32: about 1e-7, the 7th; in float32 "
               "Keras' accuracy is itself a float32 number, so 0.43 prints as "
               "0.430000007152557); each line is checked against the training tolerance, "
               "not digit for digit.</p>")


def verdict(generated) -> str:
    if generated.agree is None:
        return ("<p>The programs were not run (<code>--no-run</code>): run them with "
                "<code>python numpy_version.py</code> and <code>python keras_version.py</code>"
                " in this folder.</p>")
    if generated.agree:
        largest = max(j.largest["loss"] for j in generated.judgements.values())
        return (f'<p class="agree">AGREE: both programs print the project\'s numbers '
                f'(largest loss difference <span class="nw">{largest:.2g}</span>).</p>'
                + LAST_DIGITS)
    problems = [p for j in generated.judgements.values() for p in j.problems]
    failed = [f"{name} exited with {run.returncode}" for name, run in generated.runs.items()
              if run.returncode]
    return ('<p class="disagree">DISAGREE: '
            + keep_whole(html.escape("; ".join(failed + problems)[:2000])) + "</p>")


def render(generated, spec, command: str) -> str:
    title = f"{spec.describe()}: NumPy by hand and Keras, side by side"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{CSS}{PYGMENTS_CSS}</style></head>
<body>
<h1>{keep_whole(html.escape(title))}</h1>
<p class="sub">Written by <code>{keep_whole(html.escape(command))}</code>. Left: numpy_version.py.
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
