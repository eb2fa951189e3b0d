"""Neo4j as the shared, larger store: load a run's graph, read clusters back, detect
communities with Graph Data Science, run indicator patterns inside the database.

Every statement is a file in ``mhgraph/queries/`` (one statement per file, a header comment
saying what it does and its parameters); this module only chooses which one to run with
which parameters, through the official ``neo4j`` driver. The statements ship inside the
package, so an installed mhgraph finds them as well as a checkout does.

The store holds several runs side by side. A node (``:Entity`` plus ``:Person``,
``:Company``, ``:Address`` or ``:Permit``) is keyed by ``entity_id`` and lists the runs that
loaded it in ``run_ids``; a relationship belongs to one run (``run_id``) and is keyed by
``(run_id, relation_id)``; a clustering belongs to one run
(``(:Entity)-[:IN_CLUSTER]->(:Cluster {run_id, cluster_id})``). Loading the same run again
changes nothing; :func:`delete_run` removes one run and keeps the others.

Credentials come from the arguments or from ``MHGRAPH_NEO4J_URI``, ``MHGRAPH_NEO4J_USER`` and
``MHGRAPH_NEO4J_PASSWORD``; they are never logged. In a notebook::

    with connect() as driver:
        load_graph(driver, nodes, edges, run_id=run_id, communities=communities)
        members, relations = read_cluster(driver, run_id, "C0001")
        hits = run_indicator(driver, "crowded_address", run_id=run_id)

>>> statement("load_edges_employed_by").parameters
('rows', 'run_id')
>>> sorted(INDICATORS), statement("indicator_straw_director").parameters
(['crowded_address', 'straw_director'], ('run_id', 'min_short', 'max_days'))
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import neo4j
import polars as pl

from mhgraph.errors import InputError, MhgraphError
from mhgraph.graph import EDGE_COLUMNS, NODE_COLUMNS
from mhgraph.indicators import HIT_SCHEMA, render_reason
from mhgraph.indicators import INDICATORS as RULES
from mhgraph.spec import ENTITY_FIELDS, PLAINTEXT_INPUTS, RELATION_TYPES

__all__ = [
    "INDICATORS",
    "NODE_LABELS",
    "Statement",
    "connect",
    "delete_run",
    "ensure_schema",
    "gds_available",
    "gds_leiden_write",
    "load_graph",
    "load_neo4j",
    "read_cluster",
    "run_counts",
    "run_gds_leiden",
    "run_indicator",
    "statement",
    "statement_names",
    "write_communities",
]

log = logging.getLogger("mhgraph.neo4j_store")

URI_ENV, USER_ENV, PASSWORD_ENV = "MHGRAPH_NEO4J_URI", "MHGRAPH_NEO4J_USER", "MHGRAPH_NEO4J_PASSWORD"

NODE_LABELS = {"person": "Person", "company": "Company", "address": "Address", "permit": "Permit"}

SCHEMA_STATEMENTS = ("schema_entity", "schema_person", "schema_company", "schema_address",
                     "schema_permit", "schema_cluster")
NODE_STATEMENTS = {label: f"load_nodes_{label.lower()}" for label in NODE_LABELS.values()}
EDGE_STATEMENTS = {kind: f"load_edges_{kind.lower()}" for kind in RELATION_TYPES}

_NODE_PROVENANCE = ("entity_id", "entity_type", "partners", "sources", "purposes", "mention_count")
_EDGE_KEYS = ("relation_id", "type", "from_entity", "to_entity")
_EDGE_PROVENANCE = ("source", "partner", "purpose", "record_id", "valid_from", "valid_to")
_STORE_ONLY = ("run_id", "run_ids")  # set by the store itself; a table must not bring them
# No identifier, keyed or plaintext, goes into the shared store: nodes and edges carry context.
_IDENTIFIER_COLUMNS = frozenset(
    {name for names in PLAINTEXT_INPUTS.values() for name in names}
    | {name for fields in ENTITY_FIELDS.values() for name, kind in fields.items() if kind in ("hash", "bloom")}
)
_STORABLE = (pl.String, pl.Boolean, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16,
             pl.UInt32, pl.Float32, pl.Float64, pl.Date, pl.Datetime, pl.Null)
_READ_STATEMENTS = ("read_", "count_", "indicator_")
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


def _query_dir():
    return resources.files("mhgraph").joinpath("queries")


def statement_names() -> list[str]:
    """Names of every statement shipped in ``mhgraph/queries/`` (file names without ``.cypher``)."""
    return sorted(p.name.removesuffix(".cypher") for p in _query_dir().iterdir() if p.name.endswith(".cypher"))


_PARAMETER_LINE = re.compile(r"^//\s+\$([A-Za-z_][A-Za-z0-9_]*)")


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
    return Statement(name, text, header[0].removeprefix("//").strip() if header else "", parameters)


def _run(driver: neo4j.Driver, name: str, database: str | None, **parameters) -> neo4j.EagerResult:
    """Run one statement with exactly the parameters its header declares."""
    st = statement(name)
    if set(parameters) != set(st.parameters):
        raise MhgraphError(f"statement {name} takes {sorted(st.parameters)}, was given {sorted(parameters)}")
    routing = neo4j.RoutingControl.READ if name.startswith(_READ_STATEMENTS) else neo4j.RoutingControl.WRITE
    return driver.execute_query(st.text, parameters_=parameters, routing_=routing, database_=database)


# ---------------------------------------------------------------------------------------------
# connection


def _redacted(uri: str) -> str:
    """The URI without any user:password part, for messages and logs."""
    parts = urlsplit(uri)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


def connect(uri: str | None = None, *, user: str | None = None, password: str | None = None) -> neo4j.Driver:
    """A verified :class:`neo4j.Driver`; close it when done (or use it in a ``with`` block).

    ``uri``, ``user`` and ``password`` default to ``MHGRAPH_NEO4J_URI``, ``MHGRAPH_NEO4J_USER``
    and ``MHGRAPH_NEO4J_PASSWORD``. Raises :class:`~mhgraph.errors.MhgraphError` when no URI is
    given or the server cannot be reached or refuses the credentials.
    """
    uri = uri or os.environ.get(URI_ENV)
    if not uri:
        raise MhgraphError(f"no Neo4j server given: pass a URI or set {URI_ENV}")
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
    log.info("connected to Neo4j at %s", _redacted(uri))
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
    """Create the uniqueness constraints the loads rely on (each only if absent)."""
    with _driver(driver_or_uri, user, password) as driver:
        for name in SCHEMA_STATEMENTS:
            _run(driver, name, database)


def load_graph(driver_or_uri: neo4j.Driver | str | None, nodes: pl.DataFrame, edges: pl.DataFrame, *,
               run_id: str, batch_size: int = 5000, communities: pl.DataFrame | None = None,
               database: str | None = None, user: str | None = None,
               password: str | None = None) -> pl.DataFrame:
    """Load a run's ``nodes`` and ``edges`` tables (and its ``communities``, if given).

    Nodes are merged per label, edges per relation type, ``batch_size`` rows per transaction;
    loading the same tables again changes nothing. Every check runs before anything is
    written: an :class:`~mhgraph.errors.InputError` names table, row and column for a missing
    column, an identifier column, a duplicate or empty key, an unknown entity or relation
    type, or an edge whose endpoint is not in ``nodes``.

    Returns one row per label and relation type: ``kind`` (``node``/``relationship``),
    ``name``, ``rows`` sent and ``created`` (0 on a re-load).
    """
    if not run_id:
        raise MhgraphError("load_graph needs a run_id")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    node_tables = _node_tables(nodes)
    edge_tables = _edge_tables(edges, set(nodes.get_column("entity_id").to_list()))
    report = []
    with _driver(driver_or_uri, user, password) as driver:
        ensure_schema(driver, database=database)
        for label, table in node_tables.items():
            created = 0
            for batch in _parameter_rows(table, _NODE_NAMED, batch_size):
                result = _run(driver, NODE_STATEMENTS[label], database, rows=batch, run_id=run_id)
                created += result.summary.counters.nodes_created
            log.info("neo4j: %d %s nodes loaded for run %s (%d new)", table.height, label, run_id, created)
            report.append(("node", label, table.height, created))
        for kind, table in edge_tables.items():
            created = 0
            for batch in _parameter_rows(table, _EDGE_NAMED, batch_size):
                result = _run(driver, EDGE_STATEMENTS[kind], database, rows=batch, run_id=run_id)
                merged = result.records[0]["merged"]
                if merged != len(batch):  # an endpoint vanished between the two steps
                    raise MhgraphError(f"run {run_id}: only {merged} of {len(batch)} {kind} relations "
                                       "found both endpoints in the store")
                created += result.summary.counters.relationships_created
            log.info("neo4j: %d %s relations loaded for run %s (%d new)", table.height, kind, run_id, created)
            report.append(("relationship", kind, table.height, created))
        if communities is not None:
            write_communities(driver, communities, run_id=run_id, batch_size=batch_size, database=database)
    return pl.DataFrame(report, schema={"kind": pl.String, "name": pl.String, "rows": pl.Int64,
                                        "created": pl.Int64}, orient="row")


def load_neo4j(out_dir: str | os.PathLike, uri: str | None = None, *, run_id: str | None = None,
               batch_size: int = 5000, database: str | None = None, user: str | None = None,
               password: str | None = None) -> pl.DataFrame:
    """Load a finished run from its output folder: ``OUT_DIR/tables/nodes.parquet`` and
    ``edges.parquet``, and ``communities.parquet`` when it is there.

    ``run_id`` defaults to the one in ``OUT_DIR/run_manifest.json``. The server and
    credentials are as for :func:`connect`. Returns what :func:`load_graph` returns.
    """
    out_dir = Path(out_dir)
    tables = out_dir / "tables"
    for name in ("nodes", "edges"):
        if not (tables / f"{name}.parquet").is_file():
            raise InputError(f"no {name} table: is this the output folder of a run?",
                             file=str(tables / f"{name}.parquet"))
    if run_id is None:
        manifest = out_dir / "run_manifest.json"
        if not manifest.is_file():
            raise InputError("no run manifest to take the run id from; give the run id", file=str(manifest))
        run_id = json.loads(manifest.read_text(encoding="utf-8")).get("run_id")
        if not run_id:
            raise InputError("the manifest has no run_id; give the run id", file=str(manifest), column="run_id")
    communities = tables / "communities.parquet"
    nodes, edges = pl.read_parquet(tables / "nodes.parquet"), pl.read_parquet(tables / "edges.parquet")
    try:
        return load_graph(uri, nodes, edges, run_id=run_id, batch_size=batch_size, database=database,
                          user=user, password=password,
                          communities=pl.read_parquet(communities) if communities.is_file() else None)
    except InputError as exc:
        if exc.file not in ("nodes", "edges", "communities"):
            raise
        # name the Parquet file instead of the table: same message, row and column
        where = str(InputError("", file=exc.file, row=exc.row, column=exc.column))
        raise InputError(str(exc).removeprefix(where), file=str(tables / f"{exc.file}.parquet"), row=exc.row,
                         column=exc.column) from None


def write_communities(driver_or_uri: neo4j.Driver | str | None, communities: pl.DataFrame, *, run_id: str,
                      batch_size: int = 5000, database: str | None = None, user: str | None = None,
                      password: str | None = None) -> int:
    """Store a run's ``communities`` table as its clustering, replacing any earlier one.

    Every entity must already be loaded; returns the number of memberships written.
    """
    _check_columns(communities, "communities", ("entity_id", "cluster_id", "cluster_size"))
    _check_unique_keys(communities, "communities", "entity_id")
    table = communities.select("entity_id", "cluster_id", "cluster_size")
    with _driver(driver_or_uri, user, password) as driver:
        _run(driver, "delete_run_clusters", database, run_id=run_id)
        written = 0
        for chunk in table.iter_slices(batch_size):
            written += _run(driver, "write_communities", database, rows=chunk.to_dicts(),
                            run_id=run_id).records[0]["written"]
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
    """Remove one run: its clusters, its relationships, and the nodes no other run holds.

    Works in batches of ``batch_size``; returns the counts removed.
    """
    with _driver(driver_or_uri, user, password) as driver:
        clusters = _run(driver, "delete_run_clusters", database, run_id=run_id).records[0]["deleted"]
        relationships = _repeat(driver, "delete_run_relationships", database, "deleted",
                                run_id=run_id, batch_size=batch_size)
        _repeat(driver, "release_run_nodes", database, "released", run_id=run_id, batch_size=batch_size)
        nodes = _repeat(driver, "delete_orphan_nodes", database, "deleted", batch_size=batch_size)
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
# reading back


def _native(value):
    """Driver values as the tables hold them: neo4j Date/DateTime -> datetime, lists kept."""
    if isinstance(value, list):
        return [_native(v) for v in value]
    if hasattr(value, "to_native"):
        return value.to_native()
    return value


def _frame(records: list[dict], leading: tuple[str, ...]) -> pl.DataFrame:
    """A table with the ``leading`` columns first (null where nothing has a value), then every
    other property, sorted by name."""
    rows = [{k: _native(v) for k, v in r.items() if k not in _STORE_ONLY} for r in records]
    rest = sorted({k for r in rows for k in r} - set(leading))
    columns = (*leading, *rest)
    return pl.DataFrame([{c: r.get(c) for c in columns} for r in rows], infer_schema_length=None,
                        schema=None if rows else dict.fromkeys(columns, pl.String))


def read_cluster(driver_or_uri: neo4j.Driver | str | None, run_id: str, cluster_id: str, *,
                 database: str | None = None, user: str | None = None,
                 password: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(nodes, edges)`` of one cluster of a run, shaped like the ``nodes``/``edges`` tables.

    Edges are the run's relations between members of the cluster. Every column of the tables
    is there (nulls where nothing stored has a value), then any other stored property. Raises
    :class:`~mhgraph.errors.MhgraphError` when the run has no such cluster.
    """
    with _driver(driver_or_uri, user, password) as driver:
        node_records = _run(driver, "read_cluster_nodes", database, run_id=run_id, cluster_id=cluster_id).records
        edge_records = _run(driver, "read_cluster_edges", database, run_id=run_id, cluster_id=cluster_id).records
    if not node_records:
        raise MhgraphError(f"run {run_id} has no cluster {cluster_id!r} in the store")
    nodes = _frame([{"entity_id": r["entity_id"], **r["properties"]} for r in node_records], NODE_COLUMNS)
    edges = _frame([{k: r[k] for k in _EDGE_KEYS} | r["properties"] for r in edge_records], EDGE_COLUMNS)
    return nodes, edges


# ---------------------------------------------------------------------------------------------
# Graph Data Science


def gds_available(driver_or_uri: neo4j.Driver | str | None = None, *, database: str | None = None,
                  user: str | None = None, password: str | None = None) -> bool:
    """Whether the server offers every GDS procedure :func:`run_gds_leiden` needs."""
    with _driver(driver_or_uri, user, password) as driver:
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


def run_indicator(driver_or_uri: neo4j.Driver | str | None, name: str, *, run_id: str,
                  database: str | None = None, user: str | None = None, password: str | None = None,
                  **thresholds) -> pl.DataFrame:
    """Run the Cypher form of indicator ``name`` of :mod:`mhgraph.indicators` on a stored run.

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
                     "evidence": sorted(row["evidence"]), "partners": sorted(row["partners"]),
                     "weight": rule.weight})
    return pl.DataFrame(hits, schema=HIT_SCHEMA).sort("focus_entity")
