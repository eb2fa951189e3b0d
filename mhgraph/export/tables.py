"""``clusters.parquet`` and ``clusters.csv``: the ranked clusters as a table.

The CSV goes through :func:`mhgraph.safe_output.write_csv_safe` (``;``, decimal comma, UTF-8
with a byte-order mark, for Dutch Excel), so a value that looks like a spreadsheet formula is
written as text. It speaks the documents' language: in a Dutch run its headers are Dutch,
``redenen`` holds the ranking's Dutch reasons (``reasons_nl``: the same counted hits as
``reasons``), ``gemarkeerd`` reads ``ja``/``nee`` (Dutch Excel shows ``WAAR``/``ONWAAR`` only
for its own booleans, not for ``true``/``false`` text) and ``score_delen`` and
``zonder_partner`` are written out with decimal commas. ``clusters.parquet`` is the stage
table as it is, in English.

>>> clusters = pl.DataFrame({"cluster_id": ["C0001"], "rank": [1], "flagged": [True],
...     "reasons": ["crowded_address v1 [belastingdienst] on A1: 9 persons"],
...     "reasons_nl": ["crowded_address v1 [belastingdienst] bij A1: 9 personen"],
...     "without_partner": [[{"partner": "ind", "score": 1.25, "flagged": False}]]})
>>> for column, value in cluster_csv_table(clusters, "nl").row(0, named=True).items():
...     print(column, value)
cluster C0001
rang 1
gemarkeerd ja
redenen crowded_address v1 [belastingdienst] bij A1: 9 personen
zonder_partner ['ind: 1,25 (nee)']
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from mhgraph.export.i18n import DEFAULT_LANGUAGE, words
from mhgraph.safe_output import write_csv_safe

__all__ = ["cluster_csv_table", "write_cluster_tables"]

# How score_delen writes a part's kind: signs, which need no translation.
_PART_SIGNS = {"add": "+", "multiply": "×"}


def _decimal_comma(value: pl.Expr) -> pl.Expr:
    # As write_csv_safe writes a number column: Polars' own digits, with a decimal comma.
    return value.cast(pl.String).str.replace(".", ",", literal=True)


def _yes_no(flag: pl.Expr, lang: str) -> pl.Expr:
    yes, no = words(lang)["flagged_words"]
    return pl.when(flag).then(pl.lit(yes)).when(~flag).then(pl.lit(no))


def cluster_csv_table(ranked: pl.DataFrame, lang: str) -> pl.DataFrame:
    """``ranked`` as ``clusters.csv`` shows it in ``lang``: in English as it is, without
    ``reasons_nl``; in Dutch with Dutch headers, ``reasons_nl`` as the reasons (the English ones
    for tables of an earlier version without it), ``flagged`` as words and the parts of
    ``score_parts`` and ``without_partner`` as text with decimal commas (``pay + 1,5``,
    ``ind: 1,25 (nee)``). Only columns are picked, renamed and written out: the lines themselves
    are the ranking's (:func:`mhgraph.rank.rank_clusters`)."""
    english = ranked.drop("reasons_nl", strict=False)
    if lang == "en":
        return english
    w = words(lang)
    element = pl.element().struct.field
    written = {
        "reasons": pl.col("reasons_nl" if "reasons_nl" in ranked.columns else "reasons"),
        "flagged": _yes_no(pl.col("flagged"), lang),
        "score_parts": pl.col("score_parts").list.eval(pl.format(
            "{} {} {}", element("part"), element("kind").replace_strict(_PART_SIGNS, default=element("kind")),
            _decimal_comma(element("value")))),
        "without_partner": pl.col("without_partner").list.eval(pl.format(
            "{}: {} ({})", element("partner"), _decimal_comma(element("score")), _yes_no(element("flagged"), lang))),
    }
    return (ranked.with_columns(expr.alias(name) for name, expr in written.items() if name in ranked.columns)
            .select(english.columns)
            .rename(lambda column: w["cluster_columns"].get(column, column)))


def write_cluster_tables(out_dir: Path, clusters: pl.DataFrame,
                         lang: str = DEFAULT_LANGUAGE) -> dict[str, Path]:
    """Write every ranked cluster, best rank first, as Parquet and as CSV (in ``lang``)."""
    ranked = clusters.sort(["rank", "cluster_id"], nulls_last=True)
    parquet = Path(out_dir) / "clusters.parquet"
    ranked.write_parquet(parquet, statistics=False)
    return {"clusters_parquet": parquet,
            "clusters_csv": write_csv_safe(cluster_csv_table(ranked, lang), Path(out_dir) / "clusters.csv")}
