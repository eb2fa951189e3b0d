"""What a partner runs on its own machine before sharing: plaintext extract in, delivered extract out.

The source spec says which plaintext columns hold which entity (``plaintext`` in each entity
block) and what the delivered columns are called (``fields``). Exact identifiers become keyed
hashes, names and dates of birth become keyed Bloom filters plus two match keys, addresses
become an address key and a building key. Every other column is left out (data
minimisation): only the columns some stage reads (:attr:`~mhgraph.spec.SourceSpec.used_columns`)
are delivered, so a register's nationality or, below, a sponsor's recognition date never leaves
the partner. Every extract is delivered for one run purpose and pseudonymised with that
purpose's delivery key (:meth:`~mhgraph.crypto.Key.for_purpose`), so that extracts made for
different purposes do not link. A sidecar ``<file>.meta.json`` names the source, partner,
collection purpose, run purpose, row count and key fingerprint — never the key.

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
import re
from pathlib import Path

import polars as pl
from fastexcel import FastExcelError

from mhgraph import normalise
from mhgraph.crypto import Key, address_keys, bloom_encode, keyed_hash, load_key, person_match_keys
from mhgraph.errors import InputError, describe_read_error
from mhgraph.manifest import DEFAULT_RUN_PURPOSE, allowed_source_purposes
from mhgraph.spec import SPEC_DIR, SourceSpec, find_spec

log = logging.getLogger("mhgraph.pseudonymise")

__all__ = ["META_SUFFIX", "pseudonymise", "pseudonymise_frame", "pseudonymise_file", "read_meta", "write_extract"]

META_SUFFIX = ".meta.json"
# The hardening of the person-name Bloom filters every partner applies (docs/privacy.md).
NAME_HARDENING = "none"
_CSV_SLICE_ROWS = 100_000


def _text(values: list) -> list[str | None]:
    return [None if v is None or str(v).strip() == "" else str(v).strip() for v in values]


def _digits(value: str | None) -> str | None:
    """Exact identifiers are hashed on their digits/letters only, so '1234 56 78' == '12345678'."""
    if value is None:
        return None
    cleaned = "".join(ch for ch in value.upper() if ch.isalnum())
    return cleaned or None


def _salts(hardening: str, born: list, record_ids: list) -> list:
    """The per-record value a hardening keys each name filter with: the year of birth for
    "salt" (the same person carries it in every register), the record for "blip"."""
    if hardening == "salt":
        years = [normalise.parse_date(v) for v in born]
        return [str(d.year) if d else "unknown" for d in years]
    if hardening == "blip":
        return [str(r) for r in record_ids]
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
            out[block.fields[ident]] = [keyed_hash(key, ident, _digits(v)) for v in plain[ident]]
    if "given_name_bf" in block.fields:
        out[block.fields["given_name_bf"]] = [bloom_encode(key, "given_name", normalise.given_name(v), hardening, s)
                                              for v, s in zip(given, salts)]
    if "family_name_bf" in block.fields:
        out[block.fields["family_name_bf"]] = [
            bloom_encode(key, "family_name", normalise.family_name_core(v), hardening, s) for v, s in zip(family, salts)
        ]
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
    columns = []
    for name, column in spec.delivered_columns.items():
        if name in encoded:
            columns.append(pl.Series(name, encoded[name], dtype=pl.String))
        elif name in frame.columns:
            columns.append(frame[name])
        else:
            columns.append(pl.Series(name, [None] * frame.height, dtype=pl.String))
    return pl.DataFrame(columns)


def delivered_name(spec: SourceSpec, candidate: str | None = None) -> str:
    """The delivered file's name: the spec's ``file``; for a pattern such as
    ``gemeente_venlo_vergunningen*.csv``, ``candidate`` when it matches the pattern, else the
    pattern without its wildcards.

    >>> from mhgraph.spec import load_spec, SPEC_DIR
    >>> delivered_name(load_spec(SPEC_DIR / "ind_referenten.toml"), "anything.csv")
    'ind_referenten.csv'
    """
    if not any(ch in spec.file for ch in "*?["):
        return spec.file
    if candidate and fnmatch.fnmatch(candidate, spec.file):
        return candidate
    return re.sub(r"\[[^\]]*\]|[*?]", "", spec.file)


def write_extract(frame: pl.DataFrame, spec: SourceSpec, out_dir: str | Path, key_fingerprint: str,
                  created: str, file_name: str | None = None, run_purpose: str | None = None,
                  name_hardening: str = NAME_HARDENING) -> Path:
    """Write a delivered extract in the spec's format (CSV with its delimiter and encoding, or
    Excel), plus its sidecar. ``created`` is the extract date written into the sidecar;
    ``run_purpose`` the run purpose whose delivery key made ``key_fingerprint``, and
    ``name_hardening`` how the name filters were hardened (ingest refuses a mix).

    The file is named by the spec (see :func:`delivered_name`); a ``file_name`` given instead
    must match the spec's pattern, so that ingest finds the file again."""
    name = file_name or delivered_name(spec)
    if any(ch in name for ch in "*?[") or not fnmatch.fnmatch(name, spec.file):
        raise InputError(f"the delivered file needs a name matching the spec's pattern {spec.file!r}, not {name!r}",
                         file=name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    if path.suffix == ".xlsx":
        _write_xlsx(frame, path, created)
    elif path.suffix == ".parquet":
        frame.write_parquet(path)
    else:
        # Slice by slice, so that a million-row extract is never held twice as text in memory.
        with path.open("wb") as out:
            for start in range(0, max(frame.height, 1), _CSV_SLICE_ROWS):
                buffer = io.StringIO()
                frame.slice(start, _CSV_SLICE_ROWS).write_csv(buffer, separator=spec.delimiter or ",",
                                                              include_header=start == 0)
                out.write(buffer.getvalue().encode(spec.encoding or "utf-8"))
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
    Path(str(path) + META_SUFFIX).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
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


def pseudonymise_file(src: str | Path, spec: SourceSpec, key: Key, out_dir: str | Path, created: str,
                      run_purpose: str | None = None) -> Path:
    """Read a plaintext extract (CSV in the spec's delimiter/encoding, Parquet or Excel) and write
    the delivered form to ``out_dir``. ``key`` is the delivery key of ``run_purpose``."""
    src = Path(src)
    if src.suffix == ".parquet":
        frame = pl.read_parquet(src)
    elif src.suffix == ".xlsx":
        frame = pl.read_excel(src, infer_schema_length=0)
    else:
        encoding = spec.encoding or "utf-8"
        if codecs.lookup(encoding).name == "utf-8":
            encoding = "utf-8-sig"  # a byte-order mark must not end up in the first column name
        text = src.read_bytes().decode(encoding)
        frame = pl.read_csv(io.StringIO(text), separator=spec.delimiter or ",", infer_schema_length=0)
    frame = frame.with_columns(pl.all().cast(pl.String))
    name = delivered_name(spec, src.stem + Path(spec.file).suffix)
    return write_extract(pseudonymise_frame(frame, spec, key), spec, out_dir, key.fingerprint, created, name,
                         run_purpose=run_purpose)


def pseudonymise(src: str | Path, spec: str | Path | SourceSpec, out_dir: str | Path,
                 key_file: str | Path | None = None, created: str | None = None,
                 spec_dir: str | Path = SPEC_DIR, purpose: str = DEFAULT_RUN_PURPOSE) -> Path:
    """What ``mhgraph pseudonymise`` runs: read the shared key (from ``key_file``, else the
    environment variable ``MHGRAPH_KEY``), derive the delivery key of the run ``purpose`` the
    extract is delivered for, pseudonymise ``src`` as ``spec`` (a spec name, a spec file or a
    :class:`SourceSpec`) says, and write the delivered extract and its sidecar to ``out_dir``.
    ``created`` (``YYYY-MM-DD``, default today) goes into the sidecar.

    Refuses a run purpose that may not use the source's collection purpose (art. 3:3 Awb: the
    partner does not deliver what the run may not use). Only the delivery key's fingerprint is
    ever logged or written.
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
    log.info("pseudonymising %s as %s for %s with key fingerprint %s", src, source_spec.name, purpose,
             key.fingerprint)
    try:
        return pseudonymise_file(src, source_spec, key, out_dir, created, run_purpose=purpose)
    except InputError as exc:
        raise InputError(str(exc), file=str(src)) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid {exc.encoding} at byte {exc.start}: set [read] encoding in the spec",
                         file=str(src)) from exc
    except (pl.exceptions.PolarsError, FastExcelError) as exc:  # their messages quote the rows
        raise InputError(f"could not read the plaintext extract ({describe_read_error(exc)})", file=str(src)) from None
