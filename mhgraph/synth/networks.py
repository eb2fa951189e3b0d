"""Planted exploitation networks and their lawful look-alikes, and which variant each one is.

:func:`plant_networks` builds every planted typology of :mod:`~mhgraph.synth.typologies` and
every look-alike of :mod:`~mhgraph.synth.lookalikes` into the world, in rounds. Each planted
network gets a signal strength (:data:`~mhgraph.synth.variants.STRENGTHS`) and an origin of
its exploited workers (``eu`` or ``non_eu``) from a rotation over the seed: eight consecutive
seeds give every typology every strength with both origins exactly once, so that a set of
seeds covers the typology × strength table evenly and equally exploited EU and non-EU
networks can be compared. The draws behind each network are kept in ``parameters``.

>>> from mhgraph.synth.population import build_population
>>> rng = np.random.default_rng(5)
>>> world = build_population(rng, 3000)
>>> nets = plant_networks(rng, world, Activity(), rounds=1, lookalike_rounds=1, rotation=0)
>>> [(n.typology, n.strength, n.origin) for n in nets][:3]
[('agency_phoenix', 'strong', 'eu'), ('au_pair', 'medium', 'non_eu'), ('beauty_salon', 'weak', 'eu')]
>>> sum(n.kind == "decoy" for n in nets) == len(LOOKALIKES)
True
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import numpy as np

from mhgraph.synth.activity import Activity
from mhgraph.synth.lookalikes import LOOKALIKE_OF, LOOKALIKES
from mhgraph.synth.population import World
from mhgraph.synth.typologies import BOTH_ORIGINS, TYPOLOGIES
from mhgraph.synth.variants import STRENGTHS, Variant, parameter_ranges

__all__ = ["DECOY", "PLANTED", "Network", "default_rounds", "plant_networks", "variant_of"]

log = logging.getLogger("mhgraph.synth")

PLANTED = tuple(TYPOLOGIES)
DECOY = tuple(LOOKALIKES)
ORIGINS = ("eu", "non_eu")


@dataclass
class Network:
    """One planted network or lawful look-alike (``kind`` ``planted`` or ``decoy``): its
    typology, strength (planted), origin (planted: of the exploited workers; look-alike: of
    all its persons, ``eu``, ``non_eu`` or ``mixed``), the typology a look-alike imitates, the
    drawn parameters, and its member entities as ``(entity_type, index)`` pairs (indexes into
    the world's books or the permits)."""

    network_id: str
    kind: str
    typology: str
    strength: str | None = None
    origin: str | None = None
    lookalike_of: str | None = None
    parameters: dict = field(default_factory=dict)
    members: list[tuple[str, int]] = field(default_factory=list)

    def add(self, entity_type: str, index) -> None:
        for i in np.atleast_1d(np.asarray(index, dtype=np.int64)).tolist():
            if (entity_type, int(i)) not in self.members:
                self.members.append((entity_type, int(i)))

    def parameters_json(self) -> str:
        return json.dumps(self.parameters, sort_keys=True)


def default_rounds(persons: int) -> tuple[int, int]:
    """Rounds of planted typologies and of look-alikes: one planted network of each typology
    per 20,000 persons and one look-alike of each kind per 10,000 persons, at least one of each."""
    return max(1, round(persons / 20_000)), max(1, round(persons / 10_000))


def variant_of(typology: str, round_: int, rotation: int) -> tuple[str, str]:
    """Strength and origin of a planted network: a rotation over ``rotation + round_`` (mod 8)
    and the typology's place, so that eight consecutive values give each typology every
    strength with each origin once (typologies with non-EU workers only keep ``non_eu``)."""
    step = (rotation + round_) % 8 + PLANTED.index(typology)
    origin = ORIGINS[(step // 4) % 2] if typology in BOTH_ORIGINS else "non_eu"
    return STRENGTHS[step % 4], origin


def _members_origin(world: World, net: Network) -> str:
    """``eu``, ``non_eu`` or ``mixed``: the nationalities of a look-alike's persons."""
    persons = [index for entity_type, index in net.members if entity_type == "person"]
    eu = world.is_eu(persons)
    return "eu" if eu.all() else "non_eu" if not eu.any() else "mixed"


def plant_networks(rng: np.random.Generator, world: World, activity: Activity, rounds: int, lookalike_rounds: int,
                   rotation: int = 0) -> list[Network]:
    """Plant ``rounds`` networks of every typology and ``lookalike_rounds`` look-alikes of every kind."""
    ranges = parameter_ranges()
    total = rounds * len(PLANTED) + lookalike_rounds * len(DECOY)
    width = max(2, len(str(total)))
    networks: list[Network] = []
    for round_ in range(max(rounds, lookalike_rounds)):
        batch = []
        if round_ < rounds:
            for typology in PLANTED:
                strength, origin = variant_of(typology, round_, rotation)
                batch.append((Network("", "planted", typology, strength=strength, origin=origin),
                              TYPOLOGIES[typology], ranges["planted"][typology]))
        if round_ < lookalike_rounds:
            for kind in DECOY:
                batch.append((Network("", "decoy", kind, lookalike_of=LOOKALIKE_OF[kind]), LOOKALIKES[kind],
                              ranges["lookalike"][kind]))
        for net, build, parameter_range in batch:
            net.network_id = f"N{len(networks) + 1:0{width}d}"
            variant = Variant(rng, parameter_range, net.strength)
            build(rng, world, activity, net, variant)
            net.parameters = variant.drawn
            if net.kind == "decoy":
                net.origin = _members_origin(world, net)
            networks.append(net)
        if (round_ + 1) % 20 == 0:
            log.info("networks: %d of %d planted", len(networks), total)
    log.info("networks: %d planted, %d look-alikes", rounds * len(PLANTED), lookalike_rounds * len(DECOY))
    return networks
