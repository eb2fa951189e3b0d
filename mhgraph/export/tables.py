"""``clusters.parquet`` and ``clusters.csv``: the ranked clusters as a table.

The CSV goes through :func:`mhgraph.safe_output.write_csv_safe`, so a value that looks like a
spreadsheet formula is written as text.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from mhgraph.safe_output import write_csv_safe

__all__ = ["write_cluster_tables"]


def write_cluster_tables(out_dir: Path, clusters: pl.DataFrame) -> dict[str, Path]:
    """Write every ranked cluster, best rank first, as Parquet and as CSV."""
    ranked = clusters.sort(["rank", "cluster_id"], nulls_last=True)
    parquet = Path(out_dir) / "clusters.parquet"
    ranked.write_parquet(parquet, statistics=False)
    return {"clusters_parquet": parquet, "clusters_csv": write_csv_safe(ranked, Path(out_dir) / "clusters.csv")}
