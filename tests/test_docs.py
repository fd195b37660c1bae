"""The documentation stays usable: a README short enough to read, no issue numbers a
reader cannot look up, no relative link to a file that is not there, and (slow) the site
builds with `mkdocs build --strict`.  Each check has a twin showing it catches the fault."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 200

# "issue 24", "Issue #7", "issues 6 and 15", a bare "#22"; not "gh-106883" (a public
# CPython issue, named with its tracker), a hex colour or a Markdown anchor "(#name)"
ISSUE_NUMBER = re.compile(r"\bissues?\s+#?\d+|(?<![\w&#/(-])#\d+\b", re.IGNORECASE)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`[^`]*`")


def generated_pages() -> set[Path]:
    """The pages docs/hooks.py writes when the site is built (never on disk)."""
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    return {(ROOT / "docs" / hooks.PAGE).resolve()}


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def prose_lines(text: str):
    """(line number, line) outside fenced code blocks, inline code removed."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, INLINE_CODE.sub("", line)


def issue_numbers(text: str) -> list[str]:
    """Every issue-number reference in the text, code included (a diary in a code
    block is still a diary)."""
    return [m.group(0) for m in ISSUE_NUMBER.finditer(text)]


def broken_links(path: Path, text: str, generated=frozenset()) -> list[str]:
    """Relative links of a Markdown file whose target file does not exist (nor is one of
    the `generated` pages)."""
    broken = []
    for number, line in prose_lines(text):
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # http:, mailto:, an anchor on the same page
            file = target.split("#", 1)[0]
            target_path = (path.parent / file).resolve()
            if not target_path.exists() and target_path not in generated:
                broken.append(f"{path.relative_to(ROOT)}:{number}: {target}")
    return broken


def test_readme_is_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines; keep it to {README_MAX_LINES} and move the rest "
        f"into a page under docs/")


def test_no_doc_names_an_issue_number():
    found = {str(path.relative_to(ROOT)): issue_numbers(path.read_text(encoding="utf-8"))
             for path in doc_files()}
    assert not {path: hits for path, hits in found.items() if hits}


def test_issue_number_check_can_fail():
    assert issue_numbers("as asked in issue 24, and #22; issues 6 and Issue #7") == \
        ["issue 24", "#22", "issues 6", "Issue #7"]
    assert issue_numbers("CPython gh-106883, [see](#three-outcomes), &#8212; "
                         "a tissue 3") == []


def test_every_relative_link_points_to_a_file():
    generated = generated_pages()
    broken = [line for path in doc_files()
              for line in broken_links(path, path.read_text(encoding="utf-8"), generated)]
    assert not broken, "links to missing files:\n" + "\n".join(broken)


def test_link_check_can_fail():
    text = ("[ok](README.md) [gone](no/such/page.md#part) ![pic](missing.png)\n"
            "[web](https://example.org) [here](#anchor) `[code](not/checked.md)`\n"
            "```\n[in a block](not/checked/either.md)\n```\n")
    assert broken_links(ROOT / "README.md", text) == [
        "README.md:1: no/such/page.md#part", "README.md:1: missing.png"]
    index = ROOT / "docs" / "index.md"
    assert broken_links(index, "[cli](reference/cli.md)") == ["docs/index.md:1: reference/cli.md"]
    assert broken_links(index, "[cli](reference/cli.md)", generated_pages()) == []


@pytest.mark.slow
def test_site_builds_strictly(tmp_path):
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        if importlib.util.find_spec(module.split(".")[0]) is None:
            pytest.skip(f"{module} is not installed: pip install -e '.[docs]'")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                          capture_output=True, text=True, timeout=240,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr
    cli = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "nn-compare gradients" in cli and "--layers" in cli  # the generated reference
