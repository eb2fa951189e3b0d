"""Small plaintext extracts for the ingest tests, pseudonymised the way a partner would.

Every test builds its input from these frames with ``mhgraph.pseudonymise``; the bad-input
corpus (``test_ingest_bad_input.py``) damages one clean delivered extract in one way per case.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import polars as pl

from mhgraph.crypto import Key
from mhgraph.pseudonymise import pseudonymise_frame, write_extract
from mhgraph.spec import SPEC_DIR, load_spec

KEY = Key(b"mhgraph ingest tests - shared key 2025")
OTHER_KEY = Key(b"mhgraph ingest tests - another partner's key")
CREATED = "2025-01-15"

GIVEN = ["Jan", "Anna", "Piotr", "Fatima", "Mehmet", "Sanne", "Łukasz", "Ioana", "Kees", "Noor"]
FAMILY = ["de Vries", "Jansen", "Kowalski", "El Amrani", "Yılmaz", "van der Berg", "Wójcik", "Popescu", "Bakker", "Visser"]
TOWNS = ["Arnhem", "'s-Hertogenbosch", "emmen", "EINDHOVEN", "Bergen op Zoom", "Súdwest-Fryslân"]
CONTRACTS = ["onbepaalde tijd", "bepaalde tijd", "oproep", "uitzend"]


def valid_bsn(seed: int) -> str:
    """A 9-digit number that passes the BSN eleven-test (deterministic in ``seed``)."""
    rng = random.Random(seed)
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
        total = sum(d * w for d, w in zip(digits, range(9, 1, -1)))
        last = total % 11
        if last < 10:
            return "".join(map(str, digits + [last]))


def plain_payroll(rows: int = 20, seed: int = 1) -> pl.DataFrame:
    """The Belastingdienst payroll extract as the partner holds it before pseudonymisation."""
    rng = random.Random(seed)
    start = dt.date(2023, 1, 1)
    records = []
    for i in range(rows):
        begin = start + dt.timedelta(days=rng.randint(0, 500))
        records.append({
            "regelnummer": f"L{i + 1:06d}",
            "werkgever_loonheffingennummer": f"{8000000 + i % 5:09d}L01",
            "werkgever_kvk_nummer": f"{60000000 + i % 5}",
            "werkgever_naam": ["Flex Uitzend B.V.", "Oogst Holding BV", "Schoon VOF", "Bouw & Co", "Kas Tomaat"][i % 5],
            "werknemer_bsn": valid_bsn(seed * 1000 + i),
            "werknemer_voornaam": GIVEN[i % len(GIVEN)],
            "werknemer_achternaam": FAMILY[(i * 3) % len(FAMILY)],
            "werknemer_geboortedatum": f"{rng.randint(1960, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "werknemer_adres_postcode": f"{rng.randint(1000, 9999)} {rng.choice('ABCDEFGH')}{rng.choice('JKLMNPRT')}",
            "werknemer_adres_huisnummer": str(rng.randint(1, 200)),
            "werknemer_adres_toevoeging": rng.choice(["", "", "A", "bis"]),
            "werknemer_adres_gemeente": TOWNS[i % len(TOWNS)],
            "datum_aanvang": begin.isoformat(),
            "datum_einde": (begin + dt.timedelta(days=rng.randint(30, 300))).isoformat() if i % 3 else "",
            "brutoloon": f"{rng.randint(800, 4000)}.{rng.randint(0, 99):02d}",
            "uren": str(rng.randint(40, 180)),
            "contractsoort": CONTRACTS[i % len(CONTRACTS)],
        })
    return pl.DataFrame(records)


def plain_referenten(rows: int = 6) -> pl.DataFrame:
    """The IND sponsor register before pseudonymisation."""
    return pl.DataFrame({
        "referent_id": [f"R{i}" for i in range(rows)],
        "referent_kvk_nummer": [f"{60000000 + i}" for i in range(rows)],
        "referent_naam": [f"Referent {i} B.V." for i in range(rows)],
        "status": [["erkend", "geschorst", "ingetrokken"][i % 3] for i in range(rows)],
        "datum_erkenning": [f"2020-0{1 + i % 9}-15" for i in range(rows)],
        "datum_wijziging": [None if i % 2 else "2024-06-01" for i in range(rows)],
    })


def plain_eindhoven(rows: int = 4) -> pl.DataFrame:
    """The Eindhoven permit register (delivered as Excel) before pseudonymisation."""
    spec = load_spec(SPEC_DIR / "gemeente_eindhoven_vergunningen.toml")
    columns = {c for b in spec.entities for c in b.plaintext.values()} | set(spec.delivered_columns)
    frame = {c: [None] * rows for c in sorted(columns)}
    frame.update({
        "zaak_id": [f"Z-2024-{i:04d}" for i in range(rows)],
        "categorie": [["SEKS", "MASSAGE", "HORECA", "ESCORT"][i % 4] for i in range(rows)],
        "status_code": [["V", "W", "A", "I"][i % 4] for i in range(rows)],
        "bibob_advies": [None, "geen gevaar", "ernstige mate", None][:rows] + [None] * max(0, rows - 4),
        "datum_besluit": [f"1{i % 9}-03-2024" for i in range(rows)],
        "exploitant_kvk_nummer": [f"7000000{i}" for i in range(rows)],
        "exploitant_naam": [f"Salon {i}" for i in range(rows)],
        "leidinggevende_bsn": [valid_bsn(50 + i) for i in range(rows)],
        "leidinggevende_voornaam": GIVEN[:rows],
        "leidinggevende_achternaam": FAMILY[:rows],
        "leidinggevende_geboortedatum": ["1980-01-02"] * rows,
        "pand_adres_postcode": ["5611 AB"] * rows,
        "pand_adres_huisnummer": [str(i + 1) for i in range(rows)],
        "pand_adres_gemeente": ["Eindhoven"] * rows,
    })
    return pl.DataFrame(frame, schema={c: pl.String for c in frame})


def deliver(folder: Path, spec_name: str, plain: pl.DataFrame, key: Key = KEY) -> Path:
    """Pseudonymise ``plain`` with ``key`` and write it as the partner delivers it (+ sidecar)."""
    spec = load_spec(SPEC_DIR / f"{spec_name}.toml")
    return write_extract(pseudonymise_frame(plain, spec, key), spec, folder, key.fingerprint, CREATED)


def spec_with_file_pattern(specs_dir: Path, spec_name: str, pattern: str) -> Path:
    """A copy of the shipped spec ``spec_name`` in ``specs_dir`` whose ``file`` is ``pattern`` (a
    glob: a partner delivering parts)."""
    specs_dir.mkdir(parents=True, exist_ok=True)
    text = (SPEC_DIR / f"{spec_name}.toml").read_text(encoding="utf-8")
    copy = specs_dir / f"{spec_name}.toml"
    line = f'file = "{spec_name}.csv"'
    assert text.count(line) == 1, f"{spec_name}.toml has no line {line}: the copy would not be a pattern"
    copy.write_text(text.replace(line, f'file = "{pattern}"'), encoding="utf-8")
    return copy
