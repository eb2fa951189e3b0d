"""Blocking's vectorised steps against plain reference implementations on random data: a faster
step must propose exactly the pairs the plain one does."""

import itertools

import numpy as np
import pytest

from mhgraph.resolve.bits import bits_set, bloom_words, dice_words
from mhgraph.resolve.block import _DiceFloor, pairs_from_blocks, representatives


def reference_pairs(codes, sort_key, max_block_size, window, keep=None) -> set:
    """Every pair of a block of at most ``max_block_size`` mentions; in a larger block, the
    mentions sorted by (sort key, row) and each paired with its ``window`` next ones."""
    blocks: dict = {}
    for row, code in enumerate(codes.tolist()):
        if code >= 0:
            blocks.setdefault(code, []).append(row)
    found = set()
    for rows in blocks.values():
        if len(rows) <= max_block_size:
            candidates = itertools.combinations(rows, 2)
        else:
            rows = sorted(rows, key=lambda r: (sort_key[r], r))
            candidates = ((rows[i], rows[j]) for i in range(len(rows))
                          for j in range(i + 1, min(i + window + 1, len(rows))))
        found |= {(min(a, b), max(a, b)) for a, b in candidates}
    if keep is not None and found:
        pairs = np.array(sorted(found))
        found = set(map(tuple, pairs[keep(pairs[:, 0], pairs[:, 1])].tolist()))
    return found


def reference_representatives(codes, groups) -> list:
    seen, out = set(), []
    for code, group in zip(codes.tolist(), groups.tolist()):
        out.append(code if code < 0 or (group, code) not in seen else -1)
        seen.add((group, code))
    return out


def _random_blocks(seed: int, n: int = 600):
    """Codes with blocks of every size around the bounds (1 to 3 x max), codes that are large
    63-bit numbers, sort keys with many ties, some mentions without a code."""
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 1, 2, 3, 7, 12, 13, 14, 30, 60], size=n)
    codes = np.repeat(rng.integers(0, 2**62, size=n), sizes)[:n]
    rng.shuffle(codes)
    codes[rng.random(n) < 0.1] = -1
    sort_key = rng.integers(0, 40, size=n)  # ties: broken by row
    return codes, sort_key


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("max_block_size", "window"), [(12, 3), (13, 1), (5, 5), (50, 10), (2, 13)])
def test_pairs_from_blocks_proposes_the_pairs_of_the_plain_reference(seed, max_block_size, window):
    codes, sort_key = _random_blocks(seed)
    left, right, report = pairs_from_blocks(codes, sort_key, max_block_size, window)
    found = list(zip(left.tolist(), right.tolist()))
    assert len(found) == len(set(found))  # each pair once per call
    expected = reference_pairs(codes, sort_key, max_block_size, window)
    assert set(found) == expected and len(expected) > 0
    assert report["largest"] == max(np.unique(codes[codes >= 0], return_counts=True)[1])
    # the sort key may also be a function of the rows, asked only for oversized blocks
    by_function = pairs_from_blocks(codes, lambda rows: sort_key[rows], max_block_size, window)
    assert set(zip(by_function[0].tolist(), by_function[1].tolist())) == expected


def _two_filter_columns(seed: int, n: int, own_floor: float, table_floor: float):
    """Two filter columns with their floors: one of distinct filters per mention (``None``
    index), one a table of 30 shared filters read through an index; and the plain test of each."""
    rng = np.random.default_rng(seed)
    own = rng.integers(0, 256, size=(n, 16), dtype=np.uint8) & rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    table = rng.integers(0, 256, size=(30, 8), dtype=np.uint8)
    index = rng.integers(0, 30, size=n)
    present = rng.random(n) < 0.9
    own_words, own_bits = bloom_words(own)
    table_words, table_bits = bloom_words(table)
    own_column = (own_words, own_bits.astype(np.int16), present, None, own_floor)
    table_column = (table_words, table_bits.astype(np.int16), np.ones(30, dtype=bool), index, table_floor)

    def own_keep(left, right):
        return ~(dice_words(own_words, own_bits, present, left, right) < own_floor)

    def table_keep(left, right):
        return ~(dice_words(table_words, table_bits, np.ones(30, dtype=bool), index[left], index[right]) < table_floor)

    return (own_column, own_keep), (table_column, table_keep)


# which columns the floor tests, and which of them it must find most selective (tests first, laid
# out in block order): the table column, read through its index, alone or first, is the case of
# the date of birth
@pytest.mark.parametrize(("layout", "floors", "first"), [
    ("own, table", (0.5, 0.45), 0),
    ("table, own", (0.3, 0.7), 0),
    ("own, table", (0.3, 0.7), 1),
    ("table", (0.5, 0.7), 0),
])
@pytest.mark.parametrize("seed", range(4))
def test_pairs_from_blocks_with_a_dice_floor_keeps_what_the_reference_keeps(seed, layout, floors, first):
    n = 900
    codes, sort_key = _random_blocks(seed + 10, n=n)
    own, table = _two_filter_columns(seed, n, *floors)
    chosen = [{"own": own, "table": table}[name] for name in layout.split(", ")]
    columns = [column for column, _ in chosen]

    def plain_keep(left, right):
        return np.logical_and.reduce([keep(left, right) for _, keep in chosen])

    for max_block_size, window in [(12, 3), (50, 10), (4, 2)]:
        expected = reference_pairs(codes, sort_key, max_block_size, window, plain_keep)
        every = reference_pairs(codes, sort_key, max_block_size, window)
        floor = _DiceFloor(columns)
        left, right, _ = pairs_from_blocks(codes, sort_key, max_block_size, window, floor)
        assert set(zip(left.tolist(), right.tolist())) == expected
        assert floor.rank[0] == first
        assert 0 < len(expected) < len(every)  # the floor keeps some pairs and drops others


@pytest.mark.parametrize("case", ["empty", "single", "no filters", "negative keys", "keys from 2^62",
                                  "unsigned keys above 2^53"])
def test_pairs_from_blocks_at_the_edges_keeps_what_the_reference_keeps(case):
    n = 0 if case == "empty" else 1 if case == "single" else 600
    codes, sort_key = _random_blocks(20, n=max(n, 1))
    codes, sort_key = codes[:n], sort_key[:n]
    if case == "negative keys":  # no packing: the keys are sorted together with the blocks
        sort_key = sort_key - 20
    elif case == "keys from 2^62":
        sort_key = sort_key.astype(np.uint64) + np.uint64(2**62)
    elif case == "unsigned keys above 2^53":  # keys 1 apart above 2^54: equal as float64
        sort_key = sort_key.astype(np.uint64) + np.uint64(2**54)
    own, table = _two_filter_columns(20, max(n, 1), 0.3, 0.7)
    columns = [own[0], table[0]]
    if case == "no filters":  # a pair that lacks a value on a side passes
        columns = [(words, bits, np.zeros_like(present), index, minimum)
                   for words, bits, present, index, minimum in columns]
    for max_block_size, window in [(12, 3), (4, 2)]:
        every = reference_pairs(codes, sort_key, max_block_size, window)
        left, right, _ = pairs_from_blocks(codes, sort_key, max_block_size, window)
        assert set(zip(left.tolist(), right.tolist())) == every
        expected = every if case == "no filters" else reference_pairs(
            codes, sort_key, max_block_size, window, lambda a, b: own[1](a, b) & table[1](a, b))
        left, right, _ = pairs_from_blocks(codes, sort_key, max_block_size, window, _DiceFloor(columns))
        assert set(zip(left.tolist(), right.tolist())) == expected
        assert (len(every) > 0) == (n > 1)


def test_pairs_from_blocks_orders_unsigned_keys_above_2_to_the_53_exactly():
    keys = np.array([2**54 + 1, 2**54, 2**54 + 1, 2**54], dtype=np.uint64)
    left, right, _ = pairs_from_blocks(np.zeros(4, dtype=np.int64), keys, 2, 1)
    assert sorted(zip(left.tolist(), right.tolist())) == [(0, 2), (0, 3), (1, 3)]


@pytest.mark.parametrize("seed", range(3))
def test_codes_whose_mixed_top_bits_agree_still_form_blocks_of_their_own(seed):
    # blocks are found by sorting each row packed with the top bits of its code times 2^64 /
    # golden ratio: two codes whose products differ by one share those bits and fall into one run
    inverse = pow(0x9E3779B97F4A7C15, -1, 2**64)  # above 2^63: the code below wraps to a smaller one
    rng = np.random.default_rng(seed)
    base = 2**64 - inverse + int(rng.integers(0, 2**40))
    neighbour = (base + inverse) % 2**64  # its product is base's plus one
    codes, sort_key = _random_blocks(seed, n=300)
    codes[rng.choice(300, size=40, replace=False)] = np.repeat([base, neighbour], 20)
    for max_block_size, window in [(50, 3), (12, 2)]:
        left, right, _ = pairs_from_blocks(codes, sort_key, max_block_size, window)
        assert set(zip(left.tolist(), right.tolist())) == reference_pairs(codes, sort_key, max_block_size, window)


@pytest.mark.parametrize("seed", range(5))
def test_representatives_keep_the_first_mention_of_each_group_and_code(seed):
    rng = np.random.default_rng(seed)
    n = 2000
    groups = np.minimum(rng.integers(0, 1400, size=n), np.arange(n))  # many singletons, some large groups
    groups = np.unique(groups, return_inverse=True)[1]
    codes = rng.choice(np.append(rng.integers(0, 2**62, size=50), -1), size=n)
    expected = reference_representatives(codes, groups)
    assert representatives(codes, groups).tolist() == expected
    assert expected != codes.tolist()  # some mentions are represented by another of their group
    # the rows that share their group, as a rule passes them once per band: row numbers, not a mask
    grouped_rows = np.flatnonzero(np.bincount(groups)[groups] > 1)
    assert representatives(codes, groups, grouped_rows=grouped_rows).tolist() == expected
    with pytest.raises(TypeError):  # the former boolean-mask argument is refused by name
        representatives(codes, groups, grouped=np.bincount(groups)[groups] > 1)


@pytest.mark.parametrize("seed", range(3))
def test_representatives_of_codes_whose_mixed_top_bits_agree_within_a_group(seed):
    # representatives sorts each (group, code) packed as the top bits of the code times 2^64 /
    # golden ratio over the group's number: two codes whose products differ by one share that
    # number, and must still keep a representative each
    inverse = pow(0x9E3779B97F4A7C15, -1, 2**64)
    rng = np.random.default_rng(seed)
    base = 2**64 - inverse + int(rng.integers(0, 2**40))
    neighbour = (base + inverse) % 2**64  # its product is base's plus one
    n = 600
    groups = np.unique(np.minimum(rng.integers(0, 300, size=n), np.arange(n)), return_inverse=True)[1]
    codes = rng.choice(np.append(rng.integers(0, 2**62, size=30), -1), size=n)
    codes[rng.choice(n, size=200, replace=False)] = rng.choice([base, neighbour], size=200)
    expected = reference_representatives(codes, groups)
    assert sum(code in (base, neighbour) for code in expected) > len(set(groups[np.isin(codes, [base, neighbour])].tolist()))
    assert representatives(codes, groups).tolist() == expected


def test_representatives_when_no_group_repeats_a_code():
    # grouped mentions, but each with a code of its own: every one represents itself
    groups = np.array([0, 0, 1, 1, 2])
    codes = np.array([5, 6, 7, -1, 9])
    assert representatives(codes, groups).tolist() == reference_representatives(codes, groups) == [5, 6, 7, -1, 9]


@pytest.mark.parametrize("width", [1, 8, 13, 32, 64])
def test_bits_set_counts_every_bit_of_every_byte(width):
    rng = np.random.default_rng(width)
    matrix = rng.integers(0, 256, size=(300, width), dtype=np.uint8)
    expected = [sum(bin(byte).count("1") for byte in row) for row in matrix.tolist()]
    assert bits_set(matrix).tolist() == expected
