"""The partner-side and ingest commands: ``mhgraph pseudonymise``, ``keygen``, ``specs``, ``ingest``."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from ingest_helpers import KEY, deliver, plain_payroll, plain_referenten, spec_with_file_pattern, valid_bsn

from mhgraph.cli import main
from mhgraph.crypto import keyed_hash, load_key
from mhgraph.errors import InputError
from mhgraph.pseudonymise import NAME_HARDENING, pseudonymise, read_meta
from mhgraph.safe_output import read_csv_safe
from mhgraph.spec import SPEC_DIR, load_specs, specs

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real command in its own process, so that its log output is captured as a user sees it."""
    return subprocess.run([sys.executable, "-m", "mhgraph.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})})


def test_keygen_writes_a_private_key_and_never_overwrites(tmp_path, capsys):
    path = tmp_path / "shared.key"
    assert main(["keygen", "--out", str(path)]) == 0
    secret = path.read_text().strip()
    assert len(secret) == 64 and int(secret, 16) >= 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    printed = capsys.readouterr().out
    assert load_key(path).fingerprint in printed and secret not in printed
    assert main(["keygen", "--out", str(path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert path.read_text().strip() == secret


def test_pseudonymise_never_shows_the_key(tmp_path):
    key_file = tmp_path / "shared.key"
    assert _run("keygen", "--out", str(key_file)).returncode == 0
    secret = key_file.read_text().strip()
    plain = plain_payroll(8)
    plain.write_csv(tmp_path / "loonaangifte_plain.csv")
    completed = _run("pseudonymise", str(tmp_path / "loonaangifte_plain.csv"), "--spec", "belastingdienst_loonaangifte",
                     "--key-file", str(key_file), "--out", str(tmp_path / "out"), "--created", "2025-02-01")
    assert completed.returncode == 0, completed.stderr
    fingerprint = load_key(key_file).for_purpose("riec_integral_assessment").fingerprint
    assert fingerprint in completed.stdout and "8 rows" in completed.stdout
    assert secret not in completed.stdout + completed.stderr
    delivered = tmp_path / "out" / "belastingdienst_loonaangifte.csv"
    meta = read_meta(delivered)
    assert meta == {"source": "belastingdienst_loonaangifte", "partner": "belastingdienst",
                    "purpose": "fiscal_supervision", "run_purpose": "riec_integral_assessment", "name_hardening": NAME_HARDENING,
                    "rows": 8, "key_fingerprint": fingerprint, "created": "2025-02-01",
                    "rows_read": 8, "rows_quarantined_by_partner": 0, "quarantined_by_partner": {},
                    "values_left_out_by_partner": {},
                    "delivered_for_name": keyed_hash(load_key(key_file).for_purpose("riec_integral_assessment"),
                                                     "file_name", "loonaangifte_plain.csv")}
    text = delivered.read_text()
    assert plain["werknemer_bsn"][0] not in text and plain["werknemer_achternaam"][0] not in text
    assert secret not in text + json.dumps(meta)


def test_pseudonymise_reads_the_key_from_the_environment_and_a_spec_file(tmp_path):
    plain_referenten().write_csv(tmp_path / "plain.csv")
    secret = "environment key of at least sixteen bytes"
    completed = _run("pseudonymise", str(tmp_path / "plain.csv"), "--spec", str(SPEC_DIR / "ind_referenten.toml"),
                     "--out", str(tmp_path / "out"), env={"MHGRAPH_KEY": secret})
    assert completed.returncode == 0, completed.stderr
    assert secret not in completed.stdout + completed.stderr
    missing_key = _run("pseudonymise", str(tmp_path / "plain.csv"), "--spec", "ind_referenten",
                       "--out", str(tmp_path / "out2"), env={"MHGRAPH_KEY": ""})
    assert missing_key.returncode == 2 and "MHGRAPH_KEY" in missing_key.stderr


def test_pseudonymise_errors_name_the_file(tmp_path):
    plain_payroll(3).rename({"werknemer_achternaam": "werknemer_achternam"}).write_csv(tmp_path / "plain.csv")
    key_file = tmp_path / "k"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    with pytest.raises(InputError, match=r"plain.csv.*werknemer_achternaam \(did you mean 'werknemer_achternam'\?\)"):
        pseudonymise(tmp_path / "plain.csv", "belastingdienst_loonaangifte", tmp_path / "out", key_file=key_file)
    with pytest.raises(Exception, match="no spec named 'loonaangifte'.*by the path of its file"):
        pseudonymise(tmp_path / "plain.csv", "loonaangifte", tmp_path / "out", key_file=key_file)


def test_pseudonymise_output_is_ingested_cleanly(tmp_path):
    """The partner's tool and the engine agree: a plaintext file with a byte-order mark round-trips."""
    key_file = tmp_path / "k"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    plain = plain_payroll(12)
    (tmp_path / "plain.csv").write_bytes(b"\xef\xbb\xbf" + plain.write_csv().encode())
    pseudonymise(tmp_path / "plain.csv", "belastingdienst_loonaangifte", tmp_path / "in", key_file=key_file,
                 created="2025-03-01")
    from mhgraph.ingest import ingest

    result = ingest(tmp_path / "in")
    assert result.summary["sources"][0]["rows_accepted"] == 12
    assert result.summary["key_fingerprint"] == load_key(key_file).for_purpose("riec_integral_assessment").fingerprint


def test_a_filled_in_template_is_pseudonymised_without_a_delimiter_warning(tmp_path, caplog):
    """The template is written with `;` for Dutch Excel; the spec's `,` is the delivered file's."""
    from mhgraph.pseudonymise import template
    from mhgraph.safe_output import write_csv_safe

    key_file = tmp_path / "k"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    header = template("belastingdienst_loonaangifte", tmp_path / "template.csv").read_text(encoding="utf-8-sig")
    assert header.count(";") > 3
    plain = plain_payroll(12)
    columns = [c for c in header.strip().split(";") if c in plain.columns]
    write_csv_safe(plain.select(columns), tmp_path / "filled.csv")  # as Dutch Excel saves it
    with caplog.at_level("WARNING", logger="mhgraph"):
        pseudonymise(tmp_path / "filled.csv", "belastingdienst_loonaangifte", tmp_path / "in", key_file=key_file,
                     created="2025-03-01")
    assert not [r for r in caplog.records if "delimiter" in r.getMessage()]
    assert read_meta(tmp_path / "in" / "belastingdienst_loonaangifte.csv")["rows"] == 12


def test_a_template_of_a_spec_with_a_file_pattern_is_delivered_under_a_name_without_plaintext(tmp_path, monkeypatch):
    """A partner delivering parts (``file`` a pattern) fills in the template under its own name:
    the delivered file drops the template's plaintext marker, as a spec with one file name does."""
    from mhgraph.ingest import ingest
    from mhgraph.pseudonymise import template
    from mhgraph.safe_output import write_csv_safe

    specs_dir = spec_with_file_pattern(tmp_path / "specs", "ind_referenten", "ind_referenten*.csv").parent
    key_file = tmp_path / "k"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    monkeypatch.chdir(tmp_path)
    filled = template("ind_referenten", spec_dir=specs_dir)
    assert filled.name == "ind_referenten_plaintext.csv"
    header = filled.read_text(encoding="utf-8-sig").strip().split(";")
    write_csv_safe(plain_referenten().select(header), filled)
    delivered = pseudonymise(filled, "ind_referenten", tmp_path / "in", key_file=key_file, created="2025-03-01",
                             spec_dir=specs_dir)
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == ["ind_referenten.csv",
                                                                   "ind_referenten.csv.meta.json"]
    assert delivered == tmp_path / "in" / "ind_referenten.csv"
    part = tmp_path / "ind_referenten_2025-03_plaintext.csv"  # a part named by the partner keeps its own name
    write_csv_safe(plain_referenten(12).slice(6).select(header), part)
    assert pseudonymise(part, "ind_referenten", tmp_path / "in", key_file=key_file, created="2025-03-01",
                        spec_dir=specs_dir).name == "ind_referenten_2025-03.csv"
    sources = ingest(tmp_path / "in", specs=specs_dir).summary["sources"]
    assert sorted(source["rows_accepted"] for source in sources) == [6, 6]


@pytest.mark.parametrize(("plaintext", "delivered"), [
    ("ind_referenten_2025-03_PLAINTEXT.csv", "ind_referenten_2025-03.csv"),
    ("ind_referenten_plaintext_2025.csv", "ind_referenten_2025.csv"),
    ("ind_referenten_2025-03-plaintext.csv", "ind_referenten_2025-03.csv"),
])
def test_a_part_named_plaintext_in_any_case_or_place_is_delivered_under_a_name_without_it(tmp_path, plaintext,
                                                                                          delivered):
    from mhgraph.safe_output import write_csv_safe

    specs_dir = spec_with_file_pattern(tmp_path / "specs", "ind_referenten", "ind_referenten*.csv").parent
    key_file = tmp_path / "k"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    write_csv_safe(plain_referenten(6), tmp_path / plaintext)
    written = pseudonymise(tmp_path / plaintext, "ind_referenten", tmp_path / "in", key_file=key_file,
                           created="2025-03-01", spec_dir=specs_dir)
    assert written.name == delivered
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == [delivered, delivered + ".meta.json"]


def test_an_unfilled_template_is_delivered_as_an_empty_extract(tmp_path):
    """A partner with nothing to deliver this period sends the template's header: an empty extract."""
    from mhgraph.ingest import ingest
    from mhgraph.pseudonymise import template

    key_file = tmp_path / "k"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    template("kvk_functionarissen", tmp_path / "functionarissen.csv")
    delivered = pseudonymise(tmp_path / "functionarissen.csv", "kvk_functionarissen", tmp_path / "in",
                             key_file=key_file, created="2025-03-01")
    meta = read_meta(delivered)
    assert (meta["rows"], meta["rows_read"], meta["rows_quarantined_by_partner"]) == (0, 0, 0)
    source = ingest(tmp_path / "in").summary["sources"][0]
    assert source["rows_read"] == 0 and "the file has a header but no data rows" in source["warnings"]


def test_pseudonymise_names_the_file_once(tmp_path, capsys):
    (tmp_path / "plain.csv").write_bytes(b"")
    key_file = tmp_path / "k"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    status = main(["--quiet", "pseudonymise", str(tmp_path / "plain.csv"), "--spec", "ind_referenten", "--key-file",
                   str(key_file), "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert status == 2 and "the file is empty" in error
    assert error.count(str(tmp_path / "plain.csv")) == 1, error


def test_a_bsn_whose_leading_zero_a_spreadsheet_dropped_gets_the_same_pseudonym(tmp_path):
    """Excel keeps 012345672 in a number cell as 12345672; the checks accept it, and it must link."""
    from mhgraph.pseudonymise import pseudonymise_frame
    from mhgraph.spec import find_spec

    spec = find_spec("belastingdienst_loonaangifte")
    plain = plain_payroll(3).with_columns(werknemer_bsn=pl.Series(["012345672", "12345672", "0123 456 72"]))
    hashes = pseudonymise_frame(plain, spec, KEY)["werknemer_bsn"].to_list()
    assert hashes[0] == hashes[1] == hashes[2] and len(hashes[0]) == 32
    other = pseudonymise_frame(plain.with_columns(werknemer_bsn=pl.lit("123456782")), spec, KEY)["werknemer_bsn"]
    assert other[0] != hashes[0]


def test_pseudonymise_never_writes_over_its_plaintext_input(tmp_path):
    key_file = tmp_path / "k"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    plain = tmp_path / "export" / "ind_referenten.csv"
    plain.parent.mkdir()
    plain_referenten().write_csv(plain)
    before = plain.read_bytes()
    with pytest.raises(InputError, match="ind_referenten.csv: the delivered extract would replace this plaintext"):
        pseudonymise(plain, "ind_referenten", plain.parent, key_file=key_file, quarantine=tmp_path / "q.csv")
    assert plain.read_bytes() == before


@pytest.mark.parametrize("suffix", ["parquet", "xlsx"])
def test_typed_date_cells_are_delivered_in_the_specs_format(tmp_path, suffix):
    """Emmen's dates are day-month-year; its export as a workbook or Parquet holds real dates."""
    import datetime as dt

    from mhgraph.ingest import ingest

    key_file = tmp_path / "k"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    plain = pl.DataFrame({
        "zaaknummer": ["EMM-1", "EMM-2"], "type_vergunning": ["Horeca", "Massagesalon"],
        "besluit": ["Verleend", "Geweigerd"], "besluitdatum": [dt.date(2024, 4, 3), None],
        "aanvrager_kvk_nummer": ["12345678", "87654321"], "aanvrager_naam": ["Oost B.V.", "West VOF"],
        "locatie_postcode": ["7811 AB", "7812 CD"], "locatie_huisnummer": ["1", "2"], "locatie_gemeente": ["Emmen"] * 2})
    path = tmp_path / f"emmen.{suffix}"
    plain.write_parquet(path) if suffix == "parquet" else plain.write_excel(path)
    delivered = pseudonymise(path, "gemeente_emmen_vergunningen", tmp_path / "in", key_file=key_file,
                             created="2025-03-01")
    assert read_meta(delivered)["rows"] == 2
    assert read_csv_safe(delivered, infer_schema=False)["besluitdatum"].to_list() == ["03-04-2024", None]
    result = ingest(tmp_path / "in")
    assert result.summary["sources"][0]["rows_accepted"] == 2
    assert result.relations.filter(pl.col("type") == "HOLDS_PERMIT")["valid_from"].to_list() == [dt.date(2024, 4, 3), None]


@pytest.mark.parametrize("suffix", ["parquet", "xlsx"])
def test_a_kvk_number_whose_leading_zero_a_number_cell_dropped_gets_the_pseudonym_of_its_8_digits(tmp_path, suffix):
    """A spreadsheet keeps KvK number 01234567 in a number cell as 1234567; written as text, 7 digits stay refused."""
    key_file = tmp_path / "k"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    as_text = plain_referenten(2).with_columns(referent_kvk_nummer=pl.Series(["01234567", "1234567"]))
    as_text.write_csv(tmp_path / "text.csv")
    from_text = pseudonymise(tmp_path / "text.csv", "ind_referenten", tmp_path / "text", key_file=key_file,
                             quarantine=tmp_path / "text.q.csv", created="2025-03-01")
    refused = read_csv_safe(tmp_path / "text.q.csv", infer_schema=False)
    assert refused.select("row_number", "reason").rows() == [("2", "bad_kvk_number")]
    as_numbers = as_text.with_columns(referent_kvk_nummer=pl.Series([1234567, 1234567], dtype=pl.Int64))
    path = tmp_path / f"numbers.{suffix}"
    as_numbers.write_parquet(path) if suffix == "parquet" else as_numbers.write_excel(path)
    from_numbers = pseudonymise(path, "ind_referenten", tmp_path / "numbers", key_file=key_file,
                                quarantine=tmp_path / "numbers.q.csv", created="2025-03-01")
    assert read_csv_safe(tmp_path / "numbers.q.csv", infer_schema=False).is_empty()
    hashed = pl.read_csv(from_numbers, infer_schema=False)["referent_kvk_nummer"].to_list()
    assert hashed == [pl.read_csv(from_text, infer_schema=False)["referent_kvk_nummer"][0]] * 2
    # a workbook column of text cells is text: its 7 digits stay refused
    if suffix == "xlsx":
        as_text.write_excel(tmp_path / "text.xlsx")
        pseudonymise(tmp_path / "text.xlsx", "ind_referenten", tmp_path / "text_xlsx", key_file=key_file,
                     quarantine=tmp_path / "text_xlsx.q.csv", created="2025-03-01")
        refused = read_csv_safe(tmp_path / "text_xlsx.q.csv", infer_schema=False)
        assert refused.select("row_number", "reason").rows() == [("2", "bad_kvk_number")]


def test_a_repeated_record_id_is_held_back_naming_the_row_that_used_it_first(tmp_path):
    key_file = tmp_path / "k"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    plain = plain_referenten(6).with_columns(referent_id=pl.Series(["R0", "R1", "R2", "R1", "R4", "R1"]))
    plain.write_csv(tmp_path / "plain.csv")
    pseudonymise(tmp_path / "plain.csv", "ind_referenten", tmp_path / "in", key_file=key_file,
                 quarantine=tmp_path / "q.csv", created="2025-03-01")
    held = read_csv_safe(tmp_path / "q.csv", infer_schema=False)
    assert held.select("row_number", "reason", "message").rows() == [
        ("4", "duplicate_record_id", "the record id was already used on row 2"),
        ("6", "duplicate_record_id", "the record id was already used on row 2")]


def test_values_the_partner_left_out_reach_the_ingest_summary(tmp_path):
    """A date of birth that does not exist costs its value, not the row; the engine's account says so."""
    from mhgraph.ingest import ingest

    key_file = tmp_path / "k"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    plain = plain_payroll(5)
    plain = plain.with_columns(werknemer_geboortedatum=pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("31-02-1990"))
                               .otherwise(pl.col("werknemer_geboortedatum")))
    plain.write_csv(tmp_path / "plain.csv")
    pseudonymise(tmp_path / "plain.csv", "belastingdienst_loonaangifte", tmp_path / "in", key_file=key_file,
                 created="2025-03-01")
    summary = ingest(tmp_path / "in").summary
    assert summary["sources"][0]["values_left_out_by_partner"] == {"bad_birth_date": 1}
    assert summary["sources"][0]["rows_accepted"] == 5
    assert "values the partner's checks left out of delivered rows: bad_birth_date 1" in summary.format()


def test_specs_command_lists_the_shipped_specs(capsys):
    assert main(["specs"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["name", "partner", "purpose", "file"]
    table = specs()
    assert len(out) == 1 + table.height == 1 + len(load_specs())
    assert any(line.split() == ["gemeente_emmen_vergunningen", "gemeente_emmen", "administrative_supervision",
                                "gemeente_emmen_vergunningen.csv"] for line in out)


def test_ingest_command_writes_tables_and_reports_quarantine(tmp_path, capsys):
    folder = tmp_path / "in"
    plain = plain_payroll(10).with_columns(
        werknemer_adres_gemeente=pl.when(pl.col("regelnummer") == "L000002").then(pl.lit("=cmd|' /C calc'!A0"))
        .otherwise(pl.col("werknemer_adres_gemeente")))
    deliver(folder, "belastingdienst_loonaangifte", plain)
    frame = pl.read_csv(folder / "belastingdienst_loonaangifte.csv", infer_schema=False)
    frame.with_columns(werknemer_bsn=pl.when(pl.col("regelnummer") == "L000005").then(pl.lit(valid_bsn(5)))
                       .otherwise(pl.col("werknemer_bsn"))).write_csv(folder / "belastingdienst_loonaangifte.csv")
    out = tmp_path / "out"
    assert main(["ingest", str(folder), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "10 rows read, 8 accepted, 2 quarantined (formula 1, plaintext_identifier 1)" in printed
    assert "quarantined, formula: 1 row(s)" in printed and "quarantined, plaintext_identifier: 1 row(s)" in printed
    for table in ("mentions", "relations", "quarantine"):
        assert pl.read_parquet(out / "tables" / f"{table}.parquet").height > 0
    quarantine_csv = read_csv_safe(out / "quarantine.csv", infer_schema=False)
    assert quarantine_csv["value"].to_list() == ["'=cm… (18 chars)", "(9 digits)"]
    assert json.loads((out / "ingest_summary.json").read_text())["sources"][0]["rows_quarantined"] == 2

    assert main(["ingest", str(folder), "--out", str(tmp_path / "out2"), "--max-quarantine-share", "0.1"]) == 2
    assert "2 of 10 rows (20.0%) were quarantined, more than the allowed 10.0%" in capsys.readouterr().err


def test_ingest_command_with_another_spec_folder(tmp_path, capsys):
    specs_dir = tmp_path / "specs"
    specs_dir.mkdir()
    (specs_dir / "ind_referenten.toml").write_text((SPEC_DIR / "ind_referenten.toml").read_text())
    deliver(tmp_path / "in", "ind_referenten", plain_referenten())
    deliver(tmp_path / "in", "belastingdienst_loonaangifte", plain_payroll(3))
    assert main(["ingest", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--specs", str(specs_dir)]) == 0
    printed = capsys.readouterr().out
    assert "ind_referenten" in printed and "files no spec matches (not read)" in printed
    assert KEY.fingerprint in printed


def _key_file(tmp_path: Path) -> Path:
    key_file = tmp_path / "k"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    return key_file


def _pseudonymised(tmp_path: Path, path: Path, spec: str, name: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The delivered extract and the partner-side quarantine of ``path``, as text."""
    delivered = pseudonymise(path, spec, tmp_path / name, key_file=_key_file(tmp_path),
                             quarantine=tmp_path / f"{name}.q.csv", created="2025-03-01")
    from mhgraph.spec import find_spec

    source = find_spec(spec)
    return (pl.read_csv(delivered, separator=source.delimiter or ",", encoding=source.encoding or "utf8",
                        infer_schema=False),
            read_csv_safe(tmp_path / f"{name}.q.csv", infer_schema=False))


def test_a_number_written_as_a_decimal_is_never_read_as_other_digits(tmp_path):
    """A float column holds BSN 010000094 as 10000094.0 and KvK number 01234567 as 1234567.0: the digits
    are 010000094 and 01234567, never 100000940 (which passes the eleven-test) or 12345670."""
    text = plain_payroll(4).with_columns(
        werkgever_kvk_nummer=pl.Series(["01234567", "1234.567.8", "1234567.0", "12345678"]),
        werknemer_bsn=pl.Series(["010000094", "0100.00.094", "10000094.0", valid_bsn(7)]))
    text.write_csv(tmp_path / "text.csv")
    from_text, refused = _pseudonymised(tmp_path, tmp_path / "text.csv", "belastingdienst_loonaangifte", "text")
    # written as text, the decimal is refused; dots between the digits are still separators
    assert sorted(refused.select("row_number", "reason").rows()) == [("3", "bad_bsn"), ("3", "bad_kvk_number")]
    assert from_text["werknemer_bsn"][0] == from_text["werknemer_bsn"][1]
    floats = text.with_columns(werkgever_kvk_nummer=pl.Series([1234567.0, 12345678.0, 1234567.5, 12345678.0]),
                               werknemer_bsn=pl.Series([10000094.0, 10000094.0, 10000094.0, float(valid_bsn(7))]))
    floats.write_parquet(tmp_path / "floats.parquet")
    from_floats, refused = _pseudonymised(tmp_path, tmp_path / "floats.parquet", "belastingdienst_loonaangifte", "floats")
    assert refused.select("row_number", "reason").rows() == [("3", "bad_kvk_number")]  # 1234567.5 is no KvK number
    assert from_floats["werknemer_bsn"][0] == from_text["werknemer_bsn"][0]
    assert from_floats["werkgever_kvk_nummer"][0] == from_text["werkgever_kvk_nummer"][0]
    assert from_floats["werkgever_kvk_nummer"][1] == from_text["werkgever_kvk_nummer"][2]


def _workbook(path: Path, header: list[str], rows: list[list]) -> Path:
    """A workbook as a spreadsheet saves it: numbers, booleans and dates as typed cells."""
    import datetime as dt

    import xlsxwriter

    with xlsxwriter.Workbook(str(path)) as workbook:
        sheet = workbook.add_worksheet()
        sheet.write_row(0, 0, header)
        dates = workbook.add_format({"num_format": "dd-mm-yyyy hh:mm"})
        for i, row in enumerate(rows, start=1):
            for j, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    sheet.write_datetime(i, j, value, dates)
                elif isinstance(value, bool):
                    sheet.write_boolean(i, j, value)
                elif isinstance(value, (int, float)):
                    sheet.write_number(i, j, value)
                elif value is not None:
                    sheet.write_string(i, j, value)
    return path


def test_only_a_7_digit_number_cell_is_taken_for_a_kvk_number_that_lost_its_zero(tmp_path):
    """0 or 42 in a number cell is no KvK number: padding it to 00000000 would link every company
    with such a value. A column with a boolean cell is not a column of numbers."""
    header = list(plain_referenten(1).columns)
    rows = [[f"R{i}", kvk, f"Referent {i} B.V.", "erkend", "2020-01-15", None]
            for i, kvk in enumerate([0, 42, 1234567])]
    delivered, refused = _pseudonymised(tmp_path, _workbook(tmp_path / "numbers.xlsx", header, rows),
                                        "ind_referenten", "numbers")
    assert refused.select("row_number", "reason").rows() == [("1", "bad_kvk_number"), ("2", "bad_kvk_number")]
    assert delivered["referent_id"].to_list() == ["R2"]
    plain_referenten(2).with_columns(referent_kvk_nummer=pl.Series(["00000000", "0000 0000"])).write_csv(tmp_path / "z.csv")
    _, refused = _pseudonymised(tmp_path, tmp_path / "z.csv", "ind_referenten", "zeros")
    assert refused.select("row_number", "reason").rows() == [("1", "bad_kvk_number"), ("2", "bad_kvk_number")]
    rows = [["R0", True, "A B.V.", "erkend", "2020-01-15", None], ["R1", 1234567, "B B.V.", "erkend", "2020-01-15", None]]
    _, refused = _pseudonymised(tmp_path, _workbook(tmp_path / "mixed.xlsx", header, rows), "ind_referenten", "mixed")
    assert refused.select("row_number", "reason").rows() == [("1", "bad_kvk_number"), ("2", "bad_kvk_number")]


def test_a_workbook_is_parsed_again_for_its_cell_types_only_when_a_value_reads_otherwise_from_a_number(
        tmp_path, monkeypatch):
    """8-digit KvK numbers read the same from number cells and from text, so the sheet is parsed
    once; a 7-digit number cell (a KvK number that lost its leading zero) needs the cell types,
    and gets them. The types are still read by the reader itself (recorded, not replaced)."""
    from mhgraph.ingest.readers import ExcelExtract

    asked = []
    number_columns = ExcelExtract.number_columns
    monkeypatch.setattr(ExcelExtract, "number_columns",
                        lambda extract, columns: asked.append(columns) or number_columns(extract, columns))
    header = list(plain_referenten(1).columns)
    rows = [[f"R{i}", kvk, f"Referent {i} B.V.", "erkend", "2020-01-15", None]
            for i, kvk in enumerate([60000000, "60000001"])]
    delivered, _ = _pseudonymised(tmp_path, _workbook(tmp_path / "eight.xlsx", header, rows), "ind_referenten", "eight")
    assert asked == [] and delivered.height == 2
    rows[1][1] = 1234567
    delivered, refused = _pseudonymised(tmp_path, _workbook(tmp_path / "seven.xlsx", header, rows), "ind_referenten",
                                        "seven")
    assert asked == [["referent_kvk_nummer"]] and delivered.height == 2 and refused.height == 0


def test_a_bsn_number_cell_with_a_decimal_point_is_refused_and_dots_in_text_are_separators(tmp_path):
    """The number cell 1234567.82 is no BSN, though its digits as text would be 123456782, a valid
    one; the text cell 123.456.782 is that BSN. Only the cell types tell them apart, so a dot in a
    value has the sheet's cell types read."""
    header = ["zaaknummer", "type_vergunning", "besluit", "besluitdatum", "aanvrager_kvk_nummer", "aanvrager_naam",
              "aanvrager_bsn", "aanvrager_voornaam", "aanvrager_achternaam", "aanvrager_geboortedatum"]

    def delivered_bsns(name: str, bsns: list) -> tuple[list, list]:
        rows = [[f"Z{i}", "Horeca", "Verleend", "2024-04-03", "12345678", "A B.V.", bsn, "Jan", "Jansen", "1985-06-07"]
                for i, bsn in enumerate(bsns)]
        delivered, refused = _pseudonymised(tmp_path, _workbook(tmp_path / f"{name}.xlsx", header, rows),
                                            "gemeente_emmen_vergunningen", name)
        return delivered["aanvrager_bsn"].to_list(), refused.select("row_number", "reason").rows()

    plain, _ = delivered_bsns("plain", ["123456782", int(valid_bsn(2))])
    assert delivered_bsns("decimal", [1234567.82, int(valid_bsn(2))]) == (plain[1:], [("1", "bad_bsn")])
    assert delivered_bsns("dots", ["123.456.782", int(valid_bsn(2))]) == (plain, [])


def test_date_cells_with_a_time_of_day_are_delivered_as_their_date(tmp_path):
    """A date cell may carry a time (13:45, or the half day of serial date 45000.5): the date is the day."""
    import datetime as dt

    from mhgraph.ingest import ingest

    header = ["zaaknummer", "type_vergunning", "besluit", "besluitdatum", "aanvrager_kvk_nummer", "aanvrager_naam",
              "aanvrager_bsn", "aanvrager_voornaam", "aanvrager_achternaam", "aanvrager_geboortedatum"]
    rows = [["Z1", "Horeca", "Verleend", dt.datetime(2024, 4, 3, 13, 45), "12345678", "A B.V.", valid_bsn(1), "Jan",
             "Jansen", dt.datetime(1985, 6, 7, 23, 59)],
            ["Z2", "Horeca", "Verleend", dt.datetime(2023, 3, 15, 12, 0), "12345678", "A B.V.", valid_bsn(2), "Piet",
             "Pietersen", dt.datetime(1975, 6, 7)]]
    path = _workbook(tmp_path / "emmen.xlsx", header, rows)
    delivered, refused = _pseudonymised(tmp_path, path, "gemeente_emmen_vergunningen", "in")
    assert refused.is_empty()
    assert delivered["besluitdatum"].to_list() == ["03-04-2024", "15-03-2023"]
    assert delivered["aanvrager_geboortedatum_bf"].null_count() == 0
    result = ingest(tmp_path / "in")
    assert result.summary["sources"][0]["rows_accepted"] == 2
    assert read_meta(tmp_path / "in" / "gemeente_emmen_vergunningen.csv")["values_left_out_by_partner"] == {}


def test_pseudonymise_never_overwrites_its_input_under_another_name(tmp_path):
    """A hard link to the plaintext file in the --out folder, or --quarantine naming it, is refused."""
    import os

    key_file = _key_file(tmp_path)
    plain = tmp_path / "export" / "referenten.csv"
    plain.parent.mkdir()
    plain_referenten().write_csv(plain)
    before = plain.read_bytes()
    with pytest.raises(InputError, match="the partner-side quarantine would replace this plaintext"):
        pseudonymise(plain, "ind_referenten", tmp_path / "out", key_file=key_file, quarantine=plain)
    (tmp_path / "out").mkdir(exist_ok=True)
    os.link(plain, tmp_path / "out" / "ind_referenten.csv")
    with pytest.raises(InputError, match="the delivered extract would replace this plaintext"):
        pseudonymise(plain, "ind_referenten", tmp_path / "out", key_file=key_file, quarantine=tmp_path / "q.csv")
    os.link(plain, tmp_path / "linked.csv")
    with pytest.raises(InputError, match="the partner-side quarantine would replace this plaintext"):
        pseudonymise(plain, "ind_referenten", tmp_path / "out2", key_file=key_file, quarantine=tmp_path / "linked.csv")
    assert plain.read_bytes() == before


def test_a_file_name_no_spec_matches_is_listed_without_a_bsn_it_holds(tmp_path):
    from mhgraph.ingest import ingest

    deliver(tmp_path / "in", "ind_referenten", plain_referenten())
    (tmp_path / "in" / "Jansen 123456782 x.csv").write_text("a,b\n1,2\n")
    (tmp_path / "in" / "notities.csv").write_text("a,b\n1,2\n")
    summary = ingest(tmp_path / "in").summary
    assert [Path(f).name for f in summary["unmatched_files"]] == ["(22 chars, sha256 30fc)", "notities.csv"]
    assert "123456782" not in summary.format() and "123456782" not in json.dumps(summary)


def test_a_workbook_is_read_once_for_its_text_and_the_types_of_its_number_columns(tmp_path):
    """Which columns hold numbers comes from the workbook as it was opened: a file replaced or
    removed after that changes neither the text nor the types."""
    from mhgraph.ingest.readers import open_extract
    from mhgraph.spec import find_spec

    path = _workbook(tmp_path / "w.xlsx", ["id", "kvk", "bedrag"], [["R1", 1234567, 5.5], ["R2", 7654321, 6]])
    extract = open_extract(path, find_spec("ind_referenten"))
    _workbook(path, ["id", "kvk", "bedrag"], [["R1", "01234567", "5,5"], ["R2", "07654321", "6"]])  # all text now
    assert extract.number_columns(["kvk", "id", "absent"]) == {"kvk"}
    assert extract.number_columns(["kvk", "kvk"]) == {"kvk"}  # a column two entities read
    path.unlink()
    assert extract.number_columns(["kvk", "bedrag"]) == {"kvk", "bedrag"}
    assert extract.number_columns([]) == frozenset()
    batch = next(extract.batches(["id", "kvk"]))
    assert batch.frame.select("id", "kvk").rows() == [("R1", "1234567"), ("R2", "7654321")]


def test_an_interrupted_delivery_leaves_the_earlier_extract_whole_and_no_sidecar_of_it(tmp_path):
    from mhgraph.crypto import Key
    from mhgraph.pseudonymise import META_SUFFIX, pseudonymise_frame, write_extract
    from mhgraph.spec import SPEC_DIR, load_spec

    spec = load_spec(SPEC_DIR / "ind_referenten.toml")
    key = Key(b"an example key, at least 16 bytes")
    plain = pl.DataFrame({"referent_id": ["R1", "R2"], "referent_kvk_nummer": ["12345678", "87654321"],
                          "referent_naam": ["Flex B.V.", "Oogst VOF"], "status": ["erkend", "geschorst"],
                          "datum_wijziging": [None, "01-02-2022"]})
    earlier = write_extract(pseudonymise_frame(plain, spec, key), spec, tmp_path, key.fingerprint, "2025-01-01")
    delivered = earlier.read_bytes()
    # a folder where the new extract's temporary file would go: the rerun fails while writing
    (tmp_path / f".{earlier.name}.partial").mkdir()
    with pytest.raises(OSError):
        write_extract(pseudonymise_frame(plain.head(1), spec, key), spec, tmp_path, key.fingerprint, "2025-02-01")
    assert earlier.read_bytes() == delivered  # never part of the new extract
    assert not Path(str(earlier) + META_SUFFIX).exists()  # nor the old row count beside a file it may not describe
