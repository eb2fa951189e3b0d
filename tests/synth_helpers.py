"""Shared by the synthetic-data tests: one small generated data set per process, and readers
that look at it the way a recipient would (delivered files + truth), not at generator internals."""

from __future__ import annotations

import functools
import io
import tempfile
from pathlib import Path

import polars as pl

from mhgraph.spec import IDENTIFYING_FIELDS, SourceSpec, load_specs
from mhgraph.synth import synthesize

PERSONS = 1200
SEED = 11
SPECS = {spec.name: spec for spec in load_specs()}


@functools.cache
def synthetic_set(persons: int = PERSONS, seed: int = SEED, noise: str = "medium") -> tuple[Path, dict]:
    """Generate once per process; the folder lives until the test run ends."""
    out = Path(tempfile.mkdtemp(prefix=f"synth-{persons}-{seed}-{noise}-"))
    return out, synthesize(out, persons=persons, seed=seed, noise=noise)


def read_delivered(folder: Path, spec: SourceSpec) -> pl.DataFrame:
    """A delivered extract as text columns, read with the spec's format, delimiter and encoding."""
    path = folder / spec.file
    if path.suffix == ".xlsx":
        return pl.read_excel(path, infer_schema_length=0)
    text = path.read_bytes().decode(spec.encoding or "utf-8")
    return pl.read_csv(io.StringIO(text), separator=spec.delimiter or ",", infer_schema_length=0)


def expected_mentions(folder: Path) -> set[str]:
    """Mention ids by the rule of docs/tables.md, from the delivered files alone."""
    out = set()
    for spec in SPECS.values():
        frame = read_delivered(folder, spec)
        for block in spec.entities:
            columns = [block.fields[f] for f in IDENTIFYING_FIELDS[block.type] if f in block.fields]
            present = frame.select(pl.any_horizontal([pl.col(c).is_not_null() & (pl.col(c) != "") for c in columns]))
            ids = frame.filter(present.to_series().fill_null(False))[spec.record_id]
            out.update(f"{spec.name}/{r}/{block.role}" for r in ids)
    return out


def relations(folder: Path) -> pl.DataFrame:
    """Every relation the delivered rows state, with both ends as true entities (via truth/mentions)."""
    mentions = pl.read_parquet(folder / "truth" / "mentions.parquet")
    entity = dict(zip(mentions["mention_id"], mentions["entity_id"]))
    rows = []
    for spec in SPECS.values():
        for record in read_delivered(folder, spec)[spec.record_id].to_list():
            for rel in spec.relations:
                a = entity.get(f"{spec.name}/{record}/{rel.from_role}")
                b = entity.get(f"{spec.name}/{record}/{rel.to_role}")
                if a and b:
                    rows.append((spec.name, spec.partner, record, rel.type, a, b))
    return pl.DataFrame(rows, schema=["source", "partner", "record_id", "type", "from_entity", "to_entity"],
                        orient="row")
