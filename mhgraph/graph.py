"""The property graph: resolved entities as nodes, partner relations as edges, provenance on both.

:func:`build_graph_tables` turns the ``mentions``, ``relations`` and ``resolution`` tables into
the ``nodes`` and ``edges`` tables of ``docs/tables.md``; :func:`to_networkx` turns those into
a :class:`networkx.MultiDiGraph` for analysis. Only whitelisted context columns reach the
graph: the keyed identifiers, Bloom filters and match keys of the mentions stay in the
``mentions`` table, and nothing a partner delivered outside its spec (such as nationality)
ever gets here.

>>> import datetime as dt
>>> import polars as pl
>>> mentions = pl.DataFrame({
...     "mention_id": ["kvk/1/bedrijf", "kvk/1/vestiging"],
...     "entity_type": ["company", "address"], "source": ["kvk_inschrijvingen"] * 2,
...     "partner": ["kvk"] * 2, "purpose": ["company_register"] * 2, "record_id": ["1"] * 2,
...     "sbi_code": ["5610", None], "municipality": [None, "Arnhem"]})
>>> relations = pl.DataFrame({
...     "relation_id": ["kvk/1/LOCATED_AT/bedrijf/vestiging"], "type": ["LOCATED_AT"],
...     "from_mention": ["kvk/1/bedrijf"], "to_mention": ["kvk/1/vestiging"],
...     "valid_from": [dt.date(2020, 1, 1)], "source": ["kvk_inschrijvingen"], "partner": ["kvk"],
...     "purpose": ["company_register"], "record_id": ["1"]})
>>> resolution = pl.DataFrame({"mention_id": ["kvk/1/bedrijf", "kvk/1/vestiging"],
...     "entity_id": ["C-1", "A-1"], "entity_type": ["company", "address"]})
>>> nodes, edges = build_graph_tables(mentions, relations, resolution)
>>> nodes.select("entity_id", "partners", "mention_count", "sbi_code").rows()
[('A-1', ['kvk'], 1, None), ('C-1', ['kvk'], 1, '5610')]
>>> edges.select("from_entity", "type", "to_entity", "partner").row(0)
('C-1', 'LOCATED_AT', 'A-1', 'kvk')
>>> graph = to_networkx(nodes, edges)
>>> graph.edges["C-1", "A-1", "kvk/1/LOCATED_AT/bedrijf/vestiging"]["purpose"]
'company_register'
"""

from __future__ import annotations

import logging

import networkx as nx
import polars as pl

from mhgraph.errors import InputError
from mhgraph.spec import ENTITY_FIELDS, PURPOSES, RELATION_TYPES

__all__ = ["EDGE_COLUMNS", "EDGE_SCHEMA", "ENTITY_TYPE", "MENTION_COLUMNS", "NODE_COLUMNS", "NODE_SCHEMA", "PURPOSE",
           "RELATION_TYPE", "build_graph_tables", "to_networkx"]

log = logging.getLogger("mhgraph.graph")

_PROVENANCE = ("source", "partner", "purpose", "record_id")

# Columns of a few distinct values are held as numbers, not text: at a million persons the
# provenance and type of the edges took 300 MB as text, 43 MB so. Declared value sets are Enums
# in text order (so sorting by them sorts as the text does); the partners and sources an
# installation's specs name are Categoricals, which join and concatenate across tables.
RELATION_TYPE = pl.Enum(sorted(RELATION_TYPES))
PURPOSE = pl.Enum(sorted(PURPOSES))
ENTITY_TYPE = pl.Enum(sorted(ENTITY_FIELDS))
_FEW_VALUES: dict[str, pl.DataType] = {"type": RELATION_TYPE, "source": pl.Categorical(),
                                        "partner": pl.Categorical(), "purpose": PURPOSE}

# Columns each input table must have, and the typed optional columns filled with nulls when absent.
_MENTION_REQUIRED = ("mention_id", "entity_type", *_PROVENANCE)
_MENTION_CONTEXT: dict[str, pl.DataType] = {
    "municipality": pl.String(),
    "sbi_code": pl.String(),
    "legal_form": pl.String(),
    "registered_on": pl.Date(),
    "dissolved_on": pl.Date(),
    "sponsor_status": pl.String(),
    "sponsor_status_on": pl.Date(),
    "permit_type": pl.String(),
    "permit_status": pl.String(),
    "bibob_outcome": pl.String(),
    "decided_on": pl.Date(),
}
# The mention columns the graph reads: a caller holding a wider table hands over only these.
MENTION_COLUMNS = (*_MENTION_REQUIRED, *_MENTION_CONTEXT)
_RELATION_REQUIRED = ("relation_id", "type", "from_mention", "to_mention", *_PROVENANCE)
_RELATION_OPTIONAL: dict[str, pl.DataType] = {
    "valid_from": pl.Date(),
    "valid_to": pl.Date(),
    "wage": pl.Float64(),
    "hours": pl.Float64(),
    "contract_type": pl.String(),
    "role": pl.String(),
    "permit_purpose": pl.String(),
    "age_band": pl.String(),
}
_RESOLUTION_REQUIRED = ("mention_id", "entity_id", "entity_type")
# The column holding an entity's number while the tables are built (_mention_entities).
_ENTITY = "_entity"
# The mention columns with few distinct values that are counted together per entity.
_COUNTED = ("partner", "source", "purpose", "entity_type")

NODE_COLUMNS = (
    "entity_id", "entity_type", "partners", "sources", "purposes", "mention_count", *_MENTION_CONTEXT,
)
EDGE_COLUMNS = (
    "relation_id", "type", "from_entity", "to_entity", "from_mention", "to_mention",
    "valid_from", "valid_to", *_PROVENANCE, "wage", "hours", "contract_type", "role", "permit_purpose", "age_band",
)
# The column types of the nodes and edges tables (docs/tables.md), for readers that get the
# values back from elsewhere (the graph store).
NODE_SCHEMA: dict[str, pl.DataType] = {
    "entity_id": pl.String(), "entity_type": ENTITY_TYPE, "partners": pl.List(pl.String()),
    "sources": pl.List(pl.String()), "purposes": pl.List(pl.String()), "mention_count": pl.Int64(),
    **_MENTION_CONTEXT,
}
EDGE_SCHEMA: dict[str, pl.DataType] = {
    column: _FEW_VALUES.get(column) or _RELATION_OPTIONAL.get(column, pl.String()) for column in EDGE_COLUMNS
}


def _conform(frame: pl.DataFrame, table: str, required: tuple[str, ...],
             optional: dict[str, pl.DataType]) -> pl.DataFrame:
    """Check the required columns, add absent optional ones as nulls, cast to the documented types."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"the {table} table lacks the required column(s) {', '.join(missing)}",
                         file=table, column=missing[0])
    for column in required:
        nulls = frame.get_column(column).is_null()
        if nulls.any():
            row = int(nulls.arg_true()[0]) + 1
            raise InputError(f"empty value; every {table} row needs a {column}", file=table, row=row,
                             column=column)
    casts = [pl.col(c).cast(pl.String) for c in required]
    for column, dtype in optional.items():
        if column not in frame.columns:
            casts.append(pl.lit(None, dtype=dtype).alias(column))
        elif frame.schema[column] != dtype:
            try:
                frame = frame.with_columns(pl.col(column).cast(dtype, strict=True))
            except pl.exceptions.PolarsError as exc:
                raise InputError(f"cannot read the values as {dtype}: {exc}", file=table,
                                 column=column) from exc
    return frame.with_columns(casts).select(*required, *optional)


def _narrowed(frame: pl.DataFrame, table: str, types: dict[str, pl.DataType]) -> pl.DataFrame:
    """``frame`` with the text columns named in ``types`` cast to those Enum or Categorical types;
    a value outside an Enum's declared set is refused, naming its row.

    >>> _narrowed(pl.DataFrame({"type": ["MANAGES"]}), "edges", {"type": RELATION_TYPE}).dtypes
    [Enum(categories=['EMPLOYED_BY', 'HOLDS_PERMIT', 'LOCATED_AT', 'MANAGES', 'OFFICER_OF', 'REGISTERED_AT', 'SPONSORED_BY'])]
    >>> _narrowed(pl.DataFrame({"type": ["MANAGES", "OWNS"]}), "edges", {"type": RELATION_TYPE})
    Traceback (most recent call last):
    mhgraph.errors.InputError: file edges, row 2, column 'type': value 'OWNS' is not one of EMPLOYED_BY, HOLDS_PERMIT, \
LOCATED_AT, MANAGES, OFFICER_OF, REGISTERED_AT, SPONSORED_BY
    """
    _refuse_undeclared(frame, table, types)
    return frame.with_columns(pl.col(column).cast(dtype) for column, dtype in types.items())


def _refuse_undeclared(frame: pl.DataFrame, table: str, types: dict[str, pl.DataType]) -> None:
    """Refuse a value of a column outside the declared set of its Enum type in ``types``, naming its row."""
    for column, dtype in types.items():
        if isinstance(dtype, pl.Enum):
            unknown = ~frame.get_column(column).is_in(dtype.categories.to_list()) & frame.get_column(column).is_not_null()
            if unknown.any():
                row = int(unknown.arg_true()[0]) + 1
                raise InputError(f"value {frame[row - 1, column]!r} is not one of {', '.join(dtype.categories)}",
                                 file=table, row=row, column=column)


def _first_duplicate(frame: pl.DataFrame, column: str, table: str) -> None:
    duplicated = frame.get_column(column).is_duplicated()
    if duplicated.any():
        row = int(duplicated.arg_true()[1]) + 1
        raise InputError(f"value {frame[row - 1, column]!r} appears more than once; it must be unique",
                         file=table, row=row, column=column)


def _distinct(frame: pl.DataFrame, column: str, key: str = _ENTITY) -> pl.DataFrame:
    """Per ``key`` (an entity), the distinct values of ``column`` as a sorted list, named ``column``
    plus ``s``. Sorted before they are grouped: sorting inside each group is several times slower.

    >>> _distinct(pl.DataFrame({"k": [1, 1, 1], "partner": ["kvk", "ind", "kvk"]}), "partner", "k").rows()
    [(1, ['ind', 'kvk'])]
    """
    return (
        frame.select(key, column).unique().sort(key, column)
        .group_by(key, maintain_order=True).agg(pl.col(column).cast(pl.String).alias(f"{column}s"))
    )


def _most_common(resolved: pl.DataFrame, column: str, key: str = _ENTITY, count: str | None = None) -> pl.DataFrame:
    """Per ``key`` (an entity), the most frequent non-null value of ``column``; ties go to the
    smallest, so the result is order-free. Only rows holding a value are grouped: most mentions hold
    none. A row stands for ``count`` mentions where that column is given, else for one.

    >>> frame = pl.DataFrame({"entity_id": ["a", "a", "a", "b"], "sbi": ["2", "1", "1", None], "n": [3, 1, 1, 1]})
    >>> _most_common(frame, "sbi", key="entity_id").rows(), _most_common(frame, "sbi", "entity_id", "n").rows()
    ([('a', '1')], [('a', '2')])
    """
    return (
        resolved.select(key, column, *([count] if count else [])).filter(pl.col(column).is_not_null())
        .group_by(key, column).agg(_n=pl.len() if count is None else pl.col(count).sum())
        .sort([key, "_n", column], descending=[False, True, False])
        .unique(key, keep="first", maintain_order=True)
        .select(key, column)
    )


def _latest(resolved: pl.DataFrame, column: str, by: str, key: str = _ENTITY) -> pl.DataFrame:
    """Per ``key`` (an entity), the value of ``column`` stated on the latest ``by`` date (undated
    statements count as oldest; ties go to the smallest value)."""
    return (
        resolved.select(key, column, by).filter(pl.col(column).is_not_null())
        .sort([key, by, column], descending=[False, True, False], nulls_last=True)
        .unique(key, keep="first", maintain_order=True)
        .select(key, column)
    )


def _unique_order(frame: pl.DataFrame, column: str, table: str) -> pl.Series:
    """The row order that sorts ``frame`` by ``column``, whose values must be unique: sorted, equal
    values are neighbours, so checking them costs one comparison per row rather than a hash table.

    >>> _unique_order(pl.DataFrame({"k": ["b", "c", "a"]}), "k", "t").to_list()
    [2, 0, 1]
    >>> _unique_order(pl.DataFrame({"k": ["b", "a", "b"]}), "k", "t")
    Traceback (most recent call last):
    mhgraph.errors.InputError: file t, row 3, column 'k': value 'b' appears more than once; it must be unique
    """
    order = frame.get_column(column).arg_sort()
    ordered = frame.get_column(column).gather(order)
    if (ordered.slice(1) == ordered.slice(0, max(len(ordered) - 1, 0))).any():
        _first_duplicate(frame, column, table)  # names the row
    return order


def _sorted_by(frames: list[pl.DataFrame], order: pl.Series) -> pl.DataFrame:
    """The one table in ``frames``, taken out of the list and put in ``order`` one column at a
    time: each column is let go as soon as its sorted copy exists, so the table is not held twice
    (at a million persons the edges table alone is over a gigabyte). The list is the hand-over: a
    caller still naming the table would keep every unsorted column alive.

    >>> _sorted_by([pl.DataFrame({"k": ["b", "a"], "v": [1, 2]})], pl.Series([1, 0])).rows()
    [('a', 2), ('b', 1)]
    """
    frame = frames.pop()
    columns = []
    for name in frame.columns:
        columns.append(frame.get_column(name).gather(order))
        frame = frame.drop(name)
    return pl.DataFrame(columns)


def _mention_entities(mentions: pl.DataFrame, resolution: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """The sorted entity ids, and the number of each mention's entity among them (in mention order,
    column ``_entity``): entities are numbered in id order, so that grouping, sorting and joining
    work on small numbers and the ids' text is put back once per table.

    Mention ids must be unique in both tables and every mention resolved. One join checks that
    cheaply (the resolution's ids as its unique key; every mention finds a different resolution
    row); only a table that fails it is searched for the row to name.

    >>> ids, entity = _mention_entities(pl.DataFrame({"mention_id": ["m1", "m2", "m3"]}),
    ...     pl.DataFrame({"mention_id": ["m3", "m2", "m1"], "entity_id": ["b", "a", "b"]}))
    >>> ids.to_list(), entity.to_list()
    (['a', 'b'], [1, 0, 1])
    """
    entity_ids = resolution.get_column("entity_id").unique().sort()
    lookup = resolution.select("mention_id", "entity_id").with_row_index("_row").join(
        entity_ids.to_frame().with_row_index(_ENTITY), on="entity_id").select("mention_id", "_row", _ENTITY)
    try:
        found = mentions.select("mention_id").join(lookup, on="mention_id", how="left", maintain_order="left",
                                                   validate="m:1")
    except pl.exceptions.ComputeError:  # a mention id that the resolution holds twice
        found = None
    rows = None if found is None else found.get_column("_row")
    if rows is None or rows.null_count() or rows.n_unique() < rows.len():
        _first_duplicate(mentions, "mention_id", "mentions")
        _first_duplicate(resolution, "mention_id", "resolution")
        row = int(rows.is_null().arg_true()[0])
        raise InputError(f"mention {mentions[row, 'mention_id']!r} has no entity in the resolution table",
                         file="mentions", row=row + 1, column="mention_id")
    return entity_ids, found.get_column(_ENTITY)


def build_graph_tables(mentions: pl.DataFrame, relations: pl.DataFrame | pl.LazyFrame,
                       resolution: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Aggregate mentions into entity ``nodes`` and map relations onto entity ``edges``.

    A node lists the partners, sources and purposes of all its mentions and their count, plus
    context resolved from its mentions: the most common value for ``municipality``,
    ``sbi_code``, ``legal_form`` and ``permit_type``; the earliest ``registered_on``, the latest
    ``dissolved_on`` and ``decided_on``; ``sponsor_status`` as stated on the latest
    ``sponsor_status_on``; ``permit_status`` and ``bibob_outcome`` of the latest decision.
    An edge is one relation with its ends replaced by their entities; it keeps the relation's
    id, mentions, dates, provenance and properties. Both tables are sorted by their key.

    ``relations`` may be a scan (``pl.scan_parquet``): it is then read only once the nodes are
    built and the mentions let go, so that the two largest inputs are never held together (at a
    million persons the mentions' graph columns and the relations take about 1.9 and 1.6 GB).
    The resolution is let go once the mentions' entities are numbered: a caller that hands it over
    without keeping it (``mhgraph run``) does not hold it while the relations are mapped.

    Raises :class:`~mhgraph.errors.InputError` (naming table, row and column) when a required
    column is missing or empty, a mention is resolved twice or not at all, or a relation names
    a mention the mentions table lacks.
    """
    mentions = _conform(mentions, "mentions", _MENTION_REQUIRED, _MENTION_CONTEXT)
    resolution = _conform(resolution, "resolution", _RESOLUTION_REQUIRED, {})
    _refuse_undeclared(mentions, "mentions", {"entity_type": ENTITY_TYPE, "purpose": PURPOSE})

    entity_ids, entity = _mention_entities(mentions, resolution)
    resolved = mentions.with_columns(entity)
    mention_count = mentions.height
    del mentions, entity, resolution  # from here on ``resolved`` holds every column needed

    # The few (partner, source, purpose, type) combinations of an entity's mentions are counted in
    # one pass over the mentions, not in one pass per column, grouped by numbers: each column as an
    # Enum of its few values in sorted order, so that number order is text order.
    counted = resolved.select(
        _ENTITY, *(pl.col(c).cast(pl.Enum(resolved.get_column(c).unique().sort())) for c in _COUNTED)
    ).group_by(_ENTITY, *_COUNTED).agg(_n=pl.len())
    nodes = counted.group_by(_ENTITY).agg(pl.col("_n").sum().cast(pl.Int64).alias("mention_count")).sort(_ENTITY)
    chosen = [_distinct(counted, c) for c in ("partner", "source", "purpose")]
    chosen.append(_most_common(counted, "entity_type", count="_n").with_columns(pl.col("entity_type").cast(pl.String)))
    del counted
    # Only companies, sponsors and permits carry dates: the few mentions holding one are grouped.
    dates = ("registered_on", "dissolved_on", "sponsor_status_on", "decided_on")
    chosen.append(resolved.select(_ENTITY, *dates).filter(pl.any_horizontal(pl.col(dates).is_not_null())).group_by(
        _ENTITY).agg(pl.col("registered_on").min(), pl.col(dates[1:]).max()))
    chosen += [_most_common(resolved, c) for c in ("municipality", "sbi_code", "legal_form", "permit_type")]
    chosen += [_latest(resolved, c, by) for c, by in (("sponsor_status", "sponsor_status_on"),
                                                      ("permit_status", "decided_on"), ("bibob_outcome", "decided_on"))]
    for values in chosen:
        nodes = nodes.join(values, on=_ENTITY, how="left", maintain_order="left")
    # the mentions' entity types were checked against the declared set above
    nodes = (nodes.with_columns(entity_ids.gather(nodes.get_column(_ENTITY))).select(NODE_COLUMNS)
             .with_columns(pl.col("entity_type").cast(ENTITY_TYPE)))

    ends = resolved.select("mention_id", _ENTITY)
    del resolved
    relations = _narrowed(_conform(relations.lazy().collect(), "relations", _RELATION_REQUIRED, _RELATION_OPTIONAL),
                          "relations", _FEW_VALUES)
    order = _unique_order(relations, "relation_id", "relations")
    # Only the two mention columns go through the join (in relation order), not every column of
    # the relations, and both in one: the mentions' ids are hashed once, not once per end. The
    # entities found are then put beside them.
    entity = pl.concat([relations.select(pl.col(f"{end}_mention").alias("mention_id")) for end in ("from", "to")]).join(
        ends, on="mention_id", how="left", maintain_order="left").get_column(_ENTITY)
    del ends
    for start, end in ((0, "from"), (relations.height, "to")):
        found = entity.slice(start, relations.height)
        if found.null_count():
            row = int(found.is_null().arg_true()[0])
            raise InputError(f"relation {relations[row, 'relation_id']!r} names mention "
                             f"{relations[row, f'{end}_mention']!r}, which the mentions table lacks",
                             file="relations", row=row + 1, column=f"{end}_mention")
        relations = relations.with_columns(entity_ids.gather(found).alias(f"{end}_entity"))
    del entity, found
    unsorted = [relations.select(EDGE_COLUMNS)]
    del relations
    edges = _sorted_by(unsorted, order)
    log.info("graph: %d nodes, %d edges from %d mentions", nodes.height, edges.height, mention_count)
    return nodes, edges


def to_networkx(nodes: pl.DataFrame, edges: pl.DataFrame) -> nx.MultiDiGraph:
    """A :class:`networkx.MultiDiGraph` keyed by ``entity_id`` (nodes) and ``relation_id`` (edges).

    Every column of both tables becomes an attribute (lists stay lists, dates stay
    :class:`datetime.date`). Edges whose ends are missing from ``nodes`` are refused, so that
    every node in the graph carries its provenance.
    """
    known = set(nodes.get_column("entity_id").to_list())
    for end in ("from_entity", "to_entity"):
        missing = edges.with_row_index("_row", offset=1).filter(~pl.col(end).is_in(list(known)))
        if missing.height:
            first = missing.row(0, named=True)
            raise InputError(f"edge {first['relation_id']!r} points to entity {first[end]!r}, which the "
                             "nodes table lacks", file="edges", row=first["_row"], column=end)
    graph = nx.MultiDiGraph()
    graph.add_nodes_from((row["entity_id"], row) for row in nodes.iter_rows(named=True))
    graph.add_edges_from(
        (row["from_entity"], row["to_entity"], row["relation_id"], row) for row in edges.iter_rows(named=True)
    )
    return graph
