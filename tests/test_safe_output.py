"""CSV and Excel output never carries a cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
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
