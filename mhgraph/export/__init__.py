"""Export: what an analyst takes to the case meeting (casusoverleg).

:func:`write_outputs` writes into ``OUT_DIR``:

============================== ===============================================================
``clusters.parquet``, ``.csv`` every ranked cluster (CSV safe to open in Dutch Excel; in the
                               documents' language: headers, reasons, ``ja``/``nee``)
``summary.md``                 the case-meeting document (Dutch by default): what changed (when
                               given), the ranked clusters, per top cluster why it ranks, the
                               indicators with their evidence summarised, each partner's pieces,
                               the timeline and who could act and how; the run last
``index.html``                 the same as a page, with pictures and charts; prints on A4
``clusters/cluster_<id>.html`` one interactive picture per top cluster (``graph.js``): aliases,
                               search, filters, time slider, ties leading out, records
``partners/<partner>.csv``     per partner, only its own evidence records in the top clusters
``report.pdf``                 ``index.html`` printed on A4 (only by :func:`report` with ``pdf``)
============================== ===============================================================

The HTML opens offline and runs nothing from the data (see :mod:`mhgraph.export.page`). The
export renders what the stage tables say; it does not know how indicators are computed or how
the score is built (it draws the ``score_parts`` the ranking records). ``docs/case-meeting.md``
describes the documents for their readers.

>>> from mhgraph.export import write_outputs   # doctest: +SKIP
>>> paths = write_outputs("out/run", clusters, communities, nodes, edges, hits,
...                       mentions, resolution, top=10)   # doctest: +SKIP
>>> paths["summary"]                           # doctest: +SKIP
PosixPath('out/run/summary.md')
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import polars as pl

from mhgraph.errors import InputError
from mhgraph.export.chromium import print_pdf
from mhgraph.export.dossier import build_dossiers
from mhgraph.export.i18n import DEFAULT_LANGUAGE
from mhgraph.export.index import write_index
from mhgraph.export.partners import partner_record_lists, partners_in, write_partner_lists
from mhgraph.export.picture import render_cluster_page
from mhgraph.export.content import cluster_page_name, export_counts
from mhgraph.export.summary import write_summary
from mhgraph.export.view import picture_svg
from mhgraph.export.tables import write_cluster_tables
from mhgraph.manifest import write_manifest
from mhgraph.run_folder import check_complete_run, file_digests

__all__ = ["ClusterPicture", "cluster_picture", "report", "write_outputs"]

REPORT_PDF = "report.pdf"
# The stage tables a finished run keeps in OUT_DIR/tables, by the name write_outputs gives them.
_RUN_TABLES = {"clusters": "clusters", "communities": "communities", "nodes": "nodes", "edges": "edges",
               "hits": "indicator_hits", "mentions": "mentions", "resolution": "resolution"}

log = logging.getLogger("mhgraph.export")


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
    edges: pl.DataFrame | pl.LazyFrame,
    hits: pl.DataFrame,
    mentions: pl.DataFrame | pl.LazyFrame,
    resolution: pl.DataFrame | pl.LazyFrame,
    top: int = 10,
    run_info: dict | None = None,
    *,
    lang: str = DEFAULT_LANGUAGE,
    partner_lists: str = "evidence",
    changes: dict | None = None,
) -> dict[str, Path]:
    """Write the case-meeting outputs for the ``top`` best-ranked clusters into ``out_dir``.

    Returns the written paths by name: ``clusters_parquet``, ``clusters_csv``, ``summary``,
    ``index``, ``cluster:<cluster_id>`` per picture and ``partner:<partner>`` per partner list.
    ``run_info`` (e.g. the run manifest) adds the run's purpose, legal ground and inputs to the
    report; ``lang`` is ``"nl"`` (default) or ``"en"``; ``partner_lists`` is ``"evidence"``
    (default: only the records behind an indicator) or ``"all"``. ``changes`` (what
    :func:`mhgraph.diff.diff_runs` found against an earlier run) puts a "what changed" section
    at the top of ``summary.md`` and ``index.html``; None renders nothing. Same input, same bytes.
    ``edges``, ``mentions`` and ``resolution`` may be scans of the run's tables (``pl.scan_parquet``):
    the export then reads only the count of the edges and the mentions, the edges and mentions the
    top clusters show, and the resolution of those, never a whole table.
    """
    out_dir = Path(out_dir)
    dossiers = build_dossiers(clusters, communities, nodes, edges, hits, mentions, resolution, top, lang=lang)
    partners = partners_in(mentions)  # one read of the partner column serves the lists and the counts
    lists = partner_record_lists(dossiers, partners, scope=partner_lists)
    (out_dir / "clusters").mkdir(parents=True, exist_ok=True)
    counts = export_counts(clusters, nodes, edges, hits, mentions, partners)
    options = {"lang": lang, "changes": changes, "partner_lists": partner_lists}

    written = write_cluster_tables(out_dir, clusters, lang)
    written["summary"] = write_summary(out_dir, dossiers, run_info, counts, top, **options)
    written["index"] = write_index(out_dir, dossiers, run_info, counts, top, scores=clusters["score"].to_list(),
                                   **options)
    for dossier in dossiers:
        path = out_dir / cluster_page_name(dossier.cluster_id)
        path.write_text(render_cluster_page(dossier), encoding="utf-8", newline="\n")
        written[f"cluster:{dossier.cluster_id}"] = path
        log.info("picture of cluster %s: %d entities, %d relations", dossier.cluster_id,
                 dossier.members.height, dossier.edges.height)
    written.update(write_partner_lists(out_dir, lists))
    _remove_stale(out_dir / "clusters", "cluster_*.html", set(written.values()))
    _remove_stale(out_dir / "partners", "*.csv", set(written.values()))
    log.info("export written to %s: %d files", out_dir, len(written))
    return written


def report(run_dir: str | Path, *, lang: str = DEFAULT_LANGUAGE, top: int | None = None,
           partner_lists: str = "evidence", pdf: bool = False, changes: dict | None = None) -> dict[str, Path]:
    """Write the case-meeting documents of a finished run again from its tables, e.g. in another
    language or with the full partner lists; with ``pdf`` also ``report.pdf`` (A4), printed from
    ``index.html`` by headless Chromium.

    ``top`` defaults to the run's own ``--top`` (from its manifest; for a run that did not record
    it, the number of cluster pictures it wrote); ``changes`` to the run's ``changes.json`` when it
    has one. The manifest's ``files`` then list the rewritten documents with their new SHA-256
    (stale pages dropped), so the run still checks as complete. Returns the written paths as
    :func:`write_outputs` does, plus ``pdf``.

    >>> paths = report("out/sample", lang="en", pdf=True)   # doctest: +SKIP
    >>> paths["pdf"]                                        # doctest: +SKIP
    PosixPath('out/sample/report.pdf')
    """
    run_dir = Path(run_dir)
    tables = {}
    for name, stored in _RUN_TABLES.items():
        path = run_dir / "tables" / f"{stored}.parquet"
        if not path.is_file():
            raise InputError("this is not a finished run folder: a stage table is missing", file=str(path))
        # scanned: the documents need only the mentions of the top clusters and the resolution of those
        tables[name] = pl.scan_parquet(path) if name in ("mentions", "resolution") else pl.read_parquet(path)
    run_info = check_complete_run(run_dir, within="tables/")  # tables changed since the run are refused
    changes_path = run_dir / "changes.json"  # what a run with --previous found; it stays on top
    if changes is None and changes_path.is_file():
        changes = json.loads(changes_path.read_text(encoding="utf-8"))
    shown_info = run_info
    if top is None:
        asked = run_info.get("top")
        top = (len(list((run_dir / "clusters").glob("cluster_*.html"))) if asked is None
               else min(asked, run_info.get("clusters_flagged", asked)))
    else:
        shown_info = {**run_info, "top": top}  # asked here, not by the run
    written = write_outputs(run_dir, tables["clusters"], tables["communities"], tables["nodes"], tables["edges"],
                            tables["hits"], tables["mentions"], tables["resolution"], top=top, run_info=shown_info,
                            lang=lang, partner_lists=partner_lists, changes=changes)
    if pdf:
        written["pdf"] = print_pdf(written["index"], run_dir / REPORT_PDF)
        log.info("report printed to %s", written["pdf"])
    rewritten = {path.relative_to(run_dir).as_posix() for path in written.values() if path.is_relative_to(run_dir)}
    run_info["files"] = {name: digest for name, digest in file_digests(run_dir).items()
                         if name in run_info["files"] or name in rewritten}
    write_manifest(run_dir, run_info)
    return written


class ClusterPicture:
    """A cluster's picture as static SVG; Jupyter shows it inline (``_repr_svg_``)."""

    def __init__(self, cluster_id: str, svg: str):
        self.cluster_id, self.svg = cluster_id, svg

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | Path) -> Path:
        """Write the picture as an ``.svg`` file."""
        Path(path).write_text(self.svg, encoding="utf-8")
        return Path(path)


def cluster_picture(cluster_id: str, clusters: pl.DataFrame, communities: pl.DataFrame, nodes: pl.DataFrame,
                    edges: pl.DataFrame, hits: pl.DataFrame, mentions: pl.DataFrame | pl.LazyFrame,
                    resolution: pl.DataFrame | pl.LazyFrame, *,
                    lang: str = DEFAULT_LANGUAGE, width: int = 900, height: int = 560) -> ClusterPicture:
    """The picture of one ranked cluster, as in the report: case aliases, partner badges, merged
    relations, evidence in red, roles in bands. In a notebook, the value displays itself.

    >>> mhgraph.cluster_picture("C0157", clusters, communities, nodes, edges, hits,
    ...                         mentions, resolution)            # doctest: +SKIP
    """
    ranked = clusters.filter(pl.col("cluster_id") == cluster_id)
    if ranked.height == 0:
        raise ValueError(f"no cluster {cluster_id!r} in the clusters table")
    dossier = build_dossiers(ranked.with_columns(rank=pl.lit(1, dtype=pl.Int64)), communities, nodes, edges,
                             hits.filter(pl.col("cluster_id") == cluster_id), mentions, resolution, 1, lang=lang)[0]
    return ClusterPicture(cluster_id, picture_svg(dossier.view, width, height))
