"""Scheduled runs: one folder per run, a pointer to the latest complete run, and retention.

A history folder (one per run purpose) looks like this::

    HISTORY/
      latest -> runs/2026-02-01T020000Z   symbolic link to the latest complete run
      runs/
        2026-01-01T020000Z/               one complete run: what `mhgraph run --out` writes,
        2026-02-01T020000Z/                 plus changes.json against the run before it
        audit.log                         the hash-chained audit log of these runs
      history.lock                        held while a run is in progress

:func:`scheduled_run` (``mhgraph run INPUT_DIR --history HISTORY``) takes ``history.lock`` (a
second run started meanwhile stops at once with an error), runs the pipeline into
``runs/<UTC start time>/`` with the run ``latest`` points to as ``previous``, and only when that
run has finished points ``latest`` at it: a new link is made beside the old one and renamed
over it, so ``latest`` names a complete run at every moment, also when a run fails halfway or
the machine stops. Then retention keeps the ``keep`` newest complete runs and deletes the rest,
with one audit line naming what it deleted. ``docs/scheduled-runs.md`` has recipes for cron, a
systemd timer and Airflow.

>>> import tempfile
>>> latest_run(tempfile.mkdtemp()) is None
True
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
from pathlib import Path

from mhgraph.audit import locked
from mhgraph.errors import InputError, MhgraphError
from mhgraph.manifest import append_audit_log
from mhgraph.pipeline import RunResult, run_pipeline
from mhgraph.run_folder import folder_lock

__all__ = ["LATEST", "LOCK", "RUNS", "complete_runs", "latest_run", "point_latest", "prune_runs", "scheduled_run"]

log = logging.getLogger("mhgraph.history")

LATEST, RUNS, LOCK = "latest", "runs", "history.lock"
_RUN_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}Z(-\d+)?$")


def latest_run(history_dir: str | Path) -> Path | None:
    """The run folder ``latest`` points to, or ``None`` before the first complete run."""
    link = Path(history_dir) / LATEST
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def complete_runs(history_dir: str | Path) -> list[Path]:
    """Every complete run in the history, oldest first. A run being written is a hidden sibling
    until it is complete (:mod:`mhgraph.run_folder`); a folder without a run manifest is not listed."""
    runs = Path(history_dir) / RUNS
    if not runs.is_dir():
        return []
    return sorted(p for p in runs.iterdir()
                  if p.is_dir() and _RUN_NAME.match(p.name) and (p / "run_manifest.json").is_file())


def point_latest(history_dir: str | Path, run_dir: Path) -> None:
    """Point ``latest`` at ``run_dir`` in one step: a new link beside it, renamed over it."""
    history_dir = Path(history_dir)
    link = history_dir / LATEST
    if link.exists() and not link.is_symlink():
        raise MhgraphError(f"{link} exists and is not a symbolic link; move it away")
    fresh = history_dir / f".{LATEST}.{os.getpid()}"
    fresh.unlink(missing_ok=True)
    fresh.symlink_to(Path(run_dir).relative_to(history_dir))
    os.replace(fresh, link)


def prune_runs(history_dir: str | Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest complete runs (never the one ``latest`` points to);
    return the deleted folders. A run folder is deleted holding its lock
    (:func:`~mhgraph.run_folder.folder_lock`), which goes with it; one whose lock a command
    holds (a run writing it again, ``resolve`` or ``explain-match`` reading it) is left for the
    next retention."""
    _check_keep(keep)
    latest = latest_run(history_dir)
    deleted = []
    for run in complete_runs(history_dir)[:-keep]:
        if run.resolve() == latest:
            continue
        try:
            with folder_lock(run):
                log.info("retention: deleting %s", run)
                shutil.rmtree(run)
        except InputError:
            log.info("retention: %s is in use (its lock is held); it is left for the next retention", run)
            continue
        deleted.append(run)
    return deleted


def _check_keep(keep: int) -> None:
    if keep < 1:
        raise MhgraphError(f"keep must be 1 or more, not {keep}")


def _new_run_folder(history_dir: Path) -> Path:
    runs = history_dir / RUNS
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    folder, n = runs / stamp, 1
    while folder.exists():
        n += 1
        folder = runs / f"{stamp}-{n}"
    return folder


def scheduled_run(input_dir: str | Path, history_dir: str | Path, *, keep: int | None = None,
                  **options) -> RunResult:
    """One scheduled run into ``history_dir`` (layout in the module docstring): compared with
    the latest complete run, then made the latest; ``keep``: how many complete runs to keep
    (``None``: all). ``options`` go to :func:`~mhgraph.pipeline.run_pipeline`."""
    if keep is not None:
        _check_keep(keep)
    history_dir = Path(history_dir).resolve()
    (history_dir / RUNS).mkdir(parents=True, exist_ok=True)
    with open(history_dir / LOCK, "a") as lock:
        try:
            with locked(lock, wait=False):
                return _run_locked(input_dir, history_dir, keep, options)
        except BlockingIOError:
            raise MhgraphError(f"another run of the history {history_dir} is still in progress "
                               f"(it holds {LOCK})") from None


def _run_locked(input_dir, history_dir: Path, keep: int | None, options: dict) -> RunResult:
    previous = latest_run(history_dir)
    result = run_pipeline(input_dir, _new_run_folder(history_dir), previous=previous, **options)
    point_latest(history_dir, result.out_dir)
    log.info("latest run of %s: %s", history_dir, result.out_dir.name)
    if keep is not None:
        removed = prune_runs(history_dir, keep)
        if removed:
            record = {key: result.manifest.get(key) for key in ("run_id", "run_purpose", "legal_ground")}
            append_audit_log(result.out_dir, {**record, "command": "retention",
                                              "subject": {"keep": keep, "removed_runs": [p.name for p in removed]}})
    return result
