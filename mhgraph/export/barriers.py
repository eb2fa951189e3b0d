"""Who could act on a cluster, and how: the barrier model as a declarative table.

The integral approach raises barriers in a fixed order: administrative (municipal permits,
Bibob, IND sponsor recognition, the trade register), fiscal, labour inspection, and criminal
law last. A partner acts on its own records, under the purpose it collected them for
(art. 3:3 Awb), so the possible interventions follow from the purposes of the records each
partner contributed to the cluster. The list is a prompt for the case meeting, never a
decision.

>>> [a.kind for a in interventions({"gemeente_arnhem": ["bibob"]}, employment=False)]
['administrative', 'criminal']
>>> interventions({"belastingdienst": ["fiscal_supervision"]}, employment=True)[1].actor
'Nederlandse Arbeidsinspectie (via the RIEC)'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["BARRIERS", "REGISTER_BARRIERS", "Intervention", "interventions", "register_kinds"]


@dataclass(frozen=True)
class Intervention:
    kind: str  # administrative, fiscal, labour inspection, criminal
    actor: str
    how: str
    basis: str  # the legal ground that permits it
    purpose: str | None = None  # the purpose of the partner's own records it acts on


# Source purpose -> (barrier kind, what the partner holding such records could do, legal basis).
BARRIERS: dict[str, tuple[str, str, str]] = {
    "administrative_supervision": (
        "administrative",
        "review the permits in this cluster: inspection, stricter conditions, suspension or "
        "withdrawal; closure of premises",
        "APV and Wet regulering sekswerk, permit supervision",
    ),
    "bibob": (
        "administrative",
        "Bibob screening of the permit holder or applicant before granting or renewing a permit",
        "Wet Bibob",
    ),
    "immigration_supervision": (
        "administrative",
        "review the sponsor recognition (suspension or revocation) and the residence permits "
        "that depend on it",
        "Vreemdelingenwet 2000, sponsor recognition",
    ),
    "company_register": (
        "administrative",
        "check the registrations and officers in the trade register; supply register facts for "
        "a Bibob screening",
        "Handelsregisterwet 2007",
    ),
    "fiscal_supervision": (
        "fiscal",
        "payroll audit (boekenonderzoek) of the employers in this cluster: wages, hours, "
        "employees declared",
        "AWR and Wet op de loonbelasting 1964",
    ),
}

# What a partner could do under one purpose also depends on what its records in the cluster are:
# a municipality supervises with a permit register and with a register of who lives where (a
# housing register); there is no permit to review in the latter. (purpose, register kind) ->
# as in BARRIERS; a register kind without an entry here takes its purpose's wording.
REGISTER_BARRIERS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("administrative_supervision", "addresses"): (
        "administrative",
        "investigate the registrations at the addresses in this cluster (Landelijke Aanpak "
        "Adreskwaliteit); enforce the housing, occupancy and fire-safety rules and the landlord's duties",
        "Huisvestingswet 2014, Wet goed verhuurderschap, Wet basisregistratie personen",
    ),
}

_ORDER = ("administrative", "fiscal", "labour inspection", "criminal")


def register_kinds(entity_types: Iterable[str], relation_types: Iterable[str]) -> tuple[str, ...]:
    """What a partner's records in a cluster are: ``permits`` when they name a permit (its
    holder or manager), ``addresses`` when they register persons or companies at addresses.

    >>> register_kinds(["person", "address"], ["REGISTERED_AT"])
    ('addresses',)
    >>> register_kinds(["permit", "company", "address"], ["HOLDS_PERMIT", "LOCATED_AT"])
    ('permits',)
    """
    entity_types, relation_types = set(entity_types), set(relation_types)
    kinds = []
    if "permit" in entity_types or relation_types & {"HOLDS_PERMIT", "MANAGES"}:
        kinds.append("permits")
    if "REGISTERED_AT" in relation_types:
        kinds.append("addresses")
    return tuple(kinds)

LABOUR_INSPECTION = Intervention(
    kind="labour inspection",
    actor="Nederlandse Arbeidsinspectie (via the RIEC)",
    how="inspect working and housing conditions and minimum-wage compliance at the employers "
    "in this cluster",
    basis="Wet minimumloon en minimumvakantiebijslag, Wet arbeid vreemdelingen; referral "
    "under the RIEC covenant",
)

CRIMINAL = Intervention(
    kind="criminal",
    actor="police and Public Prosecution Service (OM)",
    how="only if the case meeting decides so, as the last barrier; the records here were "
    "collected for supervision and do not become criminal evidence by being shown here",
    basis="RIEC covenant; art. 3:3 Awb: no supervision powers for criminal investigation",
)


def interventions(purposes_by_partner: dict[str, list[str]], employment: bool,
                  registers: dict[tuple[str, str], tuple[str, ...]] | None = None) -> list[Intervention]:
    """Possible interventions in barrier-model order.

    ``purposes_by_partner`` maps each partner with records in the cluster to the purposes of
    those records; ``employment`` says whether the cluster holds employment relations (which
    brings in the labour inspection); ``registers``: per partner and purpose, what its records
    under that purpose are (:func:`register_kinds`), which words what it could do under it
    (:data:`REGISTER_BARRIERS`).
    Purposes without a known barrier are listed too, so that nothing is left out unseen.

    >>> [a.how[:40] for a in interventions({"gemeente_a": ["administrative_supervision"]}, False,
    ...                                     {("gemeente_a", "administrative_supervision"): ("addresses",)})][:1]
    ['investigate the registrations at the add']
    """
    found: list[Intervention] = []
    for partner in sorted(purposes_by_partner):
        for purpose in sorted(set(purposes_by_partner[partner])):
            held = (registers or {}).get((partner, purpose)) or ("",)
            wordings = dict.fromkeys(REGISTER_BARRIERS.get((purpose, register), BARRIERS.get(purpose))
                                     for register in held)
            if None not in wordings:
                found += [Intervention(kind, partner, how, basis, purpose) for kind, how, basis in wordings]
            else:
                found.append(Intervention(
                    "administrative", partner,
                    "no intervention is known for this purpose; to be discussed in the case meeting",
                    "", purpose,
                ))
    if employment:
        found.append(LABOUR_INSPECTION)
    found.append(CRIMINAL)
    return sorted(found, key=lambda item: _ORDER.index(item.kind))
