"""The data contract, written from the source specs: one section per delivered extract.

``docs/data-contract.md`` holds a hand-written introduction and, below a marker line, the
sections :func:`render_contract` writes from ``mhgraph/specs/*.toml``: partner, purpose and
legal basis, file name and format, and one table of columns with their meaning, type and
how each is pseudonymised. :func:`update_document` rewrites that part; a test checks that
the document is up to date with the specs.

>>> from mhgraph.spec import SPEC_DIR, load_spec
>>> text = render_section(load_spec(SPEC_DIR / "ind_referenten.toml"))
>>> "| `referent_kvk_nummer` |" in text and "HMAC-SHA-256" in text
True
"""

from __future__ import annotations

from pathlib import Path

from mhgraph.spec import PURPOSES, Column, SourceSpec, load_specs

__all__ = ["MARKER", "render_contract", "render_section", "rewrite_below_marker", "update_document"]

MARKER = "<!-- Everything below is written by mhgraph.contract.update_document from mhgraph/specs; do not edit. -->"

_HASH = "keyed hash: HMAC-SHA-256 of the {what}, first 128 bits (32 hex digits)"
_BLOOM = "keyed Bloom filter of the padded bigrams of the {what} (256 bits, 8 hash functions, base64)"

# What each canonical field holds, and how the partner's plaintext becomes it.
_FIELDS = {
    "bsn": ("BSN (citizen service number)", _HASH.format(what="BSN digits")),
    "v_number": ("V-number (IND alien number)", _HASH.format(what="V-number")),
    "kvk_number": ("KvK (trade register) number", _HASH.format(what="KvK number")),
    "wage_tax_number": ("wage-tax number (loonheffingennummer)", _HASH.format(what="wage-tax number")),
    "given_name_bf": ("given names", _BLOOM.format(what="normalised given names")),
    "family_name_bf": ("family name", _BLOOM.format(what="family name without particles (van, de, ...)")),
    "names_bf": ("all names", _BLOOM.format(what="words of given and family names together (no titles, "
                                             "the family name without its leading particles, each word once, in "
                                             "alphabetical order), for names swapped or written in the other field")),
    "birth_date_bf": ("date of birth", _BLOOM.format(what="date of birth as YYYYMMDD")),
    "name_bf": ("company name", _BLOOM.format(what="company name without legal form (B.V., VOF, ...)")),
    "match_key_1": ("match key 1", "keyed hash of both name cores in sorted order + birth year + day and "
                                   "month in sorted order (survives swapped names and swapped day/month)"),
    "match_key_2": ("match key 2", "keyed hash of family-name core + first initial + birth year "
                                   "(survives initials and typos in the given name)"),
    "address_key": ("address", "address key: keyed hash of postcode + house number + addition"),
    "building_key": ("building", "building key: keyed hash of postcode + house number"),
    "municipality": ("municipality of the address", "plaintext kept"),
    "legal_form": ("legal form", "plaintext kept"),
    "sbi_code": ("SBI 2008 sector code", "plaintext kept"),
    "registered_on": ("date of registration", "plaintext kept"),
    "dissolved_on": ("date of dissolution", "plaintext kept"),
    "sponsor_status": ("sponsor recognition status", "plaintext kept"),
    "sponsor_status_on": ("date the status last changed", "plaintext kept"),
    "permit_number": ("permit number", "plaintext kept"),
    "permit_type": ("kind of permit", "plaintext kept"),
    "permit_status": ("permit decision", "plaintext kept"),
    "bibob_outcome": ("Bibob advice (integrity screening)", "plaintext kept"),
    "decided_on": ("date of the decision", "plaintext kept"),
}

# Meaning of the spec's own columns that no entity field describes.
_COLUMNS = {
    "datum_aanvang": "first day of the period",
    "datum_einde": "last day of the period (empty: still running when the extract was made)",
    "brutoloon": "gross wage paid over the period, euro",
    "uren": "hours paid over the period",
    "contractsoort": "kind of employment contract",
    "functie": "role of the officer in the company",
    "verblijfsdoel": "purpose of stay of the residence permit",
    "geldig_vanaf": "first day the residence permit is valid",
    "geldig_tot": "last day the residence permit is valid",
    "vergunningnummer": "permit number (one permit may have several rows, one per manager)",
    "werknemer_leeftijdsklasse": "age band of the employee on the first day of the period (for the statutory "
                                 "youth minimum wage); empty when unknown",
}

# The partner's plaintext inputs behind each encoded field.
_INPUTS = {
    "given_name_bf": ("given_name",), "family_name_bf": ("family_name",), "birth_date_bf": ("birth_date",),
    "names_bf": ("given_name", "family_name"), "name_bf": ("name",),
    "match_key_1": ("given_name", "family_name", "birth_date"),
    "match_key_2": ("given_name", "family_name", "birth_date"),
    "address_key": ("postcode", "house_number", "addition"), "building_key": ("postcode", "house_number"),
}

_KIND_NAMES = {"id": "text (record id)", "hash": "32 hex digits", "bloom": "44 base64 characters",
               "date": "date", "number": "number", "integer": "integer", "category": "category", "text": "text"}


def _type(column: Column) -> str:
    kind = _KIND_NAMES[column.kind]
    if column.kind == "category" and column.mapping:
        codes = ", ".join(f"`{k}` = {v}" for k, v in column.mapping.items())
        kind += f": {codes}"
    elif column.kind == "category" and column.values:
        kind += ": " + ", ".join(f"`{v}`" for v in column.values)
    elif column.kind == "date" and column.formats:
        kind += " (" + ", ".join(f"`{f}`" for f in column.formats) + ")"
    elif column.kind == "number" and (column.minimum is not None or column.maximum is not None):
        low = "" if column.minimum is None else f"{column.minimum:g}"
        high = "" if column.maximum is None else f"{column.maximum:g}"
        kind += f" ({low}..{high})"
    return kind + (", required" if column.required else "") + (", optional: may be absent" if column.optional else "")


def _rows(spec: SourceSpec) -> list[tuple[str, str, str, str]]:
    """(column, meaning, type, pseudonymisation) for every delivered column."""
    described: dict[str, tuple[str, str]] = {
        spec.record_id: ("the partner's own record id", "plaintext kept"),
    }
    for block in spec.entities:
        for field, column in block.fields.items():
            if column in described:
                continue
            what, how = _FIELDS[field]
            sources = [block.plaintext[i] for i in _INPUTS.get(field, (field,)) if i in block.plaintext]
            if sources and how != "plaintext kept":
                how += ", from " + " + ".join(f"`{c}`" for c in sources)
            described[column] = (f"{what} of the {block.role.replace('_', ' ')} ({block.type})", how)
    for derived in spec.derived:
        given = f"; a filled plaintext `{derived.given}` wins" if derived.given else ""
        described[derived.name] = (_COLUMNS.get(derived.name, derived.name.replace("_", " ")),
                                   f"computed by the partner from `{derived.birth_date}` and `{derived.on}`{given}")
    rows = []
    for name, column in spec.delivered_columns.items():
        meaning, how = described.get(name, (_COLUMNS.get(name, name.replace("_", " ")), "plaintext kept"))
        rows.append((name, meaning, _type(column), how))
    return rows


def _dropped(spec: SourceSpec) -> list[str]:
    delivered = set(spec.delivered_columns)
    plain = [c for block in spec.entities for c in block.plaintext.values()]
    return sorted({c for c in plain if c not in delivered})


def render_section(spec: SourceSpec) -> str:
    """The contract of one extract, in Markdown."""
    if spec.file.endswith(".xlsx"):
        fmt = "Excel workbook (`.xlsx`), first sheet, first row holds the column names"
    else:
        fmt = (f"CSV, delimiter `{spec.delimiter or ','}`, encoding `{spec.encoding or 'utf-8'}`, "
               "first row holds the column names, empty field = no value")
    lines = [
        f"## `{spec.name}` — {spec.title}",
        "",
        f"- partner: `{spec.partner}`",
        f"- purpose: `{spec.purpose}` — {PURPOSES[spec.purpose]}",
        f"- file: `{spec.file}` with sidecar `{spec.file}.meta.json`",
        f"- format: {fmt}",
        "- date formats: " + ", ".join(f"`{f}`" for f in spec.date_formats),
        f"- record id: `{spec.record_id}`",
        "- entity blocks: " + ", ".join(f"`{b.role}` ({b.type})" for b in spec.entities),
        "- relations: " + ", ".join(f"{r.type} `{r.from_role}` → `{r.to_role}`" for r in spec.relations)
        if spec.relations else "- relations: none",
        "",
        "| column | meaning | type | pseudonymisation |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{c}` | {m} | {t} | {h} |" for c, m, t, h in _rows(spec)]
    dropped = _dropped(spec)
    if dropped:
        lines += ["", "Plaintext columns the partner encodes and does not deliver: "
                  + ", ".join(f"`{c}`" for c in dropped) + ". Any other column of the partner's own "
                  "file (street, town, nationality, ...) is dropped as well: only the columns some stage "
                  "reads are delivered."]
    return "\n".join(lines) + "\n"


def render_contract(specs: list[SourceSpec] | None = None) -> str:
    """Every section, in spec-name order."""
    specs = load_specs() if specs is None else specs
    return "\n".join(render_section(spec) for spec in specs)


def update_document(path: str | Path, specs: list[SourceSpec] | None = None) -> bool:
    """Rewrite the generated part of the document at ``path``; ``True`` when it changed."""
    return rewrite_below_marker(path, MARKER, render_contract(specs))


def rewrite_below_marker(path: str | Path, marker: str, generated: str) -> bool:
    """Replace everything below the line ``marker`` of the document at ``path`` by ``generated``,
    keeping the hand-written part above it; ``True`` when the document changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    head, found, _ = text.partition(marker)
    if not found:
        raise ValueError(f"{path}: the marker line is missing")
    new = f"{head}{marker}\n\n{generated}"
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True
