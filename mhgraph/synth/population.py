"""The synthetic population: addresses, persons and companies with their clean attributes.

Each kind of entity lives in a :class:`Book` (growable columns of numpy arrays) so that the
ordinary population is made in a few vectorised calls and planted networks can add or
recruit a handful of entities at a time. Dates are whole days since 1970-01-01
(``NO_DATE`` for none); identifiers follow the real formats (BSN and RSIN pass the
eleven test, KvK numbers have eight digits, postcodes are ``1234 AB``).

>>> rng = np.random.default_rng(1)
>>> world = build_population(rng, 200)
>>> world.persons.size, world.addresses["postcode"][0][4]
(200, ' ')
>>> bool(eleven_test(world.persons["bsn"][0]))
True
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
import polars as pl

from mhgraph.errors import InputError
from mhgraph.synth.vocabulary import Vocabulary, load_vocabulary

__all__ = [
    "NO_DATE",
    "WINDOW_END",
    "WINDOW_START",
    "Book",
    "World",
    "build_population",
    "day",
    "eleven_test",
]

log = logging.getLogger("mhgraph.synth")

NO_DATE = -(10**6)
_EPOCH = dt.date(1970, 1, 1)


def day(year: int, month: int = 1, dom: int = 1) -> int:
    """Days since 1970-01-01."""
    return (dt.date(year, month, dom) - _EPOCH).days


# The period the partners' extracts cover.
WINDOW_START = day(2022, 1, 1)
WINDOW_END = day(2025, 12, 31)

# Postcode letters: F, I, O, Q, U and Y are not used, nor the pairs SA, SD and SS.
_PC_LETTERS = np.array(list("ABCDEGHJKLMNPRSTVWXZ"))
_PC_PAIRS = np.array([a + b for a in _PC_LETTERS for b in _PC_LETTERS if a + b not in ("SA", "SD", "SS")])
_ADDITIONS = np.array(["A", "B", "C", "D", "1", "2", "3", "4"])
LEGAL_FORM_SUFFIX = {"BV": "B.V.", "NV": "N.V.", "VOF": "V.O.F.", "CV": "C.V.", "Eenmanszaak": "", "Stichting": ""}


def eleven_test(number: str) -> bool:
    """The eleven test of BSN and RSIN numbers (nine digits)."""
    digits = [int(c) for c in number]
    return len(digits) == 9 and (sum(d * w for d, w in zip(digits, range(9, 1, -1))) - digits[8]) % 11 == 0


def _eleven_proof_numbers(rng: np.random.Generator, n: int, first_digit_low: int = 1) -> np.ndarray:
    """``n`` distinct nine-digit numbers that pass the eleven test."""
    out = np.empty(0, dtype=np.int64)
    while out.size < n:
        want = int((n - out.size) * 1.15) + 16
        stems = rng.integers(first_digit_low * 10**7, 10**8, size=want)
        digits = (stems[:, None] // 10 ** np.arange(7, -1, -1)) % 10
        check = (digits * np.arange(9, 1, -1)).sum(axis=1) % 11
        ok = check < 10
        candidates = stems[ok] * 10 + check[ok]
        out = _first_occurrences(np.concatenate([out, candidates]))
    return out[:n]


def _first_occurrences(values: np.ndarray) -> np.ndarray:
    _, first = np.unique(values, return_index=True)
    return values[np.sort(first)]


def _distinct_integers(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """``n`` distinct integers in ``[low, high)``, in random order."""
    out = np.empty(0, dtype=np.int64)
    while out.size < n:
        out = _first_occurrences(np.concatenate([out, rng.integers(low, high, size=n - out.size + 16)]))
    return out[:n]


class Book:
    """Columns of numpy arrays that grow by appending; the row number is the entity index."""

    def __init__(self, kind: str, columns: tuple[str, ...]):
        self.kind = kind
        self.columns = columns
        self._data: dict[str, list[np.ndarray]] = {c: [] for c in columns}
        self.size = 0

    def append(self, **values) -> np.ndarray:
        n = len(next(iter(values.values())))
        missing = set(self.columns) - set(values)
        if missing:
            raise ValueError(f"{self.kind}: missing columns {sorted(missing)}")
        for name in self.columns:
            column = np.asarray(values[name])
            if column.shape != (n,):
                raise ValueError(f"{self.kind}.{name}: expected {n} values")
            self._data[name].append(column)
        start = self.size
        self.size += n
        return np.arange(start, self.size)

    def __getitem__(self, name: str) -> np.ndarray:
        chunks = self._data[name]
        if len(chunks) != 1:
            merged = np.concatenate(chunks) if chunks else np.empty(0)
            self._data[name] = [merged]
        return self._data[name][0]

    def set(self, name: str, index, values) -> None:
        self[name][index] = values

    def entity_ids(self, index=None) -> np.ndarray:
        index = np.arange(self.size) if index is None else np.asarray(index)
        return np.array([f"{self.kind}:{i:06d}" for i in index], dtype=object)


def _strings(n: int, value=None) -> np.ndarray:
    return np.full(n, value, dtype=object)


@dataclass
class World:
    """Everything the extracts are made from; the books grow as networks are planted."""

    vocab: Vocabulary
    addresses: Book
    persons: Book
    companies: Book
    universities: np.ndarray
    _recruit_queue: np.ndarray
    _recruit_next: int = 0
    _buildings: set | None = None
    _kvk_pool: np.ndarray | None = None
    _rsin_pool: np.ndarray | None = None
    au_pair_agencies: np.ndarray | None = None

    # -- addresses ---------------------------------------------------------------------------
    def new_addresses(self, rng: np.random.Generator, n: int, municipality: str | None = None,
                      addition_share: float = 0.0) -> np.ndarray:
        """``n`` addresses in ``n`` new buildings; a share of them with a house-number addition."""
        pc, number = self._new_buildings(rng, n, municipality)
        additions = np.where(rng.random(n) < addition_share, rng.choice(_ADDITIONS, n), "").astype(object)
        return self._append_addresses(pc, number, additions)

    def new_building(self, rng: np.random.Generator, units: int, municipality: str | None = None,
                     numbered: bool = False) -> np.ndarray:
        """``units`` addresses in one new building, told apart by their addition (A, B, ... or 1, 2, ...)."""
        pc, number = self._new_buildings(rng, 1, municipality)
        labels = [str(i + 1) for i in range(units)] if numbered else [chr(ord("A") + i) for i in range(units)]
        return self._append_addresses(np.repeat(pc, units), np.repeat(number, units), np.array(labels, dtype=object))

    def _new_buildings(self, rng, n, municipality):
        mun = self.vocab.municipalities
        buildings = self._buildings
        pcs = np.empty(0, dtype=np.int64)
        numbers = np.empty(0, dtype=np.int64)
        while pcs.size < n:
            want = n - pcs.size + 8
            if municipality is None:
                which = rng.choice(len(mun.name), size=want, p=mun.weight / mun.weight.sum())
            else:
                which = np.full(want, mun.index(municipality))
            pc4 = rng.integers(mun.pc_from[which], mun.pc_to[which] + 1)
            pc = pc4 * 1000 + rng.integers(0, len(_PC_PAIRS), size=want)
            nr = np.minimum(1 + rng.geometric(1 / 40, size=want), 400)
            keys = pc * 1000 + nr
            fresh = []
            for i, k in enumerate(keys.tolist()):
                if k not in buildings:
                    buildings.add(k)
                    fresh.append(i)
            pcs = np.concatenate([pcs, pc[fresh]])
            numbers = np.concatenate([numbers, nr[fresh]])
        return pcs[:n], numbers[:n]

    def _append_addresses(self, pc, number, additions) -> np.ndarray:
        mun = self.vocab.municipalities
        pc4 = pc // 1000
        owner = np.searchsorted(np.sort(mun.pc_from), pc4, side="right") - 1
        order = np.argsort(mun.pc_from)
        which = order[owner]
        postcode = np.array([f"{a} {_PC_PAIRS[b]}" for a, b in zip(pc4.tolist(), (pc % 1000).tolist())], dtype=object)
        street = self.vocab.streets[(pc * 7919) % len(self.vocab.streets)].astype(object)
        return self.addresses.append(
            street=street,
            house_number=number.astype(np.int64),
            addition=additions,
            postcode=postcode,
            town=mun.town[which].astype(object),
            municipality=mun.name[which].astype(object),
        )

    # -- persons -----------------------------------------------------------------------------
    def draw_names(self, rng, nationality: np.ndarray, sex: np.ndarray):
        """Given names, particles and family-name cores for persons of the given nationality and sex."""
        n = len(nationality)
        given = _strings(n, "")
        particle = _strings(n, "")
        family = _strings(n, "")
        for nat in np.unique(nationality):
            for s in ("M", "F"):
                rows = np.flatnonzero((nationality == nat) & (sex == s))
                if rows.size == 0:
                    continue
                pool = self.vocab.given[(nat, s)]
                first = rng.choice(pool, rows.size)
                # Dutch and Vietnamese registers hold several given names for many people.
                second_share = {"NL": 0.25, "VN": 1.0, "PH": 0.3}.get(nat, 0.05)
                second = rng.choice(pool, rows.size)
                two = (rng.random(rows.size) < second_share) & (second != first)
                given[rows] = np.where(two, np.char.add(np.char.add(first, " "), second), first).astype(object)
                parts, cores = self.vocab.family[nat]
                pick = rng.integers(0, len(cores), rows.size)
                particle[rows] = parts[pick].astype(object)
                names = cores[pick].astype(object)
                if s == "F":
                    names = np.array([_female_form(nat, x) for x in names], dtype=object)
                family[rows] = names
        return given, particle, family

    def recruit(self, rng, n: int, nationalities=None, sex: str | None = None,
                age: tuple[int, int] = (20, 60)) -> np.ndarray:
        """Take ``n`` persons nobody has used yet for a network and fit them to a role.

        ``nationalities`` (codes, or ``None`` to keep theirs) and ``sex`` and ``age`` (in 2024)
        are redrawn; names are drawn anew to fit the nationality.
        """
        people = self.persons
        chosen = []
        reserved = people["reserved"]
        while len(chosen) < n:
            if self._recruit_next >= len(self._recruit_queue):
                raise InputError(
                    f"the population of {people.size} persons is too small for the requested networks; "
                    "ask for more persons or fewer networks"
                )
            candidate = int(self._recruit_queue[self._recruit_next])
            self._recruit_next += 1
            if not reserved[candidate]:
                chosen.append(candidate)
        index = np.array(chosen, dtype=np.int64)
        reserved[index] = True
        if nationalities is not None:
            people.set("nationality", index, rng.choice(np.asarray(nationalities), n))
        if sex is not None:
            people.set("sex", index, sex)
        born = day(2024, 6, 30) - (rng.integers(age[0], age[1] + 1, n) * 365.25).astype(np.int64) \
            - rng.integers(0, 365, n)
        people.set("birth", index, born)
        given, particle, family = self.draw_names(rng, people["nationality"][index], people["sex"][index])
        people.set("given", index, given)
        people.set("particle", index, particle)
        people.set("family", index, family)
        people.set("address2", index, -1)
        people.set("moved_on", index, NO_DATE)
        people.set("ind_purpose", index, None)
        return index

    def is_eu(self, index) -> np.ndarray:
        nat = self.vocab.nationalities
        eu_codes = set(nat.code[nat.eu].tolist())
        return np.array([c in eu_codes for c in self.persons["nationality"][index]], dtype=bool)

    def address_on(self, person: np.ndarray, when: np.ndarray) -> np.ndarray:
        """Each person's home address on the given day (the second address after a move)."""
        p = self.persons
        moved = (p["address2"][person] >= 0) & (when >= p["moved_on"][person])
        return np.where(moved, p["address2"][person], p["address"][person])

    # -- companies ---------------------------------------------------------------------------
    def new_companies(self, rng, n: int, tag, *, address=None, municipality: str | None = None,
                      legal_form=None, registered=None, dissolved=None, ordinary: bool = True,
                      employer_weight=None, trade_name=None) -> np.ndarray:
        """``n`` companies of the sector ``tag`` (one tag or one per company)."""
        vocab = self.vocab
        tags = np.broadcast_to(np.asarray(tag, dtype=object), (n,)).copy()
        sbi = np.empty(n, dtype=object)
        for t in np.unique(tags):
            rows = np.flatnonzero(tags == t)
            codes = vocab.sectors.code[vocab.sectors.tag == t]
            sbi[rows] = rng.choice(codes, rows.size)
        if legal_form is None:
            legal_form = np.array([_draw_legal_form(rng, t) for t in tags], dtype=object)
        legal_form = np.broadcast_to(np.asarray(legal_form, dtype=object), (n,)).copy()
        if address is None:
            address = self.new_addresses(rng, n, municipality, addition_share=0.1)
        if registered is None:
            registered = _draw_registered(rng, n)
        registered = np.broadcast_to(np.asarray(registered, dtype=np.int64), (n,)).copy()
        if dissolved is None:
            dissolved = np.full(n, NO_DATE, dtype=np.int64)
        dissolved = np.broadcast_to(np.asarray(dissolved, dtype=np.int64), (n,)).copy()
        names, trades = zip(*(_company_name(rng, vocab, t, lf) for t, lf in zip(tags, legal_form))) if n else ((), ())
        trades = np.array(trades, dtype=object)
        if trade_name is not None:
            trades = np.broadcast_to(np.asarray(trade_name, dtype=object), (n,)).copy()
        if employer_weight is None:
            employer_weight = _employer_weight(rng, tags, legal_form)
        first = self.companies.size
        kvk = self._kvk_pool[first : first + n]
        rsin = self._rsin_pool[first : first + n]
        if kvk.size < n:
            raise ValueError("the pool of KvK numbers is exhausted")
        return self.companies.append(
            name=np.array(names, dtype=object),
            trade_name=trades,
            legal_form=legal_form,
            sbi_code=sbi,
            tag=tags,
            kvk_number=np.array([f"{k:08d}" for k in kvk.tolist()], dtype=object),
            wage_tax_number=np.array([f"{r:09d}L01" for r in rsin.tolist()], dtype=object),
            address=np.asarray(address, dtype=np.int64),
            registered=registered,
            dissolved=dissolved,
            ordinary=np.full(n, ordinary),
            employer_weight=np.broadcast_to(np.asarray(employer_weight, dtype=float), (n,)).copy(),
            sponsor=np.zeros(n, dtype=bool),
        )

    # -- truth tables ------------------------------------------------------------------------
    def persons_frame(self) -> pl.DataFrame:
        p = self.persons
        nat = self.vocab.nationalities
        eu = dict(zip(nat.code.tolist(), nat.eu.tolist()))
        non_eu = np.array([not eu[c] for c in p["nationality"]])
        family = np.array([f"{a} {b}" if a else b for a, b in zip(p["particle"], p["family"])], dtype=object)
        return pl.DataFrame({
            "entity_id": p.entity_ids(),
            "given_name": p["given"].astype(str),
            "family_name": family.astype(str),
            "particle": p["particle"].astype(str),
            "family_name_core": p["family"].astype(str),
            "sex": p["sex"].astype(str),
            "birth_date": _dates(p["birth"]),
            "nationality": p["nationality"].astype(str),
            "bsn": p["bsn"].astype(str),
            "v_number": pl.Series(np.where(non_eu, p["v_all"], None).tolist(), dtype=pl.String),
            "address_id": _ids("address", p["address"]),
            "second_address_id": _ids("address", p["address2"]),
            "moved_on": _dates(p["moved_on"]),
        })

    def companies_frame(self) -> pl.DataFrame:
        c = self.companies
        return pl.DataFrame({
            "entity_id": c.entity_ids(),
            "name": c["name"].astype(str),
            "trade_name": c["trade_name"].astype(str),
            "legal_form": c["legal_form"].astype(str),
            "sbi_code": c["sbi_code"].astype(str),
            "kvk_number": c["kvk_number"].astype(str),
            "wage_tax_number": c["wage_tax_number"].astype(str),
            "address_id": _ids("address", c["address"]),
            "registered_on": _dates(c["registered"]),
            "dissolved_on": _dates(c["dissolved"]),
            "recognised_sponsor": c["sponsor"],
        })

    def addresses_frame(self) -> pl.DataFrame:
        a = self.addresses
        return pl.DataFrame({
            "entity_id": a.entity_ids(),
            "street": a["street"].astype(str),
            "house_number": a["house_number"],
            "addition": a["addition"].astype(str),
            "postcode": a["postcode"].astype(str),
            "town": a["town"].astype(str),
            "municipality": a["municipality"].astype(str),
        })


def _ids(kind: str, index: np.ndarray) -> pl.Series:
    return pl.Series([f"{kind}:{i:06d}" if i >= 0 else None for i in index.tolist()], dtype=pl.String)


def _dates(days: np.ndarray) -> pl.Series:
    """Day numbers as a Polars date column, ``NO_DATE`` as null."""
    raw = pl.Series("day", days, dtype=pl.Int64)
    return pl.select(pl.when(raw == NO_DATE).then(None).otherwise(raw).cast(pl.Int32).cast(pl.Date)).to_series()


def _female_form(nationality: str, name: str) -> str:
    """Slavic family names agree with the bearer's sex: Kowalski -> Kowalska, Ivanov -> Ivanova."""
    if nationality == "PL":
        for male, female in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
            if name.endswith(male):
                return name[: -len(male)] + female
    if nationality == "BG" and name.endswith(("ov", "ev")):
        return name + "a"
    return name


_LEGAL_FORMS_BY_TAG = {
    "horeca": (("BV", "VOF", "Eenmanszaak"), (0.5, 0.25, 0.25)),
    "beauty": (("Eenmanszaak", "BV", "VOF"), (0.6, 0.3, 0.1)),
    "massage": (("Eenmanszaak", "BV"), (0.6, 0.4)),
    "sex": (("BV", "Eenmanszaak"), (0.8, 0.2)),
    "education": (("Stichting",), (1.0,)),
    "care": (("BV", "Stichting", "Eenmanszaak"), (0.5, 0.3, 0.2)),
    "construction": (("BV", "Eenmanszaak", "VOF"), (0.5, 0.4, 0.1)),
    "office": (("BV", "Eenmanszaak"), (0.5, 0.5)),
    "it": (("BV", "Eenmanszaak"), (0.6, 0.4)),
    "agri": (("BV", "VOF", "Eenmanszaak", "CV"), (0.45, 0.35, 0.15, 0.05)),
    "retail": (("BV", "Eenmanszaak", "VOF", "NV"), (0.55, 0.3, 0.13, 0.02)),
}


def _draw_legal_form(rng, tag: str) -> str:
    forms, weights = _LEGAL_FORMS_BY_TAG.get(tag, (("BV", "Eenmanszaak", "NV"), (0.85, 0.13, 0.02)))
    return str(rng.choice(forms, p=weights))


def _draw_registered(rng, n: int) -> np.ndarray:
    """Registration dates: most companies are older than the extract window, some new."""
    when = rng.random(n)
    old = rng.integers(day(1985), day(2015), n)
    recent = rng.integers(day(2015), day(2022), n)
    new = rng.integers(WINDOW_START, day(2025, 6, 30), n)
    return np.where(when < 0.5, old, np.where(when < 0.85, recent, new))


def _employer_weight(rng, tags: np.ndarray, legal_form: np.ndarray) -> np.ndarray:
    """How many employees a company draws: heavy-tailed, most small, a few large."""
    size = np.minimum(rng.pareto(1.1, len(tags)) + 1.0, 400.0)
    boost = np.array([{"temp": 4.0, "cleaning": 2.5, "agri": 2.0, "transport": 1.8, "education": 30.0,
                       "care": 3.0, "retail": 1.5}.get(t, 1.0) for t in tags])
    small = np.where(legal_form == "Eenmanszaak", 0.15, 1.0)
    return size * boost * small


def _company_name(rng, vocab: Vocabulary, tag: str, legal_form: str) -> tuple[str, str]:
    """Statutory name and trade name (handelsnaam)."""
    words = vocab.words[tag]
    word = str(rng.choice(words))
    any_words = vocab.words["any"]
    nat = "NL" if rng.random() < 0.8 else str(rng.choice(list(vocab.family)))
    parts, cores = vocab.family[nat]
    k = rng.integers(0, len(cores))
    person = f"{parts[k]} {cores[k]}".strip()
    person = person[0].upper() + person[1:]
    core = person if rng.random() < 0.5 else str(rng.choice(any_words))
    suffix = LEGAL_FORM_SUFFIX[legal_form]
    if legal_form == "Eenmanszaak":
        name = f"{word} {cores[k]}"
        return name, name
    if legal_form == "Stichting":
        name = f"Stichting {word} {core}"
        return name, f"{word} {core}"
    if legal_form == "VOF":
        j = rng.integers(0, len(cores))
        base = f"{cores[k]} & {cores[j]} {word}"
        return f"{base} {suffix}", base
    base = f"{core} {word}"
    if rng.random() < 0.45:  # a trade name unlike the statutory name
        return f"{base} {suffix}", f"{rng.choice(any_words)} {rng.choice(words)}"
    return f"{base} {suffix}", base


# Share of each group of ordinary persons per residence purpose (IND), by nationality.
_PURPOSES = {
    "UA": (("arbeid", "studie", "gezinshereniging"), (0.6, 0.2, 0.2)),
    "TR": (("gezinshereniging", "arbeid", "kennismigrant"), (0.6, 0.2, 0.2)),
    "MA": (("gezinshereniging", "arbeid", "studie"), (0.8, 0.1, 0.1)),
    "IN": (("kennismigrant", "studie", "gezinshereniging"), (0.6, 0.2, 0.2)),
    "CN": (("studie", "kennismigrant", "gezinshereniging"), (0.4, 0.35, 0.25)),
    "VN": (("studie", "arbeid", "gezinshereniging"), (0.4, 0.3, 0.3)),
    "PH": (("arbeid", "gezinshereniging", "kennismigrant"), (0.5, 0.3, 0.2)),
}

# Household sizes of ordinary dwellings (CBS: about 2.1 persons per household), a few large families.
_HOUSEHOLD = (np.array([1, 2, 3, 4, 5, 6, 7, 8]), np.array([0.37, 0.33, 0.12, 0.115, 0.05, 0.01, 0.003, 0.002]))


def _relatives_and_namesakes(rng, sizes, nationality, sex, given, particle, family, birth) -> None:
    """What makes persons hard to tell apart in real registers, in place: members of a household
    often share the family name (and the address), twins share the date of birth as well, and
    unrelated namesakes exist, a few of them born on the same day."""
    n = len(given)
    first = np.repeat(np.cumsum(sizes) - sizes, sizes)[:n]
    position = np.arange(n) - first
    # Slavic family names differ by sex; keep those only between members of one sex.
    same_form = (sex == sex[first]) | ~np.isin(nationality, ["PL", "BG"])
    relative = (position > 0) & (nationality == nationality[first]) & same_form & (rng.random(n) < 0.6)
    particle[relative] = particle[first[relative]]
    family[relative] = family[first[relative]]
    size = np.repeat(sizes, sizes)[:n]
    twin = np.flatnonzero((position == 2) & (size >= 3) & (sex == np.roll(sex, 1)) & (rng.random(n) < 0.08))
    birth[twin] = birth[twin - 1]
    particle[twin] = particle[twin - 1]
    family[twin] = family[twin - 1]
    namesake = np.flatnonzero(rng.random(n) < 0.015)
    other = rng.integers(0, n, namesake.size)
    fits = (nationality[other] == nationality[namesake]) & (sex[other] == sex[namesake]) & (other != namesake)
    namesake, other = namesake[fits], other[fits]
    given[namesake] = given[other]
    particle[namesake] = particle[other]
    family[namesake] = family[other]
    same_day = rng.random(namesake.size) < 0.1
    birth[namesake[same_day]] = birth[other[same_day]]


def build_population(rng: np.random.Generator, persons: int, vocab: Vocabulary | None = None,
                     companies_per_person: float = 1 / 12) -> World:
    """The ordinary population: persons living in households, and companies."""
    vocab = vocab or load_vocabulary()
    addr_cols = ("street", "house_number", "addition", "postcode", "town", "municipality")
    person_cols = ("nationality", "sex", "given", "particle", "family", "birth", "bsn", "v_all", "address",
                   "address2", "moved_on", "reserved", "ind_purpose")
    company_cols = ("name", "trade_name", "legal_form", "sbi_code", "tag", "kvk_number", "wage_tax_number",
                    "address", "registered", "dissolved", "ordinary", "employer_weight", "sponsor")
    world = World(vocab, Book("address", addr_cols), Book("person", person_cols), Book("company", company_cols),
                  universities=np.empty(0, dtype=np.int64), _recruit_queue=rng.permutation(persons),
                  _buildings=set())
    n = persons
    log.info("population: %d persons", n)
    # Households: dwellings of one to six persons; one building in eight holds several units.
    sizes = rng.choice(_HOUSEHOLD[0], size=n // 2 + 16, p=_HOUSEHOLD[1])
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n) + 1]
    homes = world.new_addresses(rng, len(sizes), addition_share=0.12)
    home_of = np.repeat(homes, sizes)[:n]
    # A household shares a nationality most of the time.
    nat = vocab.nationalities
    household_nat = rng.choice(nat.code, size=len(sizes), p=nat.share / nat.share.sum())
    nationality = np.repeat(household_nat, sizes)[:n].astype(object)
    mixed = rng.random(n) < 0.15
    nationality[mixed] = rng.choice(nat.code, size=int(mixed.sum()), p=nat.share / nat.share.sum())
    sex = rng.choice(np.array(["M", "F"], dtype=object), size=n)
    ages = 15 + 70 * rng.beta(1.3, 1.6, n)  # 15 to 85 (younger ones are in no extract), most of working age
    birth = (day(2024, 6, 30) - ages * 365.25).astype(np.int64)
    bsn = _eleven_proof_numbers(rng, n)
    v_all = _distinct_integers(rng, n, 10**9, 10**10)
    moved = rng.random(n) < 0.08
    address2 = np.full(n, -1, dtype=np.int64)
    address2[moved] = world.new_addresses(rng, int(moved.sum()), addition_share=0.12)
    moved_on = np.where(moved, rng.integers(WINDOW_START + 60, WINDOW_END - 60, n), NO_DATE)
    given, particle, family = world.draw_names(rng, nationality, sex)
    _relatives_and_namesakes(rng, sizes, nationality, sex, given, particle, family, birth)
    world.persons.append(
        nationality=nationality, sex=sex, given=given, particle=particle, family=family, birth=birth,
        bsn=np.array([f"{b:09d}" for b in bsn.tolist()], dtype=object),
        v_all=np.array([str(v) for v in v_all.tolist()], dtype=object), address=home_of.astype(np.int64),
        address2=address2, moved_on=moved_on, reserved=np.zeros(n, dtype=bool), ind_purpose=_strings(n),
    )
    # Residence purpose of the non-EU persons who hold a permit.
    purpose = _strings(n)
    share = dict(zip(nat.code.tolist(), nat.permit_share.tolist()))
    holds = rng.random(n) < np.array([share[c] for c in nationality])
    for code, (purposes, weights) in _PURPOSES.items():
        rows = np.flatnonzero((nationality == code) & holds)
        purpose[rows] = rng.choice(np.array(purposes, dtype=object), rows.size, p=weights)
    students = (purpose == "studie") & (ages > 30)
    purpose[students] = "gezinshereniging"
    world.persons.set("ind_purpose", slice(None), purpose)
    # Companies: a pool of KvK numbers and RSINs big enough for networks too.
    n_companies = max(int(n * companies_per_person), 20)
    pool = n_companies * 2 + 20_000
    world._kvk_pool = _distinct_integers(rng, pool, 10**7, 10**8)
    world._rsin_pool = _eleven_proof_numbers(rng, pool, first_digit_low=8)
    sectors = vocab.sectors
    tags = rng.choice(sectors.tag, size=n_companies, p=sectors.weight / sectors.weight.sum()).astype(object)
    ordinary = world.new_companies(rng, n_companies, tags)
    # Some are registered at a business centre that houses several of them (benign, and
    # looking like a letterbox address to a single register).
    at_centre = ordinary[rng.random(n_companies) < 0.04]
    if at_centre.size:
        centres = world.new_addresses(rng, max(1, at_centre.size // 6))
        world.companies.set("address", at_centre, rng.choice(centres, at_centre.size))
    # One company in ten is wound up during the window, some of them soon after they started.
    registered = world.companies["registered"][ordinary]
    ends = rng.random(n_companies) < 0.10
    start = np.maximum(registered, WINDOW_START)
    end = np.minimum(start + rng.integers(120, 1400, n_companies), WINDOW_END - 30)
    world.companies.set("dissolved", ordinary[ends & (end > start)], end[ends & (end > start)])
    world.universities = world.new_companies(rng, 2 + n // 100_000, "education", registered=day(1960),
                                             employer_weight=200.0)
    # Recognised au-pair agencies sponsor every au pair (residence purpose "uitwisseling").
    world.au_pair_agencies = world.new_companies(rng, 2 + n // 100_000, "aupair", legal_form="BV",
                                                 registered=rng.integers(day(1995), day(2012), 2 + n // 100_000),
                                                 employer_weight=0.0)
    log.info("population: %d addresses, %d companies", world.addresses.size, world.companies.size)
    return world
