"""Plaintext never passes ingest, and nothing of a sensitive value reaches a report or an error.

Inputs are copies of files from ``data/sample`` with a few cells replaced, and small
generated extracts from ``ingest_helpers``.
"""

from __future__ import annotations

import ast
import hashlib
import random
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_helpers import KEY, deliver, plain_eindhoven, plain_payroll, valid_bsn

from mhgraph import errors
from mhgraph.errors import InputError
from mhgraph.file_names import identifier_in_name, shown_path
from mhgraph.ingest import ingest
from mhgraph.ingest.readers import redact
from mhgraph.ingest.validate import (RowValidator, bsn_expr, eleven_test_expr, looks_like_plaintext_expr,
                                     plaintext_in_text_expr)
from mhgraph.pseudonymise import check_plaintext, pseudonymise, pseudonymise_frame
from mhgraph.safe_output import read_csv_safe
from mhgraph.spec import SPEC_DIR, load_spec
from mhgraph.synth.population import eleven_test

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
ADDRESS = "Lange Nieuwstraat 88 6531TS"


def _sample_copy(folder: Path, name: str, edits: dict[tuple[int, str], str]) -> Path:
    """``data/sample/<name>`` and its sidecar in ``folder``, with ``edits[(row, column)] = value``
    (1-based data rows); values are written as text, delimiter and encoding as delivered."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = load_spec(SPEC_DIR / f"{Path(name).stem}.toml")
    separator, encoding = spec.delimiter or ",", spec.encoding or "utf-8"
    source = SAMPLE / name
    frame = pl.read_csv(source.read_bytes().decode(encoding).encode(), separator=separator, infer_schema=False)
    for (row, column), value in edits.items():
        frame = frame.with_columns(
            pl.when(pl.int_range(pl.len()) == row - 1).then(pl.lit(value, pl.String))
            .otherwise(pl.col(column)).alias(column))
    (folder / name).write_bytes(frame.write_csv(separator=separator).encode(encoding))
    shutil.copy(SAMPLE / f"{name}.meta.json", folder / f"{name}.meta.json")
    return folder


def _written_bytes(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())


# ------------------------------------------------------------- plaintext in readable columns


def test_bsns_as_record_ids_and_an_address_as_municipality_are_quarantined(tmp_path):
    bsns = [valid_bsn(seed) for seed in (11, 12, 13)]
    edits = {(row, "functie_id"): bsn for row, bsn in zip((4, 9, 20), bsns)}
    edits[(30, "woonadres_gemeente")] = ADDRESS
    folder = _sample_copy(tmp_path / "in", "kvk_functionarissen.csv", edits)
    result = ingest(folder, out_dir=tmp_path / "out")
    quarantine = result.quarantine.sort("row_number")
    assert quarantine.select("row_number", "column", "reason").rows() == [
        (4, "functie_id", "plaintext_identifier"), (9, "functie_id", "plaintext_identifier"),
        (20, "functie_id", "plaintext_identifier"), (30, "woonadres_gemeente", "unknown_municipality")]
    assert quarantine["value"].to_list() == ["(9 digits)"] * 3 + ["(27 chars: postcode-like)"]
    assert all("plaintext BSN" in message for message in quarantine["message"][:3])
    assert "postcode-like" in quarantine["message"][3] and "Nieuwstraat" not in quarantine["message"][3]
    assert quarantine["record_id"][:3].to_list() == [None, None, None]  # the faulty id is not shown either
    assert not result.mentions["record_id"].is_in(bsns).any()
    assert not result.mentions["municipality"].drop_nulls().str.contains(r"\d").any()
    written = _written_bytes(tmp_path / "out")
    for secret in (*bsns, "6531", "Nieuwstraat"):
        assert secret.encode() not in written, secret


@pytest.mark.parametrize(("column", "value", "what"), [
    ("functie_id", "F-111222333", "plaintext BSN"),
    ("functie_id", "111.222.333", "plaintext BSN"),
    ("functie_id", "6531TS-88", "plaintext postcode"),
    # digits of other scripts are digits: full-width, Arabic-Indic, Extended Arabic-Indic, Devanagari
    ("functie_id", "１１１２２２３３３", "plaintext BSN"),
    ("functie_id", "ID １１１２２２３３３", "plaintext BSN"),
    ("functie_id", "10047514٠", "plaintext BSN"),
    ("functie_id", "F-١١١٢٢٢٣٣٣", "plaintext BSN"),
    ("functie_id", "۱۱۱ ۲۲۲ ۳۳۳", "plaintext BSN"),
    ("functie_id", "१११२२२३३३", "plaintext BSN"),
    ("functionaris_bsn", "１１１２２２３３３", "looks like a plaintext BSN"),
    ("woonadres_gemeente", "6531 TS", "the value is postcode-like (7 chars)"),
    ("woonadres_gemeente", "Emmen 12", "the value is mixed characters (8 chars)"),
])
def test_plaintext_in_a_readable_column_is_refused_however_written(column, value, what):
    spec = load_spec(SPEC_DIR / "kvk_functionarissen.toml")
    frame = pl.DataFrame({"__row": [1], **{name: [None] for name in spec.delivered_columns}},
                         schema={"__row": pl.Int64, **dict.fromkeys(spec.delivered_columns, pl.String)})
    frame = frame.with_columns(pl.lit(value).alias(column), functie=pl.lit("bestuurder"))
    if column != "functie_id":
        frame = frame.with_columns(functie_id=pl.lit("F1"))
    problems = RowValidator(spec).validate(frame).problems.filter(pl.col("column") == column)
    assert problems["reason"].to_list() == (
        ["unknown_municipality"] if column == "woonadres_gemeente" else ["plaintext_identifier"])
    assert what in problems["message"].item()
    assert value not in problems["value"].item() and value not in problems["message"].item()


def test_a_bsn_in_the_digits_of_any_script_is_refused_in_text_and_ids():
    values = ["１１１２２２３３３", "ID １１１２２２３３３", "10047514٠", "١١١٢٢٢٣٣٣", "۱۱۱۲۲۲۳۳۳", "१११२२२३३३"]
    found = pl.DataFrame({"v": values + ["１１１２２２３３４", "０１２３４５６７２"]}).select(
        text=plaintext_in_text_expr(pl.col("v"), kvk_numbers=True), identifier=plaintext_in_text_expr(pl.col("v")))
    bsn = "a plaintext BSN (9 digits passing the eleven-test)"
    for column in ("text", "identifier"):
        # the last two fail the eleven-test or start with a zero, as in ASCII
        assert found[column].to_list() == [bsn] * len(values) + [None, None]


@pytest.mark.parametrize("zero", ["０", "٠", "۰", "०"])
def test_a_bsn_in_the_digits_of_another_script_is_pseudonymised_as_its_ascii_form(zero):
    spec = load_spec(SPEC_DIR / "belastingdienst_loonaangifte.toml")
    plain = plain_payroll(2)
    bsn = plain["werknemer_bsn"][0]
    plain = plain.with_columns(werknemer_bsn=pl.Series([bsn.translate({ord("0") + d: ord(zero) + d for d in range(10)}), bsn]))
    problems = check_plaintext(plain.with_row_index("__row", 1).cast({"__row": pl.Int64}), spec)
    assert problems.filter(pl.col("column") == "werknemer_bsn").is_empty()
    hashed = pseudonymise_frame(plain, spec, KEY)["werknemer_bsn"]
    assert hashed[0] == hashed[1] and hashed.str.contains(r"^[0-9a-f]{32}$").all()


def test_the_partner_side_and_ingest_take_the_same_values_for_a_bsn():
    # 9 digits; 8 that lost their leading 0 in a number cell; dotted; other scripts; and not:
    # the eleven-test failing, 7 or 10 digits, a letter
    values = ["111222333", "12345672", "012345672", "1234.56.72", "１１１２２２３３３", "١٢٣٤٥٦٧٨٢",
              "111222334", "1234567", "1112223330", "11122233X"]
    is_bsn = [True] * 6 + [False] * 4
    digits = pl.col("v").str.replace_all(r"[\s.\-]", "")
    assert pl.DataFrame({"v": values}).select(bsn_expr(digits))["v"].to_list() == is_bsn
    # ingest: a BSN where a pseudonym belongs is named as one
    said = pl.DataFrame({"v": values}).select(looks_like_plaintext_expr(pl.col("v"))).to_series()
    assert said.str.contains("plaintext BSN").to_list() == is_bsn
    # the partner side: a value that is no BSN is refused before it is hashed
    spec = load_spec(SPEC_DIR / "belastingdienst_loonaangifte.toml")
    plain = plain_payroll(len(values)).with_columns(werknemer_bsn=pl.Series(values))
    problems = check_plaintext(plain.with_row_index("__row", 1).cast({"__row": pl.Int64}), spec)
    refused = set(problems.filter(pl.col("reason") == "bad_bsn")["__row"].to_list())
    assert [row not in refused for row in range(1, len(values) + 1)] == is_bsn


def test_kvk_numbers_are_refused_in_text_but_not_in_ids():
    found = pl.DataFrame({"v": ["12345678", "vestiging 12345678", "Z/17/000008", "ARN-2024-0012", "96022",
                                "sinds 2024 in Emmen", "000012345", "LA123456782"]}).select(
        text=plaintext_in_text_expr(pl.col("v"), kvk_numbers=True),
        identifier=plaintext_in_text_expr(pl.col("v")))
    assert found["text"].to_list()[:2] == ["a plaintext KvK number (8 digits)"] * 2
    assert found["identifier"].to_list()[:2] == [None, None]
    # shapes the shipped extracts use for ids, codes and text are left alone
    assert found["text"].to_list()[2:] == [None] * 6


def test_a_bsn_zero_padded_or_glued_to_a_word_naming_it_is_refused_in_text_and_ids():
    bsn = "a plaintext BSN (9 digits passing the eleven-test)"
    cases = {
        "0123456782": bsn,  # zero-padded to 10 digits, as a fixed-width field writes it
        "nr. ０１２３４５６７８２": bsn,
        "BSN123456782": bsn, "zie bsn0111222333 in dossier": bsn, "Sofinummer111222333": bsn,
        "111222334 123456782": bsn,  # a second word after one that fails the eleven-test
        "bsnnr111222333": bsn, "BSNnummer111222333": bsn, "burgerservicenr111222333": bsn,
        # after a word naming it, in groups of three
        "bsn123.456.782": bsn, "BSN: 123 456 782": bsn, "zie sofinr 111-222-333.": bsn,
        "bsn123.456.789": None, "LAbsn123.456.782": None, "BSN: 123 456 7821": None, "burgerservice111222333": None,
        # other numbers: failing the eleven-test, longer, not zero-padded, after other letters
        # (an id's own prefix), followed by letters
        "0123456789": None, "00123456782": None, "1123456782": None, "LA123456782": None,
        "Q106514210": None, "BSN123456782X": None,
    }
    found = pl.DataFrame({"v": list(cases)}).select(
        text=plaintext_in_text_expr(pl.col("v"), kvk_numbers=True), identifier=plaintext_in_text_expr(pl.col("v")))
    assert found["text"].to_list() == found["identifier"].to_list() == list(cases.values())
    # the partner side holds back a row that would pass one on in a column delivered unchanged
    spec = load_spec(SPEC_DIR / "ind_referenten.toml")
    rows = pl.DataFrame({"__row": [1, 2], "referent_id": ["BSN123456782", "R2"], "referent_kvk_nummer": ["12345678"] * 2,
                         "referent_naam": ["A B.V.", "B B.V."], "status": ["erkend"] * 2, "datum_wijziging": [None, None]})
    assert check_plaintext(rows, spec).select("__row", "column", "reason").rows() == [
        (1, "referent_id", "plaintext_identifier")]


def test_every_shipped_sample_file_still_ingests_without_quarantine():
    result = ingest(SAMPLE)
    assert result.quarantine.height == 0
    assert len({source["source"] for source in result.summary["sources"]}) == 8


# --------------------------------------------------------------------------------- redaction


def test_short_values_are_shown_by_their_length_only(tmp_path):
    deliver(tmp_path / "in", "belastingdienst_loonaangifte", plain_payroll(6))
    path = tmp_path / "in" / "belastingdienst_loonaangifte.csv"
    frame = pl.read_csv(path, infer_schema=False)
    frame.with_columns(
        contractsoort=pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("Jan")).otherwise(pl.col("contractsoort")),
        werknemer_bsn=pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("Jan de Vries")).otherwise(pl.col("werknemer_bsn")),
        brutoloon=pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("twaalfhonderd")).otherwise(pl.col("brutoloon")),
    ).write_csv(path)
    result = ingest(tmp_path / "in", out_dir=tmp_path / "out")
    assert result.quarantine.select("row_number", "column", "value").rows() == [
        (2, "contractsoort", "(3 chars)"),
        (3, "werknemer_bsn", "(12 chars: letters and spaces)"),
        (4, "brutoloon", "twa… (13 chars)"),
    ]
    quarantine_csv = (tmp_path / "out" / "quarantine.csv").read_text(encoding="utf-8")
    assert "Jan" not in quarantine_csv


def test_a_malformed_hash_shows_nothing_of_itself():
    spec = load_spec(SPEC_DIR / "ind_referenten.toml")
    frame = pl.DataFrame({"__row": [1], "referent_id": ["R1"], "referent_kvk_nummer": ["5c84579da4999f784fcb5e514b972ac"],
                          "referent_naam_bf": [None], "status": ["erkend"], "datum_erkenning": ["2021-03-01"],
                          "datum_wijziging": [None]})
    problem = RowValidator(spec).validate(frame).problems.row(0, named=True)
    assert (problem["reason"], problem["value"]) == ("plaintext_identifier", "(31 chars: hex digits)")


def test_garbage_lines_show_nothing_of_themselves(tmp_path):
    deliver(tmp_path, "belastingdienst_loonaangifte", plain_payroll(4))
    path = tmp_path / "belastingdienst_loonaangifte.csv"
    lines = path.read_bytes().split(b"\n")
    lines[2] = b"L000002,Jan de Vries,123456782"
    path.write_bytes(b"\n".join(lines))
    value = ingest(tmp_path).quarantine.filter(pl.col("reason") == "wrong_field_count")["value"].item()
    assert value == "(30 chars: mixed characters)"


def test_redact_never_keeps_characters_of_short_or_concealed_values():
    assert redact("Jan") == "(3 chars)" and redact("Jansen12") == "Jan… (8 chars)"
    assert redact("6531TS", conceal=True) == "(6 chars: postcode-like)"


# ----------------------------------------------------------------------- errors without data


def test_pseudonymise_quarantines_a_malformed_row_and_shows_none_of_it(tmp_path):
    plain = plain_payroll(3).write_csv().splitlines()
    plain.insert(2, 'L9,"Jan de Vries,123456782')  # a quote that never closes
    (tmp_path / "plain.csv").write_text("\n".join(plain) + "\n", encoding="utf-8")
    key_file = tmp_path / "key"
    key_file.write_text("0123456789abcdef0123456789abcdef")
    completed = subprocess.run(
        [sys.executable, "-m", "mhgraph.cli", "pseudonymise", str(tmp_path / "plain.csv"), "--spec",
         "belastingdienst_loonaangifte", "--key-file", str(key_file), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    shown = completed.stdout + completed.stderr
    assert "quarantined, bad_quoting: 1 row(s)" in shown and "3 of 4 rows delivered" in shown
    assert "Jan" not in shown and "123456782" not in shown
    partner_side = read_csv_safe(tmp_path / "plain.csv.quarantine.csv", infer_schema=False)
    assert partner_side.select("row_number", "reason").rows() == [("2", "bad_quoting")]


def test_a_damaged_workbook_is_reported_on_one_line_without_its_content(tmp_path):
    deliver(tmp_path / "in", "gemeente_eindhoven_vergunningen", plain_eindhoven(3))
    workbook = tmp_path / "in" / "gemeente_eindhoven_vergunningen.xlsx"
    data = workbook.read_bytes()
    workbook.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as error:
        ingest(tmp_path / "in")
    message = str(error.value)
    assert "\n" not in message and "not a readable Excel workbook (CalamineError)" in message
    assert message.count(str(workbook)) == 1  # named once, as the file; no quoted reader context


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_the_eleven_test_on_nine_digits_is_the_synthetic_registers_own(number):
    # The register's test, except that a weighted sum of 0 ("000000000", "000000012") is no BSN.
    total = sum(int(d) * w for d, w in zip(number, (9, 8, 7, 6, 5, 4, 3, 2, -1)))
    assert pl.select(eleven_test_expr(pl.lit(number))).item() == (eleven_test(number) and total != 0)


def test_the_eleven_test_fails_anything_but_nine_decimal_digits():
    # Eight digits whose weighted sum (9*d1 + ... + 2*d8) is a multiple of 11 would pass a test
    # that sums whatever digits it finds; as nine digits with a trailing 0 they do pass, in
    # the digits of any script too.
    eight = next(f"{n:08d}" for n in range(10_000_000, 10_001_000)
                 if sum(int(d) * w for d, w in zip(f"{n:08d}", range(9, 1, -1))) % 11 == 0)
    values = [eight + "0", eight, eight + "0x", "١٢٣٤٥٦٧٨٢", "١٢٣٤٥٦٧٨٣", " " + eight, "+" + eight, None]
    passed = pl.DataFrame({"value": values}).select(eleven_test_expr(pl.col("value")))["value"].to_list()
    assert passed == [True, False, False, True, False, False, False, False]


@pytest.mark.parametrize("name", [
    "loon_123.456.782.csv", "loon 123 456 782.csv", "loon_123-456-782.csv", "bsn123456782.csv",
    "loon_2024_123456782.csv", "kvk12345678.csv", "kvk 1234 5678.csv", "adres_1234 ab.csv", "adres_1234-AB.csv",
    "adres_1234_AB.csv", "adres_1234Ab.csv", "123456782_loon.csv", "loon_123  456  782.csv",
    "loon_123 - 456 - 782.csv", "loon_123,456,782.csv", "loon_123 \u2013 456 \u2013 782.csv", "kvk_1234, 5678.csv",
    "loon_1234 - AB.csv", "loon_1234  ab.csv", "adres_1234.ab.csv", "adres_1234 ab.csv.gz",
])
def test_a_file_name_with_an_identifier_in_any_form_is_shown_without_it_or_its_leading_digits(name):
    shown = shown_path(Path("in") / name)
    assert shown == f"in/({len(name)} chars, sha256 {hashlib.sha256(name.encode()).hexdigest()[:4]})"
    assert shown_path(shown) == shown


def test_a_year_before_a_file_extension_is_shown_and_before_two_other_letters_read_as_a_postcode():
    # ".gz" after a year is the file's type, not the letters of a postcode; "_nl" after a year cannot
    # be told from a postcode written with an underscore (2024 NL is a Haarlem postcode's form), so
    # such a name is redacted, as the postcode itself is in every separator form.
    assert [shown_path(n) for n in ("loon_2024.gz", "loon_2024.csv.gz", "loon_2024.xz", "loon_2024 - 01 - 31.csv")] == [
        "loon_2024.gz", "loon_2024.csv.gz", "loon_2024.xz", "loon_2024 - 01 - 31.csv"]
    year_and_language = ["rapport_2024_nl.csv", "loon_2024-NL.xlsx", "rapport_2024.nl.csv"]
    postcode = [f"adres_1234{separator}AB.csv" for separator in ("", " ", "  ", "_", "-", " - ", ".", ",", ", ")]
    assert [identifier_in_name(n) for n in year_and_language + postcode] == [True] * 12


def test_dated_file_names_are_shown_as_they_are_and_two_redacted_names_apart():
    assert [shown_path(n) for n in ("loon_20240131.csv", "loon_20240229.csv", "loon_2024.csv")] == [
        "loon_20240131.csv", "loon_20240229.csv", "loon_2024.csv"]
    assert shown_path("loon_123456782_jan.csv") != shown_path("loon_123456782_feb.csv")


def test_a_nine_digit_file_name_holds_a_bsn_exactly_when_the_checks_of_readable_values_find_one():
    # The name check is plain Python on one name; it must agree with the eleven-test the ingest
    # runs on readable values (a leading 0 passes neither), in the digits of any script too.
    rng = random.Random(11)
    numbers = [f"{rng.randrange(10 ** 9):09d}" for _ in range(3000)] + [valid_bsn(seed) for seed in range(300)]
    numbers += ["012345672", "000000000", "١٢٣٤٥٦٧٨٢"]
    expected = pl.DataFrame({"x": numbers}).select(eleven_test_expr(pl.col("x"), leading_zero=False))["x"].to_list()
    assert sum(expected) > 300
    assert [identifier_in_name(f"loon_{n}.csv") for n in numbers] == expected


def test_a_ten_digit_file_name_holds_a_bsn_exactly_when_the_check_of_readable_text_finds_one():
    # A BSN zero-padded to 10 digits, as a fixed-width field writes it: the check of passed-on text
    # finds it in "loon_0123456782", so the name check must find it in "loon_0123456782.csv".
    rng = random.Random(12)
    numbers = ["0" + valid_bsn(seed) for seed in range(300)] + [f"0{rng.randrange(10 ** 9):09d}" for _ in range(2000)]
    numbers += [f"{rng.randrange(10 ** 9, 10 ** 10)}" for _ in range(500)] + ["00" + valid_bsn(1)[1:], "٠" + valid_bsn(2)]
    stems = pl.DataFrame({"x": [f"loon_{n}" for n in numbers]})
    found = stems.select(plaintext_in_text_expr(pl.col("x")).is_not_null()).to_series().to_list()
    # but a part number glued to a date YYYYMMDD ("0719020529": part 7 of 29 May 1902) is no BSN in a name
    expected = [bsn and not _a_date(n[2:]) for n, bsn in zip(numbers, found)]
    assert sum(expected) >= 300 and expected != found
    assert [identifier_in_name(f"loon_{n}.csv") for n in numbers] == expected


def test_a_part_number_and_a_date_in_a_file_name_are_no_zero_padded_bsn():
    # "01" and "20240105" joined give ten digits starting with 0, and one in eleven of them pass
    # the eleven-test: a padded BSN is one group written without separators, and a part number
    # glued to a date is not taken for one (where the check of readable text, which sees no file
    # names, would take it).
    days = [date(2024, 1, 1) + timedelta(days=n) for n in range(366)]
    parts = [f"{part:02d}_{day:%Y%m%d}" for part in range(1, 13) for day in days]
    glued = [part.replace("_", "") for part in parts]
    assert sum(_passes_padded_eleven_test(digits) for digits in glued) > 250  # which a padded check would take
    names = [f"loon_{part}.csv" for part in parts] + [f"loon_deel{part}.csv" for part in parts]
    names += [f"loon_{digits}.csv" for digits in glued]
    assert [name for name in names if identifier_in_name(name)] == []
    stems = pl.DataFrame({"x": [name.removesuffix(".csv") for name in names[:2 * len(parts)]]})
    assert stems.select(plaintext_in_text_expr(pl.col("x")).is_not_null().sum()).item() == 0


def _passes_padded_eleven_test(ten_digits: str) -> bool:
    return ten_digits[0] == "0" and ten_digits[1] != "0" and eleven_test(ten_digits[1:])


def _a_date(digits: str) -> bool:
    try:
        return 1900 <= datetime.strptime(digits, "%Y%m%d").year < 2100
    except ValueError:
        return False


def test_the_errors_module_shows_file_names_without_importing_the_ingest():
    # errors is imported by the ingest, so it takes the redaction from a module below both
    tree = ast.parse(Path(errors.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "mhgraph.file_names" in imported and not any(m.startswith("mhgraph.ingest") for m in imported)
    assert str(errors.InputError("no sidecar", file="in/loon_123456782.csv")) == "file in/(18 chars, sha256 f042): no sidecar"
