"""Ranking clusters by an explainable score built from their indicator hits.

**The score of a cluster** (all figures visible in the ``clusters`` table and ``docs/indicators.md``)::

    base   = sum over the distinct indicators that fired in the cluster of
             weight × (1 + d + d² + ... + d^(n-1))        n = hits of that indicator, d = repeat_decay
    puzzle = 1 + partner_bonus × (puzzle_count - 1)      puzzle_count = partners behind the hits
    score  = base × puzzle                                 (0 when only context indicators fired)

With the defaults (``repeat_decay=0.5``, ``partner_bonus=0.5``) a second hit of the same
indicator adds half its weight, a third a quarter, and an indicator can never add more than
twice its weight: ten crowded addresses in one big cluster do not outweigh a cluster where the
payroll, the KvK and the IND each show a different piece. Each partner beyond the first adds
half of the base: the "puzzle count" of the Nationaal Rapporteur, pieces only visible together.
Context-only indicators (``high_risk_sector``) add their weight only next to a real indication,
and their partners do not count towards the puzzle.

>>> import polars as pl
>>> communities = pl.DataFrame({"entity_id": ["C1", "A1", "P1"], "cluster_id": ["C0001"] * 2 + ["C0002"],
...     "cluster_size": [2, 2, 1]})
>>> nodes = pl.DataFrame({"entity_id": ["C1", "A1", "P1"], "entity_type": ["company", "address", "person"]})
>>> hits = pl.DataFrame({"indicator": ["wage_below_minimum", "crowded_address"], "version": ["1", "1"],
...     "focus_entity": ["C1", "A1"], "cluster_id": [None, None], "reason": ["3 of 4 paid below", "9 persons"],
...     "evidence": [["r1"], ["r2"]], "partners": [["belastingdienst"], ["ind"]], "weight": [1.5, 1.0]})
>>> clusters = rank_clusters(communities, nodes, None, hits)
>>> clusters.select("cluster_id", "rank", "score", "puzzle_count").rows()
[('C0001', 1, 3.75, 2), ('C0002', 2, 0.0, 0)]
>>> [(p["part"], p["kind"], p["value"]) for p in clusters["score_parts"][0]]
[('wage_below_minimum', 'add', 1.5), ('crowded_address', 'add', 1.0), ('puzzle', 'multiply', 1.5)]
>>> print(clusters["reasons"][0])
wage_below_minimum v1 [belastingdienst] on C1: 3 of 4 paid below
crowded_address v1 [ind] on A1: 9 persons
"""

from __future__ import annotations

import logging

import polars as pl

from mhgraph.errors import InputError
from mhgraph.indicators import INDICATORS

__all__ = ["rank_clusters"]

log = logging.getLogger("mhgraph.rank")

_PARTS = pl.List(pl.Struct({"part": pl.String(), "kind": pl.String(), "value": pl.Float64()}))
_ENTITY_COUNTS = {"persons": "person", "companies": "company", "addresses": "address", "permits": "permit"}


def rank_clusters(communities: pl.DataFrame, nodes: pl.DataFrame, edges: pl.DataFrame | None,
                  hits: pl.DataFrame, *, repeat_decay: float = 0.5, partner_bonus: float = 0.5) -> pl.DataFrame:
    """The ``clusters`` table: one row per community, best first (score desc, ties by ``cluster_id``).

    Columns: ``cluster_id``, ``rank`` (1 = first), ``score`` (see the module docstring; rounded to
    6 decimals), ``size``, ``persons``, ``companies``, ``addresses``, ``permits``, ``partners``
    (sorted partners whose records are behind the cluster's non-context hits), ``puzzle_count``
    (their number), ``indicators`` (distinct indicators that fired, highest weight first) and
    ``reasons`` (one line per hit: indicator, version, partners, focus entity, reason; highest
    weight first) and ``score_parts`` (how the score is built: ``part``, ``kind``, ``value``; the
    ``add`` parts summed, times every ``multiply`` part, give ``score``; empty when it is 0). A hit belongs to the cluster of its ``focus_entity`` in ``communities``.
    Whether an indicator is context-only comes from :data:`mhgraph.indicators.INDICATORS`.
    ``edges`` is accepted for a uniform stage signature; the score needs only the hits.
    """
    del edges  # the hits already carry their evidence and partners
    members = communities.select("entity_id", "cluster_id").join(
        nodes.select("entity_id", "entity_type"), on="entity_id", how="left")
    clusters = members.group_by("cluster_id").agg(
        size=pl.len().cast(pl.Int64),
        **{name: (pl.col("entity_type") == kind).sum().cast(pl.Int64) for name, kind in _ENTITY_COUNTS.items()},
    )

    located = hits.drop("cluster_id").with_row_index("_row", offset=1).join(
        communities.select(focus_entity="entity_id", cluster_id="cluster_id"), on="focus_entity", how="left")
    stray = located.filter(pl.col("cluster_id").is_null())
    if stray.height:
        first = stray.sort("_row").row(0, named=True)
        raise InputError(f"hit on entity {first['focus_entity']!r}, which no community holds", file="indicator_hits",
                         row=first["_row"], column="focus_entity")
    context_only = [name for name, spec in INDICATORS.items() if spec.context_only]
    located = located.with_columns(context=pl.col("indicator").is_in(context_only))

    per_indicator = (
        located.group_by("cluster_id", "indicator").agg(
            pl.col("weight").first(), pl.col("context").first(), n=pl.len())
        .with_columns(points=pl.col("weight") * _geometric_sum(repeat_decay, pl.col("n")))
    )
    per_cluster = per_indicator.group_by("cluster_id").agg(
        real=pl.col("points").filter(~pl.col("context")).sum(),
        context=pl.col("points").filter(pl.col("context")).sum(),
        indicators=pl.col("indicator").sort_by(["weight", "indicator"], descending=[True, False]),
        parts=pl.struct(part="indicator", kind=pl.lit("add"), value="points")
        .sort_by(["weight", "indicator"], descending=[True, False]),
    )
    partners = (
        located.filter(~pl.col("context")).select("cluster_id", partner="partners").explode("partner").drop_nulls()
        .group_by("cluster_id").agg(partners=pl.col("partner").unique().sort())
    )
    reasons = (
        located.sort(["cluster_id", "weight", "indicator", "focus_entity", "_row"],
                     descending=[False, True, False, False, False])
        .with_columns(line=pl.format("{} v{} [{}] on {}: {}", "indicator", "version",
                                     pl.col("partners").list.join(", "), "focus_entity", "reason"))
        .group_by("cluster_id", maintain_order=True).agg(reasons=pl.col("line").str.join("\n"))
    )
    empty = pl.lit([], dtype=pl.List(pl.String()))
    ranked = (
        clusters.join(per_cluster, on="cluster_id", how="left").join(partners, on="cluster_id", how="left")
        .join(reasons, on="cluster_id", how="left")
        .with_columns(pl.col("partners").fill_null(empty), pl.col("indicators").fill_null(empty),
                      pl.col("reasons").fill_null(""), pl.col("real").fill_null(0.0), pl.col("context").fill_null(0.0))
        .with_columns(puzzle_count=pl.col("partners").list.len().cast(pl.Int64))
        .with_columns(multiplier=1 + partner_bonus * (pl.max_horizontal("puzzle_count", 1) - 1))
        .with_columns(score=pl.when(pl.col("real") > 0).then((pl.col("real") + pl.col("context")) * pl.col("multiplier"))
                      .otherwise(0.0).round(6),
                      score_parts=pl.when(pl.col("real") > 0).then(pl.concat_list(
                          "parts", pl.struct(part=pl.lit("puzzle"), kind=pl.lit("multiply"), value="multiplier")))
                      .otherwise(pl.lit([], dtype=_PARTS)))
        .sort(["score", "cluster_id"], descending=[True, False])
        .with_row_index("rank", offset=1)
        .select("cluster_id", pl.col("rank").cast(pl.Int64), "score", "size", *_ENTITY_COUNTS, "partners",
                "puzzle_count", "indicators", "reasons", "score_parts")
    )
    log.info("rank: %d clusters, %d with a score above 0", ranked.height, ranked.filter(pl.col("score") > 0).height)
    return ranked


def _geometric_sum(ratio: float, n: pl.Expr) -> pl.Expr:
    """1 + ratio + ... + ratio^(n-1): the diminishing value of n repeats."""
    if ratio == 1:
        return n.cast(pl.Float64)
    return (1 - pl.lit(ratio) ** n) / (1 - ratio)
