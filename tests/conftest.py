"""Fixtures shared by several test modules, and test-wide settings: the installation key
lives in a temporary folder, not in the user's configuration folder, so that the tests leave
nothing behind on the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(autouse=True, scope="session")
def _installation_key_in_a_temporary_folder(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MHGRAPH_INSTALLATION_KEY_FILE", str(tmp_path_factory.mktemp("installation") / "installation.key"))
        yield


@pytest.fixture(scope="session")
def sample_export(tmp_path_factory, _installation_key_in_a_temporary_folder):
    """One pipeline run over data/sample (Dutch documents, top 10), shared by the export tests:
    the run folder and its result."""
    from mhgraph.pipeline import run_pipeline

    out = tmp_path_factory.mktemp("sample-export") / "run"
    result = run_pipeline(SAMPLE, out, top=10)
    return out, result
