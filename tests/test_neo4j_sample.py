"""The graph store on data/sample, live, through the public route.

``mhgraph run`` on data/sample for two purposes (the default integral assessment and municipal
supervision), each loaded with ``mhgraph load-neo4j`` into the server of the ``live_store``
fixture (``tests/conftest.py``: the Neo4j at MHGRAPH_NEO4J_URI, or a FalkorDB started for the
session). Then: every cluster reads back as the run's tables, a reload creates nothing, every
``indicator_*.cypher`` statement finds what the embedded indicator found, a municipal reader
sees nothing the other run brought, and deleting one run leaves the other intact.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import polars as pl
import pytest

from mhgraph import neo4j_store as store
from mhgraph.cli import main
from mhgraph.errors import MhgraphError
from mhgraph.graph import EDGE_COLUMNS, NODE_COLUMNS, to_networkx
from mhgraph.indicators import HIT_SCHEMA
from mhgraph.manifest import allowed_source_purposes

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
INTEGRAL, MUNICIPAL = "riec_integral_assessment", "municipal_supervision"

# Indicators whose Cypher form is expected to differ from the embedded rule on the sample, and
# why. Only their focus entities are compared; every other indicator must give the same hits.
EXPECTED_DIFFERENCES: dict[str, str] = {}


def _tables(out: Path) -> dict[str, pl.DataFrame]:
    return {name: pl.read_parquet(out / "tables" / f"{name}.parquet")
            for name in ("nodes", "edges", "communities", "indicator_hits")}


@pytest.fixture(scope="module")
def sample_runs(tmp_path_factory, live_store):
    """Per purpose: the run folder, its run id and tables, loaded through the CLI."""
    uri, dialect = live_store
    base = tmp_path_factory.mktemp("store-sample")
    runs = {}
    with pytest.MonkeyPatch.context() as env:
        env.setenv(store.URI_ENV, uri)
        env.setenv(store.DIALECT_ENV, dialect)
        for purpose in (INTEGRAL, MUNICIPAL):
            out = base / purpose
            assert main(["-q", "run", str(SAMPLE), "--out", str(out), "--purpose", purpose]) == 0
            assert main(["-q", "load-neo4j", str(out)]) == 0
            run_id = json.loads((out / "run_manifest.json").read_text())["run_id"]
            runs[purpose] = {"out": out, "run_id": run_id, **_tables(out)}
        try:
            yield runs
        finally:
            with store.connect() as driver:
                for run in runs.values():
                    store.delete_run(driver, run["run_id"])


@pytest.fixture(scope="module")
def driver(live_store):
    uri, dialect = live_store
    with store.connect(uri, dialect=dialect) as driver:
        yield driver


def _expected(run: dict, members: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    nodes = run["nodes"].filter(pl.col("entity_id").is_in(members)).sort("entity_id")
    inside = pl.col("from_entity").is_in(members) & pl.col("to_entity").is_in(members)
    return nodes, run["edges"].filter(inside).sort("relation_id")


def test_every_cluster_reads_back_as_the_run_tables(sample_runs, driver):
    run = sample_runs[INTEGRAL]
    assert store.run_counts(driver, run["run_id"]) == {"nodes": run["nodes"].height, "relationships":
                                                       run["edges"].height}
    members_of = run["communities"].group_by("cluster_id").agg("entity_id").sort("cluster_id")
    assert members_of.height > 100
    for cluster_id, members in members_of.iter_rows():
        nodes, edges = store.read_cluster(driver, run["run_id"], cluster_id, purpose=INTEGRAL)
        expected_nodes, expected_edges = _expected(run, members)
        assert nodes.columns == list(NODE_COLUMNS) and edges.columns == list(EDGE_COLUMNS)
        assert nodes.equals(expected_nodes), cluster_id
        assert edges.equals(expected_edges), cluster_id
    # the analyst's graph of the largest cluster is the same whether built from the store or the tables
    largest = run["communities"].sort(["cluster_size", "cluster_id"], descending=[True, False])["cluster_id"][0]
    members = run["communities"].filter(pl.col("cluster_id") == largest)["entity_id"].to_list()
    from_store = to_networkx(*store.read_cluster(driver, run["run_id"], largest, purpose=INTEGRAL))
    from_tables = to_networkx(*_expected(run, members))
    assert from_store.number_of_edges() > 0 and nx.utils.graphs_equal(from_store, from_tables)


def test_reloading_a_run_creates_nothing(sample_runs, driver, store_env, capsys):
    run = sample_runs[INTEGRAL]
    assert main(["load-neo4j", str(run["out"])]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 4 + 7 and all(line.endswith(", 0 new") for line in printed), printed
    assert store.run_counts(driver, run["run_id"]) == {"nodes": run["nodes"].height, "relationships":
                                                       run["edges"].height}


def test_every_indicator_statement_finds_the_hits_of_the_embedded_indicator(sample_runs, driver):
    run = sample_runs[INTEGRAL]
    names = [name.removeprefix("indicator_") for name in store.statement_names() if name.startswith("indicator_")]
    assert names and set(EXPECTED_DIFFERENCES) <= set(names)
    compared = 0
    for name in names:
        cypher = store.run_indicator(driver, name, run_id=run["run_id"], purpose=INTEGRAL)
        # the Cypher forms find the full hits; the weak level (graded evidence) is the embedded rule's
        embedded = (run["indicator_hits"].filter((pl.col("indicator") == name) & (pl.col("grade") == "full"))
                    .select(list(HIT_SCHEMA)).sort("focus_entity"))
        assert cypher["focus_entity"].to_list() == embedded["focus_entity"].to_list(), name
        if name not in EXPECTED_DIFFERENCES:
            assert cypher.equals(embedded), (name, cypher.to_dicts(), embedded.to_dicts())
        compared += embedded.height
    assert compared > 0  # the sample plants what these indicators look for


def test_a_municipal_reader_sees_nothing_the_other_run_brought(sample_runs, driver):
    integral, municipal = sample_runs[INTEGRAL], sample_runs[MUNICIPAL]
    permitted = sorted(allowed_source_purposes(MUNICIPAL))
    # entities both runs loaded, for which the integral run holds data collected for a purpose
    # municipal supervision may not use (IND's immigration supervision, the tax office's)
    withheld = integral["nodes"].filter(~pl.col("purposes").list.eval(pl.element().is_in(permitted)).list.all())
    shared = municipal["communities"].filter(pl.col("entity_id").is_in(withheld["entity_id"].to_list()))
    assert shared.height > 0
    for cluster_id in shared["cluster_id"].unique().sort():
        members = municipal["communities"].filter(pl.col("cluster_id") == cluster_id)["entity_id"].to_list()
        nodes, edges = store.read_cluster(driver, municipal["run_id"], cluster_id, purpose=MUNICIPAL)
        expected_nodes, expected_edges = _expected(municipal, members)
        assert nodes.equals(expected_nodes) and edges.equals(expected_edges), cluster_id
        assert set(nodes["purposes"].explode().drop_nulls()) <= set(permitted)
        assert not {"ind", "belastingdienst"} & set(nodes["partners"].explode().drop_nulls())
        assert set(edges["purpose"]) <= set(permitted) and edges["wage"].is_null().all()
    cluster_id = integral["communities"].filter(pl.col("entity_id") == shared["entity_id"][0])["cluster_id"][0]
    with pytest.raises(MhgraphError, match=f"loaded for purpose {INTEGRAL}; a reader for purpose "
                                                 f"{MUNICIPAL} may not read it"):
        store.read_cluster(driver, integral["run_id"], cluster_id, purpose=MUNICIPAL)


def test_deleting_a_run_removes_exactly_that_run(sample_runs, driver):
    integral, municipal = sample_runs[INTEGRAL], sample_runs[MUNICIPAL]
    removed = store.delete_run(driver, municipal["run_id"])
    assert removed == {"clusters": municipal["communities"]["cluster_id"].n_unique(),
                       "relationships": municipal["edges"].height, "nodes": municipal["nodes"].height}
    assert store.run_counts(driver, municipal["run_id"]) == {"nodes": 0, "relationships": 0}
    with pytest.raises(MhgraphError, match="the store has no run"):
        store.read_cluster(driver, municipal["run_id"], "C0001", purpose=MUNICIPAL)
    assert store.run_counts(driver, integral["run_id"]) == {"nodes": integral["nodes"].height,
                                                            "relationships": integral["edges"].height}
    members = integral["communities"].filter(pl.col("cluster_id") == "C0001")["entity_id"].to_list()
    nodes, edges = store.read_cluster(driver, integral["run_id"], "C0001", purpose=INTEGRAL)
    expected_nodes, expected_edges = _expected(integral, members)
    assert nodes.equals(expected_nodes) and edges.equals(expected_edges)
