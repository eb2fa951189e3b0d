"""The delivered synthetic extracts keep their contract: the specs, the sidecars, no plaintext,
the mention rule of docs/tables.md, byte-identical output per seed."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import polars as pl
import pytest

from mhgraph.cli import main
from mhgraph.normalise import parse_date
from mhgraph.pseudonymise import NAME_HARDENING, read_meta
from mhgraph.spec import PURPOSES
from mhgraph.synth import synthesize, synthetic_key
from synth_helpers import SEED, SPECS, expected_mentions, read_delivered, synthetic_set

HEX32 = re.compile(r"^[0-9a-f]{32}$")
ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SAMPLE_SEED = 20261127


def _check_against_spec(folder: Path, spec, fingerprint: str) -> pl.DataFrame:
    frame = read_delivered(folder, spec)
    kinds = spec.delivered_columns
    assert frame.columns == list(kinds), f"{spec.file}: columns differ from the spec"
    assert frame.height > 0, f"{spec.file} is empty"
    ids = frame[spec.record_id]
    assert ids.null_count() == 0 and ids.n_unique() == frame.height, f"{spec.file}: record ids not unique"
    for name, column in kinds.items():
        values = frame[name].drop_nulls().to_list()
        if column.required:
            assert frame[name].null_count() == 0, f"{spec.file}.{name} is required"
        if column.kind == "hash":
            assert all(HEX32.match(v) for v in values), f"{spec.file}.{name}: not 32 lower-case hex digits"
        elif column.kind == "bloom":
            assert all(len(v) == 44 and len(base64.b64decode(v, validate=True)) == 32 for v in values), name
        elif column.kind == "date":
            assert all(parse_date(v, column.formats) is not None for v in values), f"{spec.file}.{name}"
        elif column.kind == "category":
            assert set(values) <= set(column.values), f"{spec.file}.{name}: {set(values) - set(column.values)}"
        elif column.kind == "number":
            numbers = [float(v) for v in values]
            assert all(column.minimum is None or x >= column.minimum for x in numbers), name
            assert all(column.maximum is None or x <= column.maximum for x in numbers), name
    meta = read_meta(folder / spec.file)
    assert meta == {"source": spec.name, "partner": spec.partner, "purpose": spec.purpose,
                    "run_purpose": "riec_integral_assessment", "name_hardening": NAME_HARDENING, "rows": frame.height,
                    "key_fingerprint": fingerprint, "created": meta["created"]}
    assert spec.purpose in PURPOSES
    return frame


@pytest.mark.parametrize("name", sorted(SPECS))
def test_each_delivered_extract_matches_its_spec(name):
    folder, _ = synthetic_set()
    spec = SPECS[name]
    _check_against_spec(folder, spec, synthetic_key(SEED).fingerprint)
    # Categories with several values, and mapped codes where the spec maps them.
    frame = read_delivered(folder, spec)
    for column_name, column in spec.columns.items():
        if column.kind == "category" and frame.height >= 100:
            assert frame[column_name].drop_nulls().n_unique() >= 2, f"{name}.{column_name} has one value only"


def test_file_formats_follow_the_specs():
    folder, _ = synthetic_set()
    emmen = (folder / "gemeente_emmen_vergunningen.csv").read_bytes()
    emmen.decode("cp1252")
    assert emmen.split(b"\n")[0].count(b";") == len(SPECS["gemeente_emmen_vergunningen"].delivered_columns) - 1
    assert (folder / "gemeente_eindhoven_vergunningen.xlsx").read_bytes()[:2] == b"PK"
    for spec in SPECS.values():
        if spec.date_formats == ("%d-%m-%Y",):
            dates = read_delivered(folder, spec)["besluitdatum"].drop_nulls()
            assert dates.str.contains(r"^\d{2}-\d{2}-\d{4}$").all()


def test_plaintext_dates_mix_the_formats_a_spec_lists():
    folder, _ = synthetic_set()
    for spec in SPECS.values():
        plain = pl.read_parquet(folder / "truth" / "plaintext" / f"{spec.name}.parquet")
        for name, column in spec.columns.items():
            if column.kind != "date":
                continue
            values = plain[name].drop_nulls().to_list()
            used = {next(f for f in spec.date_formats if parse_date(v, (f,)) is not None) for v in values}
            assert used <= set(spec.date_formats)
            if len(spec.date_formats) > 1 and len(values) > 200:
                assert len(used) == len(spec.date_formats), f"{spec.name}.{name} uses only {used}"


def test_no_plaintext_identifier_reaches_a_delivered_file():
    folder, _ = synthetic_set()
    secrets = set()
    for spec in SPECS.values():
        plain = pl.read_parquet(folder / "truth" / "plaintext" / f"{spec.name}.parquet")
        for block in spec.entities:
            for field, column in block.plaintext.items():
                # A house number identifies only with its postcode, a birth date only with a name
                # (and coincides with other dates); neither column is delivered (spec check above).
                if field not in ("house_number", "addition", "birth_date"):
                    secrets.update(plain[column].drop_nulls().to_list())
    persons = pl.read_parquet(folder / "truth" / "persons.parquet")
    secrets.update(persons["bsn"].to_list() + persons["given_name"].to_list() + persons["family_name"].to_list())
    postcodes = pl.read_parquet(folder / "truth" / "addresses.parquet")["postcode"].to_list()
    for spec in SPECS.values():
        frame = read_delivered(folder, spec)
        cells = {v for column in frame.columns for v in frame[column].drop_nulls().to_list()}
        leaked = cells & secrets
        assert not leaked, f"{spec.file} holds plaintext identifiers, e.g. {sorted(leaked)[:3]}"
        text = (folder / spec.file).read_bytes().decode(spec.encoding or "utf-8", errors="replace") \
            if spec.file.endswith(".csv") else ""
        assert not any(pc in text for pc in postcodes), f"{spec.file} holds a postcode"


def test_truth_mentions_follow_the_rule_and_match_the_delivered_rows():
    folder, _ = synthetic_set()
    mentions = pl.read_parquet(folder / "truth" / "mentions.parquet")
    assert mentions.columns == ["mention_id", "source", "record_id", "role", "entity_type", "entity_id"]
    assert mentions["mention_id"].n_unique() == mentions.height
    rebuilt = mentions.select(pl.concat_str(["source", "record_id", "role"], separator="/"))
    assert rebuilt.to_series().to_list() == mentions["mention_id"].to_list()
    assert set(mentions["mention_id"]) == expected_mentions(folder)
    kinds = mentions.select(pl.col("entity_id").str.extract(r"^(\w+):"), "entity_type").unique()
    assert all(a == b for a, b in kinds.iter_rows())
    known = set()
    for table in ("persons", "companies", "addresses"):
        known.update(pl.read_parquet(folder / "truth" / f"{table}.parquet")["entity_id"])
    others = mentions.filter(pl.col("entity_type") != "permit")["entity_id"]
    assert set(others) <= known


def test_permit_ids_are_unique_across_municipalities():
    folder, _ = synthetic_set()
    permits = pl.read_parquet(folder / "truth" / "mentions.parquet").filter(pl.col("entity_type") == "permit")
    parts = permits.select(pl.col("entity_id").str.split(":").list.get(1).alias("partner"),
                           pl.col("entity_id").str.split(":").list.get(2).alias("number"),
                           pl.col("source"))
    assert parts["partner"].n_unique() == 3
    assert (parts["source"].str.starts_with(parts["partner"])).all()
    numbers = parts.unique(["partner", "number"])
    assert numbers["number"].n_unique() == numbers.height, "a permit number is used by two municipalities"


def test_mentions_are_what_ingest_produces():
    from mhgraph.ingest import ingest
    folder, _ = synthetic_set()
    result = ingest(folder)
    assert result.quarantine.height == 0, result.quarantine.head(5)
    truth = pl.read_parquet(folder / "truth" / "mentions.parquet")
    assert set(result.mentions["mention_id"]) == set(truth["mention_id"])


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_the_same_bytes_and_another_seed_other_bytes(tmp_path):
    first = _digests(synthetic_set(800, 3)[0])
    synthesize(tmp_path / "again", persons=800, seed=3)
    synthesize(tmp_path / "other", persons=800, seed=4)
    assert _digests(tmp_path / "again") == first
    other = _digests(tmp_path / "other")
    assert set(other) == set(first)
    assert any(name.endswith(".xlsx") for name in first)
    changed = [name for name in first if not name.endswith(".meta.json") and other[name] != first[name]]
    assert len(changed) == len([n for n in first if not n.endswith(".meta.json")])


def test_cli_writes_a_set_and_refuses_bad_arguments(tmp_path, capsys):
    assert main(["-q", "synth", "--persons", "400", "--seed", "2", "--networks", "1", "--lookalikes", "0",
                 "--noise", "low", "--out", str(tmp_path / "set")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["networks"] == {"planted": 9, "decoys": 0, "per_typology": 1, "per_lookalike_kind": 0}
    assert pl.read_parquet(tmp_path / "set" / "truth" / "networks.parquet")["network_id"].n_unique() == 9
    assert summary["rows"]["ind_referenten.csv"] == read_delivered(tmp_path / "set", SPECS["ind_referenten"]).height
    assert main(["-q", "synth", "--out", str(tmp_path / "bad"), "--noise", "loud"]) == 2
    assert "noise level" in capsys.readouterr().err
    assert main(["-q", "synth", "--out", str(tmp_path / "tiny"), "--persons", "50"]) == 2
    assert "too small" in capsys.readouterr().err


def test_committed_sample_matches_the_specs():
    if not SAMPLE.is_dir() or not any(SAMPLE.glob("*.meta.json")):
        pytest.fail("data/sample is missing: regenerate it with the command in data/sample/README.md")
    for spec in SPECS.values():
        _check_against_spec(SAMPLE, spec, synthetic_key(SAMPLE_SEED).fingerprint)
    total = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert total < 8 * 2**20, f"data/sample is {total / 2**20:.1f} MB"
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    assert f"mhgraph synth --persons 5000 --seed {SAMPLE_SEED} --noise medium --out data/sample" in readme
    for spec in SPECS.values():  # the README's row counts are those of the files
        line = next(x for x in readme.splitlines() if x.startswith(f"| `{spec.file}` |"))
        assert f"| {read_meta(SAMPLE / spec.file)['rows']:,} |" in line, line


@pytest.mark.slow
def test_committed_sample_regenerates_byte_for_byte(tmp_path):
    synthesize(tmp_path, persons=5000, seed=SAMPLE_SEED, noise="medium")
    fresh = _digests(tmp_path)
    committed = {k: v for k, v in _digests(SAMPLE).items() if k != "README.md"}
    assert committed == fresh
