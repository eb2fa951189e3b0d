"""What a partner runs on its own machine before sharing: plaintext extract in, delivered extract out.

The source spec says which plaintext columns hold which entity (``plaintext`` in each entity
block) and what the delivered columns are called (``fields``). Exact identifiers become keyed
hashes, names and dates of birth become keyed Bloom filters plus two match keys, addresses
become an address key and a building key, further person attributes (birth place, residence,
occupation, ...: ``mhgraph.spec.PERSON_ATTRIBUTES``) keyed Bloom filters. Every other column is
left out (data minimisation): only the columns some stage reads
(:attr:`~mhgraph.spec.SourceSpec.used_columns`) are delivered, so a register's nationality or,
below, a sponsor's recognition date never leaves the partner. Every extract is delivered for one
run purpose and pseudonymised with that purpose's delivery key
(:meth:`~mhgraph.crypto.Key.for_purpose`), so that extracts made for different purposes do not
link. A sidecar ``<file>.meta.json`` names the source, partner, collection purpose, run purpose,
name hardening, row count and key fingerprint — never the key.

Before anything is pseudonymised, every row is checked (:func:`check_plaintext`): the columns
passed on unchanged with the very rules ingest applies (:class:`~mhgraph.ingest.validate.RowValidator`),
the plaintext identifiers by what they must be (a BSN passes the eleven-test, a KvK number has
8 digits, a date of birth exists, a postcode is Dutch). A row that fails is not delivered: it
goes to the partner-side quarantine, a CSV on the partner's own machine that holds the
plaintext values so that the partner can correct them. A date of birth, postcode or house number
that fails only costs its own value: the row is delivered without it (a foreign postcode still
leaves the person's names to match on), and the quarantine lists the value. A date passed on
(the start or end of a job, a decision date) is a fact the rules read, not a help to matching:
one that fails holds its row back, as ingest would quarantine it, since delivered empty an end
date would read as a job still running. Nothing of it is printed or logged.

The plaintext file is read as a partner exports it: CSV in UTF-8 or Windows-1252 with any of
``, ; tab |`` (sniffed, or named), Parquet or Excel; columns the spec does not require may be
absent. ``mhgraph template SPEC`` writes an empty plaintext file with the expected header.

>>> import polars as pl
>>> from mhgraph.crypto import Key
>>> from mhgraph.spec import load_spec, SPEC_DIR
>>> spec = load_spec(SPEC_DIR / "ind_referenten.toml")
>>> raw = pl.DataFrame({"referent_id": ["R1"], "referent_kvk_nummer": ["12345678"],
...     "referent_naam": ["Flex Uitzend B.V."], "status": ["erkend"],
...     "datum_erkenning": ["2021-03-01"], "datum_wijziging": [None]})
>>> out = pseudonymise_frame(raw, spec, Key(b"0123456789abcdef-example"))
>>> out.columns
['referent_id', 'referent_kvk_nummer', 'referent_naam_bf', 'status', 'datum_wijziging']
>>> "12345678" in str(out.row(0))
False
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import fnmatch
import io
import json
import logging
import os
import re
from dataclasses import replace
from pathlib import Path

import polars as pl
from fastexcel import FastExcelError

from mhgraph import normalise
from mhgraph.crypto import Key, address_keys, bloom_encode, keyed_hash, load_key, person_match_keys
from mhgraph.errors import InputError, describe_read_error
from mhgraph.file_names import identifier_in_name, shown_path
from mhgraph.purpose import DEFAULT_RUN_PURPOSE, allowed_source_purposes
from mhgraph.reference import AGE_BANDS, age_band, band_of_age
from mhgraph.safe_output import write_csv_safe
from mhgraph.spec import PERSON_ATTRIBUTES, SPEC_DIR, DerivedColumn, SourceSpec, find_spec

log = logging.getLogger("mhgraph.pseudonymise")

__all__ = ["META_SUFFIX", "PLAINTEXT_MARKER", "PLAINTEXT_REASONS", "VALUE_LEFT_OUT", "check_plaintext",
           "partner_quarantine_path", "plaintext_columns", "pseudonymise",
           "pseudonymise_frame", "pseudonymise_file", "read_meta", "template", "write_extract"]

META_SUFFIX = ".meta.json"
# What the name of a template (a plaintext extract to fill in) carries; a delivered name drops it.
PLAINTEXT_MARKER = "_plaintext"
# the word plaintext in a file name, with the separator before it (or after it, at the start)
_PLAINTEXT_WORD = re.compile(r"[-_. ]plaintext(?=[-_. ]|$)|^plaintext[-_. ]", re.IGNORECASE)
# The hardening of the person-name Bloom filters every partner applies: randomised bits per
# record, which defeat the frequency and bigram attacks at a small linkage cost (docs/privacy.md).
NAME_HARDENING = "blip"
_CSV_SLICE_ROWS = 100_000


def _text(values: list) -> list[str | None]:
    return [None if v is None or str(v).strip() == "" else str(v).strip() for v in values]


def _digits(value: str | None) -> str | None:
    """Exact identifiers are hashed on their digits/letters only, so '1234 56 78' == '12345678',
    and on ASCII digits, so a BSN in full-width or Arabic-Indic digits is the same BSN.

    >>> _digits("１１１ ٢٢٢-३३३") == _digits("111222333")
    True
    """
    if value is None:
        return None
    cleaned = "".join(normalise.ASCII_DIGITS.get(ch, ch) for ch in value.upper() if ch.isalnum())
    return cleaned or None


def _bsn_digits(value: str | None) -> str | None:
    """A BSN's digits with the leading 0 a spreadsheet's number cell drops put back (the checks
    accept 8 digits for that reason), so that one person's BSN gives one hash in every extract.

    >>> _bsn_digits("1234 5672") == _bsn_digits("012345672") == "012345672"
    True
    """
    digits = _digits(value)
    return digits.zfill(9) if digits and len(digits) == 8 and digits.isdigit() else digits


def _kvk_numbers_padded(frame: pl.DataFrame, spec: SourceSpec, number_columns: frozenset[str]) -> pl.DataFrame:
    """KvK numbers of a column of number cells (Excel, a Parquet number column) with the leading
    zero the number lost put back: a KvK number is 8 digits, so only a 7-digit number is padded
    (0 or 42 is no KvK number that lost its zeros). Written as text, a shorter one stays what it
    is and fails its check.

    >>> from mhgraph.spec import load_spec, SPEC_DIR
    >>> spec = load_spec(SPEC_DIR / "ind_referenten.toml")
    >>> frame = pl.DataFrame({"referent_kvk_nummer": ["1234567", "12345678", "42", None]})
    >>> _kvk_numbers_padded(frame, spec, frozenset({"referent_kvk_nummer"}))["referent_kvk_nummer"].to_list()
    ['01234567', '12345678', '42', None]
    >>> _kvk_numbers_padded(frame, spec, frozenset())["referent_kvk_nummer"].to_list()
    ['1234567', '12345678', '42', None]
    """
    padded = {name for block in spec.entities for kind, name in block.plaintext.items()
              if kind == "kvk_number" and name in number_columns and name in frame.columns}
    return frame.with_columns(pl.when(pl.col(name).str.contains(r"^\d{7}$")).then(pl.col(name).str.zfill(8))
                              .otherwise(pl.col(name)) for name in padded)


def _cell_type_matters(frame: pl.DataFrame, columns: list[str]) -> bool:
    """Whether a value of ``columns`` (BSNs, KvK numbers) reads otherwise from a number cell than
    from text: only one of 7 digits (a KvK number that lost its leading zero) or one with a space,
    dot or dash (taken out between the digits of text, kept in a number such as 1234567.5).

    >>> _cell_type_matters(pl.DataFrame({"bsn": ["123456782", "12345672"]}), ["bsn"])
    False
    >>> _cell_type_matters(pl.DataFrame({"bsn": ["123456782", "1234567.5"]}), ["bsn"])
    True
    """
    return bool(columns) and frame.select(
        pl.any_horizontal(pl.col(name).str.contains(r"^\d{7}$|[\s.\-]").any() for name in columns)).item()


def _salts(hardening: str, born: list, record_ids: list) -> list:
    """The per-record value a hardening keys each name filter with (``None``: not hardened):
    the year of birth for "salt" (the same person carries it in every register); the record for
    "blip" when it carries a date of birth. Without one there are no match keys either and the
    names are all the resolver can block and compare on, so they stay as they are
    (docs/privacy.md, section 7)."""
    years = [normalise.parse_date(v) for v in born]
    if hardening == "salt":
        return [str(d.year) if d else "unknown" for d in years]
    if hardening == "blip":
        return [str(r) if d else None for r, d in zip(record_ids, years)]
    return [None] * len(born)


def _person_columns(frame: pl.DataFrame, block, key: Key, hardening: str = "none",
                    record_ids: list | None = None) -> dict[str, list]:
    plain = {name: _text(frame[col].to_list()) if col in frame.columns else [None] * frame.height
             for name, col in block.plaintext.items()}
    n = frame.height
    given = plain.get("given_name", [None] * n)
    family = plain.get("family_name", [None] * n)
    born = plain.get("birth_date", [None] * n)
    salts = _salts(hardening, born, [f"{r}/{block.role}" for r in (record_ids or range(n))])
    out: dict[str, list] = {}
    for ident in ("bsn", "v_number"):
        if ident in block.fields and ident in plain:
            digits = _bsn_digits if ident == "bsn" else _digits
            out[block.fields[ident]] = [keyed_hash(key, ident, digits(v)) for v in plain[ident]]
    hardenings = [hardening if s else "none" for s in salts]
    if "given_name_bf" in block.fields:
        out[block.fields["given_name_bf"]] = [bloom_encode(key, "given_name", normalise.given_name_forms(v), h, s)
                                              for v, h, s in zip(given, hardenings, salts)]
    if "family_name_bf" in block.fields:
        out[block.fields["family_name_bf"]] = [
            bloom_encode(key, "family_name", normalise.family_name_core(v), h, s)
            for v, h, s in zip(family, hardenings, salts)
        ]
    if "names_bf" in block.fields:  # every name word under one domain: comparable whichever field held it
        out[block.fields["names_bf"]] = [bloom_encode(key, "names", normalise.name_words(g, f), h, s)
                                         for g, f, h, s in zip(given, family, hardenings, salts)]
    if "birth_date_bf" in block.fields:
        dates = [normalise.parse_date(v) for v in born]
        out[block.fields["birth_date_bf"]] = [
            bloom_encode(key, "birth_date", d.strftime("%Y%m%d")) if d else None for d in dates
        ]
    if "match_key_1" in block.fields or "match_key_2" in block.fields:
        keys = [person_match_keys(key, g, f, b) for g, f, b in zip(given, family, born)]
        if "match_key_1" in block.fields:
            out[block.fields["match_key_1"]] = [k[0] for k in keys]
        if "match_key_2" in block.fields:
            out[block.fields["match_key_2"]] = [k[1] for k in keys]
    for name, field in PERSON_ATTRIBUTES.items():
        if field in block.fields and name in plain:
            encode = bloom_encode if field.endswith("_bf") else keyed_hash
            out[block.fields[field]] = [encode(key, name, normalise.fold(v)) for v in plain[name]]
    return out


def _company_columns(frame: pl.DataFrame, block, key: Key) -> dict[str, list]:
    out: dict[str, list] = {}
    for ident in ("kvk_number", "wage_tax_number"):
        if ident in block.fields and ident in block.plaintext:
            values = _text(frame[block.plaintext[ident]].to_list())
            out[block.fields[ident]] = [keyed_hash(key, ident, _digits(v)) for v in values]
    if "name_bf" in block.fields and "name" in block.plaintext:
        names = _text(frame[block.plaintext["name"]].to_list())
        out[block.fields["name_bf"]] = [bloom_encode(key, "company_name", normalise.company_name(v)) for v in names]
    return out


def _address_columns(frame: pl.DataFrame, block, key: Key) -> dict[str, list]:
    def col(name):
        column = block.plaintext.get(name)
        return _text(frame[column].to_list()) if column and column in frame.columns else [None] * frame.height

    keys = [address_keys(key, pc, nr, add) for pc, nr, add in zip(col("postcode"), col("house_number"), col("addition"))]
    out: dict[str, list] = {}
    if "address_key" in block.fields:
        out[block.fields["address_key"]] = [k[0] for k in keys]
    if "building_key" in block.fields:
        out[block.fields["building_key"]] = [k[1] for k in keys]
    return out


_BUILDERS = {"person": _person_columns, "company": _company_columns, "address": _address_columns}


def _age_bands(frame: pl.DataFrame, derived: DerivedColumn, spec: SourceSpec) -> list[str | None]:
    """Per row the age band on the day in ``derived.on``: the partner's own ``given`` column where
    filled (a band or an age in years), else computed from the date of birth; empty when unknown."""
    def values(column: str | None) -> list[str | None]:
        return _text(frame[column].to_list()) if column in frame.columns else [None] * frame.height

    on_formats = spec.columns[derived.on].formats or spec.date_formats
    bands = []
    for row, (given, born, on) in enumerate(zip(values(derived.given), values(derived.birth_date),
                                                 values(derived.on)), start=1):
        if given is None:
            bands.append(age_band(normalise.parse_date(born), normalise.parse_date(on, on_formats)))
        elif given in AGE_BANDS or given.isdigit():
            bands.append(given if given in AGE_BANDS else band_of_age(int(given)))
        else:
            raise InputError(f"{given!r} is neither an age band ({', '.join(AGE_BANDS)}) nor an age in years",
                             row=row, column=derived.given)
    return bands


def pseudonymise_frame(frame: pl.DataFrame, spec: SourceSpec, key: Key, hardening: str = NAME_HARDENING) -> pl.DataFrame:
    """Turn a partner's plaintext extract into the delivered form described by ``spec``.

    ``hardening`` is applied to the person-name Bloom filters (:data:`mhgraph.crypto.HARDENINGS`;
    see ``docs/privacy.md`` for why and at what cost)."""
    missing = sorted(
        {col for block in spec.entities for col in block.plaintext.values()} - set(frame.columns)
    )
    if missing:
        described = []
        for name in missing:
            close = difflib.get_close_matches(name, [c for c in frame.columns if c not in missing], n=1, cutoff=0.6)
            described.append(name + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise InputError(f"{spec.name}: plaintext columns missing from the extract: {', '.join(described)}")
    encoded: dict[str, list] = {}
    record_ids = frame[spec.record_id].to_list() if spec.record_id in frame.columns else None
    for block in spec.entities:
        builder = _BUILDERS.get(block.type)
        if builder is _person_columns and block.plaintext:
            encoded.update(_person_columns(frame, block, key, hardening, record_ids))
        elif builder and block.plaintext:
            encoded.update(builder(frame, block, key))
    for derived in spec.derived:
        encoded[derived.name] = _age_bands(frame, derived, spec)
    columns = []
    for name, column in spec.delivered_columns.items():
        if name in encoded:
            columns.append(pl.Series(name, encoded[name], dtype=pl.String))
        elif name in frame.columns:
            columns.append(frame[name])
        else:
            columns.append(pl.Series(name, [None] * frame.height, dtype=pl.String))
    return pl.DataFrame(columns)


# Hex digits of the keyed hash of an input name that stand for it in a delivered name: 64 bits,
# so that two input names of one pattern do not meet in practice (a meeting is refused).
_NAME_HASH_CHARS = 16


def _without_plaintext(name: str) -> str:
    """``name`` without the word plaintext (see :func:`delivered_name`).

    >>> _without_plaintext("loon_PLAINTEXT_2025.csv")
    'loon_2025.csv'
    """
    stem, suffix = os.path.splitext(name)
    return _PLAINTEXT_WORD.sub("", stem) + suffix


def _without_wildcards(pattern: str) -> str:
    """``pattern`` without its wildcards (``*``, ``?`` and ``[...]``).

    >>> _without_wildcards("ind_referenten_[0-9]*.csv")
    'ind_referenten_.csv'
    """
    return re.sub(r"\[[^\]]*\]|[*?]", "", pattern)


def delivered_name(spec: SourceSpec, candidate: str | None = None, key: Key | None = None) -> str:
    """The delivered file's name: the spec's ``file``; for a pattern such as
    ``gemeente_venlo_vergunningen*.csv``, ``candidate`` without the word plaintext (in any
    case, anywhere, with the ``_``, ``-``, ``.`` or space before it: the :data:`PLAINTEXT_MARKER`
    :func:`template` puts in a name, or a partner's own) when that matches the pattern and says
    plaintext nowhere else, else the pattern without its wildcards. A delivered name never says
    plaintext. Nor does it carry what looks like an identifier (:func:`identifier_in_name`): such a
    candidate is named by the pattern with its first ``*`` standing for the keyed hash of the
    candidate under ``key`` (:data:`_NAME_HASH_CHARS` hex digits written as the letters a-p; the
    engine holds no key, so it cannot search them for a BSN), or, without a key, by the pattern
    without its wildcards. A name that does not match the pattern (no ``*`` where the hash fits)
    is refused by :func:`pseudonymise_file` before any row is read.

    >>> from dataclasses import replace
    >>> from mhgraph.spec import load_spec, SPEC_DIR
    >>> spec = load_spec(SPEC_DIR / "ind_referenten.toml")
    >>> delivered_name(spec, "anything.csv")
    'ind_referenten.csv'
    >>> delivered_name(replace(spec, file="ind_referenten*.csv"), "ind_referenten_2024_plaintext.csv")
    'ind_referenten_2024.csv'
    >>> delivered_name(replace(spec, file="ind_referenten*.csv"), "ind_referenten-PLAINTEXT_2024.csv")
    'ind_referenten_2024.csv'
    >>> delivered_name(replace(spec, file="ind_referenten_*.csv"), "ind_referenten_123456782.csv",
    ...                Key(b"0123456789abcdef-example"))
    'ind_referenten_mejkbfdbnaoahdeg.csv'
    """
    if not any(ch in spec.file for ch in "*?["):
        return spec.file
    if candidate:
        candidate = _without_plaintext(candidate)
    if candidate and fnmatch.fnmatch(candidate, spec.file) and "plaintext" not in candidate.lower():
        if not identifier_in_name(candidate):
            return candidate
        if key is not None and "*" in spec.file:
            # written in the letters a-p: digits could read as a postcode or KvK number again
            digest = keyed_hash(key, "file_name", candidate)[:_NAME_HASH_CHARS]
            letters = "".join(chr(ord("a") + int(d, 16)) for d in digest)
            hashed = _without_wildcards(spec.file.replace("*", letters, 1))
            if fnmatch.fnmatch(hashed, spec.file):
                return hashed
    return _without_wildcards(spec.file)


def write_extract(frame: pl.DataFrame, spec: SourceSpec, out_dir: str | Path, key_fingerprint: str,
                  created: str, file_name: str | None = None, checked: dict | None = None,
                  run_purpose: str | None = None, name_hardening: str = NAME_HARDENING) -> Path:
    """Write a delivered extract in the spec's format (CSV with its delimiter and encoding, or
    Excel), plus its sidecar. ``created`` is the extract date written into the sidecar;
    ``checked``, the account of the partner's own checks (rows read, rows held back per
    reason: counts only), goes in it as well; ``run_purpose`` is the run purpose whose delivery
    key made ``key_fingerprint``, ``name_hardening`` how the name filters were hardened
    (ingest refuses a mix).

    The file is named by the spec (see :func:`delivered_name`); a ``file_name`` given instead
    must match the spec's pattern, so that ingest finds the file again."""
    name = file_name or delivered_name(spec)
    if any(ch in name for ch in "*?[") or not fnmatch.fnmatch(name, spec.file):
        # The error names the file (shown as shown_path shows it), never the name as given: it may hold a BSN.
        raise InputError(f"the delivered file needs a name matching the spec's pattern {spec.file!r}", file=name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    meta_path = Path(str(path) + META_SUFFIX)
    # An interrupted rerun leaves the earlier delivery whole or none at all, never part of the new
    # one under the old sidecar's row count: the sidecar goes first, the extract comes in whole.
    meta_path.unlink(missing_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    if path.suffix == ".xlsx":
        _write_xlsx(frame, partial, created)
    elif path.suffix == ".parquet":
        frame.write_parquet(partial)
    else:
        # Slice by slice, so that a million-row extract is never held twice as text in memory.
        with partial.open("wb") as out:
            for start in range(0, max(frame.height, 1), _CSV_SLICE_ROWS):
                buffer = io.StringIO()
                frame.slice(start, _CSV_SLICE_ROWS).write_csv(buffer, separator=spec.delimiter or ",",
                                                              include_header=start == 0)
                out.write(buffer.getvalue().encode(spec.encoding or "utf-8"))
    os.replace(partial, path)
    meta = {
        "source": spec.name,
        "partner": spec.partner,
        "purpose": spec.purpose,
        **({"run_purpose": run_purpose} if run_purpose else {}),
        "name_hardening": name_hardening,
        "rows": frame.height,
        "key_fingerprint": key_fingerprint,
        "created": created,
    }
    meta.update(checked or {})
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return path


def _write_xlsx(frame: pl.DataFrame, path: Path, created: str) -> None:
    import datetime as dt

    import xlsxwriter

    # A fixed creation date keeps the workbook byte-identical for the same input.
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": dt.datetime.fromisoformat(created)})
    sheet = workbook.add_worksheet("vergunningen")
    for j, name in enumerate(frame.columns):
        sheet.write_string(0, j, name)
    for i, row in enumerate(frame.iter_rows(), start=1):
        for j, value in enumerate(row):
            if value is not None:
                sheet.write_string(i, j, str(value))
    workbook.close()


def read_meta(path: str | Path) -> dict | None:
    """The sidecar of an extract, or ``None`` when it has none."""
    meta = Path(str(path) + META_SUFFIX)
    return json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else None


# ------------------------------------------------------------------ the partner's own checks

PLAINTEXT_REASONS = {
    "bad_bsn": "a BSN is 8 or 9 digits, not all 0, that pass the eleven-test (not a decimal such as 12345672.0)",
    "bad_v_number": "a V-number is 10 digits (not a decimal such as 1234567890.0)",
    "bad_kvk_number": "a KvK number is 8 digits, not all 0 (not a decimal such as 12345678.0)",
    "bad_wage_tax_number": "a loonheffingennummer is 9 digits, 'L' and 2 digits",
    "bad_birth_date": "a date of birth that exists and does not lie in the future",
    "bad_postcode": "a Dutch postcode is 4 digits (not starting with 0) and 2 letters",
    "bad_house_number": "a house number is 1 to 5 digits, optionally with a short addition",
}
# Values that only help to match a person or an address: one that fails is left out and its row
# is delivered without it (a foreign postcode, a mistyped date of birth), since dropping the row
# would lose the whole record for the sake of one attribute.
VALUE_LEFT_OUT = frozenset({"bad_birth_date", "bad_postcode", "bad_house_number"})
# Plaintext input -> (reason, test on the value with spaces, dots and dashes removed).
_IDENTIFIER_PATTERNS = {
    "v_number": ("bad_v_number", r"^\d{10}$"),
    "kvk_number": ("bad_kvk_number", r"^\d{8}$"),
    "wage_tax_number": ("bad_wage_tax_number", r"^\d{9}[Ll]\d{2}$"),
}


def _encoded_columns(spec: SourceSpec) -> set[str]:
    """The delivered columns pseudonymisation makes (every other one is passed on unchanged)."""
    plain = sorted({col for block in spec.entities for col in block.plaintext.values()})
    empty = pl.DataFrame(schema={name: pl.String for name in plain})
    key = Key(b"only the column names are wanted")
    return {name for block in spec.entities if block.plaintext and block.type in _BUILDERS
            for name in _BUILDERS[block.type](empty, block, key)}


def plaintext_columns(spec: SourceSpec) -> dict[str, bool]:
    """The columns of the partner's plaintext extract, in a natural order, and whether each is
    required: the record id, each entity's plaintext inputs and then the columns passed on as
    they are (required where the spec says so). Plaintext inputs are never required: a partner
    without, say, dates of birth leaves the column out.

    >>> from mhgraph.spec import load_spec, SPEC_DIR
    >>> list(plaintext_columns(load_spec(SPEC_DIR / "ind_referenten.toml")).items())[:3]
    [('referent_id', True), ('referent_kvk_nummer', False), ('referent_naam', False)]
    """
    columns = {spec.record_id: True}
    for block in spec.entities:
        for name in block.plaintext.values():
            columns.setdefault(name, False)
    encoded = _encoded_columns(spec)
    derived = {d.name: d.given for d in spec.derived}  # computed here; the partner may hold the value
    for name, column in spec.delivered_columns.items():
        if name in derived:
            if derived[name]:
                columns.setdefault(derived[name], False)
        elif name not in encoded:
            columns.setdefault(name, column.required)
    return columns


def _plaintext_problems(frame: pl.DataFrame, spec: SourceSpec, today: dt.date,
                        number_columns: frozenset[str] = frozenset()) -> pl.DataFrame:
    """``__row``, column, reason, message for every plaintext identifier that is not what it must be.

    Spaces, dots and dashes between the digits of a number written as text are left out
    ("1234.56.782"), but a number written as a decimal ("12345672.0", a spreadsheet's float) is
    refused rather than read as other digits, and so is a number cell that is not a whole number."""
    from mhgraph.ingest.validate import bsn_expr

    problems = []
    for block in spec.entities:
        for kind, name in block.plaintext.items():
            if name not in frame.columns:
                continue
            raw = pl.col(name)
            compact = raw if name in number_columns else raw.str.replace_all(r"[\s.\-]", "")
            not_a_number = raw.str.contains(r"^\d+\.0+$") | compact.str.contains(r"^0+$")
            if kind == "bsn":
                bad = ~bsn_expr(compact) | not_a_number
                reason = "bad_bsn"
            elif kind in _IDENTIFIER_PATTERNS:
                reason, pattern = _IDENTIFIER_PATTERNS[kind]
                bad = ~compact.str.contains(pattern) | not_a_number
            elif kind == "birth_date":
                born = normalise.date_expr(raw, normalise.DATE_FORMATS)
                bad, reason = born.is_null() | (born > today), "bad_birth_date"
            elif kind in ("postcode", "house_number"):
                test = normalise.postcode if kind == "postcode" else (lambda v: normalise.house_number(v, None))
                values = frame.get_column(name).drop_nulls().unique()
                valid = [v for v in values.to_list() if test(v) is not None]
                bad, reason = ~raw.is_in(pl.Series(valid, dtype=pl.String).implode()), f"bad_{kind}"
            else:
                continue
            problems.append(frame.filter(raw.is_not_null() & bad.fill_null(True)).select(
                "__row", column=pl.lit(name), reason=pl.lit(reason), message=pl.lit(f"expected: {PLAINTEXT_REASONS[reason]}")))
    schema = {"__row": pl.Int64, "column": pl.String, "reason": pl.String, "message": pl.String}
    return pl.concat([pl.DataFrame(schema=schema), *problems])


def check_plaintext(frame: pl.DataFrame, spec: SourceSpec, today: dt.date | None = None,
                    native_date_formats: tuple[str, ...] = (), number_columns: frozenset[str] = frozenset()) -> pl.DataFrame:
    """The problems of a batch of plaintext rows (``__row`` plus text columns): ``__row``,
    ``column``, ``value`` (as written: plaintext, for the partner's eyes only), ``reason`` and
    ``message``, one row per failing value. The columns passed on unchanged get exactly the
    checks ingest makes; the plaintext identifiers the checks of :data:`PLAINTEXT_REASONS`;
    every column at most :data:`~mhgraph.ingest.validate.MAX_FIELD_CHARS` characters and no
    control characters. ``native_date_formats``: the ISO dates of typed Excel or Parquet cells,
    accepted besides the spec's formats, as ingest accepts them. ``number_columns``: columns the
    medium holds as numbers, whose identifiers are checked as the digits of the number.

    >>> from mhgraph.spec import load_spec, SPEC_DIR
    >>> spec = load_spec(SPEC_DIR / "ind_referenten.toml")
    >>> rows = pl.DataFrame({"__row": [1, 2], "referent_id": ["R1", "R2"], "referent_kvk_nummer": ["12345678", "1234"],
    ...     "referent_naam": ["A B.V.", "B B.V."], "status": ["erkend", "onbekend"],
    ...     "datum_wijziging": [None, "2021-02-30"]})
    >>> check_plaintext(rows, spec).select("__row", "column", "reason").rows()
    [(2, 'status', 'unknown_category'), (2, 'datum_wijziging', 'bad_date'), (2, 'referent_kvk_nummer', 'bad_kvk_number')]
    """
    from mhgraph.ingest.validate import RowValidator, plain_text_checks

    passed_on = set(plaintext_columns(spec)) - {c for b in spec.entities for c in b.plaintext.values()}
    validator = RowValidator(spec, native_date_formats, only=passed_on & set(frame.columns))
    checked = validator.validate(frame.select("__row", *validator.columns)).problems.drop("value")
    plain = [c for c in frame.columns if c != "__row" and c not in validator.columns]
    generic = plain_text_checks(frame, plain)
    identifiers = _plaintext_problems(frame, spec, today or dt.date.today(), number_columns)
    problems = pl.concat([checked, generic, identifiers]).sort("__row", maintain_order=True)
    values = frame.unpivot(index="__row", variable_name="column", value_name="value")
    return problems.join(values, on=["__row", "column"], how="left").select(
        "__row", "column", "value", "reason", "message")


def _dates_as_the_spec_writes_them(frame: pl.DataFrame, spec: SourceSpec) -> pl.DataFrame:
    """Typed date cells of an Excel or Parquet extract arrive as ISO text; the delivered file
    carries them in the column's first format, which ingest reads from any medium.

    >>> from mhgraph.spec import load_spec, SPEC_DIR
    >>> spec = load_spec(SPEC_DIR / "gemeente_emmen_vergunningen.toml")
    >>> frame = pl.DataFrame({"besluitdatum": ["2024-04-03", "03-04-2024", None]})
    >>> _dates_as_the_spec_writes_them(frame, spec)["besluitdatum"].to_list()
    ['03-04-2024', '03-04-2024', None]
    """
    rewrite = {}
    for name, column in spec.delivered_columns.items():
        formats = column.formats or spec.date_formats
        if column.kind == "date" and name in frame.columns and "%Y-%m-%d" not in formats:
            iso = pl.col(name).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
            rewrite[name] = pl.when(iso.is_not_null()).then(iso.dt.strftime(formats[0])).otherwise(pl.col(name))
    return frame.with_columns(**rewrite) if rewrite else frame


def _read_plaintext(src: Path, spec: SourceSpec, delimiter: str | None, encoding: str | None):
    """Open the plaintext extract with the ingest readers. Refuse it without a required column,
    or when an absent column looks renamed (a delivered name close to it); other absent columns
    are delivered empty."""
    from mhgraph.ingest.readers import open_extract

    expected = plaintext_columns(spec)
    # The spec's delimiter is that of the delivered extract; a partner's own file (or the template,
    # written with `;` for Dutch Excel) may use either, so it is found from the header, unless given.
    extract = open_extract(src, replace(spec, delimiter=None), expected_columns=list(expected), delimiter=delimiter,
                           encoding=encoding)
    duplicated = sorted({name for name in extract.header if name and extract.header.count(name) > 1})
    if duplicated:
        raise InputError(f"duplicated column names in the header: {', '.join(duplicated)}", file=str(src))
    absent = [name for name in expected if name not in extract.header]
    unknown = [name for name in extract.header if name not in expected]
    close = {name: difflib.get_close_matches(name, unknown, n=1, cutoff=0.8) for name in absent}
    refused = [name for name in absent if expected[name] or close[name]]
    if refused:
        described = [name + (f" (did you mean {close[name][0]!r}?)" if close[name] else "") for name in refused]
        raise InputError(f"{spec.name}: column(s) missing from the extract: {', '.join(described)} "
                         f"(mhgraph template {spec.name} writes the expected header)", file=str(src))
    if absent:
        extract.warnings.append(f"column(s) absent, delivered empty: {', '.join(absent)}")
    return extract, [name for name in expected if name in extract.header], absent


def _without_values(frame: pl.DataFrame, problems: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the values named in ``problems`` (``__row``, ``column``) set to null."""
    from mhgraph.ingest.readers import ROW

    for column, rows in problems.group_by("column").agg(pl.col(ROW)).iter_rows():
        frame = frame.with_columns(pl.when(pl.col(ROW).is_in(rows)).then(None).otherwise(pl.col(column)).alias(column))
    return frame


def _same_file(target: Path, src: Path) -> bool:
    """Whether writing ``target`` would overwrite ``src``: the same path, or, when ``target``
    exists, the same file under another name (a hard link, a symbolic link, another mount)."""
    if target.exists():
        return target.samefile(src)
    return target.resolve() == src.resolve()


def partner_quarantine_path(src: str | Path, quarantine: str | Path | None = None) -> Path:
    """Where the partner-side quarantine of ``src`` goes: ``quarantine``, else beside ``src``.

    >>> partner_quarantine_path("export/loon.csv").as_posix()
    'export/loon.csv.quarantine.csv'
    """
    return Path(quarantine) if quarantine else Path(src).with_name(Path(src).name + ".quarantine.csv")


def pseudonymise_file(src: str | Path, spec: SourceSpec, key: Key, out_dir: str | Path, created: str, *,
                      delimiter: str | None = None, encoding: str | None = None,
                      quarantine: str | Path | None = None, run_purpose: str | None = None,
                      name_hardening: str = NAME_HARDENING) -> Path:
    """Read a plaintext extract (CSV, Parquet or Excel), check every row, and write the rows
    that pass in delivered form to ``out_dir``; the others go to the partner-side quarantine
    (:func:`partner_quarantine_path`; never in ``out_dir``). A value that only helps matching
    (:data:`VALUE_LEFT_OUT`: a date of birth, postcode or house number that fails its check) is
    left out and its row delivered; any other failing value, a date passed on included, holds its
    row back. The quarantine lists every failing value by file, row, column, value, reason and
    message, with its ``action``. The sidecar
    counts the rows read and held back per reason (``rows_read``, ``rows_quarantined_by_partner``,
    ``quarantined_by_partner``) and the values left out per reason (``values_left_out_by_partner``). ``key`` is the delivery key of ``run_purpose``; the name filters
    are hardened with ``name_hardening``. Returns the delivered extract's path.
    """
    from mhgraph.ingest.readers import ROW
    from mhgraph.ingest.record_ids import SeenRecordIds

    src = Path(src)
    quarantine_path = partner_quarantine_path(src, quarantine)
    if quarantine_path.resolve().parent == Path(out_dir).resolve():
        raise InputError("the partner-side quarantine holds plaintext and must not be written into the delivery "
                         "folder", file=str(quarantine_path))
    if _same_file(quarantine_path, src):
        raise InputError("the partner-side quarantine would replace this plaintext extract; choose another "
                         "--quarantine file", file=str(src))
    candidate = src.stem + Path(spec.file).suffix
    name = delivered_name(spec, candidate, key)
    # Decided before any row is read: write_extract would refuse the name only after every row was checked.
    if not fnmatch.fnmatch(name, spec.file):
        why = (f"its name holds what looks like an identifier and the spec's pattern {spec.file!r} leaves no place "
               "for a hashed name" if identifier_in_name(_without_plaintext(candidate)) else
               f"neither its name nor the spec's pattern {spec.file!r} without its wildcards matches that pattern")
        raise InputError(f"{why}; rename the file to match the pattern, without the identifier", file=str(src))
    delivered_path = Path(out_dir) / name
    if any(_same_file(target, src) for target in (delivered_path, Path(str(delivered_path) + META_SUFFIX))):
        raise InputError("the delivered extract would replace this plaintext extract; choose another --out folder",
                         file=str(src))
    # Every delivery records a keyed hash of its input's name (never the name: it goes to the engine
    # and may say more than its rows), so that an input of another name meeting that delivered name,
    # by a fixed spec name, a pattern's fallback or a hashed name, is refused instead of replacing it;
    # a rerun of the same input with the same key and purpose, with or without the word plaintext, replaces its
    # own delivery. The hash is keyed, so under another key or purpose it cannot tell the input: the sidecar's
    # fingerprint and purpose say why instead.
    follows_input = {"delivered_for_name": keyed_hash(key, "file_name", _without_plaintext(src.name))}
    earlier = read_meta(delivered_path) if delivered_path.exists() else None
    if earlier is not None and earlier.get("delivered_for_name") != follows_input["delivered_for_name"]:
        sidecar = shown_path(str(delivered_path) + META_SUFFIX)
        if "delivered_for_name" not in earlier:  # whether it came from this input cannot be told, so not guessed
            raise InputError(f"the extract delivered under the name this one gets ({shown_path(delivered_path)}) was "
                             "written without a record of its input (by `mhgraph synth` or an earlier version of "
                             "mhgraph); if it came from this input, remove that file and its sidecar "
                             f"({sidecar}) and run again, else choose another --out folder", file=str(src))
        if earlier.get("run_purpose") != run_purpose or earlier.get("key_fingerprint") != key.fingerprint:
            recorded = earlier.get("run_purpose")  # none where pseudonymise_file was called without one
            other = ((f"another purpose ({recorded!r})" if recorded else "no run purpose recorded in its sidecar")
                     if recorded != run_purpose else f"another key (fingerprint {earlier.get('key_fingerprint')})")
            raise InputError(f"the extract delivered under the name this one gets ({shown_path(delivered_path)}) was "
                             f"delivered with {other}; remove that delivery and its sidecar ({sidecar}) if this run "
                             "replaces it, else choose another --out folder", file=str(src))
        raise InputError(f"another extract was delivered under the name this one gets ({shown_path(delivered_path)}), "
                         "from an input of another name, and would be replaced: choose another --out folder, or remove "
                         "that delivery if this input replaces it", file=str(src))
    inputs = {name for block in spec.entities for name in block.plaintext.values()}
    unread = [column for column in spec.columns if column not in spec.delivered_columns and column not in inputs]
    if unread:  # data minimisation drops them; a partner who declared one (required, say) should know
        log.warning("%s: column(s) declared in [columns] that no entity field or relation reads, so neither "
                    "checked nor delivered: %s", spec.name, ", ".join(unread))
    encoded = [column for column in spec.columns if column not in spec.delivered_columns and column in inputs]
    if encoded:  # read and encoded, but a rule such as required is not applied: the partner should know
        log.warning("%s: plaintext input column(s) declared in [columns], encoded; `[columns]` rules do not apply "
                    "to plaintext inputs: %s", spec.name, ", ".join(encoded))
    extract, present, absent = _read_plaintext(src, spec, delimiter, encoding)
    delivered, problems = [], []
    seen = SeenRecordIds()
    rows_read = 0
    numbered = [name for block in spec.entities for kind, name in block.plaintext.items()
                if kind in ("bsn", "kvk_number") and name in present]
    # Asked only once a value reads otherwise from a number cell: a workbook's sheet is parsed again for it.
    number_columns = None
    for batch in extract.batches(present):
        if number_columns is None and _cell_type_matters(batch.frame, numbered):
            number_columns = extract.number_columns(numbered)
        frame = _kvk_numbers_padded(batch.frame, spec, number_columns or frozenset())
        found = check_plaintext(frame, spec, dt.date.fromisoformat(created), extract.native_date_formats,
                                number_columns or frozenset())
        repeated = seen.repeated(spec.name, frame.select(ROW, pl.col(spec.record_id).alias("rid")).filter(
            pl.col("rid").is_not_null()))
        garbage = batch.garbage.select(ROW, column=pl.lit(None, pl.String), value=pl.lit(None, pl.String),
                                       reason="reason", message="message")
        found = pl.concat([found, repeated.select(
            ROW, column=pl.lit(spec.record_id), value="rid", reason=pl.lit("duplicate_record_id"),
            message=pl.format("the record id was already used on row {}", "first_row")), garbage])
        problems.append(found)
        held_back = found.filter(~pl.col("reason").is_in(VALUE_LEFT_OUT))
        good = _without_values(frame.filter(~pl.col(ROW).is_in(held_back[ROW].implode())),
                               found.filter(pl.col("reason").is_in(VALUE_LEFT_OUT)))
        good = good.with_columns(pl.lit(None, pl.String).alias(name) for name in absent)
        if extract.native_date_formats:
            good = _dates_as_the_spec_writes_them(good, spec)
        delivered.append(pseudonymise_frame(good.drop(ROW), spec, key, name_hardening))
        rows_read += frame.height + batch.garbage.height
    if not problems:  # a header without rows (an unfilled template) delivers an empty extract
        problems.append(pl.DataFrame(schema={ROW: pl.Int64, **dict.fromkeys(("column", "value", "reason", "message"),
                                                                             pl.String)}))
    problem_frame = pl.concat(problems).rename({ROW: "row_number"}).sort("row_number", maintain_order=True)
    held_rows = problem_frame.filter(~pl.col("reason").is_in(VALUE_LEFT_OUT))["row_number"].implode()
    left_out = ~pl.col("row_number").is_in(held_rows)  # a held-back row delivers none of its values
    problem_frame = problem_frame.select(  # each line says which file, which row, which column, why and what became of it
        pl.lit(src.name).alias("file"), pl.all(),
        action=pl.when(left_out).then(pl.lit("value left out, row delivered")).otherwise(pl.lit("row held back")))
    held_back = problem_frame.filter(~left_out & ~pl.col("reason").is_in(VALUE_LEFT_OUT))
    rows_quarantined = held_back["row_number"].n_unique()
    write_csv_safe(problem_frame, quarantine_path)
    frame = pl.concat(delivered) if delivered else pseudonymise_frame(
        pl.DataFrame(schema={name: pl.String for name in plaintext_columns(spec)}), spec, key, name_hardening)
    by_reason = held_back.group_by("reason").agg(pl.col("row_number").n_unique()).sort("reason").rows()
    values_by_reason = problem_frame.filter(left_out).group_by("reason").agg(pl.len()).sort("reason").rows()
    for warning in extract.warnings:  # rows and column names only, never a value
        log.warning("%s: %s", Path(shown_path(src)).name, warning)
    return write_extract(frame, spec, out_dir, key.fingerprint, created, name, {
        "rows_read": rows_read, "rows_quarantined_by_partner": rows_quarantined,
        "quarantined_by_partner": dict(by_reason), "values_left_out_by_partner": dict(values_by_reason),
        **follows_input}, run_purpose=run_purpose, name_hardening=name_hardening)


def template(spec: str | Path | SourceSpec, out: str | Path | None = None, spec_dir: str | Path = SPEC_DIR) -> Path:
    """Write an empty plaintext extract with the header ``mhgraph pseudonymise`` expects for
    ``spec``: a CSV that Dutch Excel opens in columns (``;``, UTF-8 with a byte-order mark),
    or an Excel workbook for a spec whose extracts are ``.xlsx``. An existing file is never
    overwritten.

    >>> import tempfile, pathlib
    >>> path = template("ind_referenten", pathlib.Path(tempfile.mkdtemp()) / "referenten.csv")
    >>> path.read_text(encoding="utf-8-sig")
    'referent_id;referent_kvk_nummer;referent_naam;status;datum_wijziging\\n'
    """
    source_spec = spec if isinstance(spec, SourceSpec) else find_spec(spec, spec_dir)
    suffix = ".xlsx" if source_spec.file.lower().endswith(".xlsx") else ".csv"
    path = Path(out) if out else Path(f"{source_spec.name}{PLAINTEXT_MARKER}{suffix}")
    if path.exists():
        raise InputError("the file exists already; a template never overwrites a file", file=str(path))
    empty = pl.DataFrame(schema={name: pl.String for name in plaintext_columns(source_spec)})
    if path.suffix.lower() == ".xlsx":
        _write_xlsx(empty, path, dt.date.today().isoformat())
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(codecs.BOM_UTF8 + (";".join(empty.columns) + "\n").encode("utf-8"))
    return path


def pseudonymise(src: str | Path, spec: str | Path | SourceSpec, out_dir: str | Path,
                 key_file: str | Path | None = None, created: str | None = None,
                 spec_dir: str | Path = SPEC_DIR, *, delimiter: str | None = None, encoding: str | None = None,
                 quarantine: str | Path | None = None, purpose: str = DEFAULT_RUN_PURPOSE,
                 name_hardening: str = NAME_HARDENING) -> Path:
    """What ``mhgraph pseudonymise`` runs: read the shared key (from ``key_file``, else the
    environment variable ``MHGRAPH_KEY``), derive the delivery key of the run ``purpose`` the
    extract is delivered for, check and pseudonymise ``src`` as ``spec`` (a spec
    name, a spec file or a :class:`SourceSpec`) says, and write the delivered extract and its
    sidecar to ``out_dir`` (its path is returned) and the rows that fail their checks to the
    partner-side ``quarantine`` (see :func:`pseudonymise_file`).
    ``created`` (``YYYY-MM-DD``, default today) goes into the sidecar. ``delimiter`` and
    ``encoding`` name those of a CSV instead of sniffing them. ``name_hardening`` is how the
    person-name Bloom filters are hardened (:data:`mhgraph.crypto.HARDENINGS`); every partner of
    a run must use the same one, which the sidecar records.

    Refuses a run purpose that may not use the source's collection purpose (art. 3:3 Awb: the
    partner does not deliver what the run may not use). Only the delivery key's fingerprint is
    ever logged or written; no plaintext value is logged.
    """
    src = Path(src)
    if not src.is_file():
        raise InputError("the plaintext extract does not exist", file=str(src))
    source_spec = spec if isinstance(spec, SourceSpec) else find_spec(spec, spec_dir)
    if source_spec.purpose not in allowed_source_purposes(purpose):
        raise InputError(f"run purpose {purpose!r} may not use {source_spec.name} (collected for "
                         f"{source_spec.purpose!r}): it is not delivered for that purpose")
    key = load_key(key_file).for_purpose(purpose)
    created = created or dt.date.today().isoformat()
    try:
        dt.date.fromisoformat(created)
    except ValueError:
        raise InputError(f"the creation date {created!r} is not a date as YYYY-MM-DD") from None
    log.info("pseudonymising %s as %s for %s with key fingerprint %s", shown_path(src), source_spec.name, purpose,
             key.fingerprint)
    try:
        return pseudonymise_file(src, source_spec, key, out_dir, created, delimiter=delimiter, encoding=encoding,
                                 quarantine=quarantine, run_purpose=purpose, name_hardening=name_hardening)
    except InputError as exc:
        if exc.file:  # it names its file already
            raise
        raise InputError(exc.detail, file=str(src), row=exc.row, column=exc.column) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid {exc.encoding} at byte {exc.start}: set [read] encoding in the spec",
                         file=str(src)) from exc
    except (pl.exceptions.PolarsError, FastExcelError) as exc:  # their messages quote the rows
        raise InputError(f"could not read the plaintext extract ({describe_read_error(exc)})", file=str(src)) from None
