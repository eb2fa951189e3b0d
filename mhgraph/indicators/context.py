"""Context: facts that say where exploitation is often found, never that it happened.

>>> import polars as pl
>>> nodes = pl.DataFrame({"entity_id": ["C1", "C2"], "entity_type": ["company"] * 2, "sbi_code": ["96022", "6201"],
...     "partners": [["kvk"], ["kvk"]]})
>>> edges = pl.DataFrame({"relation_id": ["k1"], "type": ["LOCATED_AT"], "from_entity": ["C1"], "to_entity": ["A1"]})
>>> print(high_risk_sector(nodes, edges)["reason"][0])
Sector hairdressing, beauty and nail care (SBI 96022): context only, not an indication by itself.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from mhgraph.indicators.registry import rule
from mhgraph.indicators.tables import of_type

__all__ = ["high_risk_sector"]


@rule("high_risk_sector")
def high_risk_sector(nodes: pl.DataFrame, edges: pl.DataFrame, *, sectors: Mapping[str, str]) -> pl.DataFrame:
    """A company whose SBI code starts with one of ``sectors`` (default
    :data:`mhgraph.reference.HIGH_RISK_SBI_PREFIXES`). Context only: it never raises a cluster
    on its own (see :func:`mhgraph.rank.rank_clusters`). Evidence: the company's KvK
    registration (its LOCATED_AT relations). Focus: the company.
    """
    prefixes = sorted(sectors, key=len, reverse=True)  # the longest prefix names the sector
    firms = (
        nodes.filter((pl.col("entity_type") == "company") & pl.col("sbi_code").is_not_null())
        .with_columns(prefix=pl.coalesce([pl.when(pl.col("sbi_code").str.starts_with(p)).then(pl.lit(p))
                                          for p in prefixes]))
        .filter(pl.col("prefix").is_not_null())
    )
    registration = (of_type(edges, "LOCATED_AT").group_by("from_entity")
                    .agg(evidence=pl.col("relation_id")).rename({"from_entity": "entity_id"}))
    return (
        firms.join(registration, on="entity_id", how="left")
        .select(focus_entity="entity_id", evidence=pl.col("evidence").fill_null(pl.lit([], dtype=pl.List(pl.String()))),
                sbi_code="sbi_code", sector=pl.col("prefix").replace_strict(dict(sectors), return_dtype=pl.String))
    )
