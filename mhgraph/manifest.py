"""Run purpose, run manifest and the append-only audit log.

A run declares its purpose; only sources whose collection purpose that run purpose permits are
used (art. 3:3 Awb: purposes stay apart). What was used, what was left out and why, the legal
ground and every count go into ``OUT_DIR/run_manifest.json``; one line per run is appended to
the audit log (``OUT_DIR/../audit.log`` by default, or ``$MHGRAPH_AUDIT_LOG``).

>>> sorted(allowed_source_purposes("municipal_supervision"))
['administrative_supervision', 'bibob', 'company_register']
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
from pathlib import Path

from mhgraph.errors import MhgraphError

__all__ = ["RUN_PURPOSES", "allowed_source_purposes", "append_audit_log", "file_digest", "write_manifest"]

# Run purpose -> (legal ground, source purposes it may use).
RUN_PURPOSES: dict[str, tuple[str, frozenset[str]]] = {
    "riec_integral_assessment": (
        "RIEC covenant and Wet gegevensverwerking door samenwerkingsverbanden (WGS): integral "
        "assessment of signals of human trafficking by the partners together",
        frozenset({"fiscal_supervision", "company_register", "immigration_supervision",
                   "administrative_supervision", "bibob"}),
    ),
    "municipal_supervision": (
        "Municipal permit supervision (APV, Wet regulering sekswerk) and Bibob screening",
        frozenset({"company_register", "administrative_supervision", "bibob"}),
    ),
    "labour_market_supervision": (
        "Labour inspection (Wet arbeid vreemdelingen, Wet minimumloon) with fiscal and immigration data",
        frozenset({"fiscal_supervision", "company_register", "immigration_supervision"}),
    ),
}
DEFAULT_RUN_PURPOSE = "riec_integral_assessment"


def allowed_source_purposes(run_purpose: str) -> frozenset[str]:
    """The source purposes a run with ``run_purpose`` may use."""
    try:
        return RUN_PURPOSES[run_purpose][1]
    except KeyError:
        raise MhgraphError(
            f"unknown run purpose {run_purpose!r}; choose one of {', '.join(sorted(RUN_PURPOSES))}"
        ) from None


def file_digest(path: Path) -> str:
    """SHA-256 of a file, so the manifest pins exactly which extract was read."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(out_dir: Path, manifest: dict) -> Path:
    path = Path(out_dir) / "run_manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return path


def append_audit_log(out_dir: Path, manifest: dict) -> Path:
    """Append one JSON line for this run. The file is only ever appended to."""
    path = Path(os.environ.get("MHGRAPH_AUDIT_LOG") or Path(out_dir).resolve().parent / "audit.log")
    entry = {
        "logged_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "user": os.environ.get("USER") or os.environ.get("USERNAME") or "unknown",
        "host": platform.node(),
        "run_id": manifest.get("run_id"),
        "run_purpose": manifest.get("run_purpose"),
        "legal_ground": manifest.get("legal_ground"),
        "sources_used": manifest.get("sources_used"),
        "sources_excluded": manifest.get("sources_excluded"),
        "output": str(Path(out_dir).resolve()),
    }
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
    return path
