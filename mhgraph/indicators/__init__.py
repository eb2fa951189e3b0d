"""Indicators: named, versioned graph patterns, each with a readable reason and the records behind it.

Every indicator is a plain function ``rule(nodes, edges, communities=None, *, thresholds...)``
over the graph tables of :mod:`mhgraph.graph` that returns rows of the ``indicator_hits`` table:
``indicator``, ``version``, ``focus_entity``, ``cluster_id`` (null without ``communities``),
``reason`` (a sentence with the numbers behind it), ``evidence`` (the ``relation_id``\\ s behind the
hit), ``partners`` (whose records those are) and ``weight``. The rules live in one module per
family of evidence — :mod:`~mhgraph.indicators.housing`, :mod:`~mhgraph.indicators.pay`,
:mod:`~mhgraph.indicators.dependence`, :mod:`~mhgraph.indicators.companies`,
:mod:`~mhgraph.indicators.permits`, :mod:`~mhgraph.indicators.identity`,
:mod:`~mhgraph.indicators.context` — and share the helpers
of :mod:`~mhgraph.indicators.tables`. Thresholds, weights, versions and reason sentences are set
in one declarative file, ``mhgraph/indicators/definitions.toml``, from which
``docs/indicators.md`` is written (:mod:`~mhgraph.indicators.document`).

:data:`INDICATORS` lists every rule; :func:`compute_indicators` runs them all;
:func:`indicator_registry` shows them as a table. None of them proves anything: each is an
indication for review by a person. No rule reads nationality, country of birth or
neighbourhood; the graph tables do not even carry them.

>>> import polars as pl
>>> nodes = pl.DataFrame({"entity_id": ["P1", "P2", "A1"], "entity_type": ["person", "person", "address"]})
>>> edges = pl.DataFrame({"relation_id": ["kvk/1", "belastingdienst/7"], "type": ["REGISTERED_AT"] * 2,
...     "from_entity": ["P1", "P2"], "to_entity": ["A1", "A1"], "partner": ["kvk", "belastingdienst"],
...     "purpose": ["company_register", "fiscal_supervision"]})
>>> compute_indicators(nodes, edges, thresholds={"crowded_address": {"min_persons": 2}}).select(
...     "indicator", "focus_entity", "partners").rows()
[('crowded_address', 'A1', ['belastingdienst', 'kvk'])]
>>> compute_indicators(nodes, edges, allowed_purposes={"fiscal_supervision"},
...                    thresholds={"crowded_address": {"min_persons": 2}}).height
0
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from functools import partial

import numpy as np
import polars as pl

from mhgraph.executor import Executor

from mhgraph.indicators.companies import (
    officers_sharing_home, phoenix_company, shared_company_address, short_lived_employer_at_host, straw_director,
)
from mhgraph.indicators.context import high_risk_sector
from mhgraph.indicators.dependence import exchange_permit_labour, sponsor_churn, sponsor_of_many_migrants
from mhgraph.indicators.housing import SharedTables, crowded_address, staff_housed_together, worker_lives_at_workplace
from mhgraph.indicators.identity import identity_conflict
from mhgraph.indicators.pay import minimum_pay_for_few_hours, wage_below_minimum
from mhgraph.indicators.permits import link_to_earlier_refusal, permits_linked_to_operator, waterbed_move
from mhgraph.indicators.registry import (
    DEFINITIONS, FAMILIES, GRADES, HIT_SCHEMA, INDICATORS, RANKING, WEAK_PREFIX, Indicator, complete_registry,
    graded_hits, render_reason, with_cluster_ids,
)

from mhgraph.indicators.tables import EDGE_COLUMNS, MENTION_IDS
from mhgraph.partition import (
    DEFAULT_UNIT_SIZE, LARGEST_UNIT_SHARE, component_units, numbers_of, strictly_increasing, task_groups,
)

complete_registry()

__all__ = [
    "DEFINITIONS",
    "FAMILIES",
    "GRADES",
    "HIT_SCHEMA",
    "INDICATORS",
    "RANKING",
    "WEAK_PREFIX",
    "Indicator",
    "compute_indicators",
    "crowded_address",
    "exchange_permit_labour",
    "graded_hits",
    "high_risk_sector",
    "identity_conflict",
    "indicator_registry",
    "indicator_units",
    "link_to_earlier_refusal",
    "minimum_pay_for_few_hours",
    "officers_sharing_home",
    "permits_linked_to_operator",
    "phoenix_company",
    "readable_edges",
    "render_reason",
    "shared_company_address",
    "short_lived_employer_at_host",
    "sponsor_churn",
    "sponsor_of_many_migrants",
    "staff_housed_together",
    "straw_director",
    "wage_below_minimum",
    "waterbed_move",
    "with_cluster_ids",
    "worker_lives_at_workplace",
]

log = logging.getLogger("mhgraph.indicators")

def compute_indicators(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None, *,
                       allowed_purposes: Collection[str] | None = None,
                       indicators: Collection[str] | None = None,
                       thresholds: Mapping[str, Mapping[str, object]] | None = None,
                       weak: Mapping[str, Mapping[str, object]] | None = None,
                       weak_share: float = RANKING["weak_share"], graded: bool = True,
                       identity_conflicts: pl.DataFrame | None = None, executor: Executor | None = None,
                       partitions: int | None = None, unit_size: int = DEFAULT_UNIT_SIZE) -> pl.DataFrame:
    """Run the registered indicators and return all their hits as one ``indicator_hits`` table,
    with a ``grade`` column (``"full"`` or ``"weak"``, see :func:`graded_hits`).

    ``allowed_purposes``: the purposes the run may use (``None`` = every purpose in the tables);
    edges collected under another purpose are left out of every rule, and
    :func:`link_to_earlier_refusal` uses it to decide which flags count. ``indicators``: names
    to run (default: all of :data:`INDICATORS`). ``thresholds``: per indicator name, keyword
    arguments overriding the defaults of ``definitions.toml``, e.g.
    ``{"crowded_address": {"min_persons": 10}}``; ``weak`` does the same for the weak levels.
    ``graded=False`` leaves the weak levels out (full hits only); ``weak_share`` is the share of
    its rule's weight a weak hit carries. ``identity_conflicts``: the table of that name from
    entity resolution, for :func:`identity_conflict`. The result is sorted by indicator, focus
    entity, grade.

    No rule reads the communities: each hit gets the ``cluster_id`` of its focus entity from
    ``communities`` once all rules have run (:func:`with_cluster_ids`). So the rules can run
    without them, beside community detection, and have the cluster ids attached afterwards
    (what :func:`mhgraph.pipeline.analyse` does): the same hits.

    With an ``executor``, the rules whose pattern never leaves a connected component run per
    unit of whole components (:func:`indicator_units`), in ``partitions`` tasks (default: one
    per unit); the rules that need the whole graph (``Indicator.whole_graph`` says why) run on
    it in this process. Neither the executor nor the partitioning changes the hits. Without
    one, every rule runs on the whole graph here.
    """
    names = list(INDICATORS) if indicators is None else list(indicators)
    unknown = sorted({*names, *(thresholds or {}), *(weak or {})} - set(INDICATORS))
    if unknown:
        raise ValueError(f"unknown indicator(s) {', '.join(unknown)}; known: {', '.join(INDICATORS)}")
    settings = {}
    for name in names:
        spec = INDICATORS[name]
        options = dict((thresholds or {}).get(name, {}))
        level = {**spec.weak_thresholds, **(weak or {}).get(name, {})} if graded else {}
        bad = sorted((set(options) | set(level)) - set(spec.thresholds))
        if bad:
            raise ValueError(f"indicator {name} has no threshold {', '.join(bad)}; it has "
                             f"{', '.join(spec.thresholds)}")
        run = {"allowed_purposes": allowed_purposes, "identity_conflicts": identity_conflicts}
        options.update({key: run[key] for key in spec.options if key in run})
        settings[name] = (options, level)
    units_of = edges  # units of whole components of every relation detection saw: of whole communities
    edges = readable_edges(edges, allowed_purposes, mention_ids="identity_conflict" in names
                           and identity_conflicts is not None and not identity_conflicts.is_empty())
    # the graph stage's ids are sorted: each rule's evidence and focus entities are then found by binary search
    nodes, edges = (_flagged_sorted(table, column) for table, column in ((nodes, "entity_id"), (edges, "relation_id")))
    per_unit = {name: settings[name] for name in names if executor is not None and not INDICATORS[name].whole_graph}
    whole = {name: settings[name] for name in names if name not in per_unit}
    found = _rule_hits((nodes, edges), whole, weak_share)
    if per_unit:
        pieces = indicator_units(nodes, edges, unit_size=unit_size, partitions=partitions, units_of=units_of)
        for piece in executor.map(partial(_rule_hits, rules=per_unit, weak_share=weak_share), pieces):
            for name, hits in piece.items():
                found.setdefault(name, []).extend(hits)
    results = []
    for name in names:
        hits = pl.concat(found[name])
        log.info("indicators: %s v%s fired %d time(s), %d of them weak", name, INDICATORS[name].version, hits.height,
                 hits.filter(pl.col("grade") == "weak").height)
        results.append(hits)
    if not results:
        return pl.DataFrame(schema={**HIT_SCHEMA, "grade": pl.String()})
    hits = pl.concat(results).sort("indicator", "focus_entity", "grade")
    return hits if communities is None else with_cluster_ids(hits, communities)


def _flagged_sorted(table: pl.DataFrame, column: str) -> pl.DataFrame:
    """``table`` with ``column`` flagged sorted when it is (for :func:`~mhgraph.indicators.registry.rows_named`)."""
    values = table.get_column(column)
    return table.with_columns(values.set_sorted()) if values.is_sorted() else table


def readable_edges(edges: pl.DataFrame, allowed_purposes: Collection[str] | None = None, *,
                   mention_ids: bool = False) -> pl.DataFrame:
    """The columns of ``edges`` the rules read (:data:`~mhgraph.indicators.tables.EDGE_COLUMNS`,
    and the mention ids with ``mention_ids``), without the edges of purposes outside
    ``allowed_purposes``. Nothing is copied when no edge is left out.

    >>> edges = pl.DataFrame({"relation_id": ["r1", "r2"], "type": ["REGISTERED_AT"] * 2, "from_entity": ["P1", "P2"],
    ...     "to_entity": ["A1", "A1"], "purpose": ["fiscal_supervision", "bibob"], "record_id": ["7", "8"]})
    >>> readable_edges(edges, {"fiscal_supervision"}).rows()
    [('r1', 'REGISTERED_AT', 'P1', 'A1', 'fiscal_supervision')]
    """
    edges = edges.select(c for c in (*EDGE_COLUMNS, *(MENTION_IDS if mention_ids else ())) if c in edges.columns)
    if allowed_purposes is None:
        return edges
    allowed = edges.get_column("purpose").is_in(list(allowed_purposes)).fill_null(False)
    return edges if allowed.all() else edges.filter(allowed)


def _rule_hits(tables: tuple[pl.DataFrame, pl.DataFrame],
               rules: Mapping[str, tuple[dict, dict]], weak_share: float) -> dict[str, list[pl.DataFrame]]:
    """The graded hits of each of ``rules`` (name -> thresholds and options, weak level) on one
    ``(nodes, edges)``, without cluster ids. The rules that take ``shared`` share one
    :class:`~mhgraph.indicators.housing.SharedTables` of these tables, let go once the last of them has run."""
    nodes, edges = tables
    readers = [name for name in rules if "shared" in INDICATORS[name].options]
    shared = SharedTables(nodes, edges)
    found = {}
    for name, (options, level) in rules.items():
        settings = {**options, "shared": shared} if name in readers else options
        found[name] = [graded_hits(name, nodes, edges, settings=settings, weak=level,
                                   weak_share=weak_share)]
        if readers and name == readers[-1]:
            shared = None  # no rule left reads them: their memory serves the rules still to run
    return found


def indicator_units(nodes: pl.DataFrame, edges: pl.DataFrame, *, unit_size: int = DEFAULT_UNIT_SIZE,
                    partitions: int | None = None,
                    units_of: pl.DataFrame | None = None) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    """``(nodes, edges)`` of each task: whole connected components of ``units_of``
    (default ``edges``) packed into units of about ``unit_size`` entities
    (:func:`mhgraph.partition.component_units`), the units spread over ``partitions`` tasks
    (default: one per unit). One task gets the tables as they are; so does a graph whose largest
    unit holds more than :data:`mhgraph.partition.LARGEST_UNIT_SHARE` of its entities (a country tied into one
    component): copying the tables into tasks would only add a copy of nearly all of them.

    >>> nodes = pl.DataFrame({"entity_id": ["A", "B", "C", "D"], "entity_type": ["person", "address"] * 2})
    >>> edges = pl.DataFrame({"relation_id": ["r1", "r2"], "type": ["REGISTERED_AT"] * 2, "from_entity": ["A", "C"],
    ...                       "to_entity": ["B", "D"]})
    >>> [piece_nodes.get_column("entity_id").to_list() for piece_nodes, _ in indicator_units(nodes, edges, unit_size=1)]
    [['A', 'B'], ['C', 'D']]
    """
    ids, ends = _numbered_ends(nodes, edges if units_of is None else units_of)
    units = component_units(ids.height, ends, unit_size)
    del ends
    groups = task_groups(len(units), partitions)
    if len(groups) <= 1 or max(map(len, units)) > LARGEST_UNIT_SHARE * ids.height:
        return [(nodes, edges)]
    task = np.empty(ids.height, dtype=np.int64)
    for number, group in enumerate(groups):
        for unit in group:
            task[units[unit]] = number
    task_of = ids.select("entity_id", _task=pl.Series(task))

    def split(table: pl.DataFrame, column: str) -> list[pl.DataFrame]:
        parts = table.join(task_of.rename({"entity_id": column}), on=column, how="left").partition_by(
            "_task", as_dict=True, include_key=False, maintain_order=True)
        return [parts.get((number,), table.clear()) for number in range(len(groups))]

    return list(zip(split(nodes, "entity_id"), split(edges, "from_entity")))


def _numbered_ends(nodes: pl.DataFrame, units_of: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    """The distinct entity ids of ``nodes`` and of the ends of ``units_of``, sorted and numbered
    (``entity_id``, ``_i``), and the numbers of each row's two ends (an ``(m, 2)`` array).

    The graph stage's nodes are sorted and hold every end of its edges: then they are those ids as
    they are, and the ends are looked up in them; only otherwise are the ends' ids gathered, made
    distinct and sorted (at a million persons that took 6.7 CPU s and 0.8 GB to find one unit).

    >>> nodes = pl.DataFrame({"entity_id": ["A", "B", "C"]})
    >>> ids, ends = _numbered_ends(nodes, pl.DataFrame({"from_entity": ["C"], "to_entity": ["A"]}))
    >>> ids.get_column("entity_id").to_list(), ends.tolist()
    (['A', 'B', 'C'], [[2, 0]])
    >>> ids, ends = _numbered_ends(nodes, pl.DataFrame({"from_entity": ["C"], "to_entity": ["0"]}))
    >>> ids.get_column("entity_id").to_list(), ends.tolist()
    (['0', 'A', 'B', 'C'], [[3, 0]])
    """
    def numbers(numbered: pl.DataFrame) -> pl.DataFrame:
        return pl.DataFrame([numbers_of(numbered, units_of, end).alias(end) for end in ("from_entity", "to_entity")])

    node_ids = nodes.get_column("entity_id")
    if strictly_increasing(node_ids):
        numbered = node_ids.to_frame("entity_id").with_row_index("_i")
        ends = numbers(numbered)
        if not ends.null_count().sum_horizontal().item():
            return numbered, ends.to_numpy()
    numbered = (pl.concat([node_ids.to_frame("entity_id"), units_of.select(entity_id="from_entity"),
                           units_of.select(entity_id="to_entity")]).unique().sort("entity_id").with_row_index("_i"))
    return numbered, numbers(numbered).drop_nulls().to_numpy()  # a relation without an end ties nothing


def indicator_registry() -> pl.DataFrame:
    """The registry as a table: name, version, family, weight, context_only, partners, thresholds,
    cypher (the statement of its Cypher form, or null) and description.

    >>> registry = indicator_registry()
    >>> registry.filter(pl.col("name") == "high_risk_sector").select("family", "weight", "context_only").row(0)
    ('context', 0.25, True)
    """
    return pl.DataFrame([
        {"name": i.name, "version": i.version, "family": i.family, "weight": i.weight,
         "context_only": i.context_only, "partners": list(i.partners),
         "thresholds": ", ".join(f"{k}={v!r}" for k, v in i.thresholds.items()),
         "cypher": i.cypher, "description": i.description}
        for i in INDICATORS.values()
    ], schema={"name": pl.String, "version": pl.String, "family": pl.String, "weight": pl.Float64,
               "context_only": pl.Boolean, "partners": pl.List(pl.String), "thresholds": pl.String,
               "cypher": pl.String, "description": pl.String})
