"""Small generated mentions for the entity-resolution tests, encoded with mhgraph.crypto."""

from __future__ import annotations

import datetime
import random
from pathlib import Path

import polars as pl

from mhgraph import normalise
from mhgraph.crypto import Key, address_keys, bloom_encode, keyed_hash, person_match_keys
from mhgraph.resolve.settings import DEFAULT_SETTINGS

KEY = Key(b"resolve tests key, sixteen bytes or more")

GIVEN = ["jan", "piet", "klaas", "maria", "anna", "sophie", "daan", "lucas", "emma", "julia", "tomasz", "agnieszka",
         "mohamed", "fatima", "ionut", "elena", "pieter", "johannes", "willem", "hendrik", "cornelia", "petra",
         "sanne", "lotte", "bram", "thijs", "femke", "ruben", "noor", "sem", "marek", "katarzyna", "andrei",
         "mihaela", "youssef", "samira", "ahmet", "zeynep", "dmitri", "olena", "vasile", "bogdan"]
FAMILY = ["jansen", "de vries", "van den berg", "bakker", "visser", "smit", "meijer", "de boer", "mulder", "kowalski",
          "nowak", "popescu", "el amrani", "yilmaz", "hendriks", "dekker", "van dijk", "brouwer", "peters", "kok",
          "vermeulen", "van leeuwen", "de graaf", "wisniewski", "lewandowski", "ionescu", "dumitru", "ait said",
          "kaya", "demir", "schouten", "willems", "van der linden", "kuipers", "postma", "huisman", "shevchenko",
          "kovalenko", "boukhari", "benali"]


def person_row(mention_id: str, given: str | None, family: str | None, born: str | None, bsn: str | None = None,
               v_number: str | None = None, source: str = "test_source") -> dict:
    key_1, key_2 = person_match_keys(KEY, given, family, born)
    date = normalise.parse_date(born)
    return {
        "mention_id": mention_id,
        "entity_type": "person",
        "source": source,
        "partner": source.split("_")[0],
        "bsn": keyed_hash(KEY, "bsn", bsn),
        "v_number": keyed_hash(KEY, "v_number", v_number),
        "given_name_bf": bloom_encode(KEY, "given_name", normalise.given_name(given)),
        "family_name_bf": bloom_encode(KEY, "family_name", normalise.family_name_core(family)),
        "names_bf": bloom_encode(KEY, "names", normalise.name_words(given, family)),
        "birth_date_bf": bloom_encode(KEY, "birth_date", date.strftime("%Y%m%d")) if date else None,
        "match_key_1": key_1,
        "match_key_2": key_2,
    }


def address_row(mention_id: str, postcode: str, number: str, addition: str | None = None) -> dict:
    address_key, building_key = address_keys(KEY, postcode, number, addition)
    return {"mention_id": mention_id, "entity_type": "address", "address_key": address_key, "building_key": building_key}


def shipped_settings_changed(folder: Path, line: str, changed: str) -> Path:
    """A copy of the shipped settings file in ``folder`` with its one ``line`` changed."""
    shipped = DEFAULT_SETTINGS.read_text()
    assert shipped.count(line) == 1
    path = folder / "settings.toml"
    path.write_text(shipped.replace(line, changed))
    return path


def frame(rows: list[dict]) -> pl.DataFrame:
    columns = sorted({k for row in rows for k in row})
    return pl.DataFrame([{c: row.get(c) for c in columns} for row in rows],
                        schema={c: pl.String for c in columns})


def typo(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text))
    return text[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + text[i + 1 :]


def population(n_people: int, copies: int = 3, seed: int = 1, bsn_share: float = 0.6) -> tuple[pl.DataFrame, dict]:
    """``n_people`` distinct persons, each seen ``copies`` times with light noise (typos, a
    swapped day and month, an initial). Returns the mentions and mention_id -> true person."""
    rng = random.Random(seed)
    rows, truth = [], {}
    for p in range(n_people):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        born = f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        bsn = f"{100000000 + p}"
        for c in range(copies):
            g, f, d = given, family, born
            noise = rng.random()
            if c and noise < 0.25:
                g = typo(g, rng)
            elif c and noise < 0.4:
                f = typo(f, rng)
            elif c and noise < 0.5:
                y, m, day = d.split("-")
                d = f"{y}-{day}-{m}" if int(day) <= 12 else d
            elif c and noise < 0.6:
                g = g[0] + "."
            mention = f"src{c}/r{p:05d}/werknemer"
            rows.append(person_row(mention, g, f, d, bsn if rng.random() < bsn_share else None))
            truth[mention] = p
    return frame(rows), truth


def common_name_trap(n_people: int = 5000, seed: int = 8, namesakes: int = 0) -> tuple[pl.DataFrame, dict]:
    """``n_people`` persons without any identifier, 20% of them sharing ten family names, every
    one with a date of birth of their own; 30% are seen twice (a typo in one name now and then).
    A model that takes "same family name" for "same person" merges across dates of birth.
    The first ``namesakes`` persons are all called Jan Jansen."""
    rng = random.Random(seed)
    common = FAMILY[:10]
    syllables = ["an", "ber", "co", "da", "el", "fi", "go", "ha", "ir", "jo", "ka", "lu", "mo", "ni", "ol", "pe",
                 "ra", "si", "tu", "vo", "wi", "ze"]
    dates = rng.sample(range(365 * 60), n_people)
    rows, truth = [], {}
    for p in range(n_people):
        given = rng.choice(GIVEN)
        family = rng.choice(common) if rng.random() < 0.2 else "".join(rng.choices(syllables, k=3))
        if p < namesakes:
            given, family = "jan", "jansen"
        day = datetime.date(1950, 1, 1) + datetime.timedelta(days=dates[p])
        for c in range(2 if rng.random() < 0.3 else 1):
            g, f = given, family
            if c and rng.random() < 0.3:
                g, f = (typo(g, rng), f) if rng.random() < 0.5 else (g, typo(f, rng))
            mention = f"register{c}/p{p:05d}/persoon"
            rows.append(person_row(mention, g, f, day.isoformat()))
            truth[mention] = p
    return frame(rows), truth
