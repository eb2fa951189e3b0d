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
>>> municipality("  's-HERTOGENBOSCH ")
"'s-Hertogenbosch"
>>> number("1.234,56")
1234.56

The ``*_expr`` functions are the vectorised forms the engine applies to whole columns;
the scalar function of the same name runs that expression on one value.
"""

from __future__ import annotations

import csv
import datetime as _dt
import functools
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

__all__ = [
    "ASCII_DIGITS",
    "DATE_FORMATS",
    "ascii_digits_expr",
    "category_key",
    "category_key_expr",
    "company_name",
    "date_expr",
    "family_name_core",
    "fold",
    "given_name",
    "given_name_forms",
    "house_number",
    "initial",
    "municipality",
    "municipality_expr",
    "name_words",
    "number",
    "number_expr",
    "parse_date",
    "postcode",
]

_DATA = Path(__file__).parent / "data"
_POSTCODE = re.compile(r"^([1-9][0-9]{3})\s*-?\s*([A-Z]{2})$")
# The addition may carry its own separators ("12 A-2", "12-a 1"); they are dropped.
_HOUSE = re.compile(r"^\s*(\d{1,5})\s*[-/ ]?\s*([A-Z0-9][A-Z0-9 ./-]*)?\s*$")
_MAX_ADDITION = 6
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


# Letters that Unicode does not decompose into a base letter plus a diacritic. The Turkish
# dotless ı must become i like its capital I does, or "Yılmaz" and "YILMAZ" would differ.
_UNDECOMPOSABLE = str.maketrans({
    "ł": "l", "Ł": "L", "ß": "ss", "ẞ": "SS", "ø": "o", "Ø": "O", "ı": "i", "æ": "ae", "Æ": "AE",
    "œ": "oe", "Œ": "OE", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH",
})


def fold(text: str | None) -> str | None:
    """Lower case, diacritics removed, punctuation to spaces, spaces collapsed.

    >>> fold("  Łukasz  Wójcik-Nowak ")
    'lukasz wojcik nowak'
    >>> fold("Yılmaz") == fold("YILMAZ")
    True
    """
    if text is None:
        return None
    text = text.translate(_UNDECOMPOSABLE)
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
    inline = re.sub(r"[^A-Z0-9]", "", match.group(2) or "")
    if len(inline) > _MAX_ADDITION:
        return None
    extra = (addition or "").upper()
    extra = re.sub(r"[^A-Z0-9]", "", extra)
    return int(match.group(1)), inline + extra


# Titles and honorifics written before or among the given names (Dutch, English, German,
# Spanish): they say nothing about who it is. No word that is also a given name somewhere
# ("don", "jun", "sen", "pan") or an initial ("m") is among them.
_TITLES = frozenset({
    "dhr", "mevr", "mw", "mevrouw", "heer", "ir", "ing", "drs", "dr", "mr", "prof", "jhr", "jkvr", "ds",
    "sir", "lady", "lord", "dame", "mrs", "ms", "miss", "rev", "revd", "capt", "col", "maj", "lt",
    "sgt", "herr", "frau", "sr", "sra", "srta", "jr",
})
# Diminutives and the formal given names they stand for (``mhgraph/data/README.md``).
_DIMINUTIVE_FILES = ("diminutives_en.csv", "diminutives_eu.csv")
# A diminutive of more formal names than this ("al": alan, albert, alfred, ...) is left as it is:
# their bigrams together would resemble every name.
MAX_FORMAL_NAMES = 2


def given_name(raw: str | None) -> str | None:
    """Folded given names without titles; ``"J."`` stays ``"j"`` so that it can be compared as
    an initial.

    >>> given_name("Sir Thomas"), given_name("dhr. J."), given_name("Dr.")
    ('thomas', 'j', None)
    """
    folded = fold(raw)
    if folded is None:
        return None
    return " ".join(word for word in folded.split(" ") if word not in _TITLES) or None


@functools.cache
def _formal_names() -> dict[str, tuple[str, ...]]:
    """Diminutive -> the formal names it stands for, where those are few: the longer names
    listed for it, less those that are a diminutive of another of them ("thom" of "thomas")."""
    formal: dict[str, set[str]] = {}
    for name in _DIMINUTIVE_FILES:
        with (_DATA / name).open(encoding="utf-8") as rows:
            for row in csv.DictReader(rows):
                formal.setdefault(fold(row["diminutive"]), set()).add(fold(row["name"]))
    out = {}
    for short, names in formal.items():
        longer = {name for name in names if len(name) > len(short)}
        kept = {name for name in longer if not any(len(other) > len(name) for other in formal.get(name, set()) & longer)}
        if 0 < len(kept) <= MAX_FORMAL_NAMES:
            out[short] = tuple(sorted(kept))
    return out


def given_name_forms(raw: str | None) -> str | None:
    """:func:`given_name` followed by the formal names of its diminutives: what the given-name
    filter encodes, so that "Tom" and "Thomas" share most of their bigrams.

    >>> given_name_forms("Tom"), given_name_forms("Kees"), given_name_forms("Thomas")
    ('tom thomas', 'kees cornelis', 'thomas')
    """
    names = given_name(raw)
    if names is None:
        return None
    formal, words = _formal_names(), names.split(" ")
    extra = [f for word in words for f in formal.get(word, ()) if f not in words]
    return " ".join([*words, *dict.fromkeys(extra)])


def initial(raw: str | None) -> str | None:
    """First letter of the folded given name."""
    folded = fold(raw)
    return folded[0] if folded else None


# Particles folded once, with their separating space: family names are normalised by the million.
_FOLDED_PARTICLES = tuple(p + " " for p in (fold(x) for x in _PARTICLES) if p)


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
    lowered = text.lower()
    folded = fold(lowered.replace("v.d.", "vd ").replace("v/d", "vd "))
    if not folded:
        return None
    changed = True
    while changed:
        changed = False
        for prefix in _FOLDED_PARTICLES:
            if folded.startswith(prefix):
                folded = folded[len(prefix) :]
                changed = True
                break
    return folded or None


def name_words(given: str | None, family: str | None) -> str | None:
    """All words of a person's names, whichever field holds them: the given names (no titles)
    and the family-name core (particles dropped only where :func:`family_name_core` drops them:
    before the name), each word once, in alphabetical order — so that swapped names, a family
    name written in the given-name field and names merged into one field give the same or
    nearly the same text. Words of the given-name field stay as written: "Van Minh" is a given
    name, and "Le" or "Van" alone is a family name.

    >>> name_words("Jan", "de Vries"), name_words("Vries", "Jan"), name_words("Jan Vries", None)
    ('jan vries', 'jan vries', 'jan vries')
    >>> name_words("Minh", "Le"), name_words("Van Minh", "Nguyen"), name_words(None, "Le")
    ('le minh', 'minh nguyen van', 'le')
    >>> name_words(None, None) is None
    True
    """
    words = [*(given_name(given) or "").split(" "), *(family_name_core(family) or "").split(" ")]
    return " ".join(sorted({w for w in words if w})) or None


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


def date_expr(expr: pl.Expr, formats: Sequence[str] = DATE_FORMATS) -> pl.Expr:
    """Vectorised :func:`parse_date`: the first of ``formats`` that parses each value, else null.

    Impossible dates such as ``31-02-2024`` give null in every format.

    >>> pl.select(date_expr(pl.lit("31-02-2024"), ["%d-%m-%Y"])).item() is None
    True
    """
    return pl.coalesce([expr.str.strptime(pl.Date, fmt, strict=False) for fmt in formats])


@functools.cache
def _ascii_digits() -> dict[str, str]:
    """Every non-ASCII Unicode decimal digit (\\p{Nd}: full-width, Arabic-Indic, Devanagari, ...)
    and the ASCII digit it stands for. NFKC maps the full-width digits only, and an identifier
    written in any of them is the same identifier. Built on first use: scanning all of Unicode
    costs about 90 ms of CPU, which every command and worker process would pay at import."""
    return {ch: str(unicodedata.decimal(ch)) for ch in map(chr, range(0x80, sys.maxunicode + 1))
            if unicodedata.category(ch) == "Nd"}


def __getattr__(name: str):
    if name == "ASCII_DIGITS":  # built when first asked for, then an attribute like any other
        globals()[name] = _ascii_digits()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ascii_digits_expr(expr: pl.Expr) -> pl.Expr:
    """Every decimal digit of ``expr`` as its ASCII digit; everything else as it is.

    >>> pl.select(ascii_digits_expr(pl.lit("１１１ ٢٢٢ ३३३ ۴x"))).item()
    '111 222 333 4x'
    """
    return expr.str.replace_many(_ascii_digits())


# A single "." or "," followed by digits is a decimal separator ("12,5" and "12.5" are 12.5);
# thousands separators are recognised only where they are unambiguous: both separators
# appear ("1.234,56", "1,234.56") or the same one groups digits more than once ("1.234.567").
_DUTCH_GROUPED = r"^[+-]?\d{1,3}(\.\d{3}){2,}$|^[+-]?\d{1,3}(\.\d{3})+,\d+$"
_ENGLISH_GROUPED = r"^[+-]?\d{1,3}(,\d{3}){2,}$|^[+-]?\d{1,3}(,\d{3})+\.\d+$"
_DECIMAL_COMMA = r"^[+-]?(\d+,\d*|,\d+)$"
_PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def number_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised :func:`number`: Dutch and English notation to ``Float64``, else null.

    The value without spaces (``text``) and the number read (``value``) are struct fields, so
    that the tests naming them read the field instead of repeating the expression (an eager
    select shares no subexpressions; at volume the repeats took four fifths of the time).
    The result keeps the input's name:

    >>> pl.DataFrame({"x": ["1.234,5", "twelve"]}).with_columns(number_expr(pl.col("x")))["x"].to_list()
    [1234.5, None]
    """
    text, value = pl.field("text"), pl.field("value")
    canonical = (
        pl.when(text.str.contains(_DUTCH_GROUPED))
        .then(text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True))
        .when(text.str.contains(_ENGLISH_GROUPED))
        .then(text.str.replace_all(",", "", literal=True))
        .when(text.str.contains(_DECIMAL_COMMA))
        .then(text.str.replace(",", ".", literal=True))
        .when(text.str.contains(_PLAIN_NUMBER))
        .then(text)
    )
    number = (
        pl.struct(text=expr.str.replace_all(r"[\s\u00a0€]", ""))
        .struct.with_fields(value=canonical.cast(pl.Float64, strict=False))
        .struct.with_fields(number=pl.when(value.is_finite()).then(value))
        .struct.field("number")
    )
    name = expr.meta.output_name(raise_if_undetermined=False)
    return number.alias(name) if name else number


def number(raw: str | None) -> float | None:
    """A number as partners write it: ``"1.234,56"``, ``"1234,56"``, ``"1,234.56"``, ``"€ 12,50"``.

    >>> number("12,5"), number("1.234.567"), number("twelve")
    (12.5, 1234567.0, None)
    """
    return _one_value(number_expr, raw)


# Words written in lower case inside a municipality name ("Bergen op Zoom", "Alphen aan den Rijn").
_MUNICIPALITY_SMALL_WORDS = ("aan", "bij", "de", "den", "der", "en", "het", "in", "op", "onder", "van")


def municipality_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised :func:`municipality`."""
    text = expr.str.strip_chars().str.replace_all(r"\s+", " ").str.to_lowercase().str.to_titlecase()
    for word in _MUNICIPALITY_SMALL_WORDS:
        text = text.str.replace_all(rf"(\s){word.title()}(\s)", rf"${{1}}{word}${{2}}")
    text = text.str.replace(r"^'S-", "'s-").str.replace(r"^'T ", "'t ")
    text = text.str.replace_all(r"(^|[\s-])Ij", "${1}IJ")
    return pl.when(text != "").then(text)


def municipality(raw: str | None) -> str | None:
    """Municipality name trimmed and title-cased the Dutch way.

    >>> municipality("CAPELLE AAN DEN IJSSEL"), municipality("súdwest-fryslân")
    ('Capelle aan den IJssel', 'Súdwest-Fryslân')
    """
    return _one_value(municipality_expr, raw)


# An SBI 2008 code by its digits: a division (01-99; there is no 00), then at most a group,
# class and subclass digit (the Dutch SBI's fifth): 2 to 5 digits; or one digit, a division 01-03
# or 05-09 whose leading zero a spreadsheet dropped, kept like 111 for 0111 (there is no division 04).
_SBI_CODE = r"^(?:(?:0[1-9]|[1-9][0-9])[0-9]{0,3}|[1-35-9])$"
# What partners write for "no code" (n.v.t., n/a, onbekend; after category_key): empty, not wrong.
_SBI_NO_CODE = ("nvt", "na", "nb", "onbekend", "geen", "leeg")


def sbi_code_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised :func:`sbi_code`."""
    code = ascii_digits_expr(expr.str.replace_all(r"[.\s]", ""))
    return pl.when(code.str.contains(_SBI_CODE)).then(code)


def sbi_code(raw: str | None) -> str | None:
    """An SBI sector code as the rules compare it, by its leading digits: dots and spaces removed;
    ``None`` for anything but 2 to 5 digits of a division 01-99 (``0``, ``00000``, ``0x1``, ``A``)
    or the lone digit of a division 01-03 or 05-09 (``4``: there is no division 04).
    A code that lost its leading zero (``1130`` for ``01130``, ``1`` for ``01``, ``8`` for ``08``) is kept as it is:
    it cannot be told apart from a code of its own (see :func:`sbi_code_may_have_lost_zero_expr`).

    >>> sbi_code("10.13"), sbi_code(" 01 13 0"), sbi_code("1130"), sbi_code("1"), sbi_code("8")
    ('1013', '01130', '1130', '1', '8')
    >>> sbi_code("0"), sbi_code("4"), sbi_code("00000"), sbi_code("0x1"), sbi_code("101300")
    (None, None, None, None, None)
    """
    return _one_value(sbi_code_expr, raw)


def sbi_code_may_have_lost_zero_expr(code: pl.Expr) -> pl.Expr:
    """True for a normalised SBI code that may be a code of divisions 01-03 (agriculture, forestry,
    fishing) whose leading zero a spreadsheet dropped: two to four digits, the first 1-3 (a group
    ``011``, class ``0113`` or subclass ``01130`` read as a number), or the single digit of a
    division ``01`` to ``03`` read as one; and the single digit of a division ``05`` to ``09``
    (mining and quarrying) read as one, which is no code of its own either. A longer code
    starting with 5-9 is not counted (``561`` is taken for the restaurant code it reads as).

    >>> codes = pl.Series(["1130", "113", "11", "1", "8", "01130", "4120", "10130", "561"])
    >>> pl.select(sbi_code_may_have_lost_zero_expr(codes)).to_series().to_list()
    [True, True, True, True, True, False, False, False, False]
    """
    return code.str.contains(r"^(?:[1-3]\d{0,3}|[5-9])$").fill_null(False)


def sbi_no_code_expr(raw: pl.Expr) -> pl.Expr:
    """True for a raw SBI value that stands for no code (``-``, ``n.v.t.``, ``N/A``, ``onbekend``):
    left empty, as an empty cell is, instead of quarantined as a wrong code.

    >>> pl.select(sbi_no_code_expr(pl.Series(["-", "n.v.t.", "N/A", "?", "0", "A", None]))).to_series().to_list()
    [True, True, True, True, False, False, False]
    """
    key = category_key_expr(raw)
    return (raw.is_not_null() & (key.is_null() | key.is_in(_SBI_NO_CODE))).fill_null(False)


def category_key_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised :func:`category_key`."""
    key = expr.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]", "")
    return pl.when(key != "").then(key)


def category_key(raw: str | None) -> str | None:
    """The form in which category values are compared: lower case, letters and digits only,
    so that ``"B.V."`` matches ``"BV"`` and ``"Onbepaalde Tijd"`` matches ``"onbepaalde tijd"``.

    >>> category_key("B.V."), category_key(" Onbepaalde  Tijd ")
    ('bv', 'onbepaaldetijd')
    """
    return _one_value(category_key_expr, raw)


def _one_value(expr_builder: Callable[[pl.Expr], pl.Expr], raw: str | None):
    """Run a column expression on one value, so that scalar and column forms cannot drift apart."""
    return pl.select(expr_builder(pl.lit(raw, dtype=pl.String))).item()
