"""What the rules share: relations of a type, periods, companies, wages, links and paths.

Every function takes the graph tables of :mod:`mhgraph.graph` (``nodes``, ``edges``) or a part of
them and returns a Polars table; each is written once here and used by the rule modules.
Periods: an unknown start counts from :data:`BEGINNING`, an open end runs to :data:`END_OF_TIME`.

>>> import datetime as dt
>>> stays = pl.DataFrame({"address": ["A1"] * 3, "person": ["P1", "P2", "P3"],
...     "start": [dt.date(2024, 1, 1), dt.date(2024, 3, 1), dt.date(2024, 6, 1)],
...     "end": [dt.date(2024, 12, 31), dt.date(2024, 4, 30), dt.date(2024, 12, 31)]})
>>> peak_presence(stays, "address", "person").rows()
[('A1', 2, datetime.date(2024, 3, 1))]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import polars as pl

from mhgraph.reference import AGE_BANDS, MINIMUM_HOURLY_WAGE, minimum_hourly_wage

__all__ = [
    "BEGINNING", "EDGE_COLUMNS", "EDGE_DEFAULTS", "END_OF_TIME", "FLAT", "MENTION_IDS", "NODE_DEFAULTS", "PERIOD_COLUMNS",
    "co_residents", "companies", "company_links", "crowded_periods", "day_text", "ensure", "hourly_wages", "minimum_table",
    "PathSearch", "of_type", "overlaps", "peak_presence",
    "shortest_paths", "small_groups", "with_period",
]

BEGINNING, END_OF_TIME = dt.date(1900, 1, 1), dt.date(9999, 12, 31)
FLAT = {"keep_nulls": False, "empty_as_null": False}  # list.explode that drops nothing and adds nothing

EDGE_DEFAULTS = {"valid_from": pl.Date(), "valid_to": pl.Date(), "wage": pl.Float64(), "hours": pl.Float64(),
                 "permit_purpose": pl.String(), "partner": pl.String(), "purpose": pl.String(),
                 "age_band": pl.String(), "role": pl.String()}
# The edge columns the rules read: the ends, the type and every optional one above (and, for
# identity_conflict, the mention ids); the others (provenance) are never copied into a rule.
EDGE_COLUMNS = ("relation_id", "type", "from_entity", "to_entity", *EDGE_DEFAULTS)
MENTION_IDS = ("from_mention", "to_mention")
# what a relation with its period is (with_period): the relation, its two ends and its dates
PERIOD_COLUMNS = ("relation_id", "from_entity", "to_entity", "valid_from", "valid_to")
NODE_DEFAULTS = {"registered_on": pl.Date(), "dissolved_on": pl.Date(), "sbi_code": pl.String(),
                 "legal_form": pl.String(), "sponsor_status": pl.String(), "sponsor_status_on": pl.Date(),
                 "permit_type": pl.String(), "permit_status": pl.String(), "bibob_outcome": pl.String(),
                 "decided_on": pl.Date(), "municipality": pl.String(), "partners": pl.List(pl.String()),
                 "purposes": pl.List(pl.String())}


def ensure(frame: pl.DataFrame, columns: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Add absent columns as nulls, so that a rule runs on a table holding only what it needs."""
    return frame.with_columns(pl.lit(None, dtype=dtype).alias(c) for c, dtype in columns.items()
                              if c not in frame.columns)


def of_type(edges: pl.DataFrame, *types: str, columns: Iterable[str] | None = None) -> pl.DataFrame:
    """The edges of the given relation types; with ``columns``, only those columns of them (a
    filter copies every column it keeps: at a million persons two million payroll rows of a dozen
    columns, where a rule reads four).

    >>> edges = pl.DataFrame({"relation_id": ["r1", "r2"], "type": ["EMPLOYED_BY", "OFFICER_OF"],
    ...                       "wage": [100.0, None]})
    >>> of_type(edges, "EMPLOYED_BY", columns=["relation_id"]).rows()
    [('r1',)]
    """
    chosen = edges.get_column("type").is_in(list(types))
    return edges.filter(chosen) if columns is None else edges.select(columns).filter(chosen)


def with_period(edges: pl.DataFrame) -> pl.DataFrame:
    """``edges`` with ``start`` and ``end``: the validity period, unknown ends filled."""
    return edges.with_columns(start=pl.col("valid_from").fill_null(BEGINNING),
                              end=pl.col("valid_to").fill_null(END_OF_TIME))


def employments(edges: pl.DataFrame) -> pl.DataFrame:
    """EMPLOYED_BY relations: ``job``, ``person``, ``company``, ``job_start``, ``job_end``."""
    return with_period(of_type(edges, "EMPLOYED_BY", columns=PERIOD_COLUMNS)).select(
        job="relation_id", person="from_entity", company="to_entity", job_start="start", job_end="end")


def registrations(edges: pl.DataFrame) -> pl.DataFrame:
    """REGISTERED_AT relations: ``home``, ``person``, ``address``, ``home_start``, ``home_end``."""
    return with_period(of_type(edges, "REGISTERED_AT", columns=PERIOD_COLUMNS)).select(
        home="relation_id", person="from_entity", address="to_entity", home_start="start", home_end="end")


def overlaps(start_a: str, end_a: str, start_b: str, end_b: str) -> pl.Expr:
    """Two periods (both ends included) share at least one day."""
    return (pl.col(start_a) <= pl.col(end_b)) & (pl.col(start_b) <= pl.col(end_a))


def day_text(value: dt.date | None) -> str:
    """A date as the reasons write it; an unknown or open end is 'an unknown date'."""
    return "an unknown date" if value is None or value in (BEGINNING, END_OF_TIME) else value.isoformat()


def companies(nodes: pl.DataFrame) -> pl.DataFrame:
    """The company nodes: ``company``, ``registered_on``, ``dissolved_on``, ``sbi_code``, ``legal_form``."""
    return nodes.filter(pl.col("entity_type") == "company").select(
        company="entity_id", registered_on="registered_on", dissolved_on="dissolved_on", sbi_code="sbi_code",
        legal_form="legal_form")


def peak_presence(periods: pl.DataFrame, group: str, member: str, min_members: int = 1) -> pl.DataFrame:
    """Per ``group``, the most distinct ``member``\\ s present on one day (``present``) and the
    first such ``day``. ``periods`` holds ``group``, ``member``, ``start``, ``end`` (both
    included); overlapping periods of one member are merged first, so a member counts once.
    A group with fewer than ``min_members`` distinct members in all cannot have that many present
    at once: it is left out before the days are counted."""
    return (
        _presence(periods, group, member, min_members)
        .sort([group, "present", "day"], descending=[False, True, False])
        .group_by(group, maintain_order=True).first()
        .select(group, pl.col("present").cast(pl.Int64), "day")
    )


def crowded_periods(periods: pl.DataFrame, group: str, member: str, more_than: int) -> pl.DataFrame:
    """Per ``group``, the periods (``start``, ``end``, both included) during which more than
    ``more_than`` distinct ``member``\\ s were present at once; ``periods`` as for
    :func:`peak_presence`.

    >>> stays = pl.DataFrame({"address": ["A1"] * 3, "company": ["C1", "C2", "C3"],
    ...     "start": [dt.date(2020, 1, 1), dt.date(2021, 1, 1), dt.date(2021, 6, 1)],
    ...     "end": [dt.date(2021, 12, 31), END_OF_TIME, dt.date(2022, 3, 31)]})
    >>> crowded_periods(stays, "address", "company", more_than=2).rows()
    [('A1', datetime.date(2021, 6, 1), datetime.date(2021, 12, 31))]
    """
    return (
        _presence(periods, group, member, more_than + 1)
        .group_by(group, "day", maintain_order=True).last()
        .with_columns(end=pl.col("day").shift(-1).over(group) - pl.duration(days=1))
        .filter(pl.col("present") > more_than)
        .select(group, start="day", end="end")
    )


def _presence(periods: pl.DataFrame, group: str, member: str, min_members: int) -> pl.DataFrame:
    """The days on which the number of distinct members present in a group changes: ``group``,
    ``day``, ``present`` (after each change; the last row of a day holds the day's count)."""
    if min_members > 1:
        periods = periods.join(_member_counts(periods, group, member).filter(pl.col("_members") >= min_members),
                               on=group, how="semi")
    stays = (
        periods.select(group, member, "start", "end").sort(group, member, "start", "end")
        .with_columns(_reach=pl.col("end").cum_max().shift(1).over(group, member))
        .with_columns(_new=(pl.col("_reach").is_null() | (pl.col("start") > pl.col("_reach"))).cast(pl.Int32))
        .with_columns(_stay=pl.col("_new").cum_sum().over(group, member))
        .group_by(group, member, "_stay").agg(pl.col("start").min(), pl.col("end").max())
    )
    events = pl.concat([
        stays.select(group, day="start", delta=pl.lit(1)),
        stays.select(group, day=pl.col("end") + pl.duration(days=1), delta=pl.lit(-1)),
    ]).sort(group, "day", "delta")  # leavers before arrivals on the same day
    return events.with_columns(present=pl.col("delta").cum_sum().over(group))


def small_groups(periods: pl.DataFrame, group: str, member: str, max_members: int) -> pl.DataFrame:
    """The ``group``\\ s (one column) where at most ``max_members`` distinct ``member``\\ s were
    present on any one day (:func:`peak_presence`); the days are counted only in the groups that
    have more members than that in all.

    >>> stays = pl.DataFrame({"address": ["A1", "A1", "A1", "A2"], "person": ["P1", "P2", "P3", "P1"],
    ...     "start": [dt.date(2024, 1, 1), dt.date(2024, 3, 1), dt.date(2024, 6, 1), dt.date(2025, 1, 1)],
    ...     "end": [dt.date(2024, 12, 31), dt.date(2024, 4, 30), dt.date(2024, 12, 31), END_OF_TIME]})
    >>> sorted(small_groups(stays, "address", "person", max_members=2).get_column("address"))
    ['A1', 'A2']
    >>> small_groups(stays, "address", "person", max_members=1).get_column("address").to_list()
    ['A2']
    """
    members = _member_counts(periods, group, member)
    counted = peak_presence(periods.join(members.filter(pl.col("_members") > max_members), on=group, how="semi"),
                            group, member)
    return pl.concat([members.filter(pl.col("_members") <= max_members).select(group),
                      counted.filter(pl.col("present") <= max_members).select(group)])


def _member_counts(periods: pl.DataFrame, group: str, member: str) -> pl.DataFrame:
    return periods.group_by(group).agg(_members=pl.col(member).n_unique())


def minimum_table() -> pl.DataFrame:
    """``rate_from``, ``band``, ``minimum``: the hourly minimum of every age band per period."""
    return pl.DataFrame(
        [{"rate_from": start, "band": band, "minimum": minimum_hourly_wage(start, band)}
         for start, _ in MINIMUM_HOURLY_WAGE for band in AGE_BANDS],
        schema={"rate_from": pl.Date(), "band": pl.String(), "minimum": pl.Float64()},
    ).sort("rate_from")


def hourly_wages(edges: pl.DataFrame, tolerance: float | pl.Expr) -> pl.DataFrame:
    """EMPLOYED_BY edges that can be judged, with ``hourly`` (wage / hours), ``minimum`` (the
    statutory hourly minimum for the period's ``age_band`` at the start of the period, the adult
    one when the band is unknown), ``age_known``, ``below`` (more than ``tolerance`` under it; an
    expression gives each period its own) and
    ``weekly`` (hours a week on average over the period; null while the period is open).

    Periods without hours, without a start, or starting before the first known minimum cannot be
    judged and are left out.
    """
    first_rate = MINIMUM_HOURLY_WAGE[0][0]
    paid = (
        of_type(edges, "EMPLOYED_BY")
        .filter(pl.col("wage").is_not_null() & (pl.col("hours") > 0) & (pl.col("valid_from") >= first_rate))
        .with_columns(hourly=pl.col("wage") / pl.col("hours"),
                      age_known=pl.col("age_band").is_in(list(AGE_BANDS)).fill_null(False))
        .with_columns(band=pl.when(pl.col("age_known")).then(pl.col("age_band")).otherwise(pl.lit("21+")))
        .sort("valid_from")
    )
    return (
        paid.join_asof(minimum_table(), left_on="valid_from", right_on="rate_from", by="band", strategy="backward",
                       check_sortedness=False)  # both sides are sorted by date above
        .with_columns(below=pl.col("hourly") < pl.col("minimum") * (1 - tolerance),
                      weekly=pl.when(pl.col("valid_to") >= pl.col("valid_from")).then(
                          pl.col("hours") / (((pl.col("valid_to") - pl.col("valid_from")).dt.total_days() + 1) / 7)))
        .drop("band", "rate_from")
    )


def co_residents(edges: pl.DataFrame, max_residents: int, persons: pl.DataFrame | None = None) -> pl.DataFrame:
    """Pairs of distinct persons registered at one address with overlapping periods, at addresses
    where at most ``max_residents`` persons lived at once (a home, not a hostel or a business
    centre): ``person``, ``other``, ``address``, ``evidence`` (their two registrations), and
    ``start`` and ``end``, the days they lived there together. ``persons`` (a ``person``
    column): only the pairs whose ``person`` is one of them, counting only the addresses where
    they lived."""
    homes = with_period(of_type(edges, "REGISTERED_AT", columns=PERIOD_COLUMNS)).select(
        "relation_id", person="from_entity", address="to_entity", start="start", end="end")
    if persons is not None:
        homes = homes.join(homes.join(persons, on="person", how="semi").select("address").unique(), on="address",
                           how="semi")
    homes = homes.join(small_groups(homes, "address", "person", max_residents), on="address", how="semi")
    return (
        (homes if persons is None else homes.join(persons, on="person", how="semi"))
        .join(homes, on="address", suffix="_other")
        .filter((pl.col("person") != pl.col("person_other")) & overlaps("start", "end", "start_other", "end_other"))
        .select("person", other="person_other", address="address",
                evidence=pl.concat_list("relation_id", "relation_id_other"),
                start=pl.max_horizontal("start", "start_other"), end=pl.min_horizontal("end", "end_other"))
    )


def company_links(edges: pl.DataFrame, max_residents: int = 12, among: pl.DataFrame | None = None) -> pl.DataFrame:
    """Pairs of distinct companies tied by the people who run them, in the same period: a shared
    officer, a shared business address (LOCATED_AT), or officers who live together (see
    :func:`co_residents`) while both hold office. ``company``, ``other``, ``link`` (words), ``evidence`` (relation ids);
    one row per pair and kind of link. ``among`` (``company``, ``other``): only these pairs,
    found without pairing the companies no pair names (a business centre hosts thousands)."""
    offices = with_period(of_type(edges, "OFFICER_OF")).select(
        "relation_id", person="from_entity", company="to_entity", start="start", end="end")
    sites = with_period(of_type(edges, "LOCATED_AT")).select(
        "relation_id", company="from_entity", address="to_entity", start="start", end="end")
    if among is not None:
        named = pl.concat([among.select("company"), among.select(company="other")]).unique()
        offices, sites = (table.join(named, on="company", how="semi") for table in (offices, sites))
    shared_officer = (
        offices.join(offices, on="person", suffix="_other")
        .filter((pl.col("company") != pl.col("company_other")) & overlaps("start", "end", "start_other", "end_other"))
        .select("company", other="company_other", link=pl.lit("a shared officer"),
                evidence=pl.concat_list("relation_id", "relation_id_other"))
    )
    shared_site = (
        sites.join(sites, on="address", suffix="_other")
        .filter((pl.col("company") != pl.col("company_other")) & overlaps("start", "end", "start_other", "end_other"))
        .select("company", other="company_other", link=pl.lit("the same business address"),
                evidence=pl.concat_list("relation_id", "relation_id_other"))
    )
    # housemates tie their companies only while both live there and both hold office: a lodger who
    # ran a firm years before the other moved in links nothing
    households = (
        co_residents(edges, max_residents, None if among is None else offices.select("person").unique())
        .join(offices.select(person="person", company="company", office="relation_id", office_start="start",
                             office_end="end"), on="person")
        .join(offices.select(other="person", other_company="company", other_office="relation_id",
                             other_start="start", other_end="end"), on="other")
        .filter((pl.col("company") != pl.col("other_company"))
                & (pl.max_horizontal("start", "office_start", "other_start")
                   <= pl.min_horizontal("end", "office_end", "other_end")))
        .select("company", other="other_company", link=pl.lit("officers living at one address"),
                evidence=pl.concat_list("office", "other_office", pl.col("evidence")))
    )
    links = pl.concat([shared_officer, shared_site, households])
    if among is not None:
        links = links.join(among, on=["company", "other"], how="semi")
    return (
        links.group_by("company", "other", "link").agg(pl.col("evidence").list.explode(**FLAT).unique().sort())
        .sort("company", "other", "link")
    )


def shortest_paths(origins: Iterable[str], edges: pl.DataFrame, max_hops: int, max_degree: int,
                   together: pl.DataFrame | None = None) -> pl.DataFrame:
    """Breadth-first search from every origin over ``edges`` (both directions): ``origin``,
    ``target``, ``path`` (the relation ids of one shortest path, the lexicographically smallest).
    A path never enters an entity twice. An entity with more than ``max_degree`` neighbours is
    reached but not passed through, unless it is the origin itself.

    ``together`` (``relation_id``, ``start``, ``end``): relations that tie their ``from_entity``
    to a place (their ``to_entity``) for a period, such as a registration at an address. A path
    may go into a place over one of them and out again over another only when the two periods
    overlap: a home ties two people only while both live there. The test is part of the search,
    so a person's other registration at the same place, or another place, can still give a
    shortest path when the first one found does not overlap. Since no path comes back to a place
    it has left, a walk out of a flat and back in (over a second office row of a company there, a
    second registration of a co-resident, or a loop of any length) cannot pass the flat on with no
    period or another period: whether a path exists does not depend on how a stay or an office is
    split into rows.

    All origins walk together, one depth at a time, as joins: every path of a depth steps over the
    relations of its last entity to the entities it has not entered yet. Every path of a depth has
    the same length, so the smallest path into an entity is the one that extends the smallest path
    of the depth before (its ``rank``) over the smallest relation id. With periods every path is
    walked on, not only the first into an entity: which steps may leave a place depends on the way
    in, and which entities are left to enter on the entities passed (paths are short, and never
    pass a crowded entity). With no periods the first path into an entity is the only one walked
    on: a later one could reach nothing sooner. An entity is reported once, the first depth it is
    reached.

    >>> edges = pl.DataFrame({"relation_id": ["r1", "r2"], "from_entity": ["A", "B"], "to_entity": ["B", "C"]})
    >>> shortest_paths(["A"], edges, max_hops=2, max_degree=5).rows()
    [('A', 'B', ['r1']), ('A', 'C', ['r1', 'r2'])]

    P1 lived at A1 in 2019-2021, P2 from 2020 on, P3 there in 2015 and again from 2021 on:

    >>> homes = pl.DataFrame({"relation_id": ["b1", "b2", "b3", "b4"], "from_entity": ["P1", "P2", "P3", "P3"],
    ...     "to_entity": ["A1"] * 4, "start": [dt.date(y, 1, 1) for y in (2019, 2020, 2015, 2021)],
    ...     "end": [dt.date(2021, 12, 31), END_OF_TIME, dt.date(2015, 12, 31), END_OF_TIME]})
    >>> shortest_paths(["P1"], homes.drop("start", "end"), 2, 5, together=homes).rows()
    [('P1', 'A1', ['b1']), ('P1', 'P2', ['b1', 'b2']), ('P1', 'P3', ['b1', 'b4'])]

    P3 enters A1 over the 2015 stay (the smaller id, so the path reported) and over an office
    there (k1), which bars nobody from leaving: P2 is reached over the office:

    >>> office = pl.DataFrame({"relation_id": ["k1"], "from_entity": ["P3"], "to_entity": ["A1"]})
    >>> stays = homes.filter(pl.col("relation_id").is_in(["b2", "b3"]))
    >>> walkable = pl.concat([stays.drop("start", "end"), office])
    >>> shortest_paths(["P3"], walkable, 3, 5, together=stays).rows()
    [('P3', 'A1', ['b3']), ('P3', 'P2', ['k1', 'b2'])]

    A company C1 has two office rows at A1 (k2, k3): P1 reaches it through the flat, but going on
    back into the flat over the other row (``['b1', 'k2', 'k3', 'b3']``) would enter the flat a
    second time and reach the 2015 tenant P3, whom no stay of P1 overlaps:

    >>> moved = homes.filter(pl.col("relation_id").is_in(["b1", "b3"]))
    >>> offices = pl.DataFrame({"relation_id": ["k2", "k3"], "from_entity": ["C1", "C1"], "to_entity": ["A1", "A1"]})
    >>> walkable = pl.concat([moved.drop("start", "end"), offices])
    >>> shortest_paths(["P1"], walkable, 4, 5, together=moved).rows()
    [('P1', 'A1', ['b1']), ('P1', 'C1', ['b1', 'k2'])]
    """
    return PathSearch(origins, edges, max_degree, together).paths(max_hops)


class PathSearch:
    """The breadth-first search of :func:`shortest_paths`, kept between calls: ``paths(max_hops)``
    walks only the depths not walked yet, and a depth's paths never depend on how deep the search
    goes. So a rule searching at two levels of ``max_hops`` (its weak level) walks the deeper one
    once, and the shallower level's paths are the first depths of it.

    >>> edges = pl.DataFrame({"relation_id": ["r1", "r2"], "from_entity": ["A", "B"], "to_entity": ["B", "C"]})
    >>> search = PathSearch(["A"], edges, max_degree=5)
    >>> search.paths(1).rows(), search.paths(2).height, search.paths(1).height
    ([('A', 'B', ['r1'])], 2, 1)
    """

    def __init__(self, origins: Iterable[str], edges: pl.DataFrame, max_degree: int,
                 together: pl.DataFrame | None = None) -> None:
        # the self-loops left out before the two directions are put together, which then copies nothing
        edges = edges.filter(pl.col("from_entity") != pl.col("to_entity"))
        dated = (together.select("relation_id", "start", "end") if together is not None
                 else pl.DataFrame(schema={"relation_id": pl.String(), "start": pl.Date(), "end": pl.Date()}))
        # each relation's period found once, for both its directions
        edges = edges.select("relation_id", "from_entity", "to_entity").join(dated, on="relation_id", how="left")
        self.steps = pl.concat([
            edges.select("relation_id", node="from_entity", other="to_entity", into_place=pl.lit(True),
                         start="start", end="end"),
            edges.select("relation_id", node="to_entity", other="from_entity", into_place=pl.lit(False),
                         start="start", end="end"),
        ], rechunk=False)
        self.frontier = pl.DataFrame({"origin": sorted(set(origins))}, schema={"origin": pl.String()}).select(
            "origin", node="origin", path=pl.lit([], dtype=pl.List(pl.String())), passed=pl.concat_list("origin"),
            rank=pl.lit(0, dtype=pl.UInt32()), entered_start=pl.lit(None, dtype=pl.Date()),
            entered_end=pl.lit(None, dtype=pl.Date()))
        self.reported, self.found = self.frontier.select("origin", "node"), []
        self.max_degree, self.dated, self.walked = max_degree, together is not None, 0

    def paths(self, max_hops: int) -> pl.DataFrame:
        """``origin``, ``target``, ``path`` of every target within ``max_hops`` (see :func:`shortest_paths`)."""
        while self.walked < max_hops and not self.frontier.is_empty():
            self._step()
        found = self.found[:max_hops]
        return pl.concat([frontier.select("origin", target="node", path="path") for frontier in found]
                         or [pl.DataFrame(schema={"origin": pl.String(), "target": pl.String(),
                                                  "path": pl.List(pl.String())})]).sort("origin", maintain_order=True)

    def _step(self) -> None:
        """Walk one depth further: every path of the last depth over the relations of its last entity."""
        leaving_apart = (pl.col("entered_start").is_not_null() & pl.col("start").is_not_null() & ~pl.col("into_place")
                         & ~overlaps("entered_start", "entered_end", "start", "end"))
        entering = pl.col("into_place") & pl.col("start").is_not_null()
        frontier, reported = self.frontier, self.reported
        # the neighbours are counted only for the entities reached: counting them for every entity
        # of the graph costs more than the whole walk
        leaving = frontier.select("node").unique().join(self.steps, on="node")
        hubs = (leaving.group_by("node").agg(neighbours=pl.col("other").n_unique())
                .filter(pl.col("neighbours") > self.max_degree).get_column("node"))
        frontier = (
            frontier.filter((pl.col("node") == pl.col("origin")) | ~pl.col("node").is_in(hubs.implode()))
            .join(leaving, on="node")
            .filter(~pl.col("passed").list.contains(pl.col("other")) & ~leaving_apart)
            .sort("rank", "relation_id")
            .select("origin", node="other", path=pl.col("path").list.concat(pl.concat_list("relation_id")),
                    passed=pl.col("passed").list.concat(pl.concat_list("other")),
                    entered_start=pl.when(entering).then("start"), entered_end=pl.when(entering).then("end"))
        )
        if not self.dated:
            frontier = (frontier.join(reported, on=["origin", "node"], how="anti", maintain_order="left")
                        .group_by("origin", "node", maintain_order=True).first())
        self.frontier = frontier.with_row_index("rank")
        self.walked += 1
        if self.frontier.is_empty():
            return
        self.found.append(self.frontier.join(reported, on=["origin", "node"], how="anti", maintain_order="left")
                          .group_by("origin", "node", maintain_order=True).first())
        self.reported = pl.concat([reported, self.found[-1].select("origin", "node")])
