"""Planted exploitation networks and their benign look-alikes (decoys).

Each builder recruits persons from the population, adds companies, addresses and permits,
and writes their records into the :class:`~mhgraph.synth.activity.Activity` through the same
methods the ordinary population uses. Each is built so that every partner sees only a
fragment that looks ordinary on its own:

* ``labour_exploitation`` — a temp agency that is a recognised sponsor (IND) brings in
  labour migrants, pays most of them just below the minimum per hour and the others at it,
  for long hours (payroll), and houses
  them, at most seven to an address, in two units of the director's own building and at the
  address of the director's property company (KvK).
* ``sexual_exploitation_waterbed`` — an operator's company is refused a permit after a
  Bibob "ernstige mate" in one municipality; a straw director who lives at the operator's
  address (KvK) runs a new company that gets a permit in a second municipality; a straw
  holder on that company's payroll and a shared manager get one in a third.
* ``phoenix_straw_director`` — a chain of short-lived companies at one address, each taking
  over the employees of the one before (payroll); one straw director is officer of all of
  them and of a few more short-lived companies elsewhere (KvK).
* ``crowded_housing`` — one dwelling where many persons are registered in overlapping
  periods, spread over payroll addresses and IND addresses (no partner sees more than
  seven), tied to the two employers (one located there, the other's director living there).

Decoys: ``seasonal_employer`` (a large farm and recognised sponsor with seasonal workers,
lawful wages close to the minimum, long days, housed at one lawful housing location, which
looks crowded, or at most four to a unit), ``student_housing`` (a building of student rooms, no common employer),
``accountant_address`` (many companies at an accountant's office, most long-lived, each with
its own officer) and ``hotel_chain`` (horeca permits in every municipality, Bibob clean or
nearly so). Decoys are benign but not spotless: a suspended sponsor recognition, a wound-up
client, a "mindere mate" Bibob advice.

>>> from mhgraph.synth.population import build_population
>>> rng = np.random.default_rng(5)
>>> world = build_population(rng, 1500)
>>> nets = plant_networks(rng, world, Activity(), per_typology=1)
>>> [n.typology for n in nets][:4]
['labour_exploitation', 'sexual_exploitation_waterbed', 'phoenix_straw_director', 'crowded_housing']
>>> all(5 <= len(n.members) <= 50 for n in nets)
True
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from mhgraph.synth.activity import PERMIT_MUNICIPALITIES, Activity
from mhgraph.synth.population import NO_DATE, WINDOW_END, WINDOW_START, World, day

__all__ = ["DECOY", "PLANTED", "Network", "default_per_typology", "plant_networks"]

log = logging.getLogger("mhgraph.synth")

PLANTED = ("labour_exploitation", "sexual_exploitation_waterbed", "phoenix_straw_director", "crowded_housing")
DECOY = ("seasonal_employer", "student_housing", "accountant_address", "hotel_chain")

_RURAL = ("Westland", "Venlo", "Horst aan de Maas", "Venray", "Someren", "Emmen", "Zaanstad", "Rotterdam",
          "Breda", "Oss")
_UNIVERSITY_TOWNS = ("Utrecht", "Groningen", "Leiden", "Delft", "Nijmegen", "Eindhoven", "Amsterdam", "Tilburg",
                     "Enschede", "Maastricht")
_NON_EU_WORKERS = ("IN", "IN", "PH", "PH", "UA", "VN", "TR", "MA", "CN")
_EU_WORKERS = ("PL", "PL", "RO", "RO", "BG", "HU")


@dataclass
class Network:
    """One planted network or decoy: its id, kind, typology and member entities
    as ``(entity_type, index)`` pairs (indexes into the world's books or the permits)."""

    network_id: str
    kind: str
    typology: str
    members: list[tuple[str, int]] = field(default_factory=list)

    def add(self, entity_type: str, index) -> None:
        for i in np.atleast_1d(index).tolist():
            if (entity_type, int(i)) not in self.members:
                self.members.append((entity_type, int(i)))


def default_per_typology(persons: int) -> int:
    """Networks of each typology: two at 5,000 persons, growing with the population."""
    return max(2, round(persons / 2500))


def plant_networks(rng: np.random.Generator, world: World, activity: Activity, per_typology: int) -> list[Network]:
    """Plant ``per_typology`` networks of every planted typology and as many decoys of every kind."""
    builders = {name: globals()[name] for name in PLANTED + DECOY}
    total = per_typology * len(builders)
    width = max(2, len(str(total)))
    networks = []
    for round_ in range(per_typology):
        for typology in PLANTED + DECOY:
            net = Network(f"N{len(networks) + 1:0{width}d}", "planted" if typology in PLANTED else "decoy", typology)
            builders[typology](rng, world, activity, net)
            networks.append(net)
        if (round_ + 1) % 100 == 0:
            log.info("networks: %d of %d planted", len(networks), total)
    log.info("networks: %d planted, %d decoys", per_typology * len(PLANTED), per_typology * len(DECOY))
    return networks


def _between(rng, a: int, b: int, n: int | None = None):
    return rng.integers(a, b, n) if n is not None else int(rng.integers(a, b))


def _company(rng, world: World, tag: str, **kwargs) -> int:
    kwargs.setdefault("ordinary", False)
    kwargs.setdefault("employer_weight", 0.0)
    return int(world.new_companies(rng, 1, tag, **kwargs)[0])


def _home(world: World, person, address, since=None) -> None:
    """Register persons at ``address``: all along, or from ``since`` on, after a move from the
    home they had in the population (so that their earlier records show the old address)."""
    person = np.atleast_1d(person)
    if since is None:
        world.persons.set("address", person, address)
    else:
        world.persons.set("address2", person, address)
        world.persons.set("moved_on", person, since)


def _earlier_jobs(rng, world: World, act: Activity, persons, before, share: float = 0.5) -> None:
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


def _other_directorship(rng, world: World, act: Activity, person, share: float = 0.5) -> None:
    """With chance ``share``, a seat on the board of an ordinary company as well."""
    if rng.random() >= share:
        return
    c = world.companies
    pool = np.flatnonzero(c["ordinary"] & (c["legal_form"] == "BV") & (c["dissolved"] == NO_DATE))
    company = int(rng.choice(pool))
    since = max(int(c["registered"][company]), day(2012)) + _between(rng, 0, 2000)
    act.add_officers(world, np.atleast_1d(person), [company], ["bestuurder"], [min(since, WINDOW_END - 200)],
                     [NO_DATE])


def _ended(rng, start, share_open: float, low: int, high: int):
    """End dates ``low..high`` days after ``start``; a share still open (``NO_DATE``)."""
    start = np.asarray(start)
    end = start + rng.integers(low, high, start.size)
    end = np.where((rng.random(start.size) < share_open) | (end >= WINDOW_END), NO_DATE, end)
    return end


# Hourly wage as a multiple of the mean minimum over a payroll row's period. The minimum rises
# at most 3.2 % within one year (July 2023), so 0.96 stays below the minimum in force on the
# first day of the row as well.
_BELOW_MINIMUM = (0.82, 0.96)


def labour_exploitation(rng, world: World, act: Activity, net: Network) -> None:
    municipality = str(rng.choice(_RURAL))
    director = world.recruit(rng, 1, ["NL", "NL", "TR", "PL"], age=(35, 62))
    registered = _between(rng, day(2014), day(2020))
    agency = _company(rng, world, "temp", municipality=municipality, legal_form="BV", registered=registered)
    holding = _company(rng, world, "realestate", municipality=municipality, legal_form="BV",
                       registered=_between(rng, day(2008), day(2019)))
    home, *annex = world.new_building(rng, 3, municipality)
    _home(world, director, home)
    property_address = int(world.companies["address"][holding])
    act.add_officers(world, director, [agency], ["bestuurder"], [registered], [NO_DATE])
    act.add_officers(world, np.repeat(director, 2), [holding, holding], ["bestuurder", "enig aandeelhouder"],
                     np.repeat(world.companies["registered"][holding], 2), [NO_DATE, NO_DATE])
    act.add_sponsors([agency], "erkend", [registered + _between(rng, 200, 900)], [NO_DATE])
    k = _between(rng, 8, 21)
    workers = world.recruit(rng, k, _NON_EU_WORKERS, age=(20, 45))
    houses = np.array(annex + [property_address])[np.arange(k) % 3]
    valid_from = _between(rng, day(2022, 2, 1), day(2024, 6, 30), k)
    _home(world, workers, houses, since=valid_from)
    _earlier_jobs(rng, world, act, workers, valid_from)
    _other_directorship(rng, world, act, director)
    act.add_residence(world, workers, agency, "arbeid", valid_from, valid_from + 365 * _between(rng, 1, 4, k),
                      address=houses)
    start = valid_from + _between(rng, 5, 40, k)
    # Most are paid below the minimum; some at it, with the long hours doing the damage.
    factor = np.where(rng.random(k) < 0.7, rng.uniform(*_BELOW_MINIMUM, k), rng.uniform(0.99, 1.03, k))
    act.add_employments(world, workers, np.full(k, agency), start, _ended(rng, start, 0.6, 200, 700),
                        factor=factor, part_time=rng.uniform(1.0, 1.3, k), contract="uitzend", address=houses)
    net.add("person", director)
    net.add("person", workers)
    net.add("company", [agency, holding])
    net.add("address", [home, *annex, property_address, int(world.companies["address"][agency])])


def sexual_exploitation_waterbed(rng, world: World, act: Activity, net: Network) -> None:
    refused_in, new_in, straw_in = rng.permutation(sorted(PERMIT_MUNICIPALITIES)).tolist()
    type_ = str(rng.choice(["massagesalon", "seksinrichting"]))
    tag = "massage" if type_ == "massagesalon" else "sex"
    operator = world.recruit(rng, 1, ["NL", "TR", "RO", "BG", "MA"], age=(30, 60))
    operator_home = world.new_addresses(rng, 1)
    _home(world, operator, operator_home)
    straw_director = world.recruit(rng, 1, ["NL", "RO", "BG", "HU"], age=(19, 30))
    _home(world, straw_director, operator_home)  # the straw director lives at the operator's address
    straw_holder = world.recruit(rng, 1, ["NL", "RO", "BG", "PL"], age=(20, 35))
    manager = world.recruit(rng, 1, None, age=(25, 50))
    workers = world.recruit(rng, _between(rng, 2, 6), ["RO", "BG", "HU", "UA", "PL"], sex="F", age=(19, 32))
    # The refused company, and the refusal after a Bibob "ernstige mate".
    first = _company(rng, world, tag, municipality=PERMIT_MUNICIPALITIES[refused_in], legal_form="BV",
                     registered=_between(rng, day(2019), day(2021, 9, 1)))
    applied = _between(rng, day(2022, 1, 15), day(2023, 3, 1))
    refused_on = applied + _between(rng, 60, 120)
    world.companies.set("dissolved", first, refused_on + _between(rng, 150, 400))
    act.add_officers(world, operator, [first], ["bestuurder"], [world.companies["registered"][first]],
                     [world.companies["dissolved"][first]], address=operator_home)
    refusal = act.add_permit(refused_in, type_, "geweigerd", "ernstige mate", applied, refused_on,
                             premises=int(world.companies["address"][first]), holder_company=first,
                             managers=(int(operator[0]),))
    # The new company in another municipality, run on paper by the straw director.
    registered = refused_on + _between(rng, 30, 200)
    second = _company(rng, world, tag, municipality=PERMIT_MUNICIPALITIES[new_in], legal_form="BV",
                      registered=registered)
    act.add_officers(world, straw_director, [second], ["bestuurder"], [registered], [NO_DATE], address=operator_home)
    applied = registered + _between(rng, 20, 60)
    granted = act.add_permit(new_in, type_, "verleend", str(rng.choice(["geen gevaar", "mindere mate"])), applied,
                             applied + _between(rng, 40, 100), premises=int(world.companies["address"][second]),
                             holder_company=second, managers=(int(manager[0]),))
    # A third permit, held by a straw holder on the second company's payroll, same manager.
    premises = world.new_addresses(rng, 1, PERMIT_MUNICIPALITIES[straw_in])
    applied = min(applied + _between(rng, 120, 400), WINDOW_END - 150)
    third = act.add_permit(straw_in, str(rng.choice(["escortbedrijf", type_])), "verleend", "geen gevaar", applied,
                           applied + _between(rng, 40, 100), premises=int(premises[0]),
                           holder_person=int(straw_holder[0]), managers=(int(manager[0]),))
    staff = np.concatenate([workers, straw_holder])
    n = staff.size
    place = int(world.companies["address"][second])
    start = registered + _between(rng, 30, 150, n)
    _home(world, workers, place, since=start[: workers.size])  # the workers live at the premises
    _earlier_jobs(rng, world, act, staff, start)
    _other_directorship(rng, world, act, operator)
    act.add_employments(world, staff, np.full(n, second), start, _ended(rng, start, 0.5, 90, 500),
                        factor=rng.uniform(0.7, _BELOW_MINIMUM[1], n), part_time=rng.uniform(0.3, 0.6, n), contract="oproep",
                        address=world.persons["address"][staff])
    net.add("person", [operator[0], straw_director[0], straw_holder[0], manager[0]])
    net.add("person", workers)
    net.add("company", [first, second])
    net.add("permit", [refusal, granted, third])
    net.add("address", [operator_home[0], world.companies["address"][first], place, premises[0],
                        world.persons["address"][straw_holder[0]]])


def phoenix_straw_director(rng, world: World, act: Activity, net: Network) -> None:
    municipality = str(rng.choice(world.vocab.municipalities.name))
    tag = str(rng.choice(["cleaning", "construction", "horeca", "agri", "transport"]))
    site = int(world.new_addresses(rng, 1, municipality)[0])
    straw = world.recruit(rng, 1, ["NL", "NL", "PL", "RO", "TR"], age=(19, 24) if rng.random() < 0.5 else (58, 72))
    straw_home = world.new_addresses(rng, 1)
    _home(world, straw, straw_home)
    chain = []
    registered = _between(rng, day(2021, 9, 1), day(2022, 9, 1))
    trade_name = None
    for i in range(_between(rng, 3, 6)):
        dissolved = registered + _between(rng, 180, 420)
        if dissolved >= WINDOW_END - 60:
            dissolved = NO_DATE
        company = _company(rng, world, tag, address=[site], legal_form="BV", registered=registered,
                           dissolved=dissolved, trade_name=trade_name)
        if i == 0 and rng.random() < 0.5:  # successors keep trading under the first one's name
            trade_name = world.companies["trade_name"][company]
        act.add_officers(world, straw, [company], ["bestuurder"], [registered], [dissolved], address=straw_home)
        chain.append(company)
        if dissolved == NO_DATE:
            break
        registered = dissolved - _between(rng, 0, 30)
    # More short-lived companies elsewhere with the same straw director.
    others = []
    for _ in range(_between(rng, 1, 4)):
        start = _between(rng, day(2022), day(2025, 3, 1))
        company = _company(rng, world, str(rng.choice(["cleaning", "construction", "retail", "transport"])),
                           legal_form="BV", registered=start, dissolved=start + _between(rng, 120, 300))
        act.add_officers(world, straw, [company], ["bestuurder"], [start], [world.companies["dissolved"][company]],
                         address=straw_home)
        others.append(company)
    # The same employees move from each company to its successor.
    k = _between(rng, 5, 16)
    staff = world.recruit(rng, k, ["NL", "NL", "PL", "RO", "BG", "TR", "MA"], age=(19, 55))
    _earlier_jobs(rng, world, act, staff, int(world.companies["registered"][chain[0]]))
    stays = rng.random(k) < 0.85
    stays[:3] = True  # the core of the staff moves along every time
    factor = rng.uniform(0.92, 1.15, k)
    for i, company in enumerate(chain):
        c_from = int(world.companies["registered"][company])
        c_to = int(world.companies["dissolved"][company])
        who = staff if i == 0 else staff[stays]
        start = c_from + _between(rng, 0, 15, who.size)
        end = np.full(who.size, c_to)
        act.add_employments(world, who, np.full(who.size, company), start, end,
                            factor=factor[np.isin(staff, who)], part_time=rng.uniform(0.6, 1.0, who.size),
                            contract="bepaalde tijd")
    net.add("person", straw)
    net.add("person", staff)
    net.add("company", chain + others)
    net.add("address", [site, straw_home[0]] + [int(world.companies["address"][o]) for o in others])


def crowded_housing(rng, world: World, act: Activity, net: Network) -> None:
    municipality = str(rng.choice(world.vocab.municipalities.name))
    dwelling = int(world.new_addresses(rng, 1, municipality)[0])
    employer = _company(rng, world, str(rng.choice(["agri", "food", "transport", "temp"])), municipality=municipality,
                        legal_form="BV", registered=_between(rng, day(2008), day(2019)))
    second = _company(rng, world, str(rng.choice(["cleaning", "horeca", "construction"])), address=[dwelling],
                      legal_form="BV", registered=_between(rng, day(2018), day(2022)))
    director = world.recruit(rng, 1, ["NL", "PL", "TR"], age=(30, 60))
    _home(world, director, dwelling)
    owner = world.recruit(rng, 1, ["NL", "PL", "RO", "TR", "MA"], age=(25, 60))
    owner_home = world.new_addresses(rng, 1)
    _home(world, owner, owner_home)
    act.add_officers(world, director, [employer], ["bestuurder"], [world.companies["registered"][employer]], [NO_DATE])
    _other_directorship(rng, world, act, director)
    act.add_officers(world, owner, [second], ["bestuurder"], [world.companies["registered"][second]], [NO_DATE])
    act.add_sponsors([employer], "erkend", [world.companies["registered"][employer] + _between(rng, 300, 1500)],
                     [NO_DATE])
    since = _between(rng, day(2022, 6, 1), day(2024, 3, 1))
    # EU workers: only the payroll knows where they live.
    n_eu = _between(rng, 3, 7)
    eu = world.recruit(rng, n_eu, _EU_WORKERS, age=(19, 50))
    start = since + _between(rng, 0, 120, n_eu)
    _home(world, eu, dwelling, since=start)
    _earlier_jobs(rng, world, act, eu, start)
    act.add_employments(world, eu, rng.choice([employer, second], n_eu), start, _ended(rng, start, 0.5, 300, 700),
                        factor=rng.uniform(1.0, 1.12, n_eu), part_time=rng.uniform(0.8, 1.0, n_eu),
                        contract="bepaalde tijd", address=np.full(n_eu, dwelling))
    # Non-EU workers: the IND has them at the dwelling, the payroll mostly at an older address.
    n_ind = _between(rng, 4, 8)
    migrants = world.recruit(rng, n_ind, _NON_EU_WORKERS, age=(20, 45))
    older = world.new_addresses(rng, n_ind, municipality, addition_share=0.2)
    start = since + _between(rng, 0, 120, n_ind)
    _home(world, migrants, dwelling, since=start - 40)
    _earlier_jobs(rng, world, act, migrants, start - 40)
    act.add_residence(world, migrants, employer, "arbeid", start - _between(rng, 10, 40, n_ind),
                      start + 365 * _between(rng, 1, 3, n_ind), address=np.full(n_ind, dwelling))
    on_payroll_here = np.arange(n_ind) < max(0, min(2, 7 - n_eu))
    act.add_employments(world, migrants, np.full(n_ind, employer), start, _ended(rng, start, 0.5, 300, 700),
                        factor=rng.uniform(1.0, 1.1, n_ind), part_time=rng.uniform(0.8, 1.0, n_ind),
                        contract="bepaalde tijd", address=np.where(on_payroll_here, dwelling, older))
    net.add("person", [director[0], owner[0]])
    net.add("person", eu)
    net.add("person", migrants)
    net.add("company", [employer, second])
    net.add("address", [dwelling, owner_home[0], int(world.companies["address"][employer])])
    net.add("address", older[~on_payroll_here])


def seasonal_employer(rng, world: World, act: Activity, net: Network) -> None:
    municipality = str(rng.choice(_RURAL))
    farm = _company(rng, world, "agri", municipality=municipality, legal_form=str(rng.choice(["BV", "VOF"])),
                    registered=_between(rng, day(1990), day(2012)))
    director = world.recruit(rng, 1, ["NL"], age=(40, 65))
    home = world.new_addresses(rng, 1, municipality)
    _home(world, director, home)
    role = "bestuurder" if world.companies["legal_form"][farm] == "BV" else "vennoot"
    act.add_officers(world, director, [farm], [role], [world.companies["registered"][farm]], [NO_DATE])
    # Benign is not spotless: now and then the recognition was suspended for paperwork.
    suspended = rng.random() < 0.25
    act.add_sponsors([farm], "geschorst" if suspended else "erkend", [_between(rng, day(2014), day(2020))],
                     [_between(rng, day(2023), day(2025, 6, 1)) if suspended else NO_DATE])
    k = _between(rng, 12, 31)
    if rng.random() < 0.5:  # one lawful housing location on the farm, all registered at one address
        units = world.new_addresses(rng, 1, municipality)
    else:  # a building of units, at most four to a unit
        units = world.new_building(rng, max(_between(rng, 5, 9), -(-k // 4)), municipality, numbered=True)
    workers = world.recruit(rng, k, ("PL", "PL", "RO", "BG", "UA", "UA"), age=(19, 55))
    housing = units[np.arange(k) % units.size]
    _home(world, workers, housing)
    _earlier_jobs(rng, world, act, workers, day(2023, 3, 1))
    non_eu = ~world.is_eu(workers)
    worked = np.zeros(k, dtype=bool)
    for season in (2023, 2024, 2025):
        here = (rng.random(k) < 0.75) | (~worked if season == 2025 else False)
        worked |= here
        who = workers[here]
        n = who.size
        start = day(season, 4, 1) + _between(rng, 0, 30, n)
        end = day(season, 10, 31) - _between(rng, 0, 30, n)
        # Lawful, but close to the minimum and with long days in the season.
        act.add_employments(world, who, np.full(n, farm), start, end, factor=rng.uniform(1.0, 1.12, n),
                            part_time=rng.uniform(1.0, 1.25, n), contract="bepaalde tijd", address=housing[here])
        permit = here & non_eu
        act.add_residence(world, workers[permit], farm, "seizoensarbeid", np.full(int(permit.sum()), day(season, 3, 15)),
                          np.full(int(permit.sum()), day(season, 11, 15)), address=housing[permit])
    net.add("company", farm)
    net.add("person", director)
    net.add("person", workers)
    net.add("address", [int(world.companies["address"][farm]), home[0]])
    net.add("address", units)


def student_housing(rng, world: World, act: Activity, net: Network) -> None:
    municipality = str(rng.choice(_UNIVERSITY_TOWNS))
    rooms = world.new_building(rng, _between(rng, 10, 25), municipality, numbered=True)
    k = rooms.size
    students = world.recruit(rng, k, ("NL", "NL", "NL", "IN", "CN", "VN", "PL", "TR"), age=(18, 26))
    _home(world, students, rooms)
    arrived = np.array([day(int(y), 8, 15) for y in rng.integers(2021, 2025, k)]) + _between(rng, 0, 30, k)
    non_eu = ~world.is_eu(students)
    act.add_residence(world, students[non_eu], rng.choice(world.universities, int(non_eu.sum())), "studie",
                      arrived[non_eu], arrived[non_eu] + 365 * _between(rng, 1, 5, int(non_eu.sum())),
                      address=rooms[non_eu])
    # Side jobs at ordinary employers, each student their own.
    c = world.companies
    shops = np.flatnonzero(c["ordinary"] & (c["employer_weight"] > 0) & np.isin(c["tag"], ["horeca", "retail"]))
    working = ~non_eu | (rng.random(k) < 0.6)  # a student with neither job nor permit is in no register
    who = students[working]
    n = who.size
    start = np.maximum(arrived[working] + _between(rng, 20, 200, n), day(2022))
    start = np.minimum(start, WINDOW_END - 40)
    age = (start - world.persons["birth"][who]) / 365.25
    employers = rng.choice(shops, n, replace=n > shops.size)  # each their own, where there are enough
    act.add_employments(world, who, employers, start, _ended(rng, start, 0.3, 60, 500),
                        factor=np.where(age < 21, rng.uniform(0.6, 0.95, n), rng.uniform(1.0, 1.25, n)),
                        part_time=rng.uniform(0.15, 0.4, n), contract="oproep", address=rooms[working])
    net.add("address", rooms)
    net.add("person", students)


def accountant_address(rng, world: World, act: Activity, net: Network) -> None:
    office = int(world.new_addresses(rng, 1)[0])
    firm = _company(rng, world, "accountancy", address=[office], legal_form="BV",
                    registered=_between(rng, day(1995), day(2010)), employer_weight=5.0)
    partner = world.recruit(rng, 1, ["NL"], age=(40, 65))
    home = world.new_addresses(rng, 1)
    _home(world, partner, home)
    act.add_officers(world, partner, [firm], ["bestuurder"], [world.companies["registered"][firm]], [NO_DATE])
    n = _between(rng, 6, 15)
    tags = rng.choice(["office", "it", "realestate", "retail", "construction"], n)
    # Mostly long-lived; a few wound up or started during the period, as clients come and go.
    registered = np.where(rng.random(n) < 0.85, _between(rng, day(1998), day(2019), n),
                          _between(rng, day(2022), day(2025), n))
    dissolved = np.where(rng.random(n) < 0.15, _between(rng, day(2023), day(2025, 9, 1), n), NO_DATE)
    dissolved = np.where(dissolved > registered + 180, dissolved, NO_DATE)
    clients = world.new_companies(rng, n, tags, address=np.full(n, office), legal_form="BV",
                                  registered=registered, dissolved=dissolved, ordinary=False, employer_weight=1.0)
    officers = world.recruit(rng, n, ["NL", "NL", "NL", "TR", "MA", "PL"], age=(35, 70))
    homes = world.new_addresses(rng, n, addition_share=0.1)
    _home(world, officers, homes)
    act.add_officers(world, officers, clients, "bestuurder", world.companies["registered"][clients],
                     world.companies["dissolved"][clients])
    net.add("address", [office, home[0]])
    net.add("company", firm)
    net.add("person", partner)
    net.add("company", clients)
    net.add("person", officers)
    net.add("address", homes)


def hotel_chain(rng, world: World, act: Activity, net: Network) -> None:
    hotel = _company(rng, world, "hotel", legal_form="BV", registered=_between(rng, day(1990), day(2010)),
                     employer_weight=20.0)
    director = world.recruit(rng, 1, ["NL"], age=(45, 65))
    home = world.new_addresses(rng, 1)
    _home(world, director, home)
    act.add_officers(world, director, [hotel], ["bestuurder"], [world.companies["registered"][hotel]], [NO_DATE])
    net.add("company", hotel)
    net.add("person", director)
    net.add("address", [int(world.companies["address"][hotel]), home[0]])
    for partner in sorted(PERMIT_MUNICIPALITIES):
        for _ in range(_between(rng, 1, 3)):
            premises = int(world.new_addresses(rng, 1, PERMIT_MUNICIPALITIES[partner])[0])
            manager = world.recruit(rng, 1, ["NL", "NL", "NL", "TR", "MA", "PL"], age=(28, 60))
            start = max(_between(rng, day(2012), day(2024)), day(2022))
            _earlier_jobs(rng, world, act, manager, start)
            act.add_employments(world, manager, [hotel], [start], [NO_DATE], factor=[rng.uniform(1.6, 2.6)],
                                part_time=[1.0], contract="onbepaalde tijd")
            applied = _between(rng, day(2016), day(2025, 6, 1))
            bibob = "mindere mate" if rng.random() < 0.1 else "geen gevaar"
            permit = act.add_permit(partner, "horeca", "verleend", bibob, applied,
                                    applied + _between(rng, 40, 120), premises=premises, holder_company=hotel,
                                    managers=(int(manager[0]),))
            net.add("permit", permit)
            net.add("address", premises)
            net.add("person", manager)
