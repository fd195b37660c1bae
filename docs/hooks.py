"""mkdocs hook (mkdocs.yml `hooks:`): writes reference/cli.md from the argument parsers.

Every subcommand's `--help` is rendered by argparse itself, so the page cannot drift from
the code.  The page exists only in the built site (`mkdocs build`), never on disk.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = "reference/cli.md"
WIDTH = "100"  # argparse wraps help to $COLUMNS: the same page on every terminal


def help_text(argv: list[str]) -> str:
    """What `nn-compare ARGV --help` prints."""
    from compare.cli import build_parser

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        build_parser().parse_args([*argv, "--help"])
    return out.getvalue().rstrip()


def cli_page() -> str:
    """The reference page: `nn-compare --help`, then each command's."""
    from compare.commands import COMMANDS

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        parts = ["# Command line", "",
                 "Generated from the argument parsers when the site is built "
                 "(`docs/hooks.py`): each block is what `nn-compare ... --help` prints.",
                 "", "## nn-compare", "", "```text", help_text([]), "```"]
        for command in COMMANDS:
            parts += ["", f"## nn-compare {command.NAME}", "",
                      "```text", help_text([command.NAME]), "```"]
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(parts) + "\n"


def on_files(files, config, **kwargs):
    from mkdocs.structure.files import File

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # this checkout's code, not an installed copy
    files.append(File.generated(config, PAGE, content=cli_page()))
    return files
