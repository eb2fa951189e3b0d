"""Export: what an analyst takes to the case meeting (casusoverleg).

:func:`write_outputs` writes into ``OUT_DIR``:

============================== ===============================================================
``clusters.parquet``, ``.csv`` every ranked cluster (CSV safe to open in a spreadsheet)
``summary.md``                 the run, then per top cluster: rank, score, size by entity type,
                               the puzzle count and each partner's pieces, every indicator with
                               its reason and records, and who could act and how
``index.html``                 the same as a page, linking to the pictures
``clusters/cluster_<id>.html`` one interactive network picture per top cluster
``partners/<partner>.csv``     per partner, only its own records in the top clusters
============================== ===============================================================

The HTML opens offline and runs nothing from the data (see :mod:`mhgraph.export.page`). The
export renders what the stage tables say; it does not know how indicators are computed.

>>> from mhgraph.export import write_outputs   # doctest: +SKIP
>>> paths = write_outputs("out/run", clusters, communities, nodes, edges, hits,
...                       mentions, resolution, top=10)   # doctest: +SKIP
>>> paths["summary"]                           # doctest: +SKIP
PosixPath('out/run/summary.md')
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from mhgraph.export.changes import change_blocks
from mhgraph.export.dossier import build_dossiers
from mhgraph.export.index import write_index
from mhgraph.export.partners import partner_record_lists, write_partner_lists
from mhgraph.export.picture import render_cluster_page
from mhgraph.export.report import cluster_page_name, export_counts
from mhgraph.export.summary import write_summary
from mhgraph.export.tables import write_cluster_tables

__all__ = ["write_outputs"]

log = logging.getLogger("mhgraph.export")

TITLE = "mhgraph – clusters for review"


def _remove_stale(folder: Path, pattern: str, keep: set[Path]) -> None:
    # A picture or partner list left by an earlier run in the same folder would look current.
    for path in sorted(folder.glob(pattern)):
        if path not in keep:
            log.info("removing %s, left by an earlier export", path)
            path.unlink()


def write_outputs(
    out_dir: str | Path,
    clusters: pl.DataFrame,
    communities: pl.DataFrame,
    nodes: pl.DataFrame,
    edges: pl.DataFrame,
    hits: pl.DataFrame,
    mentions: pl.DataFrame,
    resolution: pl.DataFrame,
    top: int = 10,
    run_info: dict | None = None,
    changes: dict | None = None,
) -> dict[str, Path]:
    """Write the case-meeting outputs for the ``top`` best-ranked clusters into ``out_dir``.

    Returns the written paths by name: ``clusters_parquet``, ``clusters_csv``, ``summary``,
    ``index``, ``cluster:<cluster_id>`` per picture and ``partner:<partner>`` per partner list.
    ``run_info`` (e.g. the run manifest) adds the run's purpose, legal ground and inputs to the
    report. ``changes`` (from :func:`mhgraph.diff.diff_runs`) puts a "what changed since"
    section at the top of ``summary.md`` and ``index.html``. Same input, same bytes.
    """
    out_dir = Path(out_dir)
    dossiers = build_dossiers(clusters, communities, nodes, edges, hits, mentions, resolution, top)
    partner_lists = partner_record_lists(mentions, resolution, communities, [d.cluster_id for d in dossiers])
    (out_dir / "clusters").mkdir(parents=True, exist_ok=True)
    counts = export_counts(clusters, nodes, edges, hits, mentions)

    written = write_cluster_tables(out_dir, clusters)
    lead = change_blocks(changes) if changes is not None else []
    written["summary"] = write_summary(out_dir, dossiers, run_info, counts, top, TITLE, lead)
    written["index"] = write_index(out_dir, dossiers, run_info, counts, top, TITLE, lead)
    for dossier in dossiers:
        path = out_dir / cluster_page_name(dossier.cluster_id)
        path.write_text(render_cluster_page(dossier, TITLE), encoding="utf-8", newline="\n")
        written[f"cluster:{dossier.cluster_id}"] = path
        log.info("picture of cluster %s: %d entities, %d relations", dossier.cluster_id,
                 dossier.members.height, dossier.edges.height)
    written.update(write_partner_lists(out_dir, partner_lists))
    _remove_stale(out_dir / "clusters", "cluster_*.html", set(written.values()))
    _remove_stale(out_dir / "partners", "*.csv", set(written.values()))
    log.info("export written to %s: %d files", out_dir, len(written))
    return written
