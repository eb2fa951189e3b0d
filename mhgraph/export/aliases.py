"""Case aliases: readable, stable names for the entities of one cluster.

In a case meeting nobody can talk about ``P-51e7a147d18d``. Each entity gets a role from the
relations it has in the picture (who employs, who directs, who manages a permit, where people
live) and a number or letter within that role: ``Werkgever A``, ``Bestuurder 1``,
``Werknemer 7``, ``Pand 2``. Within a role entities are numbered in the order of their entity
id, which is stable across runs over the same records, so the same entity keeps its alias. The
picture, the summary and the partner lists use the same alias; the pseudonym appears only in
the detail.

>>> import polars as pl
>>> members = pl.DataFrame({"entity_id": ["C-2", "C-1", "P-9", "P-3", "A-1"],
...                         "entity_type": ["company", "company", "person", "person", "address"]})
>>> edges = pl.DataFrame({"type": ["EMPLOYED_BY", "OFFICER_OF", "EMPLOYED_BY", "LOCATED_AT"],
...                       "from_entity": ["P-3", "P-9", "P-9", "C-1"], "to_entity": ["C-1", "C-2", "C-2", "A-1"]})
>>> {k: v.label for k, v in case_aliases(members, edges, "nl").items()}
{'A-1': 'Pand 1', 'C-1': 'Werkgever A', 'C-2': 'Werkgever B', 'P-3': 'Werknemer 1', 'P-9': 'Bestuurder 1'}
>>> case_aliases(members, edges, "en")["P-9"].label
'Director 1'
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from mhgraph.export.i18n import words

__all__ = ["Alias", "case_aliases", "letters"]

# (entity type, relation type, side the entity is on) -> role; the first role that applies wins,
# in this order, so a director who is also on the payroll is named as director.
ROLE_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("person", "OFFICER_OF", "from", "director"),
    ("person", "MANAGES", "from", "manager"),
    ("person", "EMPLOYED_BY", "from", "worker"),
    ("person", "SPONSORED_BY", "from", "migrant"),
    ("person", "REGISTERED_AT", "from", "resident"),
    ("company", "EMPLOYED_BY", "to", "employer"),
    ("company", "SPONSORED_BY", "to", "sponsor"),
    ("company", "HOLDS_PERMIT", "from", "holder"),
    ("address", "LOCATED_AT", "to", "premises"),
    ("address", "REGISTERED_AT", "to", "home"),
)
FALLBACK_ROLE = {"person": "person", "company": "company", "address": "address", "permit": "permit"}
# Companies are lettered (Werkgever A), everything else numbered (Werknemer 7).
LETTERED = {"company"}


@dataclass(frozen=True)
class Alias:
    label: str  # "Werkgever A"
    role: str  # role key, e.g. "employer" (see ROLE_RULES)


def letters(number: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA: spreadsheet-style column letters.

    >>> [letters(n) for n in (1, 26, 27, 52, 703)]
    ['A', 'Z', 'AA', 'AZ', 'AAA']
    """
    out = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def case_aliases(entities: pl.DataFrame, edges: pl.DataFrame, lang: str, outside: set[str] = frozenset()) -> dict[str, Alias]:
    """entity id -> :class:`Alias` for every row of ``entities`` (``entity_id``, ``entity_type``).

    ``edges`` are the relations the picture holds (``type``, ``from_entity``, ``to_entity``);
    relations to entities outside ``entities`` count too (a worker employed outside the cluster
    is still a worker). Entities in ``outside`` (beyond the cluster) are numbered after the
    cluster's own, so that the cluster reads "Werkgever A, B" whatever lies around it.
    """
    names = words(lang)["roles"]
    sides = set()
    for relation, from_entity, to_entity in edges.select("type", "from_entity", "to_entity").iter_rows():
        sides.add((from_entity, relation, "from"))
        sides.add((to_entity, relation, "to"))
    roles: dict[str, tuple[str, str]] = {}
    ordered = sorted(entities.select("entity_id", "entity_type").unique().iter_rows(),
                     key=lambda row: (row[0] in outside, row[0]))
    for entity_id, entity_type in ordered:
        role = next((role for kind, relation, side, role in ROLE_RULES
                     if kind == entity_type and (entity_id, relation, side) in sides),
                    FALLBACK_ROLE.get(entity_type, "entity"))
        roles[entity_id] = (role, entity_type)
    numbered: dict[str, int] = {}
    aliases = {}
    for entity_id, (role, entity_type) in roles.items():
        numbered[role] = numbered.get(role, 0) + 1
        mark = letters(numbered[role]) if entity_type in LETTERED else str(numbered[role])
        aliases[entity_id] = Alias(f"{names[role]} {mark}", role)
    return aliases
