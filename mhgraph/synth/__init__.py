"""Synthetic partner data with planted exploitation networks and their ground truth.

:func:`synthesize` makes a population (:mod:`~mhgraph.synth.population`), lets it work, run
companies, hold residence and municipal permits (:mod:`~mhgraph.synth.activity`), plants
exploitation networks and benign look-alikes (:mod:`~mhgraph.synth.networks`), writes every
shipped extract as its partner would hold it, adds noise (:mod:`~mhgraph.synth.noise`) and
delivers it pseudonymised with a key derived from the seed
(:func:`~mhgraph.synth.extracts.synthetic_key`, for synthetic data only). The ground truth
goes to ``out_dir/truth/`` (see ``docs/tables.md``). Same seed, same bytes.

>>> import tempfile
>>> summary = synthesize(tempfile.mkdtemp(), persons=1500, seed=1)
>>> summary["rows"]["kvk_inschrijvingen.csv"] > 0, summary["networks"]["planted"]
(True, 9)
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import polars as pl

from mhgraph.errors import InputError
from mhgraph.purpose import DEFAULT_RUN_PURPOSE
from mhgraph.pseudonymise import pseudonymise_frame, write_extract
from mhgraph.spec import SPEC_DIR, load_spec
from mhgraph.synth.activity import Activity, ordinary_activity
from mhgraph.synth.extracts import (
    CHUNK_ROWS,
    CREATED,
    SOURCES,
    clean_extract,
    permit_numbers,
    plaintext_only,
    synthetic_key,
    truth_mentions,
)
from mhgraph.synth.networks import DECOY, PLANTED, default_rounds, plant_networks
from mhgraph.synth.noise import NoiseConfig, apply_noise
from mhgraph.synth.population import build_population

__all__ = ["NETWORK_COLUMNS", "NoiseConfig", "synthesize", "synthetic_key"]

log = logging.getLogger("mhgraph.synth")

# Columns of truth/networks.parquet (docs/tables.md).
NETWORK_COLUMNS = ("network_id", "kind", "typology", "strength", "origin", "lookalike_of", "parameters",
                   "entity_type", "entity_id")


def synthesize(out_dir: str | Path, persons: int = 5000, seed: int = 0, noise: str | float | NoiseConfig = "medium",
               networks: int | None = None, lookalikes: int | None = None, key_seed: int | None = None) -> dict:
    """Write a synthetic set of the eight shipped partner extracts and its ground truth.

    ``noise``: ``low``, ``medium``, ``high``, a number that scales the medium rates, or a
    :class:`NoiseConfig`. ``networks``: planted networks of each typology, by default one per
    20,000 persons; ``lookalikes``: lawful look-alikes of each kind, by default one per 10,000
    persons (at least one of each). The strength and origin of each planted network rotate
    with the seed (:func:`~mhgraph.synth.networks.variant_of`). ``key_seed`` (default: ``seed``)
    derives the pseudonymisation key, so that sets of several seeds can share one key and be
    taken in together (``benchmarks/bench_scale.py`` builds a large population that way).

    Returns a summary: rows per delivered file, networks and look-alikes planted, entities,
    and the configured noise rates and the rates measured on the cells that could get each kind.
    """
    if persons < 1:
        raise InputError(f"persons must be at least 1, got {persons}")
    config = noise if isinstance(noise, NoiseConfig) else NoiseConfig.from_level(noise)
    default_planted, default_lookalikes = default_rounds(persons)
    per_typology = default_planted if networks is None else int(networks)
    per_kind = default_lookalikes if lookalikes is None else int(lookalikes)
    if per_typology < 0 or per_kind < 0:
        raise InputError(f"networks and lookalikes must not be negative, got {networks} and {lookalikes}")
    out = Path(out_dir)
    truth = out / "truth"
    (truth / "plaintext").mkdir(parents=True, exist_ok=True)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4 + 2 * len(SOURCES))]
    world = build_population(streams[0], persons)
    activity = Activity()
    planted = plant_networks(streams[1], world, activity, per_typology, per_kind, rotation=seed % 8)
    ordinary_activity(streams[2], world, activity)
    numbers = permit_numbers(streams[3], activity)
    key = synthetic_key(seed if key_seed is None else key_seed)
    counts: dict[str, list[int]] = {}
    rows: dict[str, int] = {}
    mentions, noise_log = [], []
    for i, name in enumerate(SOURCES):
        spec = load_spec(SPEC_DIR / f"{name}.toml")
        clean = clean_extract(streams[4 + 2 * i], spec, world, activity, numbers)
        plain_parts, delivered_parts = [], []
        for start in range(0, max(clean.height, 1), CHUNK_ROWS):
            noisy, logged = apply_noise(streams[5 + 2 * i], spec, clean.slice(start, CHUNK_ROWS), world, config,
                                        counts)
            plain = plaintext_only(noisy)
            delivered = pseudonymise_frame(plain, spec, key)
            mentions.append(truth_mentions(spec, noisy, delivered, numbers))
            noise_log.append(logged)
            plain_parts.append(plain)
            delivered_parts.append(delivered)
        del clean, noisy, plain
        pl.concat(plain_parts, rechunk=False).write_parquet(truth / "plaintext" / f"{name}.parquet")
        delivered = pl.concat(delivered_parts, rechunk=False)
        del plain_parts, delivered_parts
        write_extract(delivered, spec, out, key.fingerprint, CREATED, run_purpose=DEFAULT_RUN_PURPOSE)
        rows[spec.file] = delivered.height
        log.info("%s: %d rows delivered", spec.file, delivered.height)
    pl.concat(mentions).write_parquet(truth / "mentions.parquet")
    pl.concat(noise_log).write_parquet(truth / "noise.parquet")
    world.persons_frame().write_parquet(truth / "persons.parquet")
    world.companies_frame().write_parquet(truth / "companies.parquet")
    world.addresses_frame().write_parquet(truth / "addresses.parquet")
    _networks_frame(planted, world, activity, numbers).write_parquet(truth / "networks.parquet")
    log.info("truth written to %s", truth)
    return {
        "out_dir": str(out),
        "persons": persons,
        "seed": seed,
        "rows": rows,
        "entities": {"persons": world.persons.size, "companies": world.companies.size,
                     "addresses": world.addresses.size, "permits": activity.permits.size},
        "networks": {"planted": per_typology * len(PLANTED), "decoys": per_kind * len(DECOY),
                     "per_typology": per_typology, "per_lookalike_kind": per_kind},
        "key_fingerprint": key.fingerprint,
        "noise": {
            "configured": {kind: getattr(config, kind) for kind in sorted(counts)},
            "measured": {kind: (applied / eligible if eligible else 0.0) for kind, (eligible, applied) in sorted(counts.items())},
            "eligible": {kind: eligible for kind, (eligible, _) in sorted(counts.items())},
        },
    }


def _networks_frame(planted, world, activity, numbers) -> pl.DataFrame:
    partner = activity.permits["partner"]
    records = []
    for net in planted:
        described = (net.network_id, net.kind, net.typology, net.strength, net.origin, net.lookalike_of,
                     net.parameters_json())
        for entity_type, index in net.members:
            if entity_type == "permit":
                entity_id = f"permit:{partner[index]}:{numbers[index]}"
            else:
                entity_id = f"{entity_type}:{index:06d}"
            records.append((*described, entity_type, entity_id))
    return pl.DataFrame(records, schema={name: pl.String for name in NETWORK_COLUMNS}, orient="row")
