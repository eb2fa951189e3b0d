"""The walkthrough notebook runs top to bottom on data/sample (its code cells, in order)."""

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"


@pytest.mark.slow
def test_walkthrough_notebook_runs(tmp_path, monkeypatch):
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    code = [("".join(c["source"])) for c in cells if c["cell_type"] == "code"]
    assert len(code) >= 10
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MHGRAPH_AUDIT_LOG", str(tmp_path / "audit.log"))
    (tmp_path / "data").symlink_to(ROOT / "data")
    namespace: dict = {}
    for i, source in enumerate(code):
        exec(compile(source, f"walkthrough cell {i}", "exec"), namespace)
    clusters = namespace["clusters"]
    assert clusters.height > 0 and clusters["score"].max() > 0
    assert (tmp_path / "out" / "notebook" / "summary.md").is_file()
    assert (tmp_path / "out" / "notebook" / "run" / "run_manifest.json").is_file()
    assert os.path.getsize(tmp_path / "audit.log") > 0
