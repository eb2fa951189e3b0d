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
import tempfile
from collections.abc import Collection
from pathlib import Path

import networkx as nx
import polars as pl

from mhgraph.errors import InputError
from mhgraph.partition import strictly_increasing
from mhgraph.spec import ENTITY_FIELDS, PURPOSES, RELATION_TYPES

__all__ = ["EDGES_ROW_GROUP_SIZE", "EDGE_COLUMNS", "EDGE_SCHEMA", "ENTITY_TYPE", "MENTION_COLUMNS", "NODE_COLUMNS",
           "NODE_SCHEMA", "PURPOSE", "RELATION_TYPE", "build_graph_tables", "to_networkx"]

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
_MENTION_IDS = ("from_mention", "to_mention")
# Rows per group of the edges file: as many as `write_parquet` puts in those of the other tables.
EDGES_ROW_GROUP_SIZE = 512**2
_RELATION_REQUIRED = ("relation_id", "type", *_MENTION_IDS, *_PROVENANCE)
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
_REQUIRED = {"mentions": _MENTION_REQUIRED, "relations": _RELATION_REQUIRED, "resolution": _RESOLUTION_REQUIRED}
# The types the mention columns are read as: the counted ones of declared values as their Enums.
_MENTION_TYPES: dict[str, pl.DataType] = {
    **dict.fromkeys(_MENTION_REQUIRED, pl.String()), "entity_type": ENTITY_TYPE, "purpose": PURPOSE, **_MENTION_CONTEXT}
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


def _require(table: pl.LazyFrame, name: str, required: tuple[str, ...]) -> None:
    """Refuse a table that lacks a required column."""
    present = table.collect_schema().names()
    missing = [c for c in required if c not in present]
    if missing:
        raise InputError(f"the {name} table lacks the required column(s) {', '.join(missing)}",
                         file=name, column=missing[0])


def _refuse_empty(table: pl.LazyFrame, name: str, columns: tuple[str, ...]) -> None:
    """Refuse an empty value in the required ``columns``, naming its row; counted in a streaming
    pass, for the columns the graph does not otherwise read (whose values it need not hold)."""
    nulls = table.select(pl.col(columns).null_count()).collect(engine="streaming").row(0)
    for column, count in zip(columns, nulls):
        if count:
            row = table.select(pl.col(column).is_null().arg_true().first()).collect().item() + 1
            raise InputError(f"empty value; every {name} row needs a {column}", file=name, row=row, column=column)


def _read(table: pl.LazyFrame, column: str, name: str, dtype: pl.DataType, height: int) -> pl.Series:
    """Column ``column`` of the table ``name`` read alone, as ``dtype``: the graph reads its inputs
    one column at a time, so that it never holds a whole input table (at a million persons the
    mentions' graph columns and the relations take about 1.9 and 1.6 GB once read). A required
    column (one the table must have) may hold no empty value, an optional one the table lacks comes
    as ``height`` nulls; a value outside an Enum's declared set is refused. Refusals name the row.

    >>> _read(pl.LazyFrame({"type": ["MANAGES"]}), "type", "relations", RELATION_TYPE, 1).dtype
    Enum(categories=['EMPLOYED_BY', 'HOLDS_PERMIT', 'LOCATED_AT', 'MANAGES', 'OFFICER_OF', 'REGISTERED_AT', 'SPONSORED_BY'])
    >>> _read(pl.LazyFrame({"type": ["MANAGES", "OWNS"]}), "type", "relations", RELATION_TYPE, 2)
    Traceback (most recent call last):
    mhgraph.errors.InputError: file relations, row 2, column 'type': value 'OWNS' is not one of EMPLOYED_BY, HOLDS_PERMIT, \
LOCATED_AT, MANAGES, OFFICER_OF, REGISTERED_AT, SPONSORED_BY
    >>> _read(pl.LazyFrame({"a": [1]}), "wage", "relations", pl.Float64(), 2).to_list()
    [None, None]
    """
    if column not in table.collect_schema().names():
        return pl.Series(column, [], dtype).extend_constant(None, height)
    values = table.select(column).collect().to_series()
    if column in _REQUIRED[name] and values.null_count():
        row = int(values.is_null().arg_true()[0]) + 1
        raise InputError(f"empty value; every {name} row needs a {column}", file=name, row=row, column=column)
    if isinstance(dtype, pl.Enum):
        values = values.cast(pl.String)
        unknown = ~values.is_in(dtype.categories.to_list()) & values.is_not_null()
        if unknown.any():
            row = int(unknown.arg_true()[0]) + 1
            raise InputError(f"value {values[row - 1]!r} is not one of {', '.join(dtype.categories)}",
                             file=name, row=row, column=column)
    if values.dtype == dtype:
        return values
    try:
        return values.cast(dtype, strict=True)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"cannot read the values as {dtype}: {exc}", file=name, column=column) from exc


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


def _resolution_rows(mention_ids: pl.Series, keys: pl.Series) -> pl.Series | None:
    """The row of ``keys`` (the resolution's mention ids) that holds each of ``mention_ids``, null
    where none does; ``None`` when ``keys`` hold an id twice. Keys sorted as the resolvers write
    them are searched: no hash table of every mention id and no copy of their text (at five million
    persons several GB). Other keys are joined.

    >>> _resolution_rows(pl.Series(["m2", "m9", "m1"]), pl.Series(["m1", "m2", "m3"])).to_list()
    [1, None, 0]
    >>> _resolution_rows(pl.Series(["m2", "m1"]), pl.Series(["m2", "m1"])).to_list()
    [0, 1]
    """
    if not strictly_increasing(keys):
        try:
            return mention_ids.to_frame("mention_id").join(keys.to_frame("mention_id").with_row_index("_row"),
                                                           on="mention_id", how="left", maintain_order="left",
                                                           validate="m:1").get_column("_row")
        except pl.exceptions.ComputeError:  # a mention id that the resolution holds twice
            return None
    rows = keys.search_sorted(mention_ids).cast(pl.get_index_type())
    if keys.is_empty():
        return rows.clear().extend_constant(None, rows.len())
    held = keys.gather(rows.clip(upper_bound=keys.len() - 1)) == mention_ids
    return pl.select(pl.when(held).then(rows)).to_series().alias("_row")


def _mention_entities(mentions: pl.DataFrame, resolution: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """The sorted entity ids, and the number of each mention's entity among them (in mention order,
    column ``_entity``): entities are numbered in id order, so that grouping, sorting and joining
    work on small numbers and the ids' text is put back once per table.

    Mention ids must be unique in both tables and every mention resolved: each mention must find a
    resolution row (:func:`_resolution_rows`), a different one; only a table that fails that is
    searched for the row to name.

    >>> ids, entity = _mention_entities(pl.DataFrame({"mention_id": ["m1", "m2", "m3"]}),
    ...     pl.DataFrame({"mention_id": ["m3", "m2", "m1"], "entity_id": ["b", "a", "b"]}))
    >>> ids.to_list(), entity.to_list()
    (['a', 'b'], [1, 0, 1])
    """
    entity_ids = resolution.get_column("entity_id").unique().sort()
    rows = _resolution_rows(mentions.get_column("mention_id"), resolution.get_column("mention_id"))
    if rows is None or rows.null_count() or rows.n_unique() < rows.len():
        _first_duplicate(mentions, "mention_id", "mentions")
        _first_duplicate(resolution, "mention_id", "resolution")
        row = int(rows.is_null().arg_true()[0])
        raise InputError(f"mention {mentions[row, 'mention_id']!r} has no entity in the resolution table",
                         file="mentions", row=row + 1, column="mention_id")
    # an Enum of the sorted entity ids codes each one by its number among them
    numbers = resolution.get_column("entity_id").cast(pl.Enum(entity_ids)).to_physical()
    return entity_ids, numbers.gather(rows).cast(pl.get_index_type()).alias(_ENTITY)


def _end_entities(relations: pl.LazyFrame, lookups: list[pl.DataFrame]) -> pl.DataFrame:
    """The number of the entity at each end of every relation (columns ``from`` and ``to``, in
    relation order), from the one lookup (``mention_id``, ``_entity``) in ``lookups``, which is taken
    out of the list and let go here. Both ends go through one join, so that the lookup's ids are
    hashed once; a relation naming a mention the lookup lacks is refused, naming its row.

    >>> _end_entities(pl.LazyFrame({"relation_id": ["r"], "from_mention": ["b"], "to_mention": ["a"]}),
    ...     [pl.DataFrame({"mention_id": ["a", "b"], "_entity": [0, 1]})]).rows()
    [(1, 0)]
    """
    lookup = lookups.pop()
    entity = pl.concat([relations.select(pl.col(f"{end}_mention").cast(pl.String).alias("mention_id"))
                        for end in ("from", "to")]).join(
        lookup.lazy(), on="mention_id", how="left", maintain_order="left").select(_ENTITY).collect().to_series()
    del lookup
    height = entity.len() // 2
    ends = pl.DataFrame({"from": entity.slice(0, height), "to": entity.slice(height, height)})
    for end in ("from", "to"):
        if ends.get_column(end).null_count():
            row = int(ends.get_column(end).is_null().arg_true()[0])
            relation_id, mention = relations.select("relation_id", f"{end}_mention").slice(row, 1).collect().row(0)
            if mention is None:
                _read(relations, f"{end}_mention", "relations", pl.String(), height)  # names the first empty one
            raise InputError(f"relation {relation_id!r} names mention {mention!r}, which the mentions table lacks",
                             file="relations", row=row + 1, column=f"{end}_mention")
    return ends


def _nodes(mentions: pl.LazyFrame, entity: pl.Series, entity_ids: pl.Series) -> pl.DataFrame:
    """The nodes table from the mentions (a scan or a table) and the number of each one's entity
    (``entity``, in mention order), reading the mention columns each aggregate needs in turn."""
    height = entity.len()

    def with_entity(*columns: str) -> pl.DataFrame:
        return pl.DataFrame([entity, *(_read(mentions, c, "mentions", _MENTION_TYPES[c], height) for c in columns)])

    # The few (partner, source, purpose, type) combinations of an entity's mentions are counted in
    # one pass over the mentions, not in one pass per column, grouped by numbers: each column as an
    # Enum of its few values in sorted order, so that number order is text order.
    counted = pl.DataFrame([entity, *(
        values if isinstance(values.dtype, pl.Enum) else values.cast(pl.Enum(values.unique().sort()))
        for values in (_read(mentions, c, "mentions", _MENTION_TYPES[c], height) for c in _COUNTED))]
    ).group_by(_ENTITY, *_COUNTED).agg(_n=pl.len())
    nodes = counted.group_by(_ENTITY).agg(pl.col("_n").sum().cast(pl.Int64).alias("mention_count")).sort(_ENTITY)
    chosen = [_distinct(counted, c) for c in ("partner", "source", "purpose")]
    chosen.append(_most_common(counted, "entity_type", count="_n"))
    del counted
    # Only companies, sponsors and permits carry dates: the few mentions holding one are grouped.
    dates = ("registered_on", "dissolved_on", "sponsor_status_on", "decided_on")
    chosen.append(with_entity(*dates).filter(pl.any_horizontal(pl.col(dates).is_not_null())).group_by(
        _ENTITY).agg(pl.col("registered_on").min(), pl.col(dates[1:]).max()))
    chosen += [_most_common(with_entity(c), c) for c in ("municipality", "sbi_code", "legal_form", "permit_type")]
    chosen += [_latest(with_entity(c, by), c, by) for c, by in (
        ("sponsor_status", "sponsor_status_on"), ("permit_status", "decided_on"), ("bibob_outcome", "decided_on"))]
    for values in chosen:
        nodes = nodes.join(values, on=_ENTITY, how="left", maintain_order="left")
    return nodes.with_columns(entity_ids.gather(nodes.get_column(_ENTITY))).select(NODE_COLUMNS)


def _edges(relations: pl.LazyFrame, ends: pl.DataFrame, entity_ids: pl.Series,
           edges_file: Path | None = None, held: tuple[str, ...] = ()) -> pl.DataFrame:
    """The edges table from the relations (a scan or a table) and the numbers of their ends'
    entities (:func:`_end_entities`), sorted by ``relation_id``: each column is read, put in that
    order and let go in turn, so that only the edges are held whole, never the relations too.

    With ``edges_file``, the edges are written there whole and returned with the ``held`` columns
    only: the others are put in order first, while little else is held, and wait in a file of
    their own, from which the whole table is then written a part at a time.
    """
    height = ends.height
    relation_id = _read(relations, "relation_id", "relations", pl.String(), height)
    order = _unique_order(relation_id.to_frame(), "relation_id", "relations")
    del relation_id

    def ordered(column: str) -> pl.Series:
        if column in ("from_entity", "to_entity"):
            return entity_ids.gather(ends.get_column(column.removesuffix("_entity")).gather(order)).alias(column)
        return _read(relations, column, "relations", EDGE_SCHEMA[column], height).gather(order)

    if edges_file is None:
        return pl.DataFrame([ordered(column) for column in EDGE_COLUMNS])
    with tempfile.TemporaryDirectory(dir=edges_file.parent) as folder:
        waiting = Path(folder) / "not_held.parquet"
        pl.DataFrame([ordered(column) for column in EDGE_COLUMNS if column not in held]).write_parquet(waiting)
        edges = pl.DataFrame([ordered(column) for column in EDGE_COLUMNS if column in held])
        # rows per group fixed: left to the sink, the groups follow the thread count and the file's bytes the machine
        pl.concat([edges.lazy(), pl.scan_parquet(waiting)], how="horizontal").select(EDGE_COLUMNS).sink_parquet(
            edges_file, row_group_size=EDGES_ROW_GROUP_SIZE)
    return edges


def build_graph_tables(mentions: pl.DataFrame | pl.LazyFrame, relations: pl.DataFrame | pl.LazyFrame,
                       resolution: pl.DataFrame, edges_file: str | Path | None = None,
                       held_edge_columns: Collection[str] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Aggregate mentions into entity ``nodes`` and map relations onto entity ``edges``.

    A node lists the partners, sources and purposes of all its mentions and their count, plus
    context resolved from its mentions: the most common value for ``municipality``,
    ``sbi_code``, ``legal_form`` and ``permit_type``; the earliest ``registered_on``, the latest
    ``dissolved_on`` and ``decided_on``; ``sponsor_status`` as stated on the latest
    ``sponsor_status_on``; ``permit_status`` and ``bibob_outcome`` of the latest decision.
    An edge is one relation with its ends replaced by their entities; it keeps the relation's
    id, mentions, dates, provenance and properties. Both tables are sorted by their key.

    ``mentions`` and ``relations`` may be scans (``pl.scan_parquet``): the graph reads them one
    column at a time, so that it holds no whole input table beside what it builds (at a million
    persons the mentions' graph columns and the relations take about 1.9 and 1.6 GB once read,
    the edges 1.0 GB). The resolution is let go once the mentions' entities are numbered, and the
    mention-to-entity lookup once the relations' ends are mapped: a caller that hands the
    resolution over without keeping it (``mhgraph run``) holds neither while the nodes are built.

    ``edges_file``: a Parquet file to write the whole edges table to (``mhgraph run`` gives its
    ``tables/edges.parquet``); the edges are then returned with the ``held_edge_columns`` only
    (default: all but ``from_mention`` and ``to_mention``), and the other columns are never held
    beside them (at five million persons the mention ids are some 2 GB of text that only the
    identity-conflict rule reads, from the file). Its folder must exist; the file is written in
    row groups of :data:`EDGES_ROW_GROUP_SIZE` rows, so that its bytes do not depend on the
    machine's thread count.

    Raises :class:`~mhgraph.errors.InputError` (naming table, row and column) when a required
    column is missing or empty, a mention is resolved twice or not at all, or a relation names
    a mention the mentions table lacks.
    """
    if edges_file is not None:
        edges_file = Path(edges_file)
        if not edges_file.parent.is_dir():  # said now, not after the graph is built
            raise InputError("the folder to write the edges to does not exist or is not a folder",
                             file=str(edges_file.parent))
    mentions, relations = mentions.lazy(), relations.lazy()
    for table, name in ((mentions, "mentions"), (relations, "relations"), (resolution.lazy(), "resolution")):
        _require(table, name, _REQUIRED[name])
    _refuse_empty(resolution.lazy(), "resolution", _RESOLUTION_REQUIRED)
    _refuse_empty(mentions, "mentions", ("record_id",))  # the only required mention column not read below
    resolution = resolution.select(pl.col("mention_id", "entity_id").cast(pl.String))  # the type is not read

    mention_ids = _read(mentions, "mention_id", "mentions", pl.String(), 0).to_frame()
    entity_ids, entity = _mention_entities(mention_ids, resolution)
    del resolution  # from here on the lookup and ``entity`` say which entity each mention is of
    lookups = [mention_ids.with_columns(entity)]
    del mention_ids
    ends = _end_entities(relations, lookups)
    nodes = _nodes(mentions, entity, entity_ids)
    held = tuple(c for c in EDGE_COLUMNS if c not in _MENTION_IDS) if held_edge_columns is None else tuple(
        c for c in EDGE_COLUMNS if c in held_edge_columns)
    edges = _edges(relations, ends, entity_ids, edges_file, held)
    log.info("graph: %d nodes, %d edges from %d mentions", nodes.height, edges.height, entity.len())
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
