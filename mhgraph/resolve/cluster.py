"""Clustering: join scored pairs into entities by average linkage, so that chains cannot form.

The units of clustering are *identity groups*: mentions linked by a shared identity key
(pseudonymised BSN, KvK number, ...; :func:`mhgraph.resolve.block.identity_groups`), or a
mention without one on its own. Links are then taken in a fixed order — analyst must-links,
identity links, then scored pairs from the highest score down (ties by mention id) — and a link
merges the two groups it connects only when

* the groups hold no two different values of a conflict key (two pseudonymised BSNs,
  V-numbers or KvK numbers are never one entity) and no analyst cannot-link (or identity
  conflict, :mod:`mhgraph.resolve.conflicts`) separates them;
* for a scored link, the **average score over every pair of units between the two groups**
  reaches ``min_mean_score`` — where a pair of units was compared several times its best score
  counts, and **a pair that was never compared counts as 0**.

That last rule is the guarantee against chaining. A group grows only by groups that are, on
average over all their pairs, a match: a mention linked to one member of a group of ``k`` by a
pair scoring ``s`` and compared with no other member joins only if ``s / k`` reaches
``min_mean_score`` — with the persons' 0.4 at most one other member (``k = 2`` needs
``s >= 0.8``). So a chain
of strong links between neighbours, whose other pairs score low or were never compared, stops
after two or three mentions instead of becoming one entity; connected components would join
it whole. Pairs inside a candidate entity that blocking never proposed are compared and scored
before clustering (:func:`pairs_to_complete`), so that "never compared" is not held against
real matches in entities of up to ``complete_up_to`` units.

Merging is union-find by size: each merge moves the smaller group's bookkeeping into the
larger one, so one employer with a million payroll rows costs a million cheap steps, and
identity groups without any conflict are formed in one vectorised step.

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
from typing import NamedTuple

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mhgraph.crypto import installation_key
from mhgraph.resolve.block import PAIR_SCHEMA, identity_groups, key_codes, row_numbers
from mhgraph.resolve.compare import identifier_feature
from mhgraph.resolve.settings import EntitySettings, ResolveSettings

__all__ = ["SPELT_OUT", "Clusters", "cluster", "cluster_type", "clustered", "entity_id", "entity_ids", "in_slices",
           "never_merged", "pairs_to_complete", "singletons"]

log = logging.getLogger("mhgraph.resolve.cluster")

RESOLUTION_SCHEMA = {"mention_id": pl.String, "entity_id": pl.String, "entity_type": pl.String}
DECISION_SCHEMA = {"mention_a": pl.String, "mention_b": pl.String, "decision": pl.String, "reason": pl.String}
FALLBACK_LETTER = "X"  # entity types without resolution settings
COMPLETED = "same_candidate_entity"  # blocked_by of the pairs compared by pairs_to_complete
_MAX_PASSES = 5
DECISION_SLICE = 250_000  # pairs whose decisions and reasons are written at once
# the columns of a pair that a table of scored pairs may leave out, holding the rows of its two
# mentions instead (as the resolver does): they are spelt out as the decisions are
SPELT_OUT = ("mention_a", "mention_b", "entity_type")


def entity_id(letter: str, lowest_mention_id: str) -> str:
    """Stable entity id: type letter + 12 hex digits of HMAC-SHA-256 (installation key) of the
    lowest mention id."""
    return entity_ids(letter, [lowest_mention_id])[0]


def entity_ids(letter: str, lowest_mention_ids) -> list[str]:
    """:func:`entity_id` of many mentions, the installation key looked up once.

    >>> entity_ids("P", ["a/1/p", "b/1/p"]) == [entity_id("P", "a/1/p"), entity_id("P", "b/1/p")]
    True
    """
    prefix = f"{letter}-"
    # 12 hex digits are the first 6 bytes: only those are spelt out
    return [prefix + digest[:6].hex() for digest in installation_key().digests("entity_id", lowest_mention_ids)]


class Clusters(NamedTuple):
    resolution: pl.DataFrame  # mention_id, entity_id, entity_type
    decisions: pl.DataFrame  # mention_a, mention_b, decision, reason: one row per scored pair, in its order


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    _, label = connected_components(coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n)), directed=False)
    return label.astype(np.int64)


def pairs_to_complete(scored: pl.DataFrame, frame: pl.DataFrame, entity: EntitySettings,
                      cache: dict | None = None, rows: tuple[np.ndarray, np.ndarray] | None = None) -> pl.DataFrame:
    """The pairs inside candidate entities that were never compared: for every connected
    component of the links at or above the threshold that spans at most
    ``clustering.complete_up_to`` identity groups, one pair (their lowest mentions) per two of
    its identity groups not compared yet. Comparing and scoring them lets the average linkage
    of :func:`cluster_type` judge a candidate entity on all its pairs. ``cache``: as for
    :func:`~mhgraph.resolve.block.key_codes`; ``rows``: the rows of the pairs' two mentions in
    ``frame``, when the caller knows them (else they are looked up).
    """
    n, cap = frame.height, entity.clustering.complete_up_to
    empty = pl.DataFrame(schema=PAIR_SCHEMA)
    if n < 3 or cap < 3 or scored.height == 0:
        return empty
    ids = frame["mention_id"]
    units = identity_groups(frame, entity.identity_keys, cache)
    rows = rows or (row_numbers(ids, scored["mention_a"]), row_numbers(ids, scored["mention_b"]))
    a, b = units[rows[0]], units[rows[1]]
    strong = (scored["score"].fill_nan(0.0).fill_null(0.0).to_numpy() >= entity.scoring.threshold) & (a != b)
    n_units = int(units.max()) + 1
    component = _components(n_units, a[strong], b[strong])
    sizes = np.bincount(component)
    members = np.flatnonzero((sizes[component] > 2) & (sizes[component] <= cap))
    if len(members) == 0:
        return empty
    too_large = int((sizes > cap).sum())
    if too_large:
        log.info("%s: %d candidate entities span more than %d identity groups; their uncompared pairs count as 0",
                 entity.entity_type, too_large, cap)
    lowest = np.full(n_units, n, dtype=np.int64)
    np.minimum.at(lowest, units, np.arange(n))
    table = pl.DataFrame({"unit": members, "component": component[members], "mention": lowest[members]})
    pairs = (table.join(table, on="component", suffix="_b").filter(pl.col("unit") < pl.col("unit_b"))
             .select(pl.min_horizontal("mention", "mention_b").alias("i"), pl.max_horizontal("mention", "mention_b").alias("j"),
                     pl.col("unit").alias("u"), pl.col("unit_b").alias("v")))
    # only the compared pairs that could be among them: both ends members of one component
    member = np.zeros(n_units, dtype=bool)
    member[members] = True
    among = member[a] & member[b] & (component[a] == component[b])
    known = pl.DataFrame({"u": np.minimum(a, b)[among], "v": np.maximum(a, b)[among]}).unique()
    pairs = pairs.join(known, on=["u", "v"], how="anti").sort("i", "j")
    return pl.DataFrame({
        "mention_a": ids.gather(pairs["i"].to_numpy()), "mention_b": ids.gather(pairs["j"].to_numpy()),
        "entity_type": pl.Series([entity.entity_type] * pairs.height, dtype=pl.String),
        "blocked_by": pl.Series([COMPLETED] * pairs.height, dtype=pl.String),
    }, schema=PAIR_SCHEMA)


def never_merged(scored: pl.DataFrame, frame: pl.DataFrame, entity: EntitySettings,
                 rows: tuple[np.ndarray, np.ndarray] | None = None, overrides: pl.DataFrame | None = None,
                 cache: dict | None = None) -> np.ndarray:
    """Per pair of ``scored`` (which needs its ``blocked_by`` only, and its mention ids when
    ``rows`` is not given): whether its two mentions hold different values of a conflict key
    (two pseudonymised BSNs), and it is neither an identity link nor one of the analyst's
    ``overrides``. :func:`clustered` never merges such a pair's two mentions, nor any groups
    holding them, so its score never enters an average; leaving it out changes no entity.
    Read from the mentions' keys, so that it is known before a pair is compared. ``rows``: as
    for :func:`clustered`; ``cache``: as for :func:`~mhgraph.resolve.block.key_codes`.

    >>> from mhgraph.resolve.settings import default_settings
    >>> frame = pl.DataFrame({"mention_id": ["a", "b", "c"], "entity_type": ["person"] * 3, "bsn": ["x", "y", None]})
    >>> pairs = pl.DataFrame({"blocked_by": ["name_lsh", "name_lsh"]})
    >>> never_merged(pairs, frame, default_settings().types["person"], (np.array([0, 0]), np.array([1, 2]))).tolist()
    [True, False]
    """
    ids = frame["mention_id"]
    a, b = rows or (row_numbers(ids, scored["mention_a"]), row_numbers(ids, scored["mention_b"]))
    apart = np.zeros(scored.height, dtype=bool)
    for key in entity.conflict_keys:
        codes = key_codes(frame, key, cache)
        left, right = codes[a], codes[b]
        apart |= (left >= 0) & (right >= 0) & (left != right)
    apart &= ~scored["blocked_by"].cast(pl.String).is_in([*entity.identity_keys, "override"]).to_numpy()
    if overrides is not None and overrides.height and apart.any():
        n = np.int64(max(frame.height, 1))
        x, y = row_numbers(ids, overrides["mention_a"]), row_numbers(ids, overrides["mention_b"])
        apart &= ~np.isin(np.minimum(a, b) * n + np.maximum(a, b), np.minimum(x, y) * n + np.maximum(x, y))
    return apart


class _Groups:
    """Union-find over units, by size, with per group: its units, its identifier values, the
    mentions cannot-linked with any of its members, and the total best score towards every
    other group it was compared with."""

    def __init__(self, unit: np.ndarray, parent: np.ndarray, values: dict[str, np.ndarray]):
        self.parent = parent.tolist()
        self.unit = unit
        self.unit_sets: dict[int, set[int]] = {}
        # per conflict key, by root: the group's value (-1 for none; groups never hold two)
        self.values: dict[str, list[int]] = {k: codes.tolist() for k, codes in values.items()}
        self.forbid: dict[int, set[int]] = {}
        self.links: dict[int, dict[int, float]] = {}

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def conflict(self, ra: int, rb: int) -> str | None:
        for key, values in self.values.items():
            va, vb = values[ra], values[rb]
            if va >= 0 and vb >= 0 and va != vb:
                return key
        return None

    def forbidden(self, ra: int, rb: int) -> bool:
        return any(self.find(m) == rb for m in self.forbid.get(ra, ())) or \
            any(self.find(m) == ra for m in self.forbid.get(rb, ()))

    def units(self, root: int) -> int:
        """How many identity groups the group holds."""
        return len(self.unit_sets[root]) if root in self.unit_sets else 1

    def mean(self, ra: int, rb: int) -> tuple[float, int]:
        """Average best score over all unit pairs between two groups (uncompared = 0)."""
        pairs = self.units(ra) * self.units(rb)
        return self.links.get(ra, {}).get(rb, 0.0) / pairs, pairs

    def merge(self, ra: int, rb: int) -> int:
        if self.units(ra) < self.units(rb):
            ra, rb = rb, ra
        self.parent[rb] = ra
        ours = self.unit_sets.setdefault(ra, {int(self.unit[ra])})
        ours.update(self.unit_sets.pop(rb, {int(self.unit[rb])}))
        for values in self.values.values():
            values[ra] = max(values[ra], values[rb])
        if rb in self.forbid:
            self.forbid.setdefault(ra, set()).update(self.forbid.pop(rb))
        theirs = self.links.pop(rb, {})
        totals = self.links.setdefault(ra, {})
        totals.pop(rb, None)
        for other, total in theirs.items():
            if other == ra:
                continue
            back = self.links[other]
            del back[rb]
            totals[other] = back[ra] = totals.get(other, 0.0) + total
        return ra


def _unit_links(groups: _Groups, ra: np.ndarray, rb: np.ndarray, score: np.ndarray) -> None:
    """The best score per pair of groups (given by their roots), as the starting totals."""
    apart = ra != rb
    best = (pl.DataFrame({"x": np.minimum(ra, rb)[apart], "y": np.maximum(ra, rb)[apart], "s": score[apart]})
            .group_by("x", "y").agg(pl.col("s").max()))
    for x, y, s in best.iter_rows():
        groups.links.setdefault(x, {})[y] = s
        groups.links.setdefault(y, {})[x] = s


def singletons(frame: pl.DataFrame, letter: str) -> pl.DataFrame:
    ids = frame["mention_id"]
    return pl.DataFrame({"mention_id": ids, "entity_id": entity_ids(letter, ids.to_list()),
                         "entity_type": frame["entity_type"]}, schema=RESOLUTION_SCHEMA)


def _units(n: int, a: np.ndarray, b: np.ndarray, identity: np.ndarray, parts: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Identity groups as units: components of the identity links, except links between two
    parts of an identity conflict (``parts``: a code per mention, -1 outside any conflict);
    the mentions of one part are one unit. Returns the unit of every mention, which identity
    links were refused, and the links that tie each part together (a star per part)."""
    refused = identity & (parts[np.maximum(a, 0)] != parts[np.maximum(b, 0)])
    kept = identity & ~refused
    inside = np.flatnonzero(parts >= 0)
    order = inside[np.lexsort((inside, parts[inside]))]
    first = np.r_[True, parts[order][1:] != parts[order][:-1]] if len(order) else np.zeros(0, dtype=bool)
    head = order[np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))] if len(order) else order
    unit = _components(n, np.concatenate([a[kept], head]), np.concatenate([b[kept], order]))
    star = head != order
    return unit, refused, (head[star], order[star])


def cluster_type(scored: pl.DataFrame, frame: pl.DataFrame, entity: EntitySettings,
                 overrides: pl.DataFrame | None = None, conflicts=None,
                 rows: tuple[np.ndarray, np.ndarray] | None = None) -> Clusters:
    """Cluster one entity type. ``frame``: its mentions sorted by ``mention_id``; ``scored``:
    its compared pairs with ``score`` and ``blocked_by``; ``overrides``: analyst decisions;
    ``conflicts``: the :class:`~mhgraph.resolve.conflicts.IdentityConflicts` of this type (the
    parts of one identity key that are different persons stay apart); ``rows``: the rows of the
    pairs' two mentions in ``frame``, when the caller knows them (else they are looked up)."""
    resolution, matches = clustered(scored, frame, entity, overrides, conflicts, rows)
    return Clusters(resolution, in_slices(matches.select("mention_a", "mention_b", "decision", "reason")))


def in_slices(decided: pl.LazyFrame) -> pl.DataFrame:
    """The pairs of ``decided`` (a query of :func:`clustered`) with their fates, spelt out a
    slice of pairs at a time: every sentence of a reason is spelt out for every row it is asked
    about before the first that applies is kept, several strings per pair at once."""
    height = decided.select(pl.len()).collect().item()
    return pl.concat([decided.slice(start, DECISION_SLICE).collect() for start in range(0, max(height, 1), DECISION_SLICE)])


def clustered(scored: pl.DataFrame, frame: pl.DataFrame, entity: EntitySettings,
              overrides: pl.DataFrame | None = None, conflicts=None,
              rows: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """:func:`cluster_type`, the fate of every pair as a query: ``scored`` with each pair's
    ``decision`` and ``reason``, spelt out only when it is run (:func:`in_slices`, or
    ``sink_parquet``, which writes them as it goes), so that the sentences of millions of pairs
    are never held at once. ``scored`` may lack the columns :data:`SPELT_OUT` when ``rows``
    are given: the query spells them out too."""
    n = frame.height
    ids = frame["mention_id"]
    threshold = entity.scoring.threshold
    conflict_codes = {k: key_codes(frame, k) for k in entity.conflict_keys}

    a, b = rows or (row_numbers(ids, scored["mention_a"]), row_numbers(ids, scored["mention_b"]))
    score = scored["score"].fill_nan(0.0).fill_null(0.0).to_numpy()
    identity = scored["blocked_by"].is_in(list(entity.identity_keys)).to_numpy()
    must = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    apart: list[tuple[int, int]] = []
    if overrides is not None and overrides.height:
        refused = overrides.filter(pl.col("decision") == "cannot_link")
        apart += list(zip(row_numbers(ids, refused["mention_a"]).tolist(), row_numbers(ids, refused["mention_b"]).tolist()))
        linked = overrides.filter(pl.col("decision") == "must_link")
        must = row_numbers(ids, linked["mention_a"]), row_numbers(ids, linked["mention_b"])
    parts = np.full(n, -1, dtype=np.int64)
    if conflicts is not None and conflicts.parts.height:
        parts[row_numbers(ids, conflicts.parts["mention_id"])] = conflicts.parts["part"].to_numpy()
        apart += list(zip(row_numbers(ids, conflicts.table["mention_a"]).tolist(),
                          row_numbers(ids, conflicts.table["mention_b"]).tolist()))

    # Units in one step where they hold one value per conflict key and no cannot-link; the
    # identity links of the others are taken one by one below, so that a conflict refuses them.
    unit, refused_identity, part_links = _units(n, a, b, identity, parts)
    n_units = int(unit.max()) + 1 if n else 0
    clean = np.ones(n_units, dtype=bool)
    most = {}
    for key, codes in conflict_codes.items():
        present = codes >= 0
        distinct = pl.DataFrame({"u": unit[present], "c": codes[present]}).group_by("u").agg(pl.col("c").n_unique())
        clean[distinct.filter(pl.col("c") > 1)["u"].to_numpy()] = False
        most[key] = np.full(n_units, -1, dtype=np.int64)
        np.maximum.at(most[key], unit, codes)
    if apart:
        clean[unit[np.array(apart).ravel()]] = False
    head = np.full(n_units, n, dtype=np.int64)
    np.minimum.at(head, unit, np.arange(n))
    root = np.where(clean[unit], head[unit], np.arange(n))
    sizes = np.bincount(unit, minlength=n_units)
    premerged_units = np.flatnonzero(clean & (sizes > 1))
    values = {key: codes.copy() for key, codes in conflict_codes.items()}
    for key, held in values.items():
        held[head[premerged_units]] = most[key][premerged_units]
    groups = _Groups(unit, root, values)
    for x, y in apart:
        groups.forbid.setdefault(x, set()).add(y)
        groups.forbid.setdefault(y, set()).add(x)
    premerged = int((root != np.arange(n)).sum())

    # links still to decide: must-links, identity links of groups with a conflict, scored pairs by falling score
    events: dict[tuple[int, int], str] = {}
    sequential = identity & ~refused_identity & ~clean[unit[np.maximum(a, 0)]]
    mergeable = sequential | (~identity & (score >= threshold))
    within = ~clean[unit[part_links[0]]]  # the mentions of one part of a conflict belong together
    # Groups can only grow inside a connected component of the links to decide, so the scores
    # between two components never enter an average: only the others are kept.
    reach = _components(n, np.concatenate([np.arange(n), must[0], part_links[0], a[mergeable]]),
                        np.concatenate([root, must[1], part_links[1], b[mergeable]]))
    scored_link = ~identity & (reach[a] == reach[b])
    _unit_links(groups, root[a[scored_link]], root[b[scored_link]], score[scored_link])
    priority = np.concatenate([np.zeros(len(must[0]), dtype=np.int8), np.ones(int(within.sum()), dtype=np.int8),
                               np.where(identity[mergeable], 1, 2).astype(np.int8)])
    la = np.concatenate([must[0], part_links[0][within], a[mergeable]])
    lb = np.concatenate([must[1], part_links[1][within], b[mergeable]])
    ls = np.concatenate([np.ones(len(must[0]) + int(within.sum())), np.where(identity, 1.0, score)[mergeable]])
    order = np.lexsort((lb, la, -ls, priority)).tolist()
    cfg = entity.clustering
    merges = premerged
    for _ in range(_MAX_PASSES):
        waiting, merged_now = [], 0
        for k in order:
            x, y, p = int(la[k]), int(lb[k]), int(priority[k])
            rx, ry = groups.find(x), groups.find(y)
            if rx == ry:
                continue
            key = groups.conflict(rx, ry)
            if key is not None:
                events[(x, y)] = f"not merged: the two groups hold different {key} values"
                continue
            if groups.forbidden(rx, ry):
                events[(x, y)] = "not merged: a cannot-link (an analyst's, or an identity conflict) separates the groups"
                continue
            if p == 2:
                mean, pairs = groups.mean(rx, ry)
                if mean < cfg.min_mean_score:
                    events[(x, y)] = (
                        f"not merged: groups of {groups.units(rx)} and {groups.units(ry)} identity groups average "
                        f"{mean:.3f} over their {pairs} pairs (never compared counts 0; needs {cfg.min_mean_score})")
                    waiting.append(k)
                    continue
            groups.merge(rx, ry)
            events.pop((x, y), None)
            merged_now += 1
        merges += merged_now
        if not merged_now or not waiting:
            break
        order = waiting  # the groups have grown: a link refused before may pass now
    log.info("%s: %d identity groups, %d links considered, %d merges", entity.entity_type, n_units, len(la), merges)

    roots = np.array(groups.parent, dtype=np.int64)
    while (roots[roots] != roots).any():
        roots = roots[roots]
    lowest = np.full(n, n, dtype=np.int64)
    np.minimum.at(lowest, roots, np.arange(n))
    heads, entity_of = np.unique(lowest[roots], return_inverse=True)  # one hash per entity, not per mention
    resolution = pl.DataFrame({
        "mention_id": ids,
        "entity_id": pl.Series(entity_ids(entity.letter, ids.gather(heads).to_list()), dtype=pl.String).gather(entity_of),
        "entity_type": frame["entity_type"],
    }, schema=RESOLUTION_SCHEMA)
    return resolution, _decisions(scored, ids, a, b, roots, identity & ~refused_identity, events, overrides, entity,
                                  refused_identity)


def _spelt(ids: pl.Series, rows: str) -> pl.Expr:
    """The mention ids of the rows in column ``rows``, a batch of rows at a time as they are written."""
    return pl.col(rows).map_batches(ids.gather, return_dtype=pl.String, is_elementwise=True)


def _decisions(scored: pl.DataFrame, ids: pl.Series, a: np.ndarray, b: np.ndarray, roots: np.ndarray,
               identity: np.ndarray, events: dict, overrides: pl.DataFrame | None, entity: EntitySettings,
               refused_identity: np.ndarray) -> pl.LazyFrame:
    """The fate of every scored pair, with a sentence saying why: ``scored`` with ``decision``
    and ``reason`` (and the columns :data:`SPELT_OUT` it lacks, from ``ids``), as a query."""
    threshold = entity.scoring.threshold
    conflict_features = [identifier_feature(k) for k in entity.conflict_keys if identifier_feature(k) in scored.columns]
    # columns of nulls are constants of the query, not millions of empty strings
    event, override = pl.lit(None, dtype=pl.String).alias("event"), pl.lit(None, dtype=pl.String).alias("override")
    if events:  # looked up by number: a join would lay out every pair's two numbers and event at once
        n = np.int64(len(roots))
        xs, ys = (np.array(side, dtype=np.int64) for side in zip(*events))
        by_code = np.argsort(xs * n + ys)
        codes = (xs * n + ys)[by_code]
        pair_codes = np.minimum(a, b).astype(np.int64)  # worked out in place: one array per pair, not four
        pair_codes *= n
        pair_codes += np.maximum(a, b)
        at = np.searchsorted(codes, pair_codes)
        np.minimum(at, len(codes) - 1, out=at)
        found = pl.Series(codes[at] == pair_codes)
        del pair_codes
        # each pair's event as its number (null: none), spelt out a batch of rows at a time as they
        # are written: four bytes a pair, where the text of every pair takes sixteen
        numbers = pl.select(pl.when(found).then(pl.Series(by_code[at].astype(np.int32)))).to_series().alias("event")
        del at, found
        texts = pl.Series("event", list(events.values()), dtype=pl.String)
        event = pl.col("event").map_batches(texts.gather, return_dtype=pl.String, is_elementwise=True).alias("event")
    if overrides is not None and overrides.height:  # joined on the rows of the two mentions alone
        said = pl.DataFrame({"a": row_numbers(ids, overrides["mention_a"]), "b": row_numbers(ids, overrides["mention_b"]),
                             "override": overrides["decision"]})
        override = pl.DataFrame({"a": a, "b": b}).join(said, on=["a", "b"], how="left", maintain_order="left")["override"]
    spelt = [c for c in SPELT_OUT if c not in scored.columns]
    # beside the pairs' own columns, not copies of them: what decides, by names no feature has
    # (settings refuse a comparison named so: RESERVED_COLUMNS)
    helpers = [pl.Series("together", roots[a] == roots[b]), pl.Series("identity", identity),
               pl.Series("split", refused_identity), *([numbers] if events else []), event, override,
               *((pl.Series("row_a", a), pl.Series("row_b", b)) if spelt else ())]
    table = (scored.with_columns(c for c in helpers if isinstance(c, pl.Series)).lazy()
             .with_columns(c for c in helpers if isinstance(c, pl.Expr)))
    conflict = pl.concat_str(
        [pl.when(pl.col(f).fill_nan(None) == 0.0).then(pl.lit(f.removesuffix("_agree"))) for f in conflict_features],
        separator=", ", ignore_nulls=True,
    ) if conflict_features else pl.lit("")
    score = pl.col("score").fill_nan(0.0).fill_null(0.0)
    score_text = score.round(3).cast(pl.String)
    spelling = {"mention_a": _spelt(ids, "row_a"), "mention_b": _spelt(ids, "row_b"),
                "entity_type": pl.lit(entity.entity_type, dtype=pl.String)}
    fate = [
        *(spelling[c].alias(c) for c in spelt),
        *(c for c in scored.columns if c not in ("decision", "reason")),  # those of a table decided before
        pl.when(pl.col("override") == "must_link").then(
            pl.when("together").then(pl.lit("must_link")).otherwise(pl.lit("conflicting_identifier")))
        .when(pl.col("override") == "cannot_link").then(pl.lit("cannot_link"))
        .when("split").then(pl.lit("identity_conflict"))
        .when(conflict != "").then(pl.lit("conflicting_identifier"))
        .when("together").then(pl.lit("match"))
        .otherwise(pl.lit("non_match")).alias("decision"),
        pl.when(pl.col("override") == "must_link").then(
            pl.when("together").then(pl.lit("analyst must-link"))
            .otherwise(pl.concat_str(pl.lit("analyst must-link refused: "), pl.col("event"))))
        .when(pl.col("override") == "cannot_link").then(pl.lit("analyst cannot-link"))
        .when("split").then(pl.concat_str(pl.lit("same "), pl.col("blocked_by"),
                                          pl.lit(", but names and date of birth disagree: not merged (identity conflict)")))
        .when(conflict != "").then(pl.concat_str(pl.lit("different "), conflict))
        .when(pl.col("together") & pl.col("identity")).then(pl.concat_str(pl.lit("same "), pl.col("blocked_by")))
        .when(pl.col("together") & (score >= threshold)).then(
            pl.concat_str(pl.lit("score "), score_text, pl.lit(f" at or above {threshold}")))
        .when("together").then(
            pl.concat_str(pl.lit("same entity through other links (own score "), score_text, pl.lit(")")))
        .when(pl.col("event").is_not_null()).then(pl.col("event"))
        .otherwise(pl.concat_str(pl.lit("score "), score_text, pl.lit(f" below {threshold}"))).alias("reason"),
    ]
    return table.select(fate)


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
