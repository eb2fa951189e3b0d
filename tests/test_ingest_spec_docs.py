"""The worked example of docs/source-specs.md works as written: a new partner is a TOML file."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from mhgraph.ingest import ingest
from mhgraph.pseudonymise import pseudonymise
from mhgraph.spec import COLUMN_KINDS, ENTITY_FIELDS, find_spec, specs

DOC = Path(__file__).resolve().parents[1] / "docs" / "source-specs.md"


def _block(language: str, starting: str) -> str:
    """The first fenced code block in ``language`` whose text starts with ``starting``."""
    blocks, current, current_language = [], None, None
    for line in DOC.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("```"):
            if current is None:
                current, current_language = [], line[3:].strip()
            else:
                blocks.append((current_language, "".join(current)))
                current = None
        elif current is not None:
            current.append(line)
    return next(text for lang, text in blocks if lang == language and text.startswith(starting))


def test_worked_example_pseudonymises_and_ingests(tmp_path):
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    (spec_dir / "gemeente_venlo_vergunningen.toml").write_text(_block("toml", "# Municipality of Venlo"),
                                                               encoding="utf-8")
    spec = find_spec("gemeente_venlo_vergunningen", spec_dir)
    assert specs(spec_dir).row(0)[:2] == ("gemeente_venlo_vergunningen", "gemeente_venlo")
    export = _block("", "Zaak;Soort")
    (tmp_path / "export_venlo.csv").write_bytes(export.encode("cp1252"))
    key_file = tmp_path / "shared.key"
    key_file.write_text("a shared key of the worked example, 32+")
    delivered = pseudonymise(tmp_path / "export_venlo.csv", spec, tmp_path / "delivery", key_file=key_file,
                             created="2025-01-15")
    text = delivered.read_text(encoding="cp1252")
    assert "123456782" not in text and "de Vries" not in text and "5911" not in text
    result = ingest(tmp_path / "delivery", specs=spec_dir)
    assert result.summary["sources"][0]["rows_accepted"] == 1
    mentions = result.mentions.sort("role")
    assert mentions.select("role", "entity_type").rows() == [
        ("beheerder", "person"), ("houder", "company"), ("pand", "address"), ("vergunning", "permit")]
    permit = mentions.filter(pl.col("role") == "vergunning").row(0, named=True)
    assert (permit["permit_type"], permit["permit_status"], str(permit["decided_on"])) == (
        "massagesalon", "verleend", "2024-04-03")
    assert mentions.filter(pl.col("role") == "pand")["municipality"].item() == "Venlo"
    # all name words, which the example's spec does not name, are delivered under their default column
    assert "beheerder_names_bf" in text.splitlines()[0].split(";")
    assert mentions.filter(pl.col("role") == "beheerder")["names_bf"].null_count() == 0
    assert sorted(result.relations["type"]) == ["HOLDS_PERMIT", "LOCATED_AT", "MANAGES"]


def test_the_document_names_every_kind_and_field():
    text = DOC.read_text(encoding="utf-8")
    for kind in COLUMN_KINDS:
        assert f"| `{kind}` |" in text
    for fields in ENTITY_FIELDS.values():
        for name in fields:
            assert f"`{name}`" in text
