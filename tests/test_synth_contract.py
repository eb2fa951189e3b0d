"""docs/data-contract.md says what the specs say: its column tables are written from them."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from mhgraph.contract import MARKER, render_contract, render_section, update_document
from mhgraph.spec import Column, load_specs

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"


def test_the_document_is_up_to_date_with_the_specs():
    text = DOC.read_text(encoding="utf-8")
    _, marker, generated = text.partition(MARKER)
    assert marker, "the marker line is missing from docs/data-contract.md"
    assert generated.strip() == render_contract().strip(), \
        "docs/data-contract.md is stale: run mhgraph.contract.update_document('docs/data-contract.md')"


def test_every_delivered_column_has_a_row_with_its_pseudonymisation():
    for spec in load_specs():
        section = render_section(spec)
        assert f"`{spec.file}`" in section and spec.purpose in section
        rows = {line.split("|")[1].strip().strip("`"): line for line in section.splitlines()
                if line.startswith("| `")}
        assert list(rows) == list(spec.delivered_columns)
        for block in spec.entities:
            for field, column in block.fields.items():
                if field in ("bsn", "v_number", "kvk_number", "wage_tax_number"):
                    assert "HMAC-SHA-256" in rows[column]
                elif field.endswith("_bf"):
                    assert "Bloom filter" in rows[column] and "256 bits" in rows[column]
                elif field in ("address_key", "building_key"):
                    assert "keyed hash of postcode" in rows[column]
    assert "delimiter `;`, encoding `windows-1252`" in render_contract()


def test_a_changed_spec_makes_the_document_stale(tmp_path):
    copy = tmp_path / "contract.md"
    shutil.copy(DOC, copy)
    assert update_document(copy) is False
    specs = load_specs()
    # a new column some stage reads (a relation property); one no stage reads is never delivered
    relation = dataclasses.replace(specs[0].relations[0], properties={**specs[0].relations[0].properties,
                                                                       "remark": "opmerking"})
    changed = dataclasses.replace(specs[0], columns={**specs[0].columns, "opmerking": Column("opmerking", "text")},
                                  relations=(relation, *specs[0].relations[1:]))
    assert update_document(copy, [changed] + specs[1:]) is True
    assert "| `opmerking` |" in copy.read_text(encoding="utf-8")
