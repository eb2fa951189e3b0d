"""What the export knows about each top cluster, gathered once from the stage tables.

A :class:`ClusterDossier` holds the rows of one ranked cluster and everything the outputs
show about it: its members and internal relations, the indicator hits with the partner
records behind each, the pieces each partner contributed and who could act. It renders what
the tables say; it does not know how any indicator is computed.

>>> safe_name("C0001", "clusters", "cluster_id", row=1)
'C0001'
>>> safe_name("../x", "clusters", "cluster_id", row=3)
Traceback (most recent call last):
mhgraph.errors.InputError: file clusters, row 3, column 'cluster_id': cluster_id '../x' cannot name an output file; expected letters, digits, '_', '.' or '-' (at most 64, not starting with '.' or '-')
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

from mhgraph.errors import InputError
from mhgraph.export.aliases import Alias, case_aliases
from mhgraph.export.barriers import Intervention, interventions, register_kinds
from mhgraph.export.i18n import DEFAULT_LANGUAGE

__all__ = ["ClusterDossier", "Finding", "PartnerPiece", "build_dossiers", "check_columns", "safe_name"]

log = logging.getLogger("mhgraph.export")

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "clusters": ("cluster_id", "rank", "score", "flagged", "size", "persons", "companies", "addresses", "permits",
                 "partners", "puzzle_count", "indicators", "reasons"),
    "communities": ("entity_id", "cluster_id"),
    "nodes": ("entity_id", "entity_type", "partners", "sources", "purposes"),
    "edges": ("relation_id", "type", "from_entity", "to_entity", "source", "partner", "purpose", "record_id"),
    "indicator_hits": ("indicator", "version", "focus_entity", "cluster_id", "reason", "evidence", "partners",
                       "weight"),
    "mentions": ("mention_id", "entity_type", "source", "partner", "purpose", "record_id", "role"),
    "resolution": ("mention_id", "entity_id"),
}

# Employment relations bring the labour inspection into the list of possible interventions.
EMPLOYMENT_RELATION = "EMPLOYED_BY"

# Cluster ids and partner names become file names; anything else is refused, not rewritten,
# so two partners can never end up in one file.
# Entity ids as mhgraph.resolve writes them: a type letter and 12 hex digits (P-3f2a9c0e1b7d).
_ENTITY_ID = re.compile(r"\b[A-Z]-[0-9a-f]{12}\b")
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")

@dataclass(frozen=True)
class EvidenceRecord:
    relation_id: str
    type: str | None
    source: str | None
    record_id: str | None
    partner: str | None
    purpose: str | None
    found: bool  # False when the relation is not in the edges table
    from_entity: str | None = None
    to_entity: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    wage: float | None = None
    hours: float | None = None


@dataclass(frozen=True)
class Finding:
    indicator: str
    version: str
    focus_entity: str
    reason: str
    weight: float | None
    partners: tuple[str, ...]
    records: tuple[EvidenceRecord, ...]


@dataclass(frozen=True)
class PartnerPiece:
    partner: str
    purposes: tuple[str, ...]
    sources: tuple[str, ...]
    records: int
    entities: tuple[tuple[str, int], ...]  # (entity type, distinct entities) of the cluster's members
    relations: tuple[tuple[str, int], ...]  # (relation type, count) among the cluster's own relations
    evidence_records: int = 0  # records of this partner that are evidence of a hit
    in_puzzle: bool = False  # behind a non-context hit: counts in the cluster's puzzle count
    # (entity type, distinct entities) outside the cluster that its records mention: the other
    # entities of an evidence record, the holder of an attribute a hit names
    entities_outside: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class ClusterDossier:
    row: dict  # the cluster's row in ``clusters``
    members: pl.DataFrame  # ``nodes`` rows of the cluster's entities
    edges: pl.DataFrame  # relations with both ends in the cluster
    outgoing: int  # relations with one end in the cluster and the other outside it
    mentions: pl.DataFrame  # mentions of the cluster's entities and of its evidence records, with ``entity_id``
    findings: tuple[Finding, ...]
    pieces: tuple[PartnerPiece, ...]
    actions: tuple[Intervention, ...]
    crossing: pl.DataFrame = field(default_factory=pl.DataFrame)  # relations leading out, and evidence outside
    outside: pl.DataFrame = field(default_factory=pl.DataFrame)  # ``nodes`` rows at their far ends, with cluster_id
    aliases: dict[str, Alias] = field(default_factory=dict)  # members and outside entities
    neighbours: dict[str, dict] = field(default_factory=dict)  # other flagged clusters at the far ends: id -> row
    lang: str = DEFAULT_LANGUAGE

    @property
    def cluster_id(self) -> str:
        return self.row["cluster_id"]

    @property
    def evidence_ids(self) -> set[str]:
        """Relation ids that are evidence of one of the cluster's hits."""
        return {record.relation_id for finding in self.findings for record in finding.records}

    @cached_property
    def view(self) -> dict:
        """The picture as data (see :func:`mhgraph.export.view.cluster_view`), made once."""
        from mhgraph.export.view import cluster_view  # the view is built from the dossier

        return cluster_view(self)

    def readable(self, text: str) -> str:
        """``text`` (an indicator's reason) with every entity id of the picture replaced by its alias."""
        return _ENTITY_ID.sub(lambda found: self.alias(found.group(0)) if found.group(0) in self.aliases
                              else found.group(0), text)

    def alias(self, entity_id: str | None) -> str:
        """The case alias of ``entity_id`` (the id itself when it has none)."""
        found = self.aliases.get(entity_id)
        return found.label if found else str(entity_id)


def check_columns(name: str, table: pl.DataFrame | pl.LazyFrame) -> None:
    """Raise :class:`InputError` when ``table`` (or the scan of it) lacks a column the export needs."""
    present = table.collect_schema().names()
    missing = [column for column in REQUIRED_COLUMNS[name] if column not in present]
    if missing:
        raise InputError(f"the {name!r} table lacks the column(s) {', '.join(missing)} (see docs/tables.md)",
                         file=name, column=missing[0])


def safe_name(value, table: str, column: str, row: int) -> str:
    """``value`` when it can be used as a file name; otherwise an :class:`InputError`."""
    if not isinstance(value, str) or not _SAFE_NAME.fullmatch(value):
        shown = repr(value)[:40]
        raise InputError(
            f"{column} {shown} cannot name an output file; expected letters, digits, '_', '.' or '-' "
            "(at most 64, not starting with '.' or '-')",
            file=table, row=row, column=column,
        )
    return value


def _unique_or_fail(table: pl.DataFrame, name: str, column: str) -> None:
    keys = table[column]
    if keys.null_count() == 0 and keys.is_sorted() and not (keys == keys.shift(1)).any():
        return  # sorted keys hold a duplicate next to its twin: no hashing of millions of ids
    faulty = keys.is_null() | keys.is_duplicated()
    if faulty.any():
        row = int(faulty.arg_max())
        problem = "is empty" if keys[row] is None else f"{str(keys[row])[:40]!r} appears more than once"
        raise InputError(f"{column} {problem}", file=name, row=row + 1, column=column)


def top_clusters(clusters: pl.DataFrame, top: int) -> pl.DataFrame:
    """The ``top`` best-ranked rows of ``clusters`` (rank ascending, then cluster id)."""
    if not isinstance(top, int) or top < 0:
        raise ValueError(f"top must be a whole number >= 0, not {top!r}")
    check_columns("clusters", clusters)
    _unique_or_fail(clusters, "clusters", "cluster_id")
    numbered = clusters.with_row_index("_row", offset=1)
    ranked = numbered.sort(["rank", "cluster_id"], nulls_last=True).head(top)
    for row_number, cluster_id in ranked.select("_row", "cluster_id").iter_rows():
        safe_name(cluster_id, "clusters", "cluster_id", row_number)
    return ranked.drop("_row")


_EVIDENCE_COLUMNS = {"from_entity": pl.String(), "to_entity": pl.String(), "valid_from": pl.Date(),
                     "valid_to": pl.Date(), "wage": pl.Float64(), "hours": pl.Float64()}


def _with_columns(table: pl.DataFrame, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    # Optional columns (dates, wage) may be absent from a small table: they are then unknown.
    return table.with_columns(pl.lit(None, dtype=kind).alias(name) for name, kind in columns.items()
                              if name not in table.columns)


def _evidence_records(hits: pl.DataFrame, edges: pl.DataFrame) -> dict[str, EvidenceRecord]:
    relation_ids = hits.select(pl.col("evidence").explode().drop_nulls().unique()).to_series()
    found = _with_columns(edges.filter(pl.col("relation_id").is_in(relation_ids.implode())), _EVIDENCE_COLUMNS).select(
        "relation_id", "type", "source", "record_id", "partner", "purpose", *_EVIDENCE_COLUMNS)
    records = {
        row["relation_id"]: EvidenceRecord(**row, found=True) for row in found.iter_rows(named=True)
    }
    for relation_id in relation_ids.to_list():
        records.setdefault(relation_id, EvidenceRecord(relation_id, None, None, None, None, None, found=False))
    return records


def _findings(cluster_hits: pl.DataFrame, records: dict[str, EvidenceRecord], lang: str) -> tuple[Finding, ...]:
    # The reason in the document's language: Dutch where the hit has it (tables of earlier runs may not).
    reason = "reason_nl" if lang == "nl" and "reason_nl" in cluster_hits.columns else "reason"
    findings = []
    for hit in cluster_hits.iter_rows(named=True):
        evidence = sorted(set(hit["evidence"] or []))
        findings.append(Finding(
            indicator=str(hit["indicator"]),
            version=str(hit["version"]),
            focus_entity=str(hit["focus_entity"]),
            reason=str(hit[reason] or hit["reason"] or ""),
            weight=hit["weight"],
            partners=tuple(sorted(hit["partners"] or [])),
            records=tuple(records[relation_id] for relation_id in evidence),
        ))
    return tuple(findings)


def _pieces(cluster_mentions: pl.DataFrame, cluster_edges: pl.DataFrame, evidence: set[tuple[str, str]],
            puzzle: set[str], members: pl.Series) -> tuple[PartnerPiece, ...]:
    pieces = []
    for (partner,), own in cluster_mentions.sort("partner").group_by("partner", maintain_order=True):
        inside = pl.col("entity_id").is_in(members.implode())
        entities, entities_outside = (
            tuple(own.filter(which).group_by("entity_type").agg(pl.col("entity_id").n_unique().alias("n"))
                  .sort("entity_type").iter_rows()) for which in (inside, ~inside))
        relations = (cluster_edges.filter(pl.col("partner") == partner).group_by("type").len()
                     .sort("type").iter_rows())
        records = set(own.select("source", "record_id").iter_rows())
        pieces.append(PartnerPiece(
            partner=partner,
            purposes=tuple(sorted(own["purpose"].drop_nulls().unique().to_list())),
            sources=tuple(sorted(own["source"].drop_nulls().unique().to_list())),
            records=len(records),
            entities=entities,
            entities_outside=entities_outside,
            relations=tuple(relations),
            evidence_records=len(records & evidence),
            in_puzzle=partner in puzzle,
        ))
    return tuple(pieces)


def _registers(cluster_mentions: pl.DataFrame,
               cluster_edges: pl.DataFrame) -> dict[tuple[str, str], tuple[str, ...]]:
    """What the records of each partner under each purpose are (:func:`register_kinds`): one
    municipality may hold a permit register under one purpose and a housing register under another."""
    keys = [pl.col("partner").cast(pl.String), pl.col("purpose").cast(pl.String)]
    entities = {(partner, purpose): types for partner, purpose, types in
                cluster_mentions.group_by(keys).agg(pl.col("entity_type").cast(pl.String)).iter_rows()}
    relations = {(partner, purpose): types for partner, purpose, types in
                 cluster_edges.group_by(keys).agg(pl.col("type").cast(pl.String)).iter_rows()}
    return {key: register_kinds(entities.get(key, []), relations.get(key, []))
            for key in entities.keys() | relations.keys()}


def _cluster_mentions(placed: pl.DataFrame, cluster_id: str, findings: tuple[Finding, ...]) -> pl.DataFrame:
    """The cluster's partner records: mentions of its members, every mention in an evidence record
    (which may lie outside the cluster), and the mentions of an evidence entity by a partner the hit
    names for an attribute (a refusal, a sponsor status)."""
    evidence = {(r.source, r.record_id) for f in findings for r in f.records if r.found}
    attributes = {(entity, partner) for f in findings for r in f.records if r.found
                  for entity in (r.from_entity, r.to_entity, f.focus_entity) for partner in f.partners}
    attributes |= {(f.focus_entity, partner) for f in findings for partner in f.partners}
    keys = pl.DataFrame(sorted(evidence), schema={"source": pl.String, "record_id": pl.String}, orient="row")
    named = pl.DataFrame(sorted(attributes), schema={"entity_id": pl.String, "partner": pl.String}, orient="row")
    chosen = pl.concat([
        placed.filter(pl.col("cluster_id") == cluster_id),
        placed.join(keys, on=["source", "record_id"], how="semi"),
        placed.join(named, on=["entity_id", "partner"], how="semi"),
    ]).unique("mention_id")
    return chosen.with_columns(pl.lit(cluster_id).alias("cluster_id")).sort("entity_id", "source", "record_id", "role")


def _shown_mentions(mentions: pl.DataFrame | pl.LazyFrame, resolution: pl.DataFrame | pl.LazyFrame,
                    top_members: pl.Series, cluster_hits: pl.DataFrame,
                    records: dict[str, EvidenceRecord]) -> pl.DataFrame:
    """The mentions any top cluster's partner records can hold (:func:`_cluster_mentions`), each
    with its ``entity_id``: those of its members and of the entities its hits name, and every
    mention in a found evidence record. From scans only these rows are read, and of the resolution
    only its two columns (a national run's resolution is some 3 GB once read whole)."""
    found = [record for record in records.values() if record.found]
    named = pl.concat([top_members.explode(), cluster_hits.get_column("focus_entity").cast(pl.String),
                       pl.Series([e for r in found for e in (r.from_entity, r.to_entity)], dtype=pl.String)])
    keys = pl.DataFrame([(r.source, r.record_id) for r in found], schema={"source": pl.String, "record_id": pl.String},
                        orient="row").drop_nulls()  # a missing key matches no record
    resolved = resolution.lazy().select("mention_id", "entity_id")
    of_members = resolved.filter(pl.col("entity_id").is_in(named.drop_nulls().implode())).select(
        "mention_id").collect().to_series()
    # one pass over the mentions: a mention id names one mention, so its row is the one to keep
    shown = mentions.lazy().filter(
        pl.col("mention_id").is_in(of_members.implode())
        | pl.struct("source", "record_id").is_in(keys.select(pl.struct("source", "record_id").implode()).to_series())
    ).collect()
    # the resolution of the shown mentions only; one of them resolved twice is refused, naming its first row
    entities = resolved.filter(pl.col("mention_id").is_in(shown.get_column("mention_id").implode())).collect()
    twice = entities.filter(pl.col("mention_id").is_duplicated()).get_column("mention_id")
    if twice.len():
        row, mention = resolved.with_row_index("_row").filter(pl.col("mention_id").is_in(twice.implode())).select(
            "_row", "mention_id").first().collect().row(0)
        raise InputError(f"mention_id {str(mention)[:40]!r} appears more than once", file="resolution", row=row + 1,
                         column="mention_id")
    return shown.join(entities, on="mention_id", how="inner")


def build_dossiers(clusters: pl.DataFrame, communities: pl.DataFrame, nodes: pl.DataFrame,
                   edges: pl.DataFrame | pl.LazyFrame, hits: pl.DataFrame, mentions: pl.DataFrame | pl.LazyFrame,
                   resolution: pl.DataFrame | pl.LazyFrame, top: int = 10,
                   lang: str = DEFAULT_LANGUAGE) -> list[ClusterDossier]:
    """One :class:`ClusterDossier` per top cluster, best rank first.

    ``edges``, ``mentions`` and ``resolution`` may be scans (``pl.scan_parquet``): only the edges at
    a top cluster or behind its evidence are read, the mentions a top cluster shows and the
    resolution of those; a mention resolved twice among them is refused.

    Partners are counted one way everywhere: a cluster's pieces (and so its barrier model, its
    picture and its partner lists) hold the records of its members plus every evidence record
    of its hits, also where an explaining path leaves the cluster.
    """
    for name, table in (("communities", communities), ("nodes", nodes), ("edges", edges),
                        ("indicator_hits", hits), ("mentions", mentions), ("resolution", resolution)):
        check_columns(name, table)
    _unique_or_fail(communities, "communities", "entity_id")
    _unique_or_fail(nodes, "nodes", "entity_id")
    ranked = top_clusters(clusters, top)
    top_ids = ranked["cluster_id"].implode()

    everyone = communities.select("entity_id", "cluster_id")
    membership = everyone.filter(pl.col("cluster_id").is_in(top_ids))
    members = nodes.join(membership, on="entity_id", how="inner")
    lacking = membership.join(nodes.select("entity_id"), on="entity_id", how="anti")
    if lacking.height:
        log.warning("%d community members have no row in the nodes table; they are shown without context",
                    lacking.height)
        members = pl.concat([members, lacking], how="diagonal_relaxed")

    cluster_hits = hits.filter(pl.col("cluster_id").is_in(top_ids)).sort(
        ["cluster_id", "weight", "indicator", "focus_entity"], descending=[False, True, False, False], nulls_last=True)
    # Only the edges and mentions the documents can show are read and given their clusters: those at
    # a top cluster and those behind its evidence. Placing every one copied the whole edges and
    # mentions tables, the largest memory of a national run; a scan of the edges is read for these rows only.
    top_members = membership.get_column("entity_id").implode()
    evidence_ids = cluster_hits.select(pl.col("evidence").explode().drop_nulls().unique()).to_series().implode()
    shown = edges.lazy().filter(pl.col("from_entity").is_in(top_members) | pl.col("to_entity").is_in(top_members)
                                | pl.col("relation_id").is_in(evidence_ids)).collect()
    records = _evidence_records(cluster_hits, shown)
    located = (
        shown
        .join(everyone.rename({"entity_id": "from_entity", "cluster_id": "from_cluster"}), on="from_entity",
              how="left")
        .join(everyone.rename({"entity_id": "to_entity", "cluster_id": "to_cluster"}), on="to_entity", how="left")
    )
    touching = located.filter(pl.col("from_cluster").is_in(top_ids) | pl.col("to_cluster").is_in(top_ids))
    internal = touching.filter(pl.col("from_cluster") == pl.col("to_cluster"))
    evidence_edges = located.filter(pl.col("relation_id").is_in(list(records)))
    placed = _shown_mentions(mentions, resolution, top_members, cluster_hits, records).join(
        everyone, on="entity_id", how="left")
    flagged = {row["cluster_id"]: row for row in clusters.filter(pl.col("flagged")).select(
        "cluster_id", "rank", "score").iter_rows(named=True)}
    exported = set(ranked["cluster_id"].to_list())

    dossiers = []
    for row in ranked.iter_rows(named=True):
        cluster_id = row["cluster_id"]
        own_edges = internal.filter(pl.col("from_cluster") == cluster_id).drop("from_cluster", "to_cluster")
        findings = _findings(cluster_hits.filter(pl.col("cluster_id") == cluster_id), records, lang)
        evidence_ids = {r.relation_id for f in findings for r in f.records}
        leading_out = touching.filter(
            pl.col("from_cluster").eq_missing(cluster_id) != pl.col("to_cluster").eq_missing(cluster_id))
        crossing = pl.concat([
            leading_out,
            evidence_edges.filter(pl.col("relation_id").is_in(list(evidence_ids))
                                  & ~(pl.col("from_cluster").eq_missing(cluster_id)
                                      & pl.col("to_cluster").eq_missing(cluster_id))),
        ]).unique("relation_id").sort("relation_id")
        far = (crossing.select(entity_id="from_entity", cluster_id="from_cluster")
               .vstack(crossing.select(entity_id="to_entity", cluster_id="to_cluster"))
               .filter(pl.col("cluster_id").ne_missing(cluster_id)).unique("entity_id"))
        outside = (far.join(nodes, on="entity_id", how="left").sort("entity_id")
                   if far.height else members.clear())
        own_members = members.filter(pl.col("cluster_id") == cluster_id).sort("entity_id")
        own_mentions = _cluster_mentions(placed, cluster_id, findings)
        evidence_keys = {(r.source, r.record_id) for f in findings for r in f.records if r.found}
        pieces = _pieces(own_mentions, own_edges, evidence_keys, set(row["partners"] or []), own_members["entity_id"])
        employment = own_edges.filter(pl.col("type") == EMPLOYMENT_RELATION).height > 0
        pictured = pl.concat([own_members.select("entity_id", "entity_type"),
                              outside.select("entity_id", "entity_type")])
        neighbours = {c: {**flagged[c], "exported": c in exported}
                      for c in sorted(set(outside["cluster_id"].drop_nulls().to_list())) if c in flagged}
        dossiers.append(ClusterDossier(
            row=row,
            members=own_members,
            edges=own_edges.sort("relation_id"),
            outgoing=leading_out.height,
            mentions=own_mentions,
            findings=findings,
            pieces=pieces,
            actions=tuple(interventions({p.partner: list(p.purposes) for p in pieces}, employment,
                                        _registers(own_mentions, own_edges))),
            crossing=crossing.drop("from_cluster", "to_cluster"),
            outside=outside,
            aliases=case_aliases(pictured, pl.concat([own_edges.select("type", "from_entity", "to_entity"),
                                                      crossing.select("type", "from_entity", "to_entity")]), lang,
                                 outside=set(outside["entity_id"].to_list())),
            neighbours=neighbours,
            lang=lang,
        ))
    log.info("gathered %d top clusters out of %d", len(dossiers), clusters.height)
    return dossiers
