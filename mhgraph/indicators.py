"""Indicators: named, versioned graph patterns, each with a readable reason and the records behind it.

Every indicator is a plain function ``rule(nodes, edges, communities=None, *, thresholds...)``
over the graph tables of :mod:`mhgraph.graph` that returns rows of the ``indicator_hits`` table:
``indicator``, ``version``, ``focus_entity``, ``cluster_id`` (null without ``communities``),
``reason`` (a sentence with the numbers behind it), ``evidence`` (the ``relation_id``\\ s behind the
hit), ``partners`` (whose records those are) and ``weight``. Thresholds are keyword arguments
with documented defaults. :data:`INDICATORS` lists every rule with its version, description,
weight and the partners it needs; :func:`compute_indicators` runs them all.

None of them proves anything: each is an indication for review by a person. No rule reads
nationality, country of birth or neighbourhood; the graph tables do not even carry them.
See ``docs/indicators.md`` for why each rule exists and which partner could act on it.

>>> import datetime as dt
>>> import polars as pl
>>> from mhgraph.graph import EDGE_COLUMNS, NODE_COLUMNS
>>> ids = [f"P{i}" for i in range(9)]
>>> nodes = pl.DataFrame({"entity_id": ids + ["A1"], "entity_type": ["person"] * 9 + ["address"]})
>>> edges = pl.DataFrame({"relation_id": [f"ind/{i}/REGISTERED_AT" for i in range(9)],
...     "type": ["REGISTERED_AT"] * 9, "from_entity": ids, "to_entity": ["A1"] * 9,
...     "valid_from": [dt.date(2024, 1, 1)] * 9, "partner": ["ind"] * 9})
>>> hits = crowded_address(nodes, edges)
>>> hits.select("indicator", "focus_entity", "weight").row(0)
('crowded_address', 'A1', 1.0)
>>> print(hits["reason"][0])
9 distinct persons were registered at this address at the same time on 2024-01-01 (threshold 8).
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

import polars as pl

from mhgraph.reference import HIGH_RISK_SBI_PREFIXES, MINIMUM_HOURLY_WAGE

__all__ = [
    "HIT_SCHEMA",
    "INDICATORS",
    "Indicator",
    "compute_indicators",
    "crowded_address",
    "high_risk_sector",
    "identity_conflict",
    "indicator_registry",
    "link_to_earlier_refusal",
    "permits_linked_to_operator",
    "phoenix_company",
    "shared_company_address",
    "sponsor_of_many_migrants",
    "straw_director",
    "wage_below_minimum",
    "worker_lives_at_workplace",
]

log = logging.getLogger("mhgraph.indicators")

HIT_SCHEMA = {
    "indicator": pl.String(),
    "version": pl.String(),
    "focus_entity": pl.String(),
    "cluster_id": pl.String(),
    "reason": pl.String(),
    "evidence": pl.List(pl.String()),
    "partners": pl.List(pl.String()),
    "weight": pl.Float64(),
}

# Unknown starts count from the beginning of time, open ends run forever.
_BEGINNING, _END_OF_TIME = dt.date(1900, 1, 1), dt.date(9999, 12, 31)
_FLAT = {"keep_nulls": False, "empty_as_null": False}  # list.explode that drops nothing and adds nothing
_LABOUR_PURPOSES = ("arbeid", "seizoensarbeid", "kennismigrant")
_CONTROL_AND_RESIDENCE = ("OFFICER_OF", "HOLDS_PERMIT", "MANAGES", "REGISTERED_AT", "LOCATED_AT")
_SEX_WORK_AND_MASSAGE = ("seksinrichting", "escortbedrijf", "massagesalon")


@dataclass(frozen=True)
class Indicator:
    """One rule of the registry. ``thresholds`` are the keyword defaults of ``function``."""

    name: str
    version: str
    description: str
    weight: float
    partners: tuple[str, ...]
    function: Callable[..., pl.DataFrame] = field(repr=False)
    context_only: bool = False

    @property
    def thresholds(self) -> dict[str, object]:
        return {
            name: p.default for name, p in inspect.signature(self.function).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }


INDICATORS: dict[str, Indicator] = {}


def _register(name: str, version: str, weight: float, partners: tuple[str, ...], description: str,
              context_only: bool = False):
    def wrap(function):
        INDICATORS[name] = Indicator(name, version, description, weight, partners, function, context_only)
        return function
    return wrap


# --- shared helpers -----------------------------------------------------------------------------

def _of_type(edges: pl.DataFrame, *types: str) -> pl.DataFrame:
    return edges.filter(pl.col("type").is_in(list(types)))


def _ensure(frame: pl.DataFrame, columns: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Add absent columns as nulls, so that a rule runs on a table holding only what it needs."""
    return frame.with_columns(pl.lit(None, dtype=dtype).alias(c) for c, dtype in columns.items()
                              if c not in frame.columns)


_EDGE_DEFAULTS = {"valid_from": pl.Date(), "valid_to": pl.Date(), "wage": pl.Float64(), "hours": pl.Float64(),
                  "permit_purpose": pl.String(), "partner": pl.String(), "purpose": pl.String()}
_NODE_DEFAULTS = {"registered_on": pl.Date(), "dissolved_on": pl.Date(), "sbi_code": pl.String(),
                  "sponsor_status": pl.String(), "sponsor_status_on": pl.Date(), "permit_type": pl.String(),
                  "permit_status": pl.String(), "bibob_outcome": pl.String(), "decided_on": pl.Date(),
                  "municipality": pl.String(), "partners": pl.List(pl.String()),
                  "purposes": pl.List(pl.String())}


def _period(edges: pl.DataFrame) -> pl.DataFrame:
    return edges.with_columns(start=pl.col("valid_from").fill_null(_BEGINNING),
                              end=pl.col("valid_to").fill_null(_END_OF_TIME))


def _day(value: dt.date | None) -> str:
    return "an unknown date" if value is None or value in (_BEGINNING, _END_OF_TIME) else value.isoformat()


def _share(part: int, whole: int) -> str:
    return f"{part} of {whole} ({round(100 * part / whole)}%)"


def _finish(name: str, found: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None,
            nodes: pl.DataFrame | None = None) -> pl.DataFrame:
    """Turn ``found`` (focus_entity, reason, evidence) into ``indicator_hits`` rows.

    ``partners`` are the partners of the evidence edges plus, where a rule sets it, the
    ``extra_partners`` column (partners whose entity attributes, such as a refusal, the hit rests
    on); a hit without either takes the partners of its focus entity from ``nodes``.
    """
    spec = INDICATORS[name]
    if found.is_empty():
        return pl.DataFrame(schema=HIT_SCHEMA)
    if "extra_partners" not in found.columns:
        found = found.with_columns(extra_partners=pl.lit([], dtype=pl.List(pl.String())))
    found = found.select("focus_entity", "reason", pl.col("evidence").list.unique().list.sort(), "extra_partners")
    evidence_partners = (
        pl.concat([
            found.select("focus_entity", relation_id=pl.col("evidence")).explode("relation_id")
            .join(edges.select("relation_id", "partner"), on="relation_id", how="inner")
            .select("focus_entity", "partner"),
            found.select("focus_entity", partner="extra_partners").explode("partner"),
        ]).drop_nulls()
        .group_by("focus_entity").agg(pl.col("partner").unique().sort().alias("partners"))
    )
    found = found.drop("extra_partners")
    hits = found.join(evidence_partners, on="focus_entity", how="left")
    if nodes is not None:
        own = nodes.select(focus_entity="entity_id", _own="partners")
        hits = hits.join(own, on="focus_entity", how="left").with_columns(
            partners=pl.coalesce("partners", "_own")).drop("_own")
    hits = hits.with_columns(pl.col("partners").fill_null(pl.lit([], dtype=pl.List(pl.String()))))
    if communities is not None:
        hits = hits.join(communities.select(focus_entity="entity_id", cluster_id="cluster_id"),
                         on="focus_entity", how="left")
    else:
        hits = hits.with_columns(cluster_id=pl.lit(None, dtype=pl.String()))
    return hits.with_columns(
        indicator=pl.lit(name), version=pl.lit(spec.version), weight=pl.lit(spec.weight, dtype=pl.Float64),
    ).select(list(HIT_SCHEMA)).cast(HIT_SCHEMA).sort("focus_entity")


def _hourly_wages(edges: pl.DataFrame, tolerance: float) -> pl.DataFrame:
    """EMPLOYED_BY edges with wage and hours: hourly wage, the minimum in force and ``below``.

    The minimum is the one in force at the start of the period (the lowest during it, as the
    minimum only rises); a period without start date gets the lowest minimum known.
    """
    rates = pl.DataFrame(
        {"rate_from": [d for d, _ in MINIMUM_HOURLY_WAGE], "minimum": [w for _, w in MINIMUM_HOURLY_WAGE]})
    paid = (
        _ensure(_of_type(edges, "EMPLOYED_BY"), _EDGE_DEFAULTS)
        .filter(pl.col("wage").is_not_null() & (pl.col("hours") > 0))
        .with_columns(hourly=pl.col("wage") / pl.col("hours"),
                      rate_day=pl.col("valid_from").fill_null(_BEGINNING))
        .sort("rate_day")
    )
    return (
        paid.join_asof(rates, left_on="rate_day", right_on="rate_from", strategy="backward")
        .with_columns(minimum=pl.col("minimum").fill_null(MINIMUM_HOURLY_WAGE[0][1]))
        .with_columns(below=pl.col("hourly") < pl.col("minimum") * (1 - tolerance))
        .drop("rate_day", "rate_from")
    )


def _company_ids(nodes: pl.DataFrame) -> list[str]:
    return nodes.filter(pl.col("entity_type") == "company").get_column("entity_id").to_list()


# --- the rules ----------------------------------------------------------------------------------

@_register("crowded_address", "1", 1.0, ("ind", "belastingdienst", "kvk"),
           "Many distinct persons registered at one address during overlapping periods.")
def crowded_address(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None, *,
                    min_persons: int = 8) -> pl.DataFrame:
    """At least ``min_persons`` distinct persons registered (REGISTERED_AT) at one address at one time.

    Registrations of one person from several partners (payroll, IND, KvK) are merged first, so
    a person counts once. The peak is the first day on which the most persons were registered;
    the evidence is the registrations in force on that day. Focus: the address. An address is
    one dwelling (postcode, number and addition): a student complex whose rooms have their own
    additions is many addresses, not one crowded one.
    """
    reg = _period(_ensure(_of_type(edges, "REGISTERED_AT"), _EDGE_DEFAULTS)).select(
        "relation_id", person="from_entity", address="to_entity", start="start", end="end")
    if reg.is_empty():
        return _finish("crowded_address", pl.DataFrame(), edges, communities)
    # merge overlapping registrations of one person at one address into stays
    stays = (
        reg.sort("address", "person", "start", "end")
        .with_columns(_reach=pl.col("end").cum_max().shift(1).over("address", "person"))
        .with_columns(_new=(pl.col("_reach").is_null() | (pl.col("start") > pl.col("_reach"))).cast(pl.Int32))
        .with_columns(_stay=pl.col("_new").cum_sum().over("address", "person"))
        .group_by("address", "person", "_stay").agg(pl.col("start").min(), pl.col("end").max())
    )
    events = pl.concat([
        stays.select("address", day="start", delta=pl.lit(1)),
        stays.select("address", day=pl.col("end") + pl.duration(days=1), delta=pl.lit(-1)),
    ]).sort("address", "day", "delta")  # leavers before arrivals on the same day
    peaks = (
        events.with_columns(present=pl.col("delta").cum_sum().over("address"))
        .sort(["address", "present", "day"], descending=[False, True, False])
        .group_by("address", maintain_order=True).first()
        .filter(pl.col("present") >= min_persons)
        .select("address", "present", "day")
    )
    found = (
        reg.join(peaks, on="address")
        .filter((pl.col("start") <= pl.col("day")) & (pl.col("end") >= pl.col("day")))
        .group_by("address").agg(pl.col("relation_id").alias("evidence"), pl.col("present").first(),
                                 pl.col("day").first())
    )
    found = found.with_columns(reason=pl.struct("present", "day").map_elements(
        lambda r: f"{r['present']} distinct persons were registered at this address at the same time "
                  f"on {_day(r['day'])} (threshold {min_persons}).", return_dtype=pl.String))
    return _finish("crowded_address", found.rename({"address": "focus_entity"}), edges, communities)


@_register("worker_lives_at_workplace", "1", 1.0, ("belastingdienst", "kvk"),
           "Employees registered at their employer's business address or permitted premises.")
def worker_lives_at_workplace(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None,
                              *, min_workers: int = 3) -> pl.DataFrame:
    """At least ``min_workers`` employees registered at their employer's workplace while employed.

    Person -EMPLOYED_BY-> Company, Person -REGISTERED_AT-> Address, and the company is
    LOCATED_AT that address or holds a permit (HOLDS_PERMIT) for premises LOCATED_AT it; the
    employment and registration periods overlap. The company's own officers are not counted
    (an owner living above the shop is ordinary). Focus: the company.
    """
    edges_ = _period(_ensure(edges, _EDGE_DEFAULTS))
    located = _of_type(edges_, "LOCATED_AT").select(company="from_entity", address="to_entity",
                                                    place_evidence=pl.concat_list("relation_id"))
    via_permit = (
        _of_type(edges_, "HOLDS_PERMIT").select(company="from_entity", permit="to_entity", _held="relation_id")
        .join(located.rename({"company": "permit"}), on="permit")
        .select("company", "address", place_evidence=pl.concat_list("_held", pl.col("place_evidence").list.first()))
    )
    workplaces = pl.concat([located, via_permit]).filter(pl.col("company").is_in(_company_ids(nodes)))
    employed = _of_type(edges_, "EMPLOYED_BY").select(person="from_entity", company="to_entity",
                                                       job="relation_id", job_start="start", job_end="end")
    registered = _of_type(edges_, "REGISTERED_AT").select(person="from_entity", address="to_entity",
                                                          home="relation_id", home_start="start", home_end="end")
    officers = _of_type(edges_, "OFFICER_OF").select(person="from_entity", company="to_entity").unique()
    matches = (
        employed.join(officers, on=["person", "company"], how="anti")
        .join(workplaces, on="company")
        .join(registered, on=["person", "address"])
        .filter((pl.col("job_start") <= pl.col("home_end")) & (pl.col("home_start") <= pl.col("job_end")))
    )
    found = (
        matches.group_by("company").agg(
            workers=pl.col("person").n_unique(), addresses=pl.col("address").n_unique(),
            evidence=pl.concat_list("job", "home").list.explode(**_FLAT)
            .append(pl.col("place_evidence").list.explode(**_FLAT)))
        .filter(pl.col("workers") >= min_workers)
        .with_columns(reason=pl.struct("workers", "addresses").map_elements(
            lambda r: f"{r['workers']} employees were registered as living at this company's business "
                      f"address or permitted premises ({r['addresses']} address(es)) while employed there "
                      f"(threshold {min_workers}; officers not counted).", return_dtype=pl.String))
    )
    return _finish("worker_lives_at_workplace", found.rename({"company": "focus_entity"}), edges, communities)


@_register("wage_below_minimum", "1", 1.5, ("belastingdienst",),
           "Several employees paid below the statutory minimum hourly wage.")
def wage_below_minimum(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None, *,
                       min_employees: int = 3, min_share: float = 0.3, tolerance: float = 0.02) -> pl.DataFrame:
    """At least ``min_employees`` persons, and at least ``min_share`` of the employer's paid staff,
    paid an hourly wage (wage / hours on EMPLOYED_BY) below the statutory minimum
    (:mod:`mhgraph.reference`) by more than ``tolerance`` (a share: 0.02 = 2 %).

    The adult minimum applies; the payroll extract carries no age, and workers under 21 may
    lawfully earn less. ``min_share`` keeps large employers with some young staff out; an
    employer whose staff is mostly young can still fire — the reason says so. Focus: the employer.
    """
    wages = _hourly_wages(edges, tolerance)
    found = (
        wages.group_by("to_entity").agg(
            paid=pl.col("from_entity").n_unique(),
            below=pl.col("from_entity").filter(pl.col("below")).n_unique(),
            lowest=pl.col("hourly").min(),
            minimum=pl.col("minimum").filter(pl.col("hourly") == pl.col("hourly").min()).first(),
            evidence=pl.col("relation_id").filter(pl.col("below")))
        .filter((pl.col("below") >= min_employees) & (pl.col("below") >= min_share * pl.col("paid")))
        .with_columns(reason=pl.struct("paid", "below", "lowest", "minimum").map_elements(
            lambda r: f"{_share(r['below'], r['paid'])} employees on the payroll were paid below the statutory "
                      f"minimum hourly wage (lowest EUR {r['lowest']:.2f}/h against EUR {r['minimum']:.2f}/h; "
                      f"thresholds {min_employees} employees and {round(100 * min_share)}% of the staff; adult "
                      "minimum, workers under 21 may lawfully earn less).", return_dtype=pl.String))
    )
    return _finish("wage_below_minimum", found.rename({"to_entity": "focus_entity"}), edges, communities)


@_register("sponsor_of_many_migrants", "1", 1.0, ("ind", "belastingdienst"),
           "A recognised sponsor of many labour migrants, many of whom are underpaid or not on its payroll.")
def sponsor_of_many_migrants(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None,
                             *, min_sponsored: int = 5, min_irregular_share: float = 0.3,
                             labour_purposes: tuple[str, ...] = _LABOUR_PURPOSES,
                             tolerance: float = 0.02) -> pl.DataFrame:
    """A company sponsors (SPONSORED_BY) at least ``min_sponsored`` labour migrants (residence purpose
    in ``labour_purposes``) and at least ``min_irregular_share`` of them are *irregular*: paid by it
    below the minimum hourly wage (as :func:`wage_below_minimum`, with ``tolerance``), or absent
    from its payroll although the payroll extract holds the company. A large sponsor that pays
    its migrants properly does not fire. Focus: the sponsor.
    """
    edges_ = _ensure(edges, _EDGE_DEFAULTS)
    sponsored = (_of_type(edges_, "SPONSORED_BY").filter(pl.col("permit_purpose").is_in(list(labour_purposes)))
                 .select(person="from_entity", company="to_entity", sponsorship="relation_id",
                         purpose="permit_purpose"))
    wages = _hourly_wages(edges_, tolerance).select(person="from_entity", company="to_entity", job="relation_id",
                                                     below="below")
    on_payroll = _of_type(edges_, "EMPLOYED_BY").select(person="from_entity", company="to_entity").unique()
    with_payroll = on_payroll.select("company").unique()
    low = wages.filter(pl.col("below")).join(sponsored.select("person", "company").unique(),
                                             on=["person", "company"], how="semi")
    missing = (sponsored.select("person", "company").unique()
               .join(with_payroll, on="company", how="semi")
               .join(on_payroll, on=["person", "company"], how="anti"))
    per_company = (
        sponsored.group_by("company").agg(
            sponsored=pl.col("person").n_unique(), purposes=pl.col("purpose").unique().sort(),
            sponsorships=pl.col("sponsorship"))
        .join(low.group_by("company").agg(low=pl.col("person").n_unique(), jobs=pl.col("job")), on="company",
              how="left")
        .join(missing.group_by("company").agg(missing=pl.col("person").n_unique()), on="company", how="left")
        .with_columns(pl.col("low").fill_null(0), pl.col("missing").fill_null(0),
                      pl.col("jobs").fill_null(pl.lit([], dtype=pl.List(pl.String()))))
        .with_columns(irregular=pl.col("low") + pl.col("missing"))
        .filter((pl.col("sponsored") >= min_sponsored)
                & (pl.col("irregular") >= min_irregular_share * pl.col("sponsored")) & (pl.col("irregular") > 0))
    )
    found = per_company.select(
        focus_entity="company", evidence=pl.concat_list("sponsorships", "jobs"),
        reason=pl.struct("sponsored", "purposes", "low", "missing", "irregular").map_elements(
            lambda r: f"Sponsor of {r['sponsored']} labour migrants (residence purpose "
                      f"{', '.join(r['purposes'])}); {_share(r['irregular'], r['sponsored'])} are irregular: "
                      f"{r['low']} paid below the minimum hourly wage, {r['missing']} not on its payroll "
                      f"(thresholds {min_sponsored} migrants, {round(100 * min_irregular_share)}% irregular).",
            return_dtype=pl.String))
    return _finish("sponsor_of_many_migrants", found, edges, communities)


def _short_lived(max_days: int) -> pl.Expr:
    return (pl.col("dissolved_on") - pl.col("registered_on")).dt.total_days() < max_days


@_register("straw_director", "1", 1.0, ("kvk",),
           "One person officer of many companies, each for a short time or dissolved soon after registration.")
def straw_director(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None, *,
                   min_short: int = 3, max_days: int = 730) -> pl.DataFrame:
    """A person is officer (OFFICER_OF) of at least ``min_short`` companies *briefly*: the office lasted
    less than ``max_days`` (ended by its end date or the company's dissolution), or the company
    was dissolved less than ``max_days`` after registration. Long directorships of many
    companies (a holding, a hotel chain) do not count. Focus: the person.
    """
    companies = _ensure(nodes, _NODE_DEFAULTS).filter(pl.col("entity_type") == "company").select(
        company="entity_id", registered_on="registered_on", dissolved_on="dissolved_on")
    offices = (
        _ensure(_of_type(edges, "OFFICER_OF"), _EDGE_DEFAULTS)
        .select("relation_id", person="from_entity", company="to_entity", since="valid_from", until="valid_to")
        .join(companies, on="company", how="left")
        .with_columns(office_end=pl.coalesce("until", "dissolved_on"))
        .with_columns(brief_office=(pl.col("office_end") - pl.col("since")).dt.total_days() < max_days,
                      short_company=_short_lived(max_days))
        .with_columns(brief=pl.col("brief_office").fill_null(False) | pl.col("short_company").fill_null(False))
    )
    found = (
        offices.group_by("person").agg(
            companies=pl.col("company").n_unique(),
            brief=pl.col("company").filter(pl.col("brief")).n_unique(),
            dissolved=pl.col("company").filter(pl.col("brief") & pl.col("dissolved_on").is_not_null()).n_unique(),
            evidence=pl.col("relation_id").filter(pl.col("brief")))
        .filter(pl.col("brief") >= min_short)
        .select(focus_entity="person", evidence="evidence", reason=pl.struct("companies", "brief", "dissolved")
                .map_elements(lambda r: f"Officer of {r['companies']} companies, {r['brief']} of them briefly "
                              f"(office or company lasted under {max_days} days; {r['dissolved']} dissolved; "
                              f"threshold {min_short}).", return_dtype=pl.String))
    )
    return _finish("straw_director", found, edges, communities)


@_register("shared_company_address", "1", 0.5, ("kvk",),
           "Many companies at one address that are tied together by officers or short lives.")
def shared_company_address(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None, *,
                           min_companies: int = 4, min_linked: int = 3, max_days: int = 730) -> pl.DataFrame:
    """At least ``min_companies`` companies LOCATED_AT one address, of which at least ``min_linked``
    are *linked*: they share an officer with another company at the address, or were dissolved
    within ``max_days`` of registration. An accountant's or business centre's address hosts many
    unrelated, long-lived companies with their own officers and does not fire. Focus: the address.
    """
    companies = _ensure(nodes, _NODE_DEFAULTS).filter(pl.col("entity_type") == "company").select(
        company="entity_id", registered_on="registered_on", dissolved_on="dissolved_on")
    located = (_of_type(edges, "LOCATED_AT").select(located="relation_id", company="from_entity", address="to_entity")
               .join(companies, on="company", how="inner"))
    officers = _of_type(edges, "OFFICER_OF").select(office="relation_id", person="from_entity", company="to_entity")
    here = located.select("address", "company").unique().join(officers, on="company")
    shared = (here.join(here, on=["address", "person"], suffix="_other")
              .filter(pl.col("company") != pl.col("company_other"))
              .group_by("address", "company").agg(offices=pl.col("office").unique()))
    per_company = (
        located.group_by("address", "company").agg(pl.col("located"), pl.col("registered_on").first(),
                                                   pl.col("dissolved_on").first())
        .join(shared, on=["address", "company"], how="left")
        .with_columns(shares_officer=pl.col("offices").is_not_null(),
                      short=_short_lived(max_days).fill_null(False))
        .with_columns(linked=pl.col("shares_officer") | pl.col("short"))
    )
    found = (
        per_company.group_by("address").agg(
            companies=pl.len(), linked=pl.col("linked").sum(), sharing=pl.col("shares_officer").sum(),
            short=pl.col("short").sum(),
            evidence=pl.col("located").filter(pl.col("linked")).list.explode(**_FLAT)
            .append(pl.col("offices").filter(pl.col("linked")).list.explode(**_FLAT)).drop_nulls())
        .filter((pl.col("companies") >= min_companies) & (pl.col("linked") >= min_linked))
        .select(focus_entity="address", evidence="evidence", reason=pl.struct("companies", "linked", "sharing", "short")
                .map_elements(lambda r: f"{r['companies']} companies are registered at this address; {r['linked']} "
                              f"of them are linked ({r['sharing']} share an officer with another company here, "
                              f"{r['short']} were dissolved within {max_days} days of registration; thresholds "
                              f"{min_companies} companies, {min_linked} linked).", return_dtype=pl.String))
    )
    return _finish("shared_company_address", found, edges, communities)


@_register("phoenix_company", "1", 1.0, ("kvk", "belastingdienst"),
           "A company ends and a successor at the same address or with the same officer takes over its employees.")
def phoenix_company(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None, *,
                    min_shared_employees: int = 3, max_gap_days: int = 180) -> pl.DataFrame:
    """Company A is dissolved; company B, registered after A and no more than ``max_gap_days`` before
    or after A's dissolution, is LOCATED_AT an address of A or has an officer of A, and at least
    ``min_shared_employees`` persons were EMPLOYED_BY both. A competitor that hires former staff
    (no shared address or officer) or a new tenant of the premises (no shared staff) does not
    fire. Focus: the successor B.
    """
    companies = _ensure(nodes, _NODE_DEFAULTS).filter(pl.col("entity_type") == "company").select(
        "entity_id", "registered_on", "dissolved_on")
    ended = companies.filter(pl.col("dissolved_on").is_not_null()).select(
        old="entity_id", old_registered="registered_on", old_dissolved="dissolved_on")
    started = companies.filter(pl.col("registered_on").is_not_null()).select(new="entity_id",
                                                                              new_registered="registered_on")
    ties = []
    for relation_type, shared in (("LOCATED_AT", "to_entity"), ("OFFICER_OF", "from_entity")):
        rel = _of_type(edges, relation_type)
        company_end = "from_entity" if relation_type == "LOCATED_AT" else "to_entity"
        side = rel.select(company=company_end, via=shared, tie="relation_id")
        ties.append(side.join(side, on="via", suffix="_new")
                    .filter(pl.col("company") != pl.col("company_new"))
                    .select(old="company", new="company_new", via="via", link=pl.lit(relation_type),
                            tie_evidence=pl.concat_list("tie", "tie_new")))
    candidates = (
        pl.concat(ties).join(ended, on="old").join(started, on="new")
        .filter((pl.col("new_registered") > pl.col("old_registered").fill_null(_BEGINNING))
                & ((pl.col("new_registered") - pl.col("old_dissolved")).dt.total_days().abs() <= max_gap_days))
        .group_by("old", "new").agg(pl.col("old_dissolved").first(), pl.col("new_registered").first(),
                                    links=pl.col("link").unique().sort(),
                                    tie_evidence=pl.col("tie_evidence").list.explode(**_FLAT))
    )
    jobs = _of_type(edges, "EMPLOYED_BY").select(person="from_entity", company="to_entity", job="relation_id")
    shared_staff = (
        candidates.select("old", "new")
        .join(jobs.rename({"company": "old", "job": "old_job"}), on="old")
        .join(jobs.rename({"company": "new", "job": "new_job"}), on=["new", "person"])
        .group_by("old", "new").agg(staff=pl.col("person").n_unique(),
                                    staff_evidence=pl.concat_list("old_job", "new_job").list.explode(**_FLAT))
        .filter(pl.col("staff") >= min_shared_employees)
    )
    found = (
        candidates.join(shared_staff, on=["old", "new"])
        .with_columns(evidence=pl.concat_list("tie_evidence", "staff_evidence"))
        .sort("new", "staff", "old", descending=[False, True, False])
        .group_by("new", maintain_order=True).agg(
            pl.col("evidence").list.explode(**_FLAT), predecessors=pl.col("old"), staff=pl.col("staff"),
            dissolved=pl.col("old_dissolved"), registered=pl.col("new_registered").first(),
            links=pl.col("links"))
        .select(focus_entity="new", evidence="evidence", reason=pl.struct(
            "predecessors", "staff", "dissolved", "registered", "links").map_elements(
            lambda r: "; ".join(
                f"Took over {staff} employees of {old} (dissolved {_day(end)}), registered {_day(r['registered'])}, "
                f"{abs((r['registered'] - end).days)} days from that dissolution, sharing its "
                f"{' and '.join('address' if k == 'LOCATED_AT' else 'officer' for k in links)}"
                for old, staff, end, links in zip(r["predecessors"], r["staff"], r["dissolved"], r["links"]))
            + f" (thresholds {min_shared_employees} employees, {max_gap_days} days).", return_dtype=pl.String))
    )
    return _finish("phoenix_company", found, edges, communities)


@_register("permits_linked_to_operator", "1", 1.0, ("gemeente",),
           "Several sex-work or massage permits, across municipalities, lead to one person.")
def permits_linked_to_operator(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None,
                               *, min_permits: int = 2, min_municipalities: int = 2,
                               permit_types: tuple[str, ...] = _SEX_WORK_AND_MASSAGE) -> pl.DataFrame:
    """A person is linked to at least ``min_permits`` permits of ``permit_types`` in at least
    ``min_municipalities`` municipalities: as holder (HOLDS_PERMIT) or manager (MANAGES), or as
    officer (OFFICER_OF) of a company that holds them — one or two hops. Horeca is left out by
    default: hotel and restaurant chains legitimately hold many permits. The municipality of a
    permit is its own ``municipality`` or else its register's partner. Focus: the person.
    """
    permits = (_ensure(nodes, _NODE_DEFAULTS).filter(pl.col("entity_type") == "permit")
               .filter(pl.col("permit_type").is_in(list(permit_types)))
               .select(permit="entity_id", permit_type="permit_type",
                       municipality=pl.coalesce("municipality", pl.col("partners").list.first())))
    persons = nodes.filter(pl.col("entity_type") == "person").select(person="entity_id")
    direct = (_of_type(edges, "HOLDS_PERMIT", "MANAGES")
              .select(person="from_entity", permit="to_entity", path=pl.concat_list("relation_id"))
              .join(persons, on="person", how="semi"))
    via_company = (
        _of_type(edges, "OFFICER_OF").select(person="from_entity", company="to_entity", office="relation_id")
        .join(_of_type(edges, "HOLDS_PERMIT").select(company="from_entity", permit="to_entity", held="relation_id"),
              on="company")
        .select("person", "permit", path=pl.concat_list("office", "held"))
    )
    found = (
        pl.concat([direct, via_company]).join(permits, on="permit")
        .group_by("person").agg(
            permits=pl.col("permit").n_unique(), municipalities=pl.col("municipality").unique().sort(),
            types=pl.col("permit_type").sort(), evidence=pl.col("path").list.explode(**_FLAT),
            per_permit_type=pl.struct("permit", "permit_type").unique())
        .filter((pl.col("permits") >= min_permits) & (pl.col("municipalities").list.len() >= min_municipalities))
        .select(focus_entity="person", evidence="evidence", reason=pl.struct(
            "permits", "municipalities", "per_permit_type").map_elements(
            lambda r: f"Linked to {r['permits']} permits "
                      f"({_count_types(r['per_permit_type'])}) in {len(r['municipalities'])} municipalities "
                      f"({', '.join(r['municipalities'])}) as holder, manager or officer of the holding company "
                      f"(thresholds {min_permits} permits, {min_municipalities} municipalities).",
            return_dtype=pl.String))
    )
    return _finish("permits_linked_to_operator", found, edges, communities)


def _count_types(permits: list[dict]) -> str:
    counts: dict[str, int] = {}
    for permit in permits:
        counts[permit["permit_type"]] = counts.get(permit["permit_type"], 0) + 1
    return ", ".join(f"{kind} x{n}" for kind, n in sorted(counts.items()))


_REFUSED = ("geweigerd", "ingetrokken")
_SPONSOR_FLAGS = ("geschorst", "ingetrokken")


def _allowed(purposes: Collection[str] | None, *needed: str) -> bool:
    return purposes is None or all(p in purposes for p in needed)


@_register("link_to_earlier_refusal", "1", 1.5, ("gemeente", "ind"),
           "A new permit application or sponsor a few steps from an earlier refusal, revocation or "
           "Bibob 'ernstige mate'.")
def link_to_earlier_refusal(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None,
                            *, allowed_purposes: Collection[str] | None = None, max_hops: int = 5,
                            max_degree: int = 25, max_days: int = 1095,
                            via_types: tuple[str, ...] = _CONTROL_AND_RESIDENCE) -> pl.DataFrame:
    """A *new applicant* lies within ``max_hops`` relations of an earlier *flag*.

    Flags, each usable only when ``allowed_purposes`` (the run's purposes; ``None`` = all) allow
    the source that states it:

    * a permit refused or revoked (``permit_status`` geweigerd/ingetrokken) — needs
      ``administrative_supervision``; dated by its ``decided_on``;
    * a permit whose Bibob outcome is ``ernstige mate`` — needs ``bibob`` as well (Wet Bibob
      art. 28 limits who may use a Bibob advice);
    * a sponsor whose recognition was suspended or revoked (``sponsor_status``
      geschorst/ingetrokken) — needs ``immigration_supervision``; dated by ``sponsor_status_on``.

    New applicants: a permit applied for or granted (aangevraagd/verleend) with a decision date
    after the flag's, or a recognised sponsor (erkend) registered at the KvK after the flag's date,
    in both cases at most ``max_days`` later. The path runs over relations of ``via_types`` (by
    default control and residence: OFFICER_OF, HOLDS_PERMIT, MANAGES, REGISTERED_AT, LOCATED_AT;
    not employment or sponsorship, which tie thousands of unrelated workers together) whose
    purpose is allowed, and never *through* an entity with more than ``max_degree`` neighbours (a
    business centre or a big employer links everyone to everyone). Each applicant is reported
    once, with its nearest flag (ties: lowest flag id). Focus: the new permit or sponsor.
    """
    nodes_ = _ensure(nodes, _NODE_DEFAULTS)
    edges_ = _of_type(_ensure(edges, _EDGE_DEFAULTS), *via_types)
    if allowed_purposes is not None:
        edges_ = edges_.filter(pl.col("purpose").is_in(list(allowed_purposes)))

    def has(purpose: str) -> pl.Expr:
        return pl.col("purposes").list.contains(purpose).fill_null(False)

    flag_rules = []
    if _allowed(allowed_purposes, "administrative_supervision"):
        flag_rules.append((pl.col("permit_status").is_in(list(_REFUSED)) & has("administrative_supervision"),
                           pl.format("permit {} on {}", pl.col("permit_status"), pl.col("decided_on")), "decided_on"))
    if _allowed(allowed_purposes, "administrative_supervision", "bibob"):
        flag_rules.append(((pl.col("bibob_outcome") == "ernstige mate") & has("administrative_supervision"),
                           pl.format("permit with Bibob outcome 'ernstige mate' decided on {}", pl.col("decided_on")),
                           "decided_on"))
    if _allowed(allowed_purposes, "immigration_supervision"):
        flag_rules.append((pl.col("sponsor_status").is_in(list(_SPONSOR_FLAGS)) & has("immigration_supervision"),
                           pl.format("sponsor recognition {} on {}", pl.col("sponsor_status"),
                                     pl.col("sponsor_status_on")), "sponsor_status_on"))
    if not flag_rules:
        return _finish("link_to_earlier_refusal", pl.DataFrame(), edges, communities)
    flags = (
        pl.concat([nodes_.filter(rule.fill_null(False))
                   .select(origin="entity_id", flag=label, flag_day=pl.col(day)) for rule, label, day in flag_rules])
        .filter(pl.col("flag_day").is_not_null())
        .sort("origin", "flag_day", "flag")
        .group_by("origin", maintain_order=True).agg(pl.col("flag").str.join("; "), pl.col("flag_day").min())
    )
    targets = pl.concat([
        nodes_.filter(pl.col("permit_status").is_in(["aangevraagd", "verleend"]))
        .select(target="entity_id", target_day="decided_on", target_label=pl.format(
            "permit {} on {}", pl.col("permit_status"), pl.col("decided_on"))),
        nodes_.filter(pl.col("sponsor_status") == "erkend")
        .select(target="entity_id", target_day="registered_on", target_label=pl.format(
            "recognised sponsor registered on {}", pl.col("registered_on"))),
    ]).filter(pl.col("target_day").is_not_null())
    reached = _paths_from(flags.get_column("origin"), edges_, max_hops, max_degree)
    found = (
        reached.join(flags, on="origin").join(targets, on="target")
        .filter((pl.col("target_day") > pl.col("flag_day")) & (pl.col("target") != pl.col("origin"))
                & ((pl.col("target_day") - pl.col("flag_day")).dt.total_days() <= max_days))
        .with_columns(hops=pl.col("path").list.len(), _key=pl.col("path").list.join("|"))
        .sort("target", "hops", "origin", "_key")
        .group_by("target", maintain_order=True).agg(
            pl.col("origin").first(), pl.col("flag").first(), pl.col("path").first(), pl.col("hops").first(),
            pl.col("target_label").first(), flags=pl.col("origin").n_unique())
    )
    if found.is_empty():
        return _finish("link_to_earlier_refusal", pl.DataFrame(), edges, communities)
    path_types = (found.select("target", relation_id="path").explode("relation_id")
                  .join(edges.select("relation_id", "type"), on="relation_id", how="left")
                  .group_by("target", maintain_order=True).agg(types=pl.col("type")))
    node_partners = nodes_.select("entity_id", "partners")
    found = (
        found.join(path_types, on="target")
        .join(node_partners.rename({"entity_id": "origin", "partners": "_origin_partners"}), on="origin", how="left")
        .join(node_partners.rename({"entity_id": "target", "partners": "_target_partners"}), on="target", how="left")
    ).select(
        focus_entity="target", evidence="path",
        extra_partners=pl.concat_list(pl.col("_origin_partners").fill_null([]),
                                      pl.col("_target_partners").fill_null([])),
        reason=pl.struct(
            "origin", "flag", "hops", "target_label", "flags", "types").map_elements(
            lambda r: f"New application ({r['target_label']}) is {r['hops']} step(s) from {r['origin']}, "
                      f"{r['flag']}, via {' - '.join(r['types'])}"
                      + (f"; {r['flags']} earlier flags in reach" if r["flags"] > 1 else "")
                      + f" (within {max_hops} steps and {max_days} days, not through entities with over "
                        f"{max_degree} neighbours).",
            return_dtype=pl.String))
    return _finish("link_to_earlier_refusal", found, edges, communities)


def _paths_from(origins: pl.Series, edges: pl.DataFrame, max_hops: int, max_degree: int) -> pl.DataFrame:
    """Breadth-first search from every origin: ``origin``, ``target``, ``path`` (relation ids of one
    shortest path, the lexicographically smallest). Entities with more than ``max_degree``
    neighbours are reached but not passed through, except the origins themselves."""
    arcs = pl.concat([
        edges.select(node="from_entity", next="to_entity", relation_id="relation_id"),
        edges.select(node="to_entity", next="from_entity", relation_id="relation_id"),
    ]).filter(pl.col("node") != pl.col("next"))
    degree = arcs.group_by("node").agg(degree=pl.col("next").n_unique())
    passable = degree.filter(pl.col("degree") <= max_degree).select("node")
    frontier = pl.DataFrame({"origin": origins, "node": origins}).with_columns(
        path=pl.lit([], dtype=pl.List(pl.String())))
    seen = frontier.select("origin", target="node")
    reached = []
    for hop in range(max_hops):
        if frontier.is_empty():
            break
        movable = frontier if hop == 0 else frontier.join(passable, on="node", how="semi")
        step = (
            movable.join(arcs, on="node")
            .select("origin", target="next", path=pl.col("path").list.concat(pl.concat_list("relation_id")))
            .join(seen, on=["origin", "target"], how="anti")
            .with_columns(_key=pl.col("path").list.join("|"))
            .sort("origin", "target", "_key").group_by("origin", "target", maintain_order=True).first()
            .drop("_key")
        )
        reached.append(step)
        seen = pl.concat([seen, step.select("origin", "target")])
        frontier = step.rename({"target": "node"})
    if not reached:
        return pl.DataFrame(schema={"origin": pl.String(), "target": pl.String(), "path": pl.List(pl.String())})
    return pl.concat(reached)


@_register("high_risk_sector", "1", 0.25, ("kvk",),
           "The company works in a sector where labour exploitation is often found (context only).",
           context_only=True)
def high_risk_sector(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None, *,
                     sectors: Mapping[str, str] = HIGH_RISK_SBI_PREFIXES) -> pl.DataFrame:
    """A company whose SBI code starts with one of ``sectors`` (default
    :data:`mhgraph.reference.HIGH_RISK_SBI_PREFIXES`). Context only: it never raises a cluster
    on its own (see :func:`mhgraph.rank.rank_clusters`). Evidence: the company's KvK
    registration (its LOCATED_AT relations). Focus: the company.
    """
    prefixes = sorted(sectors, key=len, reverse=True)  # longest prefix names the sector
    companies = (
        _ensure(nodes, _NODE_DEFAULTS).filter((pl.col("entity_type") == "company") & pl.col("sbi_code").is_not_null())
        .with_columns(prefix=pl.coalesce([pl.when(pl.col("sbi_code").str.starts_with(p)).then(pl.lit(p))
                                          for p in prefixes]))
        .filter(pl.col("prefix").is_not_null())
    )
    registration = (_of_type(edges, "LOCATED_AT").group_by("from_entity")
                    .agg(evidence=pl.col("relation_id")).rename({"from_entity": "entity_id"}))
    found = (
        companies.join(registration, on="entity_id", how="left")
        .select(focus_entity="entity_id",
                evidence=pl.col("evidence").fill_null(pl.lit([], dtype=pl.List(pl.String()))),
                reason=pl.struct("sbi_code", "prefix").map_elements(
                    lambda r: f"Sector {sectors[r['prefix']]} (SBI {r['sbi_code']}): context only, "
                              "not an indication by itself.", return_dtype=pl.String))
    )
    return _finish("high_risk_sector", found, edges, communities, nodes=_ensure(nodes, _NODE_DEFAULTS))


@_register("identity_conflict", "1", 1.0, ("belastingdienst", "ind", "kvk", "gemeente"),
           "One pseudonymised BSN or V-number used by persons whose names and dates of birth differ.")
def identity_conflict(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None, *,
                      identity_conflicts: pl.DataFrame | None = None, min_persons: int = 2) -> pl.DataFrame:
    """A person who shares an identifier with other persons: entity resolution found mentions
    with one pseudonymised BSN (or V-number) whose given names and dates of birth disagree,
    kept them apart as different persons and listed each such pair in ``identity_conflicts``
    (:mod:`mhgraph.resolve.conflicts`). Every person of an identifier used by at least
    ``min_persons`` persons is a focus. Evidence: the relations of the mentions involved.
    """
    empty = pl.DataFrame(schema={"focus_entity": pl.String(), "reason": pl.String(),
                                 "evidence": pl.List(pl.String())})
    if identity_conflicts is None or identity_conflicts.is_empty():
        return _finish("identity_conflict", empty, edges, communities)
    pairs = identity_conflicts.filter(pl.col("entity_type") == "person")
    sides = pl.concat([
        pairs.select("key", "key_value", "evidence", entity="entity_a", mention="mention_a",
                     other="entity_b", other_mention="mention_b"),
        pairs.select("key", "key_value", "evidence", entity="entity_b", mention="mention_b",
                     other="entity_a", other_mention="mention_a"),
    ])
    persons = (sides.group_by("key", "key_value").agg(pl.col("entity").n_unique().alias("persons"))
               .filter(pl.col("persons") >= min_persons))
    mentions = pl.concat([sides.select("entity", mention="mention"), sides.select("entity", mention="other_mention")])
    touching = pl.concat([edges.select("relation_id", mention="from_mention"),
                          edges.select("relation_id", mention="to_mention")])
    evidence = (mentions.join(touching, on="mention").group_by("entity")
                .agg(pl.col("relation_id").unique().alias("evidence")))
    found = (
        sides.join(persons, on=["key", "key_value"])
        .group_by("entity").agg(pl.col("key").first(), pl.col("persons").max(), pl.col("other").unique().sort(),
                                pl.col("evidence").first().alias("similarity"))
        .join(evidence, on="entity", how="left")
        .with_columns(pl.col("evidence").fill_null(pl.lit([], dtype=pl.List(pl.String()))))
        .select(focus_entity="entity", evidence="evidence", reason=pl.struct("key", "persons", "other", "similarity")
                .map_elements(lambda r: f"Its {r['key']} (pseudonymised) is used by {r['persons']} persons whose "
                                        f"names and dates of birth differ ({r['similarity']}); the other: "
                                        f"{', '.join(r['other'])}. Several people may work under one identity.",
                              return_dtype=pl.String))
    )
    return _finish("identity_conflict", found, edges, communities, nodes=_ensure(nodes, _NODE_DEFAULTS))


# --- running them -------------------------------------------------------------------------------

def compute_indicators(nodes: pl.DataFrame, edges: pl.DataFrame, communities: pl.DataFrame | None = None, *,
                       allowed_purposes: Collection[str] | None = None,
                       indicators: Collection[str] | None = None,
                       thresholds: Mapping[str, Mapping[str, object]] | None = None,
                       identity_conflicts: pl.DataFrame | None = None) -> pl.DataFrame:
    """Run the registered indicators and return all their hits as one ``indicator_hits`` table.

    ``allowed_purposes``: the purposes the run may use (``None`` = every purpose in the tables);
    edges collected under another purpose are left out of every rule, and
    :func:`link_to_earlier_refusal` uses it to decide which flags count. ``indicators``: names
    to run (default: all of :data:`INDICATORS`). ``thresholds``: per indicator name, keyword
    arguments overriding the documented defaults, e.g. ``{"crowded_address": {"min_persons": 10}}``.
    ``identity_conflicts``: the table of that name from entity resolution, for
    :func:`identity_conflict`. The result is sorted by indicator, focus entity.
    """
    names = list(INDICATORS) if indicators is None else list(indicators)
    unknown = sorted(set(names) - set(INDICATORS)) + sorted(set(thresholds or {}) - set(INDICATORS))
    if unknown:
        raise ValueError(f"unknown indicator(s) {', '.join(unknown)}; known: {', '.join(INDICATORS)}")
    if allowed_purposes is not None:
        edges = edges.filter(pl.col("purpose").is_in(list(allowed_purposes)))
    results = []
    for name in names:
        spec = INDICATORS[name]
        options = dict((thresholds or {}).get(name, {}))
        bad = sorted(set(options) - set(spec.thresholds))
        if bad:
            raise ValueError(f"indicator {name} has no threshold {', '.join(bad)}; it has "
                             f"{', '.join(spec.thresholds)}")
        if "allowed_purposes" in spec.thresholds:
            options.setdefault("allowed_purposes", allowed_purposes)
        if "identity_conflicts" in spec.thresholds:
            options.setdefault("identity_conflicts", identity_conflicts)
        hits = spec.function(nodes, edges, communities, **options)
        log.info("indicators: %s v%s fired %d time(s)", name, spec.version, hits.height)
        results.append(hits)
    if not results:
        return pl.DataFrame(schema=HIT_SCHEMA)
    return pl.concat(results).sort("indicator", "focus_entity")


def indicator_registry() -> pl.DataFrame:
    """The registry as a table: name, version, weight, context_only, partners, thresholds, description.

    >>> registry = indicator_registry()
    >>> registry.filter(pl.col("name") == "high_risk_sector").select("weight", "context_only").row(0)
    (0.25, True)
    """
    return pl.DataFrame([
        {"name": i.name, "version": i.version, "weight": i.weight, "context_only": i.context_only,
         "partners": list(i.partners),
         "thresholds": ", ".join(f"{k}={v!r}" for k, v in i.thresholds.items()),
         "description": i.description}
        for i in INDICATORS.values()
    ])
