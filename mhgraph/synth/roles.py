"""The building blocks network builders share: workers of an origin group, homes and
housing, relatives, pay, residence permits, earlier jobs and other directorships.

A network is written into the world with the same :class:`~mhgraph.synth.activity.Activity`
methods the ordinary population uses, so that nothing but the pattern sets it apart.

>>> from mhgraph.synth.population import build_population
>>> rng = np.random.default_rng(2)
>>> world = build_population(rng, 600)
>>> crew = workers(rng, world, 5, "non_eu")
>>> bool(world.is_eu(crew).any())
False
>>> len(set(housing(rng, world, 9, per_address=4, municipality="Venlo").tolist()))
3
"""

from __future__ import annotations

import numpy as np

from mhgraph.synth.activity import Activity
from mhgraph.synth.population import NO_DATE, WINDOW_END, WINDOW_START, World, day

__all__ = [
    "EU_WORKERS",
    "NON_EU_WORKERS",
    "between",
    "company",
    "earlier_jobs",
    "ended",
    "home",
    "housing",
    "jittered",
    "ordinary_jobs",
    "other_directorship",
    "pay",
    "permits_for_non_eu",
    "relative",
    "straw_persons",
    "workers",
]

EU_WORKERS = ("PL", "PL", "RO", "RO", "BG", "HU")
NON_EU_WORKERS = ("UA", "UA", "IN", "PH", "VN", "TR", "MA", "CN")
_ORIGIN = {"eu": EU_WORKERS, "non_eu": NON_EU_WORKERS}


def between(rng, a: int, b: int, n: int | None = None):
    """Whole numbers in ``[a, b)``: one, or an array of ``n``."""
    return rng.integers(a, b, n) if n is not None else int(rng.integers(a, b))


def jittered(rng, value: float, n: int, spread: float = 0.05) -> np.ndarray:
    """``n`` values scattered around ``value`` (each within ``spread`` of it, relatively)."""
    return value * rng.uniform(1 - spread, 1 + spread, n)


def workers(rng, world: World, n: int, origin: str, *, sex: str | None = None, age=(19, 45),
            nationalities=None) -> np.ndarray:
    """``n`` persons from the ``eu`` or ``non_eu`` group (or the given ``nationalities``)."""
    return world.recruit(rng, n, nationalities or _ORIGIN[origin], sex=sex, age=age)


def relative(rng, world: World, person: int, *, age=(20, 60), sex: str | None = None) -> int:
    """A new person of the same nationality and family name as ``person`` (a partner, sibling or child)."""
    p = world.persons
    kin = int(world.recruit(rng, 1, [p["nationality"][person]], sex=sex, age=age)[0])
    p.set("particle", kin, p["particle"][person])
    p.set("family", kin, p["family"][person])
    return kin


def straw_persons(rng, world: World, n: int, nationalities=("NL", "NL", "PL", "RO", "TR", "BG")) -> np.ndarray:
    """Front men: the young and the old are recruited as straw directors."""
    young = rng.random(n) < 0.55
    out = np.empty(n, dtype=np.int64)
    if young.any():
        out[young] = world.recruit(rng, int(young.sum()), nationalities, age=(19, 24))
    if (~young).any():
        out[~young] = world.recruit(rng, int((~young).sum()), nationalities, age=(60, 74))
    return out


def company(rng, world: World, tag: str, **kwargs) -> int:
    """One company made for a network: not part of the ordinary employer pool."""
    kwargs.setdefault("ordinary", False)
    kwargs.setdefault("employer_weight", 0.0)
    return int(world.new_companies(rng, 1, tag, **kwargs)[0])


def home(world: World, person, address, since=None) -> None:
    """Register persons at ``address``: all along, or from ``since`` on, after a move from the
    home they had in the population (so that their earlier records show the old address)."""
    person = np.atleast_1d(person)
    if since is None:
        world.persons.set("address", person, address)
    else:
        world.persons.set("address2", person, address)
        world.persons.set("moved_on", person, since)


def housing(rng, world: World, n: int, per_address: int, municipality: str, numbered: bool = False) -> np.ndarray:
    """One housing address per person: units of one building, ``per_address`` persons to a unit."""
    per_address = max(1, per_address)
    units = world.new_building(rng, -(-n // per_address), municipality, numbered=numbered)
    return units[np.arange(n) // per_address]


def earlier_jobs(rng, world: World, act: Activity, persons, before, share: float = 0.5) -> None:
    """An ordinary job, ended before ``before``, for a share of ``persons``: network members
    are not islands in the data, they worked elsewhere before."""
    persons = np.atleast_1d(persons)
    before = np.broadcast_to(np.asarray(before, dtype=np.int64), persons.shape)
    pick = (rng.random(persons.size) < share) & (before - 150 > WINDOW_START)
    who, until = persons[pick], before[pick]
    if who.size == 0:
        return
    c = world.companies
    employers = np.flatnonzero(c["ordinary"] & (c["employer_weight"] > 0) & (c["registered"] < WINDOW_START)
                               & (c["dissolved"] == NO_DATE))
    weight = c["employer_weight"][employers]
    start = WINDOW_START + (rng.random(who.size) * (until - 120 - WINDOW_START)).astype(np.int64)
    end = np.maximum(start + 30, until - rng.integers(5, 60, who.size))
    act.add_employments(world, who, rng.choice(employers, who.size, p=weight / weight.sum()), start, end,
                        factor=rng.uniform(1.0, 1.3, who.size), part_time=rng.uniform(0.6, 1.0, who.size),
                        contract="bepaalde tijd")


def ordinary_jobs(rng, world: World, act: Activity, persons, start=None, factor=(1.05, 1.5)) -> None:
    """A lasting job at an ordinary employer for each of ``persons`` (from ``start``, or from
    about the beginning of the period): the everyday records of people a network involves."""
    persons = np.atleast_1d(persons)
    n = persons.size
    if n == 0:
        return
    c = world.companies
    employers = np.flatnonzero(c["ordinary"] & (c["employer_weight"] > 0) & (c["dissolved"] == NO_DATE)
                               & (c["registered"] < day(2021)))
    weight = c["employer_weight"][employers]
    start = day(2021, 6, 1) + rng.integers(0, 240, n) if start is None else start
    act.add_employments(world, persons, rng.choice(employers, n, p=weight / weight.sum()), start, np.full(n, NO_DATE),
                        factor=rng.uniform(*factor, n), part_time=rng.uniform(0.6, 1.0, n), contract="onbepaalde tijd")


def other_directorship(rng, world: World, act: Activity, person, share: float = 0.5) -> None:
    """With chance ``share``, a seat on the board of an ordinary company as well."""
    if rng.random() >= share:
        return
    c = world.companies
    pool = np.flatnonzero(c["ordinary"] & (c["legal_form"] == "BV") & (c["dissolved"] == NO_DATE))
    target = int(rng.choice(pool))
    since = max(int(c["registered"][target]), day(2012)) + between(rng, 0, 2000)
    act.add_officers(world, np.atleast_1d(person), [target], ["bestuurder"], [min(since, WINDOW_END - 200)],
                     [NO_DATE])


def ended(rng, start, share_open: float, low: int, high: int) -> np.ndarray:
    """End dates ``low..high`` days after ``start``; a share still open (``NO_DATE``)."""
    start = np.asarray(start)
    end = start + rng.integers(low, high, start.size)
    return np.where((rng.random(start.size) < share_open) | (end >= WINDOW_END), NO_DATE, end)


def pay(rng, world: World, act: Activity, persons, employer, start, end, *, underpaid, wage_factor: float,
        declared_hours: float, contract: str, address=None) -> None:
    """Payroll periods: the ``underpaid`` mask at about ``wage_factor`` times the minimum for
    the worker's age, the others at or just above it; about ``declared_hours`` of a 40-hour
    week declared (at least a few hours)."""
    persons = np.atleast_1d(persons)
    n = persons.size
    factor = np.where(underpaid, jittered(rng, wage_factor, n), rng.uniform(1.0, 1.04, n))
    hours = np.maximum(jittered(rng, declared_hours, n, 0.15), 0.08)
    act.add_employments(world, persons, np.broadcast_to(np.asarray(employer), (n,)), start, end, factor=factor,
                        part_time=hours, contract=contract, address=address)


def permits_for_non_eu(rng, world: World, act: Activity, persons, *, sponsor, sponsored, purpose: str, start,
                       address, valid_to=None, years=(1, 3)) -> np.ndarray:
    """Residence permits for the non-EU nationals among ``persons`` (EU nationals need none).

    Those in the ``sponsored`` mask hold a permit for ``purpose`` with ``sponsor``; the others
    one for family reunification, which needs no sponsor and allows any work. Valid until
    ``valid_to``, or for ``years`` (drawn) from ``start``. Returns the persons given a permit.
    """
    persons = np.atleast_1d(persons)
    n = persons.size
    start = np.broadcast_to(np.asarray(start, dtype=np.int64), (n,))
    address = np.broadcast_to(np.asarray(address, dtype=np.int64), (n,))
    sponsored = np.broadcast_to(np.asarray(sponsored, dtype=bool), (n,))
    non_eu = ~world.is_eu(persons)
    if valid_to is None:
        valid_to = start + 365 * rng.integers(years[0], years[1] + 1, n)
    valid_to = np.broadcast_to(np.asarray(valid_to, dtype=np.int64), (n,))
    for with_sponsor in (True, False):
        rows = non_eu & (sponsored == with_sponsor)
        if rows.any():
            act.add_residence(world, persons[rows], sponsor if with_sponsor else -1,
                              purpose if with_sponsor else "gezinshereniging", start[rows], valid_to[rows],
                              address=address[rows])
    return persons[non_eu]
