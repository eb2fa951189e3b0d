"""Fixtures shared by several test modules: a pipeline run over data/sample for the export
tests, and the live graph store for the store tests. Test-wide setting: the installation key
lives in a temporary folder, not in the user's configuration folder, so that the tests leave
nothing behind on the machine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mhgraph import neo4j_store

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(autouse=True, scope="session")
def _installation_key_in_a_temporary_folder(tmp_path_factory):
    """A fixed test key, so that entity ids, and with them the order of the graph's nodes, are
    the same in every test run."""
    path = tmp_path_factory.mktemp("installation") / "installation.key"
    path.write_text("mhgraph test installation key, fixed so that test runs repeat\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MHGRAPH_INSTALLATION_KEY_FILE", str(path))
        yield


@pytest.fixture(scope="session")
def sample_export(tmp_path_factory, _installation_key_in_a_temporary_folder):
    """One pipeline run over data/sample (Dutch documents, top 10), shared by the export tests:
    the run folder and its result."""
    from mhgraph.pipeline import run_pipeline

    out = tmp_path_factory.mktemp("sample-export") / "run"
    result = run_pipeline(SAMPLE, out, top=10)
    return out, result


@pytest.fixture(scope="session")
def live_store():
    """``(uri, dialect)`` of the live Bolt server every store test runs against.

    The Neo4j at ``MHGRAPH_NEO4J_URI`` when that is set (``MHGRAPH_NEO4J_USER`` and
    ``MHGRAPH_NEO4J_PASSWORD`` as needed); otherwise a FalkorDB started here on free local
    ports and stopped after the session. When none can be had the tests that need it fail with
    the reason: a store test that did not run has not passed.
    """
    uri = os.environ.get(neo4j_store.URI_ENV)
    if uri:
        yield uri, os.environ.get(neo4j_store.DIALECT_ENV) or "neo4j"
        return
    import bolt_server

    try:
        server = bolt_server.start_falkordb()
    except RuntimeError as exc:
        pytest.fail(f"no live Bolt server for the store tests: {exc}", pytrace=False)
    try:
        with bolt_server.closing_without_goodbye():
            yield server.uri, "falkordb"
    finally:
        server.stop()


@pytest.fixture
def store_env(live_store, monkeypatch):
    """The live server in ``MHGRAPH_NEO4J_URI``/``_DIALECT``, as the CLI reads it."""
    uri, dialect = live_store
    monkeypatch.setenv(neo4j_store.URI_ENV, uri)
    monkeypatch.setenv(neo4j_store.DIALECT_ENV, dialect)
    return live_store
