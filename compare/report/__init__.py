"""The report directory: results.json, report.md, report.html and the PNG plots.

    write_report(out_dir, results)             # results: the results.json dictionary
    write_report(root, results, fresh=True)    # a new folder root/<time stamp>[-N]

A report is a transaction (compare.output.staged_directory): every file is
written into a hidden folder beside the destination, which then takes the
destination's place in one rename.  The destination therefore holds the old
complete report or the new complete one, never a mix (an existing folder that
holds anything but a report this project wrote is refused, as it would be replaced as a
whole: see compare/output.py's marker); an interrupted run
leaves the old one untouched, and the hidden folder of a killed run is
removed by the next run into the same parent folder.  A fresh folder's name
is claimed by that same rename, so two runs in the same second get two
folders.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from handrolled.errors import SpecError

from .. import output
from ..output import json_text, staged_directory, write_atomic
from .html import render_html
from .markdown import render_markdown
from .plots import all_plots

__all__ = ["write_report", "default_out_dir", "render_files", "check_replaceable"]

DEFAULT_ROOT = "reports"


def check_replaceable(out_dir) -> None:
    """An existing --out folder is replaced as a whole, so it must hold a report this
    project wrote and nothing else (or nothing): never a folder of the user's, not even
    one of PNGs (compare/output.py `check_replaceable`: its marker)."""
    output.check_replaceable(out_dir, "a report")


def default_out_dir(root: str | Path = DEFAULT_ROOT) -> Path:
    """root/<local time>: the name a new report starts from (-2, -3, ... are added
    when it is taken at the moment the report moves in)."""
    return Path(root) / datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")


def render_files(results: dict) -> dict[str, str | bytes]:
    """Every file of the report by name, results.json last."""
    plots = all_plots(results)
    files: dict[str, str | bytes] = dict(plots)
    files["report.md"] = render_markdown(results, list(plots))
    files["report.html"] = render_html(results, plots)
    files["results.json"] = json_text(results)
    return files


def write_report(out_dir, results: dict, fresh: bool = False) -> dict[str, Path]:
    """Write the whole report directory in one step; return file name -> final path.
    fresh=True: `out_dir` is the parent of a new time-stamped folder."""
    files = render_files(results)
    destination = default_out_dir(out_dir) if fresh else Path(out_dir)
    if not fresh:
        check_replaceable(destination)
    with staged_directory(destination, fresh=fresh, what="a report") as staged:
        for name, data in files.items():
            write_atomic(staged.staging / name, data)
    return {name: staged.path / name for name in files}
