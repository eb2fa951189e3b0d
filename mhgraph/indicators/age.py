"""Age: the age band of a payroll period whose band is missing, read from the same person's
other periods where they show that the person was under 21 at its start.

The payroll partner derives the age band at the start of each employment period (the data
contract); a record without a date of birth delivers none. A person's bands on their other
periods bound their age: someone who was 16 at the start of 2024 was at most 16 a year
earlier, and someone who was 15 in April 2022 was at least 15 since. Where those bounds put the
person under 21 for certain, the period gets the *youngest* band they allow, so that the wage
rule compares with the lowest minimum the person can have been entitled to and never calls a
lawful youth wage underpayment. Where the person may have been 21 or older, the band stays
unknown: the wage rule's own handling of unknown ages applies.

>>> import datetime as dt
>>> edges = pl.DataFrame({"relation_id": ["r1", "r2", "r3"], "type": ["EMPLOYED_BY"] * 3,
...     "from_entity": ["P1"] * 3, "to_entity": ["C1"] * 3,
...     "valid_from": [dt.date(2022, 4, 1), dt.date(2023, 1, 1), dt.date(2024, 1, 1)],
...     "age_band": ["15-", None, "16"]})
>>> youth_bands_from_other_periods(edges).select("relation_id", "age_band").rows()
[('r1', '15-'), ('r2', '15-'), ('r3', '16')]

Bands of 16 in 2024 and 15 or younger in 2022 leave 15 or younger in 2023 possible: the youngest
band is used. An adult band a year later says nothing certain about being under 21:

>>> adult = edges.with_columns(age_band=pl.Series([None, None, "21+"]))
>>> youth_bands_from_other_periods(adult)["age_band"].to_list()
[None, None, '21+']
"""

from __future__ import annotations

import polars as pl

from mhgraph.reference import AGE_BANDS

__all__ = ["youth_bands_from_other_periods"]

_YEAR = 365.25
# Each band as the ages it holds: [youngest, oldest + 1); "15-" holds every age up to 16.
_BAND_FLOOR = {band: (0.0 if band == "15-" else float(band.rstrip("+"))) for band in AGE_BANDS}
_BAND_CEILING = {band: (float("inf") if band == "21+" else 16.0 if band == "15-" else float(band) + 1) for band in AGE_BANDS}


def youth_bands_from_other_periods(edges: pl.DataFrame) -> pl.DataFrame:
    """``edges`` with the missing ``age_band`` of an EMPLOYED_BY period filled in where the same
    person's periods with a band show that they were under 21 at its start: the youngest band
    those periods allow (each period's band, moved by the years between the two starts, bounds
    the age from below and above). Other rows are returned unchanged.
    """
    jobs = edges.filter((pl.col("type") == "EMPLOYED_BY") & pl.col("valid_from").is_not_null())
    known = jobs.filter(pl.col("age_band").is_in(list(AGE_BANDS))).select(
        person="from_entity", known_from="valid_from",
        floor=pl.col("age_band").replace_strict(_BAND_FLOOR, return_dtype=pl.Float64),
        ceiling=pl.col("age_band").replace_strict(_BAND_CEILING, return_dtype=pl.Float64))
    years_between = (pl.col("known_from") - pl.col("valid_from")).dt.total_days() / _YEAR
    bounds = (
        jobs.filter(~pl.col("age_band").is_in(list(AGE_BANDS)).fill_null(False))
        .select("relation_id", person="from_entity", valid_from="valid_from")
        .join(known, on="person")
        .group_by("relation_id").agg(youngest=(pl.col("floor") - years_between).max(),
                                    oldest=(pl.col("ceiling") - years_between).min())
        .filter(pl.col("oldest") <= 21.0)  # under 21 for certain
        .select("relation_id", inferred=pl.col("youngest").floor().clip(15, 20).cast(pl.Int64).cast(pl.String)
                .replace({"15": "15-"}))
    )
    return (edges.join(bounds, on="relation_id", how="left", maintain_order="left")
            .with_columns(age_band=pl.coalesce("age_band", "inferred")).drop("inferred"))
