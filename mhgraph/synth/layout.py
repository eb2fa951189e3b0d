"""Where each entity block of a spec sits in a synthetic plaintext extract.

The generator, the noise and the noise measurement all need the same answers: which
plaintext column of a block holds the given name, which company attribute a block shows
(the statutory name, or the trade name for KvK's ``handelsnaam``), which extra columns a
partner keeps next to the address (street and town, dropped by ``pseudonymise``), and in
which hidden column the generator keeps the true entity of each block.

>>> from mhgraph.spec import SPEC_DIR, load_spec
>>> spec = load_spec(SPEC_DIR / "belastingdienst_loonaangifte.toml")
>>> address_extras(spec.entity("werknemer_adres"))
('werknemer_adres_straat', 'werknemer_adres_woonplaats')
>>> entity_column("werknemer")
'__entity__werknemer'
"""

from __future__ import annotations

from mhgraph.spec import EntityBlock, SourceSpec

__all__ = [
    "TRADE_NAME_SOURCES",
    "address_extras",
    "company_attribute",
    "entity_column",
    "is_entity_column",
    "primary_format",
]

_ENTITY_PREFIX = "__entity__"

# Registers that often know a company by its trade name rather than its statutory name.
TRADE_NAME_SOURCES = frozenset({
    "belastingdienst_loonaangifte", "ind_referenten", "gemeente_arnhem_vergunningen",
    "gemeente_eindhoven_vergunningen", "gemeente_emmen_vergunningen",
})


def entity_column(role: str) -> str:
    """Hidden column with the index of the true entity behind a block (never delivered)."""
    return f"{_ENTITY_PREFIX}{role}"


def is_entity_column(name: str) -> bool:
    return name.startswith(_ENTITY_PREFIX)


def company_attribute(block: EntityBlock) -> str:
    """The company attribute a block's name column shows when clean: ``name`` or ``trade_name``."""
    return "trade_name" if block.plaintext.get("name") == "handelsnaam" else "name"


def address_extras(block: EntityBlock) -> tuple[str, str]:
    """Street and town columns a partner keeps next to the postcode (dropped on delivery)."""
    postcode = block.plaintext["postcode"]
    stem = postcode[: -len("_postcode")] if postcode.endswith("_postcode") else postcode
    return f"{stem}_straat", f"{stem}_woonplaats"


def primary_format(spec: SourceSpec) -> str:
    """The date format a partner writes by default; the others appear as noise."""
    return spec.date_formats[0]
