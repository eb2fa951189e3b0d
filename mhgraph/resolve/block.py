"""Blocking: propose the candidate pairs worth comparing, without a quadratic step.

Two kinds of pairs come out, one row per pair (``mention_a < mention_b``):

* identity pairs: mentions that share an identity key (pseudonymised BSN, KvK number,
  address key, ...). Each group is linked as a star to its lowest ``mention_id`` — ``k - 1``
  pairs for a group of ``k``, never ``k^2``;
* fuzzy candidates, from the type's blocking rules: exact keys (match keys, equal Bloom
  filters) and locality-sensitive hashing (MinHash bands) over the Bloom filters. A block
  larger than the rule's ``max_block_size`` is windowed: its mentions are sorted by a
  MinHash signature of their names and each is paired with its ``window`` next neighbours
  (sorted neighbourhood), so a block of any size costs ``O(size * window)``. A mention that
  one rule pairs with more than ``max_pairs_per_mention`` others keeps its most similar ones
  (:func:`most_similar`), so that a rule proposes a bounded number of pairs per mention
  whatever the population: a common name without a date of birth passes every date filter.
  When linking files, pairs inside one file are dropped before that bound.

Fuzzy pairs are proposed between **representatives**, not between all mentions. The
*identity groups* are the connected components of the identity pairs (a mention without any
identity key is a group of its own). Per rule (per band for LSH), each identity group keeps
one mention per blocking value — its lowest ``mention_id`` — and only those are blocked, so
two mentions of one group never form a fuzzy pair. Payroll repeats an employer (same name,
same KvK number) or an employee (same BSN, same name filters) on every row; without this,
those repeats filled huge blocks whose pairs almost all lay inside one identity group.

Why this loses nothing that clustering uses: two identity groups get at least one fuzzy pair
exactly when some of their mentions shared a block before (the representatives of that block
value are paired, or windowed as neighbours), and a representative agrees with the mentions
it stands for on the blocked value. Pairs inside a group were never needed: its identity
links merge it first. :mod:`mhgraph.resolve.cluster` counts group sizes in identity groups
for its coherence test, so that having fewer, de-duplicated pairs between two groups does not
make them look less coherent (see there).

``blocked_by`` names the first rule (identity keys first) that proposed the pair.

>>> import polars as pl
>>> from mhgraph.resolve.settings import default_settings
>>> mentions = pl.DataFrame({"mention_id": ["s/1/p", "s/2/p", "s/3/p"],
...     "entity_type": ["address"] * 3, "address_key": ["k1", "k1", "k2"]})
>>> block(mentions, default_settings()).rows()
[('s/1/p', 's/2/p', 'address', 'address_key')]
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mhgraph.resolve.bits import (EMPTY_BIN, bloom_words, decode_bloom, dice_at_least, dice_at_least_apart, dice_words,
                                  minhash_bins)
from mhgraph.resolve.settings import BlockingRule, EntitySettings, ResolveSettings

__all__ = ["PAIR_SCHEMA", "block", "block_rows", "block_type", "identity_groups", "key_codes", "pairs_from_blocks", "population_pairs", "random_pairs",
           "representatives", "row_numbers", "similarity_sort_key", "sort_ranks", "type_mentions"]

log = logging.getLogger("mhgraph.resolve.block")

PAIR_SCHEMA = {"mention_a": pl.String, "mention_b": pl.String, "entity_type": pl.String, "blocked_by": pl.String}
_SIGNATURE_BINS = 12
_ORDER_SAMPLE = 20_000  # pairs on which a rule's Dice tests are ranked by what they keep


def type_mentions(mentions: pl.DataFrame | pl.LazyFrame, entity_type: str, columns=()) -> pl.DataFrame:
    """The mentions of one entity type, sorted by ``mention_id``, with ``mention_id``,
    ``entity_type`` and those of ``columns`` the table has. From a ``pl.scan_parquet`` only these
    columns are read; another lazy query is run again on every call.

    >>> mentions = pl.DataFrame({"mention_id": ["b", "a", "c"], "entity_type": ["person", "person", "address"],
    ...     "bsn": ["h2", "h1", None], "address_key": [None, None, "k"]})
    >>> type_mentions(mentions, "person", ["bsn", "name_bf"]).rows()
    [('a', 'person', 'h1'), ('b', 'person', 'h2')]
    """
    mentions = mentions.lazy()
    names = mentions.collect_schema().names()
    read = [c for c in dict.fromkeys(("mention_id", "entity_type", *columns)) if c in names]
    frame = mentions.select(read).filter(pl.col("entity_type") == entity_type).collect()
    return frame if frame["mention_id"].is_sorted() else frame.sort("mention_id")


def key_codes(frame: pl.DataFrame, key: str, cache: dict | None = None) -> np.ndarray:
    """Non-negative 63-bit codes of a key (``"a+b"`` joins columns): equal values, equal
    codes; -1 where any part is missing. ``cache`` (one per ``frame``) keeps them for the
    next step that needs them."""
    if cache is not None:
        if ("codes", key) not in cache:
            cache[("codes", key)] = key_codes(frame, key)
        return cache[("codes", key)]
    columns = key.split("+")
    if any(c not in frame.columns for c in columns):
        return np.full(frame.height, -1, dtype=np.int64)
    joined = pl.concat_str([pl.col(c).cast(pl.String) for c in columns], separator="\x1f")
    hashed = frame.select(joined.hash(seed=0).alias("code"), joined.is_null().alias("missing"))
    codes = (hashed["code"].to_numpy() >> np.uint64(1)).astype(np.int64)
    codes[hashed["missing"].to_numpy()] = -1
    return codes


def row_numbers(ids: pl.Series, values: pl.Series) -> np.ndarray:
    """The row of each of ``values`` in ``ids`` (distinct mention ids), -1 where absent.

    >>> row_numbers(pl.Series(["a", "b", "d"]), pl.Series(["d", "c", "a"])).tolist()
    [2, -1, 0]
    """
    # a hash join: bisection in the sorted ids is several times slower for unsorted values
    lookup = pl.DataFrame({"id": ids}).with_row_index("i")
    return (pl.DataFrame({"id": values}).join(lookup, on="id", how="left", maintain_order="left")["i"]
            .fill_null(-1).cast(pl.Int64).to_numpy())


def decoded_column(frame: pl.DataFrame, column: str, cache: dict | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The decoded filters of one column (``None`` when the column is absent), kept in
    ``cache`` so that blocking and comparison decode each column once."""
    if column not in frame.columns:
        return None
    if cache is None:
        return decode_bloom(frame[column])
    if column not in cache:
        cache[column] = decode_bloom(frame[column])
    return cache[column]


def _bloom_bytes(frame: pl.DataFrame, columns, cache: dict | None = None) -> np.ndarray | list[np.ndarray]:
    """The filters of several columns stacked (a missing value is zero bytes) and transposed,
    one row per byte position — what MinHash reads (of several columns: a list of those rows). The transpose of each column is kept in
    ``cache``: several LSH rules read the same names."""
    parts = []
    for column in columns:
        found = decoded_column(frame, column, cache)
        if found is None or not found[1].any():
            continue
        if cache is None:
            parts.append(np.ascontiguousarray(found[0].T))
            continue
        if ("bytes", column) not in cache:
            cache[("bytes", column)] = np.ascontiguousarray(found[0].T)
        parts.append(cache[("bytes", column)])
    if not parts:
        return np.zeros((1, frame.height), dtype=np.uint8)
    return parts[0] if len(parts) == 1 else [row for part in parts for row in part]  # rows of all, not copied


def _pack(bins: np.ndarray) -> np.ndarray:
    """Pack up to 12 five-bit bin values per row into one int64 (more are hashed in)."""
    out = np.zeros(bins.shape[0], dtype=np.int64)
    for j in range(bins.shape[1]):
        if j and j % 12 == 0:
            out = out * np.int64(1_000_003) % np.int64(2**61 - 1)
        out |= bins[:, j].astype(np.int64) << (5 * (j % 12))
    return out


def similarity_sort_key(frame: pl.DataFrame, columns, cache: dict | None = None) -> np.ndarray:
    """A sort key that puts mentions with similar filters near each other (MinHash signature)."""
    return _pack(minhash_bins(_bloom_bytes(frame, columns, cache), _SIGNATURE_BINS, seed=7919, byte_major=True))


def sort_ranks(keys: np.ndarray) -> np.ndarray:
    """The place of each row in the order of ``keys`` (ties: the earlier row first): a sort key
    that orders rows as ``keys`` do, with small distinct values, so that
    :func:`pairs_from_blocks` sorts a block by it in one pass.

    >>> sort_ranks(np.array([2**60, 7, 2**60, 3])).tolist()
    [2, 1, 3, 0]
    """
    ranks = np.empty(len(keys), dtype=np.int64)
    ranks[np.argsort(keys, kind="stable")] = np.arange(len(keys))
    return ranks


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / golden ratio


def _maybe_repeated(keys: np.ndarray) -> np.ndarray:
    """Whether each of ``keys`` (64-bit integers) may occur more than once — true for every
    repeated key and for a few others: keys counted in hash buckets (Fibonacci hashing, the top
    bits of key times 2^64 / golden ratio; packed MinHash codes have skewed low bits). A pass
    over the keys instead of a sort."""
    bits = max(len(keys).bit_length() + 2, 8)
    bucket = ((keys.astype(np.int64, copy=False).view(np.uint64) * _GOLDEN) >> np.uint64(64 - bits)).view(np.int64)
    # looked up in a table of one byte per bucket, not of the eight-byte counts: fewer cache misses
    return (np.bincount(bucket, minlength=1 << bits) > 1)[bucket]


def _blocks_of(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows that share their code (-1 = none) with another row, those of one code next to
    each other and in row order within it, and the size of each such block. Only the rows whose
    code may be repeated (:func:`_maybe_repeated`) are sorted, each packed with the top bits of
    its code times 2^64 / golden ratio (one-to-one: packed MinHash codes differ in their low
    bits) into one number: a sort of values, several times faster than a stable argsort of the
    codes. Should two codes share those top bits, the rows are ordered by their codes instead.
    Blocks come in the order of their mixed codes: nothing reads that order.

    >>> order, sizes = _blocks_of(np.array([9, 4, -1, 9, 7, 4]))
    >>> order.tolist(), sizes.tolist()
    ([1, 5, 0, 3], [2, 2])
    """
    present = np.flatnonzero(codes >= 0)
    shared = present[_maybe_repeated(codes[present])]
    bits = max(len(codes).bit_length(), 1)  # room for every row number
    mask = np.uint64((1 << bits) - 1)
    packed = (codes[shared].astype(np.uint64) * _GOLDEN) & ~mask | shared.astype(np.uint64)
    packed.sort()
    order = (packed & mask).view(np.int64)
    held = codes[order]
    top = packed >> np.uint64(bits)
    if ((top[1:] == top[:-1]) & (held[1:] != held[:-1])).any():
        order = shared[np.argsort(codes[shared], kind="stable")]
        held = codes[order]
    sizes = _run_lengths(held)
    # a code that only shared its hash bucket is no block
    return order[np.repeat(sizes > 1, sizes)], sizes[sizes > 1]


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by a sort: many times faster on millions of 64-bit codes than the
    hash table ``np.unique`` uses.

    >>> _sorted_distinct(np.array([5, 3, 5, 1])).tolist()
    [1, 3, 5]
    """
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _run_lengths(values: np.ndarray) -> np.ndarray:
    """The length of each run of equal neighbours in ``values``."""
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]]) if len(values) else np.zeros(0, dtype=np.int64)
    return np.diff(np.append(starts, len(values)))


def _block_then_key_order(blocks: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.lexsort((keys, blocks))``: the positions ordered by block, then key, then position;
    for keys that are small non-negative integers (:func:`sort_ranks`) by one stable sort of
    both packed into one number, about twice as fast.

    >>> keys = np.array([2**54 + 1, 2**54, 2**54 + 1, 2**54], dtype=np.uint64)  # unsigned: packed as int64
    >>> _block_then_key_order(np.zeros(4, dtype=np.int32), keys).tolist()
    [1, 3, 0, 2]
    """
    if len(keys) and keys.dtype.kind in "iu" and keys.min() >= 0:
        span = int(keys.max()) + 1
        if (int(blocks.max()) + 1) * span < 2**62:
            # both as int64 (the keys are below 2^62): int64 with uint64 would give float64,
            # in which keys above 2^53 fall together
            return np.argsort(blocks.astype(np.int64) * span + keys.astype(np.int64), kind="stable")
    return np.lexsort((keys, blocks))


def pairs_from_blocks(codes: np.ndarray, sort_key, max_block_size: int, window: int, keep=None
                      ) -> tuple[np.ndarray, np.ndarray, dict]:
    """All pairs within each block of ``codes`` (-1 = no block), but in blocks larger than
    ``max_block_size`` only pairs at most ``window`` apart in ``sort_key`` order
    (``sort_key``: an array over all mentions, or a function giving the keys of some rows,
    asked only when a block is that large). ``keep``: a function of two index arrays saying
    which of those pairs to keep, asked as the pairs are made, so that a rule that drops most
    of them never holds them all.

    Returns the two index arrays and a small report (blocks, largest, oversized).

    >>> left, right, report = pairs_from_blocks(np.array([0, 0, 0, 1, -1]), np.arange(5), 10, 2)
    >>> sorted(zip(left.tolist(), right.tolist()))
    [(0, 1), (0, 2), (1, 2)]
    """
    order, sizes = _blocks_of(codes)
    empty = np.array([], dtype=np.int64)
    if len(order) < 2:
        return empty, empty, {"blocks": 0, "largest": 0, "oversized": 0, "oversized_mentions": 0}
    oversized = sizes > max_block_size
    report = {
        "blocks": len(sizes),
        "largest": int(sizes.max()),
        "oversized": int(oversized.sum()),
        "oversized_mentions": int(sizes[oversized].sum()),
    }
    size_of = np.repeat(sizes, sizes)
    if oversized.any():  # sorted neighbourhood inside the oversized blocks: order them by similarity
        inside = np.flatnonzero(size_of > max_block_size)
        rows = order[inside]
        keys = sort_key(rows) if callable(sort_key) else sort_key[rows]
        block_of = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
        order[inside] = rows[_block_then_key_order(block_of[inside], keys)]
    # ``keep`` of positions in ``order``, when it can read its filters laid out in that order
    test = keep.along(order) if hasattr(keep, "along") else None
    # the positions with a later one of their block ``distance`` away, and how many follow each
    # there: a block's positions drop out once they reach its end, so that the many blocks of
    # two are looked at once, not once per distance
    active = np.arange(len(order))
    room = np.repeat(np.cumsum(sizes), sizes) - 1 - active
    lefts, rights = [], []
    for distance in range(1, int(sizes.max())):
        within = room >= distance
        if distance == window + 1:  # from here on only blocks of at most max_block_size, all of whose pairs are made
            within &= size_of[active] <= max_block_size
        active, room = active[within], room[within]
        at = active
        if len(at) == 0:
            break
        if test is not None:
            at = at[test(at, distance)]
        elif keep is not None:
            at = at[keep(order[at], order[at + distance])]
        lefts.append(order[at])
        rights.append(order[at + distance])
    if not lefts:
        return empty, empty, report
    left, right = np.concatenate(lefts), np.concatenate(rights)
    return np.minimum(left, right), np.maximum(left, right), report


def _rule_codes(frame: pl.DataFrame, rule: BlockingRule, cache: dict | None) -> list[np.ndarray]:
    """Block codes of one rule: one array for an exact rule, one per band for LSH."""
    if rule.kind == "exact":
        return [key_codes(frame, "+".join(rule.columns))]
    bins = minhash_bins(_bloom_bytes(frame, rule.columns, cache), rule.bands * rule.rows, seed=rule.seed + 1,
                        byte_major=True)
    # the codes of the equal columns (the date of birth of several rules) are kept in ``cache``
    equal = key_codes(frame, "+".join(rule.equal), cache) if rule.equal else None
    out = []
    for band in range(rule.bands):
        part = bins[:, band * rule.rows : (band + 1) * rule.rows]
        codes = _pack(part)
        if equal is not None:  # the band and the equal columns together make the block
            codes = ((codes * np.int64(1_000_003) + equal) % np.int64(2**61 - 1)).astype(np.int64)
            codes[equal < 0] = -1
        codes[(part == EMPTY_BIN).sum(axis=1) * 2 > rule.rows] = -1  # mostly empty bins: too little evidence
        out.append(codes)
    return out


def _filter_words(frame: pl.DataFrame, column: str, found: tuple[np.ndarray, np.ndarray]) -> tuple:
    """The filters of ``column`` as Dice reads them (:func:`~mhgraph.resolve.bits.bloom_words`,
    and their presence), and for each mention the row of its filter there (``None``: its own
    row). A column that repeats its values (the dates of birth of a million people take some
    20,000) keeps only its distinct filters: a table small enough to stay in the processor's
    cache while millions of pairs are looked up in it. Equal filters are found by a hash of
    their words, checked against the words themselves (faster than comparing the text)."""
    words, bits = bloom_words(found[0])
    present = found[1]
    multipliers = np.random.default_rng(0).integers(1, 2**63, size=words.shape[1], dtype=np.uint64) | np.uint64(1)
    key = (words * multipliers).sum(axis=1, dtype=np.uint64) ^ present.astype(np.uint64)  # a missing value: no filter
    order = np.argsort(key, kind="stable")
    new = np.r_[True, key[order][1:] != key[order][:-1]]
    if 4 * int(new.sum()) > frame.height:
        return (words, bits, present), None
    index = np.empty(frame.height, dtype=np.int32)
    index[order] = np.cumsum(new) - 1
    rows = order[new]  # the first mention holding each filter
    if not ((words[rows][index] == words).all() and (present[rows][index] == present).all()):
        return (words, bits, present), None  # two filters share a hash: each mention keeps its own row
    return (words[rows], bits[rows], present[rows]), index


class _DiceFloor:
    """The ``keep`` of :func:`pairs_from_blocks` for a rule's ``min_dice`` (asked through
    :meth:`along`, which :func:`pairs_from_blocks` prefers to a plain call): which pairs reach
    the minimum Dice on each of ``columns`` (``words, bits, present, index, minimum``, as
    :func:`_filter_words` gives them), or lack the column's value on a side.

    A pair must pass every column, so the order of the tests changes nothing but their cost:
    the column that drops most pairs goes first, and the others read only what it keeps
    (millions of window pairs of common names, of which a few in a hundred pass a name test).
    Which column drops most is counted on the first pairs asked about. :meth:`along` reads
    that column's filters laid out in a block order, where a pair of neighbours reads
    neighbouring memory instead of two random rows."""

    def __init__(self, columns: list) -> None:
        self.columns = columns
        self.rank = list(range(len(columns))) if len(columns) < 2 else None
        self.transposed: dict = {}  # the words of a column, one row per word position: for all bands

    @staticmethod
    def _passes(column: tuple, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Which pairs of rows reach ``column``'s minimum Dice (or lack its value on a side)."""
        words, bits, present, index, minimum = column
        a, b = (left, right) if index is None else (index[left], index[right])
        return dice_at_least(words, bits, present, a, b, minimum)

    def _ranked(self, left: np.ndarray, right: np.ndarray) -> list[int]:
        if self.rank is None:
            sample = slice(0, min(len(left), _ORDER_SAMPLE))
            kept = [int(self._passes(column, left[sample], right[sample]).sum()) for column in self.columns]
            self.rank = sorted(range(len(self.columns)), key=kept.__getitem__)
        return self.rank

    def _keep(self, columns: list, left: np.ndarray, right: np.ndarray, first=None) -> np.ndarray:
        """Which pairs pass ``columns``; ``first``: whether they pass the first, when known."""
        rank = self._ranked(left, right)
        at = np.arange(len(left)) if first is None else np.flatnonzero(first)
        for i in rank[0 if first is None else 1 :]:
            at = at[self._passes(columns[i], left[at], right[at])]
        kept = np.zeros(len(left), dtype=bool)
        kept[at] = True
        return kept

    def along(self, order: np.ndarray):
        """The same test for pairs given as positions in ``order`` (rows): ``test(at, distance)``
        for the pairs of positions ``at`` and ``at + distance``. The filters of the most
        selective column (through its index, when it has one) are laid out in that order, and
        tested on all neighbours this far apart at once when most of them are asked about; the
        others, which see only the pairs it keeps, are looked up through the rows."""
        first = self._ranked(order[:-1], order[1:])[0]
        laid = [(words, bits, present, order if index is None else index[order], minimum)
                for words, bits, present, index, minimum in self.columns]
        words, bits, present, rows, minimum = laid[first]
        if first not in self.transposed:
            self.transposed[first] = np.ascontiguousarray(words.T)
        columns = np.take(self.transposed[first], rows, axis=1)
        bits, present = bits[rows], present[rows]

        def test(at: np.ndarray, distance: int) -> np.ndarray:
            if 4 * len(at) < len(order):
                return self._keep(laid, at, at + distance)
            return self._keep(laid, at, at + distance, dice_at_least_apart(columns, bits, present, distance, minimum)[at])

        return test


def _similar_enough(frame: pl.DataFrame, rule: BlockingRule, cache: dict | None) -> _DiceFloor | None:
    """The ``keep`` of :func:`pairs_from_blocks` for ``rule.min_dice`` (``None`` without it),
    the filters read as words (:func:`_filter_words`), kept in ``cache``; a side missing a
    value passes unless ``rule.missing_passes`` is false."""
    cache = {} if cache is None else cache
    columns = []
    for column, minimum in rule.min_dice.items():
        found = decoded_column(frame, column, cache)
        if found is None:
            continue
        if ("words", column) not in cache:
            cache[("words", column)] = _filter_words(frame, column, found)
        (words, bits, present), index = cache[("words", column)]
        if not rule.missing_passes:  # a missing filter counted as present: it shares no bit and fails
            present = np.ones_like(present)
        columns.append((words, bits.astype(np.int16), present, index, minimum))
    return _DiceFloor(columns) if columns else None


def _pair_similarity(frame: pl.DataFrame, columns, cache: dict | None):
    """A function of two index arrays giving each pair's mean Dice over those of ``columns``
    that both sides carry (0 where they share none): the cheap similarity by which a mention
    with too many candidates keeps the best. Filters are read as words (:func:`_filter_words`)."""
    cache = {} if cache is None else cache
    found_columns = []
    for column in columns:
        found = decoded_column(frame, column, cache)
        if found is None or not found[1].any():
            continue
        if ("words", column) not in cache:
            cache[("words", column)] = _filter_words(frame, column, found)
        found_columns.append(cache[("words", column)])

    def similarity(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        total, counted = np.zeros(len(left)), np.zeros(len(left))
        for (words, bits, present), index in found_columns:
            a, b = (left, right) if index is None else (index[left], index[right])
            dice = dice_words(words, bits, present, a, b)
            seen = ~np.isnan(dice)
            total[seen] += dice[seen]
            counted += seen
        return total / np.maximum(counted, 1)

    return similarity


def most_similar(left: np.ndarray, right: np.ndarray, similarity, cap: int) -> np.ndarray:
    """Which pairs to keep so that no mention is in more than ``cap`` of them: every mention
    keeps its ``cap`` most similar partners (ties: the earlier pair), and a pair stays when
    both of its mentions keep it. ``similarity``: a function of two index arrays, asked only
    for the pairs of a mention that has more than ``cap``.

    >>> closer = lambda a, b: -np.abs(a - b).astype(float)  # here: the nearer index, the more alike
    >>> most_similar(np.array([0, 0, 0, 1]), np.array([1, 2, 3, 2]), closer, cap=2).tolist()
    [True, True, False, True]
    """
    keep = np.ones(len(left), dtype=bool)
    if len(left) == 0:
        return keep
    counts = np.bincount(np.concatenate([left, right]))
    crowded = np.flatnonzero((counts[left] > cap) | (counts[right] > cap))  # pairs of a crowded mention
    if len(crowded) == 0:
        return keep
    score = similarity(left[crowded], right[crowded])
    # each end of those pairs at a crowded mention, ranked by the pair's similarity there
    ends = np.concatenate([left[crowded], right[crowded]])
    pair = np.concatenate([crowded, crowded])
    at = np.flatnonzero(counts[ends] > cap)
    order = at[np.lexsort((pair[at], -np.concatenate([score, score])[at], ends[at]))]
    sizes = _run_lengths(ends[order])
    rank = np.arange(len(order)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    keep[pair[order[rank >= cap]]] = False
    return keep


def _identity_pairs(frame: pl.DataFrame, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Each mention with the lowest-indexed mention sharing its key (a star per group), the
    groups in no particular order.

    >>> head, member = _identity_pairs(pl.DataFrame({"bsn": ["x", "y", "x", None, "x"]}), "bsn")
    >>> sorted(zip(head.tolist(), member.tolist()))
    [(0, 2), (0, 4)]
    """
    order, sizes = _blocks_of(key_codes(frame, key))  # in row order within a group: its lowest first
    starts = np.cumsum(sizes) - sizes
    head = np.repeat(order[starts], sizes)
    member = head != order
    return head[member], order[member]


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    _, label = connected_components(coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n)), directed=False)
    return label.astype(np.int64)


def identity_groups(frame: pl.DataFrame, identity_keys, cache: dict | None = None) -> np.ndarray:
    """A group label per mention of ``frame``: mentions linked, directly or through others,
    by a shared identity key share a label; a mention without identity keys is alone.
    ``cache``: as for :func:`key_codes`.

    >>> mentions = pl.DataFrame({"bsn": ["x", None, "x", None], "v_number": [None, "v", "y", None]})
    >>> identity_groups(mentions, ["bsn", "v_number"]).tolist()
    [0, 1, 0, 2]
    >>> identity_groups(mentions.with_columns(v_number=pl.lit("v")), ["bsn", "v_number"]).tolist()
    [0, 0, 0, 0]
    """
    if cache is not None:
        if ("groups", *identity_keys) not in cache:
            cache[("groups", *identity_keys)] = identity_groups(frame, identity_keys)
        return cache[("groups", *identity_keys)]
    pairs = [_identity_pairs(frame, key) for key in identity_keys]
    empty = np.zeros(0, dtype=np.int64)
    return _components(frame.height, np.concatenate([empty, *(p[0] for p in pairs)]),
                       np.concatenate([empty, *(p[1] for p in pairs)]))


def representatives(codes: np.ndarray, groups: np.ndarray, grouped_rows: np.ndarray | None = None) -> np.ndarray:
    """``codes`` with -1 (no block) for every mention but the lowest-indexed one of each
    (group, code): blocking then pairs one mention per identity group and blocking value.
    ``grouped_rows``: the row numbers of the mentions that share their group with another, in
    row order (counted when not given; a rule asks once per band).

    >>> representatives(np.array([5, 5, 5, 7, 5, -1]), np.array([0, 0, 1, 0, 2, 2])).tolist()
    [5, -1, 5, 7, 5, -1]
    """
    if grouped_rows is None:
        grouped_rows = _grouped(groups)
    # a mention alone in its group represents itself; of the others (most mentions of a
    # register whose payroll repeats its people), the first of each (group, code) in row order
    present = grouped_rows[codes[grouped_rows] >= 0]
    if len(present) == 0:
        return codes
    # Each row is packed into one number: the top bits of its code times 2^64 / golden ratio,
    # its group in the low bits. Only the rows whose number may be repeated (most (group, code)
    # are not) are sorted, by a stable sort of numbers: 2.5 times faster than a lexsort of all
    # by group, code and row, once per band of every rule.
    group = groups[present]
    bits = max(int(group.max()).bit_length(), 1)
    packed = (codes[present].astype(np.uint64) * _GOLDEN) & ~np.uint64((1 << bits) - 1) | group.astype(np.uint64)
    maybe = _maybe_repeated(packed.view(np.int64))
    present, packed = present[maybe], packed[maybe]
    if len(present) == 0:  # every grouped mention's (group, code) is its own
        return codes
    by_number = np.argsort(packed, kind="stable")  # within a number: in row order
    order, key = present[by_number], packed[by_number]
    code = codes[order]
    later = np.r_[False, key[1:] == key[:-1]]
    if (later[1:] & (code[1:] != code[:-1])).any():  # two codes of one group share their top bits
        order = present[np.lexsort((present, codes[present], groups[present]))]
        group, code = groups[order], codes[order]
        later = np.r_[False, (group[1:] == group[:-1]) & (code[1:] == code[:-1])]
    kept = codes.copy()
    kept[order[later]] = -1
    return kept


def _grouped(groups: np.ndarray) -> np.ndarray:
    """The mentions that share their identity group (``groups``) with another, in row order."""
    return np.flatnonzero(np.bincount(groups)[groups] > 1) if len(groups) else np.zeros(0, dtype=np.int64)


# Blocking rules run side by side on this many threads: their work is numpy and Polars on whole
# columns, which let go of the interpreter lock, and a rule reads nothing another one writes.
BLOCKING_THREADS = 2


def _rule_pairs(frame: pl.DataFrame, entity: EntitySettings, rule: BlockingRule, chosen_per: np.ndarray,
                groups: np.ndarray, across: np.ndarray | None, sort_key, similarity, cache: dict
                ) -> tuple[np.ndarray, np.ndarray]:
    """The pairs one blocking rule proposes between identity groups (``groups``; one
    representative per ``chosen_per`` value), bounded per mention; logged."""
    found_l, found_r, reports = [], [], []
    chosen = np.zeros(frame.height, dtype=bool)
    similar = _similar_enough(frame, rule, cache)
    grouped_rows = _grouped(chosen_per)
    for codes in _rule_codes(frame, rule, cache):
        codes = representatives(codes, chosen_per, grouped_rows=grouped_rows)
        chosen |= codes >= 0
        left, right, report = pairs_from_blocks(codes, sort_key, rule.max_block_size, rule.window, similar)
        found_l.append(left), found_r.append(right), reports.append(report)
    del similar  # its transposed first column (some 160 MB at 5M mentions) served the bands only
    left, right = np.concatenate(found_l), np.concatenate(found_r)
    apart = groups[left] != groups[right]
    if across is not None:  # before the bound, so that pairs inside one file take no place
        apart &= across[left] != across[right]
    left, right = left[apart], right[apart]
    crowded = 0
    if rule.max_pairs_per_mention and len(left):
        code = _sorted_distinct(left.astype(np.int64) * frame.height + right)  # a pair found in several bands once
        left, right = code // frame.height, code % frame.height
        kept = most_similar(left, right, similarity, rule.max_pairs_per_mention)
        crowded = int((~kept).sum())
        left, right = left[kept], right[kept]
    oversized = sum(r["oversized"] for r in reports)
    log.info(
        "%s: rule %s proposes %d pairs (%d blocks of %d representatives, largest %d%s)",
        entity.entity_type, rule.name, len(left), sum(r["blocks"] for r in reports), int(chosen.sum()),
        max(r["largest"] for r in reports),
        f"; {oversized} oversized blocks with {sum(r['oversized_mentions'] for r in reports)} "
        f"mentions windowed to {rule.window} neighbours" if oversized else "",
    )
    if crowded:
        log.info("%s: rule %s keeps each mention's %d most similar pairs: %d pairs fewer",
                 entity.entity_type, rule.name, rule.max_pairs_per_mention, crowded)
    return left, right


def block_type(frame: pl.DataFrame, entity: EntitySettings, link_only_across: str = "",
               cache: dict | None = None) -> pl.DataFrame:
    """Candidate pairs among the mentions of one entity type (``frame`` sorted by mention_id);
    ``cache``: decoded Bloom columns and key codes of ``frame``, shared with the later steps.
    The rules run on :data:`BLOCKING_THREADS` threads; their pairs are taken in rule order."""
    left, right, blocked_by = block_rows(frame, entity, link_only_across, cache)
    ids = frame["mention_id"]
    return pl.DataFrame({
        "mention_a": ids.gather(left),
        "mention_b": ids.gather(right),
        "entity_type": pl.Series([entity.entity_type], dtype=pl.String).gather(np.zeros(len(left), dtype=np.int64)),
        "blocked_by": blocked_by,
    }, schema=PAIR_SCHEMA)


def block_rows(frame: pl.DataFrame, entity: EntitySettings, link_only_across: str = "",
               cache: dict | None = None) -> tuple[np.ndarray, np.ndarray, pl.Series]:
    """The pairs of :func:`block_type` as the rows of their two mentions in ``frame``, in the
    order of ``mention_a``, ``mention_b``, and the rule that proposed each (``blocked_by``):
    numbers are what comparison, scoring and clustering read, and a million persons' pairs as
    text took some 2 GB.

    >>> from mhgraph.resolve.settings import default_settings
    >>> frame = pl.DataFrame({"mention_id": ["s/1/a", "s/2/a", "s/3/a"], "entity_type": ["address"] * 3,
    ...                       "address_key": ["k1", "k2", "k1"]})
    >>> left, right, blocked_by = block_rows(frame, default_settings().types["address"])
    >>> left.tolist(), right.tolist(), blocked_by.to_list()
    ([0], [2], ['address_key'])
    """
    names: list[str] = []
    lefts: list[np.ndarray] = []
    rights: list[np.ndarray] = []
    for key in entity.identity_keys:
        left, right = _identity_pairs(frame, key)
        names.append(key), lefts.append(left), rights.append(right)
        log.info("%s: identity key %s links %d pairs", entity.entity_type, key, len(left))
    across = key_codes(frame, link_only_across) if link_only_across and link_only_across in frame.columns else None
    if entity.fuzzy:
        shared = {} if cache is None else cache
        groups = _components(frame.height, np.concatenate([np.zeros(0, dtype=np.int64), *lefts]),
                             np.concatenate([np.zeros(0, dtype=np.int64), *rights]))
        # when linking files, each file keeps its own representative of a group
        chosen_per = groups if across is None else \
            np.unique(np.stack([groups, across]), axis=1, return_inverse=True)[1].ravel()
        log.info("%s: %d identity groups among %d mentions", entity.entity_type, groups.max(initial=-1) + 1, frame.height)
        # the filters compared on every pair (not those counted only where others disagree)
        dice_columns = [c.columns[0] for c in entity.comparisons
                        if c.kind in ("dice", "crossed_dice") and not c.counts_where_below]
        built: dict = {}
        building = threading.Lock()  # two rules may ask at once: built once, by the first

        def similarity(left: np.ndarray, right: np.ndarray) -> np.ndarray:  # asked only when a mention is over its bound
            with building:
                if "similarity" not in built:
                    built["similarity"] = _pair_similarity(frame, dice_columns, shared)
            return built["similarity"](left, right)

        def sort_key(rows: np.ndarray) -> np.ndarray:  # asked only when a block is oversized; then kept for all
            with building:
                if "sort_key" not in built:
                    built["sort_key"] = sort_ranks(similarity_sort_key(frame, dice_columns, shared))
            return built["sort_key"][rows]

        # what the rules read is decoded before they run side by side, so that no two decode it
        for rule in entity.blocking:
            _similar_enough(frame, rule, shared)
            if rule.kind == "lsh":
                _bloom_bytes(frame, rule.columns, shared)
                if rule.equal:
                    key_codes(frame, "+".join(rule.equal), shared)
        with ThreadPoolExecutor(max_workers=BLOCKING_THREADS) as pool:
            proposed = list(pool.map(lambda rule: _rule_pairs(frame, entity, rule, chosen_per, groups, across,
                                                              sort_key, similarity, shared), entity.blocking))
        for rule, (left, right) in zip(entity.blocking, proposed):
            names.append(rule.name), lefts.append(left), rights.append(right)
        del proposed
        for kept in [k for k in shared if isinstance(k, tuple) and k[0] in ("bytes", "words")]:
            del shared[kept]  # what blocking alone reads (transposed filters, filters as words) goes now
    if not names:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), pl.Series("blocked_by", [], dtype=pl.String)
    rule_index = np.concatenate([np.full(len(l), i, dtype=np.int16) for i, l in enumerate(lefts)])
    left, right = np.concatenate(lefts), np.concatenate(rights)
    keep = left != right
    n = max(frame.height, 1)
    pair_code = left[keep].astype(np.int64) * n + right[keep]
    pair_code, rules = _first_rule_per_pair(pair_code, rule_index[keep], len(names))
    return pair_code // n, pair_code % n, pl.Series("blocked_by", names, dtype=pl.String).gather(rules.astype(np.int64))


def _first_rule_per_pair(pair_code: np.ndarray, rules: np.ndarray, n_rules: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``pair_code`` values in order, each with the lowest of the ``rules`` that
    proposed it (the first rule, as rules are numbered in order). Both packed into one number
    and sorted as values: several times faster than a stable argsort of the codes, on the tens
    of millions of pairs a million persons' rules propose (a lexsort where they would not fit).

    >>> codes, rules = _first_rule_per_pair(np.array([7, 3, 7, 3]), np.array([2, 1, 0, 1]), 3)
    >>> codes.tolist(), rules.tolist()
    ([3, 7], [1, 0])
    """
    if not len(pair_code):
        return pair_code, rules
    bits = max(int(n_rules - 1).bit_length(), 1)
    if int(pair_code.max()) < 2 ** (62 - bits):
        packed = np.sort((pair_code << bits) | rules.astype(np.int64))
        pair_code, rules = packed >> bits, packed & ((1 << bits) - 1)
    else:  # sorted by code, then rule: the first of equal pairs names the lowest rule, as above
        order = np.lexsort((rules, pair_code))
        pair_code, rules = pair_code[order], rules[order]
    first = np.r_[True, pair_code[1:] != pair_code[:-1]]
    return pair_code[first], rules[first]


def _pairs_within(labels: np.ndarray) -> int:
    """How many pairs share a label (-1 = no label, never shared)."""
    sizes = np.unique(labels[labels >= 0], return_counts=True)[1].astype(np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def population_pairs(groups: np.ndarray, across: np.ndarray | None = None) -> int:
    """How many pairs of mentions could be one entity without being so already: all pairs,
    less those inside one identity group (``groups``) and, when linking files, less those
    inside one file (``across``).

    >>> population_pairs(np.array([0, 0, 1, 2]))
    5
    >>> population_pairs(np.array([0, 1, 2, 3]), across=np.array([7, 7, 8, 8]))
    4
    """
    n = len(groups)
    total = n * (n - 1) // 2 - _pairs_within(groups)
    if across is not None:
        both = np.unique(np.stack([groups, across]), axis=1, return_inverse=True)[1].ravel()
        total -= _pairs_within(across) - _pairs_within(both)
    return total


def random_pairs(frame: pl.DataFrame, n_pairs: int, seed: int = 0, link_only_across: str = "",
                 groups: np.ndarray | None = None) -> pl.DataFrame:
    """``n_pairs`` pairs drawn at random (seeded) from ``frame`` (sorted by mention_id) — nearly
    all non-matches: they show how often strangers agree on each field. Pairs inside one
    ``link_only_across`` value, or inside one identity group (``groups``), are left out, like
    in blocking."""
    n = frame.height
    if n < 2 or n_pairs <= 0:
        return pl.DataFrame(schema=PAIR_SCHEMA)
    rng = np.random.default_rng(seed)
    left = rng.integers(0, n, size=n_pairs)
    right = rng.integers(0, n, size=n_pairs)
    keep = left != right
    if link_only_across and link_only_across in frame.columns:
        across = key_codes(frame, link_only_across)
        keep &= across[left] != across[right]
    if groups is not None:
        keep &= groups[left] != groups[right]
    left, right = np.minimum(left, right)[keep], np.maximum(left, right)[keep]
    codes = np.unique(left.astype(np.int64) * n + right)
    ids = frame["mention_id"]
    return pl.DataFrame({
        "mention_a": ids.gather(codes // n), "mention_b": ids.gather(codes % n),
        "entity_type": frame["entity_type"].gather(codes // n),
        "blocked_by": pl.Series(["random"] * len(codes), dtype=pl.String),
    }, schema=PAIR_SCHEMA)


def block(mentions: pl.DataFrame, settings: ResolveSettings) -> pl.DataFrame:
    """Candidate pairs for every entity type that has settings.

    Columns: ``mention_a``, ``mention_b`` (``mention_a < mention_b``), ``entity_type``,
    ``blocked_by``. Entity types without settings produce no pairs (each mention stays alone).
    """
    out = []
    for entity_type in settings.order:
        frame = mentions.filter(pl.col("entity_type") == entity_type).sort("mention_id")
        if frame.height:
            pairs = block_type(frame, settings.types[entity_type], settings.link_only_across)
            log.info("%s: %d mentions, %d candidate pairs", entity_type, frame.height, pairs.height)
            out.append(pairs)
    return pl.concat(out) if out else pl.DataFrame(schema=PAIR_SCHEMA)
