"""The exact-key baseline: mentions that share any of a few keys are one entity.

This is deterministic linkage as statistics offices run it (connected components over equal
keyed identifiers and match keys), kept to show what fuzzy matching and careful clustering
add. :func:`identity_resolution` uses the identity keys alone; the pipeline uses it for
relational evidence about entity types that are not resolved yet.

>>> import polars as pl
>>> from mhgraph.resolve.settings import default_settings
>>> mentions = pl.DataFrame({"mention_id": ["a/1/p", "b/1/p", "c/1/p"], "entity_type": ["person"] * 3,
...     "bsn": ["h1", None, None], "match_key_1": ["k", "k", None]})
>>> resolve_baseline(mentions, default_settings())["entity_id"].n_unique()
2
"""

from __future__ import annotations

import numpy as np
import polars as pl

from mhgraph.resolve.block import identity_groups, type_mentions
from mhgraph.resolve.cluster import FALLBACK_LETTER, RESOLUTION_SCHEMA, entity_ids
from mhgraph.resolve.settings import ResolveSettings, default_settings

__all__ = ["identity_resolution", "resolve_baseline"]


def _components(mentions: pl.DataFrame | pl.LazyFrame, settings: ResolveSettings, keys_of,
                hashed_ids: bool = True, types=None) -> pl.DataFrame:
    # one type's key columns at a time: from a scan, nothing else of the mentions table is read
    mentions = mentions.lazy()
    if types is None:
        types = mentions.select(pl.col("entity_type").unique()).collect()["entity_type"].to_list()
    out = []
    for entity_type in sorted(types):
        entity = settings.types.get(entity_type)
        frame = type_mentions(mentions, entity_type, [c for key in (keys_of(entity) if entity else ()) for c in key.split("+")])
        n = frame.height
        label = identity_groups(frame, keys_of(entity) if entity else ())
        lowest = np.full(label.max() + 1 if n else 0, n, dtype=np.int64)
        np.minimum.at(lowest, label, np.arange(n))
        letter = entity.letter if entity else FALLBACK_LETTER
        ids = frame["mention_id"]
        heads = ids.gather(lowest)
        named = entity_ids(letter, heads.to_list()) if hashed_ids else heads  # one hash per entity
        out.append(pl.DataFrame({
            "mention_id": ids,
            "entity_id": pl.Series(named, dtype=pl.String).gather(label),
            "entity_type": frame["entity_type"],
        }, schema=RESOLUTION_SCHEMA))
    return pl.concat(out).sort("mention_id") if out else pl.DataFrame(schema=RESOLUTION_SCHEMA)


def identity_resolution(mentions: pl.DataFrame | pl.LazyFrame, settings: ResolveSettings, hashed_ids: bool = True,
                        types=None) -> pl.DataFrame:
    """A ``resolution`` table from identity keys alone (same BSN, KvK number, address key).

    ``hashed_ids=False`` names each entity by its lowest ``mention_id`` instead of the keyed
    hash of it: a label that only tells entities apart, for use inside one run (a million
    keyed hashes cost seconds), never for output. ``mentions`` may be a ``pl.scan_parquet``:
    only the identity key columns of one entity type at a time are read from it (another lazy
    query is run again for every type). ``types``: the entity types present, when the caller
    knows them already (else they are read from ``mentions``).
    """
    return _components(mentions, settings, lambda entity: entity.identity_keys, hashed_ids, types)


def resolve_baseline(mentions: pl.DataFrame | pl.LazyFrame, settings: ResolveSettings | None = None) -> pl.DataFrame:
    """A ``resolution`` table from the exact ``baseline_keys`` of each type (identity keys
    when a type names none): connected components, no scoring, no guard against chaining."""
    settings = settings or default_settings()
    return _components(mentions, settings, lambda entity: entity.baseline_keys or entity.identity_keys)
