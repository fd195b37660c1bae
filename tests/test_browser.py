"""report.html and side_by_side.html in a real browser: Debian's headless Chromium.

At 800 and 1400 px, `problems` must find nothing on either page: no table runs past
the page or is cut off by its box (a table may scroll inside its own box), every image
loads (naturalWidth > 0), the console stays empty, and no word or number with a hyphen
in it ("round-off", "8.88e-16", "--epochs") is split across two lines outside code.
The measurements come from a small script added to a copy of the page, which writes
them into the page as JSON; Chromium's --dump-dom hands them back (no extra
dependency).  The twin: a page with each fault is caught by the same `problems`.

The screenshots stay in each test's temporary folder (<page>-<width>.png), for a
reader or a CI artifact.  Skips, saying why, where /usr/bin/chromium is missing
(`.ci/run` installs Debian's `chromium`; a browser that downloads itself does not
run here).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists() and shutil.which("chromium"):
    CHROMIUM = Path(shutil.which("chromium"))
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=(
    "no /usr/bin/chromium (Debian: apt-get install chromium; .ci/run does this)"))

WIDTHS = (800, 1400)

# Runs at load; writes its measurements into <pre id="nn-measure">.  A table's box is
# its nearest ancestor that does not let it overflow (overflow-x other than visible).
MEASURE = r"""<script>
(function () {
  var errors = [];
  window.addEventListener("error", function (e) {
    errors.push(e.message || ("cannot load " + ((e.target && (e.target.src || e.target.href))
                                                || "a resource")).slice(0, 80));
  }, true);
  var original = console.error;
  console.error = function () {
    errors.push(Array.prototype.join.call(arguments, " "));
    original.apply(console, arguments);
  };
  function inCode(node) {
    for (var a = node.parentElement; a; a = a.parentElement)
      if (/^(PRE|SCRIPT|STYLE)$/.test(a.tagName)) return true;
    return false;
  }
  window.addEventListener("load", function () {
    var root = document.documentElement;
    var out = {width: root.clientWidth, scroll_width: root.scrollWidth, tables: [],
               images: [], split: [], errors: errors};
    document.querySelectorAll("table").forEach(function (table, i) {
      var entry = {index: i, right: table.getBoundingClientRect().right, box: null};
      for (var a = table.parentElement; a; a = a.parentElement) {
        var overflow = getComputedStyle(a).overflowX;
        if (overflow !== "visible") {
          entry.box = {tag: a.tagName.toLowerCase(), right: a.getBoundingClientRect().right,
                       scrolls: overflow === "auto" || overflow === "scroll"};
          break;
        }
      }
      out.tables.push(entry);
    });
    document.querySelectorAll("img").forEach(function (img) {
      out.images.push({alt: img.alt, complete: img.complete, natural_width: img.naturalWidth});
    });
    var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), node;
    while ((node = walker.nextNode())) {
      if (inCode(node)) continue;
      var word = /\S*-\S*/g, match;
      while ((match = word.exec(node.data))) {
        var range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        var tops = {};
        Array.prototype.forEach.call(range.getClientRects(), function (r) {
          if (r.width > 0) tops[Math.round(r.top)] = true;
        });
        if (Object.keys(tops).length > 1) out.split.push(match[0]);
      }
    }
    var pre = document.createElement("pre");
    pre.id = "nn-measure";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  });
})();
</script>"""


def render(page: Path, width: int, folder: Path) -> dict:
    """Open a measuring copy of `page` in headless Chromium, `width` px wide; save the
    screenshot as folder/<page>-<width>.png; return the measurements, with
    "console": the console lines Chromium logged."""
    copy = folder / f"{page.stem}-{width}-measured.html"
    text = page.read_text(encoding="utf-8")
    head = re.search(r"<head[^>]*>", text)
    assert head, f"{page} has no <head>"
    copy.write_text(text[:head.end()] + MEASURE + text[head.end():], encoding="utf-8")
    shot = folder / f"{page.stem}-{width}.png"
    done = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={folder / f'profile-{page.stem}-{width}'}",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
         f"--window-size={width},3000", f"--screenshot={shot}", "--dump-dom",
         copy.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="nn-measure">(.*?)</pre>', done.stdout, re.S)
    assert done.returncode == 0 and found, done.stderr[-2000:]
    assert shot.read_bytes()[1:4] == b"PNG"
    import html

    measured = json.loads(html.unescape(found.group(1)))
    measured["console"] = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return measured


def problems(measured: dict) -> list[str]:
    """What a reader at this width would see wrong, one line each (empty: nothing)."""
    width, found = measured["width"], []
    if measured["scroll_width"] > width:
        found.append(f"the page scrolls sideways: {measured['scroll_width']} px in a "
                     f"{width} px window")
    for table in measured["tables"]:
        box, right = table["box"], table["right"]
        if box is None and right > width + 0.5:
            found.append(f"table {table['index']} runs past the page ({right:.0f} > {width} px)")
        elif box is not None and not box["scrolls"] and right > box["right"] + 0.5:
            found.append(f"table {table['index']} is cut off by its {box['tag']}")
        elif box is not None and box["right"] > width + 0.5:
            found.append(f"table {table['index']}'s box runs past the page")
    for image in measured["images"]:
        if not image["complete"] or image["natural_width"] == 0:
            found.append(f"image {image['alt']!r} did not load")
    found += [f"console: {line}" for line in measured["errors"] + measured["console"]]
    found += [f"split across two lines: {word!r}" for word in measured["split"]]
    return found


@pytest.fixture(scope="module")
def report_page(tmp_path_factory) -> Path:
    """A real report of a small network (blobs: no download), written by the project."""
    from training_blobs import blobs

    from compare import experiment
    from compare.presets import TrainingConfig
    from compare.report import write_report
    from handrolled import NetworkSpec, init_weights

    config = TrainingConfig(hidden="16:sigmoid,dense(8,relu),batchnorm", dataset="blobs",
                            epochs=3, batch=32, lr=0.5, preprocess="raw")
    spec = NetworkSpec.from_text(config.hidden, inputs=12, classes=4)
    prepared = experiment.Prepared(config, blobs(200, 100).split_validation(), spec,
                                   init_weights(spec))
    results = experiment.run(prepared, gradients=True).results
    results["environment"]["tf_onednn_opts"] = None  # shown as "not set"
    out = tmp_path_factory.mktemp("report") / "r"
    return write_report(out, results)["report.html"]


@pytest.fixture(scope="module")
def side_by_side_page(tmp_path_factory) -> Path:
    """`nn-compare code`'s page for a batch-norm + dropout network (programs not run)."""
    from test_codegen import prepared

    from compare.codegen.generate import generate

    out = tmp_path_factory.mktemp("code") / "code"
    generate(prepared("batchnorm-dropout-adam"), out,
             command="nn-compare code --network 'dense(8,relu),batchnorm,dropout(0.25)' "
                     "--optimizer 'adam(learning_rate=0.01)' --epochs 2 --out code",
             run=False)
    return out / "side_by_side.html"


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", ["report_page", "side_by_side_page"])
def test_the_page_reads_in_a_real_browser(page, width, request, tmp_path):
    path = request.getfixturevalue(page)
    measured = render(path, width, tmp_path)
    assert problems(measured) == [], f"screenshot: {tmp_path / f'{path.stem}-{width}.png'}"
    assert measured["tables"]  # the check looked at something
    if page == "report_page":
        assert len(measured["images"]) == 4


BROKEN = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<table><tr><td style="white-space: nowrap">{wide}</td></tr></table>
<div style="overflow-x: hidden; width: 200px"><table><tr><td style="white-space: nowrap">{wide}
</td></tr></table></div>
<div style="overflow-x: auto"><table><tr><td style="white-space: nowrap">{wide}</td></tr>
</table></div>
<img alt="broken" src="data:image/png;base64,AAAA">
<p style="width: 4em">a difference of 8.88e-16</p>
<script>not_defined();</script>
</body></html>
""".format(wide="1.23456789 " * 200)


def test_twin_each_fault_of_a_broken_page_is_caught(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(BROKEN, encoding="utf-8")
    found = problems(render(page, 800, tmp_path))
    assert any(line.startswith("the page scrolls sideways") for line in found)
    assert any(line.startswith("table 0 runs past the page") for line in found)
    assert "table 1 is cut off by its div" in found
    assert not any(line.startswith("table 2") for line in found)  # it scrolls in its box
    assert "image 'broken' did not load" in found
    assert any("not_defined" in line for line in found if line.startswith("console:"))
    assert "split across two lines: '8.88e-16'" in found
