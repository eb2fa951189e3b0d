"""Checks on delivered extracts: the header as a whole, then every value by its column kind.

Whole-file problems raise :class:`~mhgraph.errors.InputError` (the file cannot be read as the
spec describes). Row problems become quarantine rows: one per failing value, naming the row,
the column, the value redacted (:func:`~mhgraph.ingest.readers.redact_expr`), a reason code
and a sentence an analyst can act on. Every check is a Polars expression over a whole batch.

What each column kind must hold:

========== ==============================================================================
kind       accepted values (after trimming; an empty value is null)
========== ==============================================================================
id         any text; no leading ``= + - @`` (spreadsheet formula); no BSN or postcode
hash       exactly 32 lowercase hex digits (a keyed hash); anything else is plaintext
bloom      exactly 44 base64 characters ending in ``=`` (a keyed 256-bit Bloom filter)
date       one of the spec's ``formats`` (and, for Excel and Parquet, ISO dates); the day
           must exist (``31-02-2024`` is refused)
number     a finite number, Dutch (``1.234,56``) or English (``1,234.56``), within min/max
integer    as number, and whole
category   one of ``values`` or a key of ``map`` (case, spaces and dots ignored)
text       any text; no leading ``= + - @`` (spreadsheet formula); no BSN, postcode or
           8-digit (KvK-like) number; a municipality holds letters, spaces and ``' - . , ( )``;
           an SBI code loses its dots and spaces (``10.13`` is ``1013``)
========== ==============================================================================

A value flagged as a plaintext identifier, any value of a pseudonymous column and a refused
municipality are shown in the quarantine by their length and shape only.

Every kind: at most :data:`MAX_FIELD_CHARS` characters, no control characters, and a value
when the column is ``required``.

>>> from mhgraph.spec import load_spec, SPEC_DIR
>>> spec = load_spec(SPEC_DIR / "ind_referenten.toml")
>>> rows = pl.DataFrame({"__row": [1, 2], "referent_id": ["R1", "R2"],
...     "referent_kvk_nummer": ["0" * 32, "12345678"], "referent_naam_bf": [None, None],
...     "status": ["Erkend", "erkend"], "datum_wijziging": [None, "31-02-2021"]})
>>> checked = RowValidator(spec).validate(rows)
>>> checked.clean["status"].to_list()
['erkend', 'erkend']
>>> checked.problems.select("__row", "column", "reason").rows()
[(2, 'referent_kvk_nummer', 'plaintext_identifier'), (2, 'datum_wijziging', 'bad_date')]
"""

from __future__ import annotations

import dataclasses
import difflib
from collections import Counter
from dataclasses import dataclass

import polars as pl

from mhgraph import normalise
from mhgraph.errors import InputError
from mhgraph.ingest.readers import POSTCODE_PATTERN, ROW, redact, redact_expr, shape_expr
from mhgraph.spec import ENTITY_FIELDS, Column, SourceSpec, SpecError, protected_attribute

__all__ = [
    "MAX_FIELD_CHARS",
    "PLAINTEXT_COLUMN_MIN_VALUES",
    "PLAINTEXT_COLUMN_SHARE",
    "REASONS",
    "PlaintextTally",
    "RowValidator",
    "Validated",
    "bsn_expr",
    "check_header",
    "eleven_test_expr",
    "looks_like_plaintext_expr",
    "plain_text_checks",
    "plaintext_in_text_expr",
    "refuse_plaintext_header",
]

MAX_FIELD_CHARS = 4096
# A pseudonymous column where more than this share of the values (and at least this many)
# are plaintext is refused as a whole instead of quarantining every row.
PLAINTEXT_COLUMN_SHARE = 0.5
PLAINTEXT_COLUMN_MIN_VALUES = 3

REASONS = {
    "bad_date": "not a date in the spec's formats, or a day that does not exist",
    "not_a_number": "not a number",
    "out_of_range": "a number below the column's min or above its max",
    "unknown_category": "not one of the spec's category values",
    "missing_required": "a required value is empty",
    "duplicate_record_id": "the record id was used before in this source (second and later rows)",
    "plaintext_identifier": "a pseudonymous column holds something that is not a keyed hash / Bloom filter, "
                            "or a readable column holds a BSN, a postcode or a KvK-like number",
    "unknown_municipality": "a municipality column holds something that is not a municipality name "
                            "(digits, an address)",
    "bad_sbi_code": "an SBI code column holds something that is not an SBI 2008 code (2 to 5 digits, "
                    "division 01-99)",
    "formula": "a text value starts like a spreadsheet formula (= + - @)",
    "field_too_long": f"a value longer than {MAX_FIELD_CHARS} characters",
    "control_characters": "a value holds control characters",
    "wrong_field_count": "the row has more or fewer fields than the header",
    "bad_quoting": "a quoted value is not closed on its line",
    "nul_bytes": "the row holds NUL bytes",
}

_HASH = r"^[0-9a-f]{32}$"
_BLOOM = r"^[A-Za-z0-9+/]{43}=$"
_FORMULA = r"^[=+\-@\t\r]."
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
# A run of exactly 8 digits not glued to other letters or digits (so "Z2018-00000005" holds none).
_EIGHT_DIGITS = r"(?:^|[^\p{L}\p{N}])\d{8}(?:[^\p{L}\p{N}]|$)"
# A word (letters and digits) that holds 9 digits in a row; _BSN_IN_WORD tells which of them may
# be a BSN (its 9 digits as group 1): the word itself, one zero-padded to 10 digits as a
# fixed-width field writes it ("0123456782"), or one glued to a word that names the BSN
# ("BSN123456782", "sofinr123456782", "bsnnummer123456782"). Any other letters before them are a
# prefix of an id's own ("Q106514210": one in eleven such ids would pass the eleven-test); nine
# digits among more digits, or followed by letters, are another number.
_WORD_WITH_NINE_DIGITS = r"[\p{L}\p{N}]*\d{9}[\p{L}\p{N}]*"
_BSN_LABEL = r"(?i:(?:bsn|sofi)(?:nr|nummer)?|burgerservice(?:nr|nummer))"
_BSN_IN_WORD = rf"^{_BSN_LABEL}?0?(\d{{9}})$"
# A label that names the BSN, then its 9 digits written in groups of three ("bsn123.456.782",
# "BSN: 123 456 782"): the label says what they are, so the separators do not hide them.
_LABELLED_GROUPED_BSN = (rf"(?:^|[^\p{{L}}\p{{N}}]){_BSN_LABEL}\s*[:#.]?\s*\d{{3}}[\s.\-]\d{{3}}[\s.\-]\d{{3}}"
                         r"(?:[^\p{L}\p{N}]|$)")
# Municipality names are letters, spaces and ' - . , ( ): "Bergen (NH.)", "Nuenen, Gerwen en Nederwetten".
_MUNICIPALITY_NAME = r"^['’]?\p{L}[\p{L}'’ .,\-()]*$"
_EXPECTED = {
    "hash": "a keyed hash (32 lowercase hex digits)",
    "bloom": "a keyed Bloom filter (44 base64 characters ending in '=')",
}


def eleven_test_expr(nine_digits: pl.Expr, leading_zero: bool = True) -> pl.Expr:
    """The BSN eleven-test on a 9-digit string: 9*d1 + 8*d2 + ... + 2*d8 - d9 divisible by 11.
    Anything but nine decimal digits (a null too) fails; digits of any script count as their
    ASCII digit (:func:`~mhgraph.normalise.ascii_digits_expr`), and without ``leading_zero``
    a first digit 0 fails too. The result keeps the input's name.

    This runs on every value of every readable column, so ``nine_digits`` (often itself a regex
    replacement) is evaluated once: the digits come from the value read as one number, inside a
    struct whose fields the terms refer to (an eager select repeats a subexpression each time it
    is named, and naming it in nine digit terms cost more than all other checks together).

    >>> values = pl.DataFrame({"x": ["111222333", "１１１２２２３３３", "012345672", "123456789", "11122233", None]})
    >>> values.with_columns(eleven_test_expr(pl.col("x")))["x"].to_list()
    [True, True, True, False, False, False]
    >>> values.with_columns(eleven_test_expr(pl.col("x"), leading_zero=False))["x"].to_list()
    [True, True, False, False, False, False]
    """
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    read = pl.struct(value=normalise.ascii_digits_expr(nine_digits)).struct.with_fields(
        number=pl.field("value").str.to_integer(strict=False),
        nine_digits=pl.field("value").str.contains(r"^[0-9]{9}$"),
    )
    total = pl.sum_horizontal((pl.field("number") // 10 ** (8 - i) % 10) * w for i, w in enumerate(weights))
    passes = pl.field("nine_digits") & (total % 11 == 0) & (total != 0)
    if not leading_zero:
        passes = passes & (pl.field("number") >= 10 ** 8)
    result = read.struct.with_fields(passes=passes).struct.field("passes").fill_null(False)
    name = nine_digits.meta.output_name(raise_if_undetermined=False)
    return result.alias(name) if name else result


def bsn_expr(digits: pl.Expr) -> pl.Expr:
    """Whether ``digits`` (a value with its spaces, dots and dashes left out) is a BSN: 8 or 9
    digits passing the eleven-test, 8 read with the leading 0 that a spreadsheet's number cell
    drops. The one check of a BSN for ingest and for the partner side (``mhgraph pseudonymise``).

    >>> values = pl.DataFrame({"x": ["111222333", "12345672", "012345672", "123456789", "1234567", None]})
    >>> values.select(bsn_expr(pl.col("x")))["x"].to_list()
    [True, True, True, False, False, False]
    """
    return digits.str.contains(r"^\d{8,9}$") & eleven_test_expr(digits.str.zfill(9))


def looks_like_plaintext_expr(value: pl.Expr) -> pl.Expr:
    """What a value that should have been pseudonymous looks like, as a phrase for the message.

    >>> pl.select(looks_like_plaintext_expr(pl.lit("111222333"))).item()
    'looks like a plaintext BSN (8 or 9 digits passing the eleven-test)'
    >>> pl.select(looks_like_plaintext_expr(pl.lit("12345672"))).item()  # 012345672 without its leading 0
    'looks like a plaintext BSN (8 or 9 digits passing the eleven-test)'
    >>> pl.select(looks_like_plaintext_expr(pl.lit("Jan de Vries"))).item()
    'looks like a readable name'
    """
    digits = value.str.replace_all(r"[\s.\-]", "")
    return (
        pl.when(bsn_expr(digits)).then(pl.lit("looks like a plaintext BSN (8 or 9 digits passing the eleven-test)"))
        .when(value.str.contains(r"^[1-9]\d{3}\s?-?\s?[A-Za-z]{2}$")).then(pl.lit("looks like a plaintext postcode"))
        .when(value.str.contains(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")).then(pl.lit("looks like a plaintext date"))
        .when(value.str.contains(r"^[\p{L}][\p{L}'’ .\-]*$")).then(pl.lit("looks like a readable name"))
        .when(value.str.contains(r"^[\d\s.\-]+$")).then(pl.lit("looks like a plaintext number"))
        .when(value.str.contains(r"^[0-9a-fA-F]+$")).then(pl.lit("is hex of the wrong length or case"))
        .otherwise(pl.lit("is not of that form"))
    )


def _is_bsn(digits: pl.Expr) -> pl.Expr:
    # A leading zero is left alone: zero-padded counters are common record ids, and BSNs
    # issued today start with 1-9.
    return eleven_test_expr(digits, leading_zero=False)


def plaintext_in_text_expr(value: pl.Expr, kvk_numbers: bool = False) -> pl.Expr:
    """The plaintext identifier a readable (id or text) value holds, as a phrase; null when none.

    A BSN is 9 digits passing the eleven-test, as the whole value (``123 456 782`` too) or as a
    word of its own in it, also zero-padded to 10 digits (``0123456782``) or glued to a word that
    names it (``BSN123456782``, ``bsnnr123456782``; or after such a word in groups of three,
    ``BSN: 123 456 782``), in the digits of any script (``１１１２２２３３３``); a postcode
    is ``1234AB``, ``1234ab`` or ``1234 AB``. With ``kvk_numbers``, a run of exactly 8 digits (a
    KvK number) counts too: not for ids and permit numbers, where 8 digits are as likely a
    counter. Nine digits inside a longer run of digits, after other letters or followed by
    letters are not looked at: a longer number is another number (a V-number, an account
    number), letters before them an id's own prefix (``LA123456782``), and one in eleven of
    them would pass the eleven-test.

    >>> pl.select(plaintext_in_text_expr(pl.lit("F-111222333"))).item()
    'a plaintext BSN (9 digits passing the eleven-test)'
    >>> pl.select(plaintext_in_text_expr(pl.lit("ID １１１２２２３３３"))).item()
    'a plaintext BSN (9 digits passing the eleven-test)'
    >>> pl.select(plaintext_in_text_expr(pl.lit("Z2018-000005"))).item() is None
    True
    >>> pl.select(plaintext_in_text_expr(pl.lit("1111222333"))).item() is None  # 10 digits: no BSN in them
    True
    >>> pl.select(plaintext_in_text_expr(pl.lit("0111222333 of bsn111222333"))).item()  # but these are
    'a plaintext BSN (9 digits passing the eleven-test)'
    """
    compact = value.str.replace_all(r"[\s.\-]", "")
    whole_bsn = value.str.contains(r"^[\d\s.\-]+$") & _is_bsn(compact)
    word = normalise.ascii_digits_expr(pl.element())  # a zero-padded BSN's 0 in any script too
    word_bsn = value.str.extract_all(_WORD_WITH_NINE_DIGITS).list.eval(
        _is_bsn(word.str.extract(_BSN_IN_WORD, 1))).list.any()
    labelled_bsn = value.str.extract_all(_LABELLED_GROUPED_BSN).list.eval(
        _is_bsn(normalise.ascii_digits_expr(pl.element().str.replace_all(r"\D", "")))).list.any()
    found = (
        pl.when(whole_bsn | word_bsn | labelled_bsn).then(pl.lit("a plaintext BSN (9 digits passing the eleven-test)"))
        .when(value.str.contains(POSTCODE_PATTERN)).then(pl.lit("a plaintext postcode (4 digits and 2 letters)"))
    )
    if kvk_numbers:
        found = found.when(value.str.contains(_EIGHT_DIGITS)).then(pl.lit("a plaintext KvK number (8 digits)"))
    return found.otherwise(pl.lit(None, pl.String))


def refuse_plaintext_header(header: list[str], spec: SourceSpec, file: str) -> None:
    """Raise :class:`InputError` when ``header`` lacks a delivered column of ``spec`` and holds most of
    its plaintext input columns: the extract before pseudonymising, which the partner sends through
    ``mhgraph pseudonymise`` first.

    >>> from mhgraph.spec import SPEC_DIR, load_spec
    >>> spec = load_spec(SPEC_DIR / "ind_referenten.toml")
    >>> refuse_plaintext_header(list(spec.delivered_columns), spec, "referenten.csv")  # delivered: passes
    """
    expected = list(spec.delivered_columns)
    missing = [name for name in expected if name not in set(header)]
    plaintext_columns = _plaintext_inputs(spec)
    held_plain = [name for name in header if name in plaintext_columns]
    if missing and 2 * len(held_plain) > len(plaintext_columns):  # most of them: the extract before pseudonymising
        raise InputError(
            f"the file holds the plaintext input columns of spec {spec.name} ({', '.join(held_plain)}) where "
            f"it should hold the pseudonymised ones ({', '.join(missing)} missing): the partner runs "
            f"`mhgraph pseudonymise --spec {spec.name}` on the extract first and delivers its output folder "
            "(the file and its sidecar)", file=file, column=missing[0])


def _plaintext_inputs(spec: SourceSpec) -> set[str]:
    """The spec's plaintext input columns that are not also delivered columns."""
    return {col for block in spec.entities for col in block.plaintext.values()} - set(spec.delivered_columns)


def _clean(name: str) -> str:
    return f"__clean__{name}"


def _human_format(fmt: str) -> str:
    for code, text in (("%Y", "YYYY"), ("%m", "MM"), ("%d", "DD"), ("%H", "hh"), ("%M", "mm"), ("%S", "ss")):
        fmt = fmt.replace(code, text)
    return fmt


# ------------------------------------------------------------------------------------ header


def check_header(header: list[str], spec: SourceSpec, all_specs: list[SourceSpec], file: str) -> list[str]:
    """Refuse a header the spec cannot read; return warnings about columns that are not read.

    Raises :class:`InputError` for duplicated names, for a header that belongs to another
    spec (a file delivered for the wrong partner or under the wrong name), and for missing
    columns, suggesting the closest delivered name for each.
    """
    duplicated = [name for name, n in Counter(header).items() if n > 1 and name]
    if duplicated:
        where = "; ".join(
            f"{name!r} in columns {', '.join(str(i + 1) for i, h in enumerate(header) if h == name)}"
            for name in duplicated
        )
        raise InputError(f"duplicated column names in the header: {where}", file=file, row=None,
                         column=duplicated[0])
    expected = list(spec.delivered_columns)
    present = set(header)
    missing = [name for name in expected if name not in present]
    plaintext_columns = _plaintext_inputs(spec)
    if missing:
        refuse_plaintext_header(header, spec, file)
        own_share = 1 - len(missing) / len(expected)
        others = [
            (len(present & set(other.delivered_columns)) / len(other.delivered_columns), other)
            for other in all_specs if other.name != spec.name
        ]
        if others:
            share, other = max(others, key=lambda pair: pair[0])
            if share >= 0.8 and share > own_share:
                raise InputError(
                    f"the columns are those of {other.name} (partner {other.partner}), not of {spec.name} "
                    f"(partner {spec.partner}): the file was delivered for the wrong partner or under the wrong "
                    "name", file=file)
        extra = [name for name in header if name not in expected]
        described = []
        for name in missing:
            close = difflib.get_close_matches(name, extra, n=1, cutoff=0.6)
            described.append(f"{name!r}" + (f" (did you mean {close[0]!r}? renamed?)" if close else ""))
        raise InputError(
            f"missing column(s) {', '.join(described)}; spec {spec.name} expects the columns "
            f"{', '.join(expected)}", file=file, column=missing[0])
    warnings = []
    leaked = [name for name in header if name in plaintext_columns]
    if leaked:
        warnings.append(f"column(s) {', '.join(leaked)} hold plaintext the partner should have pseudonymised "
                        "before delivery; they were not read")
    ignored = [name for name in header if name not in expected and name not in plaintext_columns]
    protected = [name for name in ignored if protected_attribute(name)]
    if protected:
        warnings.append(f"column(s) {', '.join(protected)} hold a protected attribute "
                        f"({', '.join(sorted({protected_attribute(n) for n in protected}))}) that must not be "
                        "delivered; they were not read")
        ignored = [name for name in ignored if name not in protected]
    if ignored:
        warnings.append(f"column(s) not in spec {spec.name} were not read: {', '.join(ignored)}")
    return warnings


# ------------------------------------------------------------------------------- row checks


@dataclass(frozen=True)
class _Check:
    column: str
    reason: str
    bad: pl.Expr
    message: pl.Expr
    conceal: bool = False  # show the value by its length and shape only


def _every_value_checks(name: str) -> list[_Check]:
    """What every value of every column must pass: a bounded length, no control characters."""
    raw = pl.col(name)
    return [
        _Check(name, "field_too_long", raw.str.len_chars() > MAX_FIELD_CHARS,
               pl.lit(f"the value is longer than {MAX_FIELD_CHARS} characters")),
        _Check(name, "control_characters", raw.str.contains(_CONTROL),
               pl.when(raw.str.contains("\x00", literal=True))
               .then(pl.lit("the value holds NUL bytes: the export is damaged"))
               .otherwise(pl.lit("the value holds control characters"))),
    ]


def plain_text_checks(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """``__row``, column, reason, message for values of ``columns`` that fail the checks every
    value must pass (length, control characters), as for a plaintext column before pseudonymisation.

    >>> plain_text_checks(pl.DataFrame({"__row": [1, 2], "naam": ["Jan", "J\\x07n"]}), ["naam"]).rows()
    [(2, 'naam', 'control_characters', 'the value holds control characters')]
    """
    checks = [check for name in columns for check in _every_value_checks(name)]
    parts = [frame.filter(check.bad.fill_null(False)).select(
        ROW, column=pl.lit(check.column), reason=pl.lit(check.reason), message=check.message) for check in checks]
    schema = {ROW: pl.Int64, "column": pl.String, "reason": pl.String, "message": pl.String}
    return pl.concat([pl.DataFrame(schema=schema), *parts])


@dataclass
class Validated:
    """``clean``: ``__row`` plus every column, typed and normalised (dates as Date, numbers as
    Float64, categories canonical). ``problems``: ``__row``, column, value (redacted), reason,
    message — one row per failing value. A row with a problem is not taken in."""

    clean: pl.DataFrame
    problems: pl.DataFrame


class RowValidator:
    """Vectorised checks and normalisation for the columns of one spec.

    ``extra_date_formats`` are formats the file's medium guarantees besides the spec's own
    (ISO dates from typed Excel or Parquet cells). ``only``: check these delivered columns and
    no others (``mhgraph pseudonymise`` checks the columns it passes on unchanged).
    """

    def __init__(self, spec: SourceSpec, extra_date_formats: tuple[str, ...] = (), only: set[str] | None = None):
        self.spec = spec
        self.columns: dict[str, Column] = {name: col for name, col in spec.delivered_columns.items()
                                           if only is None or name in only}
        self.extra_date_formats = extra_date_formats
        municipal = {col for block in spec.entities for canonical, col in block.fields.items()
                     if canonical == "municipality"}
        # each column once, however many entities read it
        self.sbi_columns = list(dict.fromkeys(col for block in spec.entities for canonical, col in block.fields.items()
                                              if canonical == "sbi_code" and col in self.columns))
        # Readable identifiers of the partner's own (record ids, permit numbers): 8 digits are
        # as likely a counter there as a KvK number.
        self._own_identifiers = {spec.record_id} | {
            col for block in spec.entities for canonical, col in block.fields.items()
            if ENTITY_FIELDS[block.type][canonical] == "id"}
        # Columns whose clean value differs from the raw text, and how to compute it.
        self._parsers = {
            name: parser for name, col in self.columns.items()
            if (parser := self._parser(col, name in municipal, name in self.sbi_columns)) is not None
        }
        self._checks = [check for name, col in self.columns.items()
                        for check in self._column_checks(name, col, name in municipal, name in self.sbi_columns)]

    @property
    def pseudonymous_columns(self) -> list[str]:
        return [name for name, col in self.columns.items() if col.kind in ("hash", "bloom")]

    # -- how each kind is read

    def _date_formats(self, col: Column) -> tuple[str, ...]:
        formats = col.formats or self.spec.date_formats
        return tuple(formats) + tuple(f for f in self.extra_date_formats if f not in formats)

    def _category_lookup(self, col: Column) -> dict[str, str]:
        canonical = col.mapping or {value: value for value in col.values or ()}
        lookup: dict[str, str] = {}
        for key, value in canonical.items():
            folded = normalise.category_key(key)
            if folded in lookup and lookup[folded] != value:
                raise SpecError(f"{self.spec.path}: columns.{col.name}: category values {key!r} and another "
                                "value differ only in case or punctuation")
            lookup[folded] = value
        return lookup

    def _parser(self, col: Column, municipal: bool, sbi: bool = False):
        """A function from the raw column expression to the clean one; ``None`` to keep the text."""
        if sbi and col.kind == "text":
            return normalise.sbi_code_expr
        if col.kind == "date":
            formats = self._date_formats(col)
            return lambda raw: normalise.date_expr(raw, formats)
        if col.kind in ("number", "integer"):
            return normalise.number_expr
        if col.kind == "category":
            lookup = self._category_lookup(col)
            return lambda raw: normalise.category_key_expr(raw).replace_strict(
                list(lookup), list(lookup.values()), default=None, return_dtype=pl.String)
        if municipal:
            return normalise.municipality_expr
        return None

    def _column_checks(self, name: str, col: Column, municipal: bool, sbi: bool = False) -> list[_Check]:
        raw, parsed = pl.col(name), pl.col(_clean(name))
        present = raw.is_not_null()
        checks = _every_value_checks(name)
        if col.required:
            checks.append(_Check(name, "missing_required", raw.is_null(),
                                 pl.lit(f"a value is required in column {name!r} (spec {self.spec.name})")))
        if col.kind in ("hash", "bloom"):
            pattern = _HASH if col.kind == "hash" else _BLOOM
            checks.append(_Check(
                name, "plaintext_identifier", present & ~raw.str.contains(pattern),
                pl.concat_str(
                    pl.lit(f"expected {_EXPECTED[col.kind]}; the value "), looks_like_plaintext_expr(raw),
                    pl.lit(". Plaintext is refused: the partner must pseudonymise the extract (mhgraph pseudonymise)"),
                ),
            ))
        elif col.kind == "date":
            formats = ", ".join(_human_format(f) for f in self._date_formats(col))
            checks.append(_Check(name, "bad_date", present & parsed.is_null(),
                                 pl.lit(f"expected a date as {formats}, and a day that exists")))
        elif col.kind in ("number", "integer"):
            whole = " whole" if col.kind == "integer" else ""
            not_number = present & parsed.is_null()
            if col.kind == "integer":
                not_number = not_number | (parsed.is_not_null() & (parsed != parsed.floor()))
            checks.append(_Check(name, "not_a_number", not_number,
                                 pl.lit(f"expected a{whole} number such as 1234,56 or 1234.56")))
            if col.minimum is not None:
                checks.append(_Check(name, "out_of_range", parsed < col.minimum,
                                     pl.lit(f"the number is below the minimum {col.minimum:g}")))
            if col.maximum is not None:
                checks.append(_Check(name, "out_of_range", parsed > col.maximum,
                                     pl.lit(f"the number is above the maximum {col.maximum:g}")))
        elif col.kind == "category":
            allowed = ", ".join(col.mapping or col.values or ())
            checks.append(_Check(name, "unknown_category", present & parsed.is_null(),
                                 pl.lit(f"expected one of: {allowed}")))
        if col.kind in ("id", "text"):
            checks.append(_Check(
                name, "formula", raw.str.contains(_FORMULA),
                pl.lit("the value starts like a spreadsheet formula (= + - @); refused so that it cannot run "
                       "when a report is opened in a spreadsheet"),
            ))
        if sbi and col.kind == "text":
            checks.append(_Check(name, "bad_sbi_code", present & parsed.is_null() & ~normalise.sbi_no_code_expr(raw),
                                 pl.lit("expected an SBI 2008 code: 2 to 5 digits of a division 01-99, dots and "
                                        "spaces allowed (01130, 10.13, 4120)")))
        if municipal:
            checks.append(_Check(
                name, "unknown_municipality",  # a formula is reported as such
                present & ~raw.str.contains(_MUNICIPALITY_NAME) & ~raw.str.contains(_FORMULA),
                pl.concat_str(pl.lit("expected a municipality name (letters, spaces and ' - . , ( )); the value is "),
                              shape_expr(raw), pl.lit(" ("), raw.str.len_chars(),
                              pl.lit(" chars). An address or postcode here identifies a home and is refused")),
                conceal=True,
            ))
        elif col.kind in ("id", "text"):
            found = plaintext_in_text_expr(raw, kvk_numbers=col.kind == "text" and name not in self._own_identifiers)
            checks.append(_Check(
                name, "plaintext_identifier", found.is_not_null(),
                pl.concat_str(pl.lit("the value holds what looks like "), found,
                              pl.lit(". Plaintext identifiers are refused: the partner must leave them out or "
                                     "pseudonymise them (mhgraph pseudonymise)")),
                conceal=True,
            ))
        if col.kind in ("hash", "bloom"):  # nothing of a pseudonymous value is ever shown
            checks = [dataclasses.replace(check, conceal=True) for check in checks]
        return checks

    # -- a batch

    def _cleaned(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` plus a clean column per column. Dates, numbers, categories and
        municipalities repeat a lot, so each is computed once per distinct value of the batch."""
        clean = []
        for name in self.columns:
            parser = self._parsers.get(name)
            if parser is None:
                clean.append(pl.col(name).alias(_clean(name)))
                continue
            distinct = frame.get_column(name).drop_nulls().unique()
            mapped = distinct.to_frame().select(parser(pl.col(name))).to_series()
            clean.append(pl.col(name).replace_strict(distinct, mapped, default=None, return_dtype=mapped.dtype)
                         .alias(_clean(name)))
        return frame.with_columns(clean)

    def validate(self, frame: pl.DataFrame, check_control_characters: bool = True) -> Validated:
        """Check and normalise one batch (``__row`` plus the spec's columns as strings).

        ``check_control_characters=False`` skips that check when the reader already knows
        the batch holds none.
        """
        checks = [c for c in self._checks if check_control_characters or c.reason != "control_characters"]
        masks = [f"__bad{i}" for i in range(len(checks))]
        checked = self._cleaned(frame.with_columns(pl.col(name).cast(pl.String) for name in self.columns))
        checked = checked.with_columns(check.bad.fill_null(False).alias(mask) for check, mask in zip(checks, masks))
        failing = checked.filter(pl.any_horizontal(masks)) if masks else checked.clear()
        # Most batches fail few checks or none; a check's problem rows cost a plan of regexes to
        # build even when no row is left, so only the checks that some value fails build them.
        failed = failing.select(pl.col(masks).any()).row(0) if failing.height else [False] * len(masks)
        problems = [
            failing.filter(pl.col(mask)).select(
                ROW,
                column=pl.lit(check.column),
                value=redact_expr(pl.col(check.column), conceal=check.conceal),
                reason=pl.lit(check.reason),
                message=check.message,
            )
            for check, mask, any_failed in zip(checks, masks, failed) if any_failed
        ]
        clean = checked.select(ROW, *(pl.col(_clean(name)).alias(name) for name in self.columns))
        problem_frame = pl.concat(problems).sort(ROW, maintain_order=True) if problems else pl.DataFrame(
            schema={ROW: pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String,
                    "message": pl.String})
        return Validated(clean, problem_frame)


class PlaintextTally:
    """Counts plaintext values per pseudonymous column over a whole file, to refuse a column
    that is plaintext as a whole instead of quarantining each of its rows."""

    def __init__(self, columns: list[str]):
        self.values = dict.fromkeys(columns, 0)
        self.plaintext = dict.fromkeys(columns, 0)
        self.looks = {column: Counter() for column in columns}

    def add(self, frame: pl.DataFrame, problems: pl.DataFrame) -> None:
        if not self.values:
            return
        counts = frame.select(pl.col(c).is_not_null().sum() for c in self.values).row(0)
        for column, n in zip(self.values, counts):
            self.values[column] += n
        hits = problems.filter((pl.col("reason") == "plaintext_identifier") & pl.col("column").is_in(list(self.values)))
        for column, message, n in hits.group_by("column", "message").len().iter_rows():
            self.plaintext[column] += n
            self.looks[column][message] += n

    def check(self, file: str) -> None:
        """Raise :class:`InputError` for the first column that looks plaintext as a whole."""
        for column, bad in self.plaintext.items():
            total = self.values[column]
            if bad >= PLAINTEXT_COLUMN_MIN_VALUES and bad > PLAINTEXT_COLUMN_SHARE * total:
                example = self.looks[column].most_common(1)[0][0]
                raise InputError(
                    f"the column looks plaintext as a whole: {bad} of {total} values are not pseudonymous. "
                    f"For example: {example}. The file is refused rather than quarantined row by row",
                    file=file, column=column)
