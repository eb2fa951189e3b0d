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
from collections import Counter
from pathlib import Path

import polars as pl

from mhgraph.export.charts import score_breakdown_svg, score_distribution_svg, timeline_svg
from mhgraph.export.document import (Block, Bullets, Details, Figure, Heading, Item, Link, Note, Paragraph, Table,
                                     Text)
from mhgraph.export.barriers import Intervention
from mhgraph.export.changes import changes_blocks
from mhgraph.export.dossier import ClusterDossier, EvidenceRecord, Finding, PartnerPiece
from mhgraph.export.i18n import (DEFAULT_LANGUAGE, counted, counted_relations, part_name, relation_label, translated,
                                 words)
from mhgraph.export.view import DISCLOSED_BY, month, month_text, period_text, picture_svg
from mhgraph.file_names import shown_path
from mhgraph.indicators import RANKING
from mhgraph.resolve.diagnostics import MIN_MERGED_PAIRS

__all__ = ["changes_blocks", "cluster_blocks", "cluster_page_name", "document_blocks", "evidence_summary",
           "export_counts", "number_text", "overview_blocks", "resolution_blocks", "resolution_lines",
           "resolution_text", "run_blocks", "size_text"]

# Run-manifest fields shown in the report, in this order (labels in mhgraph.export.i18n).
_RUN_FIELDS = ("run_purpose", "legal_ground", "run_id", "started", "mhgraph_version", "seed",
               "allowed_source_purposes", "sources_used")


# The counts of export_counts, and the noun each counts.
_COUNT_NOUNS = {"clusters": "cluster", "entities": "entity", "relations": "relation", "mentions": "mention",
                "partners": "partner", "hits": "hit"}


def cluster_page_name(cluster_id: str) -> str:
    """Where a cluster's picture lives, relative to the output folder."""
    return f"clusters/cluster_{cluster_id}.html"


def _t(value) -> Text:
    return Text("" if value is None else str(value))


def _code(value) -> Text:
    return Text("" if value is None else str(value), "code")


def _listing(values, lang: str = "en") -> str:
    return ", ".join(str(v) for v in values) if values else words(lang)["none"]


def size_text(row: dict, lang: str = "en") -> str:
    """``'12 entities: 8 persons, 2 companies, 2 addresses'`` from a ``clusters`` row."""
    parts = [counted(lang, row[column], noun) for column, noun in
             (("persons", "person"), ("companies", "company"), ("addresses", "address"), ("permits", "permit"))
             if row.get(column)]
    return f"{counted(lang, row['size'] or 0, 'entity')}: " + (", ".join(parts) or words(lang)["size_none"])


def number_text(value, lang: str = "en") -> str:
    if value is None:
        return "n/a"
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    return text.replace(".", ",") if lang == "nl" and isinstance(value, float) else text


def _value_text(value) -> str:
    if isinstance(value, (list, tuple)):
        return _listing(value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _type_names(lang: str, entity_type: str) -> dict[str, str]:
    one, many = words(lang)["entity"].get(entity_type, (entity_type, entity_type + "s"))
    return {"one": one, "many": many}


def resolution_blocks(diagnostics: list[dict] | None, lang: str = DEFAULT_LANGUAGE) -> list[Block]:
    """A loud warning per entity type whose resolution looks collapsed (the rows of
    :func:`mhgraph.resolve.resolution_diagnostics`, as the run manifest keeps them under
    ``resolution``); nothing when none does.

    >>> from mhgraph.export.document import to_markdown
    >>> row = {"entity_type": "person", "collapsed": True, "too_many_merges": False, "entity_too_large": True,
    ...        "largest_entity_groups": 70, "largest_entity": 75, "merged_pairs": 2415, "merge_ratio": 9.5}
    >>> print(to_markdown(resolution_blocks([row], "nl")).strip())
    > **WAARSCHUWING — de resolutie van personen lijkt ingestort: één entiteit omvat 70 identiteitsgroepen (75 registraties). Handel niet op clusters met personen voordat resolve/model.json en tables/matches.parquet zijn nagekeken; mhgraph run --strict faalt hierop.**
    """
    w = words(lang)
    blocks: list[Block] = []
    for row in diagnostics or ():
        if not row.get("collapsed"):
            continue
        reasons = []
        if row.get("too_many_merges"):
            reasons.append(w["too_many_merges"].format(merged=row["merged_pairs"],
                                                       ratio=number_text(row["merge_ratio"], lang)))
        if row.get("entity_too_large"):
            reasons.append(w["entity_too_large"].format(groups=row["largest_entity_groups"],
                                                        mentions=row["largest_entity"]))
        blocks.append(Note((Text(w["resolution_collapsed"].format(reasons="; ".join(reasons),
                                                                  **_type_names(lang, row["entity_type"])), "strong"),)))
    return blocks


def resolution_lines(diagnostics: list[dict] | None, lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """One line per resolved entity type: mentions, entities, the largest entity, merges against
    what the model expects, identity conflicts and an identifier that carries most merges."""
    w = words(lang)
    lines = []
    for row in diagnostics or ():
        text = w["resolution_line"].format(**_type_names(lang, row["entity_type"]),
                                           mentions=counted(lang, row["mentions"], "resolved_mention"),
                                           entities=counted(lang, row["entities"], "entity"),
                                           largest=counted(lang, row["largest_entity"], "resolved_mention"))
        if row.get("merge_ratio") is not None and row.get("merged_pairs"):
            text += w["resolution_merged"].format(merged=counted(lang, row["merged_pairs"], "group_pair"),
                                                  ratio=number_text(row["merge_ratio"], lang))
        if row.get("identity_conflicts"):
            text += w["resolution_conflicts"].format(conflicts=counted(lang, row["identity_conflicts"],
                                                                       "identity_conflict"))
        share = row.get("top_identifier_share")
        # a share of a few merges says nothing: the count the collapse check asks for first (rounded: the
        # division gives back the whole number of merges only to within a float step)
        if share and share > 0.5 and round((row["top_identifier_mentions"] - 1) / share) >= MIN_MERGED_PAIRS:
            text += w["resolution_crowded"].format(key=row["top_identifier"], share=f"{share:.0%}",
                                                   mentions=row["top_identifier_mentions"])
        lines.append(text)
    return lines


def _why_left_out(entry: dict, run_purpose: str | None, lang: str) -> str:
    """Why a source was left out, in the document's language (the manifest keeps it in English)."""
    w = words(lang)
    if lang == "en" and entry.get("why"):
        return entry["why"]
    if entry.get("purpose"):
        return w["excluded_why"].format(run=run_purpose, purpose=entry["purpose"])
    return w["excluded_why_unknown"].format(run=run_purpose)


def resolution_text(diagnostics: list[dict] | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """The warnings and lines of the resolution as plain text for a terminal (no Markdown escapes).

    >>> row = {"entity_type": "company", "collapsed": True, "too_many_merges": False, "entity_too_large": True,
    ...        "largest_entity_groups": 9, "largest_entity": 900, "mentions": 1000, "entities": 50,
    ...        "top_identifier": "kvk_number", "top_identifier_share": 0.9, "top_identifier_mentions": 900}
    >>> print(resolution_text([row], "en"))
    WARNING — the company resolution looks collapsed: one entity spans 9 identity groups (900 mentions). Do not act on clusters of companies before checking resolve/model.json and tables/matches.parquet; mhgraph run --strict fails on this.
    - entity resolution, companies: 1000 mentions → 50 entities; largest 900 mentions; one kvk_number value carries 90% of the merges by identifier (900 mentions)
    """
    warnings = ["".join(piece.value for piece in block.content) for block in resolution_blocks(diagnostics, lang)]
    return "\n".join(warnings + [f"- {line}" for line in resolution_lines(diagnostics, lang)])


def _quarantine_reason(code: str, lang: str) -> str:
    """A quarantine reason code, with its words in the document's language where it has them."""
    words_for = words(lang)["quarantine_reasons"].get(code)
    return f"{words_for} ({code})" if words_for else code


def run_blocks(run_info: dict | None, counts: dict[str, int], top: int, shown: int, lang: str = DEFAULT_LANGUAGE,
               partner_lists: str = "evidence") -> list[Block]:
    """The run: purpose, inputs, what was left out and the table sizes."""
    w = words(lang)
    items = []
    info = run_info or {}
    unchecked = (info.get("ingest") or {}).get("files_without_sidecar") or []
    if unchecked:
        items.append(Item((_t(w["without_sidecar"].format(n=len(unchecked))),),
                          (Bullets(tuple(Item((_code(shown_path(Path(f).name)),)) for f in unchecked)),)))
    stated = {**info, "legal_ground": w["legal_grounds"].get(info.get("run_purpose")) or info.get("legal_ground")}
    for key in _RUN_FIELDS:
        if stated.get(key) not in (None, "", [], {}):
            items.append(Item((_t(f"{w['run_fields'][key]}: "), _t(_value_text(stated[key])))))
    excluded = info.get("sources_excluded") or []
    if excluded:
        items.append(Item((_t(w["sources_left_out"]),), (Bullets(tuple(
            Item((_code(entry.get("source")), _t(f" — {_why_left_out(entry, info.get('run_purpose'), lang)}")))
            if isinstance(entry, dict) else Item((_t(_value_text(entry)),))
            for entry in excluded)),)))
    unmatched = (info.get("ingest") or {}).get("unmatched_files") or []
    if unmatched:
        items.append(Item((_t(w["files_unmatched"]),), (Bullets(tuple(Item((_code(Path(f).name),)) for f in unmatched)),)))
    sources = (info.get("ingest") or {}).get("sources") or []
    absent = [(shown_path(Path(src["file"]).name), column) for src in sources
              for column in src.get("optional_columns_absent") or []]
    if absent:  # one line per file and column: an analyst sees which partner's names are not all there
        items.append(Item((_t(w["optional_columns_absent"]),), (Bullets(tuple(
            Item((_code(file), _t(": "), _code(column))) for file, column in absent)),)))
    if sources:
        read, accepted = (sum(int(src.get(k) or 0) for src in sources) for k in ("rows_read", "rows_accepted"))
        reasons = sorted((reason, src.get("source"), n) for src in sources
                         for reason, n in (src.get("quarantined_by_reason") or {}).items() if n)
        items.append(Item((_t(w["rows_read"].format(read=read, accepted=accepted, quarantined=read - accepted)
                              + (w["see_quarantine"] if reasons else "")),),
                          (Bullets(tuple(Item((_t(w["reason_in"].format(reason=_quarantine_reason(reason, lang), n=n)),
                                               _code(source)))
                                         for reason, source, n in reasons)),) if reasons else ()))
    # What the partners' own checks held back, from the sidecars: never delivered, so not in the quarantine
    held, left_out = Counter(), Counter()
    for src in sources:
        held[src.get("source")] += int(src.get("rows_quarantined_by_partner") or 0)
        for reason, n in (src.get("values_left_out_by_partner") or {}).items():
            left_out[(reason, src.get("source"))] += int(n or 0)
    if any(held.values()):
        items.append(Item((_t(w["held_back_by_partner"].format(rows=counted(lang, sum(held.values()), "row"))),), (Bullets(tuple(
            Item((_code(source), _t(f" {n}"))) for source, n in sorted(held.items()) if n)),)))
    if any(left_out.values()):
        items.append(Item((_t(w["left_out_by_partner"].format(n=sum(left_out.values()))),), (Bullets(tuple(
            Item((_t(w["reason_in"].format(reason=_quarantine_reason(reason, lang), n=n)), _code(source)))
            for (reason, source), n in sorted(left_out.items()) if n)),)))
    items += [Item((_t(line),)) for line in resolution_lines(info.get("resolution"), lang)]
    asked = info.get("top") or top  # what the run asked for, where fewer clusters were flagged
    counted_all = {name: counted(lang, counts[name], noun) for name, noun in _COUNT_NOUNS.items()}
    items.append(Item((_t(w["this_export"].format(top=asked, shown=shown, **counted_all)),)))
    items.append(Item((_t(w["partner_lists_all" if partner_lists == "all" else "partner_lists_evidence"]),)))
    if info.get("counts"):
        items.append(Item((_t(w["table_sizes"] + ", ".join(
            f"{name} {value}" for name, value in sorted(info["counts"].items()))),)))
    blocks: list[Block] = [Heading(2, (_t(w["run_heading"]),)), Paragraph((_t(w["run_purpose_text"]),)),
                           Bullets(tuple(items))]
    inputs = info.get("inputs") or []
    if inputs:
        blocks.append(Details((_t(w["inputs"].format(n=len(inputs))),), (Bullets(tuple(
            Item((_code(shown_path(entry.get("file"))), _t(f" (sha256 {str(entry.get('sha256', ''))[:16]}…)")))
            if isinstance(entry, dict) else Item((_code(_value_text(entry)),))
            for entry in inputs)),)))
    return blocks


def overview_blocks(dossiers: list[ClusterDossier], link_pictures: bool, scores: list[float] | None = None,
                    lang: str = DEFAULT_LANGUAGE, scored: int | None = None, ranked: int | None = None) -> list[Block]:
    """The ranked clusters as one table, and how all scores are spread.

    Without a flagged cluster, ``scored`` of ``ranked`` clusters scoring above 0 says why the table is empty.

    >>> overview_blocks([], False, scored=1, ranked=6, lang="en")[1].content[0].value[:54]
    'No cluster flagged: no score reaches the threshold of '
    """
    w = words(lang)
    rows = []
    for d in dossiers:
        row = d.row
        name = (Link(row["cluster_id"], cluster_page_name(row["cluster_id"])),) if link_pictures else (
            _code(row["cluster_id"]),)
        partners: list[Text] = []
        for piece in d.pieces:
            if partners:
                partners.append(_t(", "))
            partners.append(Text(f"{piece.partner} {piece.records}", "strong" if piece.in_puzzle else ""))
        rows.append((
            (_t(number_text(row["rank"], lang)),), name, (_t(number_text(row["score"], lang)),), (_t(size_text(row, lang)),),
            (_t(number_text(row["puzzle_count"], lang)),), tuple(partners) or (_t(w["none"]),),
            (_t(_listing(row["indicators"], lang)),),
        ))
    header = (w["col_rank"], w["col_cluster"], w["col_score"], w["col_size"], w["col_puzzle"], w["col_partners"],
              w["col_indicators"])
    # A hit under the flag threshold leaves the table empty: say so, or the hit seems lost.
    empty = (w["no_cluster_flagged"].format(flag=number_text(RANKING["flag_score"], lang), scored=scored,
                                            clusters=ranked, where=w["scored_clusters_where"][scored > 1])
             if scored else w["no_cluster"])
    blocks: list[Block] = [Heading(2, (_t(w["ranked_clusters"]),)), Table(header, tuple(rows)) if rows else
                           Paragraph((_t(empty),))]
    if scores:
        cut = min((d.row["score"] for d in dossiers if d.row["score"] is not None), default=None)
        scored = sum(1 for s in scores if s and s > 0)
        text = w["score_distribution_text"].format(scored=scored, clusters=len(scores), shown=len(dossiers),
                                                   cut=number_text(cut, lang))
        svg = score_distribution_svg(scores, cut, lang)
        blocks += [Heading(3, (_t(w["score_distribution"]),)), Figure(svg, (_t(text),)) if svg else
                   Paragraph((_t(text),))]
    return blocks


def _piece_item(piece: PartnerPiece, lang: str) -> Item:
    w = words(lang)
    entities = ", ".join(counted(lang, count, entity_type) for entity_type, count in piece.entities) or w["none"]
    if piece.entities_outside:
        entities += w["piece_outside"].format(entities=", ".join(
            counted(lang, count, entity_type) for entity_type, count in piece.entities_outside))
    relations = ", ".join(f"{relation_label(lang, relation)} ×{count}"
                          for relation, count in piece.relations) or w["none"]
    return Item((
        _code(piece.partner),
        _t(w["piece_line"].format(purposes=_listing(piece.purposes, lang), records=counted(lang, piece.records, "record"))),
        *_joined_code(piece.sources, lang),
        _t(w["piece_rest"].format(entities=entities, relations=relations)
           + (w["piece_evidence"].format(n=piece.evidence_records) if piece.evidence_records else "")),
        Text(w["piece_in_puzzle"], "strong") if piece.in_puzzle else _t(w["piece_not_in_puzzle"]),
    ))


def _joined_code(values, lang: str) -> list[Text]:
    out: list[Text] = []
    for index, value in enumerate(values):
        if index:
            out.append(_t(", "))
        out.append(_code(value))
    return out or [_t(words(lang)["none"])]


def evidence_summary(d: ClusterDossier, finding: Finding) -> list[str]:
    """One line per kind of evidence: ``'23 payroll periods 2023-01…2024-06, lowest EUR 10.68/h'``.

    The lowest hourly wage is given only for an indicator that rests on wages (see
    :data:`mhgraph.export.view.DISCLOSED_BY`).
    """
    w = words(d.lang)
    groups: dict[tuple, list[EvidenceRecord]] = {}
    for record in finding.records:
        if record.found:
            groups.setdefault((record.type, record.partner), []).append(record)
    wages_shown = finding.indicator in DISCLOSED_BY["wage"]
    lines = []
    for (kind, partner), records in sorted(groups.items(), key=lambda item: tuple(map(str, item[0]))):
        starts = [month(r.valid_from) for r in records if r.valid_from]
        open_end = any(r.valid_to is None for r in records)
        ends = [month(r.valid_to) for r in records if r.valid_to]
        line = counted_relations(d.lang, len(records), str(kind)) + f" ({partner})"
        if starts:
            line += w["summary_span"].format(first=month_text(min(starts), d.lang),
                                             last=month_text(None if open_end or not ends else max(ends), d.lang))
        hourly = [r.wage / r.hours for r in records if r.wage is not None and r.hours]
        if wages_shown and hourly:
            line += w["summary_lowest"].format(wage=number_text(min(hourly), d.lang))
        lines.append(line)
    missing = sum(1 for r in finding.records if not r.found)
    if missing:
        lines.append(w["missing_relations"].format(n=missing) + w["not_in_edges"])
    return lines


def _record_table(d: ClusterDossier, finding: Finding) -> Table:
    w = words(d.lang)
    wages_shown = finding.indicator in DISCLOSED_BY["wage"]
    rows = []
    for record in finding.records:
        if not record.found:
            rows.append(((_code(record.relation_id),), (_t(w["not_in_edges"].lstrip(" —")),), (), ()))
            continue
        rows.append(((_code(record.source), _t(" / "), _code(record.record_id)),
                     (_t(f"{relation_label(d.lang, record.type)}: {d.alias(record.from_entity)} → "
                         f"{d.alias(record.to_entity)}"),),
                     (_t(period_text(record.valid_from, record.valid_to, d.lang)),), (_t(record.partner),)))
    if wages_shown:  # the hourly wage only where the indicator rests on it
        rows = [row + ((_t(w["hourly"].format(wage=number_text(record.wage / record.hours, d.lang))
                           if record.wage is not None and record.hours else ""),),)
                for row, record in zip(rows, finding.records)]
    return Table((w["th_record"], w["th_relation"], w["th_period"], w["th_partners"])
                 + ((w["th_hourly"],) if wages_shown else ()), tuple(rows))


def _finding_item(d: ClusterDossier, finding: Finding) -> list[Block]:
    w = words(d.lang)
    head = (
        Text(finding.indicator, "strong"),
        _t(w["finding_head"].format(version=finding.version, weight=number_text(finding.weight, d.lang))),
        Text(d.alias(finding.focus_entity), "strong"),
        _t(w["finding_partners"].format(partners=_listing(finding.partners, d.lang))), _t(d.readable(finding.reason)),
    )
    summary = evidence_summary(d, finding)
    blocks: list[Block] = [Paragraph(head)]
    if not finding.records:
        blocks.append(Paragraph((_t(w["no_records"]),)))
        return blocks
    blocks.append(Details((_t("; ".join(summary) + f" — {counted(d.lang, len(finding.records), 'record')}"),),
                          (_record_table(d, finding),)))
    return blocks


def _needs_items(row: dict, lang: str) -> list[Item]:
    """Which partners the flag needs, and the score without each partner behind it (the columns
    ``needs_partners`` and ``without_partner`` of :func:`mhgraph.rank.partners_needed`); nothing
    for a run that did not work them out."""
    w = words(lang)
    without = row.get("without_partner") or []
    if not without:
        return []
    needs = (w["flag_needs"].format(partners=_listing(row["needs_partners"], lang)) if row.get("needs_partners")
             else w["flag_needs_nobody"])
    scores = "; ".join(w["flag_without"].format(partner=entry["partner"], score=number_text(entry["score"], lang),
                                                flagged=w["still_flagged"] if entry["flagged"] else w["not_flagged"])
                       for entry in without)
    return [Item((_t(needs),)), Item((_t(scores),))]


def cluster_blocks(d: ClusterDossier, picture: str | None, level: int = 2, figures: bool = True) -> list[Block]:
    """Everything the case meeting needs about one cluster; ``picture`` links to its page.

    ``figures`` adds the static picture (when ``picture`` is given), the score breakdown and the
    timeline as inline SVG.
    """
    w = words(d.lang)
    lang = d.lang
    row = d.row
    title = (_t(w["cluster_heading"].format(rank=number_text(row["rank"], lang))), _code(row["cluster_id"]),
             _t(w["score_suffix"].format(score=number_text(row["score"], lang))))
    facts = [
        Item((_t(w["facts_rank"].format(rank=number_text(row["rank"], lang), score=number_text(row["score"], lang))),)),
        Item((_t(w["facts_size"].format(size=size_text(row, lang), inside=d.edges.height, outside=d.outgoing)),)),
        Item((_t(w["facts_puzzle"].format(count=counted(lang, row["puzzle_count"], "partner"),
                                          partners=_listing(row["partners"], lang))),)),
    ]
    facts += _needs_items(row, lang)
    if picture:
        facts.append(Item((_t(w["picture"]), Link(picture, picture))))
    blocks: list[Block] = [Heading(level, title), Bullets(tuple(facts))]
    if figures and picture:
        svg = picture_svg(d.view)
        if svg:
            blocks.append(Figure(svg))

    blocks.append(Heading(level + 1, (_t(w["why_ranks"]),)))
    parts = row.get("score_parts")
    svg = score_breakdown_svg(parts, row["score"], lang) if figures else ""
    if svg:
        blocks.append(Figure(svg))
    elif parts:
        blocks.append(Bullets(tuple(Item((_t(w["part_line"].format(
            part=part_name(p["part"], lang), kind=w["part_kinds"].get(p["kind"], p["kind"]),
            value=number_text(p["value"], lang))),)) for p in parts)))
    else:
        blocks.append(Paragraph((_t(w["no_parts"]),)))
    blocks.append(Paragraph((_t(w["formula"]),)))

    blocks.append(Heading(level + 1, (_t(w["findings_heading"]),)))
    if d.findings:
        for finding in d.findings:
            blocks += _finding_item(d, finding)
    else:
        blocks.append(Paragraph((_t(w["no_findings"]),)))

    blocks.append(Heading(level + 1, (_t(w["pieces_heading"]),)))
    blocks.append(Bullets(tuple(_piece_item(p, lang) for p in d.pieces)) if d.pieces else
                  Paragraph((_t(w["no_pieces"]),)))

    if figures:
        blocks.append(Heading(level + 1, (_t(w["timeline_heading"]),)))
        svg = timeline_svg(d)
        blocks.append(Figure(svg, (_t(w["timeline_text"]),)) if svg else Paragraph((_t(w["no_timeline"]),)))

    blocks.append(Heading(level + 1, (_t(w["actions_heading"]),)))
    blocks.append(Bullets(tuple(
        Item((Text(w["kinds"].get(a.kind, a.kind), "strong"), _t(" — "),
              _code(a.actor) if a.actor in {p.partner for p in d.pieces} else _t(translated(lang, a.actor)),
              _t(f": {translated(lang, a.how)} ({_basis_text(a, lang)})")))
        for a in d.actions)))
    blocks.append(Note((_t(w["not_a_decision"]),)))
    return blocks


def _basis_text(action: Intervention, lang: str) -> str:
    basis = translated(lang, action.basis) if action.basis else ""
    own = words(lang)["own_records"].format(purpose=action.purpose) if action.purpose else ""
    return "; ".join(part for part in (basis, own) if part)


def export_counts(clusters: pl.DataFrame, nodes: pl.DataFrame, edges: pl.DataFrame | pl.LazyFrame,
                  hits: pl.DataFrame, mentions: pl.DataFrame | pl.LazyFrame, partners: list[str]) -> dict[str, int]:
    """The table sizes the run section reports; ``edges`` and ``mentions`` may be scans (only their
    length is read), ``partners`` are those of the mentions (:func:`mhgraph.export.partners.partners_in`)."""
    return {
        "clusters": clusters.height,
        "entities": nodes.height,
        "relations": edges.lazy().select(pl.len()).collect().item(),
        "mentions": mentions.lazy().select(pl.len()).collect().item(),
        "partners": len(partners),
        "hits": hits.height,
    }


def document_blocks(dossiers: list[ClusterDossier], run_info: dict | None, counts: dict[str, int], top: int, *,
                    scores: list[float] | None, lang: str, changes: dict | None, partner_lists: str,
                    figures: bool) -> list[Block]:
    """The whole case-meeting document: what changed, the ranked clusters, each cluster, the run.

    ``summary.md`` (``figures=False``) and ``index.html`` (``figures=True``) both render this.
    """
    w = words(lang)
    blocks: list[Block] = [Heading(1, (_t(w["title"]),)), Note((_t(w["not_a_decision"]),))]
    blocks += resolution_blocks((run_info or {}).get("resolution"), lang)
    blocks += changes_blocks(changes, lang)
    blocks += overview_blocks(dossiers, link_pictures=True, scores=scores if figures else None, lang=lang,
                              scored=None if (run_info or {}).get("clusters_flagged") else (run_info or {}).get(
                                  "clusters_scored"), ranked=counts.get("clusters"))
    for dossier in dossiers:
        blocks += cluster_blocks(dossier, picture=cluster_page_name(dossier.cluster_id), figures=figures)
    blocks += run_blocks(run_info, counts, top, len(dossiers), lang, partner_lists)
    return blocks
