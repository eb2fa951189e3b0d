"""Neo4j as the shared, larger store: load a run's graph, read clusters back, detect
communities with Graph Data Science, run indicator patterns inside the database.

Every statement is a file in ``mhgraph/queries/`` (one statement per file, a header comment
saying what it does and its parameters); this module only chooses which one to run with
which parameters, through the official ``neo4j`` driver. The statements ship inside the
package, so an installed mhgraph finds them as well as a checkout does.

The store holds several runs side by side, each with the purpose it was made for
(``(:Run {run_id, purpose})``). Every run has its own nodes (``:Entity`` plus ``:Person``,
``:Company``, ``:Address`` or ``:Permit``, keyed by ``(run_id, entity_id)``), relationships
(keyed by ``(run_id, relation_id)``) and clustering
(``(:Entity)-[:IN_CLUSTER]->(:Cluster {run_id, cluster_id})``), so one run's properties never
overwrite another's. A reader names its purpose and sees a run only when that purpose permits
every source purpose the run's purpose permits. Loading the same run again changes nothing;
:func:`delete_run` removes one run and keeps the others.

The statements are written for Neo4j. A header line ``// Runs on: neo4j only`` marks those
only Neo4j can run (constraint DDL, Graph Data Science); the rest also runs on FalkorDB's Bolt
listener, the server the tests start themselves (``dialect="falkordb"``, see
``docs/neo4j.md`` for the small layer that needs).

Credentials come from the arguments or from ``MHGRAPH_NEO4J_URI``, ``MHGRAPH_NEO4J_USER`` and
``MHGRAPH_NEO4J_PASSWORD``; they are never logged. In a notebook::

    with connect() as driver:
        load_graph(driver, nodes, edges, run_id=run_id, purpose=purpose, communities=communities)
        members, relations = read_cluster(driver, run_id, "C0001", purpose=purpose)
        hits = run_indicator(driver, "crowded_address", run_id=run_id, purpose=purpose)

>>> statement("load_edges_employed_by").parameters
('rows', 'run_id')
>>> sorted(INDICATORS), statement("indicator_straw_director").parameters
(['crowded_address', 'straw_director'], ('run_id', 'min_short', 'max_days'))
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import math
import os
import re
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import neo4j
import polars as pl

from mhgraph.errors import InputError, MhgraphError
from mhgraph.graph import EDGE_SCHEMA, NODE_SCHEMA
from mhgraph.indicators import HIT_SCHEMA, render_reason
from mhgraph.indicators import INDICATORS as RULES
from mhgraph.manifest import RUN_PURPOSES, allowed_source_purposes, append_audit_log
from mhgraph.spec import ENTITY_FIELDS, PLAINTEXT_INPUTS, RELATION_TYPES

__all__ = [
    "INDICATORS",
    "NODE_LABELS",
    "Statement",
    "connect",
    "delete_run",
    "dialect_of",
    "ensure_schema",
    "gds_available",
    "gds_leiden_write",
    "load_graph",
    "load_neo4j",
    "read_cluster",
    "readable_run_purposes",
    "run_counts",
    "run_gds_leiden",
    "run_indicator",
    "statement",
    "statement_names",
    "write_communities",
]

log = logging.getLogger("mhgraph.neo4j_store")

URI_ENV, USER_ENV, PASSWORD_ENV = "MHGRAPH_NEO4J_URI", "MHGRAPH_NEO4J_USER", "MHGRAPH_NEO4J_PASSWORD"
DIALECT_ENV = "MHGRAPH_NEO4J_DIALECT"
DIALECTS = ("neo4j", "falkordb")

NODE_LABELS = {"person": "Person", "company": "Company", "address": "Address", "permit": "Permit"}

# What makes the loads' keys unique and fast: constraints on Neo4j, plain indexes on FalkorDB.
SCHEMA_STATEMENTS = {"neo4j": ("schema_entity", "schema_entity_run", "schema_cluster", "schema_run"),
                     "falkordb": ("index_entity", "index_cluster", "index_run")}
NODE_STATEMENTS = {label: f"load_nodes_{label.lower()}" for label in NODE_LABELS.values()}
EDGE_STATEMENTS = {kind: f"load_edges_{kind.lower()}" for kind in RELATION_TYPES}

_NODE_PROVENANCE = ("entity_id", "entity_type", "partners", "sources", "purposes", "mention_count")
_EDGE_KEYS = ("relation_id", "type", "from_entity", "to_entity")
_EDGE_PROVENANCE = ("source", "partner", "purpose", "record_id", "valid_from", "valid_to")
_STORE_ONLY = ("run_id",)  # set by the store itself; a table must not bring it
# No identifier, keyed or plaintext, goes into the shared store: nodes and edges carry context.
_IDENTIFIER_COLUMNS = frozenset(
    {name for names in PLAINTEXT_INPUTS.values() for name in names}
    | {name for fields in ENTITY_FIELDS.values() for name, kind in fields.items() if kind in ("hash", "bloom")}
)
# Enum and Categorical columns (the graph's types and provenance) are stored as their text.
_STORABLE = (pl.String, pl.Enum, pl.Categorical, pl.Boolean, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8,
             pl.UInt16, pl.UInt32, pl.Float32, pl.Float64, pl.Date, pl.Datetime, pl.Null)
_READ_STATEMENTS = ("read_", "count_", "indicator_", "run_purpose")
_GDS_PROCEDURES = ("gds.graph.drop", "gds.leiden.stream", "gds.leiden.write")

# ---------------------------------------------------------------------------------------------
# statements


@dataclass(frozen=True)
class Statement:
    """One Cypher statement from ``mhgraph/queries/NAME.cypher`` and what its header declares."""

    name: str
    text: str
    summary: str
    parameters: tuple[str, ...]
    body: str = ""
    runs_on: tuple[str, ...] = DIALECTS


def _query_dir():
    return resources.files("mhgraph").joinpath("queries")


def statement_names() -> list[str]:
    """Names of every statement shipped in ``mhgraph/queries/`` (file names without ``.cypher``)."""
    return sorted(p.name.removesuffix(".cypher") for p in _query_dir().iterdir() if p.name.endswith(".cypher"))


_PARAMETER_LINE = re.compile(r"^//\s+\$([A-Za-z_][A-Za-z0-9_]*)")
_RUNS_ON_LINE = re.compile(r"^//\s*Runs on:\s*(\w+) only\b")


@functools.cache
def statement(name: str) -> Statement:
    """The statement ``name``, with the parameters its header declares (the same rule the
    offline check ``tools/cypher-check/check.mjs`` applies)."""
    path = _query_dir().joinpath(f"{name}.cypher")
    if not path.is_file():
        raise MhgraphError(f"no Cypher statement {name!r} in mhgraph/queries")
    text = path.read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith("//"):
            break
        header.append(line)
    at = next((i for i, line in enumerate(header) if re.match(r"//\s*Parameters:", line)), None)
    if at is None:
        raise MhgraphError(f"mhgraph/queries/{name}.cypher: header has no '// Parameters:' line")
    parameters = tuple(m.group(1) for line in header[at + 1:] if (m := _PARAMETER_LINE.match(line)))
    only = [m.group(1) for line in header if (m := _RUNS_ON_LINE.match(line))]
    if any(o not in DIALECTS for o in only):
        raise MhgraphError(f"mhgraph/queries/{name}.cypher: 'Runs on:' names none of {', '.join(DIALECTS)}")
    body = "\n".join(text.splitlines()[len(header):]).strip()
    return Statement(name, text, header[0].removeprefix("//").strip() if header else "", parameters, body,
                     tuple(only) or DIALECTS)


def _run(driver: neo4j.Driver, name: str, database: str | None, **parameters) -> neo4j.EagerResult:
    """Run one statement (its body, without the header) with exactly the parameters its header
    declares, on a server it is written for."""
    st, dialect = statement(name), dialect_of(driver)
    if set(parameters) != set(st.parameters):
        raise MhgraphError(f"statement {name} takes {sorted(st.parameters)}, was given {sorted(parameters)}")
    if dialect not in st.runs_on:
        raise MhgraphError(f"statement {name} runs on {' and '.join(st.runs_on)} only, not on {dialect}")
    if dialect == "falkordb":
        parameters = {key: _falkordb_value(value) for key, value in parameters.items()}
        if (size := _falkordb_size(st, parameters)) > _FALKORDB_QUERY_LIMIT:
            raise MhgraphError(f"statement {name}: {size} bytes of query and parameters, more than FalkorDB's "
                               f"Bolt listener takes ({_FALKORDB_QUERY_LIMIT})")
        # Its Bolt BEGIN and COMMIT do nothing (each statement commits on its own), and its
        # listener answers a transaction's COMMIT only after a 40 ms TCP delay: run auto-commit.
        with driver.session(database=database) as session:
            result = session.run(st.body, parameters)
            records = list(result)
            return neo4j.EagerResult(records, result.consume(), result.keys())
    routing = neo4j.RoutingControl.READ if name.startswith(_READ_STATEMENTS) else neo4j.RoutingControl.WRITE
    return driver.execute_query(st.body, parameters_=parameters, routing_=routing, database_=database)


def _run_rows(driver: neo4j.Driver, name: str, database: str | None, rows: list[dict],
              **parameters) -> list[neo4j.EagerResult]:
    """Run a batched ``$rows`` statement on one batch: in one call, or on FalkorDB in as many
    as keep each call's query and parameters within its Bolt listener's limit."""
    if dialect_of(driver) != "falkordb":
        return [_run(driver, name, database, rows=rows, **parameters)]
    st = statement(name)
    fixed = _falkordb_size(st, {key: _falkordb_value(value) for key, value in parameters.items()}) + len(" rows=[]")
    results, chunk, size = [], [], fixed
    for row in rows:
        row_size = _rendered_size(_falkordb_value(row)) + 2
        if chunk and size + row_size > _FALKORDB_QUERY_LIMIT:
            results.append(_run(driver, name, database, rows=chunk, **parameters))
            chunk, size = [], fixed
        chunk.append(row)
        size += row_size
    if chunk:
        results.append(_run(driver, name, database, rows=chunk, **parameters))
    return results


# ---------------------------------------------------------------------------------------------
# FalkorDB, the test server: the layer its Bolt listener needs (see docs/neo4j.md)

# FalkorDB 4.16 turns Bolt parameters into text: it prefixes the query with
# "CYPHER name=value ..." in a buffer of 4096 bytes (a longer one crashes the server), puts a
# string between single quotes as it is, writes a float with six decimals, and cannot write a
# date (nor send a stored one back).
_FALKORDB_QUERY_LIMIT = 4000


def _falkordb_value(value):
    """A parameter value as FalkorDB's Bolt listener can take it: strings escaped for its
    quotes, dates as ISO-8601 strings (which compare in date order), the rest as it is."""
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("'", "\\'")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_falkordb_value(v) for v in value]
    if isinstance(value, dict):
        return {key: _falkordb_value(v) for key, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        raise MhgraphError(f"FalkorDB's Bolt listener cannot take the number {value}")
    return value


def _rendered_size(value) -> int:
    """Bytes FalkorDB writes for an (already escaped) parameter value."""
    if value is None:
        return 4
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return len(str(value))
    if isinstance(value, float):
        return len(f"{value:f}")
    if isinstance(value, str):
        return len(value.encode()) + 2
    if isinstance(value, list):
        return 2 + sum(_rendered_size(v) + 2 for v in value)
    return 2 + sum(len(key.encode()) + 4 + _rendered_size(v) for key, v in value.items())


def _falkordb_size(st: Statement, parameters: dict) -> int:
    return (len("CYPHER ") + len(st.body.encode())
            + sum(len(key) + 2 + _rendered_size(value) for key, value in parameters.items()))


# ---------------------------------------------------------------------------------------------
# connection


def _redacted(uri: str) -> str:
    """The URI without any user:password part, for messages and logs."""
    parts = urlsplit(uri)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


_DIALECT_OF: weakref.WeakKeyDictionary[neo4j.Driver, str] = weakref.WeakKeyDictionary()


def dialect_of(driver: neo4j.Driver) -> str:
    """``"neo4j"``, or ``"falkordb"`` for a driver :func:`connect` opened with that dialect."""
    return _DIALECT_OF.get(driver, "neo4j")


def connect(uri: str | None = None, *, user: str | None = None, password: str | None = None,
            dialect: str | None = None) -> neo4j.Driver:
    """A verified :class:`neo4j.Driver`; close it when done (or use it in a ``with`` block).

    ``uri``, ``user`` and ``password`` default to ``MHGRAPH_NEO4J_URI``, ``MHGRAPH_NEO4J_USER``
    and ``MHGRAPH_NEO4J_PASSWORD``. ``dialect`` (default ``MHGRAPH_NEO4J_DIALECT``, else
    ``"neo4j"``) is ``"falkordb"`` only for FalkorDB's Bolt listener, the test server. Raises
    :class:`~mhgraph.errors.MhgraphError` when no URI is given or the server cannot be reached
    or refuses the credentials.
    """
    uri = uri or os.environ.get(URI_ENV)
    if not uri:
        raise MhgraphError(f"no Neo4j server given: pass a URI or set {URI_ENV}")
    dialect = dialect or os.environ.get(DIALECT_ENV) or "neo4j"
    if dialect not in DIALECTS:
        raise MhgraphError(f"unknown store dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    user = user if user is not None else os.environ.get(USER_ENV)
    password = password if password is not None else os.environ.get(PASSWORD_ENV)
    auth = (user or "", password or "") if (user or password) else None
    driver = None
    try:  # the driver's own messages may quote the URI, user:password part included
        driver = neo4j.GraphDatabase.driver(uri, auth=auth)
        driver.verify_connectivity()
    except (neo4j.exceptions.DriverError, neo4j.exceptions.Neo4jError, ValueError) as exc:
        if driver is not None:
            driver.close()
        raise MhgraphError(f"cannot use the Neo4j server at {_redacted(uri)}: {type(exc).__name__}") from None
    _DIALECT_OF[driver] = dialect
    log.info("connected to %s at %s", "Neo4j" if dialect == "neo4j" else "FalkorDB", _redacted(uri))
    return driver


@contextlib.contextmanager
def _driver(driver_or_uri: neo4j.Driver | str | None, user: str | None,
            password: str | None) -> Iterator[neo4j.Driver]:
    """Use a driver the caller owns, or open (and afterwards close) one for a URI."""
    if isinstance(driver_or_uri, neo4j.Driver):
        yield driver_or_uri
        return
    driver = connect(driver_or_uri, user=user, password=password)
    try:
        yield driver
    finally:
        driver.close()


# ---------------------------------------------------------------------------------------------
# tables -> parameter rows


def _check_columns(frame: pl.DataFrame, table: str, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"the {table} table lacks the column(s) {', '.join(missing)}", file=table,
                         column=missing[0])
    for column in frame.columns:
        if column in _IDENTIFIER_COLUMNS:
            raise InputError("identifiers, keyed or plaintext, are not stored in Neo4j; drop this column",
                             file=table, column=column)
        if column in _STORE_ONLY:
            raise InputError("this name is kept for the store's own bookkeeping; rename the column",
                             file=table, column=column)
        dtype = frame.schema[column]
        inner = dtype.inner if isinstance(dtype, pl.List) else dtype
        if not isinstance(inner, _STORABLE):
            raise InputError(f"Neo4j cannot store values of type {dtype}", file=table, column=column)


def _first_row(mask: pl.Series) -> int:
    return int(mask.arg_true()[0]) + 1


def _check_unique_keys(frame: pl.DataFrame, table: str, key: str) -> None:
    nulls = frame.get_column(key).is_null()
    if nulls.any():
        raise InputError(f"empty {key}", file=table, row=_first_row(nulls), column=key)
    duplicated = frame.get_column(key).is_duplicated()
    if duplicated.any():
        row = int(duplicated.arg_true()[1]) + 1
        raise InputError(f"{key} {frame[row - 1, key]!r} appears more than once", file=table, row=row, column=key)


def _refuse_unknown(table: pl.DataFrame, name: str, column: str, allowed) -> None:
    """Raise naming the first row whose ``column`` is null or not one of ``allowed``."""
    unknown = ~table.get_column(column).is_in(list(allowed))
    if unknown.fill_null(True).any():
        row = _first_row(unknown.fill_null(True))
        raise InputError(f"{column} {table[row - 1, column]!r} is not one of {', '.join(allowed)}",
                         file=name, row=row, column=column)


def _node_tables(nodes: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The checked ``nodes`` table split by label."""
    _check_columns(nodes, "nodes", _NODE_PROVENANCE)
    _check_unique_keys(nodes, "nodes", "entity_id")
    _refuse_unknown(nodes, "nodes", "entity_type", NODE_LABELS)
    return {NODE_LABELS[key[0]]: part for key, part in nodes.partition_by("entity_type", as_dict=True).items()}


def _edge_tables(edges: pl.DataFrame, entity_ids: set[str]) -> dict[str, pl.DataFrame]:
    """The checked ``edges`` table split by relation type; both ends must be in ``entity_ids``."""
    _check_columns(edges, "edges", (*_EDGE_KEYS, *_EDGE_PROVENANCE))
    _check_unique_keys(edges, "edges", "relation_id")
    _refuse_unknown(edges, "edges", "type", RELATION_TYPES)
    known = list(entity_ids)
    dangling = {end: ~edges.get_column(end).is_in(known).fill_null(False) | edges.get_column(end).is_null()
                for end in ("from_entity", "to_entity")}
    either = dangling["from_entity"] | dangling["to_entity"]
    if either.any():
        row = _first_row(either)
        end = "from_entity" if dangling["from_entity"][row - 1] else "to_entity"
        raise InputError(f"entity {edges[row - 1, end]!r} is not in the nodes table being loaded",
                         file="edges", row=row, column=end)
    return {key[0]: part.drop("type") for key, part in edges.partition_by("type", as_dict=True).items()}


_NODE_NAMED = _NODE_PROVENANCE
_EDGE_NAMED = ("relation_id", "from_entity", "to_entity", *_EDGE_PROVENANCE)


def _parameter_rows(table: pl.DataFrame, named: tuple[str, ...], batch_size: int) -> Iterator[list[dict]]:
    """Batches of ``$rows`` maps: the ``named`` columns by name, every other one under
    ``properties`` (dates stay dates, lists stay lists), made one batch at a time."""
    others = [c for c in table.columns if c not in named]
    for chunk in table.iter_slices(batch_size):
        yield [{**{c: row[c] for c in named}, "properties": {c: row[c] for c in others}}
               for row in chunk.iter_rows(named=True)]


# ---------------------------------------------------------------------------------------------
# loading and deleting


def ensure_schema(driver_or_uri: neo4j.Driver | str | None = None, *, database: str | None = None,
                  user: str | None = None, password: str | None = None) -> None:
    """Create what the loads' keys rely on, each only if absent: the uniqueness constraints on
    Neo4j, plain indexes on FalkorDB (the test server, which has no constraints)."""
    with _driver(driver_or_uri, user, password) as driver:
        for name in SCHEMA_STATEMENTS[dialect_of(driver)]:
            try:
                _run(driver, name, database)
            except neo4j.exceptions.Neo4jError as exc:  # FalkorDB: CREATE INDEX has no IF NOT EXISTS
                if "already indexed" not in (exc.message or ""):
                    raise


def _check_purposes(nodes: pl.DataFrame, edges: pl.DataFrame, purpose: str) -> None:
    """Refuse a row whose source purpose the run's purpose does not permit."""
    allowed = sorted(allowed_source_purposes(purpose))
    checks = (("nodes", "purposes", nodes.get_column("purposes").list.eval(pl.element().is_in(allowed)).list.all()),
              ("edges", "purpose", edges.get_column("purpose").is_in(allowed)))
    for table, column, permitted in checks:
        refused = ~permitted.fill_null(False)
        if refused.any():
            row = _first_row(refused)
            frame = nodes if table == "nodes" else edges
            raise InputError(f"{frame[row - 1, column]!r} holds a source purpose that run purpose {purpose} does "
                             f"not permit ({', '.join(allowed)})", file=table, row=row, column=column)


def load_graph(driver_or_uri: neo4j.Driver | str | None, nodes: pl.DataFrame, edges: pl.DataFrame, *,
               run_id: str, purpose: str, batch_size: int = 5000, communities: pl.DataFrame | None = None,
               database: str | None = None, user: str | None = None,
               password: str | None = None) -> pl.DataFrame:
    """Load a run's ``nodes`` and ``edges`` tables (and its ``communities``, if given) as that
    run's own part of the store, recorded with the run's ``purpose``.

    Nodes are merged per label, edges per relation type, ``batch_size`` rows per transaction;
    loading the same tables again changes nothing. Every check runs before anything is
    written: an :class:`~mhgraph.errors.InputError` names table, row and column for a missing
    column, an identifier column, a duplicate or empty key, an unknown entity or relation
    type, an edge whose endpoint is not in ``nodes``, or a source purpose ``purpose`` does not
    permit. A run already in the store under another purpose is refused.

    Returns one row per label and relation type: ``kind`` (``node``/``relationship``),
    ``name``, ``rows`` sent and ``created`` (0 on a re-load).
    """
    if not run_id:
        raise MhgraphError("load_graph needs a run_id")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    node_tables = _node_tables(nodes)
    edge_tables = _edge_tables(edges, set(nodes.get_column("entity_id").to_list()))
    _check_purposes(nodes, edges, purpose)
    report = []
    with _driver(driver_or_uri, user, password) as driver:
        ensure_schema(driver, database=database)
        stored = _run(driver, "load_run", database, run_id=run_id, purpose=purpose).records[0]["purpose"]
        if stored != purpose:
            raise MhgraphError(f"run {run_id} is in the store for purpose {stored}, not {purpose}; delete it "
                               "first or load it with its own purpose")
        for label, table in node_tables.items():
            created = 0
            for batch in _parameter_rows(table, _NODE_NAMED, batch_size):
                for result in _run_rows(driver, NODE_STATEMENTS[label], database, batch, run_id=run_id):
                    created += result.summary.counters.nodes_created
            log.info("neo4j: %d %s nodes loaded for run %s (%d new)", table.height, label, run_id, created)
            report.append(("node", label, table.height, created))
        for kind, table in edge_tables.items():
            created = 0
            for batch in _parameter_rows(table, _EDGE_NAMED, batch_size):
                results = _run_rows(driver, EDGE_STATEMENTS[kind], database, batch, run_id=run_id)
                merged = sum(result.records[0]["merged"] for result in results)
                if merged != len(batch):  # an endpoint vanished between the two steps
                    raise MhgraphError(f"run {run_id}: only {merged} of {len(batch)} {kind} relations "
                                       "found both endpoints in the store")
                created += sum(result.summary.counters.relationships_created for result in results)
            log.info("neo4j: %d %s relations loaded for run %s (%d new)", table.height, kind, run_id, created)
            report.append(("relationship", kind, table.height, created))
        if communities is not None:
            write_communities(driver, communities, run_id=run_id, batch_size=batch_size, database=database)
    return pl.DataFrame(report, schema={"kind": pl.String, "name": pl.String, "rows": pl.Int64,
                                        "created": pl.Int64}, orient="row")


def _run_manifest(out_dir: Path, run_id: str | None, purpose: str | None) -> dict:
    """The run's manifest (or, without one, what the arguments give), checked against them."""
    path = out_dir / "run_manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if not manifest and (run_id is None or purpose is None):
        raise InputError("no run manifest to take the run id and purpose from; give both", file=str(path))
    run_id = run_id or manifest.get("run_id")
    if not run_id:
        raise InputError("the manifest has no run_id; give the run id", file=str(path), column="run_id")
    made_for = manifest.get("run_purpose")
    if purpose is not None and made_for is not None and purpose != made_for:
        raise InputError(f"the run was made for purpose {made_for}; it can only be loaded for that purpose, "
                         f"not {purpose}", file=str(path), column="run_purpose")
    purpose = purpose or made_for
    if not purpose:
        raise InputError("the manifest has no run_purpose; give the purpose", file=str(path), column="run_purpose")
    allowed_source_purposes(purpose)  # an unknown purpose is refused here
    return {**manifest, "run_id": run_id, "run_purpose": purpose,
            "legal_ground": manifest.get("legal_ground") or RUN_PURPOSES[purpose][0]}


def load_neo4j(out_dir: str | os.PathLike, uri: str | None = None, *, run_id: str | None = None,
               purpose: str | None = None, batch_size: int = 5000, database: str | None = None,
               user: str | None = None, password: str | None = None) -> pl.DataFrame:
    """Load a finished run from its output folder: ``OUT_DIR/tables/nodes.parquet`` and
    ``edges.parquet``, and ``communities.parquet`` when it is there.

    ``run_id`` and ``purpose`` default to the ones in ``OUT_DIR/run_manifest.json``; a purpose
    other than the run's own is refused. One line goes to the audit log
    (:func:`mhgraph.manifest.append_audit_log`) once the run is loaded. The server and
    credentials are as for :func:`connect`. Returns what :func:`load_graph` returns.
    """
    out_dir = Path(out_dir)
    tables = out_dir / "tables"
    for name in ("nodes", "edges"):
        if not (tables / f"{name}.parquet").is_file():
            raise InputError(f"no {name} table: is this the output folder of a run?",
                             file=str(tables / f"{name}.parquet"))
    manifest = _run_manifest(out_dir, run_id, purpose)
    communities = tables / "communities.parquet"
    nodes, edges = pl.read_parquet(tables / "nodes.parquet"), pl.read_parquet(tables / "edges.parquet")
    try:
        report = load_graph(uri, nodes, edges, run_id=manifest["run_id"], purpose=manifest["run_purpose"],
                            batch_size=batch_size, database=database, user=user, password=password,
                            communities=pl.read_parquet(communities) if communities.is_file() else None)
    except InputError as exc:
        if exc.file not in ("nodes", "edges", "communities"):
            raise
        # name the Parquet file instead of the table: same message, row and column
        where = str(InputError("", file=exc.file, row=exc.row, column=exc.column))
        raise InputError(str(exc).removeprefix(where), file=str(tables / f"{exc.file}.parquet"), row=exc.row,
                         column=exc.column) from None
    append_audit_log(out_dir, {**manifest, "command": "load-neo4j",
                               "store": _redacted(uri or os.environ.get(URI_ENV, ""))})
    return report


def write_communities(driver_or_uri: neo4j.Driver | str | None, communities: pl.DataFrame, *, run_id: str,
                      batch_size: int = 5000, database: str | None = None, user: str | None = None,
                      password: str | None = None) -> int:
    """Store a run's ``communities`` table as its clustering, replacing any earlier one.

    Every entity must already be loaded in that run; returns the number of memberships written.
    """
    _check_columns(communities, "communities", ("entity_id", "cluster_id", "cluster_size"))
    _check_unique_keys(communities, "communities", "entity_id")
    table = communities.select("entity_id", "cluster_id", "cluster_size")
    with _driver(driver_or_uri, user, password) as driver:
        _run(driver, "delete_run_clusters", database, run_id=run_id)
        written = 0
        for chunk in table.iter_slices(batch_size):
            written += sum(result.records[0]["written"] for result in
                           _run_rows(driver, "write_communities", database, chunk.to_dicts(), run_id=run_id))
    if written != table.height:
        raise MhgraphError(f"run {run_id}: {table.height - written} of {table.height} community rows name an "
                           "entity that is not in the store; load the run's nodes first")
    log.info("neo4j: %d community memberships written for run %s", written, run_id)
    return written


def _repeat(driver: neo4j.Driver, name: str, database: str | None, column: str, **parameters) -> int:
    """Run a batched statement until it reports 0; the total it reported."""
    total = 0
    while count := _run(driver, name, database, **parameters).records[0][column]:
        total += count
    return total


def delete_run(driver_or_uri: neo4j.Driver | str | None, run_id: str, *, batch_size: int = 10000,
               database: str | None = None, user: str | None = None, password: str | None = None) -> dict:
    """Remove one run: its clusters, its relationships, its nodes and its record. Other runs,
    including their nodes of the same entities, stay as they are.

    Works in batches of ``batch_size``; returns the counts removed.
    """
    with _driver(driver_or_uri, user, password) as driver:
        clusters = _run(driver, "delete_run_clusters", database, run_id=run_id).records[0]["deleted"]
        relationships = _repeat(driver, "delete_run_relationships", database, "deleted",
                                run_id=run_id, batch_size=batch_size)
        nodes = _repeat(driver, "delete_run_nodes", database, "deleted", run_id=run_id, batch_size=batch_size)
        _run(driver, "delete_run_record", database, run_id=run_id)
    log.info("neo4j: run %s deleted: %d clusters, %d relationships, %d nodes", run_id, clusters,
             relationships, nodes)
    return {"clusters": clusters, "relationships": relationships, "nodes": nodes}


def run_counts(driver_or_uri: neo4j.Driver | str | None, run_id: str, *, database: str | None = None,
               user: str | None = None, password: str | None = None) -> dict:
    """``{"nodes": ..., "relationships": ...}`` the run has in the store."""
    with _driver(driver_or_uri, user, password) as driver:
        record = _run(driver, "count_run", database, run_id=run_id).records[0]
    return {"nodes": record["nodes"], "relationships": record["relationships"]}


# ---------------------------------------------------------------------------------------------
# reading back, for a reader with a purpose


def readable_run_purposes(reader_purpose: str) -> list[str]:
    """The run purposes whose runs a reader with ``reader_purpose`` may read: those that permit
    no source purpose the reader's purpose does not permit.

    >>> readable_run_purposes("municipal_supervision")
    ['municipal_supervision', 'permit_supervision']
    >>> readable_run_purposes("riec_integral_assessment")
    ['labour_market_supervision', 'municipal_supervision', 'permit_supervision', 'riec_integral_assessment']
    """
    allowed = allowed_source_purposes(reader_purpose)
    return sorted(name for name, (_, sources) in RUN_PURPOSES.items() if sources <= allowed)


def _check_reader(driver: neo4j.Driver, run_id: str, purpose: str, database: str | None) -> list[str]:
    """The run purposes ``purpose`` may read, after refusing a run it may not read."""
    readable = readable_run_purposes(purpose)
    records = _run(driver, "run_purpose", database, run_id=run_id).records
    if not records:
        raise MhgraphError(f"the store has no run {run_id!r}")
    stored = records[0]["purpose"]
    if stored not in readable:
        withheld = sorted(allowed_source_purposes(stored) - allowed_source_purposes(purpose))
        raise MhgraphError(f"run {run_id} was loaded for purpose {stored}; a reader for purpose {purpose} may not "
                           f"read it (it may hold sources collected for {', '.join(withheld)})")
    return readable


def _native(value):
    """Driver values as the tables hold them: neo4j Date/DateTime -> datetime, lists kept."""
    if isinstance(value, list):
        return [_native(v) for v in value]
    if hasattr(value, "to_native"):
        return value.to_native()
    return value


def _frame(records: list[dict], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """A table with the columns of ``schema`` first, in their types (null where nothing has a
    value; a date stored as an ISO string becomes a date), then every other property, sorted
    by name."""
    rows = [{k: _native(v) for k, v in r.items() if k not in _STORE_ONLY} for r in records]
    rest = sorted({k for r in rows for k in r} - set(schema))
    columns = (*schema, *rest)
    frame = pl.DataFrame([{c: r.get(c) for c in columns} for r in rows], infer_schema_length=None,
                         schema=None if rows else dict.fromkeys(columns, pl.String))
    return frame.with_columns(
        pl.col(c).str.to_date("%Y-%m-%d") if dtype == pl.Date and frame.schema[c] == pl.String
        else pl.col(c).cast(dtype) for c, dtype in schema.items())


def read_cluster(driver_or_uri: neo4j.Driver | str | None, run_id: str, cluster_id: str, *, purpose: str,
                 database: str | None = None, user: str | None = None,
                 password: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(nodes, edges)`` of one cluster of a run, shaped and typed like the ``nodes``/``edges``
    tables, for a reader with ``purpose``.

    Edges are the run's relations between members of the cluster. Every column of the tables
    is there (nulls where nothing stored has a value), then any other stored property. Raises
    :class:`~mhgraph.errors.MhgraphError` when the store has no such run or cluster, or when
    ``purpose`` may not read the run (:func:`readable_run_purposes`).
    """
    with _driver(driver_or_uri, user, password) as driver:
        readable = _check_reader(driver, run_id, purpose, database)
        node_records = _run(driver, "read_cluster_nodes", database, run_id=run_id, cluster_id=cluster_id,
                            readable_purposes=readable).records
        edge_records = _run(driver, "read_cluster_edges", database, run_id=run_id, cluster_id=cluster_id,
                            readable_purposes=readable).records
    if not node_records:
        raise MhgraphError(f"run {run_id} has no cluster {cluster_id!r} in the store")
    nodes = _frame([{"entity_id": r["entity_id"], **r["properties"]} for r in node_records], NODE_SCHEMA)
    edges = _frame([{k: r[k] for k in _EDGE_KEYS} | r["properties"] for r in edge_records], EDGE_SCHEMA)
    return nodes, edges

# ---------------------------------------------------------------------------------------------
# Graph Data Science


def gds_available(driver_or_uri: neo4j.Driver | str | None = None, *, database: str | None = None,
                  user: str | None = None, password: str | None = None) -> bool:
    """Whether the server offers every GDS procedure :func:`run_gds_leiden` needs (FalkorDB
    never does)."""
    with _driver(driver_or_uri, user, password) as driver:
        if dialect_of(driver) != "neo4j":
            return False
        found = _run(driver, "gds_procedures", database, names=list(_GDS_PROCEDURES)).records[0]["procedures"]
    return set(found) == set(_GDS_PROCEDURES)


@contextlib.contextmanager
def _projected(driver: neo4j.Driver, run_id: str, weights: Mapping[str, float] | None,
               database: str | None) -> Iterator[str]:
    """Project the run into the GDS catalog for the duration of the block."""
    from mhgraph.detect import RELATION_WEIGHTS

    weights = dict(RELATION_WEIGHTS if weights is None else weights)
    missing = sorted(set(RELATION_TYPES) - set(weights))
    if missing:
        raise MhgraphError(f"no community weight for relation type(s) {', '.join(missing)}")
    if not gds_available(driver, database=database):
        raise MhgraphError("this Neo4j server has no Graph Data Science 2.5+ (gds.leiden.*): detect "
                           "communities embedded (mhgraph.detect.detect_communities on the run's tables) "
                           "and store them with write_communities")
    graph_name = f"mhgraph-{run_id}"
    _run(driver, "gds_drop_graph", database, graph_name=graph_name)  # a leftover of an aborted call
    projected = _run(driver, "gds_project_run", database, graph_name=graph_name, run_id=run_id,
                     weights=weights).records[0]
    if projected["graph_name"] is None:
        raise MhgraphError(f"run {run_id} has no nodes in the store; load it first")
    log.info("gds: run %s projected: %d nodes, %d relationships", run_id, projected["node_count"],
             projected["relationship_count"])
    try:
        yield graph_name
    finally:
        _run(driver, "gds_drop_graph", database, graph_name=graph_name)


def _leiden_config(gamma: float, theta: float, max_levels: int, tolerance: float, random_seed: int,
                   concurrency: int) -> dict:
    return {"gamma": gamma, "theta": theta, "max_levels": max_levels, "tolerance": tolerance,
            "random_seed": random_seed, "concurrency": concurrency}


def _communities(streamed: list[dict]) -> pl.DataFrame:
    """A ``communities`` table from GDS's ``{entity_id, community}`` rows, numbered as the
    embedded detection numbers its clusters."""
    from mhgraph.detect import number_clusters

    frame = pl.DataFrame(streamed, schema={"entity_id": pl.String, "community": pl.Int64}).sort("entity_id")
    return number_clusters(frame.get_column("entity_id").to_numpy(), frame.get_column("community").to_numpy())


def run_gds_leiden(driver_or_uri: neo4j.Driver | str | None, run_id: str, *, gamma: float = 1.0,
                   theta: float = 0.01, max_levels: int = 10, tolerance: float = 1e-4, random_seed: int = 42,
                   concurrency: int = 1, weights: Mapping[str, float] | None = None, store: bool = True,
                   database: str | None = None, user: str | None = None,
                   password: str | None = None) -> pl.DataFrame:
    """Communities of a stored run by GDS Leiden, as a ``communities`` table.

    The run is projected with the weights the embedded detection uses
    (:data:`mhgraph.detect.RELATION_WEIGHTS` unless ``weights`` is given), Leiden runs inside
    Neo4j, and the communities are numbered ``C0001``... by size as
    :func:`mhgraph.detect.detect_communities` numbers them. GDS Leiden optimises modularity
    with resolution ``gamma``, not CPM: expect a different partition from the embedded
    detection (see ``docs/neo4j.md``). With ``concurrency=1`` and a fixed ``random_seed`` the
    result is reproducible. ``store=True`` also records the result with
    :func:`write_communities`. Raises :class:`~mhgraph.errors.MhgraphError` without GDS.
    """
    config = _leiden_config(gamma, theta, max_levels, tolerance, random_seed, concurrency)
    with _driver(driver_or_uri, user, password) as driver:
        with _projected(driver, run_id, weights, database) as graph_name:
            records = _run(driver, "gds_leiden_stream", database, graph_name=graph_name, **config).records
        communities = _communities([dict(r) for r in records])
        log.info("gds: run %s: %d entities in %d communities (Leiden, gamma %g, seed %d)", run_id,
                 communities.height, communities.get_column("cluster_id").n_unique(), gamma, random_seed)
        if store:
            write_communities(driver, communities, run_id=run_id, database=database)
    return communities


def gds_leiden_write(driver_or_uri: neo4j.Driver | str | None, run_id: str, *,
                     write_property: str = "leiden_community", include_intermediate_communities: bool = False,
                     gamma: float = 1.0, theta: float = 0.01, max_levels: int = 10, tolerance: float = 1e-4,
                     random_seed: int = 42, concurrency: int = 1, weights: Mapping[str, float] | None = None,
                     database: str | None = None, user: str | None = None, password: str | None = None) -> dict:
    """Run GDS Leiden on a stored run and write the raw community id onto its nodes.

    For looking at the store directly (Browser, Bloom). The property is shared by all runs and
    overwritten by the next call; :func:`run_gds_leiden` keeps a run-scoped record instead.
    Returns GDS's statistics (community_count, ran_levels, modularity, did_converge,
    node_properties_written).
    """
    config = _leiden_config(gamma, theta, max_levels, tolerance, random_seed, concurrency)
    with _driver(driver_or_uri, user, password) as driver:
        with _projected(driver, run_id, weights, database) as graph_name:
            record = _run(driver, "gds_leiden_write", database, graph_name=graph_name,
                          write_property=write_property,
                          include_intermediate_communities=include_intermediate_communities, **config).records[0]
    return dict(record)


# ---------------------------------------------------------------------------------------------
# indicators


# Indicators of mhgraph.indicators that also exist in Cypher (the `cypher` key of
# mhgraph/indicators/definitions.toml): statement, and the reason sentence from the statement's
# result row and the thresholds — the template of the same file, so the words are the Python rule's.
INDICATORS: dict[str, tuple[str, Callable[[dict, dict], str]]] = {
    name: (rule.cypher, functools.partial(render_reason, name)) for name, rule in RULES.items() if rule.cypher
}


def _indicator_version(name: str) -> str:
    """The version the statement's header states: 'Indicator NAME, version V: ...'."""
    name_of_statement = INDICATORS[name][0]
    match = re.match(rf"Indicator {name}, version (\w+):", statement(name_of_statement).summary)
    if not match:
        raise MhgraphError(f"mhgraph/queries/{name_of_statement}.cypher does not state its version")
    return match.group(1)


def run_indicator(driver_or_uri: neo4j.Driver | str | None, name: str, *, run_id: str, purpose: str,
                  database: str | None = None, user: str | None = None, password: str | None = None,
                  **thresholds) -> pl.DataFrame:
    """Run the Cypher form of indicator ``name`` of :mod:`mhgraph.indicators` on a stored run,
    for a reader with ``purpose`` (refused when it may not read the run, as :func:`read_cluster`).

    Returns ``indicator_hits`` rows, as the Python rule does on the same tables: version,
    weight and default thresholds come from :data:`mhgraph.indicators.INDICATORS`;
    ``thresholds`` override them; ``cluster_id`` is null when the run has no clustering stored.
    Raises :class:`~mhgraph.errors.MhgraphError` when the Cypher form states another version
    than the Python rule (one of them changed without the other).
    """
    if name not in INDICATORS:
        raise MhgraphError(f"no Cypher form of indicator {name!r}; there is one of {', '.join(INDICATORS)}")
    rule, statement_name = RULES[name], INDICATORS[name][0]
    if _indicator_version(name) != rule.version:
        raise MhgraphError(f"{statement_name}.cypher is version {_indicator_version(name)} of {name}, "
                           f"mhgraph.indicators has version {rule.version}")
    unknown = sorted(set(thresholds) - set(rule.thresholds))
    if unknown:
        raise MhgraphError(f"indicator {name} has no threshold(s) {', '.join(unknown)}")
    values = {**rule.thresholds, **thresholds}
    with _driver(driver_or_uri, user, password) as driver:
        _check_reader(driver, run_id, purpose, database)
        records = _run(driver, statement_name, database, run_id=run_id, **values).records
    hits = _hits(name, [dict(r) for r in records], values)
    log.info("neo4j: indicator %s v%s fired %d times in run %s", name, rule.version, hits.height, run_id)
    return hits


def _hits(name: str, records: list[dict], thresholds: dict) -> pl.DataFrame:
    """``indicator_hits`` rows from the rows an indicator statement returned."""
    rule, reason = RULES[name], INDICATORS[name][1]
    hits = []
    for record in records:
        row = {k: _native(v) for k, v in record.items()}
        hits.append({"indicator": name, "version": rule.version, "focus_entity": row["focus_entity"],
                     "cluster_id": row["cluster_id"], "reason": reason(row, thresholds),
                     "reason_nl": reason(row, thresholds, "nl"),
                     "evidence": sorted(row["evidence"]), "partners": sorted(row["partners"]),
                     "weight": rule.weight})
    return pl.DataFrame(hits, schema=HIT_SCHEMA).sort("focus_entity")
