"""Housing: where the workers live — crowded addresses and workers living at the workplace.

>>> import datetime as dt
>>> import polars as pl
>>> ids = [f"P{i}" for i in range(9)]
>>> nodes = pl.DataFrame({"entity_id": ids + ["A1"], "entity_type": ["person"] * 9 + ["address"]})
>>> edges = pl.DataFrame({"relation_id": [f"ind/{i}/REGISTERED_AT" for i in range(9)],
...     "type": ["REGISTERED_AT"] * 9, "from_entity": ids, "to_entity": ["A1"] * 9,
...     "valid_from": [dt.date(2024, 1, 1)] * 9, "partner": ["ind"] * 9})
>>> hits = crowded_address(nodes, edges)
>>> hits.select("indicator", "focus_entity", "weight").row(0)
('crowded_address', 'A1', 0.75)
>>> print(hits["reason"][0])
9 distinct persons were registered at this address at the same time on 2024-01-01 (threshold 8).
"""

from __future__ import annotations

import polars as pl

from mhgraph.indicators.registry import rule
from mhgraph.indicators.tables import FLAT, companies, of_type, overlaps, peak_presence, with_period

__all__ = ["crowded_address", "worker_lives_at_workplace"]


@rule("crowded_address")
def crowded_address(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_persons: int) -> pl.DataFrame:
    """At least ``min_persons`` distinct persons registered (REGISTERED_AT) at one address at one time.

    Registrations of one person from several partners (payroll, IND, KvK) are merged first, so
    a person counts once. The peak is the first day on which the most persons were registered;
    the evidence is the registrations in force on that day. Focus: the address. An address is
    one dwelling (postcode, number and addition): a student complex whose rooms have their own
    additions is many addresses, not one crowded one.
    """
    registered = with_period(of_type(edges, "REGISTERED_AT")).select(
        "relation_id", person="from_entity", address="to_entity", start="start", end="end")
    peaks = peak_presence(registered, "address", "person", min_persons).filter(pl.col("present") >= min_persons)
    return (
        registered.join(peaks, on="address")
        .filter((pl.col("start") <= pl.col("day")) & (pl.col("end") >= pl.col("day")))
        .group_by("address").agg(evidence=pl.col("relation_id"), persons=pl.col("present").first(),
                                 day=pl.col("day").first())
        .rename({"address": "focus_entity"})
    )


@rule("worker_lives_at_workplace")
def worker_lives_at_workplace(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_workers: int,
                              count_households: bool) -> pl.DataFrame:
    """At least ``min_workers`` employees registered at their employer's workplace while employed.

    Person -EMPLOYED_BY-> Company, Person -REGISTERED_AT-> Address, and the company is
    LOCATED_AT that address or holds a permit (HOLDS_PERMIT) for premises LOCATED_AT it; the
    employment, the registration and the company's presence there overlap in time. The company's
    own officers are not counted (an owner living above the shop is ordinary), and an employee
    living there together with one of its officers — the owner's household: a family business
    above its shop — counts only when ``count_households`` is set (the rule's weak level). With
    it, the home of an officer counts as a workplace too: staff living in the owner's home.
    Focus: the company.
    """
    edges = with_period(edges)
    located = of_type(edges, "LOCATED_AT").select(company="from_entity", address="to_entity", place_start="start",
                                                  place_end="end", place_evidence=pl.concat_list("relation_id"))
    via_permit = (
        of_type(edges, "HOLDS_PERMIT").select(company="from_entity", permit="to_entity", _held="relation_id")
        .join(located.rename({"company": "permit"}), on="permit")
        .select("company", "address", "place_start", "place_end",
                place_evidence=pl.concat_list("_held", pl.col("place_evidence").list.first()))
    )
    offices = with_period(of_type(edges, "OFFICER_OF")).select(
        officer="from_entity", company="to_entity", office="relation_id", office_start="start", office_end="end")
    registered = of_type(edges, "REGISTERED_AT").select(person="from_entity", address="to_entity",
                                                        home="relation_id", home_start="start", home_end="end")
    officer_homes = (
        offices.join(registered.rename({"person": "officer"}), on="officer")
        .filter(overlaps("office_start", "office_end", "home_start", "home_end"))
        .select("company", "officer", "address", officer_start=pl.max_horizontal("office_start", "home_start"),
                officer_end=pl.min_horizontal("office_end", "home_end"),
                officer_evidence=pl.concat_list("office", "home"))
    )
    places = [located, via_permit]
    if count_households:
        places.append(officer_homes.select("company", "address", place_start="officer_start",
                                           place_end="officer_end", place_evidence="officer_evidence"))
    workplaces = pl.concat(places).join(companies(nodes).select("company"), on="company", how="semi")
    employed = of_type(edges, "EMPLOYED_BY").select(person="from_entity", company="to_entity",
                                                     job="relation_id", job_start="start", job_end="end")
    living = (
        employed.join(offices.select(person="officer", company="company").unique(), on=["person", "company"],
                      how="anti")
        .join(workplaces, on="company")
        .join(registered, on=["person", "address"])
        .filter(overlaps("job_start", "job_end", "home_start", "home_end")
                & overlaps("job_start", "job_end", "place_start", "place_end")
                & overlaps("home_start", "home_end", "place_start", "place_end"))
    )
    household = (
        living.join(officer_homes, on=["company", "address"])
        .filter(overlaps("home_start", "home_end", "officer_start", "officer_end")
                & overlaps("job_start", "job_end", "officer_start", "officer_end"))
        .select("person", "company").unique().with_columns(household=pl.lit(True))
    )
    return (
        living.join(household, on=["person", "company"], how="left")
        .with_columns(pl.col("household").fill_null(False))
        .filter(pl.lit(count_households) | ~pl.col("household"))
        .group_by("company").agg(
            workers=pl.col("person").n_unique(), addresses=pl.col("address").n_unique(),
            household=pl.col("person").filter(pl.col("household")).n_unique(),
            evidence=pl.concat_list("job", "home").list.explode(**FLAT)
            .append(pl.col("place_evidence").list.explode(**FLAT)))
        .filter(pl.col("workers") >= min_workers)
        .rename({"company": "focus_entity"})
    )
