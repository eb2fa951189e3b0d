"""Measure what a cluster page does in a real browser: what it drew, whether labels overlap, what
search, the filters and the time slider show. Used by the browser tests and the export benchmark,
which assert on (or record) the figures; nothing here decides pass or fail.

Everything is read from the page as it was rendered: node positions on screen from the picture's
own transform, label sizes measured again with the page's fonts, visible relations after the
controls were operated the way a person would (typing, ticking, sliding).

>>> with Chromium() as browser:                                        # doctest: +SKIP
...     facts = probe_cluster_page(browser, Path("out/clusters/cluster_C0001.html"))
>>> facts["labels"]["overlapping_pairs"]                               # doctest: +SKIP
0
"""

from __future__ import annotations

import json
from pathlib import Path

from mhgraph.export.chromium import Chromium, Tab

__all__ = ["LABEL_GEOMETRY", "label_geometry", "probe_cluster_page"]

# Label boxes from the rendered positions: centre of the node on screen, text measured with the
# page's font, partner badges after it, the box under the node (or where the view says it put it:
# above, right, left or a corner).
# Returns the boxes and the pairs of boxes that intersect.
LABEL_GEOMETRY = """(() => {
  const data = JSON.parse(document.getElementById('graph-data').textContent);
  const nodes = Object.fromEntries(data.nodes.map(n => [n.id, n]));
  const view = window.mhgraphView, size = view.size();
  const ctx = document.createElement('canvas').getContext('2d');
  const boxes = view.labels().map(label => {
    const at = view.screen(label.id);
    ctx.font = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    let width = ctx.measureText(label.text).width + 6;
    ctx.font = "bold 9px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    for (const code of nodes[label.id].partners) width += ctx.measureText(code).width + 9;
    const side = label.side.split(" ");
    const left = side.includes("right") ? at.x + at.r + 3 : side.includes("left") ? at.x - at.r - 3 - width
      : at.x - width / 2;
    const x = Math.min(Math.max(left, 1), size.width - width - 1);  // moved inwards at the edge
    const y = side.includes("above") ? at.y - at.r - 2 - 16 : side.includes("below") ? at.y + at.r + 2 : at.y - 8;
    return {id: label.id, x: x, y: y, w: width, h: 16};
  });
  const pairs = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) pairs.push([a.id, b.id]);
  }
  const outside = boxes.filter(b => b.x < 0 || b.y < 0 || b.x + b.w > size.width || b.y + b.h > size.height);
  return {labels: boxes.length, overlapping_pairs: pairs.length, outside_canvas: outside.length,
          nodes: view.visibleNodes().length, canvas: size,
          labelled_ids: boxes.map(b => b.id)};
})()"""

_VISIBLE = """(() => {
  const edges = window.mhgraphView.visibleEdges(), nodes = window.mhgraphView.visibleNodes();
  const ends = new Set(edges.flatMap(e => [e.a, e.b]));
  return {edges: edges, nodes: nodes, nodes_without_edge: nodes.filter(n => !ends.has(n)).length};
})()"""


def _js(value) -> str:
    return json.dumps(value)


def label_geometry(tab: Tab) -> dict:
    """Label boxes of the current view and how many pairs overlap (see :data:`LABEL_GEOMETRY`)."""
    return tab.evaluate(LABEL_GEOMETRY)


def _visible(tab: Tab) -> dict:
    return tab.evaluate(_VISIBLE)


def _tick(tab: Tab, selector: str, checked: bool) -> None:
    tab.evaluate(f"(() => {{ const box = document.querySelector({_js(selector)}); box.checked = {_js(checked)}; "
                 "box.dispatchEvent(new Event('change')); return true; })()")


def _search(tab: Tab, query: str) -> dict:
    tab.evaluate(f"(() => {{ const box = document.getElementById('search'); box.value = {_js(query)}; "
                 "box.dispatchEvent(new Event('input')); return true; })()")
    graph = "document.getElementById('graph')"
    return {"query": query, "hits": int(tab.evaluate(f"{graph}.getAttribute('data-search-hits')")),
            "selected": tab.evaluate(f"{graph}.getAttribute('data-selected')"),
            "detail": tab.evaluate("document.getElementById('detail').textContent")}


def _slide(tab: Tab, low: int, high: int) -> None:
    tab.evaluate(f"(() => {{ for (const [id, v] of [['period-from', {low}], ['period-to', {high}]]) {{ "
                 "const s = document.getElementById(id); s.value = String(v); s.dispatchEvent(new Event('input')); } "
                 "return true; })()")


def probe_cluster_page(browser: Chromium, page: Path, window: tuple[int, int] = (1400, 900)) -> dict:
    """Open one cluster page and measure: the drawing, label overlap in the default view, search
    (by alias and by pseudonym), each partner and relation-type filter, the time slider, the ties
    leading out, and the page's own offline report (resources loaded, policy violations)."""
    tab = browser.open(page)
    browser.call("Emulation.setDeviceMetricsOverride", tab.session, width=window[0], height=window[1],
                 deviceScaleFactor=1, mobile=False)
    tab.evaluate("window.dispatchEvent(new Event('resize')); document.getElementById('fit').click(); true")
    tab.wait_for("document.documentElement.getAttribute('data-page-loaded') === 'true'")
    data = json.loads(tab.evaluate("document.getElementById('graph-data').textContent"))
    facts: dict = {
        "page": str(page),
        "status": tab.evaluate("(() => { const r = document.documentElement; return {"
                               "resources: r.getAttribute('data-resources-loaded'), "
                               "violations: r.getAttribute('data-csp-violations')}; })()"),
        "nodes_in_data": len(data["nodes"]), "edges_in_data": len(data["edges"]),
        "labels": label_geometry(tab),
    }
    shown = _visible(tab)
    facts["default"] = {"nodes": len(shown["nodes"]), "edges": len(shown["edges"])}

    inside = [n for n in data["nodes"] if not n["outside"]]
    target = sorted(inside, key=lambda n: (-n["degree"], n["label"]))[-1] if inside else None
    if target:
        facts["search"] = [dict(_search(tab, target["label"]), expected=target["id"]),
                           dict(_search(tab, target["id"][-8:]), expected=target["id"])]
        facts["labels_after_search"] = label_geometry(tab)
        _search(tab, "")

    facts["partner_filters"] = []
    for partner in data["partners"]:
        _tick(tab, f'[data-partner="{partner["name"]}"]', False)
        after = _visible(tab)
        facts["partner_filters"].append({
            "partner": partner["name"], "edges_before": len(shown["edges"]), "edges_after": len(after["edges"]),
            "edges_of_partner_before": sum(e["partner"] == partner["name"] for e in shown["edges"]),
            "edges_of_partner_still_shown": sum(e["partner"] == partner["name"] for e in after["edges"]),
            "nodes_without_edge": after["nodes_without_edge"]})
        _tick(tab, f'[data-partner="{partner["name"]}"]', True)
    facts["type_filters"] = []
    for kind in data["types"]:
        _tick(tab, f'[data-type="{kind}"]', False)
        after = _visible(tab)
        facts["type_filters"].append({
            "type": kind, "edges_before": len(shown["edges"]), "edges_after": len(after["edges"]),
            "edges_of_type_before": sum(e["type"] == kind for e in shown["edges"]),
            "edges_of_type_still_shown": sum(e["type"] == kind for e in after["edges"]),
            "nodes_without_edge": after["nodes_without_edge"]})
        _tick(tab, f'[data-type="{kind}"]', True)

    if data["months"]:
        low, high = data["months"]
        middle = (low + high) // 2
        _slide(tab, low, middle)
        after = _visible(tab)
        outside_window = sum(1 for e in after["edges"] if not any(
            (p[0] is None or p[0] <= middle) and (p[1] is None or p[1] >= low) for p in e["periods"]))
        facts["time_slider"] = {"window": [low, middle], "edges_before": len(shown["edges"]),
                                "edges_after": len(after["edges"]), "edges_outside_window": outside_window,
                                "text": tab.evaluate("document.getElementById('period-text').textContent")}
        _slide(tab, low, high)
    ties = sum(1 for e in data["edges"] if e["tie"])
    if ties:
        _tick(tab, "#ties", True)
        facts["ties"] = {"in_data": ties, "edges_before": len(shown["edges"]),
                         "edges_after": len(_visible(tab)["edges"])}
        _tick(tab, "#ties", False)
    facts["restored"] = len(_visible(tab)["edges"]) == len(shown["edges"])
    return facts
