"""The notebooks of notebooks/ run top to bottom on the tiny lake, and are committed without outputs.

Each notebook runs in a fresh kernel (nbclient) whose environment points EARLY_WARNING_CONF at the
tiny lake's conf (tests/tiny_lake.py), as every notebook reads its conf from that variable, with
matplotlib's Agg backend; a cell that raises fails the test, naming the cell and its traceback.
"""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook, new_output

from jobs.config import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
# A cell reads a table or an MLflow store of the tiny lake: seconds; 5 minutes means it hangs.
CELL_TIMEOUT_SECONDS = 300


def execute(notebook: nbformat.NotebookNode, conf_path: Path, folder: Path) -> None:
    """Run every cell of `notebook` in order in a new kernel started in `folder`, with conf
    `conf_path`; raises CellExecutionError at the first cell that fails."""
    # The kernel imports this checkout's packages, whatever the environment installed.
    python_path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "EARLY_WARNING_CONF": str(conf_path), "MPLBACKEND": "Agg", "PYTHONPATH": python_path}
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_SECONDS, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    client.execute(env=env)


def cells_with_outputs(notebook: nbformat.NotebookNode) -> list[int]:
    """Indexes of the code cells that carry outputs or an execution count."""
    return [index for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]


def test_the_three_notebooks_are_there():
    assert {"panel_exploration.ipynb", "model_comparison.ipynb", "regional_list.ipynb"} <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert cells_with_outputs(notebook) == [], f"{path.name}: clear its outputs and execution counts"


def test_outputs_are_found():
    ran = new_code_cell("1 + 1", execution_count=1, outputs=[
        new_output("execute_result", data={"text/plain": "2"}, execution_count=1)])
    notebook = new_notebook(cells=[new_code_cell("x = 1"), ran, new_code_cell("y = 2", execution_count=3)])
    assert cells_with_outputs(notebook) == [1, 2]


def test_a_failing_cell_fails_the_run(tmp_path):
    conf_path = tmp_path / "conf.yaml"  # only passed on, never read here
    notebook = new_notebook(cells=[new_code_cell("import os\nprint(os.environ['EARLY_WARNING_CONF'])"),
                                   new_code_cell("raise ValueError('this cell fails')")])
    with pytest.raises(CellExecutionError, match="this cell fails"):
        execute(notebook, conf_path, tmp_path)
    assert notebook.cells[0].outputs[0]["text"].strip() == str(conf_path)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom_on_the_tiny_lake(path, tiny_lake, tmp_path):
    execute(nbformat.read(path, as_version=4), tiny_lake.conf_path, tmp_path)
