"""Source specs: declarative descriptions of one partner extract layout.

A spec is a TOML file (see ``docs/source-specs.md``) that says which partner delivers the
extract, under which purpose, which column is the record id, which columns hold which
entity (person, company, address, permit) in which role, and which relations a row states.
The same spec tells ``mhgraph pseudonymise`` which plaintext columns a partner turns into
which keyed columns. A new layout is a new spec file, no code.

>>> spec = load_spec(SPEC_DIR / "kvk_functionarissen.toml")
>>> spec.partner, [e.role for e in spec.entities]
('kvk', ['functionaris', 'bedrijf', 'woonadres'])
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from mhgraph.errors import MhgraphError

__all__ = [
    "ENTITY_FIELDS",
    "LAWFUL_PROTECTED_USES",
    "OPTIONAL_FIELDS",
    "PERSON_ATTRIBUTES",
    "PLAINTEXT_INPUTS",
    "PROTECTED_ATTRIBUTES",
    "PURPOSES",
    "SPEC_DIR",
    "Column",
    "DerivedColumn",
    "EntityBlock",
    "RelationSpec",
    "SourceSpec",
    "SpecError",
    "find_spec",
    "load_spec",
    "load_specs",
    "protected_attribute",
    "specs",
]

SPEC_DIR = Path(__file__).parent / "specs"

# Legal basis under which a partner collected an extract (art. 3:3 Awb: purposes stay apart).
PURPOSES = {
    "fiscal_supervision": "Belastingdienst: levying and auditing wage tax (AWR, Wet LB 1964)",
    "company_register": "KvK: keeping the trade register (Handelsregisterwet 2007)",
    "immigration_supervision": "IND: residence permits and sponsor recognition (Vreemdelingenwet 2000)",
    "administrative_supervision": "Municipality: permits and supervision (APV, Wet regulering sekswerk)",
    "bibob": "Municipality: integrity screening of permit applicants (Wet Bibob)",
}

# Further person attributes a partner may deliver (plaintext input -> canonical field): each
# becomes a keyed Bloom filter of its folded text (a keyed hash for gender), and entity
# resolution compares them whenever they are present.
PERSON_ATTRIBUTES: dict[str, str] = {
    "birth_place": "birth_place_bf",
    "residence": "residence_bf",
    "postcode": "postcode_bf",
    "address": "address_bf",
    "occupation": "occupation_bf",
    "email": "email_bf",
    "phone": "phone_bf",
    "document_number": "document_number_bf",
    "gender": "gender",
}

# Canonical fields per entity type and the kind of value each holds in a delivered extract.
ENTITY_FIELDS: dict[str, dict[str, str]] = {
    "person": {
        "bsn": "hash",
        "v_number": "hash",
        "given_name_bf": "bloom",
        "family_name_bf": "bloom",
        "names_bf": "bloom",
        "birth_date_bf": "bloom",
        "match_key_1": "hash",
        "match_key_2": "hash",
        **{field: "bloom" if field.endswith("_bf") else "hash" for field in PERSON_ATTRIBUTES.values()},
    },
    "company": {
        "kvk_number": "hash",
        "wage_tax_number": "hash",
        "name_bf": "bloom",
        "legal_form": "category",
        "sbi_code": "text",
        "registered_on": "date",
        "dissolved_on": "date",
        "sponsor_status": "category",
        "sponsor_status_on": "date",
    },
    "address": {
        "address_key": "hash",
        "building_key": "hash",
        "municipality": "text",
    },
    "permit": {
        "permit_number": "id",
        "permit_type": "category",
        "permit_status": "category",
        "bibob_outcome": "category",
        "decided_on": "date",
        "municipality": "text",
    },
}

# Fields an extract may lack even though its spec names them, added after extracts were already
# delivered: ingest reads them when present and leaves them empty (null) when absent.
OPTIONAL_FIELDS = {"person": ("names_bf",)}

# Fields that identify the entity: a block with all of these empty in a row is no mention.
IDENTIFYING_FIELDS = {
    "person": ("bsn", "v_number", "given_name_bf", "family_name_bf", "match_key_1"),
    "company": ("kvk_number", "wage_tax_number", "name_bf"),
    "address": ("address_key", "building_key"),
    "permit": ("permit_number",),
}

# Plaintext inputs a partner has per entity type, for ``mhgraph pseudonymise``.
PLAINTEXT_INPUTS = {
    "person": ("bsn", "v_number", "given_name", "family_name", "birth_date", *PERSON_ATTRIBUTES),
    "company": ("kvk_number", "wage_tax_number", "name"),
    "address": ("postcode", "house_number", "addition"),
    "permit": (),
}

RELATION_TYPES = (
    "EMPLOYED_BY",
    "OFFICER_OF",
    "REGISTERED_AT",
    "LOCATED_AT",
    "SPONSORED_BY",
    "HOLDS_PERMIT",
    "MANAGES",
)

COLUMN_KINDS = ("id", "hash", "bloom", "date", "number", "integer", "category", "text")

# Protected attributes (AVG art. 9 and their usual proxies; SyRI): recognised by the column
# name (these stems, in any column a spec names) or declared with ``protected = "<attribute>"``
# on a column. A spec that names one is refused unless the column also declares
# ``lawful_use = "<id>"`` with an id below: a documented legal ground for that attribute.
PROTECTED_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "nationality": ("nationalit", "staatsburger", "citizenship"),
    "country_of_birth": ("geboorteland", "geboorte_land", "birth_country", "country_of_birth", "herkomstland",
                         "land_van_herkomst", "country_of_origin"),
    "ethnicity": ("etnici", "ethnic", "afkomst"),
    "religion": ("religi", "godsdienst", "geloof", "kerkgenootschap"),
    # the other special categories of AVG art. 9
    "health": ("gezondheid", "health", "medisch", "medical", "ziekte", "handicap", "disabilit", "arbeidsongeschikt",
               "diagnose"),
    "sexual_orientation": ("geaardheid", "sexual_orientation", "seksuele_voorkeur"),
    "political_opinion": ("politiek", "politic", "partijlid"),
    "trade_union": ("vakbond", "trade_union"),
    "genetic_or_biometric": ("genetisch", "genetic", "biometri", "vingerafdruk"),
}
# Documented lawful uses of a protected attribute: id -> (attribute, legal ground). None today:
# no stage needs one, so no spec may deliver one.
LAWFUL_PROTECTED_USES: dict[str, tuple[str, str]] = {}

# Spec names and roles become file names, table values and node labels.
_NAME = re.compile(r"^[a-z0-9_]+$")


class SpecError(MhgraphError, ValueError):
    """A spec file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False
    values: tuple[str, ...] | None = None  # allowed values of a category
    mapping: dict[str, str] | None = None  # partner's category code -> canonical value
    formats: tuple[str, ...] | None = None  # accepted date formats
    minimum: float | None = None
    maximum: float | None = None
    protected: str | None = None  # a protected attribute this column declares it holds
    lawful_use: str | None = None  # the documented lawful use that allows it (LAWFUL_PROTECTED_USES)
    optional: bool = False  # the extract may lack the column: read as empty (null) then


@dataclass(frozen=True)
class EntityBlock:
    role: str
    type: str
    fields: dict[str, str]  # canonical field -> column in the delivered extract
    plaintext: dict[str, str] = field(default_factory=dict)  # plaintext input -> partner column


@dataclass(frozen=True)
class RelationSpec:
    type: str
    from_role: str
    to_role: str
    valid_from: str | None = None
    valid_to: str | None = None
    properties: dict[str, str] = field(default_factory=dict)  # property -> column


@dataclass(frozen=True)
class DerivedColumn:
    """A delivered column the partner computes from plaintext before pseudonymising: the age band
    (:data:`mhgraph.reference.AGE_BANDS`) of the person born on ``birth_date`` on the day in
    ``on``; a filled plaintext column ``given`` wins."""

    name: str
    birth_date: str
    on: str
    given: str | None = None


@dataclass(frozen=True)
class SourceSpec:
    name: str
    title: str
    partner: str
    purpose: str
    file: str
    record_id: str
    columns: dict[str, Column]
    entities: tuple[EntityBlock, ...]
    relations: tuple[RelationSpec, ...]
    delimiter: str | None = None
    encoding: str | None = None
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    path: Path | None = None
    derived: tuple[DerivedColumn, ...] = ()

    def entity(self, role: str) -> EntityBlock:
        for block in self.entities:
            if block.role == role:
                return block
        raise KeyError(role)

    @property
    def used_columns(self) -> set[str]:
        """The columns some stage reads: the record id, every entity field and every column a
        relation takes its dates or properties from. Nothing else is delivered (data minimisation)."""
        used = {self.record_id}
        for block in self.entities:
            used.update(block.fields.values())
        for relation in self.relations:
            used.update(c for c in (relation.valid_from, relation.valid_to) if c)
            used.update(relation.properties.values())
        return used

    @property
    def delivered_columns(self) -> dict[str, Column]:
        """Every column of the delivered (pseudonymised) extract, with its kind: the
        :attr:`used_columns`, never a declared column that no stage reads."""
        out = {self.record_id: Column(self.record_id, "id", required=True)}
        for block in self.entities:
            kinds = ENTITY_FIELDS[block.type]
            for canonical, column in block.fields.items():
                if column == self.record_id:  # the record id stays required, whatever else it holds
                    continue
                declared = self.columns.get(column) or Column(column, kinds[canonical])
                optional = declared.optional or canonical in OPTIONAL_FIELDS.get(block.type, ())
                out[column] = replace(declared, optional=optional)
        used = self.used_columns
        out.update({name: col for name, col in self.columns.items() if name not in out and name in used})
        return out

    def without_columns(self, names: set[str]) -> SourceSpec:
        """This spec as if it named none of the delivered columns ``names`` (optional columns an
        extract lacks): no entity field or relation reads them, so what they would fill stays empty.

        >>> spec = load_spec(SPEC_DIR / "ind_verblijfsvergunningen.toml")
        >>> "vreemdeling_names_bf" in spec.without_columns({"vreemdeling_names_bf"}).delivered_columns
        False
        """
        blocks = tuple(replace(b, fields={k: c for k, c in b.fields.items() if c not in names})
                       for b in self.entities)
        relations = tuple(replace(r, valid_from=None if r.valid_from in names else r.valid_from,
                                  valid_to=None if r.valid_to in names else r.valid_to,
                                  properties={k: c for k, c in r.properties.items() if c not in names})
                          for r in self.relations)
        return replace(self, entities=blocks, relations=relations,
                       columns={n: c for n, c in self.columns.items() if n not in names})


def _fail(path: Path, message: str) -> SpecError:
    return SpecError(f"{path}: {message}")


def _column(path: Path, name: str, raw: dict, default_formats: tuple[str, ...]) -> Column:
    kind = raw.get("kind")
    if kind not in COLUMN_KINDS:
        raise _fail(path, f"columns.{name}.kind must be one of {', '.join(COLUMN_KINDS)}, not {kind!r}")
    formats = raw.get("formats")
    for flag in ("required", "optional"):
        if not isinstance(raw.get(flag, False), bool):
            raise _fail(path, f"columns.{name}.{flag} must be true or false, not {raw[flag]!r}")
    if raw.get("required", False) and raw.get("optional", False):
        raise _fail(path, f"columns.{name} is both required and optional: an extract must hold a required "
                          "column, an optional one it may lack; keep one of the two")
    return Column(
        name=name,
        kind=kind,
        required=raw.get("required", False),
        values=tuple(raw["values"]) if "values" in raw else (tuple(raw["map"]) if "map" in raw else None),
        mapping=dict(raw["map"]) if "map" in raw else None,
        formats=tuple(formats) if formats else (default_formats if kind == "date" else None),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        protected=raw.get("protected"),
        lawful_use=raw.get("lawful_use"),
        optional=raw.get("optional", False),
    )


def protected_attribute(column_name: str) -> str | None:
    """The protected attribute a column name points at, or ``None``.

    >>> protected_attribute("vreemdeling_nationaliteit"), protected_attribute("verblijfsdoel")
    ('nationality', None)
    """
    name = column_name.lower()
    for attribute, stems in PROTECTED_ATTRIBUTES.items():
        if any(stem in name for stem in stems):
            return attribute
    return None


def _named_columns(raw: dict) -> set:
    """Every column name the raw spec names: the record id, [columns], the entity fields and
    plaintext inputs, and the relations' date and property columns.

    >>> sorted(_named_columns({"record_id": "id", "entities": [{"fields": {"bsn": "b"}}],
    ...                        "relations": [{"valid_from": "v", "properties": {"rol": "r"}}]}))
    ['b', 'id', 'r', 'v']
    """
    named = {raw.get("record_id"), *raw.get("columns", {})}
    for block in raw.get("entities", []):
        named.update(block.get("fields", {}).values())
        named.update(block.get("plaintext", {}).values())
    for rel in raw.get("relations", []):
        named.update(rel.get(key) for key in ("valid_from", "valid_to"))
        named.update(rel.get("properties", {}).values())
    return {n for n in named if n is not None}


def _check_protected(path: Path, raw: dict, columns: dict[str, Column]) -> None:
    """Refuse a spec that names a protected attribute without a documented lawful use."""
    named = _named_columns(raw) | set(columns)
    for rel in raw.get("relations", []):
        named.update(rel.get("properties", {}))  # the property names too: "nationaliteit" is one
    for column in columns.values():
        if column.protected is not None and column.protected not in PROTECTED_ATTRIBUTES:
            raise _fail(path, f"columns.{column.name}.protected must be one of {', '.join(PROTECTED_ATTRIBUTES)}")
    for name in sorted(n for n in named if isinstance(n, str)):
        column = columns.get(name)
        attribute = (column.protected if column else None) or protected_attribute(name)
        if attribute is None:
            continue
        use = column.lawful_use if column else None
        if use in LAWFUL_PROTECTED_USES and LAWFUL_PROTECTED_USES[use][0] == attribute:
            continue
        raise _fail(path, f"column {name!r} holds a protected attribute ({attribute}); no stage may use it "
                          "(AVG art. 5(1)(c) and 9) and no documented lawful use is declared for it, so it "
                          "must not be delivered: remove it from the spec")


def _with_all_names(path: Path, i: int, block: dict, fields: dict, raw: dict) -> dict:
    """A person block's fields with ``names_bf`` (all name words) delivered by default under
    ``<role>_names_bf`` when the block already delivers a given- or family-name filter and the
    spec names no column for it: every spec delivers it without knowing of it, and ingest reads
    extracts without it as before. A block whose names serve only its match keys gets none:
    the names leave the partner no more than before; nor does a block with ``all_names = false``
    (a partner whose agreement covers the separate name filters only)."""
    role, all_names = block["role"], block.get("all_names", True)
    if not isinstance(all_names, bool):
        raise _fail(path, f"entities[{i}] ({role}): all_names must be true or false, not {all_names!r}")
    if not all_names:
        if "names_bf" in fields:
            raise _fail(path, f"entities[{i}] ({role}): all_names = false, yet its fields name names_bf; keep one of the two")
        return fields
    if "names_bf" in fields or not {"given_name_bf", "family_name_bf"} & set(fields):
        return fields
    column = f"{role}_names_bf"
    if column in _named_columns(raw):
        raise _fail(path, f"the default column {column!r} of names_bf (all name words) of person block {role!r} is "
                          "already named in the spec: name another for names_bf in its fields")
    return {**fields, "names_bf": column}


def load_spec(path: str | Path) -> SourceSpec:
    """Read and check one spec file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, f"not valid TOML: {exc}") from exc
    for key in ("name", "partner", "purpose", "file", "record_id"):
        if key not in raw:
            raise _fail(path, f"missing top-level key {key!r}")
    if not isinstance(raw["name"], str) or not _NAME.match(raw["name"]):
        raise _fail(path, f"name {raw['name']!r} must be lower case letters, digits and '_' only")
    if raw["purpose"] not in PURPOSES:
        raise _fail(path, f"purpose {raw['purpose']!r} is not one of {', '.join(PURPOSES)}")
    read = raw.get("read", {})
    date_formats = tuple(read.get("date_formats", ("%Y-%m-%d",)))
    columns = {
        name: _column(path, name, spec, date_formats) for name, spec in raw.get("columns", {}).items()
    }
    _check_protected(path, raw, columns)
    entities = []
    for i, block in enumerate(raw.get("entities", [])):
        etype = block.get("type")
        if not isinstance(block.get("role"), str) or not _NAME.match(block["role"]):
            raise _fail(path, f"entities[{i}].role {block.get('role')!r} must be lower case letters, digits and '_' only")
        if etype not in ENTITY_FIELDS:
            raise _fail(path, f"entities[{i}].type must be one of {', '.join(ENTITY_FIELDS)}")
        unknown = set(block.get("fields", {})) - set(ENTITY_FIELDS[etype])
        if unknown:
            raise _fail(path, f"entities[{i}] ({block.get('role')}): unknown {etype} fields {sorted(unknown)}")
        unknown_plain = set(block.get("plaintext", {})) - set(PLAINTEXT_INPUTS[etype])
        if unknown_plain:
            raise _fail(path, f"entities[{i}] ({block.get('role')}): unknown plaintext inputs {sorted(unknown_plain)}")
        fields, plaintext = dict(block.get("fields", {})), dict(block.get("plaintext", {}))
        if etype == "person":
            fields = _with_all_names(path, i, block, fields, raw)
        elif "all_names" in block:
            raise _fail(path, f"entities[{i}] ({block['role']}): all_names is an option of person blocks only")
        entities.append(EntityBlock(block["role"], etype, fields, plaintext))
    roles = {b.role for b in entities}
    relations = []
    for i, rel in enumerate(raw.get("relations", [])):
        if rel.get("type") not in RELATION_TYPES:
            raise _fail(path, f"relations[{i}].type must be one of {', '.join(RELATION_TYPES)}")
        for end in ("from", "to"):
            if rel.get(end) not in roles:
                raise _fail(path, f"relations[{i}].{end} names role {rel.get(end)!r}, which no entity block has")
        for key in ("valid_from", "valid_to"):
            if rel.get(key) is not None and rel[key] not in columns:
                raise _fail(path, f"relations[{i}].{key} names column {rel[key]!r}, which [columns] lacks")
        relations.append(
            RelationSpec(rel["type"], rel["from"], rel["to"], rel.get("valid_from"), rel.get("valid_to"), dict(rel.get("properties", {})))
        )
    derived = []
    for name, rule in raw.get("derived", {}).items():
        plain = {c for b in entities if b.type == "person" for k, c in b.plaintext.items() if k == "birth_date"}
        if name not in columns or set(rule) - {"age_band_of", "on", "given"} or rule.get("age_band_of") not in plain \
                or rule.get("on") not in columns or columns[rule["on"]].kind != "date":
            raise _fail(path, f"derived.{name} must be a column of [columns] with age_band_of = a plaintext date of "
                              "birth of a person block, on = a date column and optionally given = a plaintext column")
        derived.append(DerivedColumn(name, rule["age_band_of"], rule["on"], rule.get("given")))
    return SourceSpec(
        name=raw["name"],
        title=raw.get("title", raw["name"]),
        partner=raw["partner"],
        purpose=raw["purpose"],
        file=raw["file"],
        record_id=raw["record_id"],
        columns=columns,
        entities=tuple(entities),
        relations=tuple(relations),
        delimiter=read.get("delimiter"),
        encoding=read.get("encoding"),
        date_formats=date_formats,
        path=path,
        derived=tuple(derived),
    )


def load_specs(directory: str | Path = SPEC_DIR) -> list[SourceSpec]:
    """Every ``*.toml`` spec in ``directory``, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SpecError(f"{directory}: the spec folder does not exist")
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise SpecError(f"{directory}: the spec folder holds no *.toml spec files")
    return [load_spec(p) for p in paths]


def find_spec(name_or_path: str | Path, directory: str | Path = SPEC_DIR) -> SourceSpec:
    """A spec by its ``name`` (looked up in ``directory``) or by the path of its TOML file.

    >>> find_spec("ind_referenten").partner
    'ind'
    """
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.is_file():
        if not path.is_file():
            raise SpecError(f"{path}: spec file does not exist")
        return load_spec(path)
    known = load_specs(directory)
    for spec in known:
        if spec.name == str(name_or_path):
            return spec
    raise SpecError(f"no spec named {str(name_or_path)!r} in {directory}; known: {', '.join(s.name for s in known)}; "
                    f"a spec of your own is given by the path of its file (FOLDER/{name_or_path}.toml)")


def specs(directory: str | Path = SPEC_DIR) -> pl.DataFrame:
    """The specs in ``directory`` as a table: name, partner, purpose, file, title.

    >>> [name for name, partner in specs().select("name", "partner").rows() if partner == "kvk"]
    ['kvk_functionarissen', 'kvk_inschrijvingen']
    """
    rows = [{"name": s.name, "partner": s.partner, "purpose": s.purpose, "file": s.file, "title": s.title}
            for s in load_specs(directory)]
    return pl.DataFrame(rows, schema={k: pl.String for k in ("name", "partner", "purpose", "file", "title")})
