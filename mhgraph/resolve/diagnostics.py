"""Resolution diagnostics: does a run look like it collapsed?

A resolver whose model went wrong does not fail: it merges. Common names become entities of
a hundred mentions, a placeholder identifier glues strangers together, and every later stage
builds on it. :func:`resolution_diagnostics` measures, per entity type, what a collapse
changes, so that the run says so itself:

* ``merged_pairs``: pairs of identity groups (units) that ended up in one entity, against
  ``expected_pairs``, the number the model itself expects — the sum of the match
  probabilities of the compared pairs, or for Fellegi-Sunter the estimated prior times the
  pairs in the population (``match_rate`` against ``prior``). ``merge_ratio`` is the larger
  of the two ratios: near 1 when clustering followed the model, far above when transitive
  merges swept in pairs the model never believed in;
* ``largest_entity`` (mentions) and ``largest_entity_groups`` (identity groups), and how many
  entities span more than ``large_entity`` identity groups;
* ``top_identifier`` and ``top_identifier_share``: the identity key value behind the largest
  share of the merges made by identity keys (one placeholder BSN on thousands of rows shows
  here), with its ``top_identifier_mentions``;
* ``identity_conflicts``: identity key values shared by different persons.

A type ``collapsed`` when its merges exceed :data:`MAX_MERGE_RATIO` times what its model
expects (and there are at least :data:`MIN_MERGED_PAIRS`), or when one entity spans more than
:data:`MAX_ENTITY_SHARE` of its identity groups and more than ``large_entity`` of them;
``too_many_merges`` and ``entity_too_large`` say which, ``reasons`` in words (for the log). The
case-meeting documents show the table in their own language
(:func:`mhgraph.export.content.resolution_blocks`).

>>> import polars as pl
>>> from mhgraph.resolve import resolve
>>> mentions = pl.DataFrame({"mention_id": ["a/1/adres", "b/1/adres", "b/2/adres"],
...     "entity_type": ["address"] * 3, "address_key": ["k1", "k1", "k2"]})
>>> table = resolution_diagnostics(resolve(mentions, None), mentions)
>>> table.select("entity_type", "mentions", "entities", "collapsed").row(0)
('address', 3, 2, False)
"""

from __future__ import annotations

import numpy as np
import polars as pl

from mhgraph.resolve.block import identity_groups, key_codes, population_pairs, type_mentions
from mhgraph.resolve.cluster import COMPLETED

__all__ = ["DIAGNOSTIC_SCHEMA", "MAX_ENTITY_SHARE", "MAX_MERGE_RATIO", "MIN_MERGED_PAIRS", "expected_pairs",
           "resolution_diagnostics"]

MAX_MERGE_RATIO = 3.0
MIN_MERGED_PAIRS = 100
MAX_ENTITY_SHARE = 0.01

DIAGNOSTIC_SCHEMA = {
    "entity_type": pl.String, "mentions": pl.Int64, "entities": pl.Int64, "identity_groups": pl.Int64,
    "largest_entity": pl.Int64, "largest_entity_groups": pl.Int64, "large_entities": pl.Int64,
    "merged_pairs": pl.Int64, "expected_pairs": pl.Float64, "match_rate": pl.Float64, "prior": pl.Float64,
    "merge_ratio": pl.Float64, "top_identifier": pl.String, "top_identifier_share": pl.Float64,
    "top_identifier_mentions": pl.Int64, "identity_conflicts": pl.Int64, "too_many_merges": pl.Boolean,
    "entity_too_large": pl.Boolean, "collapsed": pl.Boolean, "reasons": pl.String,
}


def _pairs(sizes: pl.Expr) -> pl.Expr:
    return (sizes * (sizes - 1) // 2).sum()


def _top_identifier(frame: pl.DataFrame, keys) -> tuple[str | None, float | None, int | None]:
    """The identity key value with the most mentions and its share of the merges that identity
    keys made (a group of k mentions makes k - 1)."""
    best = (None, None, None)
    for key in keys:
        codes = key_codes(frame, key)
        held = codes[codes >= 0]
        if len(held) < 2:
            continue
        counts = pl.Series(held).value_counts(sort=True)["count"]
        merges = int((counts - 1).sum())
        if merges and (best[2] is None or counts[0] > best[2]):
            best = (key, (int(counts[0]) - 1) / merges, int(counts[0]))
    return best


def expected_pairs(unit_a: np.ndarray, unit_b: np.ndarray, score: np.ndarray) -> float | None:
    """The merges a model expects: over every two identity groups compared (``unit_a``,
    ``unit_b``: the groups of each pair's two mentions), the best ``score`` of their pairs,
    summed in the order of the two groups' labels, so that the sum's last bits do not follow the
    order of the pairs. ``None`` without pairs; a NaN score counts only where the two groups have
    no other.

    >>> expected_pairs(np.array([0, 1, 2]), np.array([1, 0, 0]), np.array([0.5, 0.9, 0.25]))
    1.15
    """
    if len(score) == 0:
        return None
    # at a million persons some 24 million pairs: each array of them is 100-200 MB, so the codes
    # are made in one array (int32 groups, as the resolver hands them, take half the room)
    low, high = np.minimum(unit_a, unit_b), np.maximum(unit_a, unit_b)
    code = low.astype(np.int64)
    del low
    code *= np.int64(high.max()) + 1
    code += high
    del high
    order = np.argsort(code, kind="stable")
    code = code[order]
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    del code
    return float(np.fmax.reduceat(score[order], starts).sum())


def _expected_from_matches(resolved, entity_type: str, keys, unit_of: pl.DataFrame) -> float | None:
    """:func:`expected_pairs` of one type read from the matches (a file's a batch of rows at a
    time): for a result that does not carry them, as one read back from a run folder."""
    unit_of = unit_of.lazy()
    compared = (resolved.scan_matches()
                .filter((pl.col("entity_type") == entity_type) & ~pl.col("blocked_by").is_in([*keys, COMPLETED, "override"]))
                .select("mention_a", "mention_b", "score")
                # each mention id goes as soon as its unit is known, not carried through the joins
                .join(unit_of.rename({"mention_id": "mention_a", "unit": "a"}), on="mention_a")
                .join(unit_of.rename({"mention_id": "mention_b", "unit": "b"}), on="mention_b")
                .select("a", "b", "score").collect(engine="streaming"))
    return expected_pairs(compared["a"].to_numpy(), compared["b"].to_numpy(), compared["score"].to_numpy())


def resolution_diagnostics(resolved, mentions: pl.DataFrame | pl.LazyFrame, large_entity: int = 50) -> pl.DataFrame:
    """One row per resolved entity type (``DIAGNOSTIC_SCHEMA``): the measures above and whether
    the type looks ``collapsed``. ``resolved``: the :class:`~mhgraph.resolve.Resolved` run;
    ``mentions``: the table it resolved, or a ``pl.scan_parquet`` of it (one type's identity keys are read at a time)."""
    rows = []
    resolution = resolved.resolution
    for entity_type in resolution["entity_type"].unique().sort().to_list():
        entity = resolved.settings.types.get(entity_type)
        keys = entity.identity_keys if entity else ()
        # only the columns read here: filtering every column of a large mentions table copies it all
        frame = type_mentions(mentions, entity_type, [c for k in keys for c in k.split("+")])
        units = identity_groups(frame, keys)
        placed = (frame.select("mention_id").with_columns(pl.Series("unit", units))
                  .join(resolution.select("mention_id", "entity_id"), on="mention_id"))
        per_entity = placed.group_by("entity_id").agg(pl.len().alias("mentions"), pl.col("unit").n_unique().alias("units"))
        merged = int(per_entity.select(_pairs(pl.col("units").cast(pl.Int64))).item() or 0)
        n_units = int(units.max()) + 1 if len(units) else 0
        population = population_pairs(units)
        scorer = resolved.scorers.get(entity_type)
        prior = getattr(scorer, "prior_", None) if scorer is not None and hasattr(scorer, "population_") else None
        expected = resolved.expected_pairs.get(entity_type) if resolved.expected_pairs is not None else None
        if scorer is not None and resolved.expected_pairs is None:
            expected = _expected_from_matches(resolved, entity_type, keys, placed.select("mention_id", "unit"))
        ratios = [merged / e for e in (expected, prior * population if prior else None) if e]
        ratio = max(ratios) if ratios else None
        largest = per_entity.sort("units", "mentions", descending=True).row(0, named=True) if per_entity.height else None
        key, share, key_mentions = _top_identifier(frame, keys)
        too_many_merges = ratio is not None and ratio > MAX_MERGE_RATIO and merged >= MIN_MERGED_PAIRS
        too_large = bool(largest) and largest["units"] > large_entity and largest["units"] > MAX_ENTITY_SHARE * n_units
        reasons = []
        if too_many_merges:
            reasons.append(f"{merged} merged pairs of identity groups, {ratio:.1f} times what the model expects")
        if too_large:
            reasons.append(f"one entity spans {largest['units']} identity groups ({largest['mentions']} mentions)")
        conflicts = resolved.identity_conflicts
        rows.append({
            "entity_type": entity_type, "mentions": frame.height, "entities": per_entity.height,
            "identity_groups": n_units, "largest_entity": largest["mentions"] if largest else 0,
            "largest_entity_groups": largest["units"] if largest else 0,
            "large_entities": per_entity.filter(pl.col("units") > large_entity).height,
            "merged_pairs": merged, "expected_pairs": expected,
            "match_rate": merged / population if population else None, "prior": prior, "merge_ratio": ratio,
            "top_identifier": key, "top_identifier_share": share, "top_identifier_mentions": key_mentions,
            "identity_conflicts": conflicts.filter(pl.col("entity_type") == entity_type).height,
            "too_many_merges": too_many_merges, "entity_too_large": too_large,
            "collapsed": bool(reasons), "reasons": "; ".join(reasons),
        })
    return pl.DataFrame(rows, schema=DIAGNOSTIC_SCHEMA)

