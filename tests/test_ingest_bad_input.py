"""The bad-input corpus: one clean delivered payroll extract (40 rows, pseudonymised with
``mhgraph.pseudonymise`` from a plaintext frame), damaged in one way per case.

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
| missing_sidecar | no .meta.json | read, warning in the summary |
| bad_values | not a number, out of range, unknown category, missing required | one reason each |
| utf16 | file in UTF-16 | InputError: export as UTF-8 |
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest
from ingest_helpers import KEY, OTHER_KEY, deliver, plain_eindhoven, plain_payroll, plain_referenten, valid_bsn

from mhgraph.errors import InputError
from mhgraph.ingest import ingest
from mhgraph.safe_output import write_csv_safe, write_excel_safe

PAYROLL = "belastingdienst_loonaangifte.csv"


@pytest.fixture
def folder(tmp_path) -> Path:
    """A folder holding one clean delivered payroll extract of 40 rows plus its sidecar."""
    deliver(tmp_path / "in", "belastingdienst_loonaangifte", plain_payroll(40))
    return tmp_path / "in"


def _lines(folder: Path) -> list[bytes]:
    return (folder / PAYROLL).read_bytes().split(b"\n")


def _write_lines(folder: Path, lines: list[bytes]) -> None:
    (folder / PAYROLL).write_bytes(b"\n".join(lines))


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
    with pytest.raises(InputError, match=r"duplicated column names.*'brutoloon' in columns 16, 17") as error:
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


def test_missing_sidecar_is_a_warning(folder):
    (folder / (PAYROLL + ".meta.json")).unlink()
    source = _only_source(ingest(folder))
    assert source["rows_accepted"] == 40 and source["key_fingerprint"] is None
    assert any("no sidecar" in w for w in source["warnings"])


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
    assert any(m.startswith("the row has 20 fields but the header has 19") for m in quarantine["message"])
    assert not {5, 20, 31, 64, 99} & set(result.mentions["row_number"].to_list())
    with pytest.raises(InputError, match=r"5 of 100 rows \(5.0%\) were quarantined, more than the allowed 1.0%"):
        ingest(folder, max_quarantine_share=0.01)
    assert _only_source(ingest(folder, max_quarantine_share=0.05))["rows_quarantined"] == 5


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
    assert not re.search(r'(^|,)"?[=+\-@]', csv_text, flags=re.MULTILINE)
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
    _edit(folder, 8, "werknemer_bsn", "Jan Jansen")
    result = ingest(folder, out_dir=tmp_path / "out")
    rows = result.quarantine.select("row_number", "column", "reason", "value").rows()
    assert rows == [(3, "werknemer_bsn", "plaintext_identifier", "(9 digits)"),
                    (8, "werknemer_bsn", "plaintext_identifier", "(10 chars: letters and spaces)")]
    messages = result.quarantine["message"].to_list()
    assert "plaintext BSN (9 digits passing the eleven-test)" in messages[0]
    assert "readable name" in messages[1]
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


def test_xlsx_typed_date_cells(tmp_path):
    """A workbook saved by a spreadsheet holds real date cells, not text."""
    import datetime as dt

    import xlsxwriter

    spec_columns = pl.read_excel(deliver(tmp_path / "a", "gemeente_eindhoven_vergunningen", plain_eindhoven(1)),
                                 infer_schema_length=0)
    path = tmp_path / "b" / "gemeente_eindhoven_vergunningen.xlsx"
    path.parent.mkdir()
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
    values = pl.read_csv(path, infer_schema=False)["value"].to_list()
    assert values == ["'@SU… (11 chars)", "'+31… (10 chars)", "(5 chars)"]
