"""CSV and Excel output that a spreadsheet cannot run as a formula (CSV/formula injection).

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

__all__ = ["FORMULA_PREFIXES", "neutralise_formulas", "write_csv_safe", "write_excel_safe"]

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
    """Write ``frame`` as CSV (UTF-8) with formulas neutralised; a ``LazyFrame`` is streamed.

    ``write_csv_options`` go to :meth:`polars.DataFrame.write_csv` (e.g. ``separator=";"``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = neutralise_formulas(frame)
    if isinstance(safe, pl.LazyFrame):
        safe.sink_csv(path, **write_csv_options)
    else:
        safe.write_csv(path, **write_csv_options)
    return path


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
