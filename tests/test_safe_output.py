"""CSV and Excel output never carries a cell a spreadsheet would run as a formula, and its CSVs
open in columns, with numbers, dates and accents intact, in Excel with Dutch settings."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile

import polars as pl
import pytest

from mhgraph.safe_output import FORMULA_PREFIXES, neutralise_formulas, write_csv_safe, write_excel_safe

PAYLOADS = ['=HYPERLINK("http://evil.example","klik")', "=cmd|' /C calc'!A0", "+31 6 12345678", "-2+3+cmd|x",
            "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]


@pytest.fixture
def frame() -> pl.DataFrame:
    n = len(PAYLOADS)
    return pl.DataFrame({
        "name": PAYLOADS,
        "safe": ["Jansen"] * n,
        "amount": [-1.5] * n,
        "count": list(range(-3, n - 3)),
        "tags": [[p, "ok"] for p in PAYLOADS],
    })


def test_every_formula_prefix_is_neutralised_and_numbers_stay(frame):
    safe = neutralise_formulas(frame)
    assert safe["name"].to_list() == ["'" + p for p in PAYLOADS]
    assert safe["safe"].to_list() == frame["safe"].to_list()
    assert safe["amount"].to_list() == frame["amount"].to_list() and safe.schema["count"] == pl.Int64
    assert safe["tags"].to_list() == [f"'{p}; ok" for p in PAYLOADS]
    assert set(FORMULA_PREFIXES) == {p[0] for p in PAYLOADS}


def test_lazy_frames_are_neutralised_lazily(frame):
    lazy = neutralise_formulas(frame.lazy())
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(neutralise_formulas(frame))


@pytest.mark.parametrize("lazy", [False, True])
def test_csv_cells_never_start_like_a_formula(frame, tmp_path, lazy):
    path = write_csv_safe(frame.lazy() if lazy else frame, tmp_path / "sub" / "out.csv")
    with open(path, newline="", encoding="utf-8-sig") as handle:  # as Dutch Excel reads it
        rows = list(csv.reader(handle, delimiter=";"))
    cells = [cell for row in rows[1:] for cell in row]
    text_cells = [c for c in cells if not c.lstrip("-").replace(",", "").isdigit()]  # decimal comma
    assert text_cells and not [c for c in text_cells if c[:1] in FORMULA_PREFIXES]
    assert rows[1][0] == "'" + PAYLOADS[0]


def test_excel_holds_no_formula_cell(frame, tmp_path):
    path = write_excel_safe(frame, tmp_path / "out.xlsx", worksheet="clusters")
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    back = pl.read_excel(path, sheet_name="clusters", infer_schema_length=0)
    assert back["name"].to_list() == ["'" + p for p in PAYLOADS]
    assert back["amount"].to_list() == ["-1.5"] * len(PAYLOADS)


# --- Dutch Excel ---------------------------------------------------------------------------------

DUTCH = pl.DataFrame({
    "gemeente": ["Súdwest-Fryslân", "'s-Hertogenbosch", "Den Haag; centrum"],
    "loon": [1234.56, -0.5, 1e6],
    "uren": [40, 0, 173],
    "datum": [dt.date(2024, 1, 31), dt.date(2023, 12, 1), None],
})


def _as_dutch_excel_reads(path) -> list[list[str]]:
    """A .csv as Excel with Dutch regional settings opens it: a UTF-8 byte-order mark means
    UTF-8 (without one the bytes are read as Windows-1252), fields split on the list
    separator ';', quotes as in RFC 4180."""
    data = path.read_bytes()
    text = data[3:].decode("utf-8") if data.startswith(codecs.BOM_UTF8) else data.decode("windows-1252")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def _dutch_number(cell: str) -> float:
    """A number as Dutch Excel takes it: a decimal comma, no other separator; anything else is text."""
    assert re.fullmatch(r"-?\d+(,\d+)?", cell), f"{cell!r} would be text (or a date) in Dutch Excel"
    return float(cell.replace(",", "."))


def test_dutch_excel_opens_every_csv_in_columns_with_numbers_dates_and_accents(tmp_path):
    rows = _as_dutch_excel_reads(write_csv_safe(DUTCH, tmp_path / "x.csv"))
    assert rows[0] == DUTCH.columns and all(len(row) == DUTCH.width for row in rows)
    cells = list(zip(*rows[1:]))
    assert list(cells[0]) == DUTCH["gemeente"].to_list()
    assert [_dutch_number(c) for c in cells[1]] == DUTCH["loon"].to_list()
    assert [_dutch_number(c) for c in cells[2]] == DUTCH["uren"].to_list()
    assert list(cells[3]) == ["2024-01-31", "2023-12-01", ""]  # ISO dates: a date in every Excel locale


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (Debian: libreoffice-calc-nogui) not installed")
def test_libreoffice_with_dutch_settings_reads_numbers_as_numbers(tmp_path):
    """A real spreadsheet: LibreOffice's CSV import with the Dutch (nl-NL, 1043) locale and ';'."""
    write_csv_safe(DUTCH, tmp_path / "x.csv")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--infilter=CSV:59,34,76,1,,1043", "--convert-to", "xlsx", "--outdir", str(tmp_path),
                    str(tmp_path / "x.csv")], check=True, capture_output=True, timeout=300)
    sheet = pl.read_excel(tmp_path / "x.xlsx")
    assert sheet["gemeente"].to_list() == DUTCH["gemeente"].to_list()
    assert sheet.schema["loon"].is_numeric() and sheet["loon"].to_list() == DUTCH["loon"].to_list()
    assert sheet["uren"].cast(pl.Int64).to_list() == DUTCH["uren"].to_list()
