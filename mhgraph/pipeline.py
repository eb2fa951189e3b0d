"""The whole pipeline, stage by stage: what ``mhgraph run`` does.

Every stage is a function whose input and output are Polars tables; ``run_pipeline`` only
chains them, writes each table to ``OUT_DIR/tables/NAME.parquet`` and writes the outputs, the
run manifest and an audit-log line. The run writes into a temporary sibling of ``OUT_DIR`` and
moves it into place only when complete (:mod:`mhgraph.run_folder`): an interrupted or failed
run leaves the previous output as it was. In a notebook, call the stages one by one instead and look
at each table (see ``notebooks/walkthrough.ipynb``).

>>> from mhgraph.pipeline import run_pipeline           # doctest: +SKIP
>>> result = run_pipeline("data/sample", "out/sample")  # doctest: +SKIP
>>> result.tables["clusters"].head(3)                    # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from mhgraph.detect import detect_communities, numbered_ends
from mhgraph.diff import RunTables, carry_cluster_ids, changes_json, diff_runs, rename_clusters
from mhgraph.errors import InputError, MhgraphError
from mhgraph.executor import Executor, SerialExecutor, make_executor
from mhgraph.export import write_outputs
from mhgraph.export.dossier import REQUIRED_COLUMNS
from mhgraph.export.i18n import DEFAULT_LANGUAGE
from mhgraph.graph import MENTION_COLUMNS, build_graph_tables
from mhgraph.indicators import DEFINITIONS, compute_indicators, with_cluster_ids
from mhgraph.indicators.tables import EDGE_COLUMNS as RULE_EDGE_COLUMNS, MENTION_IDS
from mhgraph.ingest import ingest
from mhgraph.manifest import append_audit_log, extracts_record, new_manifest, write_manifest
from mhgraph.purpose import DEFAULT_RUN_PURPOSE, allowed_source_purposes
from mhgraph.partition import DEFAULT_UNIT_SIZE
from mhgraph.rank import counted_hits, partners_needed, rank_clusters
from mhgraph.resolve import (IdentityConflicts, default_settings, load_settings, resolution_diagnostics, resolve,
                             resolve_baseline, save_model)
from mhgraph.resolve.block import PAIR_SCHEMA
from mhgraph.run_folder import RunFolder, file_digests
from mhgraph.spec import SPEC_DIR, load_specs

__all__ = ["RunResult", "analyse", "run_pipeline"]

log = logging.getLogger("mhgraph.pipeline")

EXACT_MATCHES_SCHEMA = {**PAIR_SCHEMA, "score": pl.Float64, "decision": pl.String, "reason": pl.String}

# The columns community detection reads: all a detecting process is sent of the graph tables.
DETECT_COLUMNS = {"nodes": ["entity_id", "entity_type"], "edges": ["from_entity", "to_entity", "type"]}
# The edge columns held in memory once the graph has written the edges: those detection and the
# rules read. The export reads the rows it shows from the file, with all their columns.
HELD_EDGE_COLUMNS = tuple(dict.fromkeys([*DETECT_COLUMNS["edges"], *RULE_EDGE_COLUMNS]))
# The tables analyse returns, in the order the run writes and counts them.
ANALYSED_TABLES = ("resolution", "matches", "identity_conflicts", "nodes", "edges", "communities", "indicator_hits",
                   "clusters")
# The stage in which detection and the indicator rules run side by side; ``detect`` and
# ``indicators`` are each's own seconds within it.
DETECT_AND_INDICATORS = "detect_and_indicators"


class StoredTables(dict):
    """A run's tables by name; those ingest streamed to Parquet (``mentions``, ``relations``,
    ``quarantine``) are read from the run folder when first asked for, not held through the run.

    >>> import tempfile; path = Path(tempfile.mkdtemp()) / "t.parquet"
    >>> pl.DataFrame({"a": [1]}).write_parquet(path)
    >>> tables = StoredTables({"nodes": pl.DataFrame()}, {"mentions": path})
    >>> "mentions" in tables, tables["mentions"].height
    (True, 1)
    """

    def __init__(self, tables: dict[str, pl.DataFrame], stored: dict[str, Path]):
        super().__init__(tables)
        self.stored = stored

    def __missing__(self, name: str) -> pl.DataFrame:
        if name not in self.stored:
            raise KeyError(name)
        self[name] = pl.read_parquet(self.stored[name])
        return self[name]

    def __contains__(self, name) -> bool:
        return super().__contains__(name) or name in self.stored

    def keep(self, tables_dir: Path | None, **tables: pl.DataFrame) -> None:
        """Hold ``tables``; with a ``tables_dir`` also write them there now, as the run keeps them,
        so that they can be let go (:meth:`release`) and read again, here or in another process."""
        for name, table in tables.items():
            if tables_dir is not None:
                self.stored[name] = tables_dir / f"{name}.parquet"
                table.write_parquet(self.stored[name])
            self[name] = table

    def release(self, name: str) -> pl.DataFrame:
        """The table ``name``, no longer held here when it is stored: the caller's reference is then
        the last, and the table is read again from its file when next asked for.

        >>> import tempfile; folder = Path(tempfile.mkdtemp())
        >>> tables = StoredTables({}, {}); tables.keep(folder, hits=pl.DataFrame({"a": [1]}))
        >>> tables.release("hits").height, dict.__contains__(tables, "hits"), tables["hits"].height
        (1, False, 1)
        """
        return self.pop(name) if name in self.stored else self[name]

    def scan(self, name: str) -> pl.LazyFrame:
        """The table ``name`` as a scan: of its file when it is not held, so that a reader of a few
        rows or columns never reads it whole.

        >>> import tempfile; folder = Path(tempfile.mkdtemp())
        >>> tables = StoredTables({}, {}); tables.keep(folder, hits=pl.DataFrame({"a": [1, 2]}))
        >>> _ = tables.release("hits"); tables.scan("hits").filter(pl.col("a") > 1).collect().height
        1
        """
        return self[name].lazy() if dict.__contains__(self, name) else pl.scan_parquet(self.stored[name])

    def height(self, name: str) -> int:
        """The rows of table ``name``, counted in its file when it is not held."""
        if dict.__contains__(self, name):
            return self[name].height
        return pl.scan_parquet(self.stored[name]).select(pl.len()).collect().item()


@dataclass
class RunResult:
    out_dir: Path
    tables: dict[str, pl.DataFrame]
    outputs: dict[str, Path]
    manifest: dict = field(default_factory=dict)


def _timed(function, *args, **kwargs):
    """``function(*args, **kwargs)`` and the wall seconds it took, measured where it ran."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


@contextmanager
def _stage(name: str, timings: dict[str, float]):
    """Log the start and duration of one stage and record its seconds in ``timings``."""
    log.info("%s ...", name)
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    log.info("%s done in %.1f s", name, timings[name])


def needed(table: pl.DataFrame | pl.LazyFrame, columns) -> pl.DataFrame:
    """The ``columns`` of ``table`` that it has, read from its Parquet file when it is a scan.

    The hand-over between stages: a stage holds only the columns it reads, never the whole
    mentions table (most of whose cells are empty for any one entity type).

    >>> needed(pl.LazyFrame({"a": [1], "b": [2]}), ["b", "c"]).columns
    ['b']
    """
    return scan_of(table, columns).collect()


def scan_of(table: pl.DataFrame | pl.LazyFrame, columns) -> pl.LazyFrame:
    """The ``columns`` of ``table`` that it has, as a scan: for a stage that reads only some rows.

    >>> scan_of(pl.DataFrame({"a": [1], "b": [2]}), ["b", "c"]).collect_schema().names()
    ['b']
    """
    present = table.collect_schema().names()
    return table.lazy().select(c for c in dict.fromkeys(columns) if c in present)


def resolver_columns(settings, resolver: str = "full") -> list[str]:
    """The mention columns entity resolution reads: ids, type and every column its settings name;
    for the ``exact`` resolver only the columns of its exact keys.

    >>> resolver_columns(None, "exact")[2:]
    ['partner', 'permit_number', 'address_key', 'kvk_number', 'wage_tax_number', 'bsn', 'v_number', 'match_key_1']
    """
    settings = settings or default_settings()
    if resolver == "exact":
        keys = [key for entity in settings.types.values() for key in (entity.baseline_keys or entity.identity_keys)]
        return list(dict.fromkeys(["mention_id", "entity_type", *(c for key in keys for c in key.split("+"))]))
    return ["mention_id", "entity_type", *(c for t in settings.types for c in settings.columns(t))]


def analyse(mentions: pl.DataFrame | pl.LazyFrame, relations: pl.DataFrame | pl.LazyFrame, *, allowed_purposes,
            overrides=None, seed: int = 42,
            executor: Executor | None = None, partitions: int | None = None, unit_size: int = DEFAULT_UNIT_SIZE,
            resolver: str = "full", timings: dict[str, float] | None = None, resolve_settings=None,
            tables_dir: Path | None = None):
    """Resolve -> graph -> detect -> indicators -> rank on ingested mentions and relations.

    Returns the tables ``resolution``, ``matches``, ``identity_conflicts``, ``nodes``, ``edges``,
    ``communities``, ``indicator_hits`` and ``clusters``, and the resolver's result (``None`` with
    ``resolver="exact"``, which links on exact keyed identifiers only and compares no pair).
    ``resolve_settings``: entity-resolution settings (default: the shipped ones).
    ``mhgraph evaluate --ablate-partners`` reruns this on the mentions of fewer partners.
    ``executor``, ``partitions`` and ``unit_size`` go to :func:`mhgraph.detect.detect_communities`
    and :func:`mhgraph.indicators.compute_indicators`: how the work is spread never changes the result.
    No indicator rule reads the communities, so detection runs beside the rules: it is submitted to
    ``executor`` (one worker process of its own with local processes, the default of
    ``mhgraph run``; its units one after the other there) while the rules run here, and each hit
    gets its cluster id once both are done. ``executor=None`` or the serial executor runs them one
    after the other. ``timings`` gets the wall seconds of both together (``detect_and_indicators``)
    and, measured where each ran, those of ``detect`` and of ``indicators``: with processes the two
    overlap, so the stages' seconds add up to more than the run's.
    ``mentions`` and ``relations`` may be scans (``pl.scan_parquet``): each stage then reads only the
    columns it needs (:func:`needed`).

    ``tables_dir``: where the tables are written as soon as they are final (``mhgraph run`` gives its
    ``tables/``). The resolver then writes the matches there itself, each entity type's once it is
    clustered, and they are held nowhere (the resolver's result holds a scan of their file); the
    resolution is let go once the graph is built, not held through detection and the rules, and
    read again when asked for (the tables come back as :class:`StoredTables`; the resolver's result
    holds none: its reader takes it from the tables); a detection process of its own reads its
    columns from there (:func:`detect_stored`). The edges are held with :data:`HELD_EDGE_COLUMNS`
    only, and let go once the clusters are ranked: the export reads the rows it shows from the file.
    """
    timings = {} if timings is None else timings
    tables = StoredTables({}, {})
    with _stage("resolve", timings):
        # a scan: the resolver reads each entity type's columns when that type's turn comes
        resolving = scan_of(mentions, resolver_columns(resolve_settings, resolver))
        if resolver == "exact":
            resolved = None
            tables.keep(tables_dir, resolution=resolve_baseline(resolving, resolve_settings),
                        matches=pl.DataFrame(schema=EXACT_MATCHES_SCHEMA))
            tables.release("matches")  # no later stage reads them
        else:
            # the resolver reads relations only as neighbours: which mentions a relation of which type links
            matches_file = tables_dir / "matches.parquet" if tables_dir is not None else None
            resolved = resolve(resolving, needed(relations, ("type", "from_mention", "to_mention")), resolve_settings,
                               overrides=overrides, matches_file=matches_file)
            tables.keep(tables_dir, resolution=resolved.resolution)
            if matches_file is None:
                tables.keep(None, matches=resolved.matches)
            else:  # no later stage reads them: the resolver wrote them type by type, and they are held nowhere
                tables.stored["matches"] = matches_file
                resolved = replace(resolved, resolution=None)  # the run's file holds it: read when needed
        tables.keep(None, identity_conflicts=resolved.identity_conflicts if resolved is not None
                    else IdentityConflicts.none().table)
    with _stage("graph", timings):
        # the graph reads the mentions and relations a column at a time and lets the resolution go once
        # it has numbered the mentions' entities; stored, the resolution is held nowhere else until the
        # export reads it again
        edges_file = tables_dir / "edges.parquet" if tables_dir is not None else None
        nodes, edges = build_graph_tables(scan_of(mentions, MENTION_COLUMNS), relations, tables.release("resolution"),
                                          edges_file=edges_file, held_edge_columns=HELD_EDGE_COLUMNS)
        tables.keep(tables_dir, nodes=nodes)
        tables["edges"] = edges
        if edges_file is not None:  # written whole by the graph; held with the columns detection and the rules read
            tables.stored["edges"] = edges_file
    with _stage(DETECT_AND_INDICATORS, timings):
        # no rule reads the communities: the rules run here while detection runs in a process of its
        # own (the serial executor: first detection, then the rules); the cluster ids are attached after
        executor = executor or SerialExecutor()
        # it reads its columns from the run's files; an executor that does not say is sent them
        if tables_dir is not None and getattr(executor, "separate_process", False):
            detecting = executor.submit(_timed, detect_stored, tables_dir, seed=seed, partitions=partitions,
                                        unit_size=unit_size)
        else:
            detecting = executor.submit(_timed, detect_communities, nodes.select(DETECT_COLUMNS["nodes"]),
                                        edges.select(DETECT_COLUMNS["edges"]), seed=seed, partitions=partitions,
                                        unit_size=unit_size)
        try:
            hits, rules_seconds = _timed(
                compute_indicators, nodes, _with_conflict_mentions(edges, tables), allowed_purposes=allowed_purposes,
                identity_conflicts=tables["identity_conflicts"], executor=executor, partitions=partitions,
                unit_size=unit_size)
            communities, timings["detect"] = detecting.result()
        finally:
            if not detecting.done():  # the rules failed: end detection rather than wait for it at exit
                detecting.cancel()
        timings["indicators"] = rules_seconds
        hits = with_cluster_ids(hits, communities)
        log.info("detect took %.1f s, indicators %.1f s", timings["detect"], timings["indicators"])
    with _stage("rank", timings):
        clusters = rank_clusters(communities, nodes, edges, hits)
    # no later stage reads the edges whole: stored, they are let go (the export reads the rows it shows)
    del edges
    tables.release("edges")
    # the hits table holds what the score counts: a weak hit without a piece of another kind beside it is left out
    tables.keep(None, communities=communities, indicator_hits=counted_hits(hits, communities), clusters=clusters)
    return tables, resolved


def _with_conflict_mentions(edges: pl.DataFrame, tables: StoredTables) -> pl.DataFrame:
    """``edges`` with the mention ids the identity-conflict rule reads: held without them, they are
    read from the stored edges for the relations of the conflicting mentions only (null elsewhere).

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> tables = StoredTables({}, {}); tables.keep(folder, edges=pl.DataFrame({"relation_id": ["r1", "r2"],
    ...     "from_mention": ["m1", "m2"], "to_mention": ["c1", "c2"]}), identity_conflicts=pl.DataFrame(
    ...     {"mention_a": ["m2"], "mention_b": ["m9"]}))
    >>> _with_conflict_mentions(tables["edges"].drop(MENTION_IDS), tables).rows()
    [('r1', None, None), ('r2', 'm2', 'c2')]
    """
    conflicts = tables["identity_conflicts"]
    if "from_mention" in edges.columns or conflicts.is_empty():
        return edges
    named = pl.concat([conflicts.get_column("mention_a"), conflicts.get_column("mention_b")]).unique().implode()
    ends = (pl.scan_parquet(tables.stored["edges"]).select("relation_id", *MENTION_IDS)
            .filter(pl.col("from_mention").is_in(named) | pl.col("to_mention").is_in(named)).collect())
    return edges.with_columns(edges.select("relation_id").join(ends, on="relation_id", how="left",
                                                               maintain_order="left").select(MENTION_IDS))


def detect_stored(tables_dir: Path, *, seed: int, partitions: int | None, unit_size: int) -> pl.DataFrame:
    """:func:`mhgraph.detect.detect_communities` on the graph tables written to ``tables_dir``, of
    which it reads only :data:`DETECT_COLUMNS`: how a process of its own gets them, instead of a
    pickled copy made in the process that holds the whole tables.

    >>> import tempfile; from mhgraph.planted import planted_cell_graph
    >>> nodes, edges, _ = planted_cell_graph(n_background=200, n_cells=2, seed=0)
    >>> folder = Path(tempfile.mkdtemp()); nodes.write_parquet(folder / "nodes.parquet")
    >>> edges.write_parquet(folder / "edges.parquet")
    >>> detect_stored(folder, seed=1, partitions=None, unit_size=100).equals(
    ...     detect_communities(nodes, edges, seed=1, unit_size=100))
    True
    """
    handed = [_read_columns(tables_dir, "nodes")]
    # the ends as numbers among the nodes' ids: the text of both ends of every edge is never held
    handed.append(numbered_ends(handed[0].get_column("entity_id"), pl.scan_parquet(tables_dir / "edges.parquet")))
    if handed[-1] is None:
        handed[-1] = _read_columns(tables_dir, "edges")
    # handed over, not held here: detection lets the tables go once it has its arrays
    return detect_communities(handed.pop(0), handed.pop(), seed=seed, partitions=partitions, unit_size=unit_size)


def _read_columns(tables_dir: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(tables_dir / f"{name}.parquet", columns=DETECT_COLUMNS[name])


def run_pipeline(
    input_dir: str | Path,
    out_dir: str | Path,
    *,
    run_purpose: str = DEFAULT_RUN_PURPOSE,
    specs_dir: str | Path = SPEC_DIR,
    overrides: str | Path | None = None,
    max_quarantine_share: float | None = None,
    top: int = 10,
    seed: int = 42,
    resolver: str = "full",
    strict: bool = False,
    resolve_settings: str | Path | None = None,
    lang: str = DEFAULT_LANGUAGE,
    partner_lists: str = "evidence",
    accept_missing_sidecars: bool = False,
    previous: str | Path | None = None,
    executor: str | Executor | None = None,
) -> RunResult:
    """Ingest -> resolve -> graph -> detect -> indicators -> rank -> export, on one folder of
    partner extracts. Returns every table and the paths of the outputs.

    The run checks its own entity resolution (:func:`mhgraph.resolve.resolution_diagnostics`:
    in the manifest under ``resolution`` and at the top of ``summary.md`` and ``index.html``).
    With ``strict``, a resolution that looks collapsed fails the run once everything is written.

    The ``top`` best-ranked *flagged* clusters — those whose score reaches the ``flag_score`` of
    ``mhgraph/indicators/definitions.toml`` — get a page and a picture: a cluster the ranking
    does not flag is not put in front of anyone. For those, the ``clusters`` table says which
    partners the flag needs (:func:`mhgraph.rank.partners_needed`). ``resolver="exact"`` links
    mentions on exact keyed identifiers only (no fuzzy matching, no model): the conservative
    baseline the full entity resolution is measured against. ``resolve_settings``: an
    entity-resolution settings file instead of the shipped one. ``lang`` (``"nl"`` or ``"en"``)
    and ``partner_lists`` (``"evidence"`` or ``"all"``) go to :func:`mhgraph.export.write_outputs`.

    ``out_dir`` is replaced whole when the run is complete, and left as it was when it is not;
    a second run into the same folder while this one writes is refused (``InputError``).
    ``accept_missing_sidecars`` takes in extracts without a sidecar (see :func:`mhgraph.ingest.ingest`).

    ``previous``: the output folder of an earlier run with the same purpose. Clusters that are
    recognisably the same group keep that run's ids, and what changed since is written to
    ``OUT_DIR/changes.json`` and at the top of the report (see :mod:`mhgraph.diff`).

    ``executor`` runs the partitioned stages (:func:`mhgraph.executor.make_executor`: ``"serial"``,
    ``"processes[:N]"``, the default, or ``"dask[:N]"`` / ``"dask:tcp://HOST:PORT"``); it never changes
    the result.
    """
    if resolver not in ("full", "exact"):
        raise MhgraphError(f"unknown resolver {resolver!r}; choose 'full' or 'exact'")
    input_dir, out_dir = Path(input_dir), Path(out_dir)
    if not input_dir.is_dir():
        raise InputError("the input folder does not exist or is not a folder", file=str(input_dir))
    specs = load_specs(specs_dir)
    before = _previous_run(previous, run_purpose)
    settings = load_settings(resolve_settings) if resolve_settings else None
    with RunFolder(out_dir) as folder, _started(executor) as running:
        result = _run_stages(folder, input_dir, specs, before, run_purpose=run_purpose, overrides=overrides,
                             max_quarantine_share=max_quarantine_share, top=top, seed=seed, resolver=resolver,
                             resolve_settings=settings, accept_missing_sidecars=accept_missing_sidecars, lang=lang,
                             partner_lists=partner_lists, executor=running)
    _check_collapse(result, strict)
    return result


@contextmanager
def _started(executor: str | Executor | None):
    """The executor ``executor`` names, closed afterwards when it was started here (a local Dask cluster)."""
    started = make_executor(executor)
    try:
        yield started
    finally:
        if started is not executor and hasattr(started, "close"):
            started.close()


def _check_collapse(result: RunResult, strict: bool) -> None:
    """Say a collapsed-looking resolution in the log; with ``strict``, fail the (written) run on it."""
    collapsed = [row for row in result.manifest.get("resolution", []) if row["collapsed"]]
    for row in collapsed:
        log.warning("the %s resolution looks collapsed: %s", row["entity_type"], row["reasons"])
    if collapsed and strict:
        raise MhgraphError(f"the {', '.join(row['entity_type'] for row in collapsed)} resolution looks collapsed "
                           f"({'; '.join(row['reasons'] for row in collapsed)}); the run is written to "
                           f"{result.out_dir}, see its summary.md")


def _run_stages(folder: RunFolder, input_dir: Path, specs, before: RunTables | None, *, run_purpose, overrides,
                max_quarantine_share, top, seed, resolver, resolve_settings, accept_missing_sidecars, lang,
                partner_lists, executor) -> RunResult:
    """The stages of :func:`run_pipeline`, written into ``folder.work``, then committed."""
    out_dir = folder.work
    (out_dir / "tables").mkdir(parents=True, exist_ok=True)
    manifest = new_manifest("run", run_purpose, folder.final)
    timings: dict[str, float] = {}

    with _stage("ingest", timings):
        # streamed into the run's own tables: the stages scan the columns they need from there
        ingested = ingest(input_dir, specs=specs, max_quarantine_share=max_quarantine_share,
                          accept_missing_sidecars=accept_missing_sidecars, run_purpose=run_purpose, out_dir=out_dir)
        (out_dir / "ingest_summary.json").unlink()  # the manifest holds the summary
    mentions, relations = ingested.scan("mentions"), ingested.scan("relations")
    tables, resolved = analyse(mentions, relations,
                               allowed_purposes=allowed_source_purposes(run_purpose), overrides=overrides,
                               seed=seed, resolver=resolver, timings=timings, resolve_settings=resolve_settings,
                               executor=executor, tables_dir=out_dir / "tables")
    # Without a previous run the resolution is read for the diagnostics only, not kept with the
    # tables (the export scans it); the comparison with a previous run holds it, read once for both.
    resolution = tables["resolution"] if before is not None else None
    diagnostics = (resolution_diagnostics(
        replace(resolved, resolution=resolution if resolution is not None else pl.read_parquet(tables.stored["resolution"])),
        scan_of(mentions, resolver_columns(resolve_settings))) if resolved is not None else None)
    if before is not None:
        current = RunTables(mentions.collect(), resolution, tables["communities"])
        renamed, manifest["cluster_ids"] = carry_cluster_ids(tables["communities"], current, before)
        tables.update(rename_clusters(tables, renamed))
    with _stage("partners_needed", timings):
        tables["clusters"] = partners_needed(tables["clusters"], tables["communities"], tables["indicator_hits"],
                                             shown=top)
    clusters, communities, nodes, hits = (tables[name] for name in ("clusters", "communities", "nodes", "indicator_hits"))
    edges = tables.scan("edges")  # a scan of the file when stored: the export reads the rows it shows
    # those written as they were made stand
    tables.keep(out_dir / "tables", **{name: tables[name] for name in ANALYSED_TABLES if name not in tables.stored})
    counts = {name: ingested.scan(name).select(pl.len()).collect().item() for name in ingested.paths}

    manifest.update(extracts_record(ingested.summary, ingested.read_files, specs, run_purpose))
    manifest.update({
        "clusters_flagged": clusters.filter(pl.col("flagged")).height,
        "clusters_scored": clusters.filter(pl.col("score") > 0).height,
        "indicator_ruleset": DEFINITIONS["ruleset"],
        "counts": {**counts, **{name: tables.height(name) for name in ANALYSED_TABLES}},
        "resolver": resolver,
        "resolution": diagnostics.to_dicts() if diagnostics is not None else [],
        "seed": seed,
        "top": top,  # as asked: `mhgraph report` writes the same number of clusters again
        "seconds": timings,
    })
    changes = None
    if before is not None:
        changes = diff_runs(before, RunTables(current.mentions, current.resolution, communities, clusters, hits,
                                              edges.select("relation_id").collect().to_series(), manifest))
        manifest["previous_run"] = {key: before.manifest.get(key) for key in ("run_id", "started")}
    with _stage("export", timings):
        # the mentions and the resolution as scans: the export reads those of the top clusters, not the tables
        outputs = write_outputs(
            out_dir, clusters, communities, nodes, edges, hits, scan_of(mentions, REQUIRED_COLUMNS["mentions"]),
            tables.scan("resolution"),
            top=min(top, manifest["clusters_flagged"]), run_info=manifest, lang=lang, partner_lists=partner_lists,
            changes=changes,
        )
    if changes is not None:
        outputs["changes"] = out_dir / "changes.json"
        outputs["changes"].write_text(changes_json(changes), encoding="utf-8")
    if resolved is not None:
        outputs["resolve_model"] = save_model(resolved, out_dir)
    manifest["files"] = file_digests(out_dir)  # what a complete run holds, to check it against later
    # Logged before the run lands: a processing that happened is in the log even if the move never
    # comes; the manifest, written after, keeps the line's number and hash as its anchor.
    audit_log = append_audit_log(folder.final, manifest)
    outputs["manifest"] = write_manifest(out_dir, manifest)
    folder.commit()
    outputs = {name: folder.final_path(path) if path.is_relative_to(out_dir) else path
               for name, path in outputs.items()}
    outputs["audit_log"] = audit_log
    log.info("run written to %s", folder.final)
    stored = {name: folder.final_path(path) for name, path in {**ingested.paths, **tables.stored}.items()}
    return RunResult(out_dir=folder.final, tables=StoredTables(tables, stored), outputs=outputs, manifest=manifest)


def _previous_run(previous: str | Path | None, run_purpose: str) -> RunTables | None:
    """The earlier run to compare with, read before any work is done; it must share the purpose."""
    if previous is None:
        return None
    before = RunTables.read(previous)
    recorded = before.manifest.get("run_purpose")
    if recorded != run_purpose:
        had = f"had purpose {recorded!r}" if recorded else "recorded no run purpose in its manifest"
        raise InputError(f"the previous run {had}, this one {run_purpose!r}: runs are only compared within one "
                         "purpose", file=str(previous))
    return before
