"""The walkthrough notebook runs top to bottom on data/sample through a real Jupyter kernel, and
shows the top cluster's picture inline."""

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"


@pytest.mark.slow
def test_walkthrough_notebook_runs_in_a_kernel_and_shows_the_picture(tmp_path, monkeypatch):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert sum(cell.cell_type == "code" for cell in notebook.cells) >= 10
    monkeypatch.setenv("MHGRAPH_AUDIT_LOG", str(tmp_path / "audit.log"))
    (tmp_path / "data").symlink_to(ROOT / "data")
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    pictures = [o["data"]["image/svg+xml"] for o in outputs if "image/svg+xml" in o.get("data", {})]
    assert len(pictures) == 1 and pictures[0].startswith("<svg") and "Werkgever" in pictures[0]
    assert "<script" not in pictures[0]
    closest = next(cell for cell in notebook.cells if "the closest calls" in cell.source)
    shown = "".join(o["data"]["text/plain"] for o in closest.outputs if "text/plain" in o.get("data", {}))
    assert "above" in shown and "same " not in shown  # merges on the model's score, not on an identifier
    assert (tmp_path / "out" / "notebook" / "summary.md").is_file()
    assert (tmp_path / "out" / "notebook" / "run" / "run_manifest.json").is_file()
    assert os.path.getsize(tmp_path / "audit.log") > 0
    assert json.loads((tmp_path / "out" / "notebook" / "run" / "run_manifest.json").read_text())["clusters_flagged"] > 0
