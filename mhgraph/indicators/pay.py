"""Pay: what the workers are paid — wages below the statutory minimum for their age.

>>> import datetime as dt
>>> import polars as pl
>>> nodes = pl.DataFrame({"entity_id": ["C1", "P1", "P2", "P3"], "entity_type": ["company"] + ["person"] * 3})
>>> edges = pl.DataFrame({"relation_id": ["r1", "r2", "r3"], "type": ["EMPLOYED_BY"] * 3,
...     "from_entity": ["P1", "P2", "P3"], "to_entity": ["C1"] * 3, "valid_from": [dt.date(2024, 3, 1)] * 3,
...     "wage": [700.0, 700.0, 700.0], "hours": [100.0] * 3, "age_band": ["21+", "21+", "17"],
...     "partner": ["belastingdienst"] * 3})
>>> wage_below_minimum(nodes, edges, min_employees=2).select("focus_entity", "evidence").row(0)
('C1', ['r1', 'r2'])

EUR 7.00 an hour is far below the adult minimum of EUR 13.27 but above the EUR 5.24 of a
17-year-old, so the third employee is paid lawfully.
"""

from __future__ import annotations

import polars as pl

from mhgraph.indicators.registry import rule
from mhgraph.indicators.tables import hourly_wages

__all__ = ["wage_below_minimum"]


@rule("wage_below_minimum")
def wage_below_minimum(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_employees: int, min_share: float,
                       tolerance: float) -> pl.DataFrame:
    """At least ``min_employees`` persons, and at least ``min_share`` of the employer's paid staff,
    paid an hourly wage (wage / hours on EMPLOYED_BY) below the statutory minimum for their age
    band (:mod:`mhgraph.reference`) by more than ``tolerance`` (a share: 0.02 = 2 %).

    The age band is the ``age_band`` of the EMPLOYED_BY relation, delivered by the payroll
    partner; without it the adult minimum applies, and ``min_share`` keeps a large employer with
    some young staff silent. Focus: the employer.
    """
    wages = hourly_wages(edges, tolerance)
    return (
        wages.group_by("to_entity").agg(
            paid=pl.col("from_entity").n_unique(),
            below=pl.col("from_entity").filter(pl.col("below")).n_unique(),
            unknown_age=pl.col("from_entity").filter(pl.col("below") & ~pl.col("age_known")).n_unique(),
            lowest=pl.col("hourly").filter(pl.col("below")).min(),
            minimum=pl.col("minimum").filter(pl.col("below")).sort_by(pl.col("hourly").filter(pl.col("below"))).first(),
            evidence=pl.col("relation_id").filter(pl.col("below")))
        .filter((pl.col("below") >= min_employees) & (pl.col("below") >= min_share * pl.col("paid")))
        .with_columns(below_share=pl.col("below") / pl.col("paid"))
        .rename({"to_entity": "focus_entity"})
    )
