"""All name words (names_bf) are delivered by default and optional in the extract: extracts
delivered before a spec named the column run as they did, new ones carry it."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from mhgraph.crypto import dice
from mhgraph.ingest import ingest
from mhgraph.pseudonymise import pseudonymise, template
from mhgraph.spec import SpecError, find_spec, load_spec, load_specs

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
KEY_TEXT = "a shared key of the optional-column tests, 32+"


def _copy_sample(out: Path, change) -> Path:
    """data/sample with ``change(frame)`` applied to every CSV extract (sidecars as delivered)."""
    out.mkdir()
    layouts = {spec.file: spec for spec in load_specs()}
    for path in SAMPLE.iterdir():
        if path.suffix == ".csv":  # written back in the spec's delimiter and encoding
            spec = layouts[path.name]
            encoding, separator = spec.encoding or "utf-8", spec.delimiter or ","
            frame = pl.read_csv(io.StringIO(path.read_text(encoding=encoding)), separator=separator,
                                infer_schema=False)
            (out / path.name).write_bytes(change(frame).write_csv(separator=separator).encode(encoding))
        elif path.is_file() and path.name != "README.md":
            shutil.copy(path, out / path.name)
    return out


def _names_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.endswith("_names_bf")]


def _run(delivery: Path, out: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mhgraph.cli", "--quiet", "run", str(delivery), "--out", str(out)],
                          cwd=out.parent, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "MHGRAPH_AUDIT_LOG": str(out.parent / "audit.log")})
    assert done.returncode == 0, done.stderr


def test_the_shipped_sample_carries_all_names_for_every_named_person():
    result = ingest(SAMPLE)
    assert not [w for s in result.summary["sources"] for w in s["warnings"] if "absent" in w]
    persons = result.mentions.filter(pl.col("entity_type") == "person")
    named = persons.filter(pl.col("given_name_bf").is_not_null() | pl.col("family_name_bf").is_not_null())
    assert named.height > 10_000 and named["names_bf"].null_count() == 0


@pytest.mark.slow
def test_an_extract_delivered_without_all_names_runs_end_to_end_as_with_the_column_empty(tmp_path):
    old = _copy_sample(tmp_path / "old", lambda f: f.drop(_names_columns(f)))
    empty = _copy_sample(tmp_path / "empty", lambda f: f.with_columns(pl.lit(None, pl.String).alias(c)
                                                                        for c in _names_columns(f)))
    result = ingest(old)  # the shipped specs name names_bf; these extracts lack it
    assert "names_bf" in load_specs()[0].entity("werknemer").fields
    warned = {s["source"]: [w for w in s["warnings"] if "absent" in w] for s in result.summary["sources"]}
    for spec in load_specs():
        columns = [b.fields["names_bf"] for b in spec.entities if "names_bf" in b.fields]
        if spec.file.endswith(".csv") and columns:  # once per file, naming every absent column
            assert len(warned[spec.name]) == 1 and all(c in warned[spec.name][0] for c in columns)
        else:
            assert warned[spec.name] == []
    assert result.quarantine.height == 0
    _run(old, tmp_path / "old_run")
    _run(empty, tmp_path / "empty_run")
    said = {line.strip() for line in (tmp_path / "old_run" / "summary.md").read_text(encoding="utf-8").splitlines()
            if "_names\\_bf" in line or "_names_bf" in line}
    expected = {f"- `{spec.file}`: `{block.fields['names_bf']}`" for spec in load_specs() if spec.file.endswith(".csv")
                for block in spec.entities if "names_bf" in block.fields}
    assert len(expected) > 3 and said == expected  # in summary.md (Dutch), one line per file and column
    assert not [line for line in (tmp_path / "empty_run" / "summary.md").read_text(encoding="utf-8").splitlines()
                if "names_bf" in line or "names\\_bf" in line]
    for table in ("resolution", "communities"):
        a, b = (pl.read_parquet(tmp_path / run / "tables" / f"{table}.parquet") for run in ("old_run", "empty_run"))
        key = "mention_id" if "mention_id" in a.columns else "entity_id"
        assert a.height > 0 and a.sort(key).equals(b.sort(key))


def test_a_present_names_column_with_a_readable_name_is_quarantined_like_the_other_filters(tmp_path):
    delivery = tmp_path / "delivery"
    delivery.mkdir()
    frame = pl.read_csv(SAMPLE / "kvk_functionarissen.csv", infer_schema=False)
    frame.with_columns(functionaris_names_bf=pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("Jan de Vries"))
                       .otherwise(pl.col("functionaris_names_bf"))).write_csv(delivery / "kvk_functionarissen.csv")
    shutil.copy(SAMPLE / "kvk_functionarissen.csv.meta.json", delivery)
    quarantine = ingest(delivery).quarantine
    assert quarantine.select("row_number", "column", "reason").rows() == [
        (4, "functionaris_names_bf", "plaintext_identifier")]


def _new_register_spec(folder: Path, names: str = "") -> Path:
    """A spec written for a new register the way docs/source-specs.md shows, naming no names_bf."""
    folder.mkdir(exist_ok=True)
    path = folder / "gemeente_venlo_registratie.toml"
    path.write_text(f'''name = "gemeente_venlo_registratie"
partner = "gemeente_venlo"
purpose = "administrative_supervision"
file = "gemeente_venlo_registratie.csv"
record_id = "Zaak"

[columns]
Gezien = {{ kind = "date", optional = true }}

[[entities]]
role = "beheerder"
type = "person"
fields = {{ given_name_bf = "beheerder_voornaam_bf", family_name_bf = "beheerder_achternaam_bf", birth_date_bf = "beheerder_geboren_bf"{names} }}
plaintext = {{ given_name = "Voornaam", family_name = "Achternaam", birth_date = "Geboren" }}

[[entities]]
role = "pand"
type = "address"
fields = {{ address_key = "pand_sleutel" }}
plaintext = {{ postcode = "Postcode", house_number = "Huisnr" }}

[[relations]]
type = "LOCATED_AT"
from = "beheerder"
to = "pand"
valid_from = "Gezien"
''', encoding="utf-8")
    return path


def test_a_spec_template_filled_in_delivers_all_names_under_the_default_column(tmp_path):
    spec_path = _new_register_spec(tmp_path / "specs")
    plain = template(spec_path, tmp_path / "venlo.csv")
    with plain.open("a", encoding="utf-8") as out:
        out.write("Z1;Vries;Jan;1980-05-02;5911AB;12;2024-04-03\nZ2;Jan;de Vries;1980-05-02;5911AB;12;\n")
    assert plain.read_text(encoding="utf-8-sig").splitlines()[0] == \
        "Zaak;Voornaam;Achternaam;Geboren;Postcode;Huisnr;Gezien"
    key = tmp_path / "shared.key"
    key.write_text(KEY_TEXT)
    delivered = pseudonymise(plain, spec_path, tmp_path / "delivery", key_file=key, created="2025-01-15")
    assert "beheerder_names_bf" in pl.read_csv(delivered, infer_schema=False).columns
    mentions = ingest(tmp_path / "delivery", specs=tmp_path / "specs").mentions.filter(pl.col("role") == "beheerder")
    # the names written in each other's field: the fields differ, all name words agree
    assert dice(*mentions["given_name_bf"]) < 0.5 < 0.75 <= dice(*mentions["names_bf"])


def test_a_declared_optional_column_may_be_absent_and_its_relation_date_stays_empty(tmp_path):
    spec_path = _new_register_spec(tmp_path / "specs")
    plain = tmp_path / "venlo.csv"
    plain.write_text("Zaak;Voornaam;Achternaam;Geboren;Postcode;Huisnr;Gezien\nZ1;Jan;Vries;1980-05-02;5911AB;12;"
                     "2024-04-03\n", encoding="utf-8")
    key = tmp_path / "shared.key"
    key.write_text(KEY_TEXT)
    delivered = pseudonymise(plain, spec_path, tmp_path / "delivery", key_file=key, created="2025-01-15")
    pl.read_csv(delivered, infer_schema=False).drop("Gezien", "beheerder_names_bf").write_csv(delivered)
    result = ingest(tmp_path / "delivery", specs=tmp_path / "specs")
    [warning] = [w for w in result.summary["sources"][0]["warnings"] if "absent" in w]
    assert "Gezien" in warning and "beheerder_names_bf" in warning
    assert result.relations["valid_from"].to_list() == [None]
    assert result.mentions["names_bf"].null_count() == 2


def test_a_column_the_spec_requires_is_still_refused_when_absent(tmp_path):
    spec_path = _new_register_spec(tmp_path / "specs")
    plain = tmp_path / "venlo.csv"
    plain.write_text("Zaak;Voornaam;Achternaam;Geboren;Postcode;Huisnr;Gezien\nZ1;Jan;Vries;;5911AB;12;\n",
                     encoding="utf-8")
    key = tmp_path / "shared.key"
    key.write_text(KEY_TEXT)
    delivered = pseudonymise(plain, spec_path, tmp_path / "delivery", key_file=key, created="2025-01-15")
    pl.read_csv(delivered, infer_schema=False).drop("beheerder_geboren_bf").write_csv(delivered)
    with pytest.raises(Exception, match="missing column.*beheerder_geboren_bf"):
        ingest(tmp_path / "delivery", specs=tmp_path / "specs")


def test_a_spec_may_name_the_names_column_itself_and_a_default_name_taken_is_refused(tmp_path):
    named = load_spec(_new_register_spec(tmp_path / "a", ', names_bf = "beheerder_namen_bf"'))
    assert named.entity("beheerder").fields["names_bf"] == "beheerder_namen_bf"
    assert find_spec(_new_register_spec(tmp_path / "b")).entity("beheerder").fields["names_bf"] == "beheerder_names_bf"
    taken = _new_register_spec(tmp_path / "c", ', match_key_1 = "beheerder_names_bf"')
    with pytest.raises(SpecError, match="default column 'beheerder_names_bf'"):
        load_spec(taken)


def test_a_block_whose_names_serve_only_its_match_keys_gets_no_names_filter(tmp_path):
    keys_only = _new_register_spec(tmp_path / "keys").read_text(encoding="utf-8").replace(
        'given_name_bf = "beheerder_voornaam_bf", family_name_bf = "beheerder_achternaam_bf", '
        'birth_date_bf = "beheerder_geboren_bf"', 'match_key_1 = "beheerder_sleutel_1"')
    path = tmp_path / "keys" / "gemeente_venlo_registratie.toml"
    path.write_text(keys_only, encoding="utf-8")
    spec = load_spec(path)
    assert spec.entity("beheerder").fields == {"match_key_1": "beheerder_sleutel_1"}
    assert "beheerder_names_bf" not in spec.delivered_columns
    # a family-name filter alone is a name filter delivered: all name words come with it
    family_only = _new_register_spec(tmp_path / "family").read_text(encoding="utf-8").replace(
        'given_name_bf = "beheerder_voornaam_bf", ', "")
    (tmp_path / "family" / "gemeente_venlo_registratie.toml").write_text(family_only, encoding="utf-8")
    assert "names_bf" in load_spec(tmp_path / "family" / "gemeente_venlo_registratie.toml").entity("beheerder").fields


def test_the_default_names_column_taken_by_a_relation_property_is_refused(tmp_path):
    path = _new_register_spec(tmp_path / "specs")
    path.write_text(path.read_text(encoding="utf-8") + 'properties = { kenmerk = "beheerder_names_bf" }\n',
                    encoding="utf-8")
    with pytest.raises(SpecError, match="default column 'beheerder_names_bf'"):
        load_spec(path)


@pytest.mark.parametrize(("flags", "message"), [
    ('optional = "false"', r"columns\.Gezien\.optional must be true or false, not 'false'"),
    ("required = 1", r"columns\.Gezien\.required must be true or false"),
    ("required = true, optional = true", r"columns\.Gezien is both required and optional"),
])
def test_optional_and_required_must_be_booleans_and_not_both(tmp_path, flags, message):
    path = _new_register_spec(tmp_path / "specs")
    path.write_text(path.read_text(encoding="utf-8").replace("optional = true", flags), encoding="utf-8")
    with pytest.raises(SpecError, match=message) as refused:
        load_spec(path)
    assert str(path) in str(refused.value)


def _opted_out(folder: Path, option: str = "all_names = false", names: str = "") -> Path:
    """The new register's spec with ``option`` in its person block."""
    path = _new_register_spec(folder, names)
    block = 'role = "beheerder"\ntype = "person"\n'
    path.write_text(path.read_text(encoding="utf-8").replace(block, block + option + "\n"), encoding="utf-8")
    return path


def test_a_person_block_may_opt_out_of_all_names_and_delivers_only_its_own_name_filters(tmp_path):
    spec_path = _opted_out(tmp_path / "specs")
    spec = load_spec(spec_path)
    assert "names_bf" not in spec.entity("beheerder").fields and "beheerder_names_bf" not in spec.delivered_columns
    plain = template(spec_path, tmp_path / "venlo.csv")
    with plain.open("a", encoding="utf-8") as out:
        out.write("Z1;Jan;Vries;1980-05-02;5911AB;12;2024-04-03\n")
    key = tmp_path / "shared.key"
    key.write_text(KEY_TEXT)
    delivered = pseudonymise(plain, spec_path, tmp_path / "delivery", key_file=key, created="2025-01-15")
    columns = pl.read_csv(delivered, infer_schema=False).columns
    assert "beheerder_voornaam_bf" in columns and not [c for c in columns if "names" in c]
    result = ingest(tmp_path / "delivery", specs=tmp_path / "specs")
    assert result.summary["sources"][0]["warnings"] == []  # not absent: never asked for
    assert result.mentions.filter(pl.col("role") == "beheerder")["names_bf"].to_list() == [None]


@pytest.mark.parametrize(("option", "names", "message"), [
    ('all_names = "no"', "", r"entities\[\d+\] \(beheerder\): all_names must be true or false"),
    ("all_names = false", ', names_bf = "beheerder_namen_bf"',
     r"entities\[\d+\] \(beheerder\): all_names = false, yet its fields name names_bf"),
])
def test_an_all_names_option_that_contradicts_itself_is_refused(tmp_path, option, names, message):
    with pytest.raises(SpecError, match=message):
        load_spec(_opted_out(tmp_path, option, names))


def test_all_names_is_refused_on_a_block_that_is_not_a_person(tmp_path):
    path = _new_register_spec(tmp_path)
    block = 'role = "pand"\ntype = "address"\n'
    path.write_text(path.read_text(encoding="utf-8").replace(block, block + "all_names = false\n"), encoding="utf-8")
    with pytest.raises(SpecError, match="all_names is an option of person blocks only"):
        load_spec(path)
