"""One interactive network picture per top cluster: ``clusters/cluster_<id>.html``.

pyvis builds the node, edge and option structures; the page is rendered through
:mod:`mhgraph.export.page`, not through pyvis's own template (which loads Bootstrap and
vis-network from the internet and inserts headings and menus unescaped). Nodes are coloured
and shaped by entity type and labelled ``Person P-3f2a9c0e1b7d`` - never with a name or any
other plaintext identifier; edges carry the relation type. Every tooltip gives provenance:
partner, source, record id, purpose, dates and the reasons of the indicators that involve it.

Positions come from a deterministic networkx layout and physics is off, so the file is the same
bytes for the same input and the picture the same every time it is opened.
"""

from __future__ import annotations

import html
import json
import math
from collections import Counter, defaultdict

import networkx as nx
from pyvis.network import Network

from mhgraph.export.document import to_html
from mhgraph.export.dossier import ClusterDossier
from mhgraph.export.page import asset, render_page, vis_network_js
from mhgraph.export.report import NOT_A_DECISION, cluster_blocks

__all__ = ["ENTITY_STYLE", "cluster_network", "render_cluster_page"]

# entity type -> (label, colour, shape): colour and shape both differ, for colour-blind readers.
ENTITY_STYLE = {
    "person": ("Person", "#4e79a7", "dot"),
    "company": ("Company", "#f28e2b", "square"),
    "address": ("Address", "#59a14f", "triangle"),
    "permit": ("Permit", "#b07aa1", "diamond"),
}
_OTHER_COLOUR = "#9c9c9c"
_FLAGGED = "#c0392b"
LAYOUT_SEED = 7
KAMADA_KAWAI_MAX_NODES = 150
MAX_RECORDS_IN_TOOLTIP = 12

# Node context shown in tooltips. A whitelist: columns not named here never reach the page.
NODE_CONTEXT = ("municipality", "sbi_code", "legal_form", "registered_on", "dissolved_on", "sponsor_status",
                "permit_type", "permit_status", "bibob_outcome")
EDGE_PROPERTIES = ("wage", "hours", "contract_type", "role", "permit_purpose")

OPTIONS = {
    "physics": {"enabled": False},
    "layout": {"randomSeed": LAYOUT_SEED, "improvedLayout": False},
    "interaction": {"hover": True, "tooltipDelay": 120, "navigationButtons": False, "keyboard": False},
    "nodes": {"font": {"size": 13}, "size": 16, "borderWidth": 1},
    "edges": {"font": {"size": 10, "align": "middle"}, "color": {"color": "#8a8a8a"},
              "arrows": {"to": {"enabled": True, "scaleFactor": 0.6}}},
}


def _style(entity_type) -> tuple[str, str, str]:
    if entity_type in ENTITY_STYLE:
        return ENTITY_STYLE[entity_type]
    return (str(entity_type).capitalize() if entity_type else "Entity"), _OTHER_COLOUR, "dot"


def _text(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "unknown"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _positions(d: ClusterDossier) -> dict[str, tuple[int, int]]:
    graph = nx.Graph()
    graph.add_nodes_from(sorted(d.members["entity_id"].to_list()))
    graph.add_edges_from(sorted(d.edges.select("from_entity", "to_entity").iter_rows()))
    if graph.number_of_nodes() < 2:
        return {node: (0, 0) for node in graph}
    scale = 150 + 80 * math.sqrt(graph.number_of_nodes())
    # Kamada-Kawai (no randomness) spreads small clusters evenly; it is quadratic, so large
    # clusters get the seeded spring layout.
    if graph.number_of_nodes() <= KAMADA_KAWAI_MAX_NODES:
        layout = nx.kamada_kawai_layout(graph, scale=scale)
    else:
        layout = nx.spring_layout(graph, seed=LAYOUT_SEED, scale=scale)
    return {node: (round(float(x)), round(float(y))) for node, (x, y) in layout.items()}


def _node_title(member: dict, records: list[str], hits: list[str]) -> str:
    label = _style(member["entity_type"])[0]
    lines = [
        f"{label} {member['entity_id']}",
        f"partners: {_text(member.get('partners'))}",
        f"sources: {_text(member.get('sources'))}",
        f"purposes: {_text(member.get('purposes'))}",
    ]
    lines += [f"{column}: {_text(member[column])}" for column in NODE_CONTEXT if member.get(column) is not None]
    lines.append(f"records ({len(records)}):")
    lines += [f"  {record}" for record in records[:MAX_RECORDS_IN_TOOLTIP]]
    if len(records) > MAX_RECORDS_IN_TOOLTIP:
        lines.append(f"  ... and {len(records) - MAX_RECORDS_IN_TOOLTIP} more (see the partner lists)")
    if hits:
        lines.append("indicators:")
        lines += [f"  {hit}" for hit in hits]
    return "\n".join(lines)


def _edge_title(edge: dict, hits: list[str]) -> str:
    lines = [
        f"{edge['type']}: {edge['from_entity']} -> {edge['to_entity']}",
        f"partner: {_text(edge['partner'])}",
        f"source: {_text(edge['source'])}",
        f"record id: {_text(edge['record_id'])}",
        f"purpose: {_text(edge['purpose'])}",
        f"valid: {_text(edge.get('valid_from'))} to {_text(edge.get('valid_to'))}",
    ]
    lines += [f"{name}: {_text(edge[name])}" for name in EDGE_PROPERTIES if edge.get(name) is not None]
    if hits:
        lines.append("evidence for:")
        lines += [f"  {hit}" for hit in hits]
    return "\n".join(lines)


def cluster_network(d: ClusterDossier) -> Network:
    """The cluster as a pyvis :class:`~pyvis.network.Network` (structure only, never rendered by pyvis)."""
    net = Network(directed=True, height="640px", width="100%", cdn_resources="in_line")
    hits_on_entity: dict[str, list[str]] = defaultdict(list)
    hits_on_relation: dict[str, list[str]] = defaultdict(list)
    for finding in d.findings:
        line = f"{finding.indicator} v{finding.version}: {finding.reason}"
        hits_on_entity[finding.focus_entity].append(line)
        for record in finding.records:
            hits_on_relation[record.relation_id].append(line)
    records: dict[str, list[str]] = defaultdict(list)
    for mention in d.mentions.iter_rows(named=True):
        records[mention["entity_id"]].append(
            f"{mention['source']} / {mention['record_id']} ({mention['role']}, {mention['partner']})")

    positions = _positions(d)
    for member in d.members.iter_rows(named=True):
        entity_id = member["entity_id"]
        label, colour, shape = _style(member["entity_type"])
        flagged = entity_id in hits_on_entity
        x, y = positions[entity_id]
        net.add_node(
            entity_id, label=f"{label} {entity_id}", shape=shape, x=x, y=y,
            color={"background": colour, "border": _FLAGGED if flagged else colour},
            borderWidth=4 if flagged else 1,
            title=_node_title(member, records[entity_id], hits_on_entity[entity_id]),
        )
    parallel: Counter = Counter()
    for number, edge in enumerate(d.edges.iter_rows(named=True), start=1):
        pair = tuple(sorted((edge["from_entity"], edge["to_entity"])))
        parallel[pair] += 1
        flagged = edge["relation_id"] in hits_on_relation
        net.add_edge(
            edge["from_entity"], edge["to_entity"], id=f"e{number}", label=str(edge["type"]),
            title=_edge_title(edge, hits_on_relation[edge["relation_id"]]),
            smooth={"enabled": True, "type": "curvedCW", "roundness": round(0.08 + 0.14 * (parallel[pair] - 1), 2)},
            **({"color": {"color": _FLAGGED}, "width": 2} if flagged else {}),
        )
    net.set_options(json.dumps(OPTIONS))
    return net


def _legend(d: ClusterDossier) -> str:
    present = sorted(set(d.members["entity_type"].to_list()), key=lambda t: (t not in ENTITY_STYLE, str(t)))
    spans = [
        f'<span style="--swatch: {_style(t)[1]}">{html.escape(_style(t)[0])}</span>' for t in present
    ]
    spans.append(f'<span style="--swatch: {_FLAGGED}">red border or line: part of an indicator\'s evidence</span>')
    return '<div class="legend">' + "".join(spans) + "</div>"


def render_cluster_page(d: ClusterDossier, title: str = "mhgraph") -> str:
    """The complete, self-contained HTML page of one cluster."""
    net = cluster_network(d)
    nodes, edges, _heading, _height, _width, _options = net.get_network_data()
    cluster_id = d.cluster_id
    body = "\n".join([
        '<p><a href="../index.html">&larr; all ranked clusters</a></p>',
        f"<h1>Cluster <code>{html.escape(cluster_id)}</code></h1>",
        f'<p class="note">{html.escape(NOT_A_DECISION)}</p>',
        _legend(d),
        f'<div id="network" data-expected-nodes="{len(nodes)}" data-expected-edges="{len(edges)}"></div>',
        "<p>Hover over a node or a line for its partner, source, record id, purpose, dates and indicator "
        "reasons. Drag to move, scroll to zoom.</p>",
        to_html(cluster_blocks(d, picture=None)),
    ])
    return render_page(
        f"{title} – cluster {cluster_id}", body,
        head_scripts=[asset("page_status.js")],
        scripts=[vis_network_js(), asset("network.js")],
        data={"network-data": {"nodes": nodes, "edges": edges, "options": net.options}},
    )
