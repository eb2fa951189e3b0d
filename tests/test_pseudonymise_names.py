"""Delivered file names: a spec whose `file` is a pattern names the output after the input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from mhgraph.crypto import Key, keyed_hash
from mhgraph.errors import InputError
from mhgraph.file_names import identifier_in_name
from mhgraph.ingest import ingest
from mhgraph.pseudonymise import META_SUFFIX, delivered_name, pseudonymise_file, read_meta, write_extract
from mhgraph.spec import SPEC_DIR, load_spec

KEY = Key(b"a test key of at least sixteen bytes")
PLAIN = pl.DataFrame({"referent_id": ["R1"], "referent_kvk_nummer": ["12345678"], "referent_naam": ["Oogst B.V."],
                      "status": ["erkend"], "datum_erkenning": ["2021-03-01"], "datum_wijziging": [None]})


@pytest.fixture()
def pattern_spec(tmp_path):
    text = (SPEC_DIR / "ind_referenten.toml").read_text()
    text = text.replace('file = "ind_referenten.csv"', 'file = "ind_referenten_*.csv"')
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "ind_referenten.toml").write_text(text)
    return folder, load_spec(folder / "ind_referenten.toml")


def test_pattern_spec_names_the_output_after_the_input(tmp_path, pattern_spec):
    specs, spec = pattern_spec
    source = tmp_path / "ind_referenten_2025q1.csv"
    PLAIN.write_csv(source)
    written = pseudonymise_file(source, spec, KEY, tmp_path / "delivered", "2025-04-01")
    assert written.name == "ind_referenten_2025q1.csv"
    assert (tmp_path / "delivered" / "ind_referenten_2025q1.csv.meta.json").is_file()
    assert not list((tmp_path / "delivered").glob("*[*]*"))
    assert ingest(tmp_path / "delivered", specs=specs).mentions.height == 1


def test_an_input_name_outside_the_pattern_gets_the_pattern_without_wildcards(tmp_path, pattern_spec):
    specs, spec = pattern_spec
    source = tmp_path / "export.csv"
    PLAIN.write_csv(source)
    written = pseudonymise_file(source, spec, KEY, tmp_path / "delivered", "2025-04-01")
    assert written.name == "ind_referenten_.csv"
    assert ingest(tmp_path / "delivered", specs=specs).mentions.height == 1


def test_a_name_outside_the_pattern_is_refused(tmp_path, pattern_spec):
    _, spec = pattern_spec
    with pytest.raises(InputError, match="ind_referenten_\\*.csv"):
        write_extract(PLAIN, spec, tmp_path / "delivered", KEY.fingerprint, "2025-04-01", file_name="export.csv")
    assert not (tmp_path / "delivered").exists()


def test_a_refused_name_holding_a_bsn_is_not_shown(tmp_path, pattern_spec):
    _, spec = pattern_spec
    with pytest.raises(InputError) as refused:
        write_extract(PLAIN, spec, tmp_path / "delivered", KEY.fingerprint, "2025-04-01",
                      file_name="export_123456782.csv")
    assert "123456782" not in str(refused.value)
    assert "(20 chars, sha256 " in str(refused.value)


def test_an_input_name_holding_a_bsn_is_delivered_under_a_keyed_hash_of_it(tmp_path, pattern_spec):
    specs, spec = pattern_spec
    delivered = tmp_path / "delivered"
    names = []
    for bsn, record in (("123456782", "R1"), ("111222333", "R2"), ("123456782", "R1")):
        source = tmp_path / f"ind_referenten_{bsn}_plaintext.csv"
        PLAIN.with_columns(referent_id=pl.lit(record)).write_csv(source)
        names.append(pseudonymise_file(source, spec, KEY, delivered, "2025-04-01").name)
    assert names[0] == names[2] != names[1]  # the same input name, the same delivered name
    assert sorted(path.name for path in delivered.iterdir() if not path.name.endswith(".meta.json")) == sorted(
        set(names))
    for name in names:
        assert re.fullmatch(r"ind_referenten_[a-p]{16}\.csv", name)
        assert not identifier_in_name(name)
    assert ingest(delivered, specs=specs).mentions.height == 2


def test_a_second_input_name_meeting_a_delivered_name_is_refused(tmp_path, pattern_spec):
    _, spec = pattern_spec
    delivered = tmp_path / "delivered"
    keyed = tmp_path / "ind_referenten_123456782.csv"
    PLAIN.write_csv(keyed)
    other = tmp_path / "other" / delivered_name(spec, keyed.name, KEY)  # named like the keyed name, other rows
    other.parent.mkdir()
    PLAIN.with_columns(pl.lit("R2").alias("referent_id")).write_csv(other)
    first = pseudonymise_file(other, spec, KEY, delivered, "2025-04-01")
    with pytest.raises(InputError, match="another extract was delivered under the name") as refused:
        pseudonymise_file(keyed, spec, KEY, delivered, "2025-04-01")
    assert "123456782" not in str(refused.value)
    assert pl.read_csv(first)["referent_id"].to_list() == ["R2"]


def _delivered_under_a_keyed_name(tmp_path, spec):
    """The input ``ind_referenten_123456782.csv`` (a BSN in its name) and its delivery in ``delivered``."""
    source = tmp_path / "ind_referenten_123456782.csv"
    PLAIN.write_csv(source)
    return source, pseudonymise_file(source, spec, KEY, tmp_path / "delivered", "2025-04-01")


def test_a_delivery_by_an_earlier_version_without_its_input_name_is_refused_saying_what_to_do(tmp_path, pattern_spec):
    _, spec = pattern_spec
    source, first = _delivered_under_a_keyed_name(tmp_path, spec)
    delivered = first.parent
    sidecar = Path(str(first) + META_SUFFIX)
    earlier = read_meta(first)
    del earlier["delivered_for_name"]  # the sidecar as a version that did not record the input wrote it
    sidecar.write_text(json.dumps(earlier), encoding="utf-8")
    before = first.read_bytes()
    written_without_input = r"without a record of its input \(by `mhgraph synth` or an earlier"
    with pytest.raises(InputError, match=written_without_input) as refused:
        pseudonymise_file(source, spec, KEY, delivered, "2025-04-01")  # the same input: still not guessed
    message = str(refused.value)
    assert "another extract" not in message
    assert f"({first})" in message and f"({sidecar})" in message and "another --out folder" in message
    assert "123456782" not in message
    assert first.read_bytes() == before
    first.unlink()  # what the message asks for
    sidecar.unlink()
    assert pseudonymise_file(source, spec, KEY, delivered, "2025-04-01") == first
    assert "delivered_for_name" in read_meta(first)


@pytest.mark.parametrize(("first", "second", "says"), [
    (("municipal_supervision", KEY), ("municipal_supervision", Key(b"another key of at least sixteen bytes")),
     "delivered with another key (fingerprint {fingerprint})"),
    (("municipal_supervision", KEY), ("riec_integral_assessment", KEY), "delivered with another purpose "
                                                                         "('municipal_supervision')")])
def test_a_rerun_of_the_same_input_with_another_key_or_purpose_says_so_and_is_refused(tmp_path, pattern_spec, first,
                                                                                      second, says):
    _, spec = pattern_spec
    source = tmp_path / "export.csv"  # outside the glob: the same delivered name under any key
    PLAIN.write_csv(source)
    first_key = first[1].for_purpose(first[0])
    written = pseudonymise_file(source, spec, first_key, tmp_path / "delivered", "2025-04-01", run_purpose=first[0])
    before = written.read_bytes()
    with pytest.raises(InputError, match=re.escape(says.format(fingerprint=first_key.fingerprint))) as refused:
        pseudonymise_file(source, spec, second[1].for_purpose(second[0]), tmp_path / "delivered", "2025-04-01",
                          run_purpose=second[0])
    assert "input of another name" not in str(refused.value) and "its sidecar" in str(refused.value)
    assert written.read_bytes() == before


def test_a_rerun_over_a_delivery_whose_sidecar_names_no_purpose_says_so_plainly(tmp_path, pattern_spec):
    # pseudonymise_file called without a run purpose writes a sidecar without one
    _, spec = pattern_spec
    source = tmp_path / "export.csv"
    PLAIN.write_csv(source)
    written = pseudonymise_file(source, spec, KEY, tmp_path / "delivered", "2025-04-01")
    assert "run_purpose" not in read_meta(written)
    purpose = "riec_integral_assessment"
    with pytest.raises(InputError, match="delivered with no run purpose recorded in its sidecar; remove") as refused:
        pseudonymise_file(source, spec, KEY.for_purpose(purpose), tmp_path / "delivered", "2025-04-01",
                          run_purpose=purpose)
    assert "None" not in str(refused.value)


def _spec_with_file(tmp_path, pattern):
    text = (SPEC_DIR / "ind_referenten.toml").read_text().replace('file = "ind_referenten.csv"', f'file = "{pattern}"')
    (tmp_path / "ind_referenten.toml").write_text(text)
    return load_spec(tmp_path / "ind_referenten.toml")


@pytest.mark.parametrize(("pattern", "name"), [
    ("ind_referenten_?????????.csv", "ind_referenten_123456782.csv"),  # no `*` to stand for the hash
    ("ind_referenten_[0-9]*.csv", "ind_referenten_123456782.csv"),  # letters do not fit
    ("ind_referenten_*_?.csv", "ind_referenten_123456782_1.csv")])  # the `?` after it is struck
def test_an_identifier_in_a_name_the_pattern_leaves_no_place_to_hash_is_refused_before_any_row(tmp_path, pattern,
                                                                                             name):
    spec = _spec_with_file(tmp_path, pattern)
    source = tmp_path / name
    PLAIN.write_csv(source)
    with pytest.raises(InputError, match="looks like an identifier.*leaves no place for a hashed name.*rename") as refused:
        pseudonymise_file(source, spec, KEY, tmp_path / "delivered", "2025-04-01")
    assert "123456782" not in str(refused.value)
    assert "(" in str(refused.value) and "chars, sha256 " in str(refused.value)
    assert not (tmp_path / "delivered").exists()
    assert not list(tmp_path.glob("*.quarantine.csv"))  # refused before any row was checked


def test_the_input_name_with_and_without_plaintext_is_one_name(tmp_path, pattern_spec):
    _, spec = pattern_spec
    delivered = tmp_path / "delivered"
    written = []
    for name in ("ind_referenten_123456782.csv", "ind_referenten_123456782_plaintext.csv"):
        PLAIN.write_csv(tmp_path / name)
        written.append(pseudonymise_file(tmp_path / name, spec, KEY, delivered, "2025-04-01"))
    assert written[0] == written[1]  # the same delivered extract: a rerun, not another input


def test_a_name_holding_an_identifier_only_once_plaintext_is_struck_records_it(tmp_path, pattern_spec):
    _, spec = pattern_spec
    source = tmp_path / "ind_referenten_1234_plaintext_ab.csv"
    PLAIN.write_csv(source)
    written = pseudonymise_file(source, spec, KEY, tmp_path / "delivered", "2025-04-01")
    assert re.fullmatch(r"ind_referenten_[a-p]{16}\.csv", written.name)
    assert read_meta(written)["delivered_for_name"] == keyed_hash(KEY, "file_name", "ind_referenten_1234_ab.csv")


def test_a_plain_input_name_meeting_a_hashed_delivery_is_refused(tmp_path, pattern_spec):
    _, spec = pattern_spec
    keyed, first = _delivered_under_a_keyed_name(tmp_path, spec)
    delivered = first.parent
    other = tmp_path / "other" / first.name  # a plain name: it holds no identifier
    other.parent.mkdir()
    PLAIN.with_columns(pl.lit("R2").alias("referent_id")).write_csv(other)
    with pytest.raises(InputError, match="another extract was delivered under the name"):
        pseudonymise_file(other, spec, KEY, delivered, "2025-04-01")
    assert pl.read_csv(first)["referent_id"].to_list() == ["R1"]
    assert pseudonymise_file(keyed, spec, KEY, delivered, "2025-04-01") == first  # its own rerun still replaces it


def test_a_name_outside_a_pattern_without_a_plain_fallback_is_refused_before_any_row(tmp_path):
    spec = _spec_with_file(tmp_path, "ind_referenten_?????????.csv")
    source = tmp_path / "export.csv"
    PLAIN.write_csv(source)
    with pytest.raises(InputError, match="export.csv: neither its name nor the spec's pattern"):
        pseudonymise_file(source, spec, KEY, tmp_path / "delivered", "2025-04-01")
    assert not (tmp_path / "delivered").exists() and not list(tmp_path.glob("*.quarantine.csv"))


@pytest.mark.parametrize(("pattern", "first", "second"), [
    ("ind_referenten.csv", "a/referenten_jan.csv", "a/referenten_feb.csv"),  # a fixed name: every input gets it
    ("ind_referenten_*.csv", "a/export.csv", "a/export.parquet"),  # one stem, the pattern's fallback
])
def test_a_second_input_falling_back_to_a_delivered_name_is_refused(tmp_path, pattern, first, second):
    spec = _spec_with_file(tmp_path, pattern)
    delivered = tmp_path / "delivered"
    sources = [tmp_path / first, tmp_path / second]
    sources[0].parent.mkdir()
    for source, record in zip(sources, ("R1", "R2")):
        rows = PLAIN.with_columns(referent_id=pl.lit(record))
        rows.write_parquet(source) if source.suffix == ".parquet" else rows.write_csv(source)
    written = pseudonymise_file(sources[0], spec, KEY, delivered, "2025-04-01")
    with pytest.raises(InputError, match="another extract was delivered under the name") as refused:
        pseudonymise_file(sources[1], spec, KEY, delivered, "2025-04-01")
    assert sources[1].name in str(refused.value) and written.name in str(refused.value)  # the input and the delivery it meets
    assert pl.read_csv(written)["referent_id"].to_list() == ["R1"]  # the first delivery is kept
    assert pseudonymise_file(sources[0], spec, KEY, delivered, "2025-04-01") == written  # its rerun replaces it
