"""Age: the age band of a payroll period whose band is missing, read from the same person's
other periods where they show that the person was under 21 at its start.

The payroll partner derives the age band at the start of each employment period (the data
contract); a record without a date of birth delivers none. A person's bands on their other
periods bound their age: someone who was 16 at the start of 2024 was at most 16 a year
earlier, and someone who was 17 in April 2022 was at least 18 a year later ("15-" bounds the
age only from above: it says nothing about how young the person was). Where those bounds put
the person under 21 for certain, the period gets the *youngest* band they allow, so that the
wage rule compares with the lowest minimum the person can have been entitled to and never
calls a lawful youth wage underpayment. Where the person may have been 21 or older, or where
the bands contradict each other (21+ in 2022 and 16 in 2024: two persons merged, or a data
error), the band stays unknown: the wage rule's own handling of unknown ages applies.

>>> import datetime as dt
>>> edges = pl.DataFrame({"relation_id": ["r1", "r2", "r3"], "type": ["EMPLOYED_BY"] * 3,
...     "from_entity": ["P1"] * 3, "to_entity": ["C1"] * 3,
...     "valid_from": [dt.date(2022, 4, 1), dt.date(2023, 1, 1), dt.date(2024, 1, 1)],
...     "age_band": ["15-", None, "16"]})
>>> youth_bands_from_other_periods(edges).select("relation_id", "age_band", "age_band_inferred").rows()
[('r1', '15-', False), ('r2', '15-', True), ('r3', '16', False)]

Bands of 16 in 2024 and 15 or younger in 2022 leave 15 or younger in 2023 possible: the youngest
band is used. A band on an earlier period bounds the age from below: 17 in April 2022 and 20
in 2025 put the person at 18 or 19 in 2023, and the youngest, 18, is used:

>>> later = edges.with_columns(valid_from=pl.Series([dt.date(2022, 4, 1), dt.date(2023, 6, 1), dt.date(2025, 1, 1)]),
...     age_band=pl.Series(["17", None, "20"]))
>>> youth_bands_from_other_periods(later)["age_band"].to_list()
['17', '18', '20']

An adult band a year later says nothing certain about being under 21, and bands that cannot
all be true say nothing at all:

>>> adult = edges.with_columns(age_band=pl.Series([None, None, "21+"]))
>>> youth_bands_from_other_periods(adult)["age_band"].to_list()
[None, None, '21+']
>>> contradictory = edges.with_columns(age_band=pl.Series(["21+", None, "16"]))
>>> youth_bands_from_other_periods(contradictory)["age_band"].to_list()
['21+', None, '16']
"""

from __future__ import annotations

import polars as pl

from mhgraph.indicators.tables import of_type
from mhgraph.reference import AGE_BAND_YEARS, AGE_BANDS, band_of_age

__all__ = ["youth_bands_from_other_periods"]

_YEAR = 365.25
_BAND_OF_AGE = {age: band_of_age(age) for age in range(15, 21)}  # the bands under 21


def youth_bands_from_other_periods(edges: pl.DataFrame) -> pl.DataFrame:
    """The EMPLOYED_BY rows of ``edges``, in their order, with the missing ``age_band`` of a
    period filled in where the same person's periods with a band show that they were under 21
    at its start: the youngest band those periods allow (each period's band, moved by the years
    between the two starts, bounds the age from below and above). ``age_band_inferred`` says
    which bands were filled in.

    In years since 1970, a band held at time ``t`` puts the birth-relative offset
    ``age - time`` between ``youngest(band) - t`` and ``oldest(band) + 1 - t``; one group by
    person intersects these ranges (empty: the bands contradict each other), and the period
    starting at ``s`` lies in ``[lo + s, hi + s)``.
    """
    jobs = of_type(edges, "EMPLOYED_BY")
    years = pl.col("valid_from").cast(pl.Int32) / _YEAR
    band_years = pl.col("age_band").replace_strict(AGE_BAND_YEARS, return_dtype=pl.Array(pl.Float64, 2))
    per_person = (
        jobs.filter(pl.col("age_band").is_in(list(AGE_BANDS)) & pl.col("valid_from").is_not_null())
        .group_by("from_entity").agg(_lo=(band_years.arr.first() - years).max(), _hi=(band_years.arr.last() - years).min())
        .filter(pl.col("_lo") < pl.col("_hi"))  # bands that can all be true
    )
    # one join of every period with its person's bounds: a period without a band gets one where the
    # bounds put the person under 21 for certain at its start
    under_21 = pl.col("age_band").is_null() & (pl.col("_hi") + years <= AGE_BAND_YEARS["21+"][0])
    inferred = (pl.when(under_21).then((pl.col("_lo") + years).floor().cast(pl.Int64).clip(15, 20))
                .replace_strict(_BAND_OF_AGE, default=None, return_dtype=pl.String))
    return (jobs.join(per_person, on="from_entity", how="left", maintain_order="left")
            .with_columns(_inferred=inferred)
            .with_columns(age_band=pl.coalesce("age_band", "_inferred"), age_band_inferred=pl.col("_inferred").is_not_null())
            .drop("_lo", "_hi", "_inferred"))
