"""Pay: what the workers are paid — wages below the statutory minimum for their age, and the
minimum declared for only a few hours a week.

>>> import datetime as dt
>>> import polars as pl
>>> nodes = pl.DataFrame({"entity_id": ["C1", "P1", "P2", "P3"], "entity_type": ["company"] + ["person"] * 3})
>>> edges = pl.DataFrame({"relation_id": ["r1", "r2", "r3"], "type": ["EMPLOYED_BY"] * 3,
...     "from_entity": ["P1", "P2", "P3"], "to_entity": ["C1"] * 3, "valid_from": [dt.date(2024, 3, 1)] * 3,
...     "wage": [700.0, 700.0, 700.0], "hours": [100.0] * 3, "age_band": ["21+", "21+", "17"],
...     "partner": ["belastingdienst"] * 3})
>>> wage_below_minimum(nodes, edges, min_employees=2).select("focus_entity", "evidence").row(0)
('C1', ['r1', 'r2'])

EUR 7.00 an hour is far below the adult minimum of EUR 13.27 but above the EUR 5.24 of a
17-year-old, so the third employee is paid lawfully.
"""

from __future__ import annotations

import polars as pl

from mhgraph.indicators.buckets import per_bucket
from mhgraph.indicators.housing import SharedTables
from mhgraph.indicators.minimum import with_mean_minimum
from mhgraph.indicators.registry import rule
from mhgraph.indicators.tables import companies, hourly_wages
from mhgraph.reference import YOUTH_MINIMUM_SHARE

__all__ = ["minimum_pay_for_few_hours", "wage_below_minimum"]

_LOWEST_YOUTH_SHARE = min(YOUTH_MINIMUM_SHARE.values())  # the youngest band's share of the adult minimum


@rule("wage_below_minimum")
def wage_below_minimum(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_employees: int, min_share: float,
                       tolerance: float, unknown_age_counts: bool, rounding_allowance: float,
                       shared: SharedTables | None = None, buckets: int | None = None) -> pl.DataFrame:
    """At least ``min_employees`` persons, and at least ``min_share`` of the employer's paid staff,
    paid an hourly wage (wage / hours on EMPLOYED_BY) below the statutory minimum for their age
    band (:mod:`mhgraph.reference`) by more than ``tolerance`` (a share: 0.02 = 2 %), and by more
    than ``0.5 / hours`` where that is larger, up to ``rounding_allowance`` (0 = none): hours
    rounded to whole hours move the hourly wage of a period by up to that share (1 % at 50 hours,
    1.8 % at 28); the cap keeps a short period's weak level no stricter than the full level's
    tolerance. ``shortfall`` is how far under its minimum the lowest wage counted lies.

    The age band is the ``age_band`` of the EMPLOYED_BY relation, delivered by the payroll
    partner or, where it is missing, the youngest band the person's other periods allow when they
    show the person under 21 (:mod:`mhgraph.indicators.age`; ``inferred_age`` counts the
    employees paid below the minimum of such a band); without it the adult minimum applies, and ``min_share`` keeps a large employer with
    some young staff silent. An employee of unknown age counts only when ``unknown_age_counts``
    is set: the rule's weak level leaves them out, so that one teenager whose age band is missing
    is not a weak signal. Neither level counts an employee of unknown age who lives with an
    officer of the employer (:attr:`~mhgraph.indicators.housing.SharedTables.household_jobs`): the owner's
    children living at home are a family business's young staff, on the youth minimum; nor one
    paid at least the youngest band's minimum by an employer with young staff of known age paid
    their youth minimum and all its staff of known age paid at least theirs: a shop of young
    staff on the youth minimum, some of whose age bands are missing. An employer whose payroll
    gives no age band at all is judged on the adult minimum. Focus: the employer. ``shared``: the
    :class:`~mhgraph.indicators.housing.SharedTables` of these tables, if the run has them.
    ``buckets``: how many hash buckets of the employer the jobs are judged in, one after the other
    (:func:`~mhgraph.indicators.buckets.per_bucket`; default: from their number); the hits are the same.
    """
    shared = shared or SharedTables(nodes, edges, buckets)
    household = shared.household_jobs.select(relation_id="job", household=pl.lit(True))
    young = pl.col("age_known") & (pl.col("age_band") != "21+")
    youth_employer_paying_minimums = (  # young staff, and everyone of known age paid their minimum: the unknown are likely young too
        (young & ~pl.col("below")).any() & ~(pl.col("below") & pl.col("age_known")).any()).over("to_entity")
    lawful_for_some_youth = pl.col("hourly") >= pl.col("minimum") * _LOWEST_YOUTH_SHARE * (1 - tolerance)

    def find(jobs: pl.DataFrame) -> pl.DataFrame:
        rounding = pl.min_horizontal(0.5 / pl.col("hours"), pl.lit(rounding_allowance))
        wages = (hourly_wages(jobs, pl.max_horizontal(pl.lit(tolerance), rounding) if rounding_allowance
                              else tolerance).join(household, on="relation_id", how="left")
                 .with_columns(below=pl.col("below") & (pl.col("age_known") | (
                     pl.lit(unknown_age_counts) & pl.col("household").is_null() & ~(youth_employer_paying_minimums & lawful_for_some_youth)))))
        return (
            wages.group_by("to_entity").agg(
                paid=pl.col("from_entity").n_unique(),
                below=pl.col("from_entity").filter(pl.col("below")).n_unique(),
                unknown_age=pl.col("from_entity").filter(pl.col("below") & ~pl.col("age_known")).n_unique(),
                inferred_age=pl.col("from_entity").filter(pl.col("below") & pl.col("age_band_inferred")).n_unique(),
                lowest=pl.col("hourly").filter(pl.col("below")).min(),
                minimum=pl.col("minimum").filter(pl.col("below")).sort_by(pl.col("hourly").filter(pl.col("below"))).first(),
                evidence=pl.col("relation_id").filter(pl.col("below")))
            .filter((pl.col("below") >= min_employees) & (pl.col("below") >= min_share * pl.col("paid")))
            .with_columns(below_share=pl.col("below") / pl.col("paid"), shortfall=1 - pl.col("lowest") / pl.col("minimum"))
            .rename({"to_entity": "focus_entity"})
        )

    return per_bucket(shared.employments_on_inferred_bands, "to_entity", find, buckets=buckets)


@rule("minimum_pay_for_few_hours")
def minimum_pay_for_few_hours(nodes: pl.DataFrame, edges: pl.DataFrame, *, min_employees: int, min_share: float,
                              max_weekly_hours: float, margin: float, full_time_sectors: tuple[str, ...],
                              full_time_max_weekly_hours: float,
                              shared: SharedTables | None = None, buckets: int | None = None) -> pl.DataFrame:
    """At least ``min_employees`` adult employees, and at least ``min_share`` of the employer's paid
    adult staff, declared at the statutory minimum hourly wage (from 2 % below it, the tolerance of
    :func:`wage_below_minimum`, to ``margin`` above the average minimum over the period's days,
    :func:`~mhgraph.indicators.minimum.with_mean_minimum`) for at most ``max_weekly_hours`` hours a
    week on average over a closed EMPLOYED_BY period — ``full_time_max_weekly_hours`` at an employer
    whose SBI code starts with one of ``full_time_sectors``, where adults work full weeks and a
    part-time week at the minimum is what under-declared hours look like; only there does the
    weight grow with the number of employees (``full_time_sector``, the rule's magnitude): in
    cleaning, horeca and retail many part-timers at the minimum are ordinary. Employees under 21 are
    left out, with the band their other periods show where it is missing
    (:mod:`mhgraph.indicators.age`): part-time school and student jobs at the youth minimum are ordinary; so are members
    of an officer's household (:attr:`~mhgraph.indicators.housing.SharedTables.household_jobs`): the owner's
    spouse or grown child helping a few hours a week in the family business. Focus: the employer.
    ``shared``: the :class:`~mhgraph.indicators.housing.SharedTables` of these tables, if the run has them.
    ``buckets``: how many hash buckets of the employer the jobs are judged in, one after the other
    (:func:`~mhgraph.indicators.buckets.per_bucket`; default: from their number); the hits are the same.

    >>> import datetime as dt
    >>> nodes = pl.DataFrame({"entity_id": ["C1"], "entity_type": ["company"]})
    >>> edges = pl.DataFrame({"relation_id": ["r1", "r2", "r3"], "type": ["EMPLOYED_BY"] * 3,
    ...     "from_entity": ["P1", "P2", "P3"], "to_entity": ["C1"] * 3, "valid_from": [dt.date(2024, 1, 1)] * 3,
    ...     "valid_to": [dt.date(2024, 6, 30)] * 3, "wage": [208 * 13.27] * 3, "hours": [208.0] * 3,
    ...     "age_band": ["21+"] * 3, "partner": ["belastingdienst"] * 3})
    >>> minimum_pay_for_few_hours(nodes, edges)["reason"][0].split(" (thresholds")[0]
    '3 of 3 adult employees (100%) were declared at the statutory minimum hourly wage (at most 3% above the average minimum hourly wage over the period) for 8.0 hours a week or fewer'
    """
    shared = shared or SharedTables(nodes, edges, buckets)
    household = shared.household_jobs.select(relation_id="job")
    in_full_time_sector = pl.any_horizontal(pl.lit(False), *(pl.col("sbi_code").str.starts_with(prefix)
                                                             for prefix in full_time_sectors)).fill_null(False)
    full_time = companies(nodes).filter(in_full_time_sector).get_column("company")
    at_full_time_employer = pl.col("to_entity").is_in(full_time.implode())
    few_hours = pl.when(at_full_time_employer).then(pl.lit(float(full_time_max_weekly_hours)))

    def find(jobs: pl.DataFrame) -> pl.DataFrame:
        adults = (hourly_wages(jobs, 0.02).filter(pl.col("age_band").fill_null("21+") == "21+")
                  .join(household, on="relation_id", how="anti"))
        periods = (
            with_mean_minimum(adults.filter(pl.col("weekly").is_not_null()))
            .with_columns(few=~pl.col("below") & (pl.col("hourly") <= pl.col("mean_minimum") * (1 + margin))
                          & (pl.col("weekly") <= few_hours.otherwise(pl.lit(float(max_weekly_hours)))))
        )
        return (
            periods.group_by("to_entity").agg(
                paid=pl.col("from_entity").n_unique(),
                persons=pl.col("from_entity").filter(pl.col("few")).n_unique(),
                hours=pl.col("weekly").filter(pl.col("few")).max(),
                evidence=pl.col("relation_id").filter(pl.col("few")))
            .filter((pl.col("persons") >= min_employees) & (pl.col("persons") >= min_share * pl.col("paid")))
            .with_columns(share=pl.col("persons") / pl.col("paid"), full_time_sector=at_full_time_employer)
            .rename({"to_entity": "focus_entity"})
        )

    return per_bucket(shared.employments_on_inferred_bands, "to_entity", find, buckets=buckets)
