"""The cluster picture as data: merged relations, case aliases, positions, and what may be shown.

:func:`cluster_view` turns a :class:`~mhgraph.export.dossier.ClusterDossier` into the nodes and
edges that both the interactive page (``graph.js``) and the static picture in the report
(:func:`picture_svg`) draw:

* parallel relations (23 payroll periods between one worker and one employer) become one edge
  with a count, a period range and the periods themselves (for the time slider);
* nodes carry their case alias, role, partner badges and position (:mod:`mhgraph.export.layout`);
* evidence relations are drawn even where they leave the cluster; other ties leading out are
  there to be expanded, with the cluster at the far end named when it is flagged too;
* wages, hours and Bibob outcomes appear only where an indicator rests on them
  (:data:`DISCLOSED_BY`): art. 67 AWR and art. 28 Wet Bibob limit who may see them.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections import defaultdict
from dataclasses import dataclass

from mhgraph.export.dossier import ClusterDossier
from mhgraph.export.i18n import relation_label, words
from mhgraph.export.layout import role_layout

__all__ = ["DISCLOSED_BY", "ENTITY_STYLE", "PartnerBadge", "badge", "cluster_view", "month", "month_text",
           "node_table_rows", "period_text", "picture_svg"]

# entity type -> (colour, shape): colour and shape both differ, for colour-blind readers.
ENTITY_STYLE = {
    "person": ("#4e79a7", "circle"),
    "company": ("#f28e2b", "square"),
    "address": ("#59a14f", "triangle"),
    "permit": ("#b07aa1", "diamond"),
}
OTHER_STYLE = ("#9c9c9c", "circle")
FLAGGED = "#c0392b"

# Sensitive fields and the indicators that rest on them: a field is shown on a relation or an
# entity only where it is evidence of one of these indicators (art. 67 AWR for payroll data,
# art. 28 Wet Bibob for Bibob outcomes).
DISCLOSED_BY = {
    "wage": ("wage_below_minimum", "sponsor_of_many_migrants"),
    "hours": ("wage_below_minimum", "sponsor_of_many_migrants"),
    "bibob_outcome": ("link_to_earlier_refusal",),
}
# Entity context always shown in the detail (a whitelist: nothing else reaches the page).
NODE_CONTEXT = ("municipality", "sbi_code", "legal_form", "registered_on", "dissolved_on", "sponsor_status",
                "sponsor_status_on", "permit_type", "permit_status", "decided_on")
EDGE_CONTEXT = ("contract_type", "role", "permit_purpose")
# Draw order of labels when space is short: the higher, the sooner.
_PRIORITY = {"employer": 6, "sponsor": 6, "holder": 6, "company": 5, "permit": 5, "director": 5, "manager": 5,
             "premises": 4, "home": 3, "address": 3, "migrant": 2, "worker": 1, "resident": 1, "person": 1}


@dataclass(frozen=True)
class PartnerBadge:
    code: str  # "BD", "KvK", "IND", "ARN"
    colour: str


_BADGES = {"belastingdienst": PartnerBadge("BD", "#1f4e79"), "kvk": PartnerBadge("KvK", "#7a3b00"),
           "ind": PartnerBadge("IND", "#5b2a86")}


def badge(partner: str) -> PartnerBadge:
    """The short code and colour a partner is shown with on a node.

    >>> badge("kvk").code, badge("gemeente_eindhoven").code, badge("gemeente_'s-hertogenbosch").code
    ('KvK', 'EIN', "'S-")
    """
    if partner in _BADGES:
        return _BADGES[partner]
    name = partner.removeprefix("gemeente_")
    return PartnerBadge(name[:3].upper(), "#2e6b30" if partner.startswith("gemeente_") else "#555555")


def month(day: dt.date | None) -> int | None:
    """Months since year 0: the unit of the time slider.

    >>> month(dt.date(2024, 3, 31)) - month(dt.date(2023, 12, 1))
    3
    """
    return None if day is None else day.year * 12 + day.month - 1


def month_text(value: int | None, lang: str) -> str:
    if value is None:
        return words(lang)["open_end"]
    return f"{value // 12:04d}-{value % 12 + 1:02d}"


def period_text(start: dt.date | None, end: dt.date | None, lang: str) -> str:
    """``'2024-02-01 … now'``: a relation's period, open ends named.

    >>> period_text(None, dt.date(2024, 5, 31), "nl")
    '? … 2024-05-31'
    """
    return f"{start or '?'} … {end or words(lang)['open_end']}"


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _disclosed(d: ClusterDossier) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """relation id -> sensitive fields shown on it; entity id -> sensitive fields shown on it."""
    on_relations: dict[str, set[str]] = defaultdict(set)
    on_entities: dict[str, set[str]] = defaultdict(set)
    for finding in d.findings:
        fields = {name for name, indicators in DISCLOSED_BY.items() if finding.indicator in indicators}
        if not fields:
            continue
        on_entities[finding.focus_entity] |= fields
        for record in finding.records:
            on_relations[record.relation_id] |= fields
            for entity in (record.from_entity, record.to_entity):
                if entity:
                    on_entities[entity] |= fields
    return on_relations, on_entities


def _merged_edges(d: ClusterDossier, relations, evidence: set[str], crossing: set[str],
                  outside: set[str], shown_fields: dict[str, set[str]]) -> list[dict]:
    lang = d.lang
    w = words(lang)
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for relation in relations:
        groups[(relation["from_entity"], relation["to_entity"], relation["type"], relation["partner"])].append(relation)
    edges = []
    for (a, b, kind, partner), group in sorted(groups.items(), key=lambda item: tuple(map(str, item[0]))):
        periods = sorted(([month(r.get("valid_from")), month(r.get("valid_to"))] for r in group),
                         key=lambda p: (p[0] is None, p[0] or 0, p[1] is None, p[1] or 0))
        starts = [p[0] for p in periods if p[0] is not None]
        open_end = any(p[1] is None for p in periods)
        ends = [p[1] for p in periods if p[1] is not None]
        first = min(starts) if starts else None
        last = None if open_end or not ends else max(ends)
        is_evidence = any(r["relation_id"] in evidence for r in group)
        lines = [f"{d.alias(a)} → {d.alias(b)}",
                 f"{relation_label(lang, kind)} ×{len(group)}, {month_text(first, lang)}…{month_text(last, lang)}",
                 f"{partner} ({_text(group[0].get('purpose'))})"]
        for relation in group:
            extra = [f"{w['field_names'].get(name, name)} {_text(relation[name])}" for name in EDGE_CONTEXT
                     if relation.get(name) is not None]
            fields = shown_fields.get(relation["relation_id"], set())
            if "wage" in fields and relation.get("wage") is not None and (relation.get("hours") or 0) > 0:
                wage = f"{relation['wage'] / relation['hours']:.2f}"
                extra.append(w["hourly_over"].format(wage=wage.replace(".", ",") if lang == "nl" else wage,
                                                     hours=f"{relation['hours']:.0f}"))
            period = period_text(relation.get("valid_from"), relation.get("valid_to"), lang)
            lines.append(f"  {relation['source']} / {relation['record_id']}  {period}"
                         + (f"  ({'; '.join(extra)})" if extra else ""))
        edges.append({
            "a": a, "b": b, "type": kind, "partner": partner, "n": len(group), "first": first, "last": last,
            "periods": periods, "ev": is_evidence,
            # A tie leading out that explains nothing waits to be expanded.
            "tie": (not is_evidence) and all(r["relation_id"] in crossing for r in group),
            "out": a in outside or b in outside,
            "label": f"{relation_label(lang, kind)} ×{len(group)} {month_text(first, lang)}…"
                     f"{month_text(last, lang)}",
            "detail": lines,
        })
    return edges


def cluster_view(d: ClusterDossier) -> dict:
    """Nodes, edges, partners and relation types of one cluster picture (JSON-ready)."""
    w = words(d.lang)
    evidence = d.evidence_ids
    crossing_ids = set(d.crossing["relation_id"].to_list()) if d.crossing.height else set()
    outside_ids = set(d.outside["entity_id"].to_list()) if d.outside.height else set()
    on_relations, on_entities = _disclosed(d)
    relations = list(d.edges.iter_rows(named=True)) + (list(d.crossing.iter_rows(named=True)) if d.crossing.height
                                                      else [])
    edges = _merged_edges(d, relations, evidence, crossing_ids, outside_ids, on_relations)

    flags: dict[str, list[str]] = defaultdict(list)
    for finding in d.findings:
        flags[finding.focus_entity].append(f"{finding.indicator} v{finding.version}: {d.readable(finding.reason)}")
    records: dict[str, list[str]] = defaultdict(list)
    for mention in d.mentions.iter_rows(named=True):
        records[mention["entity_id"]].append(
            f"{mention['source']} / {mention['record_id']} ({mention['role']}, {mention['partner']})")
    partners_shown = {p.partner for p in d.pieces}
    rows = list(d.members.iter_rows(named=True)) + (list(d.outside.iter_rows(named=True)) if d.outside.height else [])
    degree: dict[str, int] = defaultdict(int)
    for edge in edges:
        if not edge["tie"]:
            degree[edge["a"]] += edge["n"]
            degree[edge["b"]] += edge["n"]
    positions = role_layout([(row["entity_id"], d.aliases[row["entity_id"]].role, row["entity_id"] in outside_ids)
                             for row in rows], [(e["a"], e["b"], e["type"]) for e in edges if not e["tie"]])
    nodes = []
    for row in rows:
        entity_id = row["entity_id"]
        alias = d.aliases[entity_id]
        is_outside = entity_id in outside_ids
        # Badges: partners holding a record of the node, counted as the pieces count them.
        held = sorted(set(row.get("partners") or []) & partners_shown) if is_outside else sorted(row.get("partners") or [])
        fields = on_entities.get(entity_id, set())
        context = [f"{w['field_names'].get(name, name)}: {_text(row[name])}"
                   for name in (*NODE_CONTEXT, *sorted(fields & set(row)))
                   if row.get(name) is not None and (name in NODE_CONTEXT or name in fields)]
        kind = w["entity"].get(row.get("entity_type"), (str(row.get("entity_type")),))[0]
        detail = [alias.label, f"{w['pseudonym']}: {entity_id}", f"{kind} · {w['roles'][alias.role]}",
                  f"{w['th_partners']}: {', '.join(held) or w['none']}", *context]
        other = row.get("cluster_id") if is_outside else None
        if is_outside:
            detail.append(w["outside"] + (f" · {w['in_cluster'].format(cluster=other)}" if other else ""))
            if other in d.neighbours:
                detail.append(w["flagged_cluster"].format(cluster=other, rank=d.neighbours[other]["rank"]))
        x, y = positions[entity_id]
        nodes.append({
            "id": entity_id, "label": alias.label, "role": w["roles"][alias.role], "type": row.get("entity_type"),
            "kind": kind,
            "partners": [badge(p).code for p in held], "held": held, "x": x, "y": y, "flags": flags.get(entity_id, []),
            "outside": is_outside, "cluster": other,
            "link": (f"cluster_{other}.html" if other in d.neighbours and d.neighbours[other]["exported"] else None),
            "prio": (10 if entity_id in flags else 0) + _PRIORITY.get(alias.role, 0) - (3 if is_outside else 0),
            "degree": degree[entity_id], "detail": detail, "records": records.get(entity_id, []),
        })
    partners = sorted({e["partner"] for e in edges} | {p for row in rows for p in (row.get("partners") or [])
                                                      if row["entity_id"] not in outside_ids or p in partners_shown})
    dates = [m for e in edges for p in e["periods"] for m in p if m is not None]
    return {
        "nodes": nodes, "edges": edges,
        "partners": [{"name": p, "code": badge(p).code, "colour": badge(p).colour} for p in partners],
        "types": sorted({e["type"] for e in edges}),
        "type_labels": {e["type"]: relation_label(d.lang, e["type"]) for e in edges},
        "months": [min(dates), max(dates)] if dates else None,
        "styles": {kind: {"colour": colour, "shape": shape} for kind, (colour, shape) in ENTITY_STYLE.items()},
        "words": {key: w[key] for key in ("records_of", "evidence_for", "detail_hint")},
    }


def node_table_rows(view: dict) -> list[tuple[str, ...]]:
    """(id, alias, role, type, partners, relations, indicators) per node, best-known first."""
    ordered = sorted(view["nodes"], key=lambda n: (n["outside"], -n["prio"], n["label"]))
    return [(n["id"], n["label"], n["role"], n["kind"], " ".join(n["partners"]), str(n["degree"]),
             "; ".join(flag.split(":")[0] for flag in n["flags"])) for n in ordered]


# --- the static picture for the report and for print --------------------------------------------

_CHAR_WIDTH, _FONT = 6.4, 11  # approximate width of a character of an 11 px sans-serif font
_LABEL_PAD, _LABEL_HEIGHT = 4, _FONT + 4


def _label_boxes(x: float, y: float, r: float, w: float, width: int) -> list[tuple[float, float, float, float]]:
    """Where the label (``w`` wide) of a node at ``x``, ``y`` may go, in the order the cluster
    pages try (graph.js): below it, above, right, left, then at the corners; a label near the
    picture's side moves inwards.

    >>> _label_boxes(100, 100, 5, 40, 900)[:2]
    [(80.0, 106, 120.0, 121), (80.0, 79, 120.0, 94)]
    """
    def inside(left: float) -> float:
        return min(max(left, 1), width - w - 1)

    below, above, beside = y + r + 1, y - r - 1 - _LABEL_HEIGHT, y - _LABEL_HEIGHT / 2
    middle, right, left = inside(x - w / 2), inside(x + r + 3), inside(x - r - 3 - w)
    corners = [(right, below), (left, below), (right, above), (left, above)]
    return [(lx, ly, lx + w, ly + _LABEL_HEIGHT)
            for lx, ly in [(middle, below), (middle, above), (right, beside), (left, beside), *corners]]


def _label_fits(box: tuple[float, float, float, float], width: int, height: int,
                taken: list[tuple[float, float, float, float]]) -> bool:
    """Inside the picture and clear of every box in ``taken`` (other labels, other nodes)."""
    inside = box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height
    return inside and all(box[2] < o[0] or box[0] > o[2] or box[3] < o[1] or box[1] > o[3] for o in taken)


def _shape(shape: str, x: float, y: float, r: float, fill: str, stroke: str, width: float) -> str:
    common = f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"'
    if shape == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" {common}/>'
    if shape == "triangle":
        return f'<polygon points="{x:.1f},{y - r:.1f} {x + r:.1f},{y + r:.1f} {x - r:.1f},{y + r:.1f}" {common}/>'
    if shape == "diamond":
        return (f'<polygon points="{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} {x - r:.1f},{y:.1f}" '
                f'{common}/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {common}/>'


def picture_svg(view: dict, width: int = 900, height: int = 560) -> str:
    """The default view of the picture as a static SVG (no script): evidence and cluster relations,
    every node, and as many labels as fit, most important first: each where the cluster pages would put
    it (:func:`_label_boxes`), clear of the other labels and nodes and inside the picture."""
    nodes = {n["id"]: n for n in view["nodes"]}
    edges = [e for e in view["edges"] if not e["tie"]]
    drawn = {n for e in edges for n in (e["a"], e["b"])} | {n["id"] for n in view["nodes"] if not n["outside"]}
    if not drawn:
        return ""
    xs = [nodes[n]["x"] for n in drawn]
    ys = [nodes[n]["y"] for n in drawn]
    margin = 40
    low_x, low_y, span_x, span_y = min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)
    scale = min((width - 2 * margin) / max(span_x, 1), (height - 2 * margin) / max(span_y, 1), 1.0)
    shift_x = margin + (width - 2 * margin - span_x * scale) / 2
    shift_y = margin + (height - 2 * margin - span_y * scale) / 2

    def at(node):
        return shift_x + (node["x"] - low_x) * scale, shift_y + (node["y"] - low_y) * scale

    radius = max(3.0, min(9.0, 9 * scale * 1.6))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="picture" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img">', f'<rect width="{width}" height="{height}" fill="#ffffff"/>']
    for edge in sorted(edges, key=lambda e: e["ev"]):
        (x1, y1), (x2, y2) = at(nodes[edge["a"]]), at(nodes[edge["b"]])
        colour = FLAGGED if edge["ev"] else "#9a9a9a"
        dash = ' stroke-dasharray="4 3"' if edge["out"] else ""
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
                     f'stroke-width="{min(1 + math.log2(edge["n"]), 4):.1f}" stroke-opacity="0.7"{dash}/>')
    placed = {node["id"]: at(node) for node in (nodes[n] for n in drawn)}
    discs = [(x - radius, y - radius, x + radius, y + radius) for x, y in placed.values()]
    taken: list[tuple[float, float, float, float]] = []
    labels = []
    for node in sorted((nodes[n] for n in drawn), key=lambda n: (-n["prio"], -n["degree"], n["label"])):
        x, y = placed[node["id"]]
        colour, shape = view["styles"].get(node["type"], {"colour": OTHER_STYLE[0], "shape": OTHER_STYLE[1]}).values()
        fill = "#ffffff" if node["outside"] else colour
        parts.append(_shape(shape, x, y, radius, fill, FLAGGED if node["flags"] else colour, 3 if node["flags"] else 1.5))
        text = node["label"] + (f"  {' '.join(node['partners'])}" if node["partners"] else "")
        # its own node too: a label moved inwards from the picture's side must not cover it
        box = next((b for b in _label_boxes(x, y, radius, _LABEL_PAD + len(text) * _CHAR_WIDTH, width)
                    if _label_fits(b, width, height, taken + discs)), None)
        if box is not None:
            taken.append(box)
            labels.append(f'<text x="{box[0] + _LABEL_PAD / 2:.1f}" y="{box[3] - 3:.1f}">{html.escape(text)}</text>')
    parts.append(f'<g font-size="{_FONT}" font-family="sans-serif" fill="#1d1d1f">' + "".join(labels) + "</g>")
    parts.append("</svg>")
    return "".join(parts)
