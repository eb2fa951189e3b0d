"""Small, realistic stage tables for the graph, detect, indicator and rank tests.

:class:`Registers` writes ``mentions``, ``relations`` and ``resolution`` rows the way ingest and
resolve deliver them (one mention per entity block of a partner record, provenance from the
shipped source specs, keyed-hash-like identifiers). :func:`population` plants one instance of
every indicator pattern, a benign look-alike of each, and an ordinary background.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import random

import polars as pl

from mhgraph.spec import load_specs

D = dt.date

MENTION_SCHEMA = {
    "mention_id": pl.String, "entity_type": pl.String, "source": pl.String, "partner": pl.String,
    "purpose": pl.String, "record_id": pl.String, "row_number": pl.Int64, "role": pl.String,
    "bsn": pl.String, "v_number": pl.String, "kvk_number": pl.String, "wage_tax_number": pl.String,
    "given_name_bf": pl.String, "family_name_bf": pl.String, "birth_date_bf": pl.String, "name_bf": pl.String,
    "match_key_1": pl.String, "match_key_2": pl.String, "address_key": pl.String, "building_key": pl.String,
    "municipality": pl.String, "legal_form": pl.String, "sbi_code": pl.String, "registered_on": pl.Date,
    "dissolved_on": pl.Date, "sponsor_status": pl.String, "sponsor_status_on": pl.Date,
    "permit_number": pl.String, "permit_type": pl.String, "permit_status": pl.String,
    "bibob_outcome": pl.String, "decided_on": pl.Date,
}
RELATION_SCHEMA = {
    "relation_id": pl.String, "type": pl.String, "from_mention": pl.String, "to_mention": pl.String,
    "valid_from": pl.Date, "valid_to": pl.Date, "source": pl.String, "partner": pl.String,
    "purpose": pl.String, "record_id": pl.String, "wage": pl.Float64, "hours": pl.Float64,
    "contract_type": pl.String, "role": pl.String, "permit_purpose": pl.String, "age_band": pl.String,
}
SPECS = {spec.name: spec for spec in load_specs()}


def keyed(kind: str, value: str) -> str:
    """A stand-in for a keyed hash: 32 hex digits."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]


def bloom(value: str) -> str:
    """A stand-in for a 256-bit Bloom filter, base64."""
    return base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()


def identifiers(entity_type: str, entity_id: str) -> dict:
    if entity_type == "person":
        return {"bsn": keyed("bsn", entity_id), "given_name_bf": bloom("g" + entity_id),
                "family_name_bf": bloom("f" + entity_id), "birth_date_bf": bloom("b" + entity_id),
                "match_key_1": keyed("mk1", entity_id), "match_key_2": keyed("mk2", entity_id)}
    if entity_type == "company":
        return {"kvk_number": keyed("kvk", entity_id), "name_bf": bloom("n" + entity_id)}
    if entity_type == "address":
        return {"address_key": keyed("adr", entity_id), "building_key": keyed("bld", entity_id)}
    return {"permit_number": entity_id}


class Registers:
    """Collects partner records as stage tables; ``tables()`` returns (mentions, relations, resolution)."""

    def __init__(self):
        self.mentions: list[dict] = []
        self.relations: list[dict] = []
        self.resolution: list[dict] = []
        self.rows: dict[str, int] = {}

    def record(self, source: str, record_id: str, entities: dict, relations: list) -> None:
        """``entities``: role -> (entity_id, extra fields); ``relations``: (type, from, to, properties)."""
        spec = SPECS[source]
        self.rows[source] = self.rows.get(source, 0) + 1
        provenance = {"source": source, "partner": spec.partner, "purpose": spec.purpose, "record_id": record_id}
        for role, (entity_id, extra) in entities.items():
            entity_type = spec.entity(role).type
            mention_id = f"{source}/{record_id}/{role}"
            self.mentions.append({"mention_id": mention_id, "entity_type": entity_type, **provenance,
                                  "row_number": self.rows[source], "role": role,
                                  **identifiers(entity_type, entity_id), **extra})
            self.resolution.append({"mention_id": mention_id, "entity_id": entity_id, "entity_type": entity_type})
        for relation_type, frm, to, properties in relations:
            self.relations.append({"relation_id": f"{source}/{record_id}/{relation_type}/{frm}/{to}",
                                   "type": relation_type, "from_mention": f"{source}/{record_id}/{frm}",
                                   "to_mention": f"{source}/{record_id}/{to}", **provenance, **properties})

    # one helper per partner record layout
    def payroll(self, rid, employee, employer, home, start, end, wage, hours, contract="bepaalde tijd", age="21+"):
        period = {"valid_from": start, "valid_to": end}
        self.record("belastingdienst_loonaangifte", rid,
                    {"werkgever": (employer, {}), "werknemer": (employee, {}),
                     "werknemer_adres": (home, {"municipality": "Arnhem"})},
                    [("EMPLOYED_BY", "werknemer", "werkgever",
                      {**period, "wage": wage, "hours": hours, "contract_type": contract, "age_band": age}),
                     ("REGISTERED_AT", "werknemer", "werknemer_adres", period)])

    def career(self, rid, employee, home, jobs):
        """One payroll period per job: ``jobs`` = [(employer, start, end, hours, hourly wage)]."""
        for k, (employer, start, end, hours, hourly) in enumerate(jobs):
            self.payroll(f"{rid}-{k}", employee, employer, home, start, end, hours * hourly, float(hours))

    def company(self, rid, company, address, registered, dissolved=None, sbi="6920", legal_form="BV",
                municipality="Arnhem"):
        self.record("kvk_inschrijvingen", rid,
                    {"bedrijf": (company, {"sbi_code": sbi, "legal_form": legal_form, "registered_on": registered,
                                           "dissolved_on": dissolved}),
                     "vestiging": (address, {"municipality": municipality})},
                    [("LOCATED_AT", "bedrijf", "vestiging", {"valid_from": registered, "valid_to": dissolved})])

    def officer(self, rid, person, company, home, start, end=None, role="bestuurder"):
        period = {"valid_from": start, "valid_to": end}
        self.record("kvk_functionarissen", rid,
                    {"functionaris": (person, {}), "bedrijf": (company, {}), "woonadres": (home, {})},
                    [("OFFICER_OF", "functionaris", "bedrijf", {**period, "role": role}),
                     ("REGISTERED_AT", "functionaris", "woonadres", period)])

    def residence(self, rid, person, sponsor, address, purpose, start, end):
        period = {"valid_from": start, "valid_to": end}
        entities = {"vreemdeling": (person, {"v_number": keyed("v", person)}), "adres": (address, {})}
        relations = [("REGISTERED_AT", "vreemdeling", "adres", period)]
        if sponsor is not None:
            entities["referent"] = (sponsor, {})
            relations.append(("SPONSORED_BY", "vreemdeling", "referent", {**period, "permit_purpose": purpose}))
        self.record("ind_verblijfsvergunningen", rid, entities, relations)

    def sponsor(self, rid, company, status, status_on=None):
        self.record("ind_referenten", rid,
                    {"referent": (company, {"sponsor_status": status, "sponsor_status_on": status_on})}, [])

    def permit(self, rid, permit, premises, kind, status, decided, holder_company=None, holder_person=None,
               managers=(), bibob=None, source="gemeente_arnhem_vergunningen"):
        roles = {  # holder company, holder person, managers per municipal layout
            "gemeente_arnhem_vergunningen": ("houder_bedrijf", "houder_persoon", ("beheerder",), "inrichting"),
            "gemeente_emmen_vergunningen": ("aanvrager_bedrijf", "aanvrager_persoon",
                                            ("beheerder_1", "beheerder_2"), "locatie"),
            "gemeente_eindhoven_vergunningen": ("exploitant_bedrijf", "exploitant_persoon", ("leidinggevende",),
                                                "pand"),
        }[source]
        on = {"valid_from": decided}
        entities = {"vergunning": (permit, {"permit_type": kind, "permit_status": status, "bibob_outcome": bibob,
                                            "decided_on": decided}),
                    roles[3]: (premises, {"municipality": SPECS[source].partner.removeprefix("gemeente_").title()})}
        relations = [("LOCATED_AT", "vergunning", roles[3], on)]
        if holder_company:
            entities[roles[0]] = (holder_company, {})
            relations.append(("HOLDS_PERMIT", roles[0], "vergunning", on))
        if holder_person:
            entities[roles[1]] = (holder_person, {})
            relations.append(("HOLDS_PERMIT", roles[1], "vergunning", on))
        for role, manager in zip(roles[2], managers):
            entities[role] = (manager, {})
            relations.append(("MANAGES", role, "vergunning", on))
        self.record(source, rid, entities, relations)

    def tables(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        return (pl.DataFrame(self.mentions, schema=MENTION_SCHEMA),
                pl.DataFrame(self.relations, schema=RELATION_SCHEMA),
                pl.DataFrame(self.resolution, schema={"mention_id": pl.String, "entity_id": pl.String,
                                                      "entity_type": pl.String}))


def background(reg: Registers, seed: int = 7, n_companies: int = 6) -> None:
    """Ordinary life: long-lived companies with decently paid staff living in small households,
    knowledge migrants paid well, a granted horeca permit."""
    rng = random.Random(seed)
    sectors = ["6201", "4711", "8610", "5610", "4941", "6920"]
    house = 0
    for c in range(n_companies):
        company = f"C-bg{c:02d}"
        reg.company(f"bgk{c}", company, f"A-bgoffice{c:02d}", D(2010 + c, 3, 1), sbi=sectors[c % len(sectors)])
        reg.officer(f"bgo{c}", f"P-bgboss{c:02d}", company, f"A-bghome{c:02d}", D(2010 + c, 3, 1))
        for e in range(rng.randint(3, 6)):
            if e % 3 == 0:
                house += 1
            person = f"P-bg{c:02d}{e:02d}"
            hours = rng.choice([1664.0, 1040.0, 832.0])
            reg.payroll(f"bgp{c}-{e}", person, company, f"A-bghouse{house:03d}", D(2024, 1, 1), D(2024, 12, 31),
                        round(hours * rng.uniform(16.0, 32.0), 2), hours, "onbepaalde tijd")
    for k in range(3):
        reg.residence(f"bgi{k}", f"P-bgexpat{k}", "C-bg00", f"A-bgexpat{k}", "kennismigrant",
                      D(2023, 9, 1), D(2026, 8, 31))
        reg.payroll(f"bgx{k}", f"P-bgexpat{k}", "C-bg00", f"A-bgexpat{k}", D(2024, 1, 1), D(2024, 12, 31),
                    1664 * 31.0, 1664.0, "onbepaalde tijd")
    reg.sponsor("bgs0", "C-bg00", "erkend")
    reg.permit("bgv0", "ARN-2021-0100", "A-bgoffice03", "horeca", "verleend", D(2021, 5, 1),
               holder_company="C-bg03", managers=("P-bgboss03",))


def population(seed: int = 7) -> Registers:
    """Every indicator's planted pattern next to its benign look-alike, on an ordinary background."""
    reg = Registers()
    background(reg, seed)

    # Labour-exploitation cell: a temp agency pays below the minimum, sponsors its workers,
    # crowds twelve of them into one house.
    reg.company("k-agency", "C-agency", "A-agencyoffice", D(2022, 2, 1), sbi="7820", legal_form="BV")
    reg.officer("o-agency", "P-agencyboss", "C-agency", "A-bosshome", D(2022, 2, 1))
    reg.sponsor("s-agency", "C-agency", "erkend")
    for w in range(12):
        worker = f"P-agency{w:02d}"
        reg.payroll(f"p-agency{w}", worker, "C-agency", "A-crowd", D(2024, 1, 1), D(2024, 6, 30),
                    520 * 7.10 if w < 6 else 520 * 14.20, 520.0, "uitzend")
        if w < 8:
            reg.residence(f"i-agency{w}", worker, "C-agency", "A-crowd", "arbeid", D(2023, 11, 1), D(2025, 10, 31))
    for w in range(4):  # sponsored by the agency, housed elsewhere, never on its payroll
        reg.residence(f"i-agencyoff{w}", f"P-agencyoff{w}", "C-agency", f"A-agencyflat{w // 2}", "arbeid",
                      D(2023, 11, 1), D(2025, 10, 31))
    # look-alike: a well-paid asparagus farm with twenty sponsored seasonal workers, each housed
    # in one of the farm's own cottages, properly paid.
    reg.company("k-farm", "C-asparagus", "A-farmyard", D(1998, 4, 1), sbi="0113", legal_form="VOF")
    reg.officer("o-farm", "P-farmer", "C-asparagus", "A-farmhouse", D(1998, 4, 1), role="vennoot")
    reg.sponsor("s-farm", "C-asparagus", "erkend")
    for w in range(20):
        worker = f"P-season{w:02d}"
        reg.residence(f"i-season{w}", worker, "C-asparagus", f"A-cottage{w // 2:02d}", "seizoensarbeid",
                      D(2024, 3, 15), D(2024, 7, 15))
        reg.payroll(f"p-season{w}", worker, "C-asparagus", f"A-cottage{w // 2:02d}", D(2024, 4, 1),
                    D(2024, 6, 30), 480 * 15.25, 480.0, "bepaalde tijd")
    # A nail salon pays its adult staff a teenager's wage; look-alike: an ice-cream parlour pays
    # its 16- and 17-year-olds the youth minimum, lawfully.
    reg.company("k-nails", "C-nails", "A-nails", D(2021, 3, 1), sbi="96022", legal_form="VOF")
    reg.officer("o-nails", "P-nailsboss", "C-nails", "A-nailsbosshome", D(2021, 3, 1))
    reg.company("k-icecream", "C-icecream", "A-icecream", D(2016, 4, 1), sbi="5610")
    reg.officer("o-icecream", "P-icecreamboss", "C-icecream", "A-icecreambosshome", D(2016, 4, 1))
    for w in range(4):
        reg.payroll(f"p-nails{w}", f"P-nailtech{w}", "C-nails", f"A-nailhome{w}", D(2024, 2, 1), D(2024, 9, 30),
                    800 * 6.00, 800.0, "oproep", age="21+")
        reg.payroll(f"p-icecream{w}", f"P-scooper{w}", "C-icecream", f"A-scooperhome{w}", D(2024, 4, 1),
                    D(2024, 9, 30), 400 * 6.00, 400.0, "oproep", age=("16", "17")[w % 2])
    # look-alike: a student complex, one room (its own address) per student
    for s in range(12):
        reg.residence(f"i-student{s}", f"P-student{s:02d}", None, f"A-room{s:02d}", "studie",
                      D(2023, 9, 1), D(2025, 8, 31))

    # Workers living at the workplace: a mushroom grower houses five pickers on site.
    reg.company("k-mushroom", "C-mushroom", "A-mushroomfarm", D(2015, 1, 1), sbi="0113")
    reg.officer("o-mushroom", "P-grower", "C-mushroom", "A-growerhome", D(2015, 1, 1))
    for w in range(5):
        reg.payroll(f"p-mushroom{w}", f"P-picker{w}", "C-mushroom", "A-mushroomfarm", D(2024, 2, 1),
                    D(2024, 11, 30), 1400 * 14.0, 1400.0)
    # look-alike: a baker (sole trader) and his spouse live above the bakery
    reg.company("k-bakery", "C-bakery", "A-bakery", D(2005, 1, 1), sbi="1071", legal_form="Eenmanszaak")
    reg.officer("o-bakery", "P-baker", "C-bakery", "A-bakery", D(2005, 1, 1), role="eigenaar")
    reg.payroll("p-baker", "P-baker", "C-bakery", "A-bakery", D(2024, 1, 1), D(2024, 12, 31), 1664 * 20.0, 1664.0)
    reg.payroll("p-spouse", "P-bakerspouse", "C-bakery", "A-bakery", D(2024, 1, 1), D(2024, 12, 31),
                832 * 18.0, 832.0)

    # Straw director: five cleaning companies in three years, all at one office, all dissolved.
    for k in range(5):
        start = D(2021, 1, 1) + dt.timedelta(days=220 * k)
        end = start + dt.timedelta(days=300)
        reg.company(f"k-straw{k}", f"C-clean{k}", "A-strawoffice", start, dissolved=end, sbi="8121")
        reg.officer(f"o-straw{k}", "P-straw", f"C-clean{k}", "A-strawhome", start, end)
    # Front men sharing a home: two young housemates, each put in charge of a short-lived transport
    # company while living there; look-alike: a couple, each running a long-lived business from home.
    for k, (registered, days) in enumerate(((D(2022, 3, 1), 420), (D(2022, 9, 1), 380))):
        reg.company(f"k-front{k}", f"C-front{k}", f"A-frontoffice{k}", registered,
                    dissolved=registered + dt.timedelta(days=days), sbi="4941")
        reg.officer(f"o-front{k}", f"P-front{k}", f"C-front{k}", "A-fronthouse", registered,
                    registered + dt.timedelta(days=days))
    for k, (person, registered) in enumerate((("P-plumber", D(2010, 5, 1)), ("P-hairdresser", D(2012, 2, 1)))):
        reg.company(f"k-couple{k}", f"C-couple{k}", "A-couplehome", registered, sbi="4322" if k == 0 else "9602",
                    legal_form="Eenmanszaak")
        reg.officer(f"o-couple{k}", person, f"C-couple{k}", "A-couplehome", registered)
    # look-alike: a hotel chain director of six long-lived hotel companies; and an accountant's
    # address hosting ten unrelated long-lived clients.
    for k in range(6):
        reg.company(f"k-hotel{k}", f"C-hotel{k}", f"A-hotel{k}", D(2008 + k, 1, 1), sbi="5510")
        reg.officer(f"o-hotel{k}", "P-hotelboss", f"C-hotel{k}", "A-hotelbosshome", D(2008 + k, 1, 1))
        reg.permit(f"v-hotel{k}", f"PERMIT-HOTEL-{k}", f"A-hotel{k}", "horeca", "verleend", D(2012, 1, 1),
                   holder_company=f"C-hotel{k}",
                   source=["gemeente_arnhem_vergunningen", "gemeente_emmen_vergunningen",
                           "gemeente_eindhoven_vergunningen"][k % 3])
    for k in range(10):
        reg.company(f"k-client{k}", f"C-client{k}", "A-accountant", D(2000 + k, 6, 1), sbi="4690")
        reg.officer(f"o-client{k}", f"P-clientboss{k}", f"C-client{k}", f"A-clienthome{k}", D(2000 + k, 6, 1))

    # Phoenix: a car wash is dissolved and a new one at the same address takes over four washers.
    reg.company("k-wash-old", "C-wash-old", "A-carwash", D(2019, 5, 1), dissolved=D(2024, 3, 31), sbi="4520")
    reg.company("k-wash-new", "C-wash-new", "A-carwash", D(2024, 4, 15), sbi="4520")
    reg.officer("o-wash-old", "P-washboss", "C-wash-old", "A-washbosshome", D(2019, 5, 1), D(2024, 3, 31))
    reg.officer("o-wash-new", "P-washfront", "C-wash-new", "A-washfronthome", D(2024, 4, 15))
    for w in range(4):
        reg.career(f"p-wash{w}", f"P-washer{w}", f"A-washerhome{w}", [
            ("C-wash-old", D(2023, 1, 1), D(2024, 3, 31), 2000, 14.0),
            ("C-wash-new", D(2024, 4, 15), D(2024, 12, 31), 1300, 14.0)])
    # look-alikes: a closed print shop whose staff a competitor elsewhere hired, and a new
    # tenant in the print shop's premises without its staff.
    reg.company("k-print", "C-print", "A-printshop", D(2012, 1, 1), dissolved=D(2024, 2, 29), sbi="1812")
    reg.officer("o-print", "P-printer", "C-print", "A-printerhome", D(2012, 1, 1), D(2024, 2, 29))
    reg.company("k-rival", "C-rival", "A-rivalshop", D(2024, 3, 1), sbi="1812")
    reg.officer("o-rival", "P-rivalboss", "C-rival", "A-rivalhome", D(2024, 3, 1))
    reg.company("k-tenant", "C-tenant", "A-printshop", D(2024, 4, 1), sbi="4778")
    reg.officer("o-tenant", "P-tenantboss", "C-tenant", "A-tenanthome", D(2024, 4, 1))
    for w in range(4):
        reg.career(f"p-print{w}", f"P-typesetter{w}", f"A-typehome{w}", [
            ("C-print", D(2020, 1, 1), D(2024, 2, 29), 6000, 19.0),
            ("C-rival", D(2024, 3, 1), D(2024, 12, 31), 1400, 19.0)])

    # look-alike: a shopkeeper turns his eenmanszaak into a BV and keeps his staff.
    reg.company("k-shop-ez", "C-shop-ez", "A-shop", D(2010, 1, 1), dissolved=D(2024, 5, 31), sbi="4711",
                legal_form="Eenmanszaak")
    reg.officer("o-shop-ez", "P-shopkeeper", "C-shop-ez", "A-shopkeeperhome", D(2010, 1, 1), D(2024, 5, 31),
                role="eigenaar")
    reg.company("k-shop-bv", "C-shop-bv", "A-shop", D(2024, 6, 1), sbi="4711")
    reg.officer("o-shop-bv", "P-shopkeeper", "C-shop-bv", "A-shopkeeperhome", D(2024, 6, 1))
    for w in range(3):
        reg.career(f"p-shop{w}", f"P-shopworker{w}", f"A-shopworkerhome{w}", [
            ("C-shop-ez", D(2024, 1, 1), D(2024, 5, 31), 800, 15.0),
            ("C-shop-bv", D(2024, 6, 1), D(2024, 12, 31), 1100, 15.0)])

    # An au pair works in the host's restaurant for EUR 3 an hour; look-alikes: an au pair who
    # lives with her host family and is on nobody's payroll, and an exchange student with a
    # fairly paid side job.
    reg.company("k-aupairs", "C-aupairbureau", "A-aupairbureau", D(2005, 1, 1), sbi="7830")
    reg.sponsor("s-aupairs", "C-aupairbureau", "erkend")
    reg.company("k-hostrest", "C-hostrestaurant", "A-hostrestaurant", D(2012, 1, 1), sbi="5610")
    reg.officer("o-hostrest", "P-host", "C-hostrestaurant", "A-hosthome", D(2012, 1, 1))
    reg.residence("i-aupair1", "P-aupair1", "C-aupairbureau", "A-hosthome", "uitwisseling", D(2024, 1, 10),
                  D(2025, 1, 9))
    reg.payroll("p-aupair1", "P-aupair1", "C-hostrestaurant", "A-hosthome", D(2024, 2, 1), D(2024, 12, 31),
                1200 * 3.0, 1200.0, "oproep")
    reg.company("k-consult", "C-consult", "A-consultoffice", D(2011, 1, 1), sbi="7022")
    reg.officer("o-consult", "P-hostparent", "C-consult", "A-familyhome", D(2011, 1, 1))
    reg.residence("i-aupair2", "P-aupair2", "C-aupairbureau", "A-familyhome", "uitwisseling", D(2024, 1, 10),
                  D(2025, 1, 9))
    reg.residence("i-exchange", "P-exchange", "C-bg01", "A-exchangeroom", "uitwisseling", D(2023, 9, 1),
                  D(2024, 8, 31))
    reg.payroll("p-exchange", "P-exchange", "C-bg01", "A-exchangeroom", D(2024, 1, 1), D(2024, 6, 30),
                300 * 14.0, 300.0, "oproep")

    # Sponsor churn: a recruiter sponsors three workers and passes them on to the packing house
    # of the director's wife within months; look-alikes: knowledge migrants who leave for an
    # unrelated employer, and a group that moves its migrants to a sister company after two years.
    reg.company("k-recruit", "C-recruit", "A-recruitoffice", D(2021, 1, 1), sbi="7810")
    reg.officer("o-recruit", "P-recruiter", "C-recruit", "A-recruiterhome", D(2021, 1, 1))
    reg.company("k-packhouse", "C-packhouse", "A-packhouse", D(2019, 1, 1), sbi="1032")
    reg.officer("o-packhouse", "P-recruiterwife", "C-packhouse", "A-recruiterhome", D(2019, 1, 1))
    reg.sponsor("s-recruit", "C-recruit", "erkend")
    for w in range(3):
        worker = f"P-churn{w}"
        reg.residence(f"i-churn{w}", worker, "C-recruit", f"A-churnhouse{w}", "arbeid", D(2024, 1, 1),
                      D(2025, 12, 31))
        reg.career(f"p-churn{w}", worker, f"A-churnhouse{w}", [
            ("C-recruit", D(2024, 1, 15), D(2024, 4, 30), 600, 14.0),
            ("C-packhouse", D(2024, 5, 15), D(2024, 12, 31), 1200, 14.0)])
    reg.company("k-techco", "C-techco", "A-techco", D(2014, 1, 1), sbi="6201")
    reg.officer("o-techco", "P-techboss", "C-techco", "A-techbosshome", D(2014, 1, 1))
    reg.company("k-groupa", "C-groupa", "A-groupa", D(2015, 1, 1), sbi="2511")
    reg.company("k-groupb", "C-groupb", "A-groupb", D(2015, 1, 1), sbi="2511")
    reg.officer("o-groupa", "P-groupboss", "C-groupa", "A-groupbosshome", D(2015, 1, 1))
    reg.officer("o-groupb", "P-groupboss", "C-groupb", "A-groupbosshome", D(2015, 1, 1))
    for w in range(3):
        reg.residence(f"i-techexpat{w}", f"P-techexpat{w}", "C-techco", f"A-techexpathome{w}", "kennismigrant",
                      D(2024, 1, 1), D(2026, 12, 31))
        reg.career(f"p-techexpat{w}", f"P-techexpat{w}", f"A-techexpathome{w}", [
            ("C-techco", D(2024, 1, 1), D(2024, 4, 30), 700, 30.0),
            ("C-bg02", D(2024, 5, 1), D(2024, 12, 31), 1300, 30.0)])
        reg.residence(f"i-groupexpat{w}", f"P-groupexpat{w}", "C-groupa", f"A-groupexpathome{w}", "arbeid",
                      D(2022, 1, 1), D(2026, 12, 31))
        reg.career(f"p-groupexpat{w}", f"P-groupexpat{w}", f"A-groupexpathome{w}", [
            ("C-groupa", D(2022, 1, 1), D(2023, 12, 31), 3500, 16.0),
            ("C-groupb", D(2024, 1, 1), D(2024, 12, 31), 1700, 16.0)])

    # Waterbed: a massage operator whose Arnhem permit was revoked reappears in Eindhoven behind a
    # front woman who lives at his home; look-alike: a massage chain whose one company holds the
    # permits in Arnhem and Emmen, with one manager.
    reg.officer("o-moversalon", "P-mover", "C-moversalon", "A-moverhome", D(2020, 1, 1))
    reg.permit("v-mover1", "ARN-2022-0301", "A-moversalon", "massagesalon", "ingetrokken", D(2022, 9, 1),
               holder_company="C-moversalon", managers=("P-mover",))
    reg.residence("i-moverfront", "P-moverfront", None, "A-moverhome", "gezinshereniging", D(2021, 5, 1),
                  D(2026, 4, 30))
    reg.permit("v-mover2", "EIN-2023-0077", "A-moversalon2", "massagesalon", "verleend", D(2023, 6, 1),
               holder_person="P-moverfront", source="gemeente_eindhoven_vergunningen")
    reg.company("k-chain", "C-chain", "A-chainoffice", D(2016, 1, 1), sbi="96041")
    reg.officer("o-chain", "P-chainowner", "C-chain", "A-chainownerhome", D(2016, 1, 1))
    reg.permit("v-chain1", "ARN-2023-0500", "A-chainarnhem", "massagesalon", "verleend", D(2023, 3, 1),
               holder_company="C-chain", managers=("P-chainmanager",))
    reg.permit("v-chain2", "EMM-2023-0501", "A-chainemmen", "massagesalon", "verleend", D(2023, 4, 1),
               holder_company="C-chain", managers=("P-chainmanager",), source="gemeente_emmen_vergunningen")

    # Permits linked to one operator, across three municipalities (waterbed).
    reg.permit("v-op1", "ARN-2023-0007", "A-salon1", "massagesalon", "verleend", D(2023, 2, 1),
               holder_company="C-salon1", managers=("P-operator",))
    reg.permit("v-op2", "ARN-2023-0019", "A-salon2", "massagesalon", "verleend", D(2023, 5, 1),
               holder_person="P-frontwoman", managers=("P-operator",))
    reg.permit("v-op3", "EMM-2023-0003", "A-salon3", "seksinrichting", "verleend", D(2023, 9, 1),
               holder_person="P-operator", source="gemeente_emmen_vergunningen")
    reg.officer("o-op", "P-operator", "C-salon4", "A-operatorhome", D(2023, 10, 1))
    reg.permit("v-op4", "EIN-2024-0011", "A-salon4", "massagesalon", "verleend", D(2024, 1, 10),
               holder_company="C-salon4", managers=("P-salon4manager",), source="gemeente_eindhoven_vergunningen")

    # Link to an earlier refusal: a Bibob-refused applicant returns through a front company.
    reg.permit("v-refused", "ARN-2022-0042", "A-oldclub", "seksinrichting", "geweigerd", D(2022, 6, 1),
               holder_person="P-refused", bibob="ernstige mate")
    reg.officer("o-front", "P-refused", "C-front", "A-refusedhome", D(2023, 11, 1))
    reg.permit("v-front", "EMM-2024-0021", "A-newclub", "seksinrichting", "aangevraagd", D(2024, 2, 1),
               holder_company="C-front", managers=("P-frontmanager",), source="gemeente_emmen_vergunningen")
    # ... and a revoked sponsor whose director sets up a new recognised sponsor
    reg.company("k-revoked", "C-revoked", "A-revokedoffice", D(2018, 1, 1), sbi="7830")
    reg.sponsor("s-revoked", "C-revoked", "ingetrokken", D(2023, 1, 15))
    reg.officer("o-revoked", "P-sponsorboss", "C-revoked", "A-sponsorbosshome", D(2018, 1, 1))
    reg.company("k-newsponsor", "C-newsponsor", "A-newsponsoroffice", D(2023, 6, 1), sbi="7830")
    reg.sponsor("s-newsponsor", "C-newsponsor", "erkend")
    reg.officer("o-newsponsor", "P-sponsorboss", "C-newsponsor", "A-sponsorbosshome", D(2023, 6, 1))
    # look-alike: an unrelated applicant in a business centre that also held the refused club's
    # registered office: linked only through a hub of 30 companies.
    reg.permit("v-centre-old", "ARN-2022-0050", "A-centre", "escortbedrijf", "geweigerd", D(2022, 8, 1),
               holder_company="C-escort-old")
    reg.permit("v-centre-new", "ARN-2024-0090", "A-centre", "escortbedrijf", "aangevraagd", D(2024, 3, 1),
               holder_company="C-escort-new")
    for k in range(30):
        reg.company(f"k-centre{k}", f"C-centre{k}", "A-centre", D(2015, 1, 1) + dt.timedelta(days=30 * k), sbi="7022")
        reg.officer(f"o-centre{k}", f"P-centreboss{k}", f"C-centre{k}", f"A-centrehome{k}", D(2015, 1, 1))
    return reg
