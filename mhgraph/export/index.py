"""``index.html``: the case-meeting document as a page: ranked clusters first, then each cluster
with its picture, why it ranks, its evidence (records one click away) and its timeline, the run
last. Prints on A4 (``page.css``); ``mhgraph report OUT --pdf`` turns it into a PDF.

Same content as ``summary.md``; the page loads nothing and runs only its own status script
(see :mod:`mhgraph.export.page`).
"""

from __future__ import annotations

from pathlib import Path

from mhgraph.export.document import to_html
from mhgraph.export.dossier import ClusterDossier
from mhgraph.export.i18n import words
from mhgraph.export.page import asset, render_page
from mhgraph.export.content import document_blocks

__all__ = ["render_index", "write_index"]


def render_index(dossiers: list[ClusterDossier], run_info: dict | None, counts: dict[str, int], top: int, *,
                 lang: str, scores: list[float] | None = None, changes: dict | None = None,
                 partner_lists: str = "evidence") -> str:
    blocks = document_blocks(dossiers, run_info, counts, top, scores=scores, lang=lang, changes=changes,
                             partner_lists=partner_lists, figures=True)
    return render_page(words(lang)["title"], to_html(blocks), head_scripts=[asset("page_status.js")], lang=lang,
                       body_class="document")


def write_index(out_dir: Path, dossiers: list[ClusterDossier], run_info: dict | None, counts: dict[str, int],
                top: int, **options) -> Path:
    path = Path(out_dir) / "index.html"
    path.write_text(render_index(dossiers, run_info, counts, top, **options), encoding="utf-8", newline="\n")
    return path
