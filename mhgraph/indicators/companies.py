"""Control through companies: straw directors, front men sharing a home, linked companies at one
address, phoenix successors, short-lived employers at an established company's address.

>>> import datetime as dt
>>> import polars as pl
>>> D = dt.date
>>> nodes = pl.DataFrame({"entity_id": ["C-old", "C-new", "A-shop", "P-owner", "P-straw"],
...     "entity_type": ["company", "company", "address", "person", "person"],
...     "registered_on": [D(2022, 1, 1), D(2024, 3, 1), None, None, None],
...     "dissolved_on": [D(2024, 2, 1), None, None, None, None], "sbi_code": ["7820", "78201", None, None, None]})
>>> edges = pl.DataFrame({"relation_id": ["k1", "k2", "f1", "f2"],
...     "type": ["LOCATED_AT", "LOCATED_AT", "OFFICER_OF", "OFFICER_OF"],
...     "from_entity": ["C-old", "C-new", "P-owner", "P-straw"], "to_entity": ["A-shop", "A-shop", "C-old", "C-new"],
...     "partner": ["kvk"] * 4})
>>> print(phoenix_company(nodes, edges)["reason"][0])
Registered 2024-03-01 as successor of C-old (dissolved 2024-02-01, 29 days before; same address and activity), with none of its officers (thresholds 180 days, 2 employees, SBI to 4 digits).

Had P-owner become the officer of C-new (an *eenmanszaak* turned into a BV by its owner), the
rule would stay silent.
"""

from __future__ import annotations

import polars as pl

from mhgraph.indicators.registry import rule
from mhgraph.indicators.tables import (
    BEGINNING, END_OF_TIME, FLAT, co_residents, companies, crowded_periods, employments, of_type, overlaps,
    small_groups, with_period,
)

__all__ = ["officers_sharing_home", "phoenix_company", "shared_company_address", "short_lived_employer_at_host",
           "straw_director"]


def _short_lived(max_days: int) -> pl.Expr:
    return (pl.col("dissolved_on") - pl.col("registered_on")).dt.total_days() < max_days


@rule("straw_director")
def straw_director(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_short: int, max_days: int) -> pl.DataFrame:
    """A person is officer (OFFICER_OF) of at least ``min_short`` companies *briefly*: the office lasted
    less than ``max_days`` (ended by its end date or the company's dissolution), or the company
    was dissolved less than ``max_days`` after registration. Long directorships of many
    companies (a holding, a hotel chain) do not count. Focus: the person.
    """
    return (
        _offices(nodes, edges, max_days).group_by("person").agg(
            companies=pl.col("company").n_unique(),
            brief=pl.col("company").filter(pl.col("brief")).n_unique(),
            dissolved=pl.col("company").filter(pl.col("brief") & pl.col("dissolved_on").is_not_null()).n_unique(),
            evidence=pl.col("relation_id").filter(pl.col("brief")))
        .filter(pl.col("brief") >= min_short)
        .rename({"person": "focus_entity"})
    )


def _offices(nodes: pl.DataFrame, edges: pl.DataFrame, max_days: int) -> pl.DataFrame:
    """OFFICER_OF relations with their company and ``brief``: the office lasted less than ``max_days``
    (ended by its end date or the company's dissolution), or the company was dissolved less than
    ``max_days`` after registration."""
    return (
        of_type(edges, "OFFICER_OF")
        .select("relation_id", person="from_entity", company="to_entity", since="valid_from", until="valid_to")
        .join(companies(nodes), on="company", how="left")
        .with_columns(office_end=pl.coalesce("until", "dissolved_on"))
        .with_columns(brief=((pl.col("office_end") - pl.col("since")).dt.total_days() < max_days).fill_null(False)
                      | _short_lived(max_days).fill_null(False))
    )


@rule("officers_sharing_home")
def officers_sharing_home(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_officers: int, max_days: int,
                          max_residents: int) -> pl.DataFrame:
    """At least ``min_officers`` persons registered at one home (at most ``max_residents`` residents
    at once) at the same time, each *briefly* (as in :func:`straw_director`, ``max_days``) the
    officer of a different company, the office held while living there. A couple running their
    own long-lived businesses from home is silent. Focus: the address.
    """
    offices = (_offices(nodes, edges, max_days).filter("brief")
               .with_columns(office_start=pl.col("since").fill_null(BEGINNING),
                             office_stop=pl.col("office_end").fill_null(END_OF_TIME)))
    homes = with_period(of_type(edges, "REGISTERED_AT")).select(
        home="relation_id", person="from_entity", address="to_entity", start="start", end="end")
    # only an address where a brief officer lived can be such a home: its residents alone are counted
    homes = homes.join(homes.join(offices, on="person", how="semi").select("address").unique(), on="address",
                       how="semi")
    small = small_groups(homes, "address", "person", max_residents)
    fronts = (
        homes.rename({"start": "home_start", "end": "home_end"}).join(small, on="address", how="semi")
        .join(offices, on="person")
        .filter(overlaps("home_start", "home_end", "office_start", "office_stop"))
        .select("address", "person", "company", "home", "relation_id",
                start=pl.max_horizontal("home_start", "office_start"), end=pl.min_horizontal("home_end", "office_stop"))
    )
    together = (
        fronts.join(fronts, on="address", suffix="_other")
        .filter((pl.col("person") != pl.col("person_other")) & (pl.col("company") != pl.col("company_other"))
                & overlaps("start", "end", "start_other", "end_other"))
    )
    return (
        together.group_by("address").agg(
            officers=pl.col("person").n_unique(), companies=pl.col("company").n_unique(),
            first=pl.col("start").min(), last=pl.col("end").max(),
            evidence=pl.concat_list("home", "relation_id").list.explode(**FLAT))
        .filter(pl.col("officers") >= min_officers)
        .rename({"address": "focus_entity"})
    )


@rule("shared_company_address")
def shared_company_address(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_companies: int, min_linked: int,
                           max_days: int, min_short: int = 0) -> pl.DataFrame:
    """At least ``min_companies`` companies LOCATED_AT one address, of which at least ``min_linked``
    are *linked*: they share an officer with another company at the address, or were dissolved
    within ``max_days`` of registration; at least ``min_short`` of them short-lived. An
    accountant's or business centre's address hosts many unrelated, long-lived companies with
    their own officers and does not fire; a family's long-lived companies at its home (a shop
    and its holding) share an officer but are silent once ``min_short`` is 1. Focus: the address.
    """
    located = (of_type(edges, "LOCATED_AT").select(located="relation_id", company="from_entity", address="to_entity")
               .join(companies(nodes), on="company", how="inner"))
    officers = of_type(edges, "OFFICER_OF").select(office="relation_id", person="from_entity", company="to_entity")
    here = located.select("address", "company").unique().join(officers, on="company")
    shared = (here.join(here, on=["address", "person"], suffix="_other")
              .filter(pl.col("company") != pl.col("company_other"))
              .group_by("address", "company").agg(offices=pl.col("office").unique()))
    per_company = (
        located.group_by("address", "company").agg(pl.col("located"), pl.col("registered_on").first(),
                                                   pl.col("dissolved_on").first())
        .join(shared, on=["address", "company"], how="left")
        .with_columns(shares_officer=pl.col("offices").is_not_null(), short=_short_lived(max_days).fill_null(False))
        .with_columns(linked=pl.col("shares_officer") | pl.col("short"))
    )
    return (
        per_company.group_by("address").agg(
            companies=pl.len(), linked=pl.col("linked").sum(), sharing=pl.col("shares_officer").sum(),
            short=pl.col("short").sum(),
            evidence=pl.col("located").filter(pl.col("linked")).list.explode(**FLAT)
            .append(pl.col("offices").filter(pl.col("linked")).list.explode(**FLAT)).drop_nulls())
        .filter((pl.col("companies") >= min_companies) & (pl.col("linked") >= min_linked)
                & (pl.col("short") >= min_short))
        .rename({"address": "focus_entity"})
    )


@rule("phoenix_company")
def phoenix_company(nodes: pl.DataFrame, edges: pl.DataFrame, *, max_gap_days: int, min_shared_employees: int,
                    min_staff_share: float, max_predecessor_days: int, activity_digits: int) -> pl.DataFrame:
    """Company A is dissolved; company B, registered after A and no more than ``max_gap_days`` before
    or after A's dissolution, continues A's business while none of A's officers is an officer of B
    (both must have officers on record). B continues A's business when

    * it is LOCATED_AT an address of A and has the same activity (first ``activity_digits`` digits
      of the SBI code) or at least ``min_shared_employees`` persons EMPLOYED_BY both; or
    * elsewhere, A lasted under ``max_predecessor_days`` and B has the same activity and took
      over A's staff: at least ``min_shared_employees`` persons, and at least ``min_staff_share``
      of all A ever employed, EMPLOYED_BY both, none of B's officers among A's employees.

    A legal-form conversion keeps its owner and does not fire. An established business that
    closes and whose staff a new competitor or their own new firm takes on elsewhere is a
    restart, not a front, and does not fire; nor does a competitor that hires some of the
    former staff, or a new tenant in another trade without the old staff. Focus: the successor B.
    """
    firms = companies(nodes).with_columns(activity=pl.col("sbi_code").str.slice(0, activity_digits))
    ended = firms.filter(pl.col("dissolved_on").is_not_null()).select(
        old="company", old_registered="registered_on", old_dissolved="dissolved_on", old_activity="activity")
    started = firms.filter(pl.col("registered_on").is_not_null()).select(
        new="company", new_registered="registered_on", new_activity="activity")
    sites = of_type(edges, "LOCATED_AT").select(company="from_entity", address="to_entity", site="relation_id")
    offices = with_period(of_type(edges, "OFFICER_OF")).select(
        person="from_entity", company="to_entity", office_start="start", office_end="end")
    jobs = of_type(edges, "EMPLOYED_BY").select(person="from_entity", company="to_entity", job="relation_id")

    def of_old(table: pl.DataFrame) -> pl.DataFrame:  # rows of dissolved companies, renamed to "old"
        return table.join(ended, left_on="company", right_on="old", how="semi").rename({"company": "old"})

    def of_new(table: pl.DataFrame) -> pl.DataFrame:  # rows of registered companies, renamed to "new"
        return table.join(started, left_on="company", right_on="new", how="semi").rename({"company": "new"})

    def in_time(pairs: pl.DataFrame) -> pl.DataFrame:
        return (pairs.filter(pl.col("old") != pl.col("new")).join(ended, on="old").join(started, on="new")
                .filter((pl.col("old_registered").is_null() | (pl.col("new_registered") > pl.col("old_registered")))
                        & ((pl.col("new_registered") - pl.col("old_dissolved")).dt.total_days().abs()
                           <= max_gap_days)))

    same_site = (
        in_time(of_old(sites).join(of_new(sites), on="address", suffix="_new"))
        .group_by("old", "new").agg(site_evidence=pl.concat_list("site", "site_new").list.explode(**FLAT))
    )
    staff = (
        in_time(of_old(jobs).rename({"job": "old_job"}).join(of_new(jobs).rename({"job": "new_job"}), on="person"))
        .group_by("old", "new").agg(staff=pl.col("person").n_unique(),
                                    staff_evidence=pl.concat_list("old_job", "new_job").list.explode(**FLAT))
        .join(of_old(jobs).group_by("old").agg(old_staff=pl.col("person").n_unique()), on="old")
    )
    own_staff_runs_it = of_new(offices).join(of_old(jobs), on="person").select("old", "new").unique()
    # an officer carries the business over only across the handover: in office at the old company in
    # the max_gap_days before it (the dissolution, or the new registration where the old company is
    # wound up after the successor began) and at the new one in its first; one who joins the
    # successor years later, after the business went on without them, does not make it the same owner's
    handover = pl.min_horizontal("old_dissolved", "new_registered")
    carried_over = (
        of_old(offices).join(of_new(offices), on="person", suffix="_new").join(ended, on="old").join(started, on="new")
        .filter((pl.col("office_end") >= handover - pl.duration(days=max_gap_days))
                & (pl.col("office_start_new") <= pl.col("new_registered") + pl.duration(days=max_gap_days))
                & (pl.col("office_end_new") >= pl.col("new_registered")))
        .select("old", "new").unique()
    )
    with_officers = offices.select("company").unique()
    found = (
        same_site.join(staff, on=["old", "new"], how="full", coalesce=True)
        .join(ended, on="old").join(started, on="new")
        .with_columns(at_site=pl.col("site_evidence").is_not_null())
        .with_columns(pl.col("staff").fill_null(0), pl.col("staff_evidence").fill_null([]),
                      pl.col("site_evidence").fill_null([]),
                      same_activity=(pl.col("old_activity") == pl.col("new_activity")).fill_null(False)
                      & (pl.col("old_activity").str.len_chars() >= activity_digits).fill_null(False))
        .join(own_staff_runs_it.with_columns(own_staff=pl.lit(True)), on=["old", "new"], how="left")
        .filter(pl.when(pl.col("at_site"))
                .then(pl.col("same_activity") | (pl.col("staff") >= min_shared_employees))
                .otherwise(pl.col("same_activity") & (pl.col("staff") >= min_shared_employees)
                           & (pl.col("staff") >= min_staff_share * pl.col("old_staff"))
                           & pl.col("own_staff").is_null()
                           & ((pl.col("old_dissolved") - pl.col("old_registered")).dt.total_days()
                              < max_predecessor_days).fill_null(False)))
        .join(carried_over, on=["old", "new"], how="anti")
        .join(with_officers.rename({"company": "old"}), on="old", how="semi")
        .join(with_officers.rename({"company": "new"}), on="new", how="semi")
        .with_columns(
            continuity=pl.when(pl.col("at_site")).then(pl.concat_str(
                pl.lit("same address"),
                pl.when(pl.col("same_activity")).then(pl.lit(" and activity")).otherwise(pl.lit("")),
                pl.when(pl.col("staff") >= min_shared_employees)
                .then(pl.format(", {} employees in common", pl.col("staff"))).otherwise(pl.lit(""))))
            .otherwise(pl.format("same activity elsewhere, {}/{} employees went over", "staff", "old_staff")),
            days=(pl.col("new_registered") - pl.col("old_dissolved")).dt.total_days())
        .with_columns(predecessor=pl.format(
            "{} (dissolved {}, {} days {}; {})", "old", "old_dissolved", pl.col("days").abs(),
            pl.when(pl.col("days") >= 0).then(pl.lit("before")).otherwise(pl.lit("after")), "continuity"))
    )
    return (
        found.sort("new", "staff", "old", descending=[False, True, False])
        .group_by("new", maintain_order=True).agg(
            predecessors=pl.col("predecessor").str.join("; "), registered=pl.col("new_registered").first(),
            evidence=pl.col("site_evidence").list.explode(**FLAT).append(pl.col("staff_evidence").list.explode(**FLAT)))
        .rename({"new": "focus_entity"})
    )


@rule("short_lived_employer_at_host")
def short_lived_employer_at_host(nodes: pl.DataFrame, edges: pl.DataFrame, *, max_days: int, min_host_days: int,
                                 min_employees: int, max_companies: int, activity_digits: int,
                                 max_residents: int) -> pl.DataFrame:
    """An established company (the host) has at its business address (LOCATED_AT, at the same
    time) a company in its own line of business (the first ``activity_digits`` digits of the SBI
    code) that was registered at least ``min_host_days`` after the host, dissolved less than
    ``max_days`` after its own registration, and paid at least ``min_employees`` persons
    (EMPLOYED_BY) while it was there. The two never had an officer in common, and no officer of
    one lived with an officer of the other (a home of at most ``max_residents`` residents): the
    owner's own new company, a legal-form conversion or the family's second firm is one business,
    not a front. Both must have an officer on file, or neither tie could be ruled out. A company
    dissolved before it was ``min_host_days`` days old hosts nothing. An address that held more
    than ``max_companies`` companies at once (a business centre, a trust office) says nothing about
    who hosts whom and is left out. Focus: the short-lived company, where its staff and the pay
    rules' findings are; the reason names the hosts with the dates.

    >>> import datetime as dt
    >>> nodes = pl.DataFrame({"entity_id": ["C-main", "C-sub"], "entity_type": ["company"] * 2,
    ...     "registered_on": [dt.date(2010, 1, 1), dt.date(2022, 6, 1)], "dissolved_on": [None, dt.date(2023, 12, 31)],
    ...     "sbi_code": ["4391", "4399"]})
    >>> edges = pl.DataFrame({"relation_id": ["k1", "k2", "o1", "o2", "j1", "j2"],
    ...     "type": ["LOCATED_AT"] * 2 + ["OFFICER_OF"] * 2 + ["EMPLOYED_BY"] * 2,
    ...     "from_entity": ["C-main", "C-sub", "P-boss", "P-straw", "P-w1", "P-w2"],
    ...     "to_entity": ["A-yard", "A-yard", "C-main", "C-sub", "C-sub", "C-sub"]})
    >>> short_lived_employer_at_host(nodes, edges).get_column("focus_entity").to_list()
    ['C-sub']

    Had P-boss been the officer of C-sub too (his own new company), it would stay silent.
    """
    firms = companies(nodes).with_columns(activity=pl.col("sbi_code").str.slice(0, activity_digits))
    sites = with_period(of_type(edges, "LOCATED_AT")).select(
        site="relation_id", company="from_entity", address="to_entity", start="start", end="end")
    # an address is a business centre only while it holds more than max_companies registered
    # companies (a municipal permit of the premises is no tenant): a yard that becomes one later
    # still hosted what it hosted before, so only pay on the crowded days is left out, not the stay
    centres = _merged(crowded_periods(sites.join(firms, on="company", how="semi"), "address", "company",
                                      max_companies)).rename({"start": "centre_start", "end": "centre_end"})
    short = firms.filter(_short_lived(max_days).fill_null(False)).select(
        short="company", short_registered="registered_on", short_dissolved="dissolved_on", activity="activity")
    # a company dissolved before it was min_host_days old cannot host one registered min_host_days
    # after it: leaving such companies out keeps the join of the stays at one address small where
    # short-lived companies follow each other
    hosts = firms.filter(pl.col("registered_on").is_not_null()
                         & ((pl.col("dissolved_on") - pl.col("registered_on")).dt.total_days() >= min_host_days)
                         .fill_null(True)
                         & (pl.col("activity").str.len_chars() >= activity_digits).fill_null(False)).select(
        host="company", host_registered="registered_on", activity="activity")
    at_address = (
        sites.rename({"company": "short", "site": "short_site", "start": "short_start", "end": "short_end"})
        .join(short, on="short")
        .join(sites.rename({"company": "host", "site": "host_site"}).join(hosts, on="host"),
              on=["address", "activity"])
        .filter((pl.col("host") != pl.col("short")) & overlaps("start", "end", "short_start", "short_end")
                & ((pl.col("short_registered") - pl.col("host_registered")).dt.total_days() >= min_host_days))
        .with_columns(both_start=pl.max_horizontal("start", "short_start"),
                      both_end=pl.min_horizontal("end", "short_end"))
    )
    pairs = at_address.select("host", "short").unique()
    # the officers of the paired companies only: a trust-office director of thousands of companies
    # would otherwise pair all of them with each other
    offices = with_period(of_type(edges, "OFFICER_OF")).select(
        person="from_entity", company="to_entity", office_start="start", office_end="end")
    host_officers = pairs.join(offices.rename({"company": "host"}), on="host")
    short_officers = pairs.join(offices.rename({"company": "short"}), on="short")
    households = co_residents(edges, max_residents, host_officers.select("person").unique()).select(
        "person", "other", home_start="start", home_end="end")
    # one business as the shared officer is, at any time: an officer of the host, then or before,
    # living with the short-lived company's officer while that one holds office (the family's second
    # firm, after the father handed the host to his son); a lodger years before either held office is no tie
    one_business = pl.concat([
        host_officers.join(short_officers, on=["host", "short", "person"], how="semi").select("host", "short"),
        host_officers.join(households, on="person")
        .join(short_officers.rename({"person": "other", "office_start": "other_start", "office_end": "other_end"}),
              on=["host", "short", "other"])
        .filter(overlaps("other_start", "other_end", "home_start", "home_end"))
        .select("host", "short"),
    ])
    jobs = employments(edges).rename({"company": "short"})
    # without an officer on file on either side, no shared officer or household can be ruled out
    staffed = (
        at_address.join(one_business, on=["host", "short"], how="anti")
        .join(host_officers, on=["host", "short"], how="semi")
        .join(short_officers, on=["host", "short"], how="semi")
        .join(jobs, on="short").filter(overlaps("job_start", "job_end", "both_start", "both_end"))
        .with_columns(paid_start=pl.max_horizontal("job_start", "both_start"),
                      paid_end=pl.min_horizontal("job_end", "both_end"))
        .join(centres, on="address", how="left")
        # a job counts unless a business-centre period covers every day it was paid there
        .group_by("host", "short", "host_site", "short_site", "job").agg(
            pl.col("host_registered", "short_registered", "short_dissolved", "person").first(),
            in_centre=((pl.col("centre_start") <= pl.col("paid_start"))
                       & (pl.col("centre_end") >= pl.col("paid_end"))).fill_null(False).any())
        .filter(~pl.col("in_centre"))
        .group_by("host", "short").agg(
            pl.col("host_registered", "short_registered", "short_dissolved").first(),
            employees=pl.col("person").n_unique(),
            # every stay of the two at the address at the same time: no arbitrary pick among several
            evidence=pl.concat([pl.col("host_site"), pl.col("short_site"), pl.col("job")]).unique().sort())
        .filter(pl.col("employees") >= min_employees)
    )
    return (
        staffed.sort("short", "host").group_by("short", maintain_order=True).agg(
            pl.col("short_registered", "short_dissolved").first(),
            hosts=pl.format("{} (registered {})", "host", "host_registered"),
            employees=pl.col("employees").max(), evidence=pl.col("evidence").list.explode(**FLAT).unique().sort())
        .with_columns(hosts=_listed(pl.col("hosts"), "an established company", "established companies"))
        .rename({"short": "focus_entity", "short_registered": "registered", "short_dissolved": "dissolved"})
    )


def _merged(periods: pl.DataFrame) -> pl.DataFrame:
    """``periods`` (``address``, ``start``, ``end``) with the periods of an address that touch or
    overlap joined into one: a centre whose count goes from five to six is one crowded period.

    >>> import datetime as dt
    >>> crowded = pl.DataFrame({"address": ["A1"] * 3, "start": [dt.date(2020, 1, 1), dt.date(2020, 3, 1),
    ...     dt.date(2021, 1, 1)], "end": [dt.date(2020, 2, 29), dt.date(2020, 6, 30), dt.date(2021, 1, 31)]})
    >>> _merged(crowded).rows()
    [('A1', datetime.date(2020, 1, 1), datetime.date(2020, 6, 30)), ('A1', datetime.date(2021, 1, 1), datetime.date(2021, 1, 31))]
    """
    return (
        periods.sort("address", "start")
        .with_columns(_reach=pl.col("end").cum_max().shift(1).over("address"))
        .with_columns(_period=(pl.col("_reach").is_null() | (pl.col("start") > pl.col("_reach") + pl.duration(days=1)))
                      .cum_sum().over("address"))
        .group_by("address", "_period", maintain_order=True).agg(pl.col("start").min(), pl.col("end").max())
        .drop("_period")
    )


def _listed(names: pl.Expr, one: str, many: str) -> pl.Expr:
    """A list of names as a sentence writes it, with what they are: 'A, an established company',
    'A, B and C, established companies'."""
    return (pl.when(names.list.len() == 1)
            .then(pl.format("{}, {}", names.list.first(), pl.lit(one)))
            .otherwise(pl.format("{} and {}, {}", names.list.head(names.list.len() - 1).list.join(", "),
                                 names.list.last(), pl.lit(many))))
