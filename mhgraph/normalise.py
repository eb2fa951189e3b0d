"""Normalisers for the values partners write in many ways.

Each function takes one raw value and returns its canonical form, or ``None``
when nothing usable is left. They run on the partner's side before
pseudonymisation (so that ``12-a`` and ``12A`` hash alike) and inside the
engine for the plaintext columns a spec keeps (dates, categories).

>>> postcode(" 1234 ab")
'1234AB'
>>> house_number("12-a", None)
(12, 'A')
>>> family_name_core("Berg, van der")
'berg'
>>> company_name("Schoonmaak Holding B.V.")
'schoonmaak'
>>> parse_date("31-01-2024")
datetime.date(2024, 1, 31)
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata

__all__ = [
    "DATE_FORMATS",
    "company_name",
    "family_name_core",
    "fold",
    "given_name",
    "house_number",
    "initial",
    "parse_date",
    "postcode",
]

_POSTCODE = re.compile(r"^([1-9][0-9]{3})\s*([A-Z]{2})$")
_HOUSE = re.compile(r"^\s*(\d{1,5})\s*[-/ ]?\s*([A-Z0-9]{0,6})\s*$")
_NON_ALNUM = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")

# Dutch name particles (tussenvoegsels), longest first so "van der" wins over "van".
_PARTICLES = sorted(
    [
        "van der", "van den", "van de", "van het", "van 't", "in 't", "in het", "op den", "op de",
        "uit den", "uit de", "aan de", "aan den", "bij de", "ter", "ten", "van", "der", "den",
        "de", "het", "'t", "te", "vd", "v.d.", "v/d", "la", "le", "du", "di", "da", "al", "el",
    ],
    key=len,
    reverse=True,
)

# Legal-form words that say nothing about which company it is.
_LEGAL_FORMS = {
    "bv", "b v", "nv", "n v", "vof", "v o f", "cv", "c v", "holding", "holdings", "eenmanszaak",
    "stichting", "vereniging", "cooperatie", "ua", "u a", "ba", "b a", "ltd", "gmbh", "sp", "zoo",
    "sp z o o", "srl", "the",
}

DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y%m%d", "%d.%m.%Y", "%Y/%m/%d")


def fold(text: str | None) -> str | None:
    """Lower case, diacritics removed, punctuation to spaces, spaces collapsed.

    >>> fold("  Łukasz  Wójcik-Nowak ")
    'lukasz wojcik nowak'
    """
    if text is None:
        return None
    text = text.replace("ł", "l").replace("Ł", "L").replace("ß", "ss").replace("ø", "o").replace("Ø", "O")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    cleaned = _SPACES.sub(" ", _NON_ALNUM.sub(" ", stripped)).strip()
    return cleaned or None


def postcode(raw: str | None) -> str | None:
    """Dutch postcode as ``1234AB``; ``None`` when it is not a valid postcode."""
    if raw is None:
        return None
    match = _POSTCODE.match(raw.strip().upper())
    return f"{match.group(1)}{match.group(2)}" if match else None


def house_number(number: str | int | None, addition: str | None) -> tuple[int, str] | None:
    """House number and addition; ``12A``, ``12-a``, ``12 a`` all become ``(12, 'A')``.

    The addition may sit in the number column (``"12-a"``) or in its own column.
    """
    if number is None:
        return None
    match = _HOUSE.match(str(number).upper())
    if not match:
        return None
    extra = (addition or "").upper()
    extra = re.sub(r"[^A-Z0-9]", "", extra)
    return int(match.group(1)), (match.group(2) or "") + extra


def given_name(raw: str | None) -> str | None:
    """Folded given names; ``"J."`` stays ``"j"`` so that it can be compared as an initial."""
    return fold(raw)


def initial(raw: str | None) -> str | None:
    """First letter of the folded given name."""
    folded = fold(raw)
    return folded[0] if folded else None


def family_name_core(raw: str | None) -> str | None:
    """Family name without particles, in any of the orders partners write it.

    ``"van der Berg"``, ``"Berg, van der"``, ``"Vd Berg"`` and ``"berg"`` all give ``"berg"``.
    """
    if raw is None:
        return None
    text = raw.strip()
    if "," in text:  # "Berg, van der": the part after the comma holds the particles
        main, _, _rest = text.partition(",")
        text = main
    folded = fold(text.replace("v.d.", "vd ").replace("v/d", "vd "))
    if not folded:
        return None
    changed = True
    while changed:
        changed = False
        for particle in _PARTICLES:
            p = fold(particle)
            if p and folded.startswith(p + " "):
                folded = folded[len(p) + 1 :]
                changed = True
                break
    return folded or None


def company_name(raw: str | None) -> str | None:
    """Company name without legal-form words (BV, B.V., Holding, VOF, ...)."""
    folded = fold(raw)
    if folded is None:
        return None
    # "b.v." folds to "b v": drop legal forms as word sequences.
    words = folded.split(" ")
    kept: list[str] = []
    i = 0
    while i < len(words):
        pair = " ".join(words[i : i + 2])
        triple = " ".join(words[i : i + 4])
        if triple in _LEGAL_FORMS:
            i += 4
        elif pair in _LEGAL_FORMS:
            i += 2
        elif words[i] in _LEGAL_FORMS:
            i += 1
        else:
            kept.append(words[i])
            i += 1
    return " ".join(kept) or folded


def parse_date(raw: str | _dt.date | None, formats: tuple[str, ...] = DATE_FORMATS) -> _dt.date | None:
    """The first of ``formats`` that parses ``raw``; ``None`` when none does."""
    if raw is None:
        return None
    if isinstance(raw, _dt.datetime):
        return raw.date()
    if isinstance(raw, _dt.date):
        return raw
    text = str(raw).strip()
    for fmt in formats:
        try:
            return _dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None
