"""``index.html``: the overview page of the ranked clusters, linking to each cluster's picture.

Same content as ``summary.md``; the page loads nothing and runs only its own status script
(see :mod:`mhgraph.export.page`).
"""

from __future__ import annotations

import html
from pathlib import Path

from mhgraph.export.document import Block, to_html
from mhgraph.export.dossier import ClusterDossier
from mhgraph.export.page import asset, render_page
from mhgraph.export.report import NOT_A_DECISION, cluster_blocks, cluster_page_name, overview_blocks, run_blocks

__all__ = ["render_index", "write_index"]


def render_index(dossiers: list[ClusterDossier], run_info: dict | None, counts: dict[str, int], top: int,
                 title: str, lead: list[Block] = ()) -> str:
    """``lead``: blocks shown first, under the notice (what changed since the previous run)."""
    blocks = [*lead, *run_blocks(run_info, counts, top, len(dossiers)), *overview_blocks(dossiers, link_pictures=True)]
    for dossier in dossiers:
        blocks += cluster_blocks(dossier, picture=cluster_page_name(dossier.cluster_id))
    body = f'<h1>{html.escape(title)}</h1>\n<p class="note">{html.escape(NOT_A_DECISION)}</p>\n{to_html(blocks)}'
    return render_page(title, body, head_scripts=[asset("page_status.js")])


def write_index(out_dir: Path, dossiers: list[ClusterDossier], run_info: dict | None, counts: dict[str, int],
                top: int, title: str, lead: list[Block] = ()) -> Path:
    path = Path(out_dir) / "index.html"
    path.write_text(render_index(dossiers, run_info, counts, top, title, lead), encoding="utf-8", newline="\n")
    return path
