"""The content of the case-meeting report, as document blocks.

``summary.md``, ``index.html`` and each cluster page render these same blocks, so they say
the same things: the run, and per top cluster its rank and score, its size by entity type, the
puzzle count and which partner contributed which pieces, every indicator that fired with its
reason and the records behind it, and who could act and how.

>>> size_text({"size": 4, "persons": 3, "companies": 1, "addresses": 0, "permits": 0})
'4 entities: 3 persons, 1 company'
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from mhgraph.export.document import Block, Bullets, Heading, Item, Link, Note, Paragraph, Table, Text
from mhgraph.export.dossier import ClusterDossier, Finding, PartnerPiece

__all__ = ["NOT_A_DECISION", "cluster_blocks", "cluster_page_name", "export_counts", "overview_blocks", "run_blocks",
           "size_text"]

NOT_A_DECISION = (
    "These are indications for review by a person, not a decision. No indicator proves "
    "exploitation or any wrongdoing: each is a documented rule with its reason and the partner "
    "records behind it. What happens next is decided by people in the case meeting "
    "(casusoverleg), each partner within its own powers and the purpose it collected its "
    "records for."
)

# Run-manifest fields shown in the report, in this order, with their label.
_RUN_FIELDS = (
    ("run_purpose", "run purpose"),
    ("legal_ground", "legal ground"),
    ("run_id", "run id"),
    ("started", "started"),
    ("mhgraph_version", "mhgraph version"),
    ("seed", "seed"),
    ("allowed_source_purposes", "source purposes this run may use"),
    ("sources_used", "sources used"),
)


def cluster_page_name(cluster_id: str) -> str:
    """Where a cluster's picture lives, relative to the output folder."""
    return f"clusters/cluster_{cluster_id}.html"


def _t(value) -> Text:
    return Text("" if value is None else str(value))


def _code(value) -> Text:
    return Text("" if value is None else str(value), "code")


def _listing(values) -> str:
    return ", ".join(str(v) for v in values) if values else "none"


def _counted(count, noun: str) -> str:
    plural = {"address": "addresses", "company": "companies", "entity": "entities"}.get(noun, noun + "s")
    return f"{_number(count)} {noun if count == 1 else plural}"


def size_text(row: dict) -> str:
    """``'12 entities: 8 persons, 2 companies, 2 addresses'`` from a ``clusters`` row."""
    parts = [_counted(row[column], noun) for column, noun in
             (("persons", "person"), ("companies", "company"), ("addresses", "address"), ("permits", "permit"))
             if row.get(column)]
    return f"{_counted(row['size'] or 0, 'entity')}: " + (", ".join(parts) or "none by type")


def _number(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _value_text(value) -> str:
    if isinstance(value, (list, tuple)):
        return _listing(value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def run_blocks(run_info: dict | None, counts: dict[str, int], top: int, shown: int) -> list[Block]:
    """The run: purpose, inputs, what was left out and the table sizes."""
    items = []
    info = run_info or {}
    unchecked = (info.get("ingest") or {}).get("files_without_sidecar") or []
    if unchecked:
        items.append(Item((_t(f"WARNING: {len(unchecked)} file(s) TAKEN IN WITHOUT A SIDECAR "
                              "(--accept-missing-sidecar): key, row count and purpose unchecked:"),),
                          (Bullets(tuple(Item((_code(Path(f).name),)) for f in unchecked)),)))
    for key, label in _RUN_FIELDS:
        if info.get(key) not in (None, "", [], {}):
            items.append(Item((_t(f"{label}: "), _t(_value_text(info[key])))))
    excluded = info.get("sources_excluded") or []
    if excluded:
        items.append(Item((_t("sources left out:"),), (Bullets(tuple(
            Item((_code(entry.get("source")), _t(f" — {entry.get('why') or entry.get('purpose') or ''}")))
            if isinstance(entry, dict) else Item((_t(_value_text(entry)),))
            for entry in excluded)),)))
    inputs = info.get("inputs") or []
    if inputs:
        items.append(Item((_t("inputs:"),), (Bullets(tuple(
            Item((_code(entry.get("file")), _t(f" (sha256 {str(entry.get('sha256', ''))[:16]}…)")))
            if isinstance(entry, dict) else Item((_code(_value_text(entry)),))
            for entry in inputs)),)))
    sources = (info.get("ingest") or {}).get("sources") or []
    if sources:
        read, accepted = (sum(int(src.get(k) or 0) for src in sources) for k in ("rows_read", "rows_accepted"))
        reasons = sorted((reason, src.get("source"), n) for src in sources
                         for reason, n in (src.get("quarantined_by_reason") or {}).items() if n)
        items.append(Item((_t(f"partner rows read: {read}, taken in: {accepted}, quarantined: {read - accepted}"
                              + (" (see quarantine.csv):" if reasons else "")),),
                          (Bullets(tuple(Item((_t(f"{reason}: {n} in "), _code(source)))
                                         for reason, source, n in reasons)),) if reasons else ()))
    items.append(Item((_t(
        f"this export: {counts['clusters']} ranked clusters, the top {shown} shown (asked for {top}); "
        f"{counts['entities']} entities, {counts['relations']} relations and {counts['mentions']} partner "
        f"records (mentions) from {counts['partners']} partners; {counts['hits']} indicator hits"),)))
    if info.get("counts"):
        items.append(Item((_t("table sizes of the run: " + ", ".join(
            f"{name} {value}" for name, value in sorted(info["counts"].items()))),)))
    return [
        Heading(2, (_t("The run"),)),
        Paragraph((_t("Purpose of this report: put the pieces that partners hold together, so that "
                      "people can review clusters that several partners' records point at."),)),
        Bullets(tuple(items)),
    ]


def overview_blocks(dossiers: list[ClusterDossier], link_pictures: bool) -> list[Block]:
    """The ranked clusters as one table."""
    rows = []
    for d in dossiers:
        row = d.row
        name = (Link(row["cluster_id"], cluster_page_name(row["cluster_id"])),) if link_pictures else (
            _code(row["cluster_id"]),)
        rows.append((
            (_t(_number(row["rank"])),), name, (_t(_number(row["score"])),), (_t(size_text(row)),),
            (_t(_number(row["puzzle_count"])),), (_t(_listing(row["partners"])),),
            (_t(_listing(row["indicators"])),),
        ))
    header = ("rank", "cluster", "score", "size", "puzzle", "partners", "indicators")
    return [Heading(2, (_t("Ranked clusters"),)), Table(header, tuple(rows)) if rows else
            Paragraph((_t("No cluster to show."),))]


def _piece_item(piece: PartnerPiece) -> Item:
    entities = ", ".join(_counted(count, entity_type) for entity_type, count in piece.entities)
    relations = ", ".join(f"{relation} ×{count}" for relation, count in piece.relations) or "none"
    return Item((
        _code(piece.partner),
        _t(f" (purpose {_listing(piece.purposes)}): {_counted(piece.records, 'record')} from "),
        *_joined_code(piece.sources),
        _t(f"; entities: {entities}; relations inside the cluster: {relations}"),
    ))


def _joined_code(values) -> list[Text]:
    out: list[Text] = []
    for index, value in enumerate(values):
        if index:
            out.append(_t(", "))
        out.append(_code(value))
    return out or [_t("none")]


def _finding_item(finding: Finding) -> Item:
    records = tuple(
        Item((_code(record.source), _t(" record "), _code(record.record_id),
              _t(f" — {record.type}, partner {record.partner}, purpose {record.purpose}")))
        if record.found else
        Item((_t("relation "), _code(record.relation_id), _t(" — not in the edges table of this run")))
        for record in finding.records
    )
    head = (
        Text(finding.indicator, "strong"), _t(f" (version {finding.version}, weight {_number(finding.weight)}) on "),
        _code(finding.focus_entity), _t(f", partners {_listing(finding.partners)}: "), _t(finding.reason),
    )
    children = (Bullets(records),) if records else (Bullets((Item((_t("no records listed as evidence"),)),)),)
    return Item(head, children)


def cluster_blocks(d: ClusterDossier, picture: str | None, level: int = 2) -> list[Block]:
    """Everything the case meeting needs about one cluster; ``picture`` links to its page."""
    row = d.row
    title = (_t(f"{_number(row['rank'])}. Cluster "), _code(row["cluster_id"]),
             _t(f" — score {_number(row['score'])}"))
    facts = [
        Item((_t(f"rank {_number(row['rank'])}, score {_number(row['score'])}"),)),
        Item((_t(f"size: {size_text(row)}; {d.edges.height} relations inside the cluster, "
                 f"{d.outgoing} leading outside it"),)),
        Item((_t(f"puzzle count: {_counted(row['puzzle_count'], 'partner')} ({_listing(row['partners'])})"),)),
    ]
    if picture:
        facts.append(Item((_t("picture: "), Link(picture, picture))))
    blocks: list[Block] = [Heading(level, title), Bullets(tuple(facts))]

    blocks.append(Heading(level + 1, (_t("Which partner contributed which pieces"),)))
    blocks.append(Bullets(tuple(_piece_item(p) for p in d.pieces)) if d.pieces else
                  Paragraph((_t("No partner records found for this cluster's entities."),)))

    blocks.append(Heading(level + 1, (_t("Indicators that fired, with the records behind them"),)))
    blocks.append(Bullets(tuple(_finding_item(f) for f in d.findings), ordered=True) if d.findings else
                  Paragraph((_t("No indicator fired in this cluster."),)))

    blocks.append(Heading(level + 1, (_t("Who could act, and how (barrier model)"),)))
    blocks.append(Bullets(tuple(
        Item((Text(a.kind, "strong"), _t(" — "), _code(a.actor) if a.actor in {p.partner for p in d.pieces}
              else _t(a.actor), _t(f": {a.how} ({a.basis})")))
        for a in d.actions)))
    blocks.append(Note((_t(NOT_A_DECISION),)))
    return blocks


def export_counts(clusters: pl.DataFrame, nodes: pl.DataFrame, edges: pl.DataFrame, hits: pl.DataFrame,
                  mentions: pl.DataFrame) -> dict[str, int]:
    """The table sizes the run section reports."""
    return {
        "clusters": clusters.height,
        "entities": nodes.height,
        "relations": edges.height,
        "mentions": mentions.height,
        "partners": mentions["partner"].n_unique(),
        "hits": hits.height,
    }
