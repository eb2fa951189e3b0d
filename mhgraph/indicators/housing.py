"""Housing: where the workers live — crowded addresses, workers living at the workplace and staff
of one employer housed together.

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
from mhgraph.indicators.tables import (
    FLAT, companies, employments, of_type, overlaps, peak_presence, registrations, with_period,
)

__all__ = ["crowded_address", "staff_housed_together", "worker_lives_at_workplace"]


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
                              count_households: bool, count_linked_premises: bool) -> pl.DataFrame:
    """At least ``min_workers`` employees registered at their employer's workplace while employed.

    Person -EMPLOYED_BY-> Company, Person -REGISTERED_AT-> Address, and the company is
    LOCATED_AT that address or holds a permit (HOLDS_PERMIT) for premises LOCATED_AT it; the
    employment, the registration and the company's presence there overlap in time. The company's
    own officers are not counted (an owner living above the shop is ordinary), and an employee
    living there together with one of its officers — the owner's household: a family business
    above its shop — counts only when ``count_households`` is set (the rule's weak level). With
    it, the home of an officer counts as a workplace too: staff living in the owner's home. With
    ``count_linked_premises`` (also the weak level), so do the premises of another company with
    an officer in common while both hold office: the owner's real-estate company letting rooms
    to the staff. Focus: the company; the reason names the kinds of workplace the employees
    live at (``places``).
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
    registered = registrations(edges)
    employed = employments(edges)
    officer_homes = (
        offices.join(registered.rename({"person": "officer"}), on="officer")
        .filter(overlaps("office_start", "office_end", "home_start", "home_end"))
        .select("company", "officer", "address", officer_start=pl.max_horizontal("office_start", "home_start"),
                officer_end=pl.min_horizontal("office_end", "home_end"),
                officer_evidence=pl.concat_list("office", "home"))
    )
    places = [located.with_columns(kind=pl.lit("the company's business address")),
              via_permit.with_columns(kind=pl.lit("premises the company holds a permit for"))]
    if count_linked_premises:
        places.append(_linked_premises(employed, registered, offices, located)
                      .with_columns(kind=pl.lit("premises of a company sharing an officer")))
    if count_households:
        places.append(officer_homes.select("company", "address", place_start="officer_start",
                                           place_end="officer_end", place_evidence="officer_evidence",
                                           kind=pl.lit("an officer's home")))
    workplaces = pl.concat(places).join(companies(nodes).select("company"), on="company", how="semi")
    living = (
        employed.join(offices.select(person="officer", company="company").unique(), on=["person", "company"],
                      how="anti")
        # the employees' homes at a workplace first: pairing every job with every place of its employer is larger
        .join(registered.join(workplaces, on="address", how="semi"), on="person")
        .join(workplaces, on=["company", "address"])
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
            places=pl.col("kind").unique().sort(),
            evidence=pl.concat_list("job", "home").list.explode(**FLAT)
            .append(pl.col("place_evidence").list.explode(**FLAT)))
        .filter(pl.col("workers") >= min_workers)
        .rename({"company": "focus_entity"})
    )


def _linked_premises(employed: pl.DataFrame, registered: pl.DataFrame, offices: pl.DataFrame,
                     located: pl.DataFrame) -> pl.DataFrame:
    """Premises of another company (the sister) that shares an officer with the employer while
    both offices are held, as workplaces of the employer: only at addresses where an employee of
    the employer is registered. Starting from the employees' homes keeps the join the size of
    those homes: joining the offices on the officer alone would pair every two companies of an
    officer of many (a formation agent) and multiply each company's employees by all of them.
    """
    # only employers with an officer, and homes at someone's premises, can meet a sister's premises
    homes = (employed.join(offices, on="company", how="semi")
             .join(registered.join(located, on="address", how="semi"), on="person")
             .select("company", "address").unique())
    employer_offices = homes.join(offices, on="company")
    sister_premises = (
        offices.select("officer", sister="company", sister_office="office", sister_start="office_start",
                       sister_end="office_end")
        .join(located.rename({"company": "sister"}), on="sister")
    )
    return (
        employer_offices.join(sister_premises, on=["officer", "address"])
        .filter((pl.col("company") != pl.col("sister"))
                & overlaps("office_start", "office_end", "sister_start", "sister_end"))
        .select("company", "address",
                place_start=pl.max_horizontal("office_start", "sister_start", "place_start"),
                place_end=pl.min_horizontal("office_end", "sister_end", "place_end"),
                place_evidence=pl.concat_list("office", "sister_office", "place_evidence"))
        .filter(pl.col("place_start") <= pl.col("place_end"))
    )


@rule("staff_housed_together")
def staff_housed_together(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_workers: int) -> pl.DataFrame:
    """At least ``min_workers`` employees of one employer registered at one address on one day,
    each while employed there.

    Person -EMPLOYED_BY-> Company and Person -REGISTERED_AT-> Address, the employment and the
    registration overlapping; the peak counts the employees present at the address on one day
    (:func:`~mhgraph.indicators.tables.peak_presence`), so staff who lived there before they were
    hired, or after they left, do not count. The company's officers, and addresses where the
    company itself is located (that is :func:`worker_lives_at_workplace`), are left out. Focus:
    the company; the evidence is the employments and registrations in force on the peak day.

    >>> import datetime as dt
    >>> ids = ["P1", "P2", "P3"]
    >>> nodes = pl.DataFrame({"entity_id": ids + ["C1", "A1"], "entity_type": ["person"] * 3 + ["company", "address"]})
    >>> edges = pl.DataFrame({"relation_id": [f"job{i}" for i in range(3)] + [f"home{i}" for i in range(3)],
    ...     "type": ["EMPLOYED_BY"] * 3 + ["REGISTERED_AT"] * 3, "from_entity": ids * 2,
    ...     "to_entity": ["C1"] * 3 + ["A1"] * 3, "valid_from": [dt.date(2024, 1, 1)] * 6,
    ...     "partner": ["belastingdienst"] * 6})
    >>> print(staff_housed_together(nodes, edges, min_workers=3)["reason"][0])
    3 employees of this company were registered at one address while employed there on 2024-01-01 (threshold 3; officers and the company's own premises not counted).
    """
    employed = employments(edges)
    registered = registrations(edges)
    officers = of_type(edges, "OFFICER_OF").select(person="from_entity", company="to_entity").unique()
    premises = of_type(edges, "LOCATED_AT").select(company="from_entity", address="to_entity").unique()
    housed = (
        employed.join(companies(nodes).select("company"), on="company", how="semi")
        .join(officers, on=["person", "company"], how="anti")
        .join(_shared_homes(registered, min_workers), on="person")
        .join(premises, on=["company", "address"], how="anti")
        .filter(overlaps("job_start", "job_end", "home_start", "home_end"))
        .with_columns(place=pl.concat_str("company", "address", separator="|"),
                      start=pl.max_horizontal("job_start", "home_start"),
                      end=pl.min_horizontal("job_end", "home_end"))
    )
    peaks = peak_presence(housed.select("place", "person", "start", "end"), "place", "person", min_workers)
    return (
        housed.join(peaks.filter(pl.col("present") >= min_workers), on="place")
        .filter((pl.col("start") <= pl.col("day")) & (pl.col("end") >= pl.col("day")))
        .sort("present", "place", descending=[True, False])
        .group_by("company", maintain_order=True).agg(
            workers=pl.col("present").first(), day=pl.col("day").first(),
            evidence=pl.concat_list("job", "home").filter(pl.col("place") == pl.col("place").first())
            .list.explode(**FLAT))
        .rename({"company": "focus_entity"})
    )


def _shared_homes(registered: pl.DataFrame, min_persons: int) -> pl.DataFrame:
    """The registrations at addresses where at least ``min_persons`` distinct persons were ever
    registered: no fewer can hold that many employees of one employer (most homes house one to four)."""
    residents = registered.group_by("address").agg(_persons=pl.col("person").n_unique())
    return registered.join(residents.filter(pl.col("_persons") >= min_persons), on="address", how="semi")
