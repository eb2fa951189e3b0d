"""Dependence: residence rights held by the one who controls the work.

Sponsors of many labour migrants who are not on their payroll, sponsors that pass their migrants
on to a linked firm soon after arrival, and exchange (au-pair) permit holders working in the
host's business. Underpayment is left to :func:`mhgraph.indicators.pay.wage_below_minimum`,
which sees every worker: counting it again here would raise clusters because the IND happens to
hold records on their workers.

>>> import datetime as dt
>>> import polars as pl
>>> D = dt.date
>>> nodes = pl.DataFrame({"entity_id": ["C-host", "P-aupair", "P-host", "A-home", "C-agency"],
...     "entity_type": ["company", "person", "person", "address", "company"]})
>>> edges = pl.DataFrame({"relation_id": ["ind/1", "ind/2", "bd/1", "bd/2", "kvk/1", "kvk/2"],
...     "type": ["SPONSORED_BY", "REGISTERED_AT", "EMPLOYED_BY", "REGISTERED_AT", "OFFICER_OF", "REGISTERED_AT"],
...     "from_entity": ["P-aupair", "P-aupair", "P-aupair", "P-aupair", "P-host", "P-host"],
...     "to_entity": ["C-agency", "A-home", "C-host", "A-home", "C-host", "A-home"],
...     "valid_from": [D(2024, 1, 1)] * 6, "valid_to": [D(2024, 12, 31)] * 6,
...     "wage": [None, None, 3000.0, None, None, None], "hours": [None, None, 1000.0, None, None, None],
...     "permit_purpose": ["uitwisseling", None, None, None, None, None],
...     "partner": ["ind", "ind", "belastingdienst", "belastingdienst", "kvk", "kvk"]})
>>> print(exchange_permit_labour(nodes, edges)["reason"][0])
1 holder(s) of an exchange permit (uitwisseling) worked for this company during the permit: 1 at the address where they live or for a company of a person living with them, 1 far below the minimum wage (lowest EUR 3.00/h, threshold 80% of the minimum for their age).
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from mhgraph.indicators.registry import rule
from mhgraph.indicators.tables import (
    FLAT, company_links, employments, hourly_wages, of_type, overlaps, peak_presence, registrations, with_period,
)

__all__ = ["exchange_permit_labour", "sponsor_churn", "sponsor_of_many_migrants"]


def _sponsorships(edges: pl.DataFrame, purposes: Collection[str]) -> pl.DataFrame:
    """SPONSORED_BY relations of the given residence purposes: ``sponsorship``, ``person``,
    ``sponsor``, ``purpose``, ``start``, ``end``."""
    return (with_period(of_type(edges, "SPONSORED_BY")).filter(pl.col("permit_purpose").is_in(list(purposes)))
            .select(sponsorship="relation_id", person="from_entity", sponsor="to_entity", purpose="permit_purpose",
                    start="start", end="end"))


@rule("sponsor_of_many_migrants", counts={"min_sponsored": "sponsored"})
def sponsor_of_many_migrants(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_sponsored: int,
                             min_missing_share: float, labour_purposes: tuple[str, ...],
                             pay_window_days: int) -> pl.DataFrame:
    """A company sponsors (SPONSORED_BY) at least ``min_sponsored`` labour migrants (residence
    purpose in ``labour_purposes``) at the same time, and at least ``min_missing_share`` of its
    migrants, sponsored in periods the payroll extract covers the company (it paid someone then),
    were not on its payroll during their sponsorship or within ``pay_window_days`` of its dates (a
    renewed permit, a declaration weeks off the permit's dates); pay years away from the
    sponsorship (a token month long before) employs no one during it. Focus: the sponsor.
    """
    sponsored = _sponsorships(edges, labour_purposes)
    peaks = peak_presence(sponsored.rename({"sponsor": "company"}), "company", "person", min_sponsored).filter(
        pl.col("present") >= min_sponsored)
    jobs = employments(edges)
    judged = sponsored.filter(_paying_someone(sponsored, jobs.rename({"company": "sponsor"}), "sponsor"))
    window = pl.duration(days=pay_window_days)
    paid = (judged.join(jobs.rename({"company": "sponsor"}), on=["person", "sponsor"])
            .filter((pl.col("job_start") <= pl.col("end") + window) & (pl.col("job_end") >= pl.col("start") - window))
            .select("person", "sponsor").unique())
    missing = judged.join(paid, on=["person", "sponsor"], how="anti")
    in_force = (sponsored.join(peaks.rename({"company": "sponsor"}), on="sponsor")
                .filter((pl.col("start") <= pl.col("day")) & (pl.col("end") >= pl.col("day"))))
    return (
        in_force.group_by("sponsor").agg(
            sponsored=pl.col("present").first(), day=pl.col("day").first(),
            purposes=pl.col("purpose").unique().sort(), peak_evidence=pl.col("sponsorship"))
        .join(judged.group_by("sponsor").agg(judged=pl.col("person").n_unique()), on="sponsor")
        .join(missing.group_by("sponsor").agg(missing=pl.col("person").n_unique(),
                                              missing_evidence=pl.col("sponsorship")), on="sponsor")
        .with_columns(missing_share=pl.col("missing") / pl.col("judged"))
        .filter(pl.col("missing_share") >= min_missing_share)
        .select(focus_entity="sponsor", evidence=pl.concat_list("peak_evidence", "missing_evidence"),
                sponsored="sponsored", day="day", purposes="purposes", judged="judged", missing="missing",
                missing_share="missing_share")
    )


def _paying_someone(periods: pl.DataFrame, jobs: pl.DataFrame, company: str) -> pl.Series:
    """Per row of ``periods`` (``company``, ``start``, ``end``), in their order: whether a job of
    ``jobs`` (``company``, ``job_start``, ``job_end``) at that company overlaps the period — the
    company paid someone then. The latest job started by the period's end reaches furthest once
    each job carries the furthest end of the jobs started before it: one as-of join, where pairing
    each period with every job of a large employer holds their product.

    >>> import datetime as dt
    >>> jobs = pl.DataFrame({"company": ["C1", "C1"], "job_start": [dt.date(2020, 1, 1), dt.date(2021, 1, 1)],
    ...                      "job_end": [dt.date(2022, 12, 31), dt.date(2021, 6, 30)]})
    >>> periods = pl.DataFrame({"company": ["C1", "C1", "C2"], "start": [dt.date(2022, 6, 1), dt.date(2023, 1, 1),
    ...     dt.date(2022, 6, 1)], "end": [dt.date(2023, 6, 1), dt.date(2023, 6, 1), dt.date(2023, 6, 1)]})
    >>> _paying_someone(periods, jobs, "company").to_list()
    [True, False, False]
    """
    reach = (
        # a job without a start or an end overlaps nothing (as a comparison with null is no overlap),
        # and must not carry its end forward to the jobs after it
        jobs.drop_nulls(["job_start", "job_end"])
        .group_by(company, "job_start").agg(pl.col("job_end").max())
        .sort(company, "job_start")
        .select(company, "job_start", reach=pl.col("job_end").cum_max().over(company))
        .sort("job_start")
    )
    return (
        periods.select(company, "start", "end").with_row_index("_row").sort("end")
        .join_asof(reach, left_on="end", right_on="job_start", by=company, strategy="backward",
                   check_sortedness=False)  # both sides are sorted by date just above
        .sort("_row")
        .select(paying=(pl.col("reach") >= pl.col("start")).fill_null(False))
        .to_series()
    )


@rule("sponsor_churn")
def sponsor_churn(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_persons: int, max_days_at_sponsor: int,
                  max_gap_days: int, labour_purposes: tuple[str, ...]) -> pl.DataFrame:
    """At least ``min_persons`` labour migrants sponsored by a company left its payroll at most
    ``max_days_at_sponsor`` days after their sponsorship began and, within ``max_gap_days``,
    started at a company linked to the sponsor (:func:`~mhgraph.indicators.tables.company_links`)
    while the sponsorship continued. Focus: the sponsor.
    """
    sponsored = _sponsorships(edges, labour_purposes)
    jobs = employments(edges)
    # the last day each migrant was on the sponsor's payroll during the sponsorship; still there = not left
    at_sponsor = (
        sponsored.join(jobs.rename({"company": "sponsor"}), on=["person", "sponsor"])
        .filter(overlaps("start", "end", "job_start", "job_end"))
        .group_by("sponsorship", "person", "sponsor", "start", "end").agg(
            left=pl.col("job_end").max(), first_day=pl.col("job_start").min(), sponsor_jobs=pl.col("job"))
        .filter((pl.col("left") - pl.col("start")).dt.total_days() <= max_days_at_sponsor)
        .filter(pl.col("left") < pl.col("end"))
    )
    moves = (
        at_sponsor.join(jobs, on="person")
        .filter((pl.col("company") != pl.col("sponsor")) & (pl.col("job_start") >= pl.col("first_day"))
                & ((pl.col("job_start") - pl.col("left")).dt.total_days() <= max_gap_days)
                & (pl.col("job_start") <= pl.col("end")))
    )
    links = company_links(edges, among=moves.select(company="sponsor", other="company").unique())
    moved = moves.join(links.rename({"company": "sponsor", "other": "company"}), on=["sponsor", "company"])
    return (
        moved.group_by("sponsor").agg(
            persons=pl.col("person").n_unique(), firms=pl.col("company").unique().sort(),
            links=pl.col("link").unique().sort(),
            evidence=pl.concat_list("sponsorship", "job").list.explode(**FLAT)
            .append(pl.col("sponsor_jobs").list.explode(**FLAT)).append(pl.col("evidence").list.explode(**FLAT)))
        .filter(pl.col("persons") >= min_persons)
        .rename({"sponsor": "focus_entity"})
    )


@rule("exchange_permit_labour")
def exchange_permit_labour(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_persons: int,
                           exchange_purposes: tuple[str, ...], max_wage_share: float) -> pl.DataFrame:
    """At least ``min_persons`` holders of an exchange permit (residence purpose in
    ``exchange_purposes``) were, while the permit ran, EMPLOYED_BY a company that is at their
    home (LOCATED_AT the address where they are registered, or with an officer registered there
    at the same time) or that paid them less than ``max_wage_share`` of the minimum hourly wage
    for their age. Focus: the employer.
    """
    permits = _sponsorships(edges, exchange_purposes)
    jobs = (permits.join(employments(edges), on="person").filter(overlaps("start", "end", "job_start", "job_end"))
            .select("sponsorship", "person", "purpose", "job", "company", "job_start", "job_end"))
    homes = registrations(edges)
    sites = of_type(edges, "LOCATED_AT").select(site="relation_id", company="from_entity", address="to_entity")
    hosts = (
        with_period(of_type(edges, "OFFICER_OF")).select(office="relation_id", host="from_entity", company="to_entity")
        .join(homes.rename({"person": "host", "home": "host_home", "home_start": "host_start",
                            "home_end": "host_end"}), on="host")
    )
    lived_at = jobs.join(homes, on="person").filter(overlaps("job_start", "job_end", "home_start", "home_end"))
    at_site = lived_at.join(sites, on=["company", "address"]).select(
        "job", evidence=pl.concat_list("home", "site"))
    with_host = (
        lived_at.join(hosts, on=["company", "address"])
        .filter(overlaps("home_start", "home_end", "host_start", "host_end") & (pl.col("host") != pl.col("person")))
        .select("job", evidence=pl.concat_list("home", "office", "host_home"))
    )
    at_host = pl.concat([at_site, with_host]).group_by("job").agg(pl.col("evidence").list.explode(**FLAT))
    # the wages of the exchange holders' jobs only: a handful among every employment of the graph
    held = of_type(edges, "EMPLOYED_BY").join(jobs.select(relation_id="job"), on="relation_id", how="semi")
    wages = hourly_wages(held, 0.0).select(job="relation_id", hourly="hourly", minimum="minimum")
    flagged = (
        jobs.join(at_host, on="job", how="left").join(wages, on="job", how="left")
        .with_columns(host=pl.col("evidence").is_not_null(),
                      low=(pl.col("hourly") < max_wage_share * pl.col("minimum")).fill_null(False))
        .filter(pl.col("host") | pl.col("low"))
    )
    return (
        flagged.group_by("company").agg(
            persons=pl.col("person").n_unique(), purposes=pl.col("purpose").unique().sort(),
            at_host=pl.col("person").filter(pl.col("host")).n_unique(),
            underpaid=pl.col("person").filter(pl.col("low")).n_unique(),
            lowest=pl.col("hourly").min(),
            evidence=pl.concat_list("sponsorship", "job").list.explode(**FLAT)
            .append(pl.col("evidence").list.explode(**FLAT)).drop_nulls())
        .filter(pl.col("persons") >= min_persons)
        .with_columns(lowest_wage=pl.col("lowest").map_elements(lambda v: f"lowest EUR {v:.2f}/h", return_dtype=pl.String)
                      .fill_null("no hours declared"))
        .rename({"company": "focus_entity"})
    )
