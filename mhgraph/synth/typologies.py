"""The planted exploitation typologies, written from the field reports (Nationaal Rapporteur
Mensenhandel, Nederlandse Arbeidsinspectie) rather than from the indicators.

Each builder takes a :class:`~mhgraph.synth.variants.Variant` whose draws set how strongly
the network shows (``data/variants.toml``), and the origin of its exploited workers: ``eu``
(no IND record at all) or ``non_eu`` (residence permits, some sponsored). Equally exploited
networks of both origins are built by the same code with the same draws, so that a fairness
measurement compares like with like. No partner sees a whole network; what is left to see at
each strength is described in ``docs/evaluation.md``.

* ``agency_phoenix`` — a temp agency run by a straw director houses its workers in the
  owner's property; it is wound up and succeeded by agencies at the same (or a nearby)
  address with the same trade, taking over part of the staff, each with a straw director
  (the classic phoenix: a NEW straw officer; sometimes the old one stays). Pay below the
  minimum, or at the minimum for few declared hours.
* ``au_pair`` — exchange-permit holders (``uitwisseling``, sponsored by an au-pair agency)
  registered at the host's home and put to work in the host's business, on its payroll far
  under the minimum or at the minimum for a few hours.
* ``beauty_salon`` — nail, beauty or massage salons whose young staff live at the salon or
  with the owner and are paid under the (youth) minimum for their age.
* ``agri_camp`` — a grower houses workers in a camp at the farm or nearby, pays them (or
  through a letterbox agency at the farm) below the minimum, some off the books.
* ``logistics`` — a distribution firm's workers are on the payroll of a company at the
  director's home and housed by a landlord company of the director or a relative; they are
  replaced every few months.
* ``construction_chain`` — a subcontractor hires through short-lived sub-subcontractors with
  straw directors that hand the workers on to each other.
* ``forced_criminality`` — victims registered at an address the operator controls have
  companies put in their name (katvangers) and a few hours on the operator's payroll.
* ``sexual_waterbed`` — an operator refused a permit in one municipality carries on in the
  next through a straw director linked to him by one or more addresses and persons, no longer
  appearing as manager.
* ``sponsor_churn`` — a recognised sponsor brings in labour migrants who leave its payroll
  within months and reappear at a firm linked to its director.

>>> from mhgraph.synth.population import build_population
>>> from mhgraph.synth.variants import parameter_ranges
>>> from mhgraph.synth.networks import Network
>>> rng = np.random.default_rng(4)
>>> world = build_population(rng, 1500)
>>> act = Activity()
>>> net = Network("N1", "planted", "agency_phoenix", strength="weak", origin="eu")
>>> agency_phoenix(rng, world, act, net, Variant(rng, parameter_ranges()["planted"]["agency_phoenix"], "weak"))
>>> act.residence.size, act.employments.size > 0   # an EU crew leaves no IND record, only payroll rows
(0, True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mhgraph.synth.activity import PERMIT_MUNICIPALITIES, Activity
from mhgraph.synth.population import NO_DATE, WINDOW_END, World, day
from mhgraph.synth.roles import (
    between,
    company,
    earlier_jobs,
    ended,
    home,
    housing,
    ordinary_jobs,
    other_directorship,
    pay,
    permits_for_non_eu,
    relative,
    straw_persons,
    workers,
)
from mhgraph.synth.variants import Variant

if TYPE_CHECKING:
    from mhgraph.synth.networks import Network

__all__ = ["BOTH_ORIGINS", "TYPOLOGIES"]

RURAL = ("Westland", "Venlo", "Horst aan de Maas", "Venray", "Someren", "Emmen", "Zaanstad", "Breda", "Oss")
INDUSTRIAL = ("Venlo", "Tilburg", "Zaanstad", "Rotterdam", "Breda", "Oss", "Almere", "Dordrecht", "Venray",
              "Westland", "'s-Hertogenbosch", "Emmen")
_OWNERS = ("NL", "NL", "PL", "TR", "RO", "MA")


def _registered(world: World, index) -> int:
    return int(world.companies["registered"][index])


def _address_of(world: World, index) -> int:
    return int(world.companies["address"][index])


def _sponsor(act: Activity, company: int, since: int) -> None:
    act.add_sponsors([company], "erkend", [since], [NO_DATE])


def _short_lived_elsewhere(rng, world: World, act: Activity, person: int, n: int) -> list[int]:
    """``n`` short-lived companies elsewhere with ``person`` as their director."""
    out = []
    for _ in range(n):
        start = between(rng, day(2021, 6, 1), day(2025, 3, 1))
        tag = str(rng.choice(["cleaning", "construction", "retail", "transport", "horeca"]))
        target = company(rng, world, tag, legal_form="BV", registered=start, dissolved=start + between(rng, 120, 420))
        act.add_officers(world, [person], [target], ["bestuurder"], [start], [world.companies["dissolved"][target]])
        out.append(target)
    return out


def _hand_on(rng, crew: np.ndarray, first: int, movers: int, companies: int) -> list[np.ndarray]:
    """Who works at each company of a chain: a first staff, then at each successor ``movers``
    of the previous staff and a share of the crew not yet taken on."""
    pool = list(crew[first:])
    staff = crew[:first]
    out = [staff]
    for remaining in range(companies - 1, 0, -1):
        stay = rng.permutation(staff)[: min(movers, staff.size)]
        take = -(-len(pool) // remaining)
        staff = np.concatenate([stay, np.asarray(pool[:take], dtype=np.int64)])
        pool = pool[take:]
        out.append(staff)
    return out


def _chain_of_companies(rng, world: World, act: Activity, v: Variant, *, tag: str, first_site: int,
                        town: str, registered: int, companies: int, life: tuple[int, int],
                        gap: int, trade_name_kept: bool) -> tuple[list[int], list[int], list[int]]:
    """Companies that succeed each other: each wound up after ``life`` days and followed
    ``gap`` days later (or a little earlier) by the next, at the same address with the chance
    ``same_address``, under a straw director who stays with the chance ``same_officer``.
    Returns the companies, their straw directors (one per company) and the addresses used."""
    same_address, same_officer = v.value("same_address"), v.value("same_officer")
    chain, straws, sites = [], [], []
    site, straw, trade_name = first_site, -1, None
    for i in range(companies):
        dissolved = registered + between(rng, *life)
        last = i == companies - 1 or dissolved + gap >= WINDOW_END - 120
        if i and rng.random() >= same_address:
            site = int(world.new_addresses(rng, 1, town)[0])
        target = company(rng, world, tag, address=[site], legal_form="BV", registered=registered,
                         dissolved=NO_DATE if last else dissolved, trade_name=trade_name)
        if i == 0 and trade_name_kept:
            trade_name = world.companies["trade_name"][target]
        if i == 0 or rng.random() >= same_officer:
            straw = int(straw_persons(rng, world, 1)[0])
        act.add_officers(world, [straw], [target], ["bestuurder"], [registered],
                         [world.companies["dissolved"][target]])
        chain.append(target)
        straws.append(straw)
        sites.append(site)
        if last:
            break
        registered = dissolved + gap - between(rng, 0, 40)
    return chain, straws, sites


def _straw_homes(rng, world: World, straws, near: int, share_near: float = 0.25) -> list[int]:
    """Straw directors live on their own, or (a share) at the organiser's address."""
    homes = []
    for straw in dict.fromkeys(straws):
        address = near if rng.random() < share_near else int(world.new_addresses(rng, 1)[0])
        home(world, straw, address)
        homes.append(address)
    return homes


def _employ_chain(rng, world: World, act: Activity, v: Variant, chain, staff_per_company, crew, housed,
                  old_home, *, contract: str) -> np.ndarray:
    """Pay each company's staff from its registration (or the worker's arrival) to its end;
    returns each crew member's arrival day."""
    underpaid = v.share("underpaid_share", crew.size)
    wage_factor, hours = v.value("wage_factor"), v.value("declared_hours")
    shows_housing = v.share("payroll_shows_housing", crew.size)
    position = {int(p): i for i, p in enumerate(crew)}
    arrival = np.full(crew.size, NO_DATE, dtype=np.int64)
    for target, staff in zip(chain, staff_per_company):
        if staff.size == 0:
            continue
        rows = np.array([position[int(p)] for p in staff])
        opened = _registered(world, target)
        if opened < day(2021):  # an older company takes this crew on during the period
            opened = day(2021, 9, 1) + between(rng, 0, 300)
        new = arrival[rows] == NO_DATE
        arrival[rows[new]] = opened - between(rng, 10, 60, int(new.sum()))
        start = np.maximum(opened, arrival[rows]) + between(rng, 0, 15, rows.size)
        closed = int(world.companies["dissolved"][target])
        end = ended(rng, start, 0.5, 200, 700) if closed == NO_DATE else np.full(rows.size, closed)
        pay(rng, world, act, staff, target, start, end, underpaid=underpaid[rows], wage_factor=wage_factor,
            declared_hours=hours, contract=contract,
            address=np.where(shows_housing[rows], housed[rows], old_home[rows]))
    return arrival


def agency_phoenix(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = str(rng.choice(INDUSTRIAL))
    boss = int(world.recruit(rng, 1, _OWNERS, age=(32, 60))[0])
    boss_home = int(world.new_addresses(rng, 1, town)[0])
    home(world, boss, boss_home)
    other_directorship(rng, world, act, boss)
    k = v.count("workers", at_least=2)
    crew = workers(rng, world, k, net.origin, age=(19, 50))
    old_home = world.persons["address"][crew].copy()
    housed = housing(rng, world, k, v.count("per_address", 1), town)
    landlord = company(rng, world, "realestate", address=[int(housed[0])], legal_form="BV",
                       registered=between(rng, day(2008), day(2020)))
    act.add_officers(world, [boss, boss], [landlord, landlord], ["bestuurder", "enig aandeelhouder"],
                     [_registered(world, landlord)] * 2, [NO_DATE, NO_DATE])
    companies = 1 + v.count("successors")
    movers = v.count("movers")
    chain, straws, sites = _chain_of_companies(
        rng, world, act, v, tag="temp", first_site=int(world.new_addresses(rng, 1, town)[0]), town=town,
        registered=between(rng, day(2021, 6, 1), day(2022, 9, 1)), companies=companies, life=(200, 520),
        gap=v.count("gap_days"), trade_name_kept=rng.random() < 0.5)
    staff = _hand_on(rng, crew, max(min(k, movers + 1), -(-k // len(chain))), movers, len(chain))
    arrival = _employ_chain(rng, world, act, v, chain, staff, crew, housed, old_home, contract="uitzend")
    home(world, crew, housed, since=arrival)
    earlier_jobs(rng, world, act, crew, arrival)
    others = []
    seats = v.count("straw_other_seats")
    for straw in dict.fromkeys(straws):
        others += _short_lived_elsewhere(rng, world, act, straw, seats)
    straw_homes = _straw_homes(rng, world, straws, boss_home)
    recognised = _registered(world, chain[0]) + between(rng, 20, 90)
    sponsored = v.share("sponsored", k)
    if (sponsored & ~world.is_eu(crew)).any():
        _sponsor(act, chain[0], recognised)
    permits_for_non_eu(rng, world, act, crew, sponsor=chain[0], sponsored=sponsored, purpose="arbeid",
                       start=np.maximum(arrival - between(rng, 5, 40, k), recognised + 1), address=housed)
    net.add("person", [boss, *straws])
    net.add("person", crew)
    net.add("company", [landlord, *chain, *others])
    net.add("address", [boss_home, *sites, *straw_homes])
    net.add("address", housed)


def au_pair(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = str(rng.choice(world.vocab.municipalities.name))
    host = int(world.recruit(rng, 1, ("NL", "NL", "TR", "MA", "CN", "PL"), age=(30, 55))[0])
    spouse = relative(rng, world, host, age=(28, 55))
    host_home = int(world.new_addresses(rng, 1, town)[0])
    home(world, [host, spouse], host_home)
    at_home = v.chance("business_at_home")
    form = str(rng.choice(["Eenmanszaak", "BV"]))
    business = company(rng, world, str(rng.choice(["horeca", "beauty", "cleaning", "retail"])), legal_form=form,
                       address=[host_home] if at_home else None, municipality=town,
                       registered=between(rng, day(2010), day(2021)))
    act.add_officers(world, [host], [business], ["eigenaar" if form == "Eenmanszaak" else "bestuurder"],
                     [_registered(world, business)], [NO_DATE])
    n = v.count("au_pairs", at_least=1)
    au_pairs = world.recruit(rng, n, ("PH", "PH", "UA", "IN", "VN", "MA", "CN"), sex="F", age=(18, 28))
    # One after the other, overlapping when the host keeps more than one at a time.
    first = between(rng, day(2022, 1, 15), day(2024, 3, 1))
    arrival = first + np.cumsum(np.concatenate([[0], between(rng, 150, 380, n - 1)])).astype(np.int64)
    arrival = np.minimum(arrival, WINDOW_END - 120)
    home(world, au_pairs, host_home, since=arrival)
    act.add_residence(world, au_pairs, rng.choice(world.au_pair_agencies), "uitwisseling", arrival, arrival + 365,
                      address=np.full(n, host_home))
    on_payroll = v.share("on_payroll", n, at_least=1)
    wage_factor, hours = v.value("wage_factor"), v.value("declared_hours")
    start = arrival[on_payroll] + between(rng, 10, 60, int(on_payroll.sum()))
    pay(rng, world, act, au_pairs[on_payroll], business, start, np.minimum(arrival[on_payroll] + 365, WINDOW_END - 1),
        underpaid=np.ones(int(on_payroll.sum()), dtype=bool), wage_factor=wage_factor, declared_hours=hours,
        contract="oproep", address=np.full(int(on_payroll.sum()), host_home))
    staff_n = v.count("low_paid_staff")
    staff = workers(rng, world, staff_n, "eu" if rng.random() < 0.5 else "non_eu", age=(18, 40)) if staff_n else \
        np.empty(0, dtype=np.int64)
    if staff_n:
        start = between(rng, day(2022, 3, 1), day(2025, 3, 1), staff_n)
        earlier_jobs(rng, world, act, staff, start)
        pay(rng, world, act, staff, business, start, ended(rng, start, 0.5, 120, 600),
            underpaid=np.ones(staff_n, dtype=bool), wage_factor=wage_factor, declared_hours=hours, contract="oproep")
        permits_for_non_eu(rng, world, act, staff, sponsor=-1, sponsored=False, purpose="arbeid", start=start - 30,
                           address=world.persons["address"][staff])
    net.add("person", [host, spouse])
    net.add("person", au_pairs)
    net.add("person", staff)
    net.add("company", business)
    net.add("address", [host_home, _address_of(world, business)])


def beauty_salon(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    massage = rng.random() < 0.5
    tag = "massage" if massage else "beauty"
    towns = list(PERMIT_MUNICIPALITIES.items())
    order = rng.permutation(len(towns))
    partner, town = towns[order[0]] if massage else (None, str(rng.choice(world.vocab.municipalities.name)))
    owner_nat = None if rng.random() < 0.4 else ("NL", "NL", "TR")
    owner = int(workers(rng, world, 1, net.origin, age=(28, 55), nationalities=owner_nat)[0])
    owner_home = int(world.new_addresses(rng, 1, town)[0])
    home(world, owner, owner_home)
    k = v.count("workers", at_least=1)
    young = rng.random(k) < rng.uniform(0.3, 0.9)
    crew = np.empty(k, dtype=np.int64)
    if young.any():
        crew[young] = workers(rng, world, int(young.sum()), net.origin, sex="F", age=(16, 20))
    if (~young).any():
        crew[~young] = workers(rng, world, int((~young).sum()), net.origin, sex="F", age=(21, 35))
    underpaid = v.share("underpaid_share", k)
    wage_factor, hours = v.value("wage_factor"), v.value("declared_hours")
    live_here = v.share("live_at_salon", k)
    sponsored = v.share("sponsored", k)
    salons = 1 + v.chance("second_salon")
    members_c, members_a, permits = [], [owner_home], []
    for i in range(salons):
        if i:
            partner, town = towns[order[1]] if massage else (None, str(rng.choice(world.vocab.municipalities.name)))
        form = "Eenmanszaak" if rng.random() < 0.6 else "BV"
        salon = company(rng, world, tag, municipality=town, legal_form=form, registered=between(rng, day(2016), day(2023)))
        act.add_officers(world, [owner], [salon], ["eigenaar" if form == "Eenmanszaak" else "bestuurder"],
                         [_registered(world, salon)], [NO_DATE])
        premises = _address_of(world, salon)
        if partner is not None:
            applied = max(_registered(world, salon) + between(rng, 10, 90), day(2021, 6, 1))
            permits.append(act.add_permit(partner, "massagesalon", "verleend",
                                          str(rng.choice(["geen gevaar", "geen gevaar", "mindere mate"])),
                                          applied, applied + between(rng, 40, 120), premises=premises,
                                          holder_company=salon if form == "BV" else -1,
                                          holder_person=owner if form == "Eenmanszaak" else -1, managers=(owner,)))
        rows = np.flatnonzero(np.arange(k) % salons == i)
        start = np.maximum(between(rng, day(2022, 1, 1), day(2024, 9, 1), rows.size), _registered(world, salon) + 20)
        start = np.maximum(start, world.persons["birth"][crew[rows]] + 16 * 366)  # nobody starts before 16
        housed = np.where(live_here[rows], premises, owner_home)
        home(world, crew[rows], housed, since=start - between(rng, 5, 30, rows.size))
        pay(rng, world, act, crew[rows], salon, start, ended(rng, start, 0.5, 150, 700), underpaid=underpaid[rows],
            wage_factor=wage_factor, declared_hours=hours, contract="oproep", address=housed)
        if sponsored[rows].any():
            _sponsor(act, salon, _registered(world, salon) + 30)
        permits_for_non_eu(rng, world, act, crew[rows], sponsor=salon, sponsored=sponsored[rows], purpose="arbeid",
                           start=start - between(rng, 10, 60, rows.size), address=housed)
        members_c.append(salon)
        members_a.append(premises)
    earlier_jobs(rng, world, act, crew[~young], day(2022, 6, 1), share=0.3)
    net.add("person", owner)
    net.add("person", crew)
    net.add("company", members_c)
    net.add("address", members_a)
    net.add("permit", permits)


def agri_camp(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = str(rng.choice(RURAL))
    grower = company(rng, world, "agri", municipality=town, legal_form=str(rng.choice(["BV", "VOF"])),
                     registered=between(rng, day(1995), day(2016)))
    owner = int(world.recruit(rng, 1, ("NL", "NL", "NL", "PL"), age=(38, 65))[0])
    owner_home = int(world.new_addresses(rng, 1, town)[0])
    home(world, owner, owner_home)
    role = "bestuurder" if world.companies["legal_form"][grower] == "BV" else "vennoot"
    act.add_officers(world, [owner], [grower], [role], [_registered(world, grower)], [NO_DATE])
    farm = _address_of(world, grower)
    employer, kin = grower, None
    if v.chance("via_agency"):  # a letterbox agency at the farm, run by a relative
        kin = relative(rng, world, owner, age=(22, 60))
        home(world, kin, farm)
        employer = company(rng, world, "temp", address=[farm], legal_form="BV",
                           registered=between(rng, day(2019), day(2022, 6, 1)))
        act.add_officers(world, [kin], [employer], ["bestuurder"], [_registered(world, employer)], [NO_DATE])
    k = v.count("workers", at_least=3)
    per_address = v.count("per_address", 1)
    crew = workers(rng, world, k, net.origin, age=(19, 55))
    old_home = world.persons["address"][crew].copy()
    camp = housing(rng, world, k, per_address, town, numbered=True)
    if v.chance("live_at_farm"):
        camp[:per_address] = farm  # the first unit is the farm itself
    underpaid = v.share("underpaid_share", k)
    off_books = v.share("off_books", k)
    shows_housing = v.share("payroll_shows_housing", k)
    wage_factor, hours = v.value("wage_factor"), v.value("declared_hours")
    seasons = [season for season in (2022, 2023, 2024, 2025) if rng.random() < 0.7] or [2024]
    arrival = np.full(k, day(seasons[0], 3, 15)) + between(rng, 0, 30, k)
    home(world, crew, camp, since=arrival)
    earlier_jobs(rng, world, act, crew, arrival, share=0.3)
    non_eu = ~world.is_eu(crew)
    if non_eu.any():
        _sponsor(act, grower, between(rng, day(2015), day(2021)))
    for season in seasons:
        start = np.maximum(day(season, 4, 1) + between(rng, 0, 30, k), arrival)
        end = day(season, 10, 31) - between(rng, 0, 30, k)
        # Off the books: a non-EU worker is on no payroll, an EU worker on one for a token few hours.
        on = ~(off_books & non_eu)
        declared = np.where(off_books, 0.08, hours)[on]
        pay(rng, world, act, crew[on], employer, start[on], end[on], underpaid=underpaid[on],
            wage_factor=wage_factor, declared_hours=declared, contract="bepaalde tijd",
            address=np.where(shows_housing, camp, old_home)[on])
        permits_for_non_eu(rng, world, act, crew, sponsor=grower, sponsored=True, purpose="seizoensarbeid",
                           start=np.full(k, day(season, 3, 15)), address=camp, valid_to=day(season, 11, 15))
    net.add("person", [owner] + ([kin] if kin is not None else []))
    net.add("person", crew)
    net.add("company", [grower, employer])
    net.add("address", [farm, owner_home])
    net.add("address", camp)


def logistics(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = str(rng.choice(INDUSTRIAL))
    director = int(world.recruit(rng, 1, _OWNERS, age=(35, 62))[0])
    kin = relative(rng, world, director, age=(25, 60))
    director_home = int(world.new_addresses(rng, 1, town)[0])
    home(world, [director, kin], director_home)
    other_directorship(rng, world, act, director)
    depot = company(rng, world, "transport", municipality=town, legal_form="BV",
                    registered=between(rng, day(2005), day(2019)))
    at_home = v.chance("payroll_at_home")
    payroller = company(rng, world, "temp", address=[director_home] if at_home else None, municipality=town,
                        legal_form="BV", registered=between(rng, day(2019), day(2022)))
    k = v.count("workers", at_least=2)
    crew = workers(rng, world, k, net.origin, age=(19, 50))
    old_home = world.persons["address"][crew].copy()
    housed = housing(rng, world, k, v.count("per_address", 1), town)
    landlord = company(rng, world, "realestate", address=[int(housed[0])], legal_form="BV",
                       registered=between(rng, day(2008), day(2020)))
    landlord_officer = director if v.chance("landlord_is_director") else kin
    act.add_officers(world, [director, kin, landlord_officer], [depot, payroller, landlord], "bestuurder",
                     [_registered(world, c) for c in (depot, payroller, landlord)], [NO_DATE] * 3)
    # Staggered arrivals; each stays a few months on the payroll before the next one comes.
    arrival = np.sort(between(rng, max(_registered(world, payroller), day(2022, 2, 1)), day(2025, 6, 1), k))
    home(world, crew, housed, since=arrival)
    earlier_jobs(rng, world, act, crew, arrival)
    start = arrival + between(rng, 5, 20, k)
    end = np.minimum(start + (v.value("months") * 30.4 * rng.uniform(0.7, 1.3, k)).astype(np.int64), WINDOW_END - 1)
    underpaid = v.share("underpaid_share", k)
    shows_housing = v.share("payroll_shows_housing", k)
    pay(rng, world, act, crew, payroller, start, end, underpaid=underpaid, wage_factor=v.value("wage_factor"),
        declared_hours=v.value("declared_hours"), contract="uitzend",
        address=np.where(shows_housing, housed, old_home))
    sponsored = v.share("sponsored", k)
    if (sponsored & ~world.is_eu(crew)).any():
        _sponsor(act, payroller, _registered(world, payroller) + between(rng, 20, 120))
    permits_for_non_eu(rng, world, act, crew, sponsor=payroller, sponsored=sponsored, purpose="arbeid",
                       start=arrival - between(rng, 5, 30, k), address=housed)
    net.add("person", [director, kin])
    net.add("person", crew)
    net.add("company", [depot, payroller, landlord])
    net.add("address", [director_home, _address_of(world, depot), _address_of(world, payroller)])
    net.add("address", housed)


def construction_chain(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = str(rng.choice(world.vocab.municipalities.name))
    organiser = int(world.recruit(rng, 1, _OWNERS, age=(35, 60))[0])
    organiser_home = int(world.new_addresses(rng, 1, town)[0])
    home(world, organiser, organiser_home)
    other_directorship(rng, world, act, organiser)
    main = company(rng, world, "construction", municipality=town, legal_form="BV",
                   registered=between(rng, day(2010), day(2020)))
    act.add_officers(world, [organiser], [main], ["bestuurder"], [_registered(world, main)], [NO_DATE])
    k = v.count("workers", at_least=3)
    crew = workers(rng, world, k, net.origin, age=(20, 55))
    old_home = world.persons["address"][crew].copy()
    housed = housing(rng, world, k, v.count("per_address", 1), town)
    days = v.count("sub_days")
    movers = v.count("movers")
    chain, straws, sites = _chain_of_companies(
        rng, world, act, v, tag="construction", first_site=_address_of(world, main), town=town,
        registered=between(rng, day(2021, 6, 1), day(2022, 9, 1)), companies=v.count("subs", at_least=1),
        life=(int(days * 0.8), int(days * 1.2) + 1), gap=between(rng, 0, 60), trade_name_kept=False)
    direct = max(1, k // 4)  # some are on the main subcontractor's own payroll
    staff = [crew[:direct]] + _hand_on(rng, crew[direct:], max(min(k - direct, movers + 1), -(-(k - direct) // len(chain))),
                                       movers, len(chain))
    arrival = _employ_chain(rng, world, act, v, [main, *chain], staff, crew, housed, old_home, contract="bepaalde tijd")
    home(world, crew, housed, since=arrival)
    earlier_jobs(rng, world, act, crew, arrival)
    others = []
    seats = v.count("straw_other_seats")
    for straw in dict.fromkeys(straws):
        others += _short_lived_elsewhere(rng, world, act, straw, seats)
    straw_homes = _straw_homes(rng, world, straws, organiser_home)
    sponsored = v.share("sponsored", k)
    recognised = between(rng, day(2016), day(2021))
    if (sponsored & ~world.is_eu(crew)).any():
        _sponsor(act, main, recognised)
    permits_for_non_eu(rng, world, act, crew, sponsor=main, sponsored=sponsored, purpose="arbeid",
                       start=np.maximum(arrival - between(rng, 5, 40, k), recognised + 1), address=housed)
    net.add("person", [organiser, *straws])
    net.add("person", crew)
    net.add("company", [main, *chain, *others])
    net.add("address", [organiser_home, *sites, *straw_homes])
    net.add("address", housed)


_VICTIMS = {"eu": ("NL", "NL", "RO", "BG", "PL", "HU"), "non_eu": ("MA", "VN", "VN", "TR", "UA")}


def forced_criminality(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = str(rng.choice(world.vocab.municipalities.name))
    operator = int(world.recruit(rng, 1, ("NL", "NL", "MA", "TR", "RO", "BG"), age=(25, 50))[0])
    operator_home = int(world.new_addresses(rng, 1, town)[0])
    home(world, operator, operator_home)
    front = company(rng, world, str(rng.choice(["horeca", "cleaning", "retail", "transport"])), municipality=town,
                    legal_form="BV", registered=between(rng, day(2014), day(2021)))
    act.add_officers(world, [operator], [front], ["bestuurder"], [_registered(world, front)], [NO_DATE])
    stash = int(world.new_addresses(rng, 1, town)[0])  # the house the victims are registered at
    n = v.count("victims", at_least=1)
    victims = workers(rng, world, n, net.origin, age=(18, 30), nationalities=_VICTIMS[net.origin])
    arrival = between(rng, day(2022, 2, 1), day(2024, 6, 1), n)
    home(world, victims, stash, since=arrival)
    seats, days, shared = v.count("seats", at_least=1), v.count("company_days"), v.value("shared_seat_address")
    fronts = []
    for victim, came in zip(victims.tolist(), arrival.tolist()):
        opened = came + between(rng, 20, 90)
        for _ in range(seats):
            if opened >= WINDOW_END - 100:
                break
            form = "Eenmanszaak" if rng.random() < 0.5 else "BV"
            closed = opened + int(days * rng.uniform(0.7, 1.3))
            target = company(rng, world, str(rng.choice(["cleaning", "transport", "retail", "construction", "horeca"])),
                             address=[stash] if rng.random() < shared else None, municipality=town, legal_form=form,
                             registered=opened, dissolved=closed if closed < WINDOW_END else NO_DATE)
            act.add_officers(world, [victim], [target], ["eigenaar" if form == "Eenmanszaak" else "bestuurder"],
                             [opened], [world.companies["dissolved"][target]])
            fronts.append(target)
            opened += between(rng, 60, 240)
    on_payroll = v.share("on_payroll", n, at_least=1)  # a few hours for at least one, to open a bank account
    if on_payroll.any():
        start = arrival[on_payroll] + between(rng, 10, 60, int(on_payroll.sum()))
        pay(rng, world, act, victims[on_payroll], front, start, start + between(rng, 60, 300, int(on_payroll.sum())),
            underpaid=np.ones(int(on_payroll.sum()), dtype=bool), wage_factor=v.value("wage_factor"),
            declared_hours=0.15, contract="oproep")
    permits_for_non_eu(rng, world, act, victims, sponsor=-1, sponsored=False, purpose="gezinshereniging",
                       start=arrival - between(rng, 10, 60, n), address=stash)
    net.add("person", operator)
    net.add("person", victims)
    net.add("company", [front, *fronts])
    net.add("address", [operator_home, stash, _address_of(world, front)])


def _moving_link(rng, world: World, act: Activity, before: int, after: int) -> int:
    """A person registered first at ``before`` and then at ``after``, both stated on the
    payroll of an ordinary job that spans the move: one more hop between two addresses."""
    person = int(world.recruit(rng, 1, ("NL", "NL", "RO", "BG", "TR", "PL"), age=(20, 50))[0])
    home(world, person, before)
    home(world, person, after, since=between(rng, day(2023, 3, 1), day(2024, 3, 1)))
    ordinary_jobs(rng, world, act, person, start=day(2022, 1, 1) + between(rng, 0, 60, 1))
    return person


def sexual_waterbed(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    refused_in, new_in, third_in = rng.permutation(sorted(PERMIT_MUNICIPALITIES)).tolist()
    type_ = str(rng.choice(["massagesalon", "seksinrichting"]))
    tag = "massage" if type_ == "massagesalon" else "sex"
    operator = int(world.recruit(rng, 1, ("NL", "NL", "TR", "RO", "BG", "MA"), age=(30, 60))[0])
    operator_home = int(world.new_addresses(rng, 1)[0])
    home(world, operator, operator_home)
    other_directorship(rng, world, act, operator)
    # The first business, refused a permit (or stripped of it) after a Bibob "ernstige mate".
    first = company(rng, world, tag, municipality=PERMIT_MUNICIPALITIES[refused_in], legal_form="BV",
                    registered=between(rng, day(2018), day(2021, 9, 1)))
    applied = between(rng, day(2021, 10, 1), day(2023, 3, 1))
    decided = applied + between(rng, 60, 120)
    world.companies.set("dissolved", first, decided + between(rng, 120, 400))
    act.add_officers(world, [operator], [first], ["bestuurder"], [_registered(world, first)],
                     [world.companies["dissolved"][first]])
    status = "geweigerd" if rng.random() < 0.6 else "ingetrokken"
    refusal = act.add_permit(refused_in, type_, status, "ernstige mate", applied, decided,
                             premises=_address_of(world, first), holder_company=first, managers=(operator,))
    # The link to the new business: a straw director at the operator's address, or further away
    # through persons who moved from one address to the next.
    hops = v.count("extra_hops")
    chain, addresses, at = [], [], operator_home
    for _ in range(hops):
        nxt = int(world.new_addresses(rng, 1)[0])
        chain.append(_moving_link(rng, world, act, at, nxt))
        addresses.append(nxt)
        at = nxt
    straw = int(straw_persons(rng, world, 1, ("NL", "RO", "BG", "HU"))[0])
    home(world, straw, at)
    gap = v.count("gap_days")
    reapplied = min(decided + gap, WINDOW_END - 150)
    registered = reapplied - between(rng, 20, 60)
    second = company(rng, world, tag, municipality=PERMIT_MUNICIPALITIES[new_in], legal_form="BV", registered=registered)
    act.add_officers(world, [straw], [second], ["bestuurder"], [registered], [NO_DATE])
    if v.chance("operator_visible"):
        act.add_officers(world, [operator], [second], ["gevolmachtigde"], [registered], [NO_DATE])
    manager = int(world.recruit(rng, 1, None, age=(25, 50))[0])
    premises = _address_of(world, second)
    granted = act.add_permit(new_in, type_, "verleend", str(rng.choice(["geen gevaar", "mindere mate"])), reapplied,
                             reapplied + between(rng, 40, 100), premises=premises, holder_company=second,
                             managers=(manager,))
    n = v.count("workers", at_least=1)
    crew = workers(rng, world, n, net.origin, sex="F", age=(19, 32),
                   nationalities=("RO", "BG", "HU", "NL", "PL") if net.origin == "eu" else ("UA", "CN", "PH", "MA"))
    holder = int(straw_persons(rng, world, 1, ("NL", "RO", "BG", "PL"))[0])
    permits = [refusal, granted]
    extra_address = []
    if v.chance("third_permit"):
        third_premises = int(world.new_addresses(rng, 1, PERMIT_MUNICIPALITIES[third_in])[0])
        applied = min(reapplied + between(rng, 90, 400), WINDOW_END - 120)
        permits.append(act.add_permit(third_in, str(rng.choice(["escortbedrijf", type_])), "verleend", "geen gevaar",
                                      applied, applied + between(rng, 40, 100), premises=third_premises,
                                      holder_person=holder, managers=(manager,)))
        extra_address.append(third_premises)
    flat = int(world.new_addresses(rng, 1, PERMIT_MUNICIPALITIES[new_in])[0])
    staff = np.concatenate([crew, [holder]])
    start = registered + between(rng, 20, 150, staff.size)
    housed = np.where(v.share("live_at_premises", staff.size), premises, flat)
    home(world, crew, housed[:n], since=start[:n] - between(rng, 3, 20, n))
    earlier_jobs(rng, world, act, staff, start, share=0.3)
    pay(rng, world, act, staff, second, start, ended(rng, start, 0.5, 90, 500), underpaid=v.share("underpaid_share", staff.size),
        wage_factor=v.value("wage_factor"), declared_hours=v.value("declared_hours"), contract="oproep", address=housed)
    permits_for_non_eu(rng, world, act, crew, sponsor=-1, sponsored=False, purpose="gezinshereniging",
                       start=start[:n] - between(rng, 10, 60, n), address=housed[:n])
    net.add("person", [operator, *chain, straw, manager, holder])
    net.add("person", crew)
    net.add("company", [first, second])
    net.add("permit", permits)
    net.add("address", [operator_home, *addresses, _address_of(world, first), premises, flat, *extra_address])


def sponsor_churn(rng, world: World, act: Activity, net: Network, v: Variant) -> None:
    town = str(rng.choice(world.vocab.municipalities.name))
    director = int(world.recruit(rng, 1, ("NL", "NL", "TR", "IN", "CN", "MA"), age=(35, 62))[0])
    director_home = int(world.new_addresses(rng, 1, town)[0])
    home(world, director, director_home)
    tag = str(rng.choice(["it", "office", "food", "transport", "agri"]))
    sponsor = company(rng, world, tag, municipality=town, legal_form="BV", registered=between(rng, day(2008), day(2019)))
    act.add_officers(world, [director], [sponsor], ["bestuurder"], [_registered(world, sponsor)], [NO_DATE])
    recognised = _registered(world, sponsor) + between(rng, 100, 900)
    _sponsor(act, sponsor, min(recognised, day(2021, 6, 1)))
    firm = company(rng, world, str(rng.choice(["cleaning", "horeca", "construction", "transport", "agri"])),
                   municipality=town, legal_form="BV", registered=between(rng, day(2017), day(2022, 6, 1)))
    linked = [director]
    if v.chance("director_is_officer"):
        act.add_officers(world, [director], [firm], ["bestuurder"], [_registered(world, firm)], [NO_DATE])
    else:  # a relative at the director's address runs it on paper
        kin = relative(rng, world, director, age=(22, 60))
        home(world, kin, director_home)
        act.add_officers(world, [kin], [firm], ["bestuurder"], [_registered(world, firm)], [NO_DATE])
        linked.append(kin)
    m = v.count("migrants", at_least=1)
    migrants = workers(rng, world, m, "non_eu", age=(22, 45), nationalities=("IN", "IN", "PH", "TR", "MA", "CN", "VN", "UA"))
    housed = housing(rng, world, m, int(rng.integers(1, 4)), town)
    arrival = between(rng, day(2022, 2, 1), day(2024, 9, 1), m)
    home(world, migrants, housed, since=arrival)
    purpose = "kennismigrant" if tag in ("it", "office") else "arbeid"
    act.add_residence(world, migrants, sponsor, purpose, arrival, arrival + 365 * between(rng, 1, 4, m), address=housed)
    never = v.share("never_on_payroll", m)
    months = v.value("months_at_sponsor")
    first_start = arrival + between(rng, 5, 30, m)
    left = first_start + (months * 30.4 * rng.uniform(0.7, 1.3, m)).astype(np.int64)
    stayed = ~never
    pay(rng, world, act, migrants[stayed], sponsor, first_start[stayed], left[stayed],
        underpaid=np.zeros(int(stayed.sum()), dtype=bool), wage_factor=1.0, declared_hours=1.0,
        contract="bepaalde tijd", address=housed[stayed])
    moved = np.where(stayed, left, arrival) + between(rng, 5, 40, m)
    moved = np.minimum(moved, WINDOW_END - 30)
    pay(rng, world, act, migrants, firm, moved, ended(rng, moved, 0.5, 120, 600), underpaid=np.ones(m, dtype=bool),
        wage_factor=v.value("wage_factor"), declared_hours=v.value("declared_hours"), contract="oproep",
        address=housed)
    net.add("person", linked)
    net.add("person", migrants)
    net.add("company", [sponsor, firm])
    net.add("address", [director_home, _address_of(world, sponsor), _address_of(world, firm)])
    net.add("address", housed)


TYPOLOGIES = {
    "agency_phoenix": agency_phoenix,
    "au_pair": au_pair,
    "beauty_salon": beauty_salon,
    "agri_camp": agri_camp,
    "logistics": logistics,
    "construction_chain": construction_chain,
    "forced_criminality": forced_criminality,
    "sexual_waterbed": sexual_waterbed,
    "sponsor_churn": sponsor_churn,
}
# Typologies whose exploited workers can be EU or non-EU nationals (the others are non-EU by
# definition: exchange permits and sponsorship exist for non-EU nationals only).
BOTH_ORIGINS = frozenset(TYPOLOGIES) - {"au_pair", "sponsor_churn"}
