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

from functools import cached_property

import polars as pl

from mhgraph.indicators.age import youth_bands_from_other_periods
from mhgraph.indicators.buckets import per_bucket
from mhgraph.indicators.registry import DEFINITIONS, rule
from mhgraph.indicators.tables import (
    BEGINNING, EDGE_DEFAULTS, END_OF_TIME, FLAT, NODE_DEFAULTS, companies, employments, ensure, hourly_wages, of_type,
    overlaps, peak_presence, registrations, with_period,
)

__all__ = ["SharedTables", "crowded_address", "staff_housed_together", "worker_lives_at_workplace", "workplaces"]

_ONE_DAY = pl.duration(days=1)
# "at least the minimum" as the wage rule reads it
_WAGE_TOLERANCE = DEFINITIONS["wage_below_minimum"]["thresholds"]["tolerance"]["value"]


@rule("crowded_address", counts={"min_persons": "persons"})
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


_OFFICER_HOME = "an officer's home"
# A family living in one home is a few people: more employees registered at an officer's home
# at once are staff housed by the owner, not his household.
HOUSEHOLD_MAX_EMPLOYEES = 4
_LINKED_PREMISES = "premises of a company sharing an officer"


@rule("worker_lives_at_workplace")
def worker_lives_at_workplace(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_workers: int,
                              count_households: bool, count_linked_premises: bool,
                              shared: SharedTables | None = None, buckets: int | None = None) -> pl.DataFrame:
    """At least ``min_workers`` employees registered at their employer's workplace while employed.

    Person -EMPLOYED_BY-> Company, Person -REGISTERED_AT-> Address, and the company is
    LOCATED_AT that address or holds a permit (HOLDS_PERMIT) for premises LOCATED_AT it; the
    employment, the registration and the company's presence there overlap in time. The company's
    own officers are not counted (an owner living above the shop is ordinary), and an employee
    living there together with one of its officers — the owner's household (:attr:`SharedTables.household_jobs`):
    a family business above its shop — counts only when ``count_households`` is set (the rule's
    weak level); a stay with an officer leaves the worker out only at that address, on those days. With
    it, the home of an officer counts as a workplace too: staff living in the owner's home. With
    ``count_linked_premises`` (also the weak level), so do the premises of another company with
    an officer in common while both hold office: the owner's real-estate company letting rooms
    to the staff. Focus: the company; the reason names the kinds of workplace the employees
    live at (``places``). ``shared``: the :class:`SharedTables` of these tables, if the run has them.
    ``buckets``: how many hash buckets of the employer the jobs are judged in, one after the other
    (:func:`~mhgraph.indicators.buckets.per_bucket`; default: from their number); the hits are the same.
    """
    shared = shared or SharedTables(nodes, edges, buckets)
    edges = with_period(edges)
    places = shared.workplaces
    counted = places.filter((pl.col("kind") != _OFFICER_HOME) | pl.lit(count_households))
    counted = counted.filter((pl.col("kind") != _LINKED_PREMISES) | pl.lit(count_linked_premises))
    officers = of_type(edges, "OFFICER_OF").select(person="from_entity", company="to_entity").unique()
    # the employees' homes at a workplace first: pairing every job with every place of its employer is larger
    homes_at_work = registrations(edges).join(counted, on="address", how="semi")

    def find(jobs: pl.DataFrame) -> pl.DataFrame:
        living = (
            jobs.join(officers, on=["person", "company"], how="anti")
            .join(homes_at_work, on="person")
            .join(counted, on=["company", "address"])
            .filter(overlaps("job_start", "job_end", "home_start", "home_end")
                    & overlaps("job_start", "job_end", "place_start", "place_end")
                    & overlaps("home_start", "home_end", "place_start", "place_end"))
        )
        # living with an officer at that address on some of those days: the owner's household
        household = (living.join(shared.household_stays, on=["job", "address"])
                     .filter(overlaps("home_start", "home_end", "stay_start", "stay_end")
                             & overlaps("place_start", "place_end", "stay_start", "stay_end"))
                     .select("job", "home", "address").unique().with_columns(household=pl.lit(True)))
        return (
            living.join(household, on=["job", "home", "address"], how="left")
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

    return per_bucket(employments(edges), "company", find, buckets=buckets)


def workplaces(nodes: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """Every place where a company's employees would be living at work, with the period it was
    one: ``company``, ``address``, ``place_start``, ``place_end``, ``place_evidence`` (the
    relations that make it a workplace) and ``kind`` — the company's business address (LOCATED_AT),
    premises it holds a permit for, an officer's home while in office, and the premises of a
    company sharing an officer while both hold office (only where an employee lives).

    >>> import datetime as dt
    >>> from mhgraph.indicators.tables import EDGE_DEFAULTS, NODE_DEFAULTS, ensure
    >>> nodes = ensure(pl.DataFrame({"entity_id": ["C1", "A1"], "entity_type": ["company", "address"]}), NODE_DEFAULTS)
    >>> edges = ensure(pl.DataFrame({"relation_id": ["kvk/1"], "type": ["LOCATED_AT"], "from_entity": ["C1"],
    ...     "to_entity": ["A1"], "valid_from": [dt.date(2010, 1, 1)], "valid_to": [dt.date(2019, 12, 31)]}),
    ...     EDGE_DEFAULTS)
    >>> workplaces(nodes, edges).select("company", "address", "place_end", "kind").row(0)
    ('C1', 'A1', datetime.date(2019, 12, 31), "the company's business address")
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
    offices = _offices(edges)
    registered = registrations(edges)
    return pl.concat([
        located.with_columns(kind=pl.lit("the company's business address")),
        via_permit.with_columns(kind=pl.lit("premises the company holds a permit for")),
        _linked_premises(employments(edges), registered, offices, located).with_columns(kind=pl.lit(_LINKED_PREMISES)),
        _officer_homes(offices, registered).with_columns(kind=pl.lit(_OFFICER_HOME)),
    ]).join(companies(nodes).select("company"), on="company", how="semi")


class SharedTables:
    """The tables that several housing and pay rules derive from one graph, each computed on first
    use and then kept: who of the employees lives in an officer's home (read by four rules, at
    both levels), the companies' :func:`workplaces`, the employments with age bands inferred from
    a person's other periods (read by both pay rules) and, for ``staff_housed_together`` alone, the
    :func:`~mhgraph.indicators.tables.hourly_wages` on the delivered age bands only.
    :func:`~mhgraph.indicators.compute_indicators` makes one for each graph (or part of one) it
    runs the rules on and passes it as ``shared`` to every rule that takes it; a rule called
    without one makes its own, so its hits are the same either way.
    ``buckets``: how many hash buckets of the employer the home stays are found in, one after the
    other (:func:`~mhgraph.indicators.buckets.per_bucket`; default: from the number of jobs).

    >>> import datetime as dt
    >>> nodes = pl.DataFrame({"entity_id": ["C1"], "entity_type": ["company"]})
    >>> edges = pl.DataFrame({"relation_id": ["office", "owner home", "job", "child home"],
    ...     "type": ["OFFICER_OF", "REGISTERED_AT", "EMPLOYED_BY", "REGISTERED_AT"],
    ...     "from_entity": ["P-owner", "P-owner", "P-child", "P-child"], "to_entity": ["C1", "A1", "C1", "A1"],
    ...     "valid_from": [dt.date(2010, 1, 1), dt.date(2010, 1, 1), dt.date(2023, 1, 1), dt.date(2005, 1, 1)]})
    >>> shared = SharedTables(nodes, edges)
    >>> shared.household_jobs["job"].to_list()
    ['job']
    >>> shared.workplaces.select("address", "kind").rows()
    [('A1', "an officer's home")]
    """

    # the columns hourly_wages reads, and those of its rows the pay rules read
    _WAGE_COLUMNS = ("relation_id", "type", "from_entity", "to_entity", "valid_from", "valid_to", "wage", "hours",
                     "age_band")

    def __init__(self, nodes: pl.DataFrame, edges: pl.DataFrame, buckets: int | None = None) -> None:
        self.nodes, self.edges = ensure(nodes, NODE_DEFAULTS), ensure(edges, EDGE_DEFAULTS)
        self.buckets = buckets

    @cached_property
    def officer_home_stays(self) -> pl.DataFrame:
        """Employees registered at an officer's home while employed (``job``, ``company``,
        ``address``, ``stay_start``, ``stay_end``), with ``sharing``: how many employees of the
        company have a stay there overlapping this one (itself included) — at most that many live
        there on any of its days."""
        edges = with_period(self.edges)
        registered = registrations(edges)
        homes = _officer_homes(_offices(edges), registered)
        # the employees' registrations at an officer's home first: pairing every job with every home
        # of its employer's officers is larger (a big employer's jobs times its officers' homes)
        at_homes = registered.join(homes, on="address", how="semi")

        def find(jobs: pl.DataFrame) -> pl.DataFrame:
            stays = (
                at_homes.join(jobs, on="person")
                .join(homes, on=["company", "address"])
                .filter(overlaps("job_start", "job_end", "home_start", "home_end")
                        & overlaps("job_start", "job_end", "place_start", "place_end")
                        & overlaps("home_start", "home_end", "place_start", "place_end"))
                .select("job", "person", "company", "address",
                        stay_start=pl.max_horizontal("job_start", "home_start", "place_start"),
                        stay_end=pl.min_horizontal("job_end", "home_end", "place_end"))
                .unique()
            )
            sharing = (
                stays.join(stays.select("company", "address", other="person", other_start="stay_start",
                                        other_end="stay_end"), on=["company", "address"])
                .filter(overlaps("stay_start", "stay_end", "other_start", "other_end"))
                .group_by("job", "address").agg(sharing=pl.col("other").n_unique())
            )
            return stays.join(sharing, on=["job", "address"])

        return per_bucket(employments(edges), "company", find, buckets=self.buckets)

    @cached_property
    def household_stays(self) -> pl.DataFrame:
        """The stays (``job``, ``address``, ``stay_start``, ``stay_end``) of employees at an officer's
        home shared with at most ``HOUSEHOLD_MAX_EMPLOYEES`` employees at once: the owner's household."""
        return (self.officer_home_stays.filter(pl.col("sharing") <= HOUSEHOLD_MAX_EMPLOYEES)
                .select("job", "address", "stay_start", "stay_end"))

    @cached_property
    def household_jobs(self) -> pl.DataFrame:
        """The employments (``job``) of employees living with an officer of their employer: registered
        at the home of one of its officers on a day when the officer lives there, holds office and
        the employee is employed, with at most ``HOUSEHOLD_MAX_EMPLOYEES`` employees of the company
        registered there at once — the owner's household (spouse, grown children) working in the
        family business; more are staff housed in the owner's home."""
        return self.household_stays.select("job").unique()

    @cached_property
    def workplaces(self) -> pl.DataFrame:
        """:func:`workplaces` of the graph."""
        return workplaces(self.nodes, self.edges)

    @cached_property
    def employments_on_inferred_bands(self) -> pl.DataFrame:
        """The EMPLOYED_BY edges with a missing age band taken from the person's other periods
        (:func:`~mhgraph.indicators.age.youth_bands_from_other_periods`): what both pay rules judge,
        with only the edge columns they read (1.9 million jobs at a million persons)."""
        return youth_bands_from_other_periods(self.edges.select(self._WAGE_COLUMNS))

    @cached_property
    def wages_on_delivered_bands(self) -> pl.DataFrame:
        """:func:`~mhgraph.indicators.tables.hourly_wages` of the graph at the wage rule's tolerance,
        on the age bands as delivered (no band inferred from other periods), with only the edge
        columns it reads and the ends of each employment."""
        return hourly_wages(self.edges.select(self._WAGE_COLUMNS), _WAGE_TOLERANCE)


def _offices(edges: pl.DataFrame) -> pl.DataFrame:
    return of_type(edges, "OFFICER_OF").select(
        officer="from_entity", company="to_entity", office="relation_id", office_start="start", office_end="end")


def _officer_homes(offices: pl.DataFrame, registered: pl.DataFrame) -> pl.DataFrame:
    """Each officer's home while in office, as a place of the company (``place_*`` columns)."""
    return (
        offices.join(registered.rename({"person": "officer"}), on="officer")
        .filter(overlaps("office_start", "office_end", "home_start", "home_end"))
        .select("company", "address", place_start=pl.max_horizontal("office_start", "home_start"),
                place_end=pl.min_horizontal("office_end", "home_end"), place_evidence=pl.concat_list("office", "home"))
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


@rule("staff_housed_together", counts={"min_workers": "workers"})
def staff_housed_together(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_workers: int,
                          full_week_hours: float, shared: SharedTables | None = None,
                          buckets: int | None = None) -> pl.DataFrame:
    """At least ``min_workers`` employees of one employer registered at one address on one day,
    each while employed there.

    Person -EMPLOYED_BY-> Company and Person -REGISTERED_AT-> Address, the employment and the
    registration overlapping; the peak counts the employees present at the address on one day
    (:func:`~mhgraph.indicators.tables.peak_presence`), so staff who lived there before they were
    hired, or after they left, do not count. The company's officers are left out, and so is every
    day on which the address is one of the company's :func:`workplaces` — its business address or
    permitted premises, the premises of a company sharing an officer, or the home of one of its
    officers in office: staff living there are :func:`worker_lives_at_workplace`, and employees
    living with an officer are the owner's household (grown children living at home and working
    in the family business) — unless more than ``HOUSEHOLD_MAX_EMPLOYEES`` live there at once:
    then they are staff housed in the owner's home and count. A company's former address counts
    again once it has left it. Employees paid at least the minimum for their age (the tolerance
    of :func:`~mhgraph.indicators.pay.wage_below_minimum`) for at least ``full_week_hours`` hours
    a week are left out of the peak — the regulated housing of certified agencies and seasonal
    farms, whose staff earn a full wage; an open period, whose weekly hours are not known yet,
    and an employment without hours count. Focus: the company; the evidence is the
    employments and registrations in force on the peak day. ``shared``: the :class:`SharedTables`
    of these tables, if the run has them.
    ``buckets``: how many hash buckets of the employer the jobs are judged in, one after the other
    (:func:`~mhgraph.indicators.buckets.per_bucket`; default: from their number); the hits are the same.

    >>> import datetime as dt
    >>> ids = ["P1", "P2", "P3"]
    >>> nodes = pl.DataFrame({"entity_id": ids + ["C1", "A1"], "entity_type": ["person"] * 3 + ["company", "address"]})
    >>> edges = pl.DataFrame({"relation_id": [f"job{i}" for i in range(3)] + [f"home{i}" for i in range(3)],
    ...     "type": ["EMPLOYED_BY"] * 3 + ["REGISTERED_AT"] * 3, "from_entity": ids * 2,
    ...     "to_entity": ["C1"] * 3 + ["A1"] * 3, "valid_from": [dt.date(2024, 1, 1)] * 6,
    ...     "partner": ["belastingdienst"] * 6})
    >>> print(staff_housed_together(nodes, edges, min_workers=3, full_week_hours=35)["reason"][0])
    3 employees of this company were registered at one address while employed there on 2024-01-01 (threshold 3; officers, their households and the company's workplaces not counted).
    """
    shared = shared or SharedTables(nodes, edges, buckets)
    officers = of_type(edges, "OFFICER_OF").select(person="from_entity", company="to_entity").unique()
    # a place can hold min_workers at once only at an address where that many persons were ever
    # registered: the others (most homes) are left out before the join with the employments
    shared_homes = registrations(edges).filter(pl.col("person").n_unique().over("address") >= min_workers)
    paid_in_full = shared.wages_on_delivered_bands.filter(  # an open period's weekly hours are unknown: not in full
        ~pl.col("below") & (pl.col("weekly") >= full_week_hours).fill_null(False)).select(job="relation_id")
    workplaces = _workplaces_but_crowded_homes(shared)

    def find(jobs: pl.DataFrame) -> pl.DataFrame:
        housed = (
            jobs.join(officers, on=["person", "company"], how="anti")
            .join(shared_homes, on="person")
            .filter(overlaps("job_start", "job_end", "home_start", "home_end"))
            .with_columns(start=pl.max_horizontal("job_start", "home_start"),
                          end=pl.min_horizontal("job_end", "home_end"))
        )
        housed = (
            _outside(housed, workplaces, ["company", "address"])
            .with_columns(place=pl.concat_str("company", "address", separator="|"))
            .join(paid_in_full, on="job", how="anti")
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

    jobs = employments(edges).join(companies(nodes).select("company"), on="company", how="semi")
    return per_bucket(jobs, "company", find, buckets=buckets)


def _workplaces_but_crowded_homes(shared: SharedTables) -> pl.DataFrame:
    """The companies' :func:`workplaces` (``company``, ``address``, ``place_*``), less the homes
    of its officers where more than ``HOUSEHOLD_MAX_EMPLOYEES`` employees lived at once: staff
    housed in the owner's home, not his household."""
    crowded = (shared.officer_home_stays.filter(pl.col("sharing") > HOUSEHOLD_MAX_EMPLOYEES)
               .select("company", "address").unique().with_columns(kind=pl.lit(_OFFICER_HOME)))
    return (shared.workplaces.join(crowded, on=["company", "address", "kind"], how="anti")
            .select("company", "address", "place_start", "place_end"))


def _outside(periods: pl.DataFrame, windows: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """``periods`` (``keys``, ``start``, ``end``, ...) cut to the days outside every window of
    the same keys (``place_start``, ``place_end``): a period may fall into several pieces, one
    inside a window disappears, one with no window of its keys stays whole.

    >>> import datetime as dt
    >>> periods = pl.DataFrame({"key": ["a", "b"], "start": [dt.date(2020, 1, 1)] * 2,
    ...                         "end": [dt.date(2020, 12, 31)] * 2})
    >>> windows = pl.DataFrame({"key": ["a", "a"], "place_start": [dt.date(2020, 3, 1), dt.date(2020, 5, 1)],
    ...                         "place_end": [dt.date(2020, 5, 31), dt.date(2020, 6, 30)]})
    >>> _outside(periods, windows, ["key"]).sort("key", "start").rows()
    [('a', datetime.date(2020, 1, 1), datetime.date(2020, 2, 29)), ('a', datetime.date(2020, 7, 1), datetime.date(2020, 12, 31)), ('b', datetime.date(2020, 1, 1), datetime.date(2020, 12, 31))]
    """
    merged = (  # each key's windows merged: only the keys of some period can cut one
        windows.join(periods.select(keys).unique(), on=keys, how="semi")
        .select(*keys, "place_start", "place_end").sort(*keys, "place_start", "place_end")
        .with_columns(_reach=pl.col("place_end").cum_max().shift(1).over(keys))
        .with_columns(_stay=(pl.col("_reach").is_null() | (pl.col("place_start") > pl.col("_reach") + _ONE_DAY))
                      .cast(pl.Int32).cum_sum().over(keys))
        .group_by(*keys, "_stay").agg(pl.col("place_start").min(), pl.col("place_end").max())
        .sort(*keys, "place_start")
    )
    gaps = pl.concat([
        merged.select(*keys, gap_start=(pl.col("place_end").shift(1).over(keys) + _ONE_DAY).fill_null(BEGINNING),
                      gap_end=pl.col("place_start") - _ONE_DAY),
        merged.group_by(keys).agg(gap_start=pl.col("place_end").max() + _ONE_DAY, gap_end=pl.lit(END_OF_TIME)),
    ]).filter(pl.col("gap_start") <= pl.col("gap_end"))
    cut = (
        periods.join(gaps, on=keys)
        .filter(overlaps("start", "end", "gap_start", "gap_end"))
        .with_columns(start=pl.max_horizontal("start", "gap_start"), end=pl.min_horizontal("end", "gap_end"))
        .drop("gap_start", "gap_end")
    )
    return pl.concat([cut, periods.join(merged, on=keys, how="anti")])
