"""The HTML pages' text: what makes them read at 800 px as at 1400 px, checked on the
markup (tests/test_browser.py checks the rendering itself, in headless Chromium)."""

from __future__ import annotations

import html
import re

from compare.codegen.html import code_html
from compare.report.html import _command, _table, _text
from compare.report.markdown import environment_rows
from compare.report.tables import runtime_table

CODE = '''def f(x):
    """Take x in from the list, <b>bold</b>."""
    for y in x:  # a comment: from here
        return y if y else None
'''


def text_of(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def test_code_is_coloured_by_pygments_and_a_docstring_stays_a_docstring():
    marked = code_html(CODE)
    assert text_of(marked) == CODE.rstrip("\n").replace("\n", "")  # every character, once
    assert '<span class="k">for</span>' in marked and '<span class="kc">None</span>' in marked
    # "in" and "from" in the docstring and the comment are text, not keywords
    assert '<span class="sd">&quot;&quot;&quot;Take x in from the list, &lt;b&gt;' in marked
    assert '<span class="c1"># a comment: from here</span>' in marked
    assert "<b>" not in marked  # escaped


def test_each_code_line_is_a_block_holding_its_indentation_for_the_hanging_indent():
    lines = re.findall(r'<span class="line" style="--indent:(\d+)ch">', code_html(CODE))
    assert [int(n) for n in lines] == [0, 4, 4, 8]


def test_hyphenated_words_and_numbers_are_never_split():
    assert _text("round-off 8.88e-16 x<y") == ('<span class="nw">round-off</span> '
                                               '<span class="nw">8.88e-16</span> x&lt;y')


def test_tables_scroll_inside_their_box_and_keep_numbers_whole():
    training = {side: {"runtime": {"first_epoch_seconds": 1e-7, "steady_epoch_seconds": 0.1,
                                   "step_seconds": 0.001, "samples_per_second": 1000.0,
                                   "total_seconds": 1.0}, "epoch_seconds": [1e-7, 0.1]}
                for side in ("handrolled", "keras")}
    training["runtime_ratio"] = {"first_epoch_seconds": 1.0, "steady_epoch_seconds": 1.0,
                                 "step_seconds": 1.0}
    table = _table(runtime_table(training, "html"))
    assert table.startswith('<div class="scroll"><table>') and table.endswith("</div>")
    assert text_of(table) == text_of(runtime_table(training, "html"))


def test_the_reproduce_command_wraps_only_between_its_arguments():
    command = "nn-compare report --epochs 3 --out 'a b<'"
    block = _command(command)
    assert text_of(block) == "Reproduce:" + command
    assert block.count('<span class="nw">') == len(command.split())
    assert '<pre class="command"><code>' in block and "&lt;" in block and "'a b<'" not in block


def test_the_environment_says_not_set_never_none():
    results = {"environment": {"tf_onednn_opts": None, "numpy": "2.0",
                               "blas": [{"user_api": "openmp", "internal_api": "openmp",
                                         "version": None, "architecture": None,
                                         "num_threads": 2, "threading_layer": None,
                                         "filepath": "/lib/libgomp.so"}]},
               "dataset": {"source": None}}
    rows = dict(environment_rows(results))
    assert rows == {"tf_onednn_opts": "not set", "numpy": "2.0",
                    "thread pool (openmp)": "openmp, 2 threads: /lib/libgomp.so",
                    "data source": "not set"}
