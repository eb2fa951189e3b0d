"""Changed copies of a folder of delivered extracts, as the next month's delivery might look."""

from __future__ import annotations

import io
import json
import random
import shutil
from pathlib import Path

import polars as pl

from mhgraph.pseudonymise import META_SUFFIX
from mhgraph.spec import load_specs


def _delivered(folder: Path):
    specs = {spec.file: spec for spec in load_specs()}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name in specs:
            yield path, specs[path.name]


def copy_delivered(source: Path, target: Path, without_partner: str | None = None) -> Path:
    """``source``'s extracts and sidecars, without those of ``without_partner``."""
    target.mkdir(parents=True)
    for path, spec in _delivered(source):
        if spec.partner != without_partner:
            shutil.copy(path, target / path.name)
            shutil.copy(str(path) + META_SUFFIX, str(target / path.name) + META_SUFFIX)
    return target


def copy_with_changed_rows(source: Path, target: Path, share: float, seed: int) -> Path:
    """``source``'s extracts with ``share`` of the rows of every CSV extract changed: half of
    them dropped, half delivered again under a new record id. Sidecar row counts follow."""
    target.mkdir(parents=True)
    rng = random.Random(seed)
    for path, spec in _delivered(source):
        meta = json.loads(Path(str(path) + META_SUFFIX).read_text(encoding="utf-8"))
        if path.suffix != ".csv":
            shutil.copy(path, target / path.name)
        else:
            encoding = spec.encoding or "utf-8"
            frame = pl.read_csv(io.StringIO(path.read_bytes().decode(encoding)), separator=spec.delimiter or ",",
                                infer_schema=False)
            changed = rng.sample(range(frame.height), round(frame.height * share))
            dropped, rekeyed = changed[: len(changed) // 2], changed[len(changed) // 2:]
            frame = (
                frame.with_row_index("_row")
                .with_columns(pl.when(pl.col("_row").is_in(rekeyed)).then(pl.col(spec.record_id) + "N")
                              .otherwise(pl.col(spec.record_id)).alias(spec.record_id))
                .filter(~pl.col("_row").is_in(dropped))
                .drop("_row")
            )
            (target / path.name).write_bytes(frame.write_csv(separator=spec.delimiter or ",").encode(encoding))
            meta["rows"] = frame.height
        Path(str(target / path.name) + META_SUFFIX).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return target
