"""Fixtures shared by several test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="session")
def sample_export(tmp_path_factory):
    """One pipeline run over data/sample (Dutch documents, top 10), shared by the export tests:
    the run folder and its result."""
    from mhgraph.pipeline import run_pipeline

    out = tmp_path_factory.mktemp("sample-export") / "run"
    result = run_pipeline(SAMPLE, out, top=10)
    return out, result
