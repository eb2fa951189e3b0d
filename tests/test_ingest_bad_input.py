"""The bad-input corpus: one clean delivered payroll extract (40 rows, pseudonymised with
``mhgraph.pseudonymise`` from a plaintext frame), damaged in one way per case; and the partner's
plaintext extract, damaged before ``mhgraph pseudonymise``: 58 tests over more than 45 classes.

| case | damage | expected |
|---|---|---|
| truncated_rows | last 5 lines removed, sidecar says 40 rows | InputError: sidecar rows differ |
| truncated_last_line | file cut in the middle of its last line | InputError: last line cut off, row 40 |
| wrong_delimiter | written with ';' while the spec says ',' | read, warning names both delimiters |
| bom | UTF-8 byte-order mark in front | read, first column recognised |
| windows_1252 | whole file in Windows-1252 | read, warning; 'Súdwest-Fryslân' intact |
| mixed_encodings | two lines in Windows-1252, rest UTF-8 | read, warning names rows 6 and 12 |
| garbage_5_percent | 5 of 100 lines replaced by junk | 5 rows quarantined (field count, quoting) |
| formula_injection | '=HYPERLINK(...)' as municipality | quarantined 'formula'; neutralised in CSV/Excel |
| very_long_field | 5,000-character municipality | quarantined 'field_too_long' |
| nul_bytes | NUL bytes inside a line | quarantined 'nul_bytes' at the right row |
| duplicate_headers | a column name twice | InputError naming both column positions |
| wrong_partner_columns | a KvK extract under the payroll file name | InputError: columns of kvk_inschrijvingen |
| wrong_partner_sidecar | sidecar says ind_referenten | InputError: sidecar names another source |
| plaintext_bsn | BSNs passing the eleven-test in a hash column | quarantined 'plaintext_identifier', redacted |
| plaintext_column | a whole hash column in plaintext | InputError: column looks plaintext |
| names_in_bloom | readable names in a Bloom column | quarantined 'plaintext_identifier' |
| mismatched_key | second extract made with another key | InputError naming both files and fingerprints |
| renamed_column | 'brutoloon' delivered as 'bruto_loon' | InputError suggesting 'bruto_loon' |
| impossible_dates | '31-02-2024' | quarantined 'bad_date' |
| duplicate_record_ids | a record id used twice | later row quarantined 'duplicate_record_id' |
| empty_file | 0 bytes | InputError: empty |
| xlsx_input | Excel extract with a bad category and a date cell | read; 'unknown_category' quarantined |
| missing_sidecar (2) | no .meta.json, for ingest and for a run | InputError, no run folder; with the accept flag taken in, WARNING in capitals on stdout, in summary.md and the manifest |
| bad_values | not a number, out of range, unknown category, missing required | one reason each |
| utf16 | file in UTF-16 | InputError: export as UTF-8 |
| every_row_quarantined | every wage 'onbekend' | the run completes; 40 of 40 rows in quarantine.csv |
| no_date_of_birth | no person has a date of birth | the run completes |
| extra_column | a column the spec does not know | read around it, warning names it |
| header_without_rows | header only, sidecar says 0 rows | read, warning 'no data rows' |
| sidecar_contradicts (3) | sidecar purpose differs; lacks key fingerprint; lacks purpose and rows | InputError naming what |
| sidecar_not_json | damaged sidecar | InputError: not valid JSON |
| saved_by_dutch_excel | ';', Windows-1252, decimal comma, d-m-yyyy | read; wages and dates exact |
| stray_file | notes.txt beside the extracts | listed as not matched, run goes on |
| empty_record_id | the record id left empty | quarantined 'missing_required' |
| padded_values | spaces around a category and a number | trimmed, taken in |
| no_finite_number (4) | wage NaN, inf, 1e400, 0x10 | quarantined 'not_a_number' |
| partner_side_bad_value (9) | plaintext: BSN failing the eleven-test, date of birth 1990-13-45 or in the future, wage 'abc', unknown category, postcode 0123 AB, 7-digit KvK number, bad loonheffingennummer, formula | row held back in the partner's quarantine with its plaintext; nothing of it printed; the rest delivered and ingested cleanly |
| partner_side_truncated_row | a plaintext line cut in half | held back 'wrong_field_count' |
| partner_side_dutch_excel | 'CSV (;)' in Windows-1252, CRLF, decimal comma | sniffed, or named with --delimiter/--encoding |
| partner_side_optional_absent | optional plaintext columns left out | delivered empty, warning |
| partner_side_missing_column | a required column dropped; a column renamed | exit 2, with 'did you mean' |
| template_round_trip | `mhgraph template` filled in | pseudonymised whole; never overwrites |

Elsewhere: two unreadable values in different chunks of a batch (`test_ingest_chunks.py`), interrupted
and concurrent runs (`test_run_folder.py`), a truth from other extracts and an incomplete run
(`test_evaluate.py`), and generated damage of every shipped layout (`test_ingest_properties.py`).
"""

from __future__ import annotations

import codecs
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import polars as pl
import pytest
from ingest_helpers import KEY, OTHER_KEY, deliver, plain_eindhoven, plain_payroll, plain_referenten, valid_bsn

from mhgraph.cli import main
from mhgraph.errors import InputError
from mhgraph.ingest import ingest
from mhgraph.pseudonymise import META_SUFFIX
from mhgraph.safe_output import read_csv_safe, write_csv_safe, write_excel_safe

PAYROLL = "belastingdienst_loonaangifte.csv"


@pytest.fixture
def folder(tmp_path) -> Path:
    """A folder holding one clean delivered payroll extract of 40 rows plus its sidecar."""
    deliver(tmp_path / "in", "belastingdienst_loonaangifte", plain_payroll(40))
    return tmp_path / "in"


def _lines(folder: Path, name: str = PAYROLL) -> list[bytes]:
    return (folder / name).read_bytes().split(b"\n")


def _write_lines(folder: Path, lines: list[bytes], name: str = PAYROLL) -> None:
    (folder / name).write_bytes(b"\n".join(lines))


def _edit(folder: Path, row: int, column: str, value: str) -> None:
    """Set one delivered cell (``row`` is the 1-based data-row number)."""
    frame = pl.read_csv(folder / PAYROLL, infer_schema=False)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row - 1).then(pl.lit(value)).otherwise(pl.col(column)).alias(column))
    frame.write_csv(folder / PAYROLL)


def _only_source(result):
    (source,) = result.summary["sources"]
    assert source["rows_read"] == source["rows_accepted"] + source["rows_quarantined"]
    return source


# ------------------------------------------------------------------------ whole-file errors


def test_truncated_rows_against_sidecar(folder):
    _write_lines(folder, _lines(folder)[:-6] + [b""])  # 35 data rows, sidecar says 40
    with pytest.raises(InputError, match=r"sidecar says the extract has 40 data rows, but 35 were read"):
        ingest(folder)


def test_truncated_last_line(folder):
    data = (folder / PAYROLL).read_bytes()
    (folder / PAYROLL).write_bytes(data[: len(data) - 200])
    with pytest.raises(InputError, match=r"row 40: the last line has no line end .* cut off") as error:
        ingest(folder)
    assert error.value.row == 40 and error.value.file.endswith(PAYROLL)


def test_duplicate_headers(folder):
    lines = _lines(folder)
    lines[0] = lines[0].replace(b"uren", b"brutoloon")
    _write_lines(folder, lines)
    with pytest.raises(InputError, match=r"duplicated column names.*'brutoloon' in columns 17, 18") as error:
        ingest(folder)
    assert error.value.column == "brutoloon"


def test_wrong_partner_columns(folder, tmp_path):
    kvk = tmp_path / "kvk"
    plain = pl.DataFrame({
        "inschrijving_id": ["I1"], "bedrijf_kvk_nummer": ["12345678"], "bedrijf_naam": ["Oogst B.V."],
        "handelsnaam": ["Oogst"], "rechtsvorm": ["BV"], "sbi_code": ["0113"], "datum_inschrijving": ["2020-01-01"],
        "datum_opheffing": [None], "vestiging_adres_postcode": ["1234AB"], "vestiging_adres_huisnummer": ["1"],
        "vestiging_adres_toevoeging": [None], "vestiging_adres_gemeente": ["Westland"],
    })
    written = deliver(kvk, "kvk_inschrijvingen", plain)
    written.replace(folder / PAYROLL)  # delivered under the payroll name, without its sidecar
    (folder / (PAYROLL + ".meta.json")).unlink()
    with pytest.raises(InputError, match=r"columns are those of kvk_inschrijvingen \(partner kvk\), not of "
                                         r"belastingdienst_loonaangifte"):
        ingest(folder, accept_missing_sidecars=True)


def test_a_plaintext_extract_given_to_ingest_is_sent_to_pseudonymise(folder):
    (folder / (PAYROLL + ".meta.json")).unlink()
    plain_payroll(5).write_csv(folder / PAYROLL)  # the partner's extract, not what pseudonymise made of it
    with pytest.raises(InputError, match=r"the file holds the plaintext input columns of spec "
                                         r"belastingdienst_loonaangifte \(.*werknemer_voornaam.*\) where it should hold the "
                                         r"pseudonymised ones .*`mhgraph pseudonymise --spec belastingdienst_loonaangifte`"):
        ingest(folder, accept_missing_sidecars=True)


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_a_plaintext_extract_without_sidecar_is_sent_to_pseudonymise_by_default(folder, separator):
    """The missing sidecar of a plaintext extract is not the thing to fix: pseudonymising it is."""
    (folder / (PAYROLL + ".meta.json")).unlink()
    plain_payroll(5).write_csv(folder / PAYROLL, separator=separator)
    with pytest.raises(InputError, match=r"the file holds the plaintext input columns of spec .*"
                                         r"`mhgraph pseudonymise --spec belastingdienst_loonaangifte`"):
        ingest(folder)


def test_wrong_partner_sidecar(folder):
    meta_path = folder / (PAYROLL + ".meta.json")
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps(meta | {"source": "ind_referenten", "partner": "ind"}))
    with pytest.raises(InputError, match=r"sidecar says it is an extract of ind_referenten \(partner ind\)"):
        ingest(folder)


def test_plaintext_column_fails_the_file(folder):
    frame = pl.read_csv(folder / PAYROLL, infer_schema=False)
    frame.with_columns(werknemer_bsn=pl.Series([valid_bsn(i) for i in range(frame.height)])).write_csv(folder / PAYROLL)
    with pytest.raises(InputError, match=r"column 'werknemer_bsn': the column looks plaintext as a whole: 40 of 40 "
                                         r"values .* plaintext BSN") as error:
        ingest(folder)
    assert valid_bsn(0) not in str(error.value)


def test_mismatched_key_fingerprint(folder):
    deliver(folder, "ind_referenten", plain_referenten(), key=OTHER_KEY)
    with pytest.raises(InputError, match="different keys") as error:
        ingest(folder)
    message = str(error.value)
    assert PAYROLL in message and "ind_referenten.csv" in message
    assert KEY.fingerprint in message and OTHER_KEY.fingerprint in message
    assert "mhgraph ingest tests" not in message  # the key text itself never appears


def test_the_key_error_names_the_odd_one_out_not_a_file_that_agrees_with_the_rest(folder):
    deliver(folder, "ind_referenten", plain_referenten())
    deliver(folder, "gemeente_eindhoven_vergunningen", plain_eindhoven())
    deliver(folder, "belastingdienst_loonaangifte", plain_payroll(40), key=OTHER_KEY)  # read first, yet the odd one
    with pytest.raises(InputError, match="different keys") as error:
        ingest(folder)
    assert error.value.file == str(folder / PAYROLL)
    assert f"{PAYROLL} has {OTHER_KEY.fingerprint}" in str(error.value)


def test_renamed_column_suggests_the_closest_name(folder):
    lines = _lines(folder)
    lines[0] = lines[0].replace(b"brutoloon", b"bruto_loon")
    _write_lines(folder, lines)
    with pytest.raises(InputError, match=r"missing column\(s\) 'brutoloon' \(did you mean 'bruto_loon'\?") as error:
        ingest(folder)
    assert error.value.column == "brutoloon"


def test_empty_file(folder):
    (folder / PAYROLL).write_bytes(b"")
    with pytest.raises(InputError, match=r"empty"):
        ingest(folder)


def test_utf16_is_refused(folder):
    text = (folder / PAYROLL).read_text(encoding="utf-8")
    (folder / PAYROLL).write_bytes(text.encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16"):
        ingest(folder)


# ------------------------------------------------------------------- readable with warnings


def test_wrong_delimiter_is_detected(folder):
    frame = pl.read_csv(folder / PAYROLL, infer_schema=False)
    frame.write_csv(folder / PAYROLL, separator=";")
    source = _only_source(ingest(folder))
    assert source["rows_accepted"] == 40 and source["delimiter"] == ";"
    assert any("declares delimiter ','" in w and "uses ';'" in w for w in source["warnings"])


def test_bom(folder):
    (folder / PAYROLL).write_bytes(b"\xef\xbb\xbf" + (folder / PAYROLL).read_bytes())
    result = ingest(folder)
    assert _only_source(result)["rows_accepted"] == 40
    assert result.mentions["record_id"].str.starts_with("L").all()


def test_windows_1252(folder):
    text = (folder / PAYROLL).read_text(encoding="utf-8")
    (folder / PAYROLL).write_bytes(text.encode("cp1252"))
    result = ingest(folder)
    source = _only_source(result)
    assert source["rows_accepted"] == 40 and source["encoding"] == "cp1252"
    assert any("not UTF-8; read as Windows-1252" in w for w in source["warnings"])
    assert "Súdwest-Fryslân" in result.mentions["municipality"].to_list()


def test_mixed_encodings(folder):
    lines = (folder / PAYROLL).read_text(encoding="utf-8").split("\n")
    raw = [line.encode("cp1252") if i in (6, 12) else line.encode() for i, line in enumerate(lines)]
    (folder / PAYROLL).write_bytes(b"\n".join(raw))
    result = ingest(folder)
    source = _only_source(result)
    assert source["rows_accepted"] == 40
    assert any("2 row(s) were not valid utf-8" in w and "rows 6, 12" in w for w in source["warnings"])
    row_6 = result.mentions.filter((pl.col("row_number") == 6) & (pl.col("entity_type") == "address"))
    assert row_6["municipality"].item() == "Súdwest-Fryslân"  # written in Windows-1252, read right


def test_missing_sidecar_is_refused_unless_accepted_and_then_said_loudly(folder):
    (folder / (PAYROLL + ".meta.json")).unlink()
    with pytest.raises(InputError, match=r"no sidecar beside it \(its file name followed by .meta.json\): .* purpose .*"
                                         r"--accept-missing-sidecar") as error:
        ingest(folder)
    assert error.value.file == str(folder / PAYROLL)
    result = ingest(folder, accept_missing_sidecars=True)
    source = _only_source(result)
    assert source["rows_accepted"] == 40 and source["key_fingerprint"] is None and source["sidecar"] is False
    assert result.summary["files_without_sidecar"] == [str(folder / PAYROLL)]
    assert "TAKEN IN WITHOUT A SIDECAR" in result.summary.format()
    assert any("TAKEN IN WITHOUT A SIDECAR" in w for w in source["warnings"])


# ------------------------------------------------------------------------- quarantined rows


def test_garbage_rows(tmp_path):
    folder = tmp_path / "in"
    deliver(folder, "belastingdienst_loonaangifte", plain_payroll(100))
    lines = _lines(folder)
    junk = [b"==== page 2 of 7 ====", b"L9,,", lines[12] + b",extra", b'L000031,"unclosed,quote', b"\x1a\x1a\x1a"]
    for row, line in zip((5, 20, 31, 64, 99), junk):
        lines[row] = line
    _write_lines(folder, lines)
    result = ingest(folder)
    source = _only_source(result)
    assert (source["rows_read"], source["rows_accepted"], source["rows_quarantined"]) == (100, 95, 5)
    assert source["quarantined_by_reason"] == {"bad_quoting": 1, "wrong_field_count": 4}
    quarantine = result.quarantine
    assert quarantine["row_number"].to_list() == [5, 20, 31, 64, 99]
    assert quarantine["column"].is_null().all()
    assert any(m.startswith("the row has 21 fields but the header has 20") for m in quarantine["message"])
    assert not {5, 20, 31, 64, 99} & set(result.mentions["row_number"].to_list())
    with pytest.raises(InputError, match=r"5 of 100 rows \(5.0%\) were quarantined, more than the allowed 1.0%"):
        ingest(folder, max_quarantine_share=0.01)
    assert _only_source(ingest(folder, max_quarantine_share=0.05))["rows_quarantined"] == 5


def test_a_row_written_with_another_delimiter_is_named_so(tmp_path):
    folder = tmp_path / "in"
    deliver(folder, "belastingdienst_loonaangifte", plain_payroll(20))
    lines = _lines(folder)
    lines[5], lines[9], lines[12] = lines[5].replace(b",", b";"), lines[9].replace(b",", b"\t"), b"L9"
    # cut off after five fields, its values holding tabs: 20 on a tab too, but it holds the file's ','
    lines[15] = b",".join(lines[15].split(b",")[:5]) + b"\t" * 19
    _write_lines(folder, lines)
    messages = ingest(folder).quarantine.sort("row_number")["message"].to_list()
    assert messages == [
        "the row has 1 field but the header has 20: it splits into 20 on ';': it may have been written with ';'; "
        "write the row with ',', as the rest of the file",
        "the row has 1 field but the header has 20: it splits into 20 on '\\t': it may have been written with "
        "'\\t'; write the row with ',', as the rest of the file",
        "the row has 1 field but the header has 20: a value holds an unquoted ',' or the line is cut off",
        "the row has 5 fields but the header has 20: a value holds an unquoted ',' or the line is cut off"]


def test_a_batch_without_one_usable_row_is_quarantined_and_the_next_batches_read(tmp_path):
    # Small batches, so that the first holds only the rows with an extra field.
    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("ind_referenten.csv", "ind_referenten.csv.meta.json"):
        shutil.copy(sample / name, folder / name)
    lines = _lines(folder, "ind_referenten.csv")
    lines[1:8] = [line + b",extra" for line in lines[1:8]]
    _write_lines(folder, lines, "ind_referenten.csv")
    result = ingest(folder, batch_bytes=512, max_quarantine_share=0.5)
    source = _only_source(result)
    assert (source["rows_read"], source["rows_accepted"], source["rows_quarantined"]) == (53, 46, 7)
    assert result.quarantine.select("file", "row_number", "column", "reason").rows() == [
        (str(folder / "ind_referenten.csv"), row, None, "wrong_field_count") for row in range(1, 8)]
    assert sorted(set(result.mentions["row_number"].to_list())) == list(range(8, 54))


def test_formula_injection_never_reaches_csv_or_excel(tmp_path):
    formula = '=HYPERLINK("http://evil.example/x","Klik hier")'
    plain = plain_payroll(10).with_columns(
        werknemer_adres_gemeente=pl.when(pl.col("regelnummer") == "L000004")
        .then(pl.lit(formula)).otherwise(pl.col("werknemer_adres_gemeente")))
    deliver(tmp_path / "in", "belastingdienst_loonaangifte", plain)
    result = ingest(tmp_path / "in", out_dir=tmp_path / "out")
    quarantine = result.quarantine
    assert quarantine.select("row_number", "record_id", "column", "reason").rows() == [
        (4, "L000004", "werknemer_adres_gemeente", "formula")]
    assert quarantine["value"].item() == f"=HY… ({len(formula)} chars)"
    assert not result.mentions["municipality"].str.contains("HYPERLINK").any()
    csv_text = (tmp_path / "out" / "quarantine.csv").read_text(encoding="utf-8")
    assert f"'=HY… ({len(formula)} chars)" in csv_text
    assert not re.search(r'(^|;)"?[=+\-@]', csv_text.removeprefix("\ufeff"), flags=re.MULTILINE)
    workbook = write_excel_safe(quarantine, tmp_path / "quarantine.xlsx")
    with zipfile.ZipFile(workbook) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        strings = archive.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet and "'=HY" in strings


def test_very_long_field(tmp_path):
    plain = plain_payroll(5).with_columns(
        werknemer_adres_gemeente=pl.when(pl.col("regelnummer") == "L000002").then(pl.lit("x" * 5000))
        .otherwise(pl.col("werknemer_adres_gemeente")))
    deliver(tmp_path, "belastingdienst_loonaangifte", plain)
    result = ingest(tmp_path)
    assert result.quarantine.select("row_number", "reason", "value").rows() == [(2, "field_too_long", "xxx… (5000 chars)")]


def test_nul_bytes(folder):
    lines = _lines(folder)
    lines[7] = lines[7][:20] + b"\x00\x00" + lines[7][20:]
    _write_lines(folder, lines)
    result = ingest(folder)
    assert result.quarantine.select("row_number", "reason").rows() == [(7, "nul_bytes")]
    assert _only_source(result)["rows_accepted"] == 39


def test_plaintext_bsn_is_quarantined_and_redacted(folder, tmp_path):
    bsn = valid_bsn(999)
    _edit(folder, 3, "werknemer_bsn", bsn)
    _edit(folder, 5, "werknemer_bsn", "12345672")  # 012345672 without its leading 0
    _edit(folder, 8, "werknemer_bsn", "Jan Jansen")
    result = ingest(folder, out_dir=tmp_path / "out")
    rows = result.quarantine.select("row_number", "column", "reason", "value").rows()
    assert rows == [(3, "werknemer_bsn", "plaintext_identifier", "(9 digits)"),
                    (5, "werknemer_bsn", "plaintext_identifier", "(8 digits)"),
                    (8, "werknemer_bsn", "plaintext_identifier", "(10 chars: letters and spaces)")]
    messages = result.quarantine["message"].to_list()
    assert "plaintext BSN (8 or 9 digits passing the eleven-test)" in messages[0]
    assert "plaintext BSN (8 or 9 digits passing the eleven-test)" in messages[1]
    assert "readable name" in messages[2]
    for written in (tmp_path / "out").rglob("*"):
        if written.is_file():
            assert bsn.encode() not in written.read_bytes(), written


def test_readable_names_in_a_bloom_column(folder):
    _edit(folder, 2, "werknemer_achternaam_bf", "de Vries")
    _edit(folder, 5, "werknemer_voornaam_bf", "Piotr")
    quarantine = ingest(folder).quarantine
    assert quarantine.select("row_number", "column", "reason").rows() == [
        (2, "werknemer_achternaam_bf", "plaintext_identifier"), (5, "werknemer_voornaam_bf", "plaintext_identifier")]
    assert all("Bloom filter" in m and "readable name" in m for m in quarantine["message"])


def test_impossible_dates(folder):
    _edit(folder, 4, "datum_aanvang", "31-02-2024")
    _edit(folder, 6, "datum_einde", "2024-13-01")
    quarantine = ingest(folder).quarantine
    assert quarantine.select("row_number", "column", "reason").rows() == [
        (4, "datum_aanvang", "bad_date"), (6, "datum_einde", "bad_date")]
    assert "YYYY-MM-DD, DD-MM-YYYY" in quarantine["message"][0]


def test_duplicate_record_ids(folder):
    _edit(folder, 9, "regelnummer", "L000002")
    _edit(folder, 30, "regelnummer", "L000002")
    result = ingest(folder)
    quarantine = result.quarantine
    assert quarantine.select("row_number", "record_id", "reason").rows() == [
        (9, "L000002", "duplicate_record_id"), (30, "L000002", "duplicate_record_id")]
    assert quarantine["message"][0].startswith("the record id was already used on row 2;")
    assert result.mentions["mention_id"].is_unique().all()


def test_bad_values_one_reason_each(folder):
    _edit(folder, 1, "brutoloon", "twaalf")
    _edit(folder, 2, "uren", "4000")
    _edit(folder, 3, "contractsoort", "nulurencontract")
    _edit(folder, 4, "datum_aanvang", "")
    result = ingest(folder)
    assert result.quarantine.select("row_number", "column", "reason").rows() == [
        (1, "brutoloon", "not_a_number"), (2, "uren", "out_of_range"),
        (3, "contractsoort", "unknown_category"), (4, "datum_aanvang", "missing_required")]
    assert "expected one of: onbepaalde tijd, bepaalde tijd, oproep, uitzend" in result.quarantine["message"][2]
    assert _only_source(result)["quarantined_by_reason"] == {
        "missing_required": 1, "not_a_number": 1, "out_of_range": 1, "unknown_category": 1}


def test_xlsx_input(tmp_path):
    plain = plain_eindhoven(4).with_columns(
        categorie=pl.when(pl.col("zaak_id") == "Z-2024-0002").then(pl.lit("CASINO")).otherwise(pl.col("categorie")))
    deliver(tmp_path, "gemeente_eindhoven_vergunningen", plain)
    result = ingest(tmp_path)
    source = _only_source(result)
    assert (source["format"], source["rows_read"], source["rows_accepted"]) == ("xlsx", 4, 3)
    assert result.quarantine.select("row_number", "record_id", "column", "reason").rows() == [
        (3, "Z-2024-0002", "categorie", "unknown_category")]
    permits = result.mentions.filter(pl.col("entity_type") == "permit")
    assert permits["permit_type"].to_list() == ["seksinrichting", "massagesalon", "escortbedrijf"]


def test_every_fastexcel_the_project_allows_reads_a_sheet_as_text():
    # the Excel reader loads the sheet with one dtype for all its columns (load_sheet(dtypes=...),
    # from fastexcel 0.12); with 0.11.6, which pyproject.toml allowed, every workbook was refused
    import tomllib

    from packaging.specifiers import SpecifierSet

    root = Path(__file__).resolve().parents[1]
    dependencies = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    allowed = SpecifierSet(next(d.removeprefix("fastexcel") for d in dependencies if d.startswith("fastexcel")))
    assert "0.11.6" not in allowed and "0.12.0" in allowed
    locked = re.search(r"^fastexcel==(\S+)", (root / "requirements.lock").read_text(encoding="utf-8"), re.M)
    assert locked is not None and locked.group(1) in allowed


def test_xlsx_typed_date_cells(tmp_path):
    """A workbook saved by a spreadsheet holds real date cells, not text."""
    import datetime as dt

    import xlsxwriter

    delivered = deliver(tmp_path / "a", "gemeente_eindhoven_vergunningen", plain_eindhoven(1))
    spec_columns = pl.read_excel(delivered, infer_schema_length=0)
    path = tmp_path / "b" / "gemeente_eindhoven_vergunningen.xlsx"
    path.parent.mkdir()
    shutil.copy(f"{delivered}.meta.json", f"{path}.meta.json")
    with xlsxwriter.Workbook(str(path)) as workbook:
        sheet = workbook.add_worksheet()
        for j, name in enumerate(spec_columns.columns):
            sheet.write_string(0, j, name)
            value = spec_columns[name][0]
            if name == "datum_besluit":
                sheet.write_datetime(1, j, dt.datetime(2024, 3, 10), workbook.add_format({"num_format": "d-m-yyyy"}))
            elif value is not None:
                sheet.write_string(1, j, value)
    result = ingest(tmp_path / "b")
    assert result.mentions.filter(pl.col("entity_type") == "permit")["decided_on"].to_list() == [dt.date(2024, 3, 10)]


def test_quarantine_csv_of_every_reason_is_formula_free(folder, tmp_path):
    """Values in quarantine start with whatever the partner wrote; the CSV never starts a cell with one."""
    _edit(folder, 1, "werknemer_adres_gemeente", "@SUM(A1:A9)")
    _edit(folder, 2, "werknemer_adres_gemeente", "+31 6 1234")
    _edit(folder, 3, "brutoloon", "-=1+2")
    path = write_csv_safe(ingest(folder).quarantine, tmp_path / "q.csv")
    values = read_csv_safe(path, infer_schema=False)["value"].to_list()
    assert values == ["'@SU… (11 chars)", "'+31… (10 chars)", "(5 chars)"]


# ------------------------------------------------------------------ more classes, whole runs


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """``mhgraph ARGS`` in this process: its status, stdout and stderr."""
    monkeypatch.setenv("MHGRAPH_AUDIT_LOG", str(tmp_path / "audit.log"))

    def call(*argv: str) -> subprocess.CompletedProcess:
        status = main(list(argv))
        printed = capsys.readouterr()
        return subprocess.CompletedProcess(argv, status, printed.out, printed.err)
    return call


def test_every_row_quarantined_still_gives_a_run(folder, tmp_path, cli):
    frame = pl.read_csv(folder / PAYROLL, infer_schema=False).with_columns(brutoloon=pl.lit("onbekend"))
    frame.write_csv(folder / PAYROLL)
    completed = cli("run", str(folder), "--out", str(tmp_path / "run"))
    assert completed.returncode == 0, completed.stderr
    assert "; 40 of 40 rows quarantined" in completed.stdout
    assert read_csv_safe(tmp_path / "run" / "quarantine.csv")["row_number"].to_list() == list(range(1, 41))
    assert pl.read_parquet(tmp_path / "run" / "tables" / "mentions.parquet").height == 0


def test_run_without_a_sidecar_is_refused_or_said_loudly_everywhere(folder, tmp_path, cli):
    (folder / (PAYROLL + ".meta.json")).unlink()
    refused = cli("run", str(folder), "--out", str(tmp_path / "run"))
    assert refused.returncode == 2 and "belastingdienst_loonaangifte.csv: no sidecar beside it" in refused.stderr
    assert not (tmp_path / "run").exists()
    accepted = cli("run", str(folder), "--out", str(tmp_path / "run"), "--accept-missing-sidecar")
    assert accepted.returncode == 0, accepted.stderr
    assert "WARNING: 1 file(s) TAKEN IN WITHOUT A SIDECAR" in accepted.stdout
    assert "WAARSCHUWING: 1 bestand(en) OPGENOMEN ZONDER SIDECAR" in (tmp_path / "run" / "summary.md").read_text()
    manifest = json.loads((tmp_path / "run" / "run_manifest.json").read_text())
    assert manifest["ingest"]["files_without_sidecar"] == [str(folder / PAYROLL)]


def test_run_says_which_files_no_spec_matches(folder, tmp_path, cli):
    """A file in a layout no spec knows is not read; the analyst sees that, not only the manifest."""
    (folder / "loonaangifte_export_2024.csv").write_text("kolom_a,kolom_b\n1,2\n", encoding="utf-8")
    completed = cli("run", str(folder), "--out", str(tmp_path / "run"))
    assert completed.returncode == 0, completed.stderr
    assert f"files no spec matches (not read): {folder / 'loonaangifte_export_2024.csv'}" in completed.stdout
    summary = (tmp_path / "run" / "summary.md").read_text(encoding="utf-8")
    assert "bestanden die geen spec herkent (niet gelezen):\n  - `loonaangifte_export_2024.csv`" in summary


def test_no_person_with_a_date_of_birth_still_gives_a_run(tmp_path, cli):
    deliver(tmp_path / "in", "belastingdienst_loonaangifte",
            plain_payroll(40).with_columns(werknemer_geboortedatum=pl.lit(None, pl.String)))
    completed = cli("run", str(tmp_path / "in"), "--out", str(tmp_path / "run"))
    assert completed.returncode == 0, completed.stderr
    assert "0 of 40 rows quarantined" in completed.stdout


def test_extra_column_is_read_around(folder):
    frame = pl.read_csv(folder / PAYROLL, infer_schema=False).with_columns(opmerking=pl.lit("vrij veld"))
    frame.write_csv(folder / PAYROLL)
    source = _only_source(ingest(folder))
    assert source["rows_accepted"] == 40
    assert any("not read: opmerking" in w for w in source["warnings"])


def test_header_without_rows(folder):
    _write_lines(folder, _lines(folder)[:1] + [b""])
    meta = folder / (PAYROLL + ".meta.json")
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "rows": 0}))
    source = _only_source(ingest(folder))
    assert source["rows_read"] == 0 and "the file has a header but no data rows" in source["warnings"]


@pytest.mark.parametrize("change, message", [
    ({"purpose": "bibob"}, r"the sidecar declares purpose 'bibob', but spec belastingdienst_loonaangifte has purpose "
                           r"'fiscal_supervision'"),
    ({"key_fingerprint": None}, r"the sidecar lacks key_fingerprint"),
    ({"rows": None, "purpose": None}, r"the sidecar lacks purpose, rows"),
])
def test_sidecar_that_contradicts_or_lacks_what_it_must_say(folder, change, message):
    meta = folder / (PAYROLL + ".meta.json")
    meta.write_text(json.dumps({k: v for k, v in {**json.loads(meta.read_text()), **change}.items()}))
    with pytest.raises(InputError, match=message):
        ingest(folder)


def test_sidecar_that_is_not_json(folder):
    (folder / (PAYROLL + ".meta.json")).write_text("{rows: 40")
    with pytest.raises(InputError, match=r"the sidecar is not valid JSON"):
        ingest(folder)


def test_a_file_saved_again_by_dutch_excel(folder):
    """Opened and saved in Excel with Dutch settings: ';', Windows-1252, decimal comma, d-m-yyyy."""
    frame = pl.read_csv(folder / PAYROLL, infer_schema=False)
    frame = frame.with_columns(
        pl.col("brutoloon").str.replace(".", ",", literal=True),
        pl.col("datum_aanvang").str.to_date().dt.strftime("%-d-%-m-%Y"),
    )
    (folder / PAYROLL).write_bytes(frame.write_csv(separator=";").encode("windows-1252"))
    result = ingest(folder)
    source = _only_source(result)
    assert source["rows_accepted"] == 40 and source["delimiter"] == ";"
    original = plain_payroll(40)
    employed = result.relations.filter(pl.col("type") == "EMPLOYED_BY").sort("record_id")
    assert employed["wage"].to_list() == original["brutoloon"].cast(pl.Float64).to_list()
    assert employed["valid_from"].to_list() == original["datum_aanvang"].str.to_date().to_list()


def test_stray_file_in_the_folder(folder):
    (folder / "notes.txt").write_text("meeting notes")
    result = ingest(folder)
    assert [Path(f).name for f in result.summary["unmatched_files"]] == ["notes.txt"]
    assert _only_source(result)["rows_accepted"] == 40


def test_empty_record_id(folder):
    _edit(folder, 5, "regelnummer", "")
    result = ingest(folder)
    assert result.quarantine.select("row_number", "reason").rows() == [(5, "missing_required")]


def test_values_padded_with_spaces_are_trimmed(folder):
    _edit(folder, 3, "contractsoort", "   oproep   ")
    _edit(folder, 4, "brutoloon", " 1234,5 ")
    source = _only_source(ingest(folder))
    assert source["rows_quarantined"] == 0


@pytest.mark.parametrize("wage", ["NaN", "inf", "1e400", "0x10"])
def test_wage_that_is_no_finite_number(folder, wage):
    _edit(folder, 7, "brutoloon", wage)
    assert ingest(folder).quarantine.select("row_number", "reason").rows() == [(7, "not_a_number")]


# ------------------------------------------------------------ the partner's plaintext extract


def _pseudonymise(cli, tmp_path: Path, plain: bytes, *extra: str) -> subprocess.CompletedProcess:
    (tmp_path / "plain.csv").write_bytes(plain)
    (tmp_path / "key").write_text("0123456789abcdef0123456789abcdef")
    return cli("pseudonymise", str(tmp_path / "plain.csv"), "--spec", "belastingdienst_loonaangifte",
               "--key-file", str(tmp_path / "key"), "--out", str(tmp_path / "delivered"), "--created", "2025-01-15",
               *extra)


@pytest.mark.parametrize("column, value, reason", [
    ("werknemer_bsn", "123456789", "bad_bsn"),
    ("brutoloon", "abc", "not_a_number"),
    ("contractsoort", "stage", "unknown_category"),
    ("werkgever_kvk_nummer", "1234567", "bad_kvk_number"),
    ("werkgever_loonheffingennummer", "12345", "bad_wage_tax_number"),
    ("werknemer_adres_gemeente", "=HYPERLINK(1)", "formula"),
])
def test_partner_side_checks_hold_back_a_bad_plaintext_row(tmp_path, cli, column, value, reason):
    plain = plain_payroll(6).with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit(value)).otherwise(pl.col(column)).alias(column))
    completed = _pseudonymise(cli, tmp_path, plain.write_csv().encode())
    assert completed.returncode == 0, completed.stderr
    assert f"quarantined, {reason}: 1 row(s)" in completed.stdout and "5 of 6 rows delivered" in completed.stdout
    assert value not in completed.stdout + completed.stderr  # plaintext stays in the partner's own file
    partner_side = read_csv_safe(tmp_path / "plain.csv.quarantine.csv", infer_schema=False)
    assert partner_side.select("row_number", "column", "reason").rows() == [("3", column, reason)]
    assert partner_side["value"].item().lstrip("'") == value
    result = ingest(tmp_path / "delivered")
    assert _only_source(result)["rows_accepted"] == 5 and result.quarantine.height == 0
    assert "; 1 more held back by the partner's own checks" in result.summary.format()


def test_run_line_counts_flagged_clusters_and_rows_the_partner_held_back(tmp_path, cli):
    """'0 of 5 rows quarantined' alone reads as if every row came in, and an empty report as if nothing was scored."""
    plain = plain_payroll(6).with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("123456789")).otherwise(pl.col("werknemer_bsn"))
        .alias("werknemer_bsn"))
    assert _pseudonymise(cli, tmp_path, plain.write_csv().encode()).returncode == 0
    completed = cli("run", str(tmp_path / "delivered"), "--out", str(tmp_path / "run"))
    assert completed.returncode == 0, completed.stderr
    manifest = json.loads((tmp_path / "run" / "run_manifest.json").read_text())
    assert (f"clusters, {manifest['clusters_flagged']} flagged; 0 of 5 rows quarantined; 1 more held back by the "
            "partners' own checks") in completed.stdout


@pytest.mark.parametrize("column, value, reason, delivered", [
    ("werknemer_geboortedatum", "1990-13-45", "bad_birth_date", "werknemer_geboortedatum_bf"),
    ("werknemer_geboortedatum", "2090-01-01", "bad_birth_date", "werknemer_geboortedatum_bf"),
    ("werknemer_adres_postcode", "0123 AB", "bad_postcode", "werknemer_adres_sleutel"),
    ("werknemer_adres_postcode", "TQ13 8DF", "bad_postcode", "werknemer_adres_sleutel"),
])
def test_partner_side_checks_leave_out_a_bad_matching_value_and_deliver_its_row(tmp_path, cli, column, value, reason,
                                                                                 delivered):
    plain = plain_payroll(6).with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit(value)).otherwise(pl.col(column)).alias(column))
    completed = _pseudonymise(cli, tmp_path, plain.write_csv().encode())
    assert completed.returncode == 0, completed.stderr
    assert f"value left out, row delivered, {reason}: 1 value(s)" in completed.stdout
    assert "6 of 6 rows delivered" in completed.stdout and value not in completed.stdout + completed.stderr
    partner_side = read_csv_safe(tmp_path / "plain.csv.quarantine.csv", infer_schema=False)
    assert partner_side.select("row_number", "column", "reason", "action").rows() == [
        ("3", column, reason, "value left out, row delivered")]
    extract = next((tmp_path / "delivered").glob("*.csv"))
    rows = pl.read_csv(extract, infer_schema=False)
    assert rows[delivered].is_null().to_list() == [False, False, True, False, False, False]
    result = ingest(tmp_path / "delivered")
    assert _only_source(result)["rows_accepted"] == 6 and result.quarantine.height == 0


def test_a_date_that_is_no_date_holds_its_row_back_named_by_file_row_column_and_reason(tmp_path, cli):
    # an end date delivered empty would read as a job still running: the row waits for the partner
    plain = plain_payroll(5).with_columns(
        datum_einde=pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("31-02-2024")).otherwise(pl.col("datum_einde")))
    completed = _pseudonymise(cli, tmp_path, plain.write_csv().encode())
    assert completed.returncode == 0, completed.stderr
    assert "4 of 5 rows delivered" in completed.stdout and "31-02-2024" not in completed.stdout + completed.stderr
    partner_side = read_csv_safe(tmp_path / "plain.csv.quarantine.csv", infer_schema=False)
    assert partner_side.select("file", "row_number", "column", "value", "reason", "action").rows() == [
        ("plain.csv", "4", "datum_einde", "31-02-2024", "bad_date", "row held back")]
    sidecar = json.loads(next((tmp_path / "delivered").glob(f"*{META_SUFFIX}")).read_text(encoding="utf-8"))
    assert (sidecar["rows_read"], sidecar["rows"], sidecar["quarantined_by_partner"]) == (5, 4, {"bad_date": 1})
    result = ingest(tmp_path / "delivered")
    assert _only_source(result)["rows_quarantined_by_partner"] == 1 and result.summary["balanced"]


def test_a_held_back_row_delivers_none_of_its_values(tmp_path, cli):
    plain = plain_payroll(4).with_columns(
        pl.when(pl.int_range(pl.len()) == 1).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
        for column, value in (("werknemer_bsn", "123456789"), ("werknemer_geboortedatum", "1995-13-40")))
    completed = _pseudonymise(cli, tmp_path, plain.write_csv().encode())
    assert "3 of 4 rows delivered" in completed.stdout and "1 row not delivered and 0 values left out" in completed.stdout
    partner_side = read_csv_safe(tmp_path / "plain.csv.quarantine.csv", infer_schema=False)
    assert partner_side.select("reason", "action").sort("reason").rows() == [
        ("bad_birth_date", "row held back"), ("bad_bsn", "row held back")]


def test_a_date_of_birth_centuries_ago_is_delivered(tmp_path, cli):
    plain = plain_payroll(3).with_columns(werknemer_geboortedatum=pl.lit("1630-08-01"))
    completed = _pseudonymise(cli, tmp_path, plain.write_csv().encode())
    assert completed.returncode == 0 and "3 of 3 rows delivered" in completed.stdout
    assert "left out" not in completed.stdout


def test_partner_side_truncated_row(tmp_path, cli):
    lines = plain_payroll(6).write_csv().encode().split(b"\n")
    lines[3] = lines[3][: len(lines[3]) // 2]
    completed = _pseudonymise(cli, tmp_path, b"\n".join(lines))
    assert completed.returncode == 0, completed.stderr
    assert "quarantined, wrong_field_count: 1 row(s)" in completed.stdout


def test_partner_side_dutch_excel_export(tmp_path, cli):
    """Excel with Dutch settings, 'CSV (;)': semicolons, Windows-1252, decimal comma, d-m-yyyy."""
    plain = plain_payroll(8).with_columns(
        pl.col("brutoloon").str.replace(".", ",", literal=True),
        pl.col("werknemer_geboortedatum").str.to_date().dt.strftime("%-d-%-m-%Y"))
    exported = plain.write_csv(separator=";").replace("\n", "\r\n").encode("windows-1252", errors="replace")
    completed = _pseudonymise(cli, tmp_path, exported)
    assert completed.returncode == 0, completed.stderr
    assert "8 of 8 rows delivered" in completed.stdout
    result = ingest(tmp_path / "delivered")
    assert _only_source(result)["rows_accepted"] == 8
    (tmp_path / "named").mkdir()
    named = _pseudonymise(cli, tmp_path / "named", exported, "--delimiter", ";", "--encoding", "windows-1252")
    assert named.returncode == 0 and "8 of 8 rows delivered" in named.stdout


def test_partner_side_optional_column_absent(tmp_path, cli):
    completed = _pseudonymise(cli, tmp_path, plain_payroll(6).drop("werknemer_adres_toevoeging", "datum_einde")
                              .write_csv().encode())
    assert completed.returncode == 0, completed.stderr
    assert "column(s) absent, delivered empty: werknemer_adres_toevoeging, datum_einde" in completed.stderr
    assert _only_source(ingest(tmp_path / "delivered"))["rows_accepted"] == 6


def test_partner_side_required_or_renamed_column_missing(tmp_path, cli):
    dropped = _pseudonymise(cli, tmp_path, plain_payroll(3).drop("brutoloon").write_csv().encode())
    assert dropped.returncode == 2 and "column(s) missing from the extract: brutoloon" in dropped.stderr
    renamed = _pseudonymise(cli, tmp_path, plain_payroll(3).rename({"werknemer_bsn": "werknemer_bsnr"}).write_csv().encode())
    assert renamed.returncode == 2 and "werknemer_bsn (did you mean 'werknemer_bsnr'?)" in renamed.stderr


def test_template_round_trip(tmp_path, cli):
    from mhgraph.pseudonymise import template

    path = template("belastingdienst_loonaangifte", tmp_path / "leeg.csv")
    header = path.read_text(encoding="utf-8-sig").strip().split(";")
    # every column of the template, in its order; the partner's own age band may stay empty
    filled = plain_payroll(4).with_columns(leeftijdsklasse=pl.lit(None, dtype=pl.String)).select(header)
    completed = _pseudonymise(cli, tmp_path, codecs.BOM_UTF8 + filled.write_csv(separator=";").encode())
    assert completed.returncode == 0 and "4 of 4 rows delivered" in completed.stdout
    # the spec's delimiter is the delivered extract's: a plaintext file with another is no mistake
    assert "delimiter" not in completed.stdout + completed.stderr
    delivered = next((tmp_path / "delivered").glob("*.csv"))
    assert delivered.read_text(encoding="utf-8").startswith(header[0] + ",")
    with pytest.raises(InputError, match="never overwrites"):
        template("belastingdienst_loonaangifte", path)
