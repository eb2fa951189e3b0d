"""docs/tables.md names every column of every table a run writes under tables/."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from mhgraph.resolve.pipeline import MATCHES_SCHEMA

DOC = Path(__file__).resolve().parents[1] / "docs" / "tables.md"


def _sections() -> dict[str, str]:
    """Table name -> the text of its section (``## `nodes` and `edges` — ...`` serves both)."""
    sections = {}
    for section in DOC.read_text(encoding="utf-8").split("\n## ")[1:]:
        for name in re.findall(r"`(\w+)`", section.splitlines()[0].split("—")[0]):
            sections[name] = section
    return sections


def test_every_column_of_every_stage_table_is_in_docs_tables(sample_export):
    out, _ = sample_export
    sections = _sections()
    undocumented = {}
    for path in sorted((out / "tables").glob("*.parquet")):
        columns = list(pl.read_parquet_schema(path))
        if path.stem == "matches":  # its comparison columns follow the settings; the doc names them by kind
            columns = [c for c in columns if c in MATCHES_SCHEMA]
        # named in the prose or a table's leading cells; a name inside another column's meaning does not count
        section = re.sub(r"^(\|.*\|)[^|]*\|$", r"\1", sections.get(path.stem, ""), flags=re.MULTILINE)
        named = set(re.findall(r"`(\w+)`", section))
        undocumented[path.stem] = [c for c in columns if c not in named]
    assert len(undocumented) >= 10 and {t: c for t, c in undocumented.items() if c} == {}
