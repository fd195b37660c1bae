"""The report directory: results.json, report.md, report.html and the PNG plots.

    write_report(out_dir, results)     # results: the results.json dictionary

Every file goes through compare.output.write_atomic (temporary name, then
rename), and results.json is written last: an interrupted run never leaves a
half-written file, and a results.json present means the report beside it is
complete.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from ..output import write_atomic, write_json
from .html import render_html
from .markdown import render_markdown
from .plots import all_plots

__all__ = ["write_report", "default_out_dir"]


def default_out_dir(root: str = "reports") -> Path:
    """reports/<local time>/, with -2, -3, ... if that directory already exists."""
    stamp = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    path, n = Path(root) / stamp, 1
    while path.exists():
        n += 1
        path = Path(root) / f"{stamp}-{n}"
    return path


def write_report(out_dir, results: dict) -> dict[str, Path]:
    """Write the whole report directory; return file name -> path."""
    out_dir = Path(out_dir)
    plots = all_plots(results)
    written = {name: write_atomic(out_dir / name, png) for name, png in plots.items()}
    written["report.md"] = write_atomic(out_dir / "report.md",
                                        render_markdown(results, list(plots)))
    written["report.html"] = write_atomic(out_dir / "report.html", render_html(results, plots))
    written["results.json"] = write_json(out_dir / "results.json", results)
    return written
