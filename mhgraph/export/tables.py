"""``clusters.parquet`` and ``clusters.csv``: the ranked clusters as a table.

The CSV goes through :func:`mhgraph.safe_output.write_csv_safe` (``;``, decimal comma, UTF-8
with a byte-order mark, for Dutch Excel), so a value that looks like a spreadsheet formula is
written as text. It speaks the documents' language: in a Dutch run its headers are Dutch,
``redenen`` holds each rule's Dutch reason (``reason_nl`` of the hits) and ``gemarkeerd`` reads
``ja``/``nee`` (Dutch Excel shows ``WAAR``/``ONWAAR`` only for its own booleans, not for
``true``/``false`` text). ``clusters.parquet`` is the stage table as it is, in English.

>>> clusters = pl.DataFrame({"cluster_id": ["C0001"], "rank": [1], "flagged": [True], "reasons": ["..."]})
>>> hits = pl.DataFrame({"indicator": ["crowded_address"], "version": ["1"], "focus_entity": ["A1"],
...     "cluster_id": ["C0001"], "reason": ["9 persons"], "reason_nl": ["9 personen"],
...     "partners": [["belastingdienst"]], "weight": [1.0]})
>>> cluster_csv_table(clusters, hits, "nl").rows(named=True)
[{'cluster': 'C0001', 'rang': 1, 'gemarkeerd': 'ja', 'redenen': 'crowded_address v1 [belastingdienst] bij A1: 9 personen'}]
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from mhgraph.export.i18n import DEFAULT_LANGUAGE, words
from mhgraph.rank import reason_lines
from mhgraph.safe_output import write_csv_safe

__all__ = ["cluster_csv_table", "write_cluster_tables"]


def cluster_csv_table(ranked: pl.DataFrame, hits: pl.DataFrame, lang: str) -> pl.DataFrame:
    """``ranked`` as ``clusters.csv`` shows it in ``lang``: in English as it is; in Dutch with
    Dutch headers, the reasons written again from the Dutch reason of each of ``hits`` (the hits
    the score counts, as :func:`mhgraph.rank.rank_clusters` wrote them; a hit without a Dutch
    reason keeps its English one) and ``flagged`` as words."""
    if lang == "en":
        return ranked
    w = words(lang)
    dutch = pl.coalesce("reason_nl", "reason") if "reason_nl" in hits.columns else pl.col("reason")
    reasons = reason_lines(hits.with_columns(reason=dutch), on=w["reason_on"])
    yes, no = w["flagged_words"]
    return (ranked.drop("reasons").join(reasons, on="cluster_id", how="left", maintain_order="left")
            .with_columns(pl.col("reasons").fill_null(""),
                          flagged=pl.when(pl.col("flagged")).then(pl.lit(yes)).when(~pl.col("flagged")).then(pl.lit(no)))
            .select(ranked.columns)
            .rename(lambda column: w["cluster_columns"].get(column, column)))


def write_cluster_tables(out_dir: Path, clusters: pl.DataFrame, hits: pl.DataFrame,
                         lang: str = DEFAULT_LANGUAGE) -> dict[str, Path]:
    """Write every ranked cluster, best rank first, as Parquet and as CSV (in ``lang``)."""
    ranked = clusters.sort(["rank", "cluster_id"], nulls_last=True)
    parquet = Path(out_dir) / "clusters.parquet"
    ranked.write_parquet(parquet, statistics=False)
    return {"clusters_parquet": parquet,
            "clusters_csv": write_csv_safe(cluster_csv_table(ranked, hits, lang), Path(out_dir) / "clusters.csv")}
