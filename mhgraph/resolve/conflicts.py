"""Identity conflicts: several people behind one identity key.

Mentions that share a pseudonymised BSN are one person — unless their names and dates of birth
disagree. Then the BSN is shared, borrowed or stolen (identity fraud, itself a signal in labour
exploitation), and merging them would hide exactly that. The settings name, per entity type,
the comparisons that must *all* disagree for a conflict (``identity_conflict``: comparison
-> the value it must stay below; persons: given name and date of birth). A given name that is
only initials, or one missing field, is no disagreement.

Within each group of mentions sharing one identity key value, every two distinct profiles
(the values of the compared fields) are compared. Where any two disagree, the group is cut
into *parts*: profiles joined where every field was compared and none disagrees. A profile
that lacks a field (no date of birth) is a part of its own whose identity link is not taken
on trust; the model decides whether it joins a part. Then:

* :func:`find_identity_conflicts` returns the parts (clustering keeps them apart, also
  through third mentions) and one row per two parts for the ``identity_conflicts`` table —
  the key, a mention of each part and the evidence — which the indicator
  ``identity_conflict`` turns into hits.

>>> import polars as pl
>>> from mhgraph.resolve.settings import default_settings
>>> from mhgraph.crypto import Key, bloom_encode
>>> key = Key(b"example key of at least sixteen bytes")
>>> person = lambda m, g, d: {"mention_id": m, "entity_type": "person", "bsn": "b" * 32,
...     "given_name_bf": bloom_encode(key, "given_name", g), "birth_date_bf": bloom_encode(key, "birth_date", d)}
>>> frame = pl.DataFrame([person("a/1/p", "jan", "19800101"), person("b/1/p", "jan", "19800101"),
...                       person("c/1/p", "piotr", "19951224")])
>>> found = find_identity_conflicts(frame, default_settings().types["person"])
>>> found.table.select("key", "mention_a", "mention_b").row(0)
('bsn', 'a/1/p', 'c/1/p')
>>> found.parts.sort("mention_id")["part"].to_list()
[0, 0, 1]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mhgraph.resolve.block import key_codes
from mhgraph.resolve.compare import compare_type
from mhgraph.resolve.settings import EntitySettings

__all__ = ["CONFLICT_SCHEMA", "IdentityConflicts", "find_identity_conflicts"]

log = logging.getLogger("mhgraph.resolve.conflicts")

CONFLICT_SCHEMA = {"entity_type": pl.String, "key": pl.String, "key_value": pl.String, "mention_a": pl.String,
                   "mention_b": pl.String, "mentions_a": pl.Int64, "mentions_b": pl.Int64, "evidence": pl.String,
                   "reason": pl.String}
PART_SCHEMA = {"mention_id": pl.String, "part": pl.Int64}
# Every profile of a key group is compared with this many others before it (all of them in
# the usual group of a handful of profiles).
_PROFILE_WINDOW = 30


@dataclass
class IdentityConflicts:
    """``table``: one row per two parts of one identity key (``CONFLICT_SCHEMA``); ``parts``:
    every mention of a key group with more than one part, and its part."""

    table: pl.DataFrame
    parts: pl.DataFrame

    @classmethod
    def none(cls) -> IdentityConflicts:
        return cls(pl.DataFrame(schema=CONFLICT_SCHEMA), pl.DataFrame(schema=PART_SCHEMA))


def _profile_pairs(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of distinct profiles within each group (indices into the representatives,
    which are sorted by group)."""
    lefts, rights = [], []
    for distance in range(1, _PROFILE_WINDOW + 1):
        same = group[:-distance] == group[distance:]
        if not same.any():
            break
        i = np.flatnonzero(same)
        lefts.append(i)
        rights.append(i + distance)
    if not lefts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(lefts), np.concatenate(rights)


def _judge(features: pl.DataFrame, entity: EntitySettings, rules: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: whether all ``rules`` comparisons disagree, and whether all were observed. A
    given name that is initials counts through the initials comparison of its column: the
    right initial as agreement, another initial as disagreement."""
    disagree = np.ones(features.height, dtype=bool)
    observed = np.ones(features.height, dtype=bool)
    for name, below in rules.items():
        values = features[name].to_numpy().copy() if name in features.columns else np.full(features.height, np.nan)
        column = entity.comparison(name).columns[0]
        for other in entity.comparisons:
            if other.kind == "initials" and other.columns[0] == column and other.name in features.columns:
                initials = features[other.name].to_numpy()
                values = np.where(np.isnan(values) & (initials == 1.0), below, values)
                values = np.where(np.isnan(values) & (initials == 0.0), 0.0, values)
        disagree &= values < below  # a missing value (NaN) is never a disagreement
        observed &= ~np.isnan(values)
    return disagree, observed


def find_identity_conflicts(frame: pl.DataFrame, entity: EntitySettings, relations: pl.DataFrame | None = None,
                            entities: pl.DataFrame | None = None, cache: dict | None = None) -> IdentityConflicts:
    """The identity conflicts among the mentions of one entity type (``frame``, sorted by
    ``mention_id``) under its ``identity_conflict`` settings."""
    rules = dict(entity.identity_conflict)
    if not rules or frame.height < 2:
        return IdentityConflicts.none()
    columns = sorted({entity.comparison(name).columns[0] for name in rules} & set(frame.columns))
    if not columns:
        return IdentityConflicts.none()
    profile = frame.select(pl.concat_str([pl.col(c).fill_null("") for c in columns], separator="|").hash(seed=1)) \
        .to_series().to_numpy().astype(np.int64)
    # the judgement reads only the rules' comparisons (and the initials of their columns): a
    # payroll repeats each employee ten times, and hardened filters make every row a profile
    judged = set(rules) | {c.name for c in entity.comparisons if c.kind == "initials" and c.columns[0] in columns}
    # (their term frequencies and commonness are never read: not counted)
    narrow = replace(entity, comparisons=tuple(replace(c, term_frequency=False, common_values_over=(),
                                                       common_values_alike={})
                                               for c in entity.comparisons if c.name in judged))
    tables, parts = [], []
    next_part = 0
    for key in entity.identity_keys:
        codes = key_codes(frame, key)
        held = np.flatnonzero(codes >= 0)
        if len(held) < 2:
            continue
        # one representative (lowest mention) per key value and profile
        reps = (pl.DataFrame({"i": held, "code": codes[held], "profile": profile[held]})
                .group_by("code", "profile").agg(pl.col("i").min(), pl.len().alias("n"))
                .filter(pl.col("code").is_duplicated()).sort("code", "i"))
        if reps.height < 2:
            continue
        left, right = _profile_pairs(reps["code"].to_numpy())
        rep = reps["i"].to_numpy()
        ids = frame["mention_id"]
        # judged by the rows of their mentions: the ids of the few pairs in conflict are spelt out below
        judged_pairs = pl.DataFrame({"blocked_by": pl.repeat(key, len(left), dtype=pl.String, eager=True)})
        disagree, observed = _judge(compare_type(judged_pairs, frame, narrow, relations, entities, cache,
                                                 rows=(rep[left], rep[right])), entity, rules)
        del judged_pairs
        # parts: profiles joined where every field was compared and none disagrees; a profile
        # lacking a field is left to the model (its identity link is not taken on trust)
        confident = observed & ~disagree
        n_reps = reps.height
        _, part = connected_components(coo_matrix((np.ones(int(confident.sum())), (left[confident], right[confident])),
                                                  shape=(n_reps, n_reps)), directed=False)
        code = reps["code"].to_numpy()
        split_codes = np.unique(code[left[disagree]])
        if len(split_codes) == 0:
            continue
        in_split = np.isin(code, split_codes)
        part = part + next_part
        next_part = int(part.max()) + 1
        # every mention of a split key value gets the part of its profile's representative
        of_profile = pl.DataFrame({"code": code[in_split], "profile": reps["profile"].to_numpy()[in_split],
                                   "part": part[in_split]})
        members = pl.DataFrame({"i": held, "code": codes[held], "profile": profile[held]}).join(
            of_profile, on=["code", "profile"])
        parts.append(pl.DataFrame({"mention_id": ids.gather(members["i"].to_numpy()),
                                   "part": members["part"].to_numpy()}, schema=PART_SCHEMA))
        mentions_per_part = members.group_by("part").len()
        size = dict(zip(mentions_per_part["part"].to_list(), mentions_per_part["len"].to_list()))
        between = np.flatnonzero(disagree & in_split[left] & (part[left] != part[right]))
        a, b = rep[left][between], rep[right][between]
        pairs = pl.DataFrame({"mention_a": ids.gather(a), "mention_b": ids.gather(b),
                              "entity_type": pl.Series([entity.entity_type] * len(a), dtype=pl.String),
                              "blocked_by": pl.Series([key] * len(a), dtype=pl.String)})
        features = compare_type(pairs, frame, entity, relations, entities, cache, rows=(a, b))
        evidence_columns = [c.name for c in entity.comparisons if c.kind != "relation" and c.name in features.columns]
        found = (features
                 .with_columns(pl.Series("part_a", part[left][between]), pl.Series("part_b", part[right][between]),
                               pl.Series("key_value", frame[key].gather(rep[left][between])))
                 .unique(["part_a", "part_b"], keep="first", maintain_order=True))
        evidence = pl.concat_str([pl.when(pl.col(c).is_not_nan()).then(pl.format(f"{c} {{}}", pl.col(c).round(2)))
                                  for c in evidence_columns], separator=", ", ignore_nulls=True)
        tables.append(found.select(
            pl.lit(entity.entity_type).alias("entity_type"), pl.lit(key).alias("key"), "key_value",
            "mention_a", "mention_b",
            pl.col("part_a").replace_strict(size, return_dtype=pl.Int64).alias("mentions_a"),
            pl.col("part_b").replace_strict(size, return_dtype=pl.Int64).alias("mentions_b"),
            evidence.alias("evidence"),
            pl.lit(f"same {key}, but " + " and ".join(
                f"{name.removesuffix('_dice').replace('_', ' ')} differ" for name in rules)
                   + ": more than one person uses this identifier").alias("reason"),
        ).cast(CONFLICT_SCHEMA))
    if not tables:
        return IdentityConflicts.none()
    table = pl.concat(tables).sort("key", "mention_a", "mention_b")
    if table.height:  # a split whose parts are joined again elsewhere leaves nothing to report
        log.warning("%s: %d identity conflict(s): mentions sharing an identity key whose %s disagree are kept apart",
                    entity.entity_type, table.height, " and ".join(rules))
    return IdentityConflicts(table, pl.concat(parts).unique("mention_id", keep="last").sort("mention_id"))
