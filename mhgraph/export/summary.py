"""``summary.md``: the case-meeting report as Markdown.

Same content as ``index.html`` (both render :func:`mhgraph.export.content.document_blocks`), without
the charts; all partner values are escaped so that no Markdown viewer turns them into HTML,
links or formatting.
"""

from __future__ import annotations

from pathlib import Path

from mhgraph.export.document import to_markdown
from mhgraph.export.dossier import ClusterDossier
from mhgraph.export.content import document_blocks

__all__ = ["render_summary", "write_summary"]


def render_summary(dossiers: list[ClusterDossier], run_info: dict | None, counts: dict[str, int], top: int, *,
                   lang: str, changes: dict | None = None, partner_lists: str = "evidence") -> str:
    return to_markdown(document_blocks(dossiers, run_info, counts, top, scores=None, lang=lang, changes=changes,
                                       partner_lists=partner_lists, figures=False))


def write_summary(out_dir: Path, dossiers: list[ClusterDossier], run_info: dict | None, counts: dict[str, int],
                  top: int, **options) -> Path:
    path = Path(out_dir) / "summary.md"
    path.write_text(render_summary(dossiers, run_info, counts, top, **options), encoding="utf-8", newline="\n")
    return path
