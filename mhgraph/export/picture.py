"""One interactive picture per top cluster: ``clusters/cluster_<id>.html``.

The page draws the cluster on a canvas that fills the window (``graph.js``), from the view of
:func:`mhgraph.export.view.cluster_view`: case aliases with partner badges, one edge per group
of parallel relations, a layout that separates roles. The analyst can search, filter by
partner, relation type and period (a time slider), show the ties leading out of the cluster,
fit, zoom and reset, and click a node (on the canvas or in the node table) to see its records.
Below the picture: why the cluster ranks, the evidence, the timeline and who could act.

No library is loaded: the page runs only its own scripts, allowed by hash, and every value from
the data reaches the page as text (see :mod:`mhgraph.export.page`). Positions are computed in
Python, so the file is the same bytes for the same input.
"""

from __future__ import annotations

import html

from mhgraph.export.document import to_html
from mhgraph.export.dossier import ClusterDossier
from mhgraph.export.i18n import words
from mhgraph.export.page import asset, render_page
from mhgraph.export.content import cluster_blocks, number_text
from mhgraph.export.view import ENTITY_STYLE, FLAGGED, badge, node_table_rows

__all__ = ["render_cluster_page"]


def _esc(value) -> str:
    return html.escape(str(value))


def _toolbar(view: dict, d: ClusterDossier) -> str:
    w = words(d.lang)
    ties = sum(1 for e in view["edges"] if e["tie"])
    partners = "".join(
        f'<label class="chip"><input type="checkbox" data-partner="{_esc(p["name"])}" checked> '
        f'<span class="badge" style="background:{_esc(p["colour"])}">{_esc(p["code"])}</span> {_esc(p["name"])}</label>'
        for p in view["partners"])
    types = "".join(f'<label class="chip"><input type="checkbox" data-type="{_esc(t)}" checked> '
                    f'{_esc(view["type_labels"].get(t, t))}</label>' for t in view["types"])
    period = ""
    if view["months"]:
        low, high = view["months"]
        period = (f'<fieldset><legend>{_esc(w["period"])}</legend>'
                  f'<label>{_esc(w["from"])} <input type="range" id="period-from" min="{low}" max="{high}" value="{low}"></label> '
                  f'<label>{_esc(w["to"])} <input type="range" id="period-to" min="{low}" max="{high}" value="{high}"></label> '
                  '<output id="period-text"></output></fieldset>')
    else:
        period = '<input type="hidden" id="period-from"><input type="hidden" id="period-to"><output id="period-text" hidden></output>'
    return "\n".join([
        '<div class="toolbar">',
        f'<label>{_esc(w["search"])} <input type="search" id="search" placeholder="{_esc(w["search_placeholder"])}" '
        'autocomplete="off"></label> <output id="search-count"></output>',
        f'<button type="button" id="fit">{_esc(w["fit"])}</button>'
        f'<button type="button" id="zoom-in" title="{_esc(w["zoom_in"])}">+</button>'
        f'<button type="button" id="zoom-out" title="{_esc(w["zoom_out"])}">−</button>'
        f'<button type="button" id="reset">{_esc(w["reset"])}</button>'
        f'<button type="button" id="save-png" data-file="cluster_{_esc(d.cluster_id)}.png">PNG</button>',
        f'<label class="chip"><input type="checkbox" id="ties"{" disabled" if not ties else ""}> '
        f'{_esc(w["ties_out"].format(n=ties))}</label>',
        "</div>",
        '<div class="toolbar">',
        f'<fieldset><legend>{_esc(w["filter_partners"])}</legend>{partners}</fieldset>',
        f'<fieldset><legend>{_esc(w["filter_types"])}</legend>{types}</fieldset>',
        period,
        "</div>",
    ])


def _legend(view: dict, d: ClusterDossier) -> str:
    w = words(d.lang)
    present = sorted({n["type"] for n in view["nodes"]}, key=str)
    names = {"person": "person", "company": "company", "address": "address", "permit": "permit"}
    spans = [f'<span class="swatch {ENTITY_STYLE[t][1]}" style="--swatch: {ENTITY_STYLE[t][0]}">'
             f'{_esc(w["entity"][names[t]][0])}</span>' for t in present if t in ENTITY_STYLE]
    spans.append(f'<span class="swatch line" style="--swatch: {FLAGGED}">{_esc(w["legend_evidence"])}</span>')
    spans.append(f'<span class="swatch dashed">{_esc(w["legend_outside"])}</span>')
    spans.append(f'<span>{_esc(w["legend_badges"])}: ' + ", ".join(
        f'{_esc(badge(p["name"]).code)} = {_esc(p["name"])}' for p in view["partners"]) + "</span>")
    return '<div class="legend">' + "".join(spans) + "</div>"


def _node_table(view: dict, d: ClusterDossier) -> str:
    w = words(d.lang)
    head = "".join(f"<th>{_esc(w[k])}</th>" for k in ("th_alias", "th_role", "th_type", "th_partners", "th_relations",
                                                     "th_flag"))
    rows = "\n".join(
        f'<tr data-node="{_esc(row[0])}">' + "".join(f"<td>{_esc(cell)}</td>" for cell in row[1:]) + "</tr>"
        for row in node_table_rows(view))
    return (f'<details class="nodes"><summary>{_esc(w["node_table"])} ({len(view["nodes"])})</summary>'
            f'<table id="node-table"><thead><tr>{head}</tr></thead><tbody>\n{rows}\n</tbody></table></details>')


def render_cluster_page(d: ClusterDossier) -> str:
    """The complete, self-contained HTML page of one cluster."""
    w = words(d.lang)
    view = d.view
    row = d.row
    body = "\n".join([
        '<header class="page-head">',
        f'<a href="../index.html">{_esc(w["back"])}</a>',
        f'<h1>Cluster <code>{_esc(d.cluster_id)}</code> — {_esc(w["facts_rank"].format(rank=number_text(row["rank"], d.lang), score=number_text(row["score"], d.lang)))}</h1>',
        "</header>",
        _toolbar(view, d),
        '<div class="workspace">',
        f'<div id="graph" data-expected-nodes="{len(view["nodes"])}" data-expected-edges="{len(view["edges"])}">'
        '<div id="graph-tip" class="graph-tip" hidden></div></div>',
        '<aside id="detail"></aside>',
        "</div>",
        _legend(view, d),
        _node_table(view, d),
        to_html(cluster_blocks(d, picture=None, figures=True)),
    ])
    return render_page(
        f"{w['title']} – cluster {d.cluster_id}", body, lang=d.lang, body_class="cluster",
        head_scripts=[asset("page_status.js")],
        scripts=[asset("graph.js")],
        data={"graph-data": view},
    )
