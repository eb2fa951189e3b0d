"""What the population does that a partner records: employment, company roles, residence
permits, sponsor recognitions and municipal permits.

:class:`Activity` holds one :class:`~mhgraph.synth.population.Book` per kind of record, with
entity indexes into the :class:`~mhgraph.synth.population.World`. The ``add_*`` methods take
arrays, so the ordinary population (:func:`ordinary_activity`) and the planted networks use
the same code. Wages are the hours paid times a factor times the statutory hourly minimum
in force on each day of the period (:mod:`mhgraph.reference`).

>>> from mhgraph.synth.population import day
>>> wage, hours = wage_and_hours([day(2024, 1, 1)], [day(2024, 12, 31)], factor=[1.0], part_time=[1.0])
>>> round(float(wage[0] / hours[0]), 2)  # 13.27 an hour until July, 13.68 after
13.48
"""

from __future__ import annotations

import functools
import logging

import numpy as np

from mhgraph.reference import minimum_hourly_wage, youth_minimum_share
from mhgraph.synth.population import NO_DATE, WINDOW_END, WINDOW_START, Book, World, day

__all__ = ["PERMIT_MUNICIPALITIES", "Activity", "mean_minimum_wage", "minimum_share", "ordinary_activity",
           "wage_and_hours"]

log = logging.getLogger("mhgraph.synth")

# Partner of each municipal permit register -> municipality whose premises it covers.
PERMIT_MUNICIPALITIES = {"gemeente_arnhem": "Arnhem", "gemeente_eindhoven": "Eindhoven", "gemeente_emmen": "Emmen"}
# Ordinary permits per person of the population (a register of a mid-sized city, scaled).
_PERMITS_PER_PERSON = {"gemeente_arnhem": 1 / 120, "gemeente_eindhoven": 1 / 100, "gemeente_emmen": 1 / 200}
_MAX_MANAGERS = {"gemeente_arnhem": 2, "gemeente_eindhoven": 1, "gemeente_emmen": 2}

_CUM_START = day(2010)


@functools.cache
def _cumulative_minimum() -> np.ndarray:
    """Running sum of the hourly minimum wage per day from 2010 to 2030."""
    import datetime as dt

    first = dt.date(2010, 1, 1)
    rates = [minimum_hourly_wage(first + dt.timedelta(days=i)) for i in range(day(2030) - _CUM_START)]
    return np.concatenate([[0.0], np.cumsum(rates)])


def wage_and_hours(start, end, factor, part_time, share=1.0) -> tuple[np.ndarray, np.ndarray]:
    """Gross wage and hours paid over ``start..end`` (inclusive): ``part_time`` x 40 hours a
    week, at ``factor`` times the statutory hourly minimum in force on each day, of which a
    worker under 21 is owed the ``share`` for their age (:func:`minimum_share`)."""
    start, end = np.asarray(start), np.asarray(end)
    hours = np.round(np.asarray(part_time) * 40.0 * (end - start + 1) / 7.0)
    return np.round(hours * np.asarray(factor) * np.asarray(share) * mean_minimum_wage(start, end), 2), hours


def minimum_share(birth, on) -> np.ndarray:
    """Share of the adult minimum wage owed on day ``on`` to someone born on ``birth`` (youth minimum).

    >>> minimum_share([day(2006, 5, 1), day(1990, 1, 1)], day(2024, 1, 1)).tolist()
    [0.395, 1.0]
    """
    born, day_ = (np.atleast_1d(np.asarray(x, dtype=np.int64)).astype("datetime64[D]") for x in (birth, on))
    born, day_ = np.broadcast_arrays(born, day_)

    def year_month_day(d):
        month = d.astype("datetime64[M]")
        return d.astype("datetime64[Y]").astype(int), month.astype(int) % 12, (d - month).astype(int)

    (by, bm, bd), (oy, om, od) = year_month_day(born), year_month_day(day_)
    age = oy - by - ((om < bm) | ((om == bm) & (od < bd)))  # whole years, birthdays counted exactly
    by_age = np.array([youth_minimum_share(a) for a in range(22)])
    return by_age[np.clip(age, 0, 21)]


def mean_minimum_wage(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Mean statutory hourly minimum over the days ``start..end`` (inclusive)."""
    cum = _cumulative_minimum()
    a = np.asarray(start) - _CUM_START
    b = np.asarray(end) - _CUM_START + 1
    return (cum[b] - cum[a]) / (b - a)


class Activity:
    """The records of the world, before any partner writes them down."""

    def __init__(self):
        self.employments = Book("employment", ("person", "company", "address", "start", "end", "factor",
                                               "part_time", "contract"))
        self.officers = Book("officer", ("person", "company", "role", "start", "end", "address"))
        self.residence = Book("residence", ("person", "sponsor", "address", "purpose", "valid_from", "valid_to"))
        self.sponsors = Book("sponsor", ("company", "status", "recognised_on", "status_on"))
        self.permits = Book("permit", ("partner", "type", "status", "bibob", "applied_on", "decided_on",
                                       "holder_company", "holder_person", "manager_1", "manager_2", "premises"))

    def add_employments(self, world: World, person, company, start, end, *, factor, part_time, contract,
                        address=None) -> np.ndarray:
        """Employment periods; ``end`` may be ``NO_DATE`` (still employed when the extract was made).

        ``part_time`` is the share of a 40-hour week worked; ``factor`` the hourly wage as a
        multiple of the statutory minimum (see :func:`wage_and_hours`). ``address`` is where
        the employer has the employee registered (default: the home on the first day).
        """
        person = np.asarray(person, dtype=np.int64)
        start = np.asarray(start, dtype=np.int64)
        n = len(person)
        if address is None:
            address = world.address_on(person, start)
        return self.employments.append(
            person=person, company=np.asarray(company, dtype=np.int64), address=np.asarray(address, dtype=np.int64),
            start=start, end=np.asarray(end, dtype=np.int64),
            factor=np.broadcast_to(np.asarray(factor, dtype=float), (n,)).copy(),
            part_time=np.broadcast_to(np.asarray(part_time, dtype=float), (n,)).copy(),
            contract=np.broadcast_to(np.asarray(contract, dtype=object), (n,)).copy(),
        )

    def add_officers(self, world: World, person, company, role, start, end, address=None) -> np.ndarray:
        person = np.asarray(person, dtype=np.int64)
        end = np.asarray(end, dtype=np.int64)
        if address is None:
            address = world.address_on(person, np.where(end == NO_DATE, WINDOW_END, end))
        n = len(person)
        return self.officers.append(
            person=person, company=np.asarray(company, dtype=np.int64),
            role=np.broadcast_to(np.asarray(role, dtype=object), (n,)).copy(),
            start=np.asarray(start, dtype=np.int64), end=end, address=np.asarray(address, dtype=np.int64),
        )

    def add_residence(self, world: World, person, sponsor, purpose, valid_from, valid_to, address=None):
        person = np.asarray(person, dtype=np.int64)
        valid_from = np.asarray(valid_from, dtype=np.int64)
        if address is None:
            address = world.address_on(person, valid_from)
        n = len(person)
        sponsor = np.broadcast_to(np.asarray(sponsor, dtype=np.int64), (n,)).copy()
        world.companies.set("sponsor", sponsor[sponsor >= 0], True)
        return self.residence.append(
            person=person, sponsor=sponsor, address=np.asarray(address, dtype=np.int64),
            purpose=np.broadcast_to(np.asarray(purpose, dtype=object), (n,)).copy(),
            valid_from=valid_from, valid_to=np.asarray(valid_to, dtype=np.int64),
        )

    def add_sponsors(self, company, status, recognised_on, status_on) -> np.ndarray:
        n = len(company)
        return self.sponsors.append(
            company=np.asarray(company, dtype=np.int64),
            status=np.broadcast_to(np.asarray(status, dtype=object), (n,)).copy(),
            recognised_on=np.asarray(recognised_on, dtype=np.int64), status_on=np.asarray(status_on, dtype=np.int64),
        )

    def add_permit(self, partner: str, type_: str, status: str, bibob: str | None, applied_on: int,
                   decided_on: int, premises: int, holder_company: int = -1, holder_person: int = -1,
                   managers: tuple[int, ...] = ()) -> int:
        """One municipal permit; ``decided_on`` is ``NO_DATE`` while it is being considered."""
        managers = tuple(managers) + (-1, -1)
        return int(self.permits.append(
            partner=np.array([partner], dtype=object), type=np.array([type_], dtype=object),
            status=np.array([status], dtype=object), bibob=np.array([bibob], dtype=object),
            applied_on=np.array([applied_on]), decided_on=np.array([decided_on]),
            holder_company=np.array([holder_company]), holder_person=np.array([holder_person]),
            manager_1=np.array([managers[0]]), manager_2=np.array([managers[1]]), premises=np.array([premises]),
        )[0])


def _choose_weighted(rng, candidates: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    return rng.choice(candidates, size=n, p=weights / weights.sum())


def _adults(world: World, at_least: int, at_most: int = 120) -> np.ndarray:
    """Persons not used by a network, aged between ``at_least`` and ``at_most`` in mid-2024."""
    p = world.persons
    age = (day(2024, 6, 30) - p["birth"]) / 365.25
    return np.flatnonzero(~p["reserved"] & (age >= at_least) & (age <= at_most))


def ordinary_activity(rng: np.random.Generator, world: World, activity: Activity) -> None:
    """The records of everyone no network uses: jobs, company roles, permits, sponsors."""
    permit_companies = _permit_companies(rng, world)
    _employments(rng, world, activity)
    _officers(rng, world, activity, np.flatnonzero(world.companies["ordinary"]))
    _residence(rng, world, activity)
    _permits(rng, world, activity, permit_companies)
    _sponsors(rng, world, activity)
    log.info("ordinary activity: %d employments, %d officer roles, %d residence permits, %d municipal permits",
             activity.employments.size, activity.officers.size, activity.residence.size, activity.permits.size)


_EMPLOYER_BOOST = {
    "migrant": {"temp": 6.0, "agri": 5.0, "food": 4.0, "transport": 2.5, "cleaning": 3.0, "construction": 2.0},
    "knowledge": {"it": 8.0, "office": 4.0, "care": 4.0, "education": 3.0},
    "student": {"horeca": 6.0, "retail": 6.0, "education": 1.0},
}


def _employments(rng, world: World, activity: Activity) -> None:
    p, c = world.persons, world.companies
    people = _adults(world, 15, 67)
    people = people[rng.random(people.size) < 0.80]
    periods = rng.choice([1, 2, 3], size=people.size, p=[0.65, 0.27, 0.08])
    person = np.repeat(people, periods)
    n = person.size
    # Which employers each group tends to work for.
    eligible = np.flatnonzero(c["employer_weight"] > 0)
    base = c["employer_weight"][eligible]
    tags = c["tag"][eligible]
    purpose = p["ind_purpose"][person]
    eu_migrant = world.is_eu(person) & (p["nationality"][person] != "NL")
    young = (day(2024, 6, 30) - p["birth"][person]) / 365.25 < 20  # side jobs of pupils and students
    group = np.where(purpose == "kennismigrant", "knowledge",
                     np.where((purpose == "studie") | young, "student",
                              np.where(eu_migrant | (purpose == "arbeid"), "migrant", "general")))
    company = np.empty(n, dtype=np.int64)
    for name in ("general", "migrant", "knowledge", "student"):
        rows = np.flatnonzero(group == name)
        boost = np.array([_EMPLOYER_BOOST.get(name, {}).get(t, 1.0) for t in tags])
        company[rows] = _choose_weighted(rng, eligible, base * boost, rows.size)
    registered = c["registered"][company]
    dissolved = c["dissolved"][company]
    alive_from = np.maximum(registered, WINDOW_START)
    alive_to = np.where(dissolved == NO_DATE, WINDOW_END, np.minimum(dissolved, WINDOW_END))
    alive_to = np.maximum(alive_to, alive_from)
    start = np.where(rng.random(n) < 0.45, alive_from,
                     alive_from + (rng.random(n) * (alive_to - alive_from)).astype(np.int64))
    end = start + 30 + rng.exponential(700, n).astype(np.int64)
    end = np.where(end >= alive_to, np.where(dissolved == NO_DATE, NO_DATE, alive_to), end)
    age = (start - p["birth"][person]) / 365.25
    factor = np.where(group == "knowledge", 2.6 + rng.lognormal(np.log(0.6), 0.4, n),
                      np.where(group == "general", 1.0 + rng.lognormal(np.log(0.55), 0.5, n),
                               1.0 + rng.lognormal(np.log(0.08), 0.7, n)))
    # Under 21 the factor applies to the lower youth minimum (see wage_and_hours): young staff
    # are paid at or a little above it, lawfully, and below the adult rate.
    youth = age < 21
    factor[youth] = rng.uniform(1.0, 1.25, int(youth.sum()))
    # A few ordinary payroll rows fall just short of the minimum (corrections, unpaid overtime).
    short = rng.random(n) < 0.005
    factor[short] = rng.uniform(0.9, 0.995, int(short.sum()))
    part_time = np.where(group == "student", rng.choice([0.2, 0.3, 0.4], n),
                         rng.choice([1.0, 0.9, 0.8, 0.6, 0.5, 0.3], n, p=[0.45, 0.1, 0.15, 0.12, 0.1, 0.08]))
    contract = np.where(rng.random(n) < 0.6, "onbepaalde tijd", "bepaalde tijd").astype(object)
    contract[part_time <= 0.3] = "oproep"
    contract[c["tag"][company] == "temp"] = "uitzend"
    activity.add_employments(world, person, company, start, end, factor=factor, part_time=part_time,
                             contract=contract)


def _officers(rng, world: World, activity: Activity, companies: np.ndarray) -> None:
    c = world.companies
    pool = _adults(world, 23)
    legal_form = c["legal_form"][companies]
    count = np.select(
        [legal_form == "Eenmanszaak", np.isin(legal_form, ["VOF", "CV"]), legal_form == "BV"],
        [1, 2, 1 + (rng.random(companies.size) < 0.35)],
        default=2 + (rng.random(companies.size) < 0.5),
    )
    company = np.repeat(companies, count)
    n = company.size
    person = rng.choice(pool, n)
    # Serial entrepreneurs: some persons hold roles in several companies.
    serial = rng.random(n) < 0.08
    person[serial] = rng.choice(person, int(serial.sum()))
    role = np.select([np.isin(c["legal_form"][company], ["VOF", "CV"]), c["legal_form"][company] == "Eenmanszaak"],
                     ["vennoot", "eigenaar"], default="bestuurder").astype(object)
    start = c["registered"][company]
    end = c["dissolved"][company].copy()
    # A change of director: the first one leaves, a successor comes in.
    change = (rng.random(n) < 0.10) & (role == "bestuurder")
    life_end = np.where(end == NO_DATE, WINDOW_END, end)
    when = start + (rng.random(n) * (life_end - start)).astype(np.int64)
    successor = rng.choice(pool, int(change.sum()))
    rows_p = [person, successor]
    rows_c = [company, company[change]]
    rows_r = [role, role[change]]
    rows_s = [start, when[change]]
    rows_e = [np.where(change, when, end), end[change]]
    # A sole director is often the sole shareholder too; a few companies have a proxy holder.
    sole = (role == "bestuurder") & (np.repeat(count, count) == 1)
    share = sole & (rng.random(n) < 0.3)
    rows_p.append(person[share]); rows_c.append(company[share]); rows_r.append(np.full(int(share.sum()), "enig aandeelhouder", dtype=object))
    rows_s.append(start[share]); rows_e.append(rows_e[0][share])
    proxy = rng.random(n) < 0.03
    rows_p.append(rng.choice(pool, int(proxy.sum()))); rows_c.append(company[proxy])
    rows_r.append(np.full(int(proxy.sum()), "gevolmachtigde", dtype=object))
    rows_s.append(np.maximum(start[proxy], when[proxy])); rows_e.append(end[proxy])
    activity.add_officers(world, np.concatenate(rows_p), np.concatenate(rows_c), np.concatenate(rows_r),
                          np.concatenate(rows_s), np.concatenate(rows_e))


_VALIDITY_YEARS = {"kennismigrant": (3, 5), "arbeid": (1, 3), "studie": (1, 4), "gezinshereniging": (5, 5),
                   "seizoensarbeid": (1, 1), "uitwisseling": (1, 1)}


def _residence(rng, world: World, activity: Activity) -> None:
    p = world.persons
    holders = np.flatnonzero(~p["reserved"] & (p["ind_purpose"] != None))  # noqa: E711 (object array)
    purpose = p["ind_purpose"][holders].copy()
    # Work permits are sponsored by the employer of the person's first job.
    emp = activity.employments
    first_job = {}
    for person, company in zip(emp["person"].tolist()[::-1], emp["company"].tolist()[::-1]):
        first_job[person] = company
    sponsor = np.full(holders.size, -1, dtype=np.int64)
    needs_employer = np.isin(purpose, ["kennismigrant", "arbeid"])
    employer = np.array([first_job.get(h, -1) for h in holders.tolist()], dtype=np.int64)
    sponsor[needs_employer] = employer[needs_employer]
    purpose[needs_employer & (employer < 0)] = "gezinshereniging"
    p.set("ind_purpose", holders, purpose)
    students = purpose == "studie"
    sponsor[students] = rng.choice(world.universities, int(students.sum()))
    valid_from = rng.integers(day(2018), day(2025, 6, 30), holders.size)
    years = np.array([rng.integers(*_VALIDITY_YEARS[x]) if _VALIDITY_YEARS[x][0] < _VALIDITY_YEARS[x][1]
                      else _VALIDITY_YEARS[x][0] for x in purpose])
    valid_to = valid_from + (years * 365.25).astype(np.int64)
    keep = valid_to >= WINDOW_START
    activity.add_residence(world, holders[keep], sponsor[keep], purpose[keep], valid_from[keep], valid_to[keep])
    # Renewals: a second permit from the day the first one ends.
    renew = keep & (valid_to < WINDOW_END) & (rng.random(holders.size) < 0.5)
    activity.add_residence(world, holders[renew], sponsor[renew], purpose[renew], valid_to[renew] + 1,
                           valid_to[renew] + 1 + 5 * 365)


def _permit_companies(rng, world: World) -> dict[str, np.ndarray]:
    """Companies with premises in a municipality that keeps a permit register."""
    n = world.persons.size
    out = {}
    for partner, municipality in PERMIT_MUNICIPALITIES.items():
        count = max(8, round(n * _PERMITS_PER_PERSON[partner]))
        tags = rng.choice(np.array(["horeca", "hotel", "massage", "sex"], dtype=object), count,
                          p=[0.72, 0.06, 0.1, 0.12])
        out[partner] = world.new_companies(rng, count, tags, municipality=municipality)
    return out


def _permits(rng, world: World, activity: Activity, permit_companies: dict[str, np.ndarray]) -> None:
    c = world.companies
    officers = activity.officers
    officer_of: dict[int, int] = {}
    for person, company in zip(officers["person"].tolist(), officers["company"].tolist()):
        officer_of.setdefault(company, person)
    pool = _adults(world, 21)
    for partner, companies in permit_companies.items():
        for company in companies.tolist():
            tag = c["tag"][company]
            type_ = {"horeca": "horeca", "hotel": "horeca", "massage": "massagesalon"}.get(
                tag, "seksinrichting" if rng.random() < 0.6 else "escortbedrijf")
            screened = type_ != "horeca" or rng.random() < 0.3
            bibob = str(rng.choice(["geen gevaar", "mindere mate", "ernstige mate"], p=[0.85, 0.12, 0.03])) \
                if screened else None
            applied = int(rng.integers(day(2016), day(2025, 10, 1)))
            decided = applied + int(rng.integers(30, 150))
            status = "geweigerd" if bibob == "ernstige mate" else str(
                rng.choice(["verleend", "ingetrokken", "geweigerd"], p=[0.94, 0.035, 0.025]))
            if decided > WINDOW_END or rng.random() < 0.03:
                status, decided = "aangevraagd", NO_DATE
            owner = officer_of.get(company, int(rng.choice(pool)))
            sole = c["legal_form"][company] == "Eenmanszaak"
            managers = [owner if rng.random() < 0.6 else int(rng.choice(pool))]
            if _MAX_MANAGERS[partner] > 1 and rng.random() < 0.35:
                managers.append(int(rng.choice(pool)))
            activity.add_permit(partner, type_, status, bibob, applied, decided, premises=int(c["address"][company]),
                                holder_company=-1 if sole else company, holder_person=owner if sole else -1,
                                managers=tuple(managers))


def _sponsors(rng, world: World, activity: Activity) -> None:
    """Every company that sponsors a residence permit and has no recognition yet gets one."""
    c = world.companies
    known = set(activity.sponsors["company"].tolist())
    res = activity.residence
    first_use: dict[int, int] = {}
    for company, start in zip(res["sponsor"].tolist(), res["valid_from"].tolist()):
        if company >= 0 and company not in known:
            first_use[company] = min(start, first_use.get(company, start))
    companies = np.array(sorted(first_use), dtype=np.int64)
    n = companies.size
    earliest = np.array([first_use[k] for k in companies.tolist()], dtype=np.int64)
    recognised = np.maximum(c["registered"][companies], earliest - rng.integers(30, 2000, n))
    recognised = np.minimum(recognised, earliest)
    status = rng.choice(np.array(["erkend", "geschorst", "ingetrokken"], dtype=object), n, p=[0.93, 0.04, 0.03])
    status_on = np.where(status == "erkend", NO_DATE, rng.integers(WINDOW_START, WINDOW_END, n))
    status_on = np.where(status_on != NO_DATE, np.maximum(status_on, recognised + 30), NO_DATE)
    activity.add_sponsors(companies, status, recognised, status_on)
