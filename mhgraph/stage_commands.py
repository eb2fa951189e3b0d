"""Commands on a run folder, under a purpose: resolve its mentions again, explain a pair.

``mhgraph resolve RUN_DIR`` and ``mhgraph explain-match RUN_DIR A B`` read the tables an
earlier ``mhgraph ingest`` or ``mhgraph run`` wrote into ``RUN_DIR/tables``. Like every command
that reads partner data they run under a purpose: rows of sources the purpose does not permit,
and attributes it does not permit, are left out first (:func:`mhgraph.purpose.restrict_tables`);
each writes a manifest (``resolve_manifest.json``, ``explain_match_manifest.json``) and a line
in the audit log. Without a purpose, the one the folder was made under is used.

>>> folder_purpose("no/such/folder")
'riec_integral_assessment'
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from mhgraph.errors import InputError
from mhgraph.manifest import file_digest, new_manifest, record_manifest
from mhgraph.purpose import DEFAULT_RUN_PURPOSE, allowed_source_purposes, restrict_tables
from mhgraph.resolve import (Explanation, Resolved, ResolveSettings, explain_match, load_run, resolution_diagnostics,
                             resolve, save_run)
from mhgraph.run_folder import folder_lock

__all__ = ["explain_run", "folder_purpose", "resolve_run"]

# Manifests that say under which purpose a run folder was made, most telling first.
_FOLDER_MANIFESTS = ("run_manifest.json", "ingest_manifest.json")


def folder_purpose(run_dir: str | Path) -> str:
    """The purpose ``run_dir`` was made under (its run or ingest manifest), else the default."""
    for name in _FOLDER_MANIFESTS:
        path = Path(run_dir) / name
        if path.is_file():
            purpose = json.loads(path.read_text(encoding="utf-8")).get("run_purpose")
            if purpose:
                return purpose
    return DEFAULT_RUN_PURPOSE


@contextmanager
def _reading(run_dir: Path, run_purpose: str | None, command: str
             ) -> Iterator[tuple[pl.LazyFrame, pl.DataFrame | None, pl.LazyFrame, dict]]:
    """``(mentions, relations)`` the purpose (default: the folder's) permits, the full mentions,
    and the manifest so far; for as long as the command runs. The mentions are a scan of the
    parquet file: each step reads only the columns it needs (at a million mentions, most columns
    of the table are never read by resolve), and reads it again. So the folder is locked
    meanwhile (a run into it is refused, :func:`~mhgraph.run_folder.folder_lock`), and scanned
    through one open file, which stays the table first read should it be replaced all the same."""
    tables = run_dir / "tables"
    paths = [tables / "mentions.parquet", tables / "relations.parquet"]
    with folder_lock(run_dir):
        run_purpose = run_purpose or folder_purpose(run_dir)
        if not paths[0].is_file():
            raise InputError("the run folder lacks its mentions table", file=str(paths[0]))
        with open(paths[0], "rb") as mentions_file:
            everything = pl.scan_parquet(mentions_file)
            for column in ("source", "purpose"):
                if column not in everything.collect_schema().names():
                    raise InputError("the mentions table has no source purpose: it was not written by mhgraph ingest",
                                     file=str(paths[0]), column=column)
            relations = pl.read_parquet(paths[1]) if paths[1].is_file() else None
            mentions, relations, left_out = restrict_tables(everything, relations, run_purpose)
            manifest = new_manifest(command, run_purpose, run_dir)
            manifest.update({
                "sources_used": sorted(mentions.select(pl.col("source").unique()).collect()["source"].to_list()),
                "sources_excluded": [{"source": source, "mentions_left_out": count,
                                      "why": f"run purpose {run_purpose!r} does not permit the purpose of this source"}
                                     for source, count in left_out.items()],
                "inputs": [{"file": str(path.relative_to(run_dir)), "sha256": file_digest(path)}
                           for path in paths if path.is_file()],
            })
            yield mentions, relations, everything, manifest


def resolve_run(run_dir: str | Path, run_purpose: str | None = None, settings: ResolveSettings | None = None,
                overrides: str | Path | None = None) -> Resolved:
    """Resolve the mentions of ``run_dir`` that ``run_purpose`` permits; write the resolution,
    the matches and the model (:func:`~mhgraph.resolve.save_run`), ``resolve_manifest.json``
    (with the check of :func:`~mhgraph.resolve.resolution_diagnostics` under ``resolution``, as
    a run's manifest has it) and an audit line."""
    run_dir = Path(run_dir).resolve()  # the run a link (a history's ``latest``) names now, should the link move
    with _reading(run_dir, run_purpose, "resolve") as (mentions, relations, _, manifest):
        resolved = resolve(mentions, relations, settings, overrides=overrides)
        save_run(resolved, run_dir)
        entity_of = resolved.resolution  # every mention once
        manifest.update(counts={"mentions": entity_of.height, "entities": entity_of["entity_id"].n_unique()},
                        resolution=resolution_diagnostics(resolved, mentions).to_dicts())
        record_manifest(run_dir, manifest, "resolve_manifest.json")
    return resolved


def explain_run(run_dir: str | Path, mention_a: str, mention_b: str, run_purpose: str | None = None) -> Explanation:
    """:func:`~mhgraph.resolve.explain_match` on ``run_dir``, refused for a mention whose source
    ``run_purpose`` does not permit; writes ``explain_match_manifest.json`` and an audit line
    naming the two mentions."""
    run_dir = Path(run_dir).resolve()
    with _reading(run_dir, run_purpose, "explain-match") as (mentions, relations, everything, manifest):
        run_purpose = manifest["run_purpose"]
        allowed = allowed_source_purposes(run_purpose)
        asked = everything.filter(pl.col("mention_id").is_in([mention_a, mention_b])).collect()
        for mention_id, source, purpose in asked.select("mention_id", "source", "purpose").iter_rows():
            if purpose not in allowed:
                raise InputError(f"mention {mention_id!r} comes from source {source}, collected for purpose "
                                 f"{purpose!r}, which run purpose {run_purpose!r} does not permit", column="mention_id")
        explanation = explain_match(mention_a, mention_b, load_run(run_dir), mentions.collect(), relations)
        manifest.update(subject={"mentions": sorted([mention_a, mention_b])})
        record_manifest(run_dir, manifest, "explain_match_manifest.json")
    return explanation
