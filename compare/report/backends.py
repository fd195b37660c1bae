"""The report of a comparison across Keras backends (`--backend tensorflow,jax` with --out).

    OUT/report.md, OUT/report.html     the backends against each other (compare/witnesses.py)
    OUT/<backend>/                     each backend's own report, written by its child

The two files hold what the terminal shows after the children: each backend's
own verdict, the gradients and training across backends, and the verdict
across them, with links to each backend's report.  Each file is written
atomically; OUT may hold nothing else (`check_across_out`, before any child
runs), so a user's folder is never written into.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from handrolled.errors import SpecError

from ..output import make_directory, write_atomic
from .html import STYLE, _list, _table, _text

FILES = ("report.md", "report.html")
TITLE = "handrolled vs Keras across backends"


def check_across_out(out_dir, backends: list[str]) -> None:
    """OUT holds only what a comparison across backends writes (its two files, a folder
    per backend, hidden staging folders), or does not exist yet: else one line."""
    from keras_impl.backends import names

    folder = Path(out_dir)
    if not folder.is_dir():
        return
    ours = {*FILES, *names()}
    foreign = sorted(entry.name for entry in folder.iterdir()
                     if entry.name not in ours and not entry.name.startswith("."))
    if foreign:
        raise SpecError(f"--out {out_dir} holds {', '.join(foreign[:3])}"
                        f"{' ...' if len(foreign) > 3 else ''}, which a comparison across "
                        f"backends does not write ({', '.join(FILES)} and a folder per "
                        f"backend): choose a new or empty folder")


def claim_fresh(root) -> Path:
    """A new time-stamped folder under `root` (-2, -3, ... when the name is taken)."""
    from . import default_out_dir

    base = default_out_dir(root)
    make_directory(base.parent)
    for n in range(1, 1000):
        path = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise SpecError(f"could not create a new folder under {root}: 999 names taken")


def backend_lines(results: dict) -> list[str]:
    """Each backend's own verdict, as its child judged it, in the console's words."""
    from ..training.verdict import shown

    lines = []
    for backend, result in results.items():
        verdict = shown(result["verdict"]) if result.get("verdict") else \
            "AGREE" if result.get("agree") else "DISAGREE"
        lines.append(f"handrolled vs Keras on {backend}: {verdict}")
    return lines


def render_markdown(across: dict, results: dict, command: str) -> str:
    from ..witnesses import across_tables, verdict_line

    links = ", ".join(f"[{b}]({b}/report.md)" for b in across["backends"])
    lines = [f"# {TITLE}: {'AGREE' if across['agree'] else 'DISAGREE'}", "",
             f"The same command once per Keras backend, each in its own process. Each "
             f"backend's own report: {links}.", "", f"Reproduce: `{command}`", ""]
    lines += [f"- {line}" for line in backend_lines(results)] + [""]
    for title, table in across_tables(across, "github"):
        heading, _, detail = title.partition(" (")
        lines += [f"## {heading}", "", f"({detail}" if detail else "", "", table, ""]
    lines.append(verdict_line(across))
    return "\n".join(lines) + "\n"


def render_html(across: dict, results: dict, command: str) -> str:
    from ..witnesses import across_tables, verdict_line

    verdict_class = "agree" if across["agree"] else "disagree"
    links = ", ".join(f'<a href="{escape(b)}/report.html">{escape(b)}</a>'
                      for b in across["backends"])
    body = [f'<h1>{escape(TITLE)}: <span class="{verdict_class}">'
            f"{'AGREE' if across['agree'] else 'DISAGREE'}</span></h1>",
            f"<p>The same command once per Keras backend, each in its own process. Each "
            f"backend's own report: {links}.</p>",
            f"<p>Reproduce: <code>{escape(command)}</code></p>", _list(backend_lines(results))]
    for title, table in across_tables(across, "html"):
        heading, _, detail = title.partition(" (")
        body += [f"<h2>{_text(heading)}</h2>"]
        if detail:
            body.append(f"<p>{_text('(' + detail)}</p>")
        body.append(_table(table))
    body.append(f"<p>{_text(verdict_line(across))}</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(TITLE)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write_across_report(out_dir, across: dict, results: dict, command: str) -> Path:
    """OUT/report.md and OUT/report.html; returns the path of report.html."""
    folder = Path(out_dir)
    make_directory(folder)
    write_atomic(folder / "report.md", render_markdown(across, results, command))
    return write_atomic(folder / "report.html", render_html(across, results, command))
