"""Run manifests and the hash-chained audit log.

A command runs under a purpose (:mod:`mhgraph.purpose`: which sources and attributes it may
use). Every command that reads partner data writes a manifest (what was used, what was left
out and why, the legal ground, the inputs' checksums, every count) and appends one line to the
audit log (``OUT_DIR/../audit.log`` by default, or ``$MHGRAPH_AUDIT_LOG``), a hash chain
(:mod:`mhgraph.audit`) whose line number and hash the manifest keeps as its anchor.

>>> manifest = new_manifest("ingest", "permit_supervision", "out/x")
>>> manifest["command"], manifest["allowed_source_purposes"]
('ingest', ['administrative_supervision', 'company_register'])
>>> [entry["attribute"] for entry in manifest["attributes_withheld"]]
['bibob_outcome']
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING

from mhgraph import __version__
from mhgraph.audit import append_entry
from mhgraph.file_names import shown_path
from mhgraph.pseudonymise import META_SUFFIX
from mhgraph.purpose import (
    DEFAULT_RUN_PURPOSE,
    RUN_PURPOSES,
    allowed_source_purposes,
    permitted_specs,
    withheld_attributes,
)
from mhgraph.spec import SPEC_DIR, SourceSpec, load_specs

if TYPE_CHECKING:
    from mhgraph.ingest import Ingested

# The purpose tables are also importable from here, where the run manifest first kept them.
__all__ = [
    "DEFAULT_RUN_PURPOSE",
    "RUN_PURPOSES",
    "allowed_source_purposes",
    "append_audit_log",
    "audit_log_path",
    "extracts_record",
    "file_digest",
    "new_manifest",
    "record_ingest",
    "record_manifest",
    "run_anchors",
    "write_manifest",
]

def file_digest(path: Path) -> str:
    """SHA-256 of a file, so the manifest pins exactly which extract was read."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def new_manifest(command: str, run_purpose: str, out_dir: str | Path) -> dict:
    """The fields every manifest starts with: which command ran, when, under which purpose and
    legal ground, and which source purposes and attributes that purpose leaves out."""
    allowed = allowed_source_purposes(run_purpose)
    started = dt.datetime.now(dt.timezone.utc)
    return {
        "command": command,
        "run_id": hashlib.sha256(
            json.dumps([command, started.isoformat(), str(Path(out_dir).resolve())]).encode()
        ).hexdigest()[:16],
        "mhgraph_version": __version__,
        "started": started.isoformat(timespec="seconds"),
        "run_purpose": run_purpose,
        "legal_ground": RUN_PURPOSES[run_purpose][0],
        "allowed_source_purposes": sorted(allowed),
        "attributes_withheld": withheld_attributes(run_purpose),
    }


def extracts_record(summary: dict, read_files: list[Path], specs: list[SourceSpec], run_purpose: str) -> dict:
    """What a command that read partner extracts adds to its manifest: ``sources_used``,
    ``sources_excluded`` (by purpose, with why), ``inputs`` (every extract of ``read_files`` and
    its sidecar, by name as :func:`~mhgraph.file_names.shown_path` shows it, with its SHA-256)
    and the ``ingest`` summary (``summary``, see :mod:`mhgraph.ingest`)."""
    inputs = [path for file in read_files for path in (Path(file), Path(str(file) + META_SUFFIX)) if path.is_file()]
    return {
        "sources_used": sorted({source["source"] for source in summary.get("sources", [])}),
        "sources_excluded": permitted_specs(specs, run_purpose)[1],
        "inputs": [{"file": shown_path(path.name), "sha256": file_digest(path)} for path in inputs],
        "ingest": summary,
    }


def write_manifest(out_dir: Path, manifest: dict, name: str = "run_manifest.json") -> Path:
    path = Path(out_dir) / name
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return path


def audit_log_path(out_dir: str | Path) -> Path:
    """``$MHGRAPH_AUDIT_LOG``, or ``audit.log`` next to ``out_dir``."""
    return Path(os.environ.get("MHGRAPH_AUDIT_LOG") or Path(out_dir).resolve().parent / "audit.log")


# Manifest fields copied into the audit line (``subject``: what explain-match or retention was
# about; ``store``: the graph store load-neo4j wrote to, without credentials).
_AUDITED = ("command", "run_id", "run_purpose", "legal_ground", "sources_used", "sources_excluded",
            "attributes_withheld", "subject", "store")


def append_audit_log(out_dir: Path, manifest: dict) -> Path:
    """Append one line for this command to the hash-chained audit log; the file is only ever
    appended to. The line's number and hash are put into ``manifest["audit"]`` (its anchor:
    write the manifest after this call, or use :func:`record_manifest`)."""
    path = audit_log_path(out_dir)
    entry = {
        "logged_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "user": os.environ.get("USER") or os.environ.get("USERNAME") or "unknown",
        "host": platform.node(),
        **{key: manifest.get(key) for key in _AUDITED if key in manifest},
        "output": str(Path(out_dir).resolve()),
    }
    written = append_entry(path, entry)
    manifest["audit"] = {"log": str(path), "line": written["seq"], "sha256": written["hash"]}
    return path


def record_manifest(out_dir: Path, manifest: dict, name: str = "run_manifest.json") -> tuple[Path, Path]:
    """Append the audit line, then write the manifest with its anchor: ``(manifest, log)``."""
    log_path = append_audit_log(out_dir, manifest)
    return write_manifest(out_dir, manifest, name), log_path


def record_ingest(out_dir: str | Path, ingested: Ingested, specs_dir: str | Path | None, run_purpose: str) -> Path:
    """The manifest and audit line of ``mhgraph ingest``: ``OUT_DIR/ingest_manifest.json``."""
    manifest = new_manifest("ingest", run_purpose, out_dir)
    manifest.update(extracts_record(ingested.summary, ingested.read_files, load_specs(specs_dir or SPEC_DIR), run_purpose))
    return record_manifest(Path(out_dir), manifest, "ingest_manifest.json")[0]


def run_anchors(run_dirs: list[str | Path]) -> dict[str, dict]:
    """The audit anchors the manifests (``*manifest.json``) in ``run_dirs`` keep, by manifest path."""
    anchors = {}
    for run_dir in run_dirs:
        for path in sorted(Path(run_dir).glob("*manifest.json")):
            anchor = json.loads(path.read_text(encoding="utf-8")).get("audit")
            if anchor:
                anchors[str(path)] = anchor
    return anchors
