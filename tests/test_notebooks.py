"""The notebooks under notebooks/ run top to bottom, for real, in a Jupyter kernel.

The jupytext text files (py:percent) are the source; each is read into a
notebook and every cell executed by nbclient, in order, in one kernel shared
by the five (TensorFlow is imported once, not five times).  A cell that raises
-- every notebook asserts the agreement it shows -- fails the test with the
notebook's name.  A notebook with a broken cell is the failing twin.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")


@pytest.fixture(scope="module")
def kernel():
    """One python3 kernel that imports this checkout first, with the notebooks' folder as
    its working directory (as `jupyter lab notebooks/` has)."""
    from jupyter_client.manager import start_new_kernel

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(ROOT / "notebooks"),
                                       env=env)
    yield manager, client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def execute(path: Path, kernel) -> None:
    """Every cell of `path`, in the shared kernel (nbclient raises CellExecutionError)."""
    manager, client = kernel
    notebook = jupytext.read(path)
    runner = nbclient.NotebookClient(notebook, km=manager, timeout=120, allow_errors=False)
    runner.kc = client
    with runner.setup_kernel():  # the kernel is already running: it is reused, not restarted
        for index, cell in enumerate(notebook.cells):
            runner.execute_cell(cell, index)


@pytest.mark.slow
def test_every_notebook_runs_top_to_bottom(kernel):
    assert [path.name for path in NOTEBOOKS] == [
        "01_book_network.py", "02_relu_bug.py", "03_activation_sweep.py",
        "04_convolutions.py", "05_adam.py"]
    for path in NOTEBOOKS:
        execute(path, kernel)


def test_a_broken_notebook_fails(tmp_path, kernel):
    broken = tmp_path / "broken.py"
    broken.write_text("# %%\nx = 1\n\n# %%\nassert x == 2, 'the agreement this cell shows'\n")
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="agreement"):
        execute(broken, kernel)
