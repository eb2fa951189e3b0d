"""Rules a spec states that ingest and the spec loader must hold to: a filled record id, an
existing spec folder, and names that are safe as file names and table values."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from mhgraph.ingest import ingest
from mhgraph.pseudonymise import read_meta
from mhgraph.spec import SPEC_DIR, SpecError, find_spec, load_spec, load_specs, specs

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
EMMEN = "gemeente_emmen_vergunningen.csv"


@pytest.mark.parametrize("name", ["gemeente_emmen_vergunningen", "gemeente_eindhoven_vergunningen"])
def test_a_record_id_that_is_also_a_permit_number_stays_required(name):
    spec = load_spec(SPEC_DIR / f"{name}.toml")
    record_id = spec.delivered_columns[spec.record_id]
    assert (record_id.kind, record_id.required) == ("id", True)
    assert spec.record_id in spec.entity("vergunning").fields.values()


def test_empty_record_ids_are_quarantined_not_turned_into_null_mentions(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    lines = (SAMPLE / EMMEN).read_bytes().split(b"\n")
    for row in (3, 17):  # blank the zaaknummer (first field) of two data rows
        lines[row] = lines[row][lines[row].index(b";"):]
    (folder / EMMEN).write_bytes(b"\n".join(lines))
    shutil.copy(SAMPLE / f"{EMMEN}.meta.json", folder / f"{EMMEN}.meta.json")
    result = ingest(folder)
    assert result.quarantine.select("row_number", "column", "reason").rows() == [
        (3, "zaaknummer", "missing_required"), (17, "zaaknummer", "missing_required")]
    (source,) = result.summary["sources"]
    rows = read_meta(SAMPLE / EMMEN)["rows"]
    assert (source["rows_read"], source["rows_accepted"], source["rows_quarantined"]) == (rows, rows - 2, 2)
    assert result.mentions["mention_id"].null_count() == 0 and result.mentions["mention_id"].is_unique().all()
    assert result.relations["relation_id"].null_count() == 0


def test_a_missing_spec_folder_is_an_error_naming_it(tmp_path):
    missing = tmp_path / "nonexistent"
    for call in (load_specs, specs, lambda folder: find_spec("kvk_functionarissen", folder)):
        with pytest.raises(SpecError, match=rf"{missing}: the spec folder does not exist"):
            call(missing)


def test_a_spec_folder_without_specs_is_an_error(tmp_path):
    (tmp_path / "README.md").write_text("not a spec")
    with pytest.raises(SpecError, match=rf"{tmp_path}: the spec folder holds no \*\.toml spec files"):
        specs(tmp_path)


@pytest.mark.parametrize(("old", "new", "message"), [
    ('name = "ind_referenten"', 'name = "IND/referenten"', r"name 'IND/referenten' must be lower case"),
    ('name = "ind_referenten"', 'name = "ind referenten"', r"name 'ind referenten' must be lower case"),
    ('role = "referent"', 'role = "Referent-1"', r"entities\[0\]\.role 'Referent-1' must be lower case"),
])
def test_spec_names_and_roles_are_lower_case_letters_digits_and_underscores(tmp_path, old, new, message):
    text = (SPEC_DIR / "ind_referenten.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "ind_referenten.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(SpecError, match=message):
        load_spec(path)


def test_every_shipped_spec_name_and_role_is_accepted():
    loaded = load_specs(SPEC_DIR)
    assert len(loaded) == 8
    assert all(pl.Series([s.name, *(b.role for b in s.entities)]).str.contains(r"^[a-z0-9_]+$").all() for s in loaded)
