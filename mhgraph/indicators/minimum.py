"""The statutory minimum over a whole payroll period: the average of the rates in force on its
days, for a period during which the minimum rose.

The minimum wage rises every January and July. A worker paid exactly the minimum every month
of a year-long period earns the rate in force at its start for part of the year and the higher
rates after each rise for the rest, so their hourly wage over the period lies above the rate in
force at its start: by about 1 % to 17 % for a year-long period in 2022-2025 (the January 2024
rise alone was 15 %), by up to 22 % for a two-year period. Whether a wage is *at* the minimum (not above it) is therefore judged against the
average rate over the period; whether it is *below* the minimum is still judged against the
lowest rate, the one at the start, so that no lawful wage is called underpayment.

>>> import datetime as dt
>>> periods = pl.DataFrame({"valid_from": [dt.date(2022, 1, 1), dt.date(2023, 3, 1)],
...     "valid_to": [dt.date(2022, 12, 31), dt.date(2023, 4, 30)]})
>>> with_mean_minimum(periods)["mean_minimum"].round(4).to_list()
[10.0507, 11.16]

In 2022 the adult minimum was EUR 9.96 an hour until July and EUR 10.14 after it: the year's
average is EUR 10.05. March and April 2023 lie within one rate.
"""

from __future__ import annotations

import polars as pl

from mhgraph.indicators.tables import minimum_table

__all__ = ["with_mean_minimum"]


def _rates() -> pl.DataFrame:
    """``rate_from``, ``rate``, ``paid_before``: each adult rate from its first day, and the
    minimum earned by one hour a day from the first rate's day up to that day."""
    rates = minimum_table().filter(pl.col("band") == "21+").select("rate_from", rate="minimum")
    days = rates["rate_from"].diff().dt.total_days().shift(-1)
    return rates.with_columns(paid_before=(pl.col("rate") * days).shift(1).fill_null(0.0).cum_sum())


def with_mean_minimum(periods: pl.DataFrame) -> pl.DataFrame:
    """``periods`` (``valid_from``, ``valid_to``) with ``mean_minimum``: the adult hourly minimum
    averaged over the days of the period, each day at the rate then in force; null for a period
    without an end or starting before the first known rate. Row order is kept."""
    rates = _rates()
    out = periods.with_row_index("_row").with_columns(_after=pl.col("valid_to") + pl.duration(days=1))
    for day, earned in (("valid_from", "_at_start"), ("_after", "_at_end")):  # earned up to the day, not on it
        out = (out.sort(day, nulls_last=True)
               .join_asof(rates, left_on=day, right_on="rate_from", strategy="backward", check_sortedness=False)
               .with_columns((pl.col("paid_before") + pl.col("rate") * (pl.col(day) - pl.col("rate_from")).dt.total_days())
                             .alias(earned))
               .drop(rates.columns))
    days = (pl.col("_after") - pl.col("valid_from")).dt.total_days()
    known = pl.col("valid_from") >= rates["rate_from"][0]
    return (out.sort("_row")
            .with_columns(mean_minimum=pl.when(known & (days > 0)).then((pl.col("_at_end") - pl.col("_at_start")) / days))
            .drop("_row", "_after", "_at_start", "_at_end"))
