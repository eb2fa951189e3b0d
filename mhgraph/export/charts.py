"""Static SVG charts for the report: why a cluster ranks, how scores are spread, what happened when.

Every chart is a string of inline SVG with no script and no link, built from the stage tables:

* :func:`score_breakdown_svg` draws the ``score_parts`` of a ``clusters`` row as they are (the
  parts that add, then each factor that multiplies), so a new part in the ranking shows up
  without a change here;
* :func:`score_distribution_svg` draws how the scores of all clusters are spread, with the cut
  from which clusters are shown;
* :func:`timeline_svg` draws a cluster's registrations, dissolutions, permit decisions,
  employment (people employed per month) and moves.

>>> svg = score_breakdown_svg([{"part": "wage_below_minimum", "kind": "add", "value": 1.5},
...                            {"part": "puzzle", "kind": "multiply", "value": 1.5}], 2.25, "en")
>>> "wage_below_minimum 1.50" in svg and "× 1.50 puzzle multiplier" in svg and "<script" not in svg
True
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections import Counter, defaultdict

from mhgraph.export.dossier import ClusterDossier
from mhgraph.export.i18n import part_name, words
from mhgraph.export.view import ENTITY_STYLE, FLAGGED, month, month_text

__all__ = ["score_breakdown_svg", "score_distribution_svg", "timeline_svg"]

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")
_SVG = '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">'
_TEXT = 'font-family="sans-serif" font-size="{size}" fill="#1d1d1f"'


def _esc(value) -> str:
    return html.escape(str(value))


def _number(value: float, lang: str) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "nl" else text


def score_breakdown_svg(parts: list[dict] | None, score: float | None, lang: str, width: int = 640) -> str:
    """One bar: the added parts side by side, then the factors; the legend gives every value."""
    w = words(lang)
    added = [p for p in parts or [] if p.get("kind") == "add" and (p.get("value") or 0) > 0]
    factors = [p for p in parts or [] if p.get("kind") == "multiply"]
    if not added:
        return ""
    base = sum(p["value"] for p in added)
    rows = len(added) + len(factors) + 1
    height = 46 + rows * 18
    bar_width = width - 20
    out = [_SVG.format(w=width, h=height), f'<g {_TEXT.format(size=12)}>']
    x = 10.0
    for index, part in enumerate(added):
        span = bar_width * part["value"] / base
        colour = PALETTE[index % len(PALETTE)]
        out.append(f'<rect x="{x:.1f}" y="8" width="{max(span - 1, 1):.1f}" height="22" fill="{colour}"/>')
        x += span
    y = 50
    for index, part in enumerate(added):
        colour = PALETTE[index % len(PALETTE)]
        out.append(f'<rect x="10" y="{y - 10}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="26" y="{y}">{_esc(part_name(part["part"], lang))} {_number(part["value"], lang)}</text>')
        y += 18
    for part in factors:
        name = part_name(part["part"], lang)
        text = w["part_multiply"].format(value=_number(part["value"], lang), part=name)
        out.append(f'<text x="26" y="{y}">{_esc(text)}'
                   "</text>")
        y += 18
    out.append(f'<text x="10" y="{y}" font-weight="bold">= {_esc(_number(score or 0.0, lang))}</text>')
    out.append("</g></svg>")
    return "".join(out)


def score_distribution_svg(scores: list[float], cut: float | None, lang: str, width: int = 640,
                           height: int = 200) -> str:
    """A histogram of the scores above 0 (log-scaled counts), with a line where the shown clusters begin."""
    w = words(lang)
    positive = sorted(s for s in scores if s and s > 0)
    if not positive:
        return ""
    top = max(positive)
    bins = min(40, max(5, len(set(positive))))
    step = top / bins
    counts = Counter(min(int(s / step), bins - 1) for s in positive)
    left, bottom, plot_w, plot_h = 50, height - 34, width - 70, height - 60
    biggest = max(counts.values())
    out = [_SVG.format(w=width, h=height), f'<g {_TEXT.format(size=11)}>',
           f'<line x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}" stroke="#888"/>']
    for index in range(bins):
        n = counts.get(index, 0)
        if not n:
            continue
        bar = plot_h * math.log1p(n) / math.log1p(biggest)
        x = left + plot_w * index / bins
        out.append(f'<rect x="{x:.1f}" y="{bottom - bar:.1f}" width="{max(plot_w / bins - 1, 1):.1f}" '
                   f'height="{bar:.1f}" fill="#4e79a7"><title>{n}</title></rect>')
        if n == biggest or index == bins - 1:
            out.append(f'<text x="{x:.1f}" y="{bottom - bar - 3:.1f}">{n}</text>')
    for tick in range(0, 5):
        value = top * tick / 4
        x = left + plot_w * tick / 4
        out.append(f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">{_number(value, lang)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">{_esc(w["score_axis"])}</text>')
    out.append(f'<text x="12" y="{bottom - plot_h / 2:.1f}" transform="rotate(-90 12 {bottom - plot_h / 2:.1f})" '
               f'text-anchor="middle">{_esc(w["clusters_axis"])} (log)</text>')
    if cut is not None and cut > 0:
        x = left + plot_w * min(cut / top, 1.0)
        out.append(f'<line x1="{x:.1f}" y1="{bottom - plot_h - 6}" x2="{x:.1f}" y2="{bottom}" stroke="{FLAGGED}" '
                   'stroke-width="2" stroke-dasharray="5 3"/>')
        anchor = "end" if x > left + plot_w * 0.7 else "start"
        shift = -4 if anchor == "end" else 4
        out.append(f'<text x="{x + shift:.1f}" y="{bottom - plot_h}" fill="{FLAGGED}" text-anchor="{anchor}">'
                   f'{_esc(w["shown_from"].format(cut=_number(cut, lang)))}</text>')
    zero = sum(1 for s in scores if not s or s <= 0)
    if zero:
        out.append(f'<text x="{left + plot_w}" y="14" text-anchor="end" fill="#666">'
                   f'{_esc(w["zero_scores"].format(n=zero))}</text>')
    out.append("</g></svg>")
    return "".join(out)


def _months_active(periods: list[tuple[int | None, int | None]], first: int, last: int) -> list[int]:
    active = [0] * (last - first + 1)
    for start, end in periods:
        for m in range(max(start if start is not None else first, first), min(end if end is not None else last, last) + 1):
            active[m - first] += 1
    return active


def timeline_svg(d: ClusterDossier, width: int = 900, max_rows: int = 24) -> str:
    """Rows per company (registered … dissolved, people employed per month, officer starts), per
    permit (decisions) and per address (registrations: moves in), on one time axis."""
    w = words(d.lang)
    entities = {row["entity_id"]: row for row in d.members.iter_rows(named=True)}
    relations = list(d.edges.iter_rows(named=True))
    employment: dict[str, list] = defaultdict(list)
    officers: dict[str, list[int]] = defaultdict(list)
    moves: dict[str, list[int]] = defaultdict(list)
    for r in relations:
        start, end = month(r.get("valid_from")), month(r.get("valid_to"))
        if r["type"] == "EMPLOYED_BY":
            employment[r["to_entity"]].append((start, end))
        elif r["type"] == "OFFICER_OF" and start is not None:
            officers[r["to_entity"]].append(start)
        elif r["type"] == "REGISTERED_AT" and start is not None:
            moves[r["to_entity"]].append(start)
    dates = [m for periods in employment.values() for p in periods for m in p if m is not None]
    dates += [m for values in (*officers.values(), *moves.values()) for m in values]
    for row in entities.values():
        for name in ("registered_on", "dissolved_on", "decided_on", "sponsor_status_on"):
            if isinstance(row.get(name), dt.date):
                dates.append(month(row[name]))
    if not dates:
        return ""
    first, last = min(dates), max(dates)
    last = max(last, first + 11)
    rows = []
    for entity_id, row in sorted(entities.items(), key=lambda item: (d.alias(item[0]), item[0])):
        kind = row.get("entity_type")
        if kind == "company" or (kind == "permit" and row.get("decided_on")) or (kind == "address" and moves.get(entity_id)):
            rows.append((entity_id, kind))
    order = {"company": 0, "permit": 1, "address": 2}
    rows.sort(key=lambda item: (order[item[1]], -len(moves.get(item[0], [])), d.alias(item[0])))
    rows = rows[:max_rows]
    left, row_h, top = 170, 26, 24
    plot_w = width - left - 20
    height = top + row_h * len(rows) + 30

    def x_of(m: int) -> float:
        return left + plot_w * (m - first) / (last - first + 1)

    out = [_SVG.format(w=width, h=height), f'<g {_TEXT.format(size=11)}>']
    for year in range(first // 12, last // 12 + 2):
        m = year * 12
        if first <= m <= last + 1:
            out.append(f'<line x1="{x_of(m):.1f}" y1="{top - 6}" x2="{x_of(m):.1f}" y2="{height - 26}" stroke="#ddd"/>'
                       f'<text x="{x_of(m) + 2:.1f}" y="{height - 12}">{year}</text>')
    for index, (entity_id, kind) in enumerate(rows):
        y = top + index * row_h
        row = entities[entity_id]
        colour = ENTITY_STYLE.get(kind, ("#999", ""))[0]
        out.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{_esc(d.alias(entity_id))}</text>')
        if kind == "company":
            start = month(row.get("registered_on")) if row.get("registered_on") else first
            end = month(row.get("dissolved_on")) if row.get("dissolved_on") else last
            out.append(f'<rect x="{x_of(max(start, first)):.1f}" y="{y + 16}" width="{max(x_of(end) - x_of(max(start, first)), 2):.1f}" '
                       f'height="4" fill="{colour}"><title>{_esc(w["registered"])} {month_text(start, d.lang)}</title></rect>')
            if row.get("dissolved_on"):
                out.append(f'<text x="{x_of(end) + 3:.1f}" y="{y + 21}" fill="{FLAGGED}">✕ {_esc(w["dissolved"])}</text>')
            active = _months_active(employment.get(entity_id, []), first, last)
            peak = max(active) if active else 0
            if peak:
                points = " ".join(f"{x_of(first + i):.1f},{y + 15 - 12 * n / peak:.1f} {x_of(first + i + 1):.1f},"
                                  f"{y + 15 - 12 * n / peak:.1f}" for i, n in enumerate(active))
                out.append(f'<polyline points="{points}" fill="none" stroke="#1f4e79" stroke-width="1.5">'
                           f'<title>{_esc(w["employed"])}: max {peak}</title></polyline>'
                           f'<text x="{left + plot_w + 2}" y="{y + 10}" font-size="9" fill="#1f4e79">{peak}</text>')
            for start_month in officers.get(entity_id, []):
                out.append(f'<path d="M{x_of(start_month):.1f},{y + 12} l-3,-6 h6 z" fill="#7a3b00">'
                           f'<title>{_esc(w["officer_period"])} {month_text(start_month, d.lang)}</title></path>')
        elif kind == "permit":
            m = month(row["decided_on"])
            status = row.get("permit_status") or w["unknown"]
            refused = str(status).lower() in {"geweigerd", "ingetrokken", "refused", "revoked"}
            out.append(f'<path d="M{x_of(m):.1f},{y + 6} l6,7 l-6,7 l-6,-7 z" fill="{FLAGGED if refused else colour}"/>'
                       f'<text x="{x_of(m) + 9:.1f}" y="{y + 17}">{_esc(w["decision"])}: {_esc(status)} '
                       f'({month_text(m, d.lang)})</text>')
        else:
            counts = Counter(moves[entity_id])
            for m, n in sorted(counts.items()):
                out.append(f'<rect x="{x_of(m):.1f}" y="{y + 18 - min(n, 8) * 2}" width="3" height="{min(n, 8) * 2}" '
                           f'fill="{colour}"><title>{n} {_esc(w["moves"])} {month_text(m, d.lang)}</title></rect>')
    out.append("</g></svg>")
    return "".join(out)
