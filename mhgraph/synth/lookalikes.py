"""Lawful look-alikes: benign networks that share a surface feature with a planted typology.

Each is built to be lawful — wages at or above the minimum for the worker's age, companies
that live long or are succeeded by their own owner, housing that is certified or temporary
— while showing what a single rule might take for exploitation. ``LOOKALIKE_OF`` names the
typology each imitates. Benign is not spotless: a suspended sponsor recognition, a wound-up
client, a "mindere mate" Bibob advice.

* ``legal_form_conversion`` — a sole trader becomes a BV: same owner, same address, same
  staff, the old registration ends as the new one starts.
* ``family_business`` — a family lives above its shop, runs one to three companies from that
  address, and its teenage children work there for the youth minimum.
* ``youth_wage_employer`` — a shop or ice-cream parlour whose staff are mostly 15 to 20, paid
  the youth minimum for their age, for few hours.
* ``certified_agency_housing`` — a long-established temp agency (recognised sponsor) houses
  its workers at one certified location, paid properly for full weeks.
* ``lawful_chain`` — a massage chain with salons in two or three permit towns, one manager on
  all the permits, clean Bibob outcomes.
* ``au_pair_family`` — a host family with an au pair on an exchange permit, registered at the
  family's home and on no payroll.
* ``seasonal_farm`` — a farm and recognised sponsor with seasonal workers over three seasons,
  lawful wages close to the minimum, housed at one location or a few to a unit.
* ``trust_office`` — a trust office whose directors sit on the boards of many client companies
  registered at its address, most of them long-lived.
* ``shelter`` — a shelter foundation where many people are registered for months at a time.
* ``student_housing`` — a building of student rooms, each student with their own side job.
* ``hotel_chain`` — a hotel company with horeca permits in every permit town.
* ``knowledge_migrant_employer`` — a recognised sponsor with well-paid knowledge migrants,
  some of whom move on to unrelated employers (lawful job mobility).

>>> from mhgraph.synth.population import build_population
>>> from mhgraph.synth.variants import parameter_ranges
>>> from mhgraph.synth.networks import Network
>>> rng = np.random.default_rng(8)
>>> world = build_population(rng, 1500)
>>> net = Network("N1", "decoy", "legal_form_conversion", lookalike_of="agency_phoenix")
>>> legal_form_conversion(rng, world, Activity(), net,
...                       Variant(rng, parameter_ranges()["lookalike"]["legal_form_conversion"], None))
>>> sorted({world.companies["legal_form"][i] for t, i in net.members if t == "company"})
['BV', 'Eenmanszaak']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mhgraph.synth.activity import PERMIT_MUNICIPALITIES, Activity
from mhgraph.synth.population import NO_DATE, WINDOW_END, World, day
from mhgraph.synth.roles import (
    EU_WORKERS,
    NON_EU_WORKERS,
    between,
    company,
    earlier_jobs,
    ended,
    home,
    ordinary_jobs,
    permits_for_non_eu,
    relative,
)
from mhgraph.synth.typologies import RURAL
from mhgraph.synth.variants import Variant

if TYPE_CHECKING:
    from mhgraph.synth.networks import Network

__all__ = ["LOOKALIKES", "LOOKALIKE_OF"]

_UNIVERSITY_TOWNS = ("Utrecht", "Groningen", "Leiden", "Delft", "Nijmegen", "Eindhoven", "Amsterdam", "Tilburg",
                     "Enschede", "Maastricht")
_MIXED = ("NL", "NL", "NL", "NL", "PL", "RO", "TR", "MA", "UA", "IN")


def _town(rng, world: World) -> str:
    return str(rng.choice(world.vocab.municipalities.name))


def _officer(act: Activity, world: World, person: int, target: int, role: str = "bestuurder") -> None:
    act.add_officers(world, [person], [target], [role], [world.companies["registered"][target]],
                     [world.companies["dissolved"][target]])


def _lawful_pay(rng, world: World, act: Activity, persons, employer, start, end, *, hours, contract: str,
                address=None, factor=(1.0, 1.3)) -> None:
    """At or above the minimum for each worker's age."""
    persons = np.atleast_1d(persons)
    n = persons.size
    act.add_employments(world, persons, np.broadcast_to(np.asarray(employer), (n,)), start, end,
                        factor=rng.uniform(*factor, n), part_time=np.broadcast_to(np.asarray(hours, dtype=float), (n,)),
                        contract=contract, address=address)


def legal_form_conversion(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = _town(rng, world)
    owner = int(world.recruit(rng, 1, ("NL", "NL", "NL", "TR", "PL", "MA"), age=(30, 60))[0])
    owner_home = int(world.new_addresses(rng, 1, town)[0])
    home(world, owner, owner_home)
    tag = str(rng.choice(["construction", "cleaning", "horeca", "retail", "transport", "temp", "beauty"]))
    converted = between(rng, day(2022, 3, 1), day(2025, 6, 1))
    sole = company(rng, world, tag, address=[owner_home] if v.chance("at_home") else None, municipality=town,
                   legal_form="Eenmanszaak", registered=between(rng, day(2005), day(2020)),
                   dissolved=converted + v.count("gap_days"))
    site = int(world.companies["address"][sole])
    bv = company(rng, world, tag, address=[site], legal_form="BV", registered=converted,
                 trade_name=world.companies["trade_name"][sole])
    _officer(act, world, owner, sole, "eigenaar")
    act.add_officers(world, [owner, owner], [bv, bv], ["bestuurder", "enig aandeelhouder"], [converted] * 2,
                     [NO_DATE] * 2)
    n = v.count("staff", at_least=1)
    staff = world.recruit(rng, n, _MIXED, age=(18, 60))
    hired = between(rng, day(2019), converted - 200, n)
    hours = rng.uniform(0.5, 1.0, n)
    _lawful_pay(rng, world, act, staff, sole, hired, np.full(n, world.companies["dissolved"][sole]), hours=hours,
                contract="onbepaalde tijd")
    _lawful_pay(rng, world, act, staff, bv, converted + between(rng, 0, 10, n), ended(rng, np.full(n, converted), 0.8, 200, 900),
                hours=hours, contract="onbepaalde tijd")
    permits_for_non_eu(rng, world, act, staff, sponsor=-1, sponsored=False, purpose="gezinshereniging",
                       start=hired - 400, address=world.persons["address"][staff], years=(5, 5))
    net.add("person", owner)
    net.add("person", staff)
    net.add("company", [sole, bv])
    net.add("address", [owner_home, site])


def family_business(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = _town(rng, world)
    nationality = str(rng.choice(["NL", "NL", "TR", "MA", "CN", "PL"]))
    parent = int(world.recruit(rng, 1, [nationality], age=(38, 58))[0])
    spouse = relative(rng, world, parent, age=(36, 58))
    children = [relative(rng, world, parent, age=(15, 21)) for _ in range(v.count("children", at_least=1))]
    family = np.array([parent, spouse, *children])
    above_shop = int(world.new_addresses(rng, 1, town)[0])
    home(world, family, above_shop)
    tag = str(rng.choice(["horeca", "retail", "beauty"]))
    form = str(rng.choice(["VOF", "Eenmanszaak"]))
    shop = company(rng, world, tag, address=[above_shop], legal_form=form, registered=between(rng, day(1998), day(2018)))
    if form == "VOF":
        act.add_officers(world, [parent, spouse], [shop, shop], "vennoot", [world.companies["registered"][shop]] * 2,
                         [NO_DATE] * 2)
    else:
        _officer(act, world, parent, shop, "eigenaar")
    companies = [shop]
    for _ in range(v.count("companies", at_least=1) - 1):  # a holding or a second trade at the same address
        extra = company(rng, world, str(rng.choice(["realestate", "retail", tag])), address=[above_shop],
                        legal_form="BV", registered=between(rng, day(2005), day(2023)))
        _officer(act, world, parent, extra)
        companies.append(extra)
    start = np.maximum(world.persons["birth"][children] + 15 * 366, day(2021, 6, 1)) + between(rng, 0, 200, len(children))
    _lawful_pay(rng, world, act, children, shop, start, ended(rng, start, 0.7, 200, 900), hours=v.value("youth_hours"),
                contract="oproep", factor=(1.0, 1.15))
    _lawful_pay(rng, world, act, [spouse], shop, [day(2021, 1, 1)], [NO_DATE], hours=0.6, contract="onbepaalde tijd")
    permits_for_non_eu(rng, world, act, family, sponsor=-1, sponsored=False, purpose="gezinshereniging",
                       start=between(rng, day(2018), day(2022), family.size), address=above_shop, years=(5, 5))
    net.add("person", family)
    net.add("company", companies)
    net.add("address", above_shop)


def youth_wage_employer(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = _town(rng, world)
    owner = int(world.recruit(rng, 1, ("NL", "NL", "NL", "TR", "CN"), age=(30, 60))[0])
    owner_home = int(world.new_addresses(rng, 1, town)[0])
    home(world, owner, owner_home)
    form = str(rng.choice(["BV", "Eenmanszaak"]))
    shop = company(rng, world, str(rng.choice(["retail", "horeca", "beauty"])), municipality=town, legal_form=form,
                   registered=between(rng, day(2000), day(2020)))
    _officer(act, world, owner, shop, "eigenaar" if form == "Eenmanszaak" else "bestuurder")
    n = v.count("staff", at_least=2)
    young = v.share("youth_share", n)
    staff = np.empty(n, dtype=np.int64)
    staff[young] = world.recruit(rng, int(young.sum()), _MIXED, age=(15, 20))
    staff[~young] = world.recruit(rng, int((~young).sum()), _MIXED, age=(21, 45))
    start = between(rng, day(2022, 1, 1), day(2025, 3, 1), n)
    _lawful_pay(rng, world, act, staff, shop, start, ended(rng, start, 0.4, 90, 700),
                hours=rng.uniform(0.7, 1.3, n) * v.value("hours"), contract="oproep", factor=(1.0, 1.12))
    net.add("person", owner)
    net.add("person", staff)
    net.add("company", shop)
    net.add("address", [owner_home, int(world.companies["address"][shop])])


def certified_agency_housing(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = str(rng.choice(RURAL))
    agency = company(rng, world, "temp", municipality=town, legal_form="BV", registered=between(rng, day(1998), day(2015)))
    director = int(world.recruit(rng, 1, ("NL",), age=(40, 65))[0])
    home(world, director, int(world.new_addresses(rng, 1, town)[0]))
    _officer(act, world, director, agency)
    act.add_sponsors([agency], "erkend", [between(rng, day(2010), day(2018))], [NO_DATE])
    location = world.new_building(rng, v.count("units", at_least=1), town, numbered=True)
    n = v.count("workers", at_least=5)
    non_eu = v.share("non_eu_share", n)
    crew = np.empty(n, dtype=np.int64)
    crew[non_eu] = world.recruit(rng, int(non_eu.sum()), NON_EU_WORKERS, age=(20, 50))
    crew[~non_eu] = world.recruit(rng, int((~non_eu).sum()), EU_WORKERS, age=(20, 50))
    housed = location[np.arange(n) % location.size]
    arrival = between(rng, day(2022, 1, 15), day(2024, 10, 1), n)
    home(world, crew, housed, since=arrival)
    earlier_jobs(rng, world, act, crew, arrival)
    start = arrival + between(rng, 3, 15, n)
    _lawful_pay(rng, world, act, crew, agency, start, ended(rng, start, 0.4, 180, 720), hours=rng.uniform(0.9, 1.1, n),
                contract="uitzend", address=housed, factor=(1.02, 1.2))
    permits_for_non_eu(rng, world, act, crew, sponsor=agency, sponsored=True, purpose="arbeid", start=arrival - 10,
                       address=housed)
    net.add("person", director)
    net.add("person", crew)
    net.add("company", agency)
    net.add("address", int(world.companies["address"][agency]))
    net.add("address", location)


def lawful_chain(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    owner = int(world.recruit(rng, 1, ("NL", "NL", "CN", "TR"), age=(35, 60))[0])
    owner_home = int(world.new_addresses(rng, 1)[0])
    home(world, owner, owner_home)
    manager = int(world.recruit(rng, 1, ("NL", "NL", "PL", "CN"), age=(28, 55))[0])
    ordinary_jobs(rng, world, act, manager)
    net.add("person", [owner, manager])
    net.add("address", owner_home)
    towns = rng.permutation(sorted(PERMIT_MUNICIPALITIES))[: v.count("salons", at_least=2)]
    for partner in towns.tolist():
        salon = company(rng, world, "massage", municipality=PERMIT_MUNICIPALITIES[partner], legal_form="BV",
                        registered=between(rng, day(2008), day(2020)))
        _officer(act, world, owner, salon)
        applied = between(rng, day(2016), day(2024, 6, 1))
        permit = act.add_permit(partner, "massagesalon", "verleend", "geen gevaar", applied,
                                applied + between(rng, 40, 120), premises=int(world.companies["address"][salon]),
                                holder_company=salon, managers=(manager,))
        n = v.count("staff", at_least=1)
        staff = world.recruit(rng, n, _MIXED, sex="F", age=(21, 50))
        start = between(rng, day(2021, 6, 1), day(2024, 6, 1), n)
        _lawful_pay(rng, world, act, staff, salon, start, ended(rng, start, 0.6, 200, 900),
                    hours=rng.uniform(0.5, 1.0, n), contract="onbepaalde tijd")
        permits_for_non_eu(rng, world, act, staff, sponsor=-1, sponsored=False, purpose="gezinshereniging",
                           start=start - 300, address=world.persons["address"][staff], years=(5, 5))
        net.add("company", salon)
        net.add("permit", permit)
        net.add("person", staff)
        net.add("address", int(world.companies["address"][salon]))


def au_pair_family(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = _town(rng, world)
    host = int(world.recruit(rng, 1, ("NL", "NL", "NL", "TR", "IN", "CN"), age=(32, 55))[0])
    spouse = relative(rng, world, host, age=(30, 55))
    family_home = int(world.new_addresses(rng, 1, town)[0])
    home(world, [host, spouse], family_home)
    ordinary_jobs(rng, world, act, spouse)
    net.add("person", [host, spouse])
    net.add("address", family_home)
    if v.chance("host_is_officer"):
        business = company(rng, world, str(rng.choice(["office", "it", "retail", "horeca"])), municipality=town,
                           legal_form=str(rng.choice(["BV", "Eenmanszaak"])), registered=between(rng, day(2005), day(2021)))
        _officer(act, world, host, business,
                 "eigenaar" if world.companies["legal_form"][business] == "Eenmanszaak" else "bestuurder")
        net.add("company", business)
        net.add("address", int(world.companies["address"][business]))
    else:
        ordinary_jobs(rng, world, act, host)
    n = v.count("au_pairs", at_least=1)
    au_pairs = world.recruit(rng, n, ("PH", "PH", "UA", "IN", "VN", "MA", "CN"), sex="F", age=(18, 28))
    arrival = between(rng, day(2022, 1, 15), day(2024, 6, 1)) + 370 * np.arange(n)  # one a year, never two at once
    arrival = np.minimum(arrival, WINDOW_END - 60)
    home(world, au_pairs, family_home, since=arrival)
    act.add_residence(world, au_pairs, rng.choice(world.au_pair_agencies), "uitwisseling", arrival, arrival + 365,
                      address=np.full(n, family_home))
    net.add("person", au_pairs)


def seasonal_farm(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = str(rng.choice(RURAL))
    farm = company(rng, world, "agri", municipality=town, legal_form=str(rng.choice(["BV", "VOF"])),
                   registered=between(rng, day(1990), day(2012)))
    director = int(world.recruit(rng, 1, ["NL"], age=(40, 65))[0])
    director_home = int(world.new_addresses(rng, 1, town)[0])
    home(world, director, director_home)
    _officer(act, world, director, farm, "bestuurder" if world.companies["legal_form"][farm] == "BV" else "vennoot")
    suspended = v.chance("suspended")  # benign is not spotless: a suspension for paperwork
    act.add_sponsors([farm], "geschorst" if suspended else "erkend", [between(rng, day(2014), day(2020))],
                     [between(rng, day(2023), day(2025, 6, 1)) if suspended else NO_DATE])
    k = v.count("workers", at_least=5)
    if v.chance("one_location"):  # one lawful housing location on the farm, all registered at one address
        units = world.new_addresses(rng, 1, town)
    else:  # a building of units, at most four to a unit
        units = world.new_building(rng, max(between(rng, 5, 9), -(-k // 4)), town, numbered=True)
    crew = world.recruit(rng, k, ("PL", "PL", "RO", "BG", "UA", "UA"), age=(19, 55))
    housing = units[np.arange(k) % units.size]
    home(world, crew, housing)
    earlier_jobs(rng, world, act, crew, day(2023, 3, 1))
    worked = np.zeros(k, dtype=bool)
    for season in (2023, 2024, 2025):
        here = (rng.random(k) < 0.75) | (~worked if season == 2025 else False)
        worked |= here
        n = int(here.sum())
        start = day(season, 4, 1) + between(rng, 0, 30, n)
        end = day(season, 10, 31) - between(rng, 0, 30, n)
        # Lawful, but close to the minimum and with long days in the season.
        _lawful_pay(rng, world, act, crew[here], farm, start, end, hours=rng.uniform(1.0, 1.25, n),
                    contract="bepaalde tijd", address=housing[here], factor=(1.0, 1.12))
        permits_for_non_eu(rng, world, act, crew[here], sponsor=farm, sponsored=True, purpose="seizoensarbeid",
                           start=day(season, 3, 15), address=housing[here], valid_to=day(season, 11, 15))
    net.add("company", farm)
    net.add("person", director)
    net.add("person", crew)
    net.add("address", [int(world.companies["address"][farm]), director_home])
    net.add("address", units)


def trust_office(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    office = int(world.new_addresses(rng, 1, str(rng.choice(["Amsterdam", "Rotterdam", "'s-Gravenhage", "Utrecht"])))[0])
    firm = company(rng, world, "accountancy", address=[office], legal_form="BV",
                   registered=between(rng, day(1990), day(2010)), employer_weight=5.0)
    directors = world.recruit(rng, v.count("directors", at_least=1), ["NL"], age=(40, 67))
    for director in directors.tolist():
        home(world, director, int(world.new_addresses(rng, 1)[0]))
        _officer(act, world, director, firm)
        net.add("address", int(world.persons["address"][director]))
    n = v.count("clients", at_least=2)
    # Mostly long-lived; a share wound up or started during the period, as clients come and go.
    short = v.share("short_lived", n)
    registered = np.where(short, between(rng, day(2021, 6, 1), day(2024, 6, 1), n), between(rng, day(1998), day(2019), n))
    dissolved = np.where(short & (rng.random(n) < 0.5), registered + between(rng, 300, 700, n), NO_DATE)
    dissolved = np.where(dissolved < WINDOW_END, dissolved, NO_DATE)
    clients = world.new_companies(rng, n, rng.choice(["office", "realestate", "it", "retail"], n), address=np.full(n, office),
                                  legal_form="BV", registered=registered, dissolved=dissolved, ordinary=False,
                                  employer_weight=0.5)
    # A trust-office director sits on each client's board; some clients have a director of their own too.
    act.add_officers(world, rng.choice(directors, n), clients, "bestuurder", registered, dissolved)
    own = rng.random(n) < 0.5
    owners = world.recruit(rng, int(own.sum()), ("NL", "NL", "TR", "PL", "CN", "IN"), age=(35, 70))
    act.add_officers(world, owners, clients[own], "bestuurder", registered[own], dissolved[own])
    net.add("address", office)
    net.add("company", firm)
    net.add("company", clients)
    net.add("person", directors)
    net.add("person", owners)


def shelter(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = _town(rng, world)
    foundation = company(rng, world, "shelter", municipality=town, legal_form="Stichting",
                         registered=between(rng, day(1985), day(2012)))
    site = int(world.companies["address"][foundation])
    chair = int(world.recruit(rng, 1, ["NL"], age=(40, 70))[0])
    _officer(act, world, chair, foundation)
    n_staff = v.count("staff", at_least=1)
    staff = world.recruit(rng, n_staff, ("NL", "NL", "NL", "MA", "TR"), age=(23, 62))
    _lawful_pay(rng, world, act, staff, foundation, np.full(n_staff, day(2020, 1, 1)) + between(rng, 0, 800, n_staff),
                np.full(n_staff, NO_DATE), hours=rng.uniform(0.5, 1.0, n_staff), contract="onbepaalde tijd",
                factor=(1.2, 1.8))
    n = v.count("residents", at_least=3)
    non_eu = v.share("non_eu_share", n)
    residents = np.empty(n, dtype=np.int64)
    residents[non_eu] = world.recruit(rng, int(non_eu.sum()), ("UA", "MA", "TR", "VN", "PH", "CN"), age=(18, 55))
    residents[~non_eu] = world.recruit(rng, int((~non_eu).sum()), ("NL", "NL", "PL", "RO", "BG"), age=(18, 60))
    # Each resident stays some months, registered at the shelter, then moves on.
    arrival = between(rng, day(2021, 10, 1), day(2025, 6, 1), n)
    leaving = arrival + between(rng, 90, 540, n)
    home(world, residents, site)
    home(world, residents, world.new_addresses(rng, n, addition_share=0.2), since=leaving)
    working = rng.random(n) < 0.6
    ordinary_jobs(rng, world, act, residents[working], start=arrival[working] + between(rng, 20, 120, int(working.sum())))
    permits_for_non_eu(rng, world, act, residents, sponsor=-1, sponsored=False, purpose="gezinshereniging",
                       start=arrival, address=site)
    net.add("company", foundation)
    net.add("address", site)
    net.add("person", [chair, *staff])
    net.add("person", residents)


def student_housing(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    municipality = str(rng.choice(_UNIVERSITY_TOWNS))
    rooms = world.new_building(rng, v.count("rooms", at_least=2), municipality, numbered=True)
    k = rooms.size
    students = world.recruit(rng, k, ("NL", "NL", "NL", "IN", "CN", "VN", "PL", "TR"), age=(18, 26))
    home(world, students, rooms)
    arrived = np.array([day(int(y), 8, 15) for y in rng.integers(2021, 2025, k)]) + between(rng, 0, 30, k)
    non_eu = ~world.is_eu(students)
    act.add_residence(world, students[non_eu], rng.choice(world.universities, int(non_eu.sum())), "studie",
                      arrived[non_eu], arrived[non_eu] + 365 * between(rng, 1, 5, int(non_eu.sum())),
                      address=rooms[non_eu])
    # Side jobs at ordinary employers, each student their own.
    c = world.companies
    shops = np.flatnonzero(c["ordinary"] & (c["employer_weight"] > 0) & np.isin(c["tag"], ["horeca", "retail"]))
    working = ~non_eu | (rng.random(k) < 0.6)  # a student with neither job nor permit is in no register
    who = students[working]
    n = who.size
    start = np.minimum(np.maximum(arrived[working] + between(rng, 20, 200, n), day(2022)), WINDOW_END - 40)
    _lawful_pay(rng, world, act, who, rng.choice(shops, n, replace=n > shops.size), start,
                ended(rng, start, 0.3, 60, 500), hours=rng.uniform(0.15, 0.4, n), contract="oproep",
                address=rooms[working], factor=(1.0, 1.25))
    net.add("address", rooms)
    net.add("person", students)


def hotel_chain(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    hotel = company(rng, world, "hotel", legal_form="BV", registered=between(rng, day(1990), day(2010)),
                    employer_weight=20.0)
    director = int(world.recruit(rng, 1, ["NL"], age=(45, 65))[0])
    director_home = int(world.new_addresses(rng, 1)[0])
    home(world, director, director_home)
    _officer(act, world, director, hotel)
    net.add("company", hotel)
    net.add("person", director)
    net.add("address", [int(world.companies["address"][hotel]), director_home])
    per_town = v.count("permits_per_town", at_least=1)
    for partner in sorted(PERMIT_MUNICIPALITIES):
        for _ in range(per_town):
            premises = int(world.new_addresses(rng, 1, PERMIT_MUNICIPALITIES[partner])[0])
            manager = int(world.recruit(rng, 1, ["NL", "NL", "NL", "TR", "MA", "PL"], age=(28, 60))[0])
            start = max(between(rng, day(2012), day(2024)), day(2022))
            earlier_jobs(rng, world, act, manager, start)
            _lawful_pay(rng, world, act, [manager], hotel, [start], [NO_DATE], hours=1.0, contract="onbepaalde tijd",
                        factor=(1.6, 2.6))
            applied = between(rng, day(2016), day(2025, 6, 1))
            bibob = "mindere mate" if rng.random() < 0.1 else "geen gevaar"
            permit = act.add_permit(partner, "horeca", "verleend", bibob, applied, applied + between(rng, 40, 120),
                                    premises=premises, holder_company=hotel, managers=(manager,))
            net.add("permit", permit)
            net.add("address", premises)
            net.add("person", manager)


def knowledge_migrant_employer(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = str(rng.choice(["Amsterdam", "Eindhoven", "Utrecht", "'s-Gravenhage", "Rotterdam", "Delft"]))
    firm = company(rng, world, "it", municipality=town, legal_form="BV", registered=between(rng, day(2000), day(2016)))
    director = int(world.recruit(rng, 1, ("NL", "NL", "IN"), age=(35, 60))[0])
    home(world, director, int(world.new_addresses(rng, 1, town)[0]))
    _officer(act, world, director, firm)
    act.add_sponsors([firm], "erkend", [between(rng, day(2012), day(2019))], [NO_DATE])
    n = v.count("migrants", at_least=2)
    migrants = world.recruit(rng, n, ("IN", "IN", "CN", "TR", "UA", "PH"), age=(24, 45))
    flats = world.new_addresses(rng, n, town, addition_share=0.4)
    arrival = between(rng, day(2022, 1, 15), day(2024, 9, 1), n)
    home(world, migrants, flats, since=arrival)
    act.add_residence(world, migrants, firm, "kennismigrant", arrival, arrival + 365 * between(rng, 3, 6, n),
                      address=flats)
    start = arrival + between(rng, 5, 25, n)
    changer = v.share("job_changers", n)
    end = np.where(changer, start + between(rng, 120, 400, n), NO_DATE)
    _lawful_pay(rng, world, act, migrants, firm, start, end, hours=1.0, contract="onbepaalde tijd", factor=(2.4, 3.5))
    # Lawful job mobility: a new employer takes them on under its own sponsorship.
    c = world.companies
    employers = np.flatnonzero(c["ordinary"] & (c["employer_weight"] > 0) & np.isin(c["tag"], ["it", "office", "care"])
                               & (c["dissolved"] == NO_DATE))
    movers = migrants[changer]
    if movers.size:
        moved = end[changer] + between(rng, 5, 40, movers.size)
        new_employer = rng.choice(employers, movers.size)
        _lawful_pay(rng, world, act, movers, new_employer, moved, np.full(movers.size, NO_DATE), hours=1.0,
                    contract="onbepaalde tijd", factor=(2.4, 3.5))
        act.add_residence(world, movers, new_employer, "kennismigrant", moved, moved + 365 * 3, address=flats[changer])
    net.add("person", director)
    net.add("person", migrants)
    net.add("company", firm)
    net.add("address", int(world.companies["address"][firm]))
    net.add("address", flats)


LOOKALIKES = {
    "legal_form_conversion": legal_form_conversion,
    "family_business": family_business,
    "youth_wage_employer": youth_wage_employer,
    "certified_agency_housing": certified_agency_housing,
    "lawful_chain": lawful_chain,
    "au_pair_family": au_pair_family,
    "seasonal_farm": seasonal_farm,
    "trust_office": trust_office,
    "shelter": shelter,
    "student_housing": student_housing,
    "hotel_chain": hotel_chain,
    "knowledge_migrant_employer": knowledge_migrant_employer,
}
# The planted typology each look-alike can be mistaken for.
LOOKALIKE_OF = {
    "legal_form_conversion": "agency_phoenix",
    "family_business": "beauty_salon",
    "youth_wage_employer": "beauty_salon",
    "certified_agency_housing": "logistics",
    "lawful_chain": "sexual_waterbed",
    "au_pair_family": "au_pair",
    "seasonal_farm": "agri_camp",
    "trust_office": "forced_criminality",
    "shelter": "forced_criminality",
    "student_housing": "logistics",
    "hotel_chain": "sexual_waterbed",
    "knowledge_migrant_employer": "sponsor_churn",
}
