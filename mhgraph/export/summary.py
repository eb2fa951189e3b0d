"""``summary.md``: the case-meeting report as Markdown.

Same content as ``index.html`` (both render :mod:`mhgraph.export.report`); all partner values
are escaped so that no Markdown viewer turns them into HTML, links or formatting.
"""

from __future__ import annotations

from pathlib import Path

from mhgraph.export.document import Block, Heading, Note, Text, to_markdown
from mhgraph.export.dossier import ClusterDossier
from mhgraph.export.report import NOT_A_DECISION, cluster_blocks, cluster_page_name, overview_blocks, run_blocks

__all__ = ["render_summary", "write_summary"]


def render_summary(dossiers: list[ClusterDossier], run_info: dict | None, counts: dict[str, int], top: int,
                   title: str, lead: list[Block] = ()) -> str:
    """``lead``: blocks shown first, under the notice (what changed since the previous run)."""
    blocks = [Heading(1, (Text(title),)), Note((Text(NOT_A_DECISION),)), *lead]
    blocks += run_blocks(run_info, counts, top, len(dossiers))
    blocks += overview_blocks(dossiers, link_pictures=True)
    for dossier in dossiers:
        blocks += cluster_blocks(dossier, picture=cluster_page_name(dossier.cluster_id))
    return to_markdown(blocks)


def write_summary(out_dir: Path, dossiers: list[ClusterDossier], run_info: dict | None, counts: dict[str, int],
                  top: int, title: str, lead: list[Block] = ()) -> Path:
    path = Path(out_dir) / "summary.md"
    path.write_text(render_summary(dossiers, run_info, counts, top, title, lead), encoding="utf-8", newline="\n")
    return path
