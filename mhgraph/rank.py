"""Ranking clusters by an explainable score built from their indicator hits.

**The score of a cluster** (parameters in ``mhgraph/indicators/definitions.toml``; every part is
a column of the ``clusters`` table and ``docs/indicators.md`` explains the choice)::

    hit weight     = the rule's weight, × its magnitude for a full hit of a rule with one (the
                     further past its threshold, the heavier; mhgraph.indicators.registry)
    counted hits   = every full hit; a weak hit (grade "weak": under its rule's thresholds, past
                     its weak level; weight already × weak_share) only where the cluster has
                     hits of another family of evidence; hits of one rule and version on the
                     same records in a cluster (one finding named from each of its entities)
                     count once, the heaviest of them; a hit on the records of the IND alone
                     (``partner_never_lifts``) only where the cluster's other counted hits reach
                     ``flag_score`` by themselves: it adds to a flag, it never makes one
    family points  = w1 + d·w2 + d²·w3 + ...     the cluster's counted hits of one family of
                                                 evidence, by weight, highest first; d = repeat_decay
    evidence       = sum of the family points    over the families that fired (not context)
    context        = the same sum over context-only hits (high_risk_sector)
    corroboration  = 1 + b × (families - 1)      b = corroboration_bonus
    score          = (evidence + context) × corroboration        0 when evidence is 0
    flagged        = score >= flag_score

A weak hit is a piece that is harmless alone — five people in one house, one worker paid under
the minimum — and it never raises a cluster by itself; beside a piece of another kind it counts
(at ``weak_share`` of its rule's weight) and adds its family to the corroboration: pieces that
line up across registers are what the case meeting is for.

With the defaults (``repeat_decay=0.25``, ``corroboration_bonus=0.5``, ``flag_score=1.5``) a
second hit of the same family (a second crowded house, or a worker living at the workplace next
to a crowded house) adds a quarter of its weight, a third a sixteenth: a family never adds more
than a third more than its strongest weight. What raises a cluster is *independent* evidence: hits of different
families — housing, pay, dependence, control, history, identity — each say something else about
what happened. Which partner delivered the records plays no part in the score: the puzzle count
(partners behind the hits) is reported for the case meeting, not multiplied in, because the
IND holds records only on non-EU nationals and a bonus per partner would raise a cluster for
who its workers are rather than what was done to them. For the same reason a piece that only the
IND's records show (a sponsor's migrants missing from the payroll) never flags a cluster by
itself, nor gives a weak piece of the payroll the second family it needs.

>>> import polars as pl
>>> communities = pl.DataFrame({"entity_id": ["C1", "A1", "P1"], "cluster_id": ["C0001"] * 2 + ["C0002"],
...     "cluster_size": [2, 2, 1]})
>>> nodes = pl.DataFrame({"entity_id": ["C1", "A1", "P1"], "entity_type": ["company", "address", "person"]})
>>> hits = pl.DataFrame({"indicator": ["wage_below_minimum", "crowded_address"], "version": ["2", "1"],
...     "focus_entity": ["C1", "A1"], "cluster_id": [None, None], "reason": ["3 of 4 paid below", "9 persons"],
...     "evidence": [["r1"], ["r2"]], "partners": [["belastingdienst"], ["belastingdienst", "ind"]],
...     "weight": [1.5, 1.0]})
>>> clusters = rank_clusters(communities, nodes, None, hits)
>>> clusters.select("cluster_id", "rank", "score", "flagged", "families").rows()
[('C0001', 1, 3.75, True, ['pay', 'housing']), ('C0002', 2, 0.0, False, [])]

The same two pieces, each only past its weak level, still line up (half weights, two families);
one weak piece alone would score 0:

>>> weak = hits.with_columns(weight=pl.col("weight") / 2, grade=pl.lit("weak"))
>>> rank_clusters(communities, nodes, None, weak).select("score", "flagged").row(0)
(1.875, True)
>>> rank_clusters(communities, nodes, None, weak.head(1)).select("score", "flagged").row(0)
(0.0, False)
>>> print(clusters["score_text"][0])
pay 1.5 (wage_below_minimum) + housing 1.0 (crowded_address) = 2.5; × 1.5 for 2 families = 3.75
>>> [(p["part"], p["kind"], p["value"]) for p in clusters["score_parts"][0]]
[('pay', 'add', 1.5), ('housing', 'add', 1.0), ('corroboration', 'multiply', 1.5)]
>>> print(clusters["reasons"][0])
wage_below_minimum v2 [belastingdienst] on C1: 3 of 4 paid below
crowded_address v1 [belastingdienst, ind] on A1: 9 persons
"""

from __future__ import annotations

import logging

import polars as pl

from mhgraph.errors import InputError
from mhgraph.indicators import INDICATORS, RANKING

__all__ = ["counted_hits", "partners_needed", "rank_clusters"]

log = logging.getLogger("mhgraph.rank")

_FAMILIES = {name: spec.family for name, spec in INDICATORS.items()}
_CONTEXT = [name for name, spec in INDICATORS.items() if spec.context_only]
_ENTITY_COUNTS = {"persons": "person", "companies": "company", "addresses": "address", "permits": "permit"}
_EMPTY = pl.lit([], dtype=pl.List(pl.String()))
_PARTS = pl.List(pl.Struct({"part": pl.String(), "kind": pl.String(), "value": pl.Float64()}))
_WITHOUT = pl.List(pl.Struct({"partner": pl.String(), "score": pl.Float64(), "flagged": pl.Boolean()}))


def counted_hits(hits: pl.DataFrame, communities: pl.DataFrame, *,
                 repeat_decay: float = RANKING["repeat_decay"],
                 corroboration_bonus: float = RANKING["corroboration_bonus"],
                 flag_score: float = RANKING["flag_score"],
                 partner_never_lifts: str = RANKING["partner_never_lifts"]) -> pl.DataFrame:
    """The hits that count in the score, each with the ``cluster_id`` of its focus entity: every
    full hit (a hit without ``grade`` is full), and a weak hit (``grade`` ``"weak"``) only where its cluster has hits of at least
    two families of evidence (context not counted) — a weak piece needs a piece of another kind
    beside it. A hit whose ``partners`` are ``partner_never_lifts`` alone (the IND, which
    registers only non-EU nationals) counts only where the cluster's other counted hits reach
    ``flag_score`` by themselves: such pieces add to a flag, they never make one (the other
    parameters score that flag as :func:`rank_clusters` does). A hit on an entity no community
    holds is an error (:class:`InputError`).

    >>> import polars as pl
    >>> communities = pl.DataFrame({"entity_id": ["C1", "A1"], "cluster_id": ["C0001", "C0001"]})
    >>> hits = pl.DataFrame({"indicator": ["wage_below_minimum", "crowded_address"], "focus_entity": ["C1", "A1"],
    ...                      "cluster_id": [None, None], "grade": ["weak", "weak"]})
    >>> counted_hits(hits, communities).height, counted_hits(hits.head(1), communities).height
    (2, 0)

    A sponsor's missing migrants (the IND's records alone) beside a weak piece of the payroll:
    without the IND's piece nothing is flagged, so neither counts.

    >>> ind = pl.DataFrame({"indicator": ["sponsor_of_many_migrants", "wage_below_minimum"],
    ...     "version": ["4", "6"], "focus_entity": ["C1", "C1"], "cluster_id": [None, None], "reason": ["", ""],
    ...     "evidence": [["r1"], ["r2"]], "partners": [["ind"], ["belastingdienst"]], "weight": [1.0, 0.75],
    ...     "grade": ["full", "weak"]})
    >>> counted_hits(ind, communities).height
    0
    """
    located = hits.drop("cluster_id").with_row_index("_row", offset=1).join(
        communities.select(focus_entity="entity_id", cluster_id="cluster_id"), on="focus_entity", how="left")
    stray = located.filter(pl.col("cluster_id").is_null())
    if stray.height:
        first = stray.sort("_row").row(0, named=True)
        raise InputError(f"hit on entity {first['focus_entity']!r}, which no community holds", file="indicator_hits",
                         row=first["_row"], column="focus_entity")
    columns = [*hits.columns, *(["grade"] if "grade" not in hits.columns else [])]
    if "grade" not in located.columns:  # hits of an earlier version, or of the store's Cypher forms
        located = located.with_columns(grade=pl.lit("full"))
    counted = _beside_another_family(located)
    if "partners" not in located.columns:
        return counted.select(columns)
    alone = ((pl.col("partners").list.unique().list.len() == 1)
             & (pl.col("partners").list.first() == partner_never_lifts)).fill_null(False)
    if not counted.select(alone.any()).item():
        return counted.select(columns)
    types = communities.select("entity_id", entity_type=pl.lit(None, dtype=pl.String))  # the flag needs no counts
    flagged_without = rank_clusters(
        communities, types, None, hits.filter(~alone), repeat_decay=repeat_decay,
        corroboration_bonus=corroboration_bonus, flag_score=flag_score, partner_never_lifts=partner_never_lifts,
    ).filter(pl.col("flagged")).select("cluster_id")
    lifting = alone & ~pl.col("cluster_id").is_in(flagged_without.get_column("cluster_id").implode())
    # the weak pieces are counted again: a weak piece beside only the partner's piece has no company left
    return _beside_another_family(located.filter(~lifting)).select(columns)


def _beside_another_family(located: pl.DataFrame) -> pl.DataFrame:
    """Full hits, and weak hits where their cluster has hits of at least two families (context not counted)."""
    evidence = pl.when(~pl.col("indicator").is_in(_CONTEXT)).then(
        pl.col("indicator").replace_strict(_FAMILIES, default=pl.col("indicator"), return_dtype=pl.String))
    families = evidence.drop_nulls().n_unique().over("cluster_id")
    return located.filter((pl.col("grade") != "weak") | (families >= 2))


def _one_per_finding(located: pl.DataFrame) -> pl.DataFrame:
    """The hits that count in the points: one per finding. A rule that names every entity of one
    finding as a focus (each person of a shared identity number) writes hits with the same
    records as evidence; in one cluster they are one piece of evidence, not a piece and its
    repeat. Counted once: hits in one cluster of the same rule and version whose evidence is the
    same set of records (not empty: a hit without records is its own finding); of them the
    heaviest counts (a full hit before a weak one, whose weight is already lowered), whatever the
    order of the rows. The reasons keep every hit."""
    if "evidence" not in located.columns:
        return located
    records = pl.col("evidence").list.unique().list.sort().list.join("\x1f")
    finding = ["cluster_id", "indicator", "version", "_records"]
    return (located.with_columns(_records=records)
            .sort(["weight", "focus_entity", "reason"], descending=[True, False, False])
            .filter((pl.int_range(pl.len()).over(finding) == 0) | (pl.col("evidence").list.len() == 0).fill_null(True))
            .drop("_records"))


def rank_clusters(communities: pl.DataFrame, nodes: pl.DataFrame, edges: pl.DataFrame | None,
                  hits: pl.DataFrame, *, repeat_decay: float = RANKING["repeat_decay"],
                  corroboration_bonus: float = RANKING["corroboration_bonus"],
                  flag_score: float = RANKING["flag_score"],
                  partner_never_lifts: str = RANKING["partner_never_lifts"]) -> pl.DataFrame:
    """The ``clusters`` table: one row per community, best first (score desc, ties by ``cluster_id``).

    Columns: ``cluster_id``, ``rank`` (1 = first), ``score`` (see the module docstring; rounded to
    6 decimals), ``flagged``, ``evidence``, ``context``, ``families`` (families of evidence that
    fired, strongest first), ``corroboration``, ``score_text`` (the sum written out),
    ``score_parts`` (the same as data: ``part``, ``kind``, ``value``; the ``add`` parts summed,
    times the ``multiply`` part, give ``score``; empty when it is 0), ``size``,
    ``persons``, ``companies``, ``addresses``, ``permits``, ``partners`` (sorted partners whose
    records are behind the cluster's non-context hits), ``puzzle_count`` (their number),
    ``indicators`` (distinct indicators that fired, highest weight first), ``reasons`` (one
    line per counted hit: indicator, version, partners, focus entity, reason; highest weight
    first) and ``reasons_nl`` (the same lines in Dutch, for the Dutch ``clusters.csv``). A
    hit belongs to the cluster of its ``focus_entity`` in ``communities``; its family and whether
    it is context come from :data:`mhgraph.indicators.INDICATORS` (an unknown indicator is its
    own family). ``edges`` is accepted for a uniform stage signature; the score needs the hits.
    """
    del edges  # the hits already carry their evidence and partners
    members = communities.select("entity_id", "cluster_id").join(
        nodes.select("entity_id", "entity_type"), on="entity_id", how="left")
    clusters = members.group_by("cluster_id").agg(
        size=pl.len().cast(pl.Int64),
        **{name: (pl.col("entity_type") == kind).sum().cast(pl.Int64) for name, kind in _ENTITY_COUNTS.items()},
    )
    located = counted_hits(hits, communities, repeat_decay=repeat_decay, corroboration_bonus=corroboration_bonus,
                           flag_score=flag_score, partner_never_lifts=partner_never_lifts
                           ).with_row_index("_row", offset=1).with_columns(
        family=pl.col("indicator").replace_strict(_FAMILIES, default=pl.col("indicator"), return_dtype=pl.String),
        context=pl.col("indicator").is_in(_CONTEXT))
    per_family = (
        _one_per_finding(located)
        .sort(["cluster_id", "family", "weight", "indicator", "focus_entity", "_row"],
              descending=[False, False, True, False, False, False])
        .with_columns(_nth=pl.int_range(pl.len()).over("cluster_id", "family"))
        .group_by("cluster_id", "family", maintain_order=True).agg(
            pl.col("context").first(),
            points=(pl.col("weight") * pl.lit(repeat_decay) ** pl.col("_nth")).sum(),
            rules=pl.when(pl.col("grade") == "weak").then(pl.col("indicator") + " weak").otherwise("indicator")
            .unique(maintain_order=True))
        .with_columns(part=pl.format("{} {} ({})", "family", pl.col("points").round(4), pl.col("rules").list.join(", ")),
                      parts=pl.struct(part="family", kind=pl.lit("add"), value=pl.col("points").round(6)))
        .sort(["cluster_id", "context", "points", "family"], descending=[False, False, True, False])
    )
    per_cluster = per_family.group_by("cluster_id", maintain_order=True).agg(
        evidence=pl.col("points").filter(~pl.col("context")).sum(),
        context=pl.col("points").filter(pl.col("context")).sum(),
        families=pl.col("family").filter(~pl.col("context")),
        parts_text=pl.col("part").str.join(" + "),
        parts=pl.col("parts"),
    )
    indicators = (
        located.group_by("cluster_id", "indicator").agg(pl.col("weight").max())
        .sort(["cluster_id", "weight", "indicator"], descending=[False, True, False])
        .group_by("cluster_id", maintain_order=True).agg(indicators=pl.col("indicator"))
    )
    partners = (
        located.filter(~pl.col("context")).select("cluster_id", partner="partners").explode("partner").drop_nulls()
        .group_by("cluster_id").agg(partners=pl.col("partner").unique().sort())
    )
    reasons = _reason_lines(located)
    ranked = (
        clusters.join(per_cluster, on="cluster_id", how="left").join(indicators, on="cluster_id", how="left")
        .join(partners, on="cluster_id", how="left").join(reasons, on="cluster_id", how="left")
        .with_columns(pl.col("partners").fill_null(_EMPTY), pl.col("indicators").fill_null(_EMPTY),
                      pl.col("families").fill_null(_EMPTY), pl.col("reasons", "reasons_nl").fill_null(""),
                      pl.col("evidence").fill_null(0.0), pl.col("context").fill_null(0.0))
        .with_columns(puzzle_count=pl.col("partners").list.len().cast(pl.Int64),
                      corroboration=1 + corroboration_bonus * (pl.max_horizontal(pl.col("families").list.len(), 1) - 1))
        .with_columns(score=pl.when(pl.col("evidence") > 0)
                      .then((pl.col("evidence") + pl.col("context")) * pl.col("corroboration")).otherwise(0.0).round(6))
        .with_columns(flagged=pl.col("score") >= flag_score,
                      score_text=pl.when(pl.col("evidence") > 0).then(pl.format(
                          "{} = {}; × {} for {} families = {}", "parts_text",
                          (pl.col("evidence") + pl.col("context")).round(4), pl.col("corroboration").round(4),
                          pl.col("families").list.len(), "score")).otherwise(pl.lit("no indication")),
                      score_parts=pl.when(pl.col("evidence") > 0).then(pl.concat_list(
                          "parts", pl.struct(part=pl.lit("corroboration"), kind=pl.lit("multiply"),
                                             value="corroboration"))).otherwise(pl.lit([], dtype=_PARTS)))
        .with_columns(score_text=pl.col("score_text").str.replace(" for 1 families", " for 1 family", literal=True))
        .sort(["score", "cluster_id"], descending=[True, False])
        .with_row_index("rank", offset=1)
        .select("cluster_id", pl.col("rank").cast(pl.Int64), "score", "flagged", "evidence", "context", "families",
                "corroboration", "score_text", "score_parts", "size", *_ENTITY_COUNTS, "partners", "puzzle_count",
                "indicators", "reasons", "reasons_nl")
    )
    log.info("rank: %d clusters, %d with a score above 0, %d flagged (score >= %g)", ranked.height,
             ranked.filter(pl.col("score") > 0).height, ranked.filter(pl.col("flagged")).height, flag_score)
    return ranked


def _reason_lines(hits: pl.DataFrame) -> pl.DataFrame:
    """The ``reasons`` and ``reasons_nl`` columns of the clusters table: per ``cluster_id`` of
    ``hits`` one line per hit (indicator, version, partners, focus entity and its reason), highest
    weight first, ties in the order of ``hits``; ``reasons_nl`` the same lines with each hit's
    Dutch reason (``reason_nl``; the English one where a hit has none, as hits of an earlier
    version) and ``bij`` for ``on``.

    >>> hits = pl.DataFrame({"indicator": ["crowded_address"], "version": ["1"], "focus_entity": ["A1"],
    ...     "cluster_id": ["C0001"], "reason": ["9 persons"], "reason_nl": ["9 personen"],
    ...     "partners": [["belastingdienst"]], "weight": [1.0]})
    >>> for line in _reason_lines(hits).row(0)[1:]:
    ...     print(line)
    crowded_address v1 [belastingdienst] on A1: 9 persons
    crowded_address v1 [belastingdienst] bij A1: 9 personen
    """
    dutch = (pl.coalesce(pl.col("reason_nl").replace("", None), "reason") if "reason_nl" in hits.columns
             else pl.col("reason"))

    def line(on: str, reason: pl.Expr) -> pl.Expr:
        return pl.format(f"{{}} v{{}} [{{}}] {on} {{}}: {{}}", "indicator", "version",
                         pl.col("partners").list.join(", "), "focus_entity", reason).str.join("\n")

    return (
        hits.sort(["cluster_id", "weight", "indicator", "focus_entity"], descending=[False, True, False, False],
                  maintain_order=True)
        .group_by("cluster_id", maintain_order=True).agg(reasons=line("on", pl.col("reason")),
                                                         reasons_nl=line("bij", dutch))
    )


def partners_needed(clusters: pl.DataFrame, communities: pl.DataFrame, hits: pl.DataFrame, *,
                    shown: int | None = None) -> pl.DataFrame:
    """``clusters`` with two columns saying which partners the flag of each shown cluster needs.

    The shown clusters are the flagged ones, the ``shown`` best ranked (default: all flagged).
    Worked out from the run's own hit table (``hits``, the hits that count), per partner behind
    a shown cluster's hits: the hits that rest on that partner's records (the partner in the
    hit's ``partners``) are taken away, the rest counted again (a weak hit still needs a hit of
    another family beside it) and scored with the same formula. No rule runs again (rerunning
    them per partner took five times as long as the rules themselves at 20,000 persons); the
    price is that the figure is the score of *the pieces that do not rest on the partner's
    records*, not of a run without them: a hit on the records of two partners might still fire
    on the other's alone, and a rule that reads a partner's records for what they lack (a
    sponsor's migrants missing from the payroll) keeps its hit. ``without_partner`` lists, per
    partner behind the cluster's hits (context included), ``partner``, the ``score`` without its
    pieces and whether the cluster would still be ``flagged``; ``needs_partners`` lists the
    partners without whose pieces it would no longer be flagged. Other clusters get two empty
    lists.

    >>> import polars as pl
    >>> communities = pl.DataFrame({"entity_id": ["C1", "P1"], "cluster_id": ["C0001", "C0001"]})
    >>> nodes = pl.DataFrame({"entity_id": ["C1", "P1"], "entity_type": ["company", "person"]})
    >>> hits = pl.DataFrame({"indicator": ["wage_below_minimum", "straw_director"], "version": ["2", "1"],
    ...     "focus_entity": ["C1", "P1"], "cluster_id": ["C0001", "C0001"], "reason": ["", ""],
    ...     "evidence": [["r1"], ["r2"]], "partners": [["belastingdienst"], ["kvk"]], "weight": [1.5, 1.0]})
    >>> clusters = rank_clusters(communities, nodes, None, hits)
    >>> needed = partners_needed(clusters, communities, hits)
    >>> needed.select("score", "needs_partners").row(0)
    (3.75, ['belastingdienst'])
    >>> needed["without_partner"][0].to_list()
    [{'partner': 'belastingdienst', 'score': 1.0, 'flagged': False}, {'partner': 'kvk', 'score': 1.5, 'flagged': True}]
    """
    ranked = clusters.filter(pl.col("flagged")).sort("rank")
    chosen = (ranked if shown is None else ranked.head(shown)).select("cluster_id", "partners", before="score")
    members = communities.select("entity_id", "cluster_id").join(chosen.select("cluster_id"), on="cluster_id",
                                                                 how="semi")
    own = hits.drop("cluster_id", strict=False).join(
        members.select(focus_entity="entity_id", cluster_id="cluster_id"), on="focus_entity", how="inner")
    types = members.select("entity_id", entity_type=pl.lit(None, dtype=pl.String))  # the score needs no counts
    rows = []
    for partner in sorted(set(own.get_column("partners").explode().drop_nulls().to_list())):
        scored = rank_clusters(members, types, None, own.filter(~pl.col("partners").list.contains(partner)))
        rows.append(chosen.join(scored.select("cluster_id", "score", "flagged"), on="cluster_id")
                    .with_columns(partner=pl.lit(partner)))
    if not rows:
        return clusters.with_columns(needs_partners=_EMPTY, without_partner=pl.lit([], dtype=_WITHOUT))
    without = (
        pl.concat(rows)
        .filter(pl.col("partners").list.contains(pl.col("partner")) | (pl.col("score") != pl.col("before")))
        .sort("cluster_id", "partner")
        .group_by("cluster_id", maintain_order=True).agg(
            needs_partners=pl.col("partner").filter(~pl.col("flagged")),
            without_partner=pl.struct("partner", score=pl.col("score").round(6), flagged="flagged"))
    )
    return (clusters.join(without, on="cluster_id", how="left")
            .with_columns(pl.col("needs_partners").fill_null(_EMPTY),
                          pl.col("without_partner").fill_null(pl.lit([], dtype=_WITHOUT))))
