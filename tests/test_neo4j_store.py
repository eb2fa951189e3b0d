"""mhgraph.neo4j_store: statements, table checks, connection errors (offline) and, against a
live server, loading, re-loading, reading a cluster back, purpose isolation, indicators,
deleting a run and GDS.

The live tests (marker ``neo4j``) run against the server of the ``live_store`` fixture
(``tests/conftest.py``): the Neo4j at MHGRAPH_NEO4J_URI when that is set, otherwise a FalkorDB
the tests start themselves. The driver is never mocked.
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import json
import logging
import re
import uuid

import neo4j.time
import polars as pl
import pytest

from mhgraph import neo4j_store as store
from mhgraph.cli import main
from mhgraph.errors import InputError, MhgraphError
from mhgraph.graph import EDGE_COLUMNS, EDGE_SCHEMA, NODE_COLUMNS, NODE_SCHEMA
from mhgraph.indicators import INDICATORS as RULES
from mhgraph.indicators import crowded_address, straw_director

D = dt.date


# --- a small run: a crowded address, a straw director, every relation type ----------------------

def _sample_tables() -> tuple[pl.DataFrame, pl.DataFrame]:
    nodes, edges = [], []

    def node(entity_id, entity_type, partners, **context):
        nodes.append({"entity_id": entity_id, "entity_type": entity_type, "partners": sorted(partners),
                      "sources": sorted(f"{p}_extract" for p in partners),
                      "purposes": ["company_register"], "mention_count": len(partners), **context})

    def edge(kind, a, b, partner, valid_from, valid_to=None, **properties):
        record = f"r{len(edges) + 1:03d}"
        edges.append({"relation_id": f"{partner}_extract/{record}/{kind}", "type": kind, "from_entity": a,
                      "to_entity": b, "valid_from": valid_from, "valid_to": valid_to,
                      "source": f"{partner}_extract", "partner": partner, "purpose": "company_register",
                      "record_id": record, **properties})

    node("A-crowd", "address", ["ind", "belastingdienst"], municipality="Arnhem")
    node("A-calm", "address", ["kvk"], municipality="'s-Hertogenbosch")  # a quote and ...
    for i in range(1, 10):  # nine persons at A-crowd at once from 2024-01-09 ...
        node(f"P-{i:02d}", "person", ["ind"])
        edge("REGISTERED_AT", f"P-{i:02d}", "A-crowd", "ind", D(2024, 1, i))
    node("P-10", "person", ["belastingdienst"])  # ... and a tenth long before them
    edge("REGISTERED_AT", "P-10", "A-crowd", "belastingdienst", D(2020, 1, 1), D(2020, 12, 31))
    for i in range(11, 14):
        node(f"P-{i}", "person", ["kvk"])
        edge("REGISTERED_AT", f"P-{i}", "A-calm", "kvk", D(2023, 1, 1))
    node("P-14", "person", ["ind"])  # registered since an unknown date
    edge("REGISTERED_AT", "P-14", "A-calm", "ind", None)
    node("P-20", "person", ["kvk", "gemeente_arnhem"])
    node("C-1", "company", ["kvk", "belastingdienst"], sbi_code="0113", registered_on=D(2023, 1, 1),
         dissolved_on=D(2023, 6, 1))
    node("C-2", "company", ["kvk"], sbi_code="5610", registered_on=D(2023, 2, 1))
    node("C-3", "company", ["kvk"], sbi_code="8121", registered_on=D(2023, 3, 1), dissolved_on=D(2023, 9, 1))
    node("C-4", "company", ["kvk"], sbi_code="4120", registered_on=D(2015, 1, 1), legal_form="B.V.\\Holding")
    node("V-1", "permit", ["gemeente_arnhem"], permit_type="massagesalon", permit_status="verleend")
    # the straw director: three short directorships (C-3's ends with its dissolution), one long one
    edge("OFFICER_OF", "P-20", "C-1", "kvk", D(2023, 1, 1), D(2023, 4, 10), role="bestuurder")
    edge("OFFICER_OF", "P-20", "C-2", "kvk", D(2023, 2, 1), D(2023, 5, 1), role="bestuurder")
    edge("OFFICER_OF", "P-20", "C-3", "kvk", D(2023, 3, 1), None, role="bestuurder")
    edge("OFFICER_OF", "P-20", "C-4", "kvk", D(2015, 1, 1), D(2022, 1, 1), role="bestuurder")
    for i in range(1, 4):
        edge("EMPLOYED_BY", f"P-{i:02d}", "C-1", "belastingdienst", D(2024, 1, 1), D(2024, 3, 31),
             wage=4100.0, hours=520.0, contract_type="oproep")
    edge("SPONSORED_BY", "P-04", "C-1", "ind", D(2024, 1, 1), D(2025, 1, 1), permit_purpose="arbeid")
    edge("LOCATED_AT", "C-1", "A-crowd", "kvk", D(2023, 1, 1), D(2023, 6, 1))
    edge("HOLDS_PERMIT", "C-2", "V-1", "gemeente_arnhem", D(2023, 5, 1))
    edge("MANAGES", "P-20", "V-1", "gemeente_arnhem", D(2023, 5, 1))
    edge("LOCATED_AT", "V-1", "A-calm", "gemeente_arnhem", D(2023, 5, 1))

    node_frame = pl.DataFrame(nodes, infer_schema_length=None)
    node_frame = node_frame.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c in NODE_COLUMNS if c not in node_frame.columns)
    edge_frame = pl.DataFrame(edges, infer_schema_length=None).with_columns(
        from_mention=pl.col("relation_id") + "/from", to_mention=pl.col("relation_id") + "/to")
    edge_frame = edge_frame.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c in EDGE_COLUMNS if c not in edge_frame.columns)
    return node_frame.select(NODE_COLUMNS), edge_frame.select(EDGE_COLUMNS)


@pytest.fixture
def tables():
    return _sample_tables()


# --- the statements the module runs ------------------------------------------------------------

def _literal_run_calls():
    """(statement name, parameter names, has **kwargs) of every _run(...) call with a literal name."""
    tree = ast.parse(inspect.getsource(store))
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) in ("_run", "_repeat", "_run_rows"):
            name = call.args[1]
            if isinstance(name, ast.Constant):
                keywords = {k.arg for k in call.keywords if k.arg} | ({"rows"} if call.func.id == "_run_rows" else set())
                yield name.value, keywords, any(k.arg is None for k in call.keywords)


def test_every_statement_the_module_uses_is_found_and_every_shipped_one_is_used():
    literal = {name for name, _, _ in _literal_run_calls()}
    indicators = {name for name, _ in store.INDICATORS.values()}
    used = ({name for names in store.SCHEMA_STATEMENTS.values() for name in names} | set(store.NODE_STATEMENTS.values())
            | set(store.EDGE_STATEMENTS.values()) | literal | indicators)
    for name in used:
        assert store.statement(name).text.strip(), name
    assert used == set(store.statement_names())
    assert set(store.NODE_STATEMENTS) == {"Person", "Company", "Address", "Permit"}
    assert set(store.EDGE_STATEMENTS) == {"EMPLOYED_BY", "OFFICER_OF", "REGISTERED_AT", "LOCATED_AT",
                                          "SPONSORED_BY", "HOLDS_PERMIT", "MANAGES"}


def test_python_passes_the_parameters_each_header_declares():
    for name, keywords, spread in _literal_run_calls():
        declared = set(store.statement(name).parameters)
        assert keywords <= declared, (name, keywords - declared)
        if not spread:
            assert keywords == declared, (name, declared - keywords)
    leiden = set(store._leiden_config(1.0, 0.01, 10, 1e-4, 42, 1))
    assert set(store.statement("gds_leiden_stream").parameters) == leiden | {"graph_name"}
    assert set(store.statement("gds_leiden_write").parameters) == leiden | {
        "graph_name", "write_property", "include_intermediate_communities"}
    for name, (statement_name, _) in store.INDICATORS.items():
        rule = RULES[name]
        assert set(store.statement(statement_name).parameters) == {"run_id", *rule.thresholds}, name
        assert store._indicator_version(name) == rule.version, name
    for name in (*store.NODE_STATEMENTS.values(), *store.EDGE_STATEMENTS.values()):
        assert store.statement(name).parameters == ("rows", "run_id")


def test_statements_only_neo4j_can_run_are_marked_and_the_rest_runs_on_both():
    marked = {name: store.statement(name).runs_on for name in store.statement_names()}
    neo4j_only = {name for name, on in marked.items() if on == ("neo4j",)}
    assert neo4j_only == {*store.SCHEMA_STATEMENTS["neo4j"], "gds_drop_graph", "gds_leiden_stream",
                          "gds_leiden_write", "gds_procedures", "gds_project_run"}
    assert {name for name, on in marked.items() if on == ("falkordb",)} == set(store.SCHEMA_STATEMENTS["falkordb"])
    assert all(on == store.DIALECTS for name, on in marked.items()
               if name.startswith(("load_", "read_", "delete_", "count_", "indicator_", "write_", "run_")))
    assert not store.statement("load_run").body.startswith("//")  # the header stays home


def test_falkordb_parameters_are_escaped_and_sized_as_its_listener_writes_them():
    value = store._falkordb_value({"s": "'s-Hertogenbosch \\ x", "d": D(2024, 1, 2), "l": [D(2020, 5, 6), None]})
    assert value == {"s": "\\'s-Hertogenbosch \\\\ x", "d": "2024-01-02", "l": ["2020-05-06", None]}
    # {s: '...', d: '2024-01-02', l: ['2020-05-06', NULL]} as the listener writes it
    rendered = "{s: '\\'s-Hertogenbosch \\\\ x', d: '2024-01-02', l: ['2020-05-06', NULL]}"
    assert store._rendered_size(value) >= len(rendered.encode())
    assert store._rendered_size(1234.5) == len("1234.500000")
    with pytest.raises(MhgraphError, match="cannot take the number inf"):
        store._falkordb_value(float("inf"))


def test_statement_rows_become_the_hits_the_python_rules_give(tables):
    # rows as an indicator statement returns them (neo4j.time.Date, evidence in any order)
    nodes, edges = tables
    crowd = edges.filter((pl.col("type") == "REGISTERED_AT") & (pl.col("to_entity") == "A-crowd")
                         & (pl.col("from_entity") != "P-10"))["relation_id"].to_list()
    calm = edges.filter((pl.col("type") == "REGISTERED_AT") & (pl.col("to_entity") == "A-calm"))["relation_id"]
    calm = calm.to_list()
    rows = [{"focus_entity": "A-crowd", "cluster_id": None, "persons": 9, "day": neo4j.time.Date(2024, 1, 9),
             "evidence": crowd[::-1], "partners": ["ind"]},
            {"focus_entity": "A-calm", "cluster_id": None, "persons": 4, "day": neo4j.time.Date(2023, 1, 1),
             "evidence": calm, "partners": ["kvk", "ind"]}]
    assert store._hits("crowded_address", rows, {"min_persons": 4}).equals(
        crowded_address(nodes, edges, min_persons=4))
    straw = edges.filter((pl.col("type") == "OFFICER_OF") & (pl.col("to_entity") != "C-4"))["relation_id"]
    rows = [{"focus_entity": "P-20", "cluster_id": None, "companies": 4, "brief": 3, "dissolved": 2,
             "evidence": straw.to_list(), "partners": ["kvk"]}]
    assert store._hits("straw_director", rows, {"min_short": 3, "max_days": 200}).equals(
        straw_director(nodes, edges, min_short=3, max_days=200))
    assert store._hits("straw_director", [], {}).equals(straw_director(nodes, edges, min_short=9))
    # an unknown start reads as the Python rule reads it
    assert "on an unknown date" in store.INDICATORS["crowded_address"][1]({"persons": 8, "day": None}, {"min_persons": 8})


def test_a_missing_statement_is_a_clear_error():
    with pytest.raises(MhgraphError, match="no Cypher statement 'no_such_statement'"):
        store.statement("no_such_statement")


# --- tables -> rows, and the checks before anything is written ----------------------------------

def _documented_row_keys(name: str) -> set[str]:
    """The keys the header of a load statement lists for the maps in $rows: '{a, b, ...}'."""
    header = "".join(line.removeprefix("//") for line in store.statement(name).text.splitlines()
                     if line.startswith("//"))
    return {key.strip() for key in re.search(r"\$rows\s+list of maps \{([^}]*)\}", header)[1].split(",")}


def test_rows_split_by_label_and_type_with_provenance_by_name(tables):
    nodes, edges = tables
    node_tables = store._node_tables(nodes)
    assert {label: table.height for label, table in node_tables.items()} == {
        "Address": 2, "Person": 15, "Company": 4, "Permit": 1}
    batches = list(store._parameter_rows(node_tables["Company"], store._NODE_NAMED, 3))
    assert [len(b) for b in batches] == [3, 1]
    company = next(r for b in batches for r in b if r["entity_id"] == "C-3")
    assert company["partners"] == ["kvk"] and company["mention_count"] == 1
    assert company["properties"]["dissolved_on"] == D(2023, 9, 1)  # a date stays a date
    assert set(company["properties"]) == set(NODE_COLUMNS) - set(store._NODE_NAMED)

    edge_tables = store._edge_tables(edges, set(nodes["entity_id"]))
    assert {kind: table.height for kind, table in edge_tables.items()} == {
        "REGISTERED_AT": 14, "OFFICER_OF": 4, "EMPLOYED_BY": 3, "SPONSORED_BY": 1, "LOCATED_AT": 2,
        "HOLDS_PERMIT": 1, "MANAGES": 1}
    (employed, *_), = store._parameter_rows(edge_tables["EMPLOYED_BY"], store._EDGE_NAMED, 10)
    assert set(employed) == _documented_row_keys("load_edges_employed_by")
    assert set(company) == _documented_row_keys("load_nodes_company")
    assert employed["partner"] == "belastingdienst" and employed["valid_to"] == D(2024, 3, 31)
    assert employed["properties"]["wage"] == 4100.0 and employed["properties"]["contract_type"] == "oproep"
    assert set(employed["properties"]) == {"from_mention", "to_mention", "wage", "hours", "contract_type",
                                           "role", "permit_purpose", "age_band"}


def _row_of(table: pl.DataFrame, predicate: pl.Expr) -> int:
    return table.with_row_index("_row", offset=1).filter(predicate)["_row"][0]


@pytest.mark.parametrize("change, column, message, row", [
    (lambda n, e: (n.with_columns(bsn=pl.lit("ab" * 16)), e), "bsn", "identifiers", None),
    (lambda n, e: (n.with_columns(given_name=pl.lit("x")), e), "given_name", "identifiers", None),
    (lambda n, e: (n.with_columns(run_id=pl.lit("x")), e), "run_id", "bookkeeping", None),
    (lambda n, e: (n.drop("partners"), e), "partners", "lacks", None),
    (lambda n, e: (n.with_columns(pl.when(pl.col("entity_id") == "C-2").then(pl.lit("vessel"))
                                  .otherwise(pl.col("entity_type")).alias("entity_type")), e),
     "entity_type", "'vessel' is not one of", lambda n, e: _row_of(n, pl.col("entity_id") == "C-2")),
    (lambda n, e: (pl.concat([n, n.head(1)]), e), "entity_id", "appears more than once",
     lambda n, e: n.height),
    (lambda n, e: (n, e.with_columns(pl.when(pl.col("type") == "MANAGES").then(pl.lit("OWNS"))
                                     .otherwise(pl.col("type")).alias("type"))),
     "type", "'OWNS'", lambda n, e: _row_of(e, pl.col("type") == "OWNS")),
    (lambda n, e: (n.filter(pl.col("entity_id") != "V-1"), e), "to_entity", "'V-1' is not in the nodes table",
     lambda n, e: _row_of(e, (pl.col("from_entity") == "V-1") | (pl.col("to_entity") == "V-1"))),
    (lambda n, e: (n, e.with_columns(address_key=pl.lit("ff" * 16))), "address_key", "identifiers", None),
    (lambda n, e: (n, e.with_columns(amount=pl.lit(1).cast(pl.Decimal(10, 2)))), "amount", "cannot store",
     None),
    (lambda n, e: (n, e.with_columns(pl.when(pl.col("type") == "EMPLOYED_BY").then(pl.lit("fiscal_supervision"))
                                     .otherwise(pl.col("purpose")).alias("purpose"))),
     "purpose", "run purpose municipal_supervision does not permit",
     lambda n, e: _row_of(e, pl.col("type") == "EMPLOYED_BY")),
    (lambda n, e: (n.with_columns(pl.when(pl.col("entity_id") == "P-03").then(pl.lit(["fiscal_supervision"]))
                                  .otherwise(pl.col("purposes")).alias("purposes")), e),
     "purposes", "does not permit", lambda n, e: _row_of(n, pl.col("entity_id") == "P-03")),
])
def test_bad_tables_are_refused_before_connecting(tables, change, column, message, row):
    nodes, edges = change(*tables)
    # The server named here does not exist: the checks must fail before any connection.
    with pytest.raises(InputError, match=message) as caught:
        store.load_graph("neo4j://127.0.0.1:1", nodes, edges, run_id="r1", purpose="municipal_supervision")
    assert caught.value.column == column
    assert caught.value.row == (row(nodes, edges) if row else None)


def test_stored_values_come_back_in_the_shape_of_the_tables():
    # what the driver hands back for a stored relationship: neo4j.time.Date (Neo4j) or an ISO
    # string (FalkorDB), bookkeeping run_id
    for valid_from in (neo4j.time.Date(2023, 1, 1), "2023-01-01"):
        stored = {"relation_id": "kvk/1/OFFICER_OF", "type": "OFFICER_OF", "from_entity": "P-1",
                  "to_entity": "C-1", "valid_from": valid_from, "partner": "kvk", "role": "bestuurder",
                  "run_id": "r1", "extra_note": "kept"}
        frame = store._frame([stored], EDGE_SCHEMA)
        assert frame.columns == [*EDGE_COLUMNS, "extra_note"]
        assert {c: frame.schema[c] for c in EDGE_COLUMNS} == EDGE_SCHEMA
        row = frame.row(0, named=True)
        assert row["valid_from"] == D(2023, 1, 1) and row["valid_to"] is None and row["role"] == "bestuurder"
    empty = store._frame([], NODE_SCHEMA)
    assert empty.columns == list(NODE_COLUMNS) and dict(empty.schema) == NODE_SCHEMA


def test_a_reader_reads_only_runs_whose_sources_its_purpose_permits():
    assert store.readable_run_purposes("labour_market_supervision") == ["labour_market_supervision"]
    with pytest.raises(MhgraphError, match="unknown run purpose 'curiosity'"):
        store.readable_run_purposes("curiosity")


def test_gds_communities_are_numbered_like_the_embedded_ones():
    streamed = [{"entity_id": "P-2", "community": 40}, {"entity_id": "A-1", "community": 7},
                {"entity_id": "P-1", "community": 7}, {"entity_id": "C-1", "community": 40},
                {"entity_id": "V-1", "community": 3}]
    communities = store._communities(streamed)
    assert communities.rows() == [("A-1", "C0001", 2), ("P-1", "C0001", 2), ("C-1", "C0002", 2),
                                  ("P-2", "C0002", 2), ("V-1", "C0003", 1)]
    assert communities.columns == ["entity_id", "cluster_id", "cluster_size"]


def _run_folder(tmp_path, tables, manifest=True, run_id="cli-test-run"):
    nodes, edges = tables
    (tmp_path / "tables").mkdir(parents=True)
    nodes.write_parquet(tmp_path / "tables" / "nodes.parquet")
    edges.write_parquet(tmp_path / "tables" / "edges.parquet")
    if manifest:
        (tmp_path / "run_manifest.json").write_text(
            json.dumps({"run_id": run_id, "run_purpose": "municipal_supervision"}))
    return tmp_path


def test_cli_reads_the_run_folder_then_needs_a_server(tmp_path, tables, capsys, monkeypatch):
    monkeypatch.delenv(store.URI_ENV, raising=False)
    folder = _run_folder(tmp_path, tables)
    assert main(["load-neo4j", str(folder), "--uri", "bolt://127.0.0.1:1"]) == 2
    assert "cannot use the Neo4j server at bolt://127.0.0.1:1" in capsys.readouterr().err
    nodes, edges = tables
    nodes.with_columns(bsn=pl.lit("ab" * 16)).write_parquet(folder / "tables" / "nodes.parquet")
    assert main(["load-neo4j", str(folder), "--uri", "bolt://127.0.0.1:1"]) == 2
    assert f"file {folder / 'tables' / 'nodes.parquet'}, column 'bsn': identifiers" in capsys.readouterr().err


def test_cli_needs_a_run_id_and_the_runs_own_purpose(tmp_path, tables, capsys):
    folder = _run_folder(tmp_path, tables, manifest=False)
    assert main(["load-neo4j", str(folder), "--uri", "bolt://127.0.0.1:1"]) == 2
    assert "run_manifest.json: no run manifest to take the run id and purpose from" in capsys.readouterr().err
    _run_folder(tmp_path / "made", tables)
    assert main(["load-neo4j", str(tmp_path / "made"), "--purpose", "riec_integral_assessment",
                 "--uri", "bolt://127.0.0.1:1"]) == 2
    assert "made for purpose municipal_supervision; it can only be loaded for that" in capsys.readouterr().err


# --- connection ------------------------------------------------------------------------------

def test_no_server_given_is_a_clear_error(monkeypatch):
    monkeypatch.delenv(store.URI_ENV, raising=False)
    with pytest.raises(MhgraphError, match="MHGRAPH_NEO4J_URI"):
        store.connect()
    with pytest.raises(MhgraphError, match="unknown store dialect 'memgraph'"):
        store.connect("bolt://127.0.0.1:1", dialect="memgraph")


def test_connection_errors_never_show_credentials(caplog):
    caplog.set_level(logging.DEBUG)
    secret = "pw-" + uuid.uuid4().hex
    # a closed port on this machine: the real driver, a real refused connection
    with pytest.raises(MhgraphError, match=r"bolt://127\.0\.0\.1:1: ServiceUnavailable") as refused:
        store.connect("bolt://127.0.0.1:1", user="analyst", password=secret)
    with pytest.raises(MhgraphError, match=r"neo4j://127\.0\.0\.1:1\b") as userinfo:
        store.connect(f"neo4j://analyst:{secret}@127.0.0.1:1")
    for text in (str(refused.value), str(userinfo.value), caplog.text):
        assert secret not in text


# --- live: against the server of the live_store fixture ----------------------------------------

PURPOSE = "municipal_supervision"  # the small tables hold company-register sources only


@pytest.fixture
def driver(live_store):
    uri, dialect = live_store
    with store.connect(uri, dialect=dialect) as driver:
        yield driver


@pytest.fixture
def run_id(driver):
    run = f"test-{uuid.uuid4().hex[:12]}"
    yield run
    store.delete_run(driver, run)


@pytest.mark.neo4j
def test_load_is_idempotent_and_a_cluster_reads_back(driver, run_id, tables):
    from mhgraph.detect import detect_communities

    nodes, edges = tables
    first = store.load_graph(driver, nodes, edges, run_id=run_id, purpose=PURPOSE, batch_size=4)
    assert first.filter(pl.col("kind") == "node")["created"].sum() == nodes.height
    assert first.filter(pl.col("kind") == "relationship")["created"].sum() == edges.height
    assert store.run_counts(driver, run_id) == {"nodes": nodes.height, "relationships": edges.height}

    again = store.load_graph(driver, nodes, edges, run_id=run_id, purpose=PURPOSE, batch_size=7)
    assert again["created"].sum() == 0 and again["rows"].sum() == first["rows"].sum()
    assert store.run_counts(driver, run_id) == {"nodes": nodes.height, "relationships": edges.height}

    communities = detect_communities(nodes, edges)
    assert store.write_communities(driver, communities, run_id=run_id) == nodes.height
    for cluster in communities["cluster_id"].unique().sort():
        members = communities.filter(pl.col("cluster_id") == cluster)["entity_id"].to_list()
        got_nodes, got_edges = store.read_cluster(driver, run_id, cluster, purpose=PURPOSE)
        # every value, type and null as the tables hold them: dates, lists, numbers, provenance,
        # a quote and a backslash in a string
        assert got_nodes.equals(nodes.filter(pl.col("entity_id").is_in(members)).sort("entity_id")), cluster
        inside = pl.col("from_entity").is_in(members) & pl.col("to_entity").is_in(members)
        assert got_edges.equals(edges.filter(inside).sort("relation_id")), cluster
    assert "'s-Hertogenbosch" in store.read_cluster(driver, run_id, communities.filter(
        pl.col("entity_id") == "A-calm")["cluster_id"][0], purpose=PURPOSE)[0]["municipality"].to_list()
    with pytest.raises(MhgraphError, match="no cluster 'C9999'"):
        store.read_cluster(driver, run_id, "C9999", purpose=PURPOSE)
    with pytest.raises(MhgraphError, match="the store has no run 'no-such-run'"):
        store.read_cluster(driver, "no-such-run", "C0001", purpose=PURPOSE)


@pytest.mark.neo4j
def test_a_statement_goes_only_to_a_server_it_is_written_for(driver, live_store):
    _, dialect = live_store
    other = next(d for d in store.DIALECTS if d != dialect)
    for name in store.SCHEMA_STATEMENTS[other]:
        with pytest.raises(MhgraphError, match=f"runs on {other} only, not on {dialect}"):
            store._run(driver, name, None)
    store.ensure_schema(driver)
    store.ensure_schema(driver)  # a second time finds everything there


@pytest.mark.neo4j
def test_a_reader_sees_no_attributes_another_run_or_purpose_brought(driver, run_id, tables):
    from mhgraph.detect import detect_communities

    nodes, edges = tables
    # another run over the same entities, for labour-market supervision: payroll wages, and the
    # tax office among the partners of the employees and of company C-1
    fiscal = f"{run_id}-fiscal"
    employees = ["P-01", "P-02", "P-03", "C-1"]
    fiscal_nodes = nodes.with_columns(
        pl.when(pl.col("entity_id").is_in(employees)).then(pl.lit(["belastingdienst", "kvk"]))
        .otherwise(pl.col("partners")).alias("partners"),
        pl.when(pl.col("entity_id").is_in(employees)).then(pl.lit(["company_register", "fiscal_supervision"]))
        .otherwise(pl.col("purposes")).alias("purposes"),
        legal_form=pl.lit("tax-only detail"))
    fiscal_edges = edges.with_columns(
        pl.when(pl.col("type") == "EMPLOYED_BY").then(pl.lit("fiscal_supervision")).otherwise(pl.col("purpose"))
        .alias("purpose"), wage=pl.when(pl.col("type") == "EMPLOYED_BY").then(pl.lit(1234.56)))
    communities = detect_communities(nodes, edges)
    municipal = edges.filter(pl.col("type") != "EMPLOYED_BY")
    store.load_graph(driver, nodes, municipal, run_id=run_id, purpose=PURPOSE, communities=communities)
    try:
        store.load_graph(driver, fiscal_nodes, fiscal_edges, run_id=fiscal, purpose="labour_market_supervision",
                         communities=communities)
        cluster = communities.filter(pl.col("entity_id") == "C-1")["cluster_id"][0]
        members, relations = store.read_cluster(driver, run_id, cluster, purpose=PURPOSE)
        assert members.height >= 4 and set(employees) <= set(members["entity_id"])
        # exactly what the municipal run loaded, nothing the fiscal run brought to the same entities
        assert members.equals(nodes.filter(pl.col("entity_id").is_in(members["entity_id"].to_list())).sort("entity_id"))
        assert "tax-only detail" not in members["legal_form"].to_list()
        assert not any("fiscal_supervision" in row for row in members["purposes"].to_list())
        assert relations["wage"].is_null().all() and "EMPLOYED_BY" not in relations["type"].to_list()
        # the fiscal run itself is closed to a municipal reader, open to a labour-market one
        for read in (lambda: store.read_cluster(driver, fiscal, cluster, purpose=PURPOSE),
                     lambda: store.run_indicator(driver, "crowded_address", run_id=fiscal, purpose=PURPOSE)):
            with pytest.raises(MhgraphError, match="loaded for purpose labour_market_supervision; a reader for "
                                                   "purpose municipal_supervision may not read it"):
                read()
        _, relations = store.read_cluster(driver, fiscal, cluster, purpose="labour_market_supervision")
        assert relations.filter(pl.col("type") == "EMPLOYED_BY")["wage"].to_list() == [1234.56] * 3
        with pytest.raises(MhgraphError, match="is in the store for purpose municipal_supervision, not "
                                               "riec_integral_assessment"):
            store.load_graph(driver, nodes, municipal, run_id=run_id, purpose="riec_integral_assessment")
    finally:
        store.delete_run(driver, fiscal)


@pytest.mark.neo4j
def test_cypher_indicators_find_what_the_python_rules_find(driver, run_id, tables):
    from mhgraph.detect import detect_communities

    nodes, edges = tables
    store.load_graph(driver, nodes, edges, run_id=run_id, purpose=PURPOSE)
    cases = [(crowded_address, {"min_persons": 9}), (crowded_address, {"min_persons": 4}),
             (crowded_address, {"min_persons": 10}), (crowded_address, {}),
             (straw_director, {"min_short": 3, "max_days": 200}), (straw_director, {}),
             (straw_director, {"min_short": 3, "max_days": 80}), (straw_director, {"min_short": 1, "max_days": 100})]
    assert {rule.__name__ for rule, _ in cases} == set(store.INDICATORS)
    for rule, thresholds in cases:
        cypher = store.run_indicator(driver, rule.__name__, run_id=run_id, purpose=PURPOSE, **thresholds)
        assert cypher.equals(rule(nodes, edges, **thresholds)), (rule.__name__, thresholds, cypher.to_dicts())

    hit = store.run_indicator(driver, "crowded_address", run_id=run_id, purpose=PURPOSE,
                              min_persons=9).row(0, named=True)
    assert hit["focus_entity"] == "A-crowd" and len(hit["evidence"]) == 9 and hit["cluster_id"] is None
    assert store.run_indicator(driver, "crowded_address", run_id=run_id, purpose=PURPOSE, min_persons=10).is_empty()
    assert store.run_indicator(driver, "straw_director", run_id=run_id, purpose=PURPOSE)["focus_entity"].to_list() \
        == ["P-20"]

    communities = detect_communities(nodes, edges)  # with a clustering stored, hits name their cluster
    store.write_communities(driver, communities, run_id=run_id)
    cypher = store.run_indicator(driver, "crowded_address", run_id=run_id, purpose=PURPOSE, min_persons=4)
    assert cypher.equals(crowded_address(nodes, edges, communities, min_persons=4))
    assert cypher["cluster_id"].null_count() == 0


@pytest.mark.neo4j
def test_deleting_a_run_keeps_the_other_runs(driver, run_id, tables):
    nodes, edges = tables
    other = f"{run_id}-other"
    store.load_graph(driver, nodes, edges, run_id=run_id, purpose=PURPOSE)
    kept_nodes = nodes.filter(pl.col("entity_type") != "permit")
    store.load_graph(driver, kept_nodes, edges.filter(~pl.col("type").is_in(["HOLDS_PERMIT", "MANAGES", "LOCATED_AT"])),
                     run_id=other, purpose=PURPOSE)
    removed = store.delete_run(driver, other)
    assert removed == {"clusters": 0, "relationships": edges.height - 4, "nodes": kept_nodes.height}
    assert store.run_counts(driver, other) == {"nodes": 0, "relationships": 0}
    assert store.run_counts(driver, run_id) == {"nodes": nodes.height, "relationships": edges.height}
    with pytest.raises(MhgraphError, match=f"no run '{other}'"):
        store.read_cluster(driver, other, "C0001", purpose=PURPOSE)
    removed = store.delete_run(driver, run_id)
    assert removed == {"clusters": 0, "relationships": edges.height, "nodes": nodes.height}


@pytest.mark.neo4j
def test_cli_loads_a_run_folder_and_logs_it(driver, store_env, tmp_path, tables, capsys, monkeypatch):
    from mhgraph.detect import detect_communities

    nodes, edges = tables
    run = f"test-{uuid.uuid4().hex[:12]}"
    folder = _run_folder(tmp_path / "run", tables, run_id=run)
    detect_communities(nodes, edges).write_parquet(folder / "tables" / "communities.parquet")
    monkeypatch.setenv("MHGRAPH_AUDIT_LOG", str(tmp_path / "audit.log"))
    try:
        assert main(["load-neo4j", str(folder)]) == 0  # server from MHGRAPH_NEO4J_URI, run and purpose from the manifest
        assert "relationship EMPLOYED_BY: 3 rows, 3 new" in capsys.readouterr().out
        assert store.run_counts(driver, run) == {"nodes": nodes.height, "relationships": edges.height}
        members, _ = store.read_cluster(driver, run, "C0001", purpose=PURPOSE)
        assert "A-crowd" in members["entity_id"].to_list()
        (line,) = (tmp_path / "audit.log").read_text().splitlines()
        logged = json.loads(line)
        assert (logged["run_id"], logged["run_purpose"]) == (run, PURPOSE) and logged["legal_ground"]
    finally:
        store.delete_run(driver, run)


@pytest.mark.neo4j
def test_gds_leiden_gives_every_entity_a_reproducible_community_or_says_gds_is_missing(driver, run_id, tables):
    nodes, edges = tables
    store.load_graph(driver, nodes, edges, run_id=run_id, purpose=PURPOSE)
    if not store.gds_available(driver):  # FalkorDB, or a Neo4j without the plugin
        with pytest.raises(MhgraphError, match="no Graph Data Science 2.5"):
            store.run_gds_leiden(driver, run_id)
        return
    first = store.run_gds_leiden(driver, run_id, gamma=1.0, random_seed=7)
    second = store.run_gds_leiden(driver, run_id, gamma=1.0, random_seed=7)
    assert first.equals(second)
    assert sorted(first["entity_id"]) == sorted(nodes["entity_id"])
    assert first.group_by("cluster_id").agg(pl.len(), pl.col("cluster_size").first()).filter(
        pl.col("len") != pl.col("cluster_size")).is_empty()
    # the nine co-registered persons end up with their address
    crowd = first.filter(pl.col("entity_id").is_in(["A-crowd", "P-05", "P-06", "P-07"]))
    assert crowd["cluster_id"].n_unique() == 1
    nodes_read, _ = store.read_cluster(driver, run_id, crowd["cluster_id"][0], purpose=PURPOSE)
    assert "A-crowd" in nodes_read["entity_id"].to_list()
    stats = store.gds_leiden_write(driver, run_id, write_property="test_leiden", random_seed=7)
    assert stats["node_properties_written"] == nodes.height
