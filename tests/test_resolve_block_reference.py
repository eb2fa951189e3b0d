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


@pytest.mark.parametrize("seed", range(4))
def test_pairs_from_blocks_with_a_dice_floor_keeps_what_the_reference_keeps(seed):
    codes, sort_key = _random_blocks(seed + 10, n=900)
    rng = np.random.default_rng(seed)
    # two filter columns: one of distinct filters per mention, one a table of 30 shared ones
    own = rng.integers(0, 256, size=(900, 16), dtype=np.uint8) & rng.integers(0, 256, size=(900, 16), dtype=np.uint8)
    table = rng.integers(0, 256, size=(30, 8), dtype=np.uint8)
    index = rng.integers(0, 30, size=900)
    present = rng.random(900) < 0.9
    own_words, own_bits = bloom_words(own)
    table_words, table_bits = bloom_words(table)
    columns = [(own_words, own_bits.astype(np.int16), present, None, 0.5),
               (table_words, table_bits.astype(np.int16), np.ones(30, dtype=bool), index, 0.45)]

    def plain_keep(left, right):
        first = ~(dice_words(own_words, own_bits, present, left, right) < 0.5)
        second = ~(dice_words(table_words, table_bits, np.ones(30, dtype=bool), index[left], index[right]) < 0.45)
        return first & second

    for max_block_size, window in [(12, 3), (50, 10), (4, 2)]:
        expected = reference_pairs(codes, sort_key, max_block_size, window, plain_keep)
        every = reference_pairs(codes, sort_key, max_block_size, window)
        left, right, _ = pairs_from_blocks(codes, sort_key, max_block_size, window, _DiceFloor(columns))
        assert set(zip(left.tolist(), right.tolist())) == expected
        assert 0 < len(expected) < len(every)  # the floor keeps some pairs and drops others


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


@pytest.mark.parametrize("width", [1, 8, 13, 32, 64])
def test_bits_set_counts_every_bit_of_every_byte(width):
    rng = np.random.default_rng(width)
    matrix = rng.integers(0, 256, size=(300, width), dtype=np.uint8)
    expected = [sum(bin(byte).count("1") for byte in row) for row in matrix.tolist()]
    assert bits_set(matrix).tolist() == expected
