"""Properties of the normalisers: the many ways partners write one value give one canonical form."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mhgraph import normalise

# Per test, not a global profile: other test modules keep their own settings.
NORMALISE_SETTINGS = settings(deadline=None, max_examples=150)

LETTERS = "abcdefghijklmnopqrstuvwxyz"
ACCENTED = "áàâäãåçéèêëíìîïñóòôöõøúùûüýÿłśźżčřšžğı"
PARTICLES = ["van", "van der", "van den", "de", "den", "ter", "ten", "van 't", "in 't", "op de", "v.d.", "vd", "van de"]
LEGAL_SUFFIXES = ["B.V.", "BV", "b.v.", "Holding B.V.", "Holding", "V.O.F.", "vof", "N.V.", "C.V.", "Stichting"]

words = st.text(alphabet=LETTERS + ACCENTED, min_size=3, max_size=12)
LEGAL_FORM_WORDS = {"bv", "nv", "vof", "cv", "holding", "holdings", "eenmanszaak", "stichting", "vereniging",
                    "cooperatie", "ua", "ba", "ltd", "gmbh", "sp", "zoo", "srl", "the"}
# a core name is not itself a particle or a legal-form word
core_names = words.filter(lambda w: normalise.fold(w) not in {normalise.fold(p) for p in PARTICLES} | LEGAL_FORM_WORDS)
spacing = st.sampled_from(["", " ", "  ", "-", " - "])


def _case(text: str, which: int) -> str:
    return (text, text.upper(), text.lower(), text.title())[which]


# ---------------------------------------------------------------------------- postcodes


@NORMALISE_SETTINGS
@given(st.integers(1000, 9999), st.text(alphabet="ABCDEFGHJKLMNPRSTVWXZ", min_size=2, max_size=2),
       spacing, st.integers(0, 3))
def test_postcode_written_any_way_is_one_postcode(number, letters, sep, case):
    written = f" {number}{sep}{_case(letters, case)} "
    assert normalise.postcode(written) == f"{number}{letters}"
    assert normalise.postcode(normalise.postcode(written)) == f"{number}{letters}"


@NORMALISE_SETTINGS
@given(st.integers(0, 999), st.text(alphabet=LETTERS, min_size=2, max_size=2))
def test_postcode_with_a_leading_zero_or_too_few_digits_is_refused(number, letters):
    assert normalise.postcode(f"{number:04d}{letters}") is None
    assert normalise.postcode(f"{number}{letters}{letters}") is None


# ------------------------------------------------------------------------- house numbers


@NORMALISE_SETTINGS
@given(st.integers(1, 99999), st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=0, max_size=4),
       st.sampled_from(["{n}{a}", "{n}-{a}", "{n} {a}", "{n}/{a}", " {n} - {a} "]), st.integers(0, 3))
def test_house_number_and_addition(number, addition, pattern, case):
    assume(not (addition and addition[0].isdigit() and pattern == "{n}{a}"))  # "12" + "3" is 123
    expected = (number, addition)
    written = pattern.format(n=number, a=_case(addition, case)).rstrip(" -/")
    assert normalise.house_number(written, None) == expected
    assert normalise.house_number(str(number), _case(addition, case)) == expected
    assert normalise.house_number(number, addition) == expected


def test_house_number_additions_with_their_own_separators():
    assert normalise.house_number("12 A-2", None) == (12, "A2")
    assert normalise.house_number("12-a 1", None) == (12, "A1")
    assert normalise.house_number("12 bis", None) == (12, "BIS")
    assert normalise.house_number("12 ABCDEFG", None) is None  # longer than any real addition
    assert normalise.house_number("twaalf", None) is None


# -------------------------------------------------------------------------------- names


@NORMALISE_SETTINGS
@given(st.text(max_size=30))
def test_fold_is_idempotent_and_plain(text):
    folded = normalise.fold(text)
    if folded is not None:
        assert re.fullmatch(r"[a-z0-9]+( [a-z0-9]+)*", folded)
        assert normalise.fold(folded) == folded


@NORMALISE_SETTINGS
@given(st.text(alphabet=LETTERS + ACCENTED + " -'", min_size=1, max_size=20))
def test_fold_ignores_case_also_for_letters_with_diacritics(text):
    assert normalise.fold(text.upper()) == normalise.fold(text) == normalise.fold(text.lower())


@pytest.mark.parametrize("accented, plain", [("Łukasz Wójcik", "lukasz wojcik"), ("Çelik", "celik"),
                                             ("Ørsted", "orsted"), ("Groß", "gross"), ("Yılmaz", "yilmaz")])
def test_fold_examples(accented, plain):
    assert normalise.fold(accented) == plain


@NORMALISE_SETTINGS
@given(core_names, st.sampled_from(PARTICLES), st.integers(0, 3))
def test_family_name_particles_and_order(name, particle, case):
    core = normalise.family_name_core(name)
    assert core == normalise.fold(name)
    assert normalise.family_name_core(_case(f"{particle} {name}", case)) == core
    assert normalise.family_name_core(_case(f"{name}, {particle}", case)) == core
    assert normalise.family_name_core(core) == core


@NORMALISE_SETTINGS
@given(core_names, core_names)
def test_given_name_initials(first, second):
    full = f"{first} {second}".title()
    assert normalise.initial(full) == normalise.fold(first)[0]
    assert normalise.given_name(f"{first[0].upper()}.") == normalise.fold(first[0])


# ------------------------------------------------------------------------ company names


@NORMALISE_SETTINGS
@given(st.lists(core_names, min_size=1, max_size=3), st.sampled_from(LEGAL_SUFFIXES), st.integers(0, 3))
def test_company_name_drops_legal_form_suffixes(name_words, suffix, case):
    base = " ".join(name_words)
    expected = normalise.company_name(base)
    assert expected == normalise.fold(base)
    assert normalise.company_name(_case(f"{base} {suffix}", case)) == expected
    assert normalise.company_name(f"Holding {base} B.V.") == expected


def test_company_name_examples():
    assert normalise.company_name("Schoonmaak Holding B.V.") == "schoonmaak"
    assert normalise.company_name("B.V.") == "b v"  # nothing but a legal form: kept rather than emptied


# -------------------------------------------------------------------------------- dates


@NORMALISE_SETTINGS
@given(st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)), st.sampled_from(normalise.DATE_FORMATS))
def test_dates_in_every_format_parse_alike_scalar_and_column(day, fmt):
    text = day.strftime(fmt)
    assert normalise.parse_date(text) == day
    assert pl.select(normalise.date_expr(pl.lit(text), normalise.DATE_FORMATS)).item() == day


@pytest.mark.parametrize("impossible", ["31-02-2024", "2023-02-29", "2024-13-01", "00-01-2024", "32/01/2024"])
def test_impossible_dates_are_refused(impossible):
    assert normalise.parse_date(impossible) is None
    assert pl.select(normalise.date_expr(pl.lit(impossible))).item() is None


# ------------------------------------------------------------------------------ numbers


@NORMALISE_SETTINGS
@given(st.integers(0, 10**9), st.integers(0, 99), st.booleans())
def test_numbers_in_dutch_and_english_notation(whole, cents, negative):
    sign = "-" if negative else ""
    expected = float(f"{sign}{whole}.{cents:02d}")
    grouped = f"{whole:,}"
    written = [
        f"{sign}{whole}.{cents:02d}",
        f"{sign}{whole},{cents:02d}",
        f"{sign}{grouped.replace(',', '.')},{cents:02d}",
        f"{sign}{grouped},{cents:02d}".replace(",", "\0").replace("\0", ",", grouped.count(",")).replace("\0", "."),
        f"€ {sign}{whole},{cents:02d}",
    ]
    for text in written:
        assert normalise.number(text) == expected, text


@pytest.mark.parametrize("text, value", [("1.234.567", 1234567.0), ("1,234,567", 1234567.0), ("12,5", 12.5),
                                         ("1e3", 1000.0), ("1 234,50", 1234.5), ("1.234", 1.234)])
def test_number_examples(text, value):
    assert normalise.number(text) == value


@pytest.mark.parametrize("text", ["twaalf", "1,2,3.4.5", "inf", "nan", "12-5", "--1", "", "1.23.4"])
def test_not_numbers(text):
    assert normalise.number(text) is None


# -------------------------------------------------------------------- municipalities, categories


@NORMALISE_SETTINGS
@given(st.lists(st.sampled_from(["bergen", "op", "zoom", "alphen", "aan", "den", "rijn", "ijsselstein", "súdwest",
                                 "fryslân", "de", "en", "nuenen"]), min_size=1, max_size=4), st.integers(0, 3))
def test_municipality_is_one_form_whatever_the_case(name_words, case):
    written = "  " + _case(" ".join(name_words), case) + " "
    canonical = normalise.municipality(written)
    assert canonical == normalise.municipality(" ".join(name_words))
    assert normalise.municipality(canonical) == canonical
    assert canonical[0].isupper()


@pytest.mark.parametrize("raw, canonical", [
    ("BERGEN OP ZOOM", "Bergen op Zoom"), ("alphen aan den rijn", "Alphen aan den Rijn"),
    ("'S-HERTOGENBOSCH", "'s-Hertogenbosch"), ("ijsselstein", "IJsselstein"),
    ("capelle aan den ijssel", "Capelle aan den IJssel"), ("DEN HAAG", "Den Haag"), ("", None)])
def test_municipality_examples(raw, canonical):
    assert normalise.municipality(raw) == canonical


@NORMALISE_SETTINGS
@given(st.text(alphabet=LETTERS + " .-", min_size=1, max_size=20), st.integers(0, 3))
def test_category_key_ignores_case_and_punctuation(value, case):
    assert normalise.category_key(_case(value, case)) == normalise.category_key(value.replace(".", " "))


# --------------------------------------------------------------- titles and diminutives

TITLES = ["Dhr.", "mevr", "Dr.", "Sir", "Lady", "Mrs", "prof. dr. ir.", "Herr", "Jhr."]
plain_given = core_names.filter(lambda w: normalise.given_name(w) == normalise.fold(w))


@NORMALISE_SETTINGS
@given(plain_given, st.sampled_from(TITLES), st.integers(0, 3))
def test_a_title_before_a_given_name_is_dropped(name, title, case):
    assert normalise.given_name(_case(f"{title} {name}", case)) == normalise.fold(name)
    assert normalise.given_name_forms(_case(f"{title} {name}", case)) == normalise.given_name_forms(name)


def test_a_given_name_that_is_only_a_title_is_no_given_name():
    assert normalise.given_name("Sir") is None
    assert normalise.given_name_forms("Dr.") is None


@pytest.mark.parametrize(("short", "formal"), [("Tom", "thomas"), ("Jim", "james"), ("Kees", "cornelis"),
                                               ("Piet", "pieter"), ("Henk", "hendrik"), ("Sasha", "aleksandr"),
                                               ("Kasia", "katarzyna")])
def test_a_diminutive_carries_its_formal_name(short, formal):
    forms = normalise.given_name_forms(short).split(" ")
    assert forms[0] == normalise.fold(short) and formal in forms
    assert normalise.given_name_forms(formal) == formal  # a formal name is encoded as it is


def test_a_diminutive_of_many_names_is_left_as_it_is():
    # "al" stands for alan, albert, alfred, alexander, ...: their bigrams together would look like any name
    assert normalise.given_name_forms("Al") == "al"
    assert all(1 <= len(names) <= normalise.MAX_FORMAL_NAMES for names in normalise._formal_names().values())


def test_diminutive_and_formal_name_filters_are_alike_after_hardening():
    from mhgraph.crypto import Key, bloom_encode, dice

    key = Key(b"a test key of at least sixteen bytes")

    def encoded(name, record, forms):
        return bloom_encode(key, "given_name", forms(name), "blip", record)

    with_forms = dice(encoded("Tom", "r1", normalise.given_name_forms), encoded("Thomas", "r2", normalise.given_name_forms))
    without = dice(encoded("Tom", "r1", normalise.given_name), encoded("Thomas", "r2", normalise.given_name))
    stranger = dice(encoded("Tom", "r1", normalise.given_name_forms), encoded("Theresa", "r2", normalise.given_name_forms))
    # hardened filters of equal names reach about 0.8; of "Tom" and "Thomas" 0.35 without the forms
    assert with_forms > without + 0.25
    assert with_forms > stranger + 0.2


def test_the_table_of_unicode_digits_is_built_on_first_use_not_at_import():
    # a scan of all of Unicode (about 90 ms of CPU) that every command and worker would pay at import
    code = ("import sys, unicodedata, mhgraph.normalise as n; assert 'ASCII_DIGITS' not in vars(n); "
            "digits = n.ASCII_DIGITS; assert vars(n)['ASCII_DIGITS'] is digits; "
            "assert digits == {c: str(unicodedata.decimal(c)) for c in map(chr, range(0x80, sys.maxunicode + 1)) "
            "if unicodedata.category(c) == 'Nd'}; assert digits['\\uff11'] == '1' and '1' not in digits; "
            "from mhgraph.normalise import ASCII_DIGITS; assert ASCII_DIGITS is digits")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
