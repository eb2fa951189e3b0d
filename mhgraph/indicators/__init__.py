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

import polars as pl

from mhgraph.indicators.companies import (
    officers_sharing_home, phoenix_company, shared_company_address, straw_director,
)
from mhgraph.indicators.context import high_risk_sector
from mhgraph.indicators.dependence import exchange_permit_labour, sponsor_churn, sponsor_of_many_migrants
from mhgraph.indicators.housing import crowded_address, worker_lives_at_workplace
from mhgraph.indicators.identity import identity_conflict
from mhgraph.indicators.pay import minimum_pay_for_few_hours, wage_below_minimum
from mhgraph.indicators.permits import link_to_earlier_refusal, permits_linked_to_operator, waterbed_move
from mhgraph.indicators.registry import (
    DEFINITIONS, FAMILIES, GRADES, HIT_SCHEMA, INDICATORS, RANKING, WEAK_PREFIX, Indicator, complete_registry,
    graded_hits, render_reason,
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
    "link_to_earlier_refusal",
    "minimum_pay_for_few_hours",
    "officers_sharing_home",
    "permits_linked_to_operator",
    "phoenix_company",
    "render_reason",
    "shared_company_address",
    "sponsor_churn",
    "sponsor_of_many_migrants",
    "straw_director",
    "wage_below_minimum",
    "waterbed_move",
    "worker_lives_at_workplace",
]

log = logging.getLogger("mhgraph.indicators")


def compute_indicators(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None, *,
                       allowed_purposes: Collection[str] | None = None,
                       indicators: Collection[str] | None = None,
                       thresholds: Mapping[str, Mapping[str, object]] | None = None,
                       weak: Mapping[str, Mapping[str, object]] | None = None,
                       weak_share: float = RANKING["weak_share"], graded: bool = True,
                       identity_conflicts: pl.DataFrame | None = None) -> pl.DataFrame:
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
    """
    names = list(INDICATORS) if indicators is None else list(indicators)
    unknown = sorted({*names, *(thresholds or {}), *(weak or {})} - set(INDICATORS))
    if unknown:
        raise ValueError(f"unknown indicator(s) {', '.join(unknown)}; known: {', '.join(INDICATORS)}")
    if allowed_purposes is not None:
        edges = edges.filter(pl.col("purpose").is_in(list(allowed_purposes)))
    results = []
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
        hits = graded_hits(name, nodes, edges, communities, settings=options, weak=level, weak_share=weak_share)
        log.info("indicators: %s v%s fired %d time(s), %d of them weak", name, spec.version, hits.height,
                 hits.filter(pl.col("grade") == "weak").height)
        results.append(hits)
    if not results:
        return pl.DataFrame(schema={**HIT_SCHEMA, "grade": pl.String()})
    return pl.concat(results).sort("indicator", "focus_entity", "grade")


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
