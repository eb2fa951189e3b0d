"""Data minimisation: only what a stage reads is delivered; protected attributes never are.

Runs over every shipped spec, through ``mhgraph pseudonymise`` on plaintext files that carry
more than the spec needs (nationality, country of birth, street), through ingest of a delivery
that still carries a protected column, and over every delivered extract of ``data/sample``.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from ingest_helpers import KEY, deliver, plain_referenten

from mhgraph import spec as spec_module
from mhgraph.cli import main
from mhgraph.ingest import ingest
from mhgraph.ingest.readers import open_extract
from mhgraph.pseudonymise import pseudonymise, pseudonymise_frame
from mhgraph.spec import SPEC_DIR, SpecError, load_spec, load_specs, protected_attribute
from mhgraph.synth.vocabulary import load_vocabulary

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
EXTRA = {"nationaliteit": "Oekraïense", "geboorteland": "Oekraïne", "straat": "Kerkstraat",
         "godsdienst": "geen", "opmerking": "vrije tekst"}


def _plaintext_for(spec) -> pl.DataFrame:
    """Two rows holding every column the partner has for ``spec``, plus the EXTRA columns."""
    names = {spec.record_id}
    names |= {c for block in spec.entities for c in block.plaintext.values()}
    names |= set(spec.columns)
    names |= {c for c in spec.delivered_columns if not any(c in b.fields.values() for b in spec.entities
                                                            if b.plaintext)}
    frame = {name: ["Jansen", "1990-05-04"] for name in sorted(names)}
    frame.update({name: [value, value] for name, value in EXTRA.items()})
    return pl.DataFrame(frame)


@pytest.mark.parametrize("spec", load_specs(), ids=lambda s: s.name)
def test_every_shipped_spec_delivers_exactly_the_columns_a_stage_reads(spec):
    assert set(spec.delivered_columns) == spec.used_columns
    for name, column in spec.delivered_columns.items():
        assert protected_attribute(name) is None and column.protected is None, name
    delivered = pseudonymise_frame(_plaintext_for(spec), spec, KEY)
    assert delivered.columns == list(spec.delivered_columns)
    assert not set(EXTRA) & set(delivered.columns)
    assert "Oekraïense" not in str(delivered.rows())


def _special_category_words() -> set[str]:
    """Words that would give a protected attribute away in a readable cell: every nationality as
    the IND writes it (the generator's own list), and words of the other special categories."""
    adjectives = {a.lower() for a in load_vocabulary().nationalities.adjective}
    return adjectives | {"islam", "moslim", "christ", "katholiek", "protestant", "joods", "hindoe", "boeddh",
                         "zwanger", "ziek", "arbeidsongeschikt", "handicap", "vakbond", "homoseks", "etnisch"}


def test_no_delivered_extract_of_the_sample_holds_a_protected_attribute():
    """Scans every cell of every delivered extract: pseudonymous columns hold only keyed hashes
    or filters, and no readable cell holds a nationality or another special category, although
    a tenth of the persons in those extracts are not Dutch and the IND holds their nationality."""
    words = _special_category_words()
    persons = pl.read_parquet(SAMPLE / "truth" / "persons.parquet")
    truth_mentions = pl.read_parquet(SAMPLE / "truth" / "mentions.parquet")
    foreign = persons.filter(pl.col("entity_id").is_in(truth_mentions["entity_id"].implode())
                             & (pl.col("nationality") != "NL"))
    assert foreign.height > 100  # the scan has something to find
    delivered = [p for p in SAMPLE.iterdir() if p.suffix in (".csv", ".xlsx")]
    assert len(delivered) == 8
    for path in delivered:
        meta = json.loads(Path(f"{path}.meta.json").read_text(encoding="utf-8"))
        spec = load_spec(SPEC_DIR / f"{meta['source']}.toml")
        extract = open_extract(path, spec)
        assert extract.header == list(spec.delivered_columns), path.name
        assert not [c for c in extract.header if protected_attribute(c)], path.name
        frame = pl.concat([batch.frame for batch in extract.batches(extract.header)])
        assert frame.height == meta["rows"]
        for name, column in spec.delivered_columns.items():
            values = frame[name].drop_nulls()
            if column.kind in ("hash", "bloom"):
                form = r"^[0-9a-f]{32}$" if column.kind == "hash" else r"^[A-Za-z0-9+/]{43}=$"
                assert values.str.contains(form).all(), (path.name, name)
                continue
            readable = values.str.to_lowercase()
            leaked = [w for w in words if readable.str.contains(w, literal=True).any()]
            assert not leaked, (path.name, name, leaked)


def _write_spec(folder: Path, extra_toml: str) -> Path:
    text = (SPEC_DIR / "ind_verblijfsvergunningen.toml").read_text(encoding="utf-8")
    path = folder / "ind_verblijfsvergunningen.toml"
    path.write_text(text.replace("[columns]\n", "[columns]\n" + extra_toml), encoding="utf-8")
    return path


@pytest.mark.parametrize("column", [
    'nationaliteit = { kind = "text" }',
    'vreemdeling_geboorteland = { kind = "category", values = ["NL"] }',
    'code_b = { kind = "text", protected = "religion" }',
    'etniciteit = { kind = "text", lawful_use = "anything" }',
    'vreemdeling_medische_keuring = { kind = "category", values = ["ja", "nee"] }',
    'lid_vakbond = { kind = "category", values = ["ja", "nee"] }',
])
def test_the_spec_loader_refuses_a_protected_attribute_without_a_documented_lawful_use(tmp_path, column):
    with pytest.raises(SpecError, match="protected attribute .*no documented lawful use"):
        load_spec(_write_spec(tmp_path, column + "\n"))


def test_a_protected_attribute_named_only_in_a_relation_property_is_refused(tmp_path):
    path = _write_spec(tmp_path, "")
    text = path.read_text(encoding="utf-8").replace(
        'properties = { permit_purpose = "verblijfsdoel" }',
        'properties = { permit_purpose = "verblijfsdoel", origin = "land_van_herkomst" }')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match="'land_van_herkomst' holds a protected attribute \\(country_of_birth\\)"):
        load_spec(path)


def test_a_declared_protected_kind_must_be_known(tmp_path):
    with pytest.raises(SpecError, match="protected must be one of nationality"):
        load_spec(_write_spec(tmp_path, 'code_b = { kind = "text", protected = "hair colour" }\n'))


def test_only_a_documented_lawful_use_for_that_very_attribute_lets_a_spec_name_it(tmp_path, monkeypatch):
    """The mechanism a future, documented use would go through; the register is empty today."""
    assert spec_module.LAWFUL_PROTECTED_USES == {}
    monkeypatch.setitem(spec_module.LAWFUL_PROTECTED_USES, "statistics_art_9_2_j",
                        ("nationality", "AVG art. 9(2)(j), statistics only"))
    loaded = load_spec(_write_spec(tmp_path, 'nationaliteit = { kind = "text", lawful_use = "statistics_art_9_2_j" }\n'))
    assert "nationaliteit" not in loaded.delivered_columns  # declared, still read by no stage
    with pytest.raises(SpecError, match="protected attribute"):
        load_spec(_write_spec(tmp_path, 'godsdienst = { kind = "text", lawful_use = "statistics_art_9_2_j" }\n'))


def test_pseudonymise_cli_drops_nationality_and_every_unused_column(tmp_path):
    spec = load_spec(SPEC_DIR / "ind_verblijfsvergunningen.toml")
    plain = tmp_path / "ind_verblijfsvergunningen.csv"
    _plaintext_for(spec).write_csv(plain)
    (tmp_path / "k").write_text("a partner key of at least sixteen bytes\n")
    assert main(["--quiet", "pseudonymise", str(plain), "--spec", spec.name,
                 "--key-file", str(tmp_path / "k"), "--out", str(tmp_path / "out")]) == 0
    delivered = (tmp_path / "out" / "ind_verblijfsvergunningen.csv").read_text(encoding="utf-8")
    assert delivered.splitlines()[0].split(",") == list(spec.delivered_columns)
    for word in ("nationaliteit", "Oekraïense", "geboorteland", "Kerkstraat", "godsdienst"):
        assert word not in delivered


def test_pseudonymise_warns_of_a_declared_column_no_stage_reads(tmp_path, caplog):
    """A required column no entity or relation names is dropped like any other: the partner is told.
    A plaintext input declared there is read and encoded, so not called unread; its rules do not apply."""
    spec = load_spec(_write_spec(tmp_path, 'datum_controle = { kind = "date", required = true }\n'
                                           'vreemdeling_achternaam = { kind = "text", required = true }\n'))
    plain = tmp_path / "ind_verblijfsvergunningen.csv"
    _plaintext_for(spec).write_csv(plain)
    (tmp_path / "k").write_text("a partner key of at least sixteen bytes\n")
    with caplog.at_level("WARNING", logger="mhgraph"):
        pseudonymise(plain, spec, tmp_path / "out", key_file=tmp_path / "k")
    assert [r.getMessage() for r in caplog.records if "[columns]" in r.getMessage()] == [
        "ind_verblijfsvergunningen: column(s) declared in [columns] that no entity field or relation reads, so "
        "neither checked nor delivered: datum_controle",
        "ind_verblijfsvergunningen: plaintext input column(s) declared in [columns], encoded; `[columns]` rules do "
        "not apply to plaintext inputs: vreemdeling_achternaam"]


def test_ingest_does_not_read_a_protected_column_an_old_delivery_still_carries(tmp_path):
    path = deliver(tmp_path, "ind_referenten", plain_referenten())
    frame = pl.read_csv(path, infer_schema=False).with_columns(nationaliteit=pl.lit("Poolse"))
    frame.write_csv(path)
    result = ingest(tmp_path)
    report = result.summary["sources"][0]
    assert any("protected attribute (nationality)" in w for w in report["warnings"])
    assert report["rows_accepted"] == frame.height
    assert "Poolse" not in str(result.mentions.rows()) + str(result.relations.rows())
