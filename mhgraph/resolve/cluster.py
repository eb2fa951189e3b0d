"""Clustering: join scored pairs into entities without chaining.

Links are taken in a fixed order — analyst must-links, then identity keys, then scored pairs
from the highest score down — and each one merges the two groups it connects only when

* the groups hold no two different values of a conflict key (two pseudonymised BSNs,
  V-numbers or KvK numbers are never one entity) and no analyst cannot-link separates them;
* for a scored link: the pairs compared between the two groups score ``min_mean_score`` or
  more on average (pairs that were compared and found different count against the merge),
  and at least ``min_link_fraction`` times the size of the smaller group of them reach the
  threshold. One weak link between two coherent groups therefore does not glue them together,
  unlike connected components.

Group sizes in that test are counted in *identity groups* (mentions linked by identity keys,
:func:`mhgraph.resolve.block.identity_groups`; a mention without any is one on its own), not
in mentions. Blocking pairs one representative per identity group and blocking value, so two
groups have about as many compared pairs between them as they have distinct identity groups;
counting mentions would ask a person seen on twelve payroll rows under one BSN for six strong
pairs that blocking no longer proposes. The test still stops chains:

* without identity keys every mention is its own identity group, so nothing changes;
* the rows of one identity group are one entity for certain (its identity links are merged
  before any scored link), so they were never independent evidence — counted as mentions, a
  row repeated twenty times supplied twenty strong pairs from a single comparison of names;
* every two identity groups whose mentions shared a block are still compared (through their
  representatives), so a pair between the ends of a chain that was compared and found
  different still lowers the mean and is not counted as strong.

Every link's fate is kept (``decision`` and ``reason``), for the ``matches`` table.
Entity ids are the type letter plus a keyed hash (the installation key,
:func:`mhgraph.crypto.installation_key`) of the lowest ``mention_id`` in the entity, so they do
not depend on row order, survive re-runs that resolve the same way, and cannot be traced back
to a record id by hashing guessed ones.

>>> first = entity_id("P", "belastingdienst_loonaangifte/17/werknemer")
>>> first == entity_id("P", "belastingdienst_loonaangifte/17/werknemer"), first[:2], len(first)
(True, 'P-', 14)
"""

from __future__ import annotations

import logging
import math
from typing import NamedTuple

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mhgraph.crypto import installation_key
from mhgraph.resolve.block import identity_groups, key_codes
from mhgraph.resolve.compare import identifier_feature
from mhgraph.resolve.settings import EntitySettings, ResolveSettings

__all__ = ["Clusters", "cluster", "cluster_type", "entity_id", "singletons"]

log = logging.getLogger("mhgraph.resolve.cluster")

RESOLUTION_SCHEMA = {"mention_id": pl.String, "entity_id": pl.String, "entity_type": pl.String}
DECISION_SCHEMA = {"mention_a": pl.String, "mention_b": pl.String, "decision": pl.String, "reason": pl.String}
FALLBACK_LETTER = "X"  # entity types without resolution settings


def entity_id(letter: str, lowest_mention_id: str) -> str:
    """Stable entity id: type letter + 12 hex digits of HMAC-SHA-256 (installation key) of the
    lowest mention id."""
    return f"{letter}-{installation_key().digest('entity_id', lowest_mention_id).hex()[:12]}"


class Clusters(NamedTuple):
    resolution: pl.DataFrame  # mention_id, entity_id, entity_type
    decisions: pl.DataFrame  # mention_a, mention_b, decision, reason (one row per link considered)


class _Groups:
    """Union-find with, per group: members, identity groups, identifier values, cannot-link
    partners and the running totals of compared pairs towards each other group."""

    def __init__(self, n: int, conflict_codes: dict[str, np.ndarray], identity: np.ndarray):
        self.parent = list(range(n))
        self.members: dict[int, list[int]] = {}
        self.identity = identity
        self.identities: dict[int, set[int]] = {}
        self.codes = conflict_codes
        self.values: dict[int, dict[str, int]] = {}
        self.forbid: dict[int, set[int]] = {}
        self.links: dict[int, dict[int, list]] = {}

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def group(self, root: int) -> list[int]:
        return self.members.get(root, [root])

    def identity_count(self, root: int) -> int:
        """How many identity groups (not mentions) the group holds: its size for coherence."""
        return len(self.identities[root]) if root in self.identities else 1

    def value(self, root: int, key: str) -> int:
        return self.values[root][key] if root in self.values else int(self.codes[key][root])

    def conflict(self, ra: int, rb: int) -> str | None:
        for key in self.codes:
            va, vb = self.value(ra, key), self.value(rb, key)
            if va >= 0 and vb >= 0 and va != vb:
                return key
        return None

    def forbidden(self, ra: int, rb: int) -> bool:
        fa, fb = self.forbid.get(ra), self.forbid.get(rb)
        if not fa and not fb:
            return False
        return any(m in (fa or ()) for m in self.group(rb)) or any(m in (fb or ()) for m in self.group(ra))

    def add_link(self, a: int, b: int, score: float, strong: bool) -> None:
        for x, y in ((a, b), (b, a)):
            stats = self.links.setdefault(x, {}).setdefault(y, [0, 0.0, 0])
            stats[0] += 1
            stats[1] += score
            stats[2] += strong

    def merge(self, ra: int, rb: int) -> int:
        if len(self.group(ra)) < len(self.group(rb)):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] = self.group(ra) + self.group(rb)
        self.members.pop(rb, None)
        self.identities[ra] = self.identities.get(ra, {int(self.identity[ra])}) | \
            self.identities.pop(rb, {int(self.identity[rb])})
        self.values[ra] = {k: max(self.value(ra, k), self.value(rb, k)) for k in self.codes}
        self.values.pop(rb, None)
        if rb in self.forbid or ra in self.forbid:
            self.forbid[ra] = self.forbid.get(ra, set()) | self.forbid.pop(rb, set())
        theirs = self.links.pop(rb, {})
        ours = self.links.setdefault(ra, {})
        ours.pop(rb, None)
        for other, stats in theirs.items():
            if other == ra:
                continue
            mine = ours.setdefault(other, [0, 0.0, 0])
            back = self.links[other]
            del back[rb]
            for j in range(3):
                mine[j] += stats[j]
            back[ra] = mine.copy()
        return ra


def _size(groups: _Groups, root: int) -> str:
    """``"3"``, or ``"12 (2 identity groups)"`` when identity keys tie mentions together."""
    mentions, identities = len(groups.group(root)), groups.identity_count(root)
    if mentions == identities:
        return str(mentions)
    return f"{mentions} ({'one identity group' if identities == 1 else f'{identities} identity groups'})"


def singletons(frame: pl.DataFrame, letter: str) -> pl.DataFrame:
    ids = frame["mention_id"]
    return pl.DataFrame({"mention_id": ids, "entity_id": [entity_id(letter, m) for m in ids.to_list()],
                         "entity_type": frame["entity_type"]}, schema=RESOLUTION_SCHEMA)


def _index(frame_ids: pl.Series, column: pl.Series) -> np.ndarray:
    lookup = pl.DataFrame({"mention_id": frame_ids}).with_row_index("i")
    return (pl.DataFrame({"mention_id": column}).join(lookup, on="mention_id", how="left", maintain_order="left")
            ["i"].fill_null(-1).cast(pl.Int64).to_numpy())


def cluster_type(scored: pl.DataFrame, frame: pl.DataFrame, entity: EntitySettings,
                 overrides: pl.DataFrame | None = None) -> Clusters:
    """Cluster one entity type. ``frame``: its mentions sorted by ``mention_id``; ``scored``:
    its compared pairs with ``score`` and ``blocked_by``; ``overrides``: analyst decisions."""
    n = frame.height
    ids = frame["mention_id"]
    threshold = entity.scoring.threshold
    conflict_codes = {k: key_codes(frame, k) for k in entity.conflict_keys}
    groups = _Groups(n, conflict_codes, identity_groups(frame, entity.identity_keys))

    a = _index(ids, scored["mention_a"])
    b = _index(ids, scored["mention_b"])
    score = scored["score"].fill_nan(0.0).fill_null(0.0).to_numpy()
    identity = scored["blocked_by"].is_in(list(entity.identity_keys)).to_numpy()
    effective = np.where(identity, 1.0, score)
    must = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if overrides is not None and overrides.height:
        cannot = overrides.filter(pl.col("decision") == "cannot_link")
        for x, y in zip(_index(ids, cannot["mention_a"]), _index(ids, cannot["mention_b"])):
            groups.forbid.setdefault(int(x), set()).add(int(y))
            groups.forbid.setdefault(int(y), set()).add(int(x))
        linked = overrides.filter(pl.col("decision") == "must_link")
        must = _index(ids, linked["mention_a"]), _index(ids, linked["mention_b"])
        # an analyst's must-link counts as a certain pair in the group totals
        effective[np.isin(a * n + b, must[0] * n + must[1])] = 1.0

    # links in processing order: must-links, identity keys, scored pairs by falling score
    mergeable = identity | (score >= threshold)
    priority = np.concatenate([np.zeros(len(must[0]), dtype=np.int8), np.where(identity[mergeable], 1, 2).astype(np.int8)])
    la = np.concatenate([must[0], a[mergeable]])
    lb = np.concatenate([must[1], b[mergeable]])
    ls = np.concatenate([np.ones(len(must[0])), effective[mergeable]])
    order = np.lexsort((lb, la, -ls, priority))

    # running totals only for pairs that could ever end up in one group
    graph = coo_matrix((np.ones(len(la)), (la, lb)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    same = component[a] == component[b]
    for x, y, s in zip(a[same].tolist(), b[same].tolist(), effective[same].tolist()):
        groups.add_link(x, y, s, s >= threshold)

    cfg = entity.clustering
    events: dict[tuple[int, int], str] = {}
    merges = 0
    for step, k in enumerate(order.tolist()):
        x, y, s, p = int(la[k]), int(lb[k]), float(ls[k]), int(priority[k])
        rx, ry = groups.find(x), groups.find(y)
        if rx == ry:
            continue
        key = groups.conflict(rx, ry)
        if key is not None:
            events[(x, y)] = f"not merged: the two groups hold different {key} values"
            continue
        if groups.forbidden(rx, ry):
            events[(x, y)] = "not merged: an analyst cannot-link separates the two groups"
            continue
        if p == 2:
            count, total, strong = groups.links[rx][ry]
            smaller = min(groups.identity_count(rx), groups.identity_count(ry))
            needed = math.ceil(cfg.min_link_fraction * smaller)
            mean = total / count
            if mean < cfg.min_mean_score or strong < needed:
                events[(x, y)] = (
                    f"not merged: groups of {_size(groups, rx)} and {_size(groups, ry)} mentions are not "
                    f"coherent ({count} compared pairs, mean score {mean:.3f} (needs {cfg.min_mean_score}), "
                    f"{strong} at or above {threshold} (needs {needed}))"
                )
                continue
        groups.merge(rx, ry)
        merges += 1
        if step and step % 200_000 == 0:
            log.info("%s: %d of %d links considered, %d merges", entity.entity_type, step, len(order), merges)
    log.info("%s: %d links considered, %d merges", entity.entity_type, len(order), merges)

    roots = np.array([groups.find(i) for i in range(n)], dtype=np.int64)
    lowest = np.full(n, n, dtype=np.int64)
    np.minimum.at(lowest, roots, np.arange(n))
    lowest_ids = ids.gather(lowest[roots])
    resolution = pl.DataFrame({
        "mention_id": ids,
        "entity_id": [entity_id(entity.letter, m) for m in lowest_ids.to_list()],
        "entity_type": frame["entity_type"],
    }, schema=RESOLUTION_SCHEMA)
    decisions = _decisions(scored, a, b, roots, identity, events, overrides, entity)
    return Clusters(resolution, decisions)


def _decisions(scored: pl.DataFrame, a: np.ndarray, b: np.ndarray, roots: np.ndarray, identity: np.ndarray,
               events: dict, overrides: pl.DataFrame | None, entity: EntitySettings) -> pl.DataFrame:
    """The fate of every scored pair, with a sentence saying why."""
    threshold = entity.scoring.threshold
    conflict_features = [identifier_feature(k) for k in entity.conflict_keys if identifier_feature(k) in scored.columns]
    if events:
        xs, ys = zip(*events)
        event_frame = pl.DataFrame({"i": list(xs), "j": list(ys), "event": list(events.values())},
                                   schema={"i": pl.Int64, "j": pl.Int64, "event": pl.String})
    table = scored.select("mention_a", "mention_b", "blocked_by", pl.col("score").fill_nan(0.0).fill_null(0.0),
                          *[pl.col(f).fill_nan(None) for f in conflict_features]).with_columns(
        pl.Series("i", np.minimum(a, b)), pl.Series("j", np.maximum(a, b)),
        pl.Series("together", roots[a] == roots[b]), pl.Series("identity", identity),
    )
    table = table.join(event_frame, on=["i", "j"], how="left", maintain_order="left") if events else \
        table.with_columns(pl.lit(None, dtype=pl.String).alias("event"))
    override = pl.lit(None, dtype=pl.String).alias("override")
    if overrides is not None and overrides.height:
        table = table.join(overrides.select("mention_a", "mention_b", pl.col("decision").alias("override")),
                           on=["mention_a", "mention_b"], how="left", maintain_order="left")
    else:
        table = table.with_columns(override)
    conflict = pl.concat_str(
        [pl.when(pl.col(f) == 0.0).then(pl.lit(f.removesuffix("_agree"))) for f in conflict_features],
        separator=", ", ignore_nulls=True,
    ) if conflict_features else pl.lit("")
    score_text = pl.col("score").round(3).cast(pl.String)
    return table.select(
        "mention_a", "mention_b",
        pl.when(pl.col("override") == "must_link").then(
            pl.when("together").then(pl.lit("must_link")).otherwise(pl.lit("conflicting_identifier")))
        .when(pl.col("override") == "cannot_link").then(pl.lit("cannot_link"))
        .when(conflict != "").then(pl.lit("conflicting_identifier"))
        .when("together").then(pl.lit("match"))
        .otherwise(pl.lit("non_match")).alias("decision"),
        pl.when(pl.col("override") == "must_link").then(
            pl.when("together").then(pl.lit("analyst must-link"))
            .otherwise(pl.concat_str(pl.lit("analyst must-link refused: "), pl.col("event"))))
        .when(pl.col("override") == "cannot_link").then(pl.lit("analyst cannot-link"))
        .when(conflict != "").then(pl.concat_str(pl.lit("different "), conflict))
        .when(pl.col("together") & pl.col("identity")).then(pl.concat_str(pl.lit("same "), pl.col("blocked_by")))
        .when(pl.col("together") & (pl.col("score") >= threshold)).then(
            pl.concat_str(pl.lit("score "), score_text, pl.lit(f" at or above {threshold}")))
        .when("together").then(
            pl.concat_str(pl.lit("same entity through other links (own score "), score_text, pl.lit(")")))
        .when(pl.col("event").is_not_null()).then(pl.col("event"))
        .otherwise(pl.concat_str(pl.lit("score "), score_text, pl.lit(f" below {threshold}"))).alias("reason"),
    )


def cluster(scored: pl.DataFrame, settings: ResolveSettings, mentions: pl.DataFrame,
            overrides: pl.DataFrame | None = None) -> Clusters:
    """Entities for every mention (each appears exactly once in ``resolution``) and the fate
    of every scored pair (``decisions``). Mentions of types without settings stay alone."""
    resolutions, decisions = [], []
    for entity_type in mentions["entity_type"].unique().sort().to_list():
        frame = mentions.filter(pl.col("entity_type") == entity_type).select("mention_id", "entity_type").sort("mention_id")
        entity = settings.types.get(entity_type)
        if entity is None:
            resolutions.append(singletons(frame, FALLBACK_LETTER))
            continue
        typed = scored.filter(pl.col("entity_type") == entity_type)
        typed_overrides = None
        if overrides is not None:
            typed_overrides = overrides.filter(pl.col("mention_a").is_in(frame["mention_id"].implode()))
        full = mentions.filter(pl.col("entity_type") == entity_type).sort("mention_id")
        result = cluster_type(typed, full, entity, typed_overrides)
        resolutions.append(result.resolution)
        decisions.append(result.decisions)
    resolution = pl.concat(resolutions).sort("mention_id") if resolutions else pl.DataFrame(schema=RESOLUTION_SCHEMA)
    return Clusters(resolution, pl.concat(decisions) if decisions else pl.DataFrame(schema=DECISION_SCHEMA))
