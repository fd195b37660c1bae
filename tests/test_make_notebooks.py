"""`make notebooks` writes the .ipynb files and leaves the committed notebook sources
(notebooks/NN_*.py) byte for byte as they are.  Runs the real Makefile target in a
copy of the files it needs, with a stand-in .venv whose jupytext is this one's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JUPYTEXT = Path(sys.executable).parent / "jupytext"
pytestmark = pytest.mark.skipif(not JUPYTEXT.exists() or shutil.which("make") is None,
                                reason="needs make and jupytext (pip install -e '.[notebooks]')")


def make_notebooks(folder: Path, makefile: str | None = None) -> dict[str, bytes]:
    """Copy the Makefile (or write `makefile`), pyproject.toml and the notebook sources
    into `folder`, run `make notebooks` there; return the sources' bytes afterwards."""
    (folder / "Makefile").write_text(makefile or (ROOT / "Makefile").read_text())
    shutil.copy(ROOT / "pyproject.toml", folder)
    shutil.copytree(ROOT / "notebooks", folder / "notebooks",
                    ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    bin_dir = folder / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "jupytext").symlink_to(JUPYTEXT)
    stamp = folder / ".venv" / ".installed"
    stamp.touch()
    later = (folder / "pyproject.toml").stat().st_mtime + 10
    os.utime(stamp, (later, later))  # installed after the last pyproject.toml change
    done = subprocess.run(["make", "-s", "notebooks"], cwd=folder, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return {p.name: p.read_bytes() for p in sorted((folder / "notebooks").glob("*.py"))}


def test_make_notebooks_writes_the_notebooks_and_leaves_their_sources_alone(tmp_path):
    committed = {p.name: p.read_bytes() for p in sorted((ROOT / "notebooks").glob("*.py"))}
    assert len(committed) == 5
    assert make_notebooks(tmp_path) == committed
    written = sorted(p.stem for p in (tmp_path / "notebooks").glob("*.ipynb"))
    assert written == sorted(Path(name).stem for name in committed)


@pytest.mark.slow
def test_twin_jupytext_sync_would_rewrite_them(tmp_path):
    """The recipe it replaced: --sync adds jupytext's version lines to each source."""
    makefile = (ROOT / "Makefile").read_text()
    assert "jupytext --to ipynb" in makefile
    after = make_notebooks(tmp_path, makefile.replace("jupytext --to ipynb", "jupytext --sync"))
    assert b"jupytext_version" in after["01_book_network.py"]
    assert b"jupytext_version" not in (ROOT / "notebooks" / "01_book_network.py").read_bytes()
