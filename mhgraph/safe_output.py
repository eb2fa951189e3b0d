"""CSV and Excel output that Dutch Excel opens in columns and cannot run as a formula.

**Dutch Excel.** Excel opens a ``.csv`` with the list separator of the computer's regional
settings: ``;`` in the Netherlands, where ``,`` is the decimal comma. A CSV written with ``,``
opens there in one column, and ``1234.56`` becomes text or a date. So every CSV mhgraph
writes for people (``quarantine.csv``, ``clusters.csv``, ``partners/*.csv``, the partner-side
quarantine) is the CSV Dutch Excel itself writes: ``;`` between fields, a decimal comma,
UTF-8 with a byte-order mark (without it Excel reads the bytes as Windows-1252 and
``Súdwest-Fryslân`` comes out garbled) and ISO dates (``2024-01-31``, which Excel recognises
as a date in every locale). :func:`read_csv_safe` reads such a file back in Polars.

**Formulas** (CSV/formula injection).

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula; ``=HYPERLINK(...)`` or ``=cmd|' /C calc'!A0`` in a partner's field would
then run on an analyst's machine. Every text value that starts so is prefixed with ``'``
(the OWASP advice), in every CSV or Excel file mhgraph writes. Numbers stay numbers.
List columns are written as their items joined by ``"; "``.

>>> frame = pl.DataFrame({"name": ["=HYPERLINK(\\"http://x\\")", "Jansen", "-2+3"], "n": [1, -2, 3]})
>>> neutralise_formulas(frame).rows()
[('\\'=HYPERLINK("http://x")', 1), ('Jansen', -2), ("'-2+3", 3)]
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

__all__ = ["CSV_OPTIONS", "FORMULA_PREFIXES", "neutralise_formulas", "read_csv_safe", "write_csv_safe",
           "write_excel_safe"]

# How a CSV for Dutch Excel is written (Polars' write_csv / sink_csv options).
CSV_OPTIONS = {"separator": ";", "decimal_comma": True, "include_bom": True, "date_format": "%Y-%m-%d"}

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_STARTS_LIKE_FORMULA = r"^[=+\-@\t\r]"


def _flat_text(name: str, dtype: pl.DataType) -> pl.Expr | None:
    """A string expression for a text or list column, ``None`` for any other column."""
    column = pl.col(name)
    if dtype == pl.String:
        return column
    if isinstance(dtype, pl.List):
        return column.list.eval(pl.element().cast(pl.String)).list.join("; ")
    if dtype in (pl.Categorical, pl.Enum) or isinstance(dtype, pl.Enum):
        return column.cast(pl.String)
    return None


def neutralise_formulas(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """``frame`` with every text value that starts like a formula prefixed with ``'``.

    Lists become ``"; "``-joined text first, so that each cell is checked as written.
    Works on a ``DataFrame`` or a ``LazyFrame`` (then nothing is read until collected).
    """
    schema = frame.collect_schema()
    rewritten = []
    for name, dtype in schema.items():
        text = _flat_text(name, dtype)
        if text is not None:
            rewritten.append(
                pl.when(text.str.contains(_STARTS_LIKE_FORMULA)).then(pl.concat_str(pl.lit("'"), text))
                .otherwise(text).alias(name)
            )
    return frame.with_columns(rewritten) if rewritten else frame


def write_csv_safe(frame: pl.DataFrame | pl.LazyFrame, path: str | Path, **write_csv_options) -> Path:
    """Write ``frame`` as a CSV for Dutch Excel (:data:`CSV_OPTIONS`) with formulas neutralised;
    a ``LazyFrame`` is streamed.

    ``write_csv_options`` go to :meth:`polars.DataFrame.write_csv` and override the Dutch ones.

    >>> import tempfile, pathlib
    >>> path = write_csv_safe(pl.DataFrame({"gemeente": ["Súdwest-Fryslân"], "loon": [1234.5]}),
    ...                       pathlib.Path(tempfile.mkdtemp()) / "x.csv")
    >>> path.read_bytes().decode("utf-8")
    '\\ufeffgemeente;loon\\nSúdwest-Fryslân;1234,5\\n'
    >>> read_csv_safe(path).rows()
    [('Súdwest-Fryslân', 1234.5)]
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = neutralise_formulas(frame)
    options = {**CSV_OPTIONS, **write_csv_options}
    if isinstance(safe, pl.LazyFrame):
        safe.sink_csv(path, **options)
    else:
        safe.write_csv(path, **options)
    return path


def read_csv_safe(path: str | Path, **read_csv_options) -> pl.DataFrame:
    """Read a CSV that :func:`write_csv_safe` wrote (``;``, decimal comma, byte-order mark)."""
    return pl.read_csv(path, separator=";", decimal_comma=True, **read_csv_options)


def write_excel_safe(frame: pl.DataFrame | pl.LazyFrame, path: str | Path, worksheet: str = "data") -> Path:
    """Write ``frame`` as an ``.xlsx`` workbook with formulas neutralised.

    Besides the ``'`` prefix, the workbook is opened with ``strings_to_formulas`` and
    ``strings_to_urls`` off, so that no text cell is ever stored as a formula or a link.
    """
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = neutralise_formulas(frame)
    if isinstance(safe, pl.LazyFrame):
        safe = safe.collect()
    with xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False}) as workbook:
        safe.write_excel(workbook, worksheet=worksheet, autofit=True)
    return path
