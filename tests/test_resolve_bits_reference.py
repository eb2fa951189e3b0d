"""Dice over many pairs, worked out a chunk at a time on several threads, against one piece on
one thread and against a plain count per pair: the same value for every pair."""

import numpy as np
import pytest

from mhgraph.resolve import bits
from mhgraph.resolve.bits import bloom_words, dice_pairs, dice_words, initials_pairs


def _filters(seed: int, n: int = 400, width: int = 32):
    """Filters of every density (initials to full names), some missing, and random pairs."""
    rng = np.random.default_rng(seed)
    density = rng.choice([0.03, 0.1, 0.25, 0.5], size=(n, 1))
    matrix = np.packbits(rng.random((n, 8 * width)) < density, axis=1)
    present = rng.random(n) < 0.9
    left, right = rng.integers(0, n, size=3000), rng.integers(0, n, size=3000)
    flip = np.where(rng.random(n) < 0.6, 0.05, 0.0)  # hardened rows, and rows delivered plain
    return matrix, present, left, right, flip


def _plain_dice(matrix, present, left, right) -> list:
    out = []
    for a, b in zip(left.tolist(), right.tolist()):
        ones_a, ones_b = (sum(bin(x).count("1") for x in matrix[row].tolist()) for row in (a, b))
        both = sum(bin(x & y).count("1") for x, y in zip(matrix[a].tolist(), matrix[b].tolist()))
        out.append(min(max(2.0 * both / max(ones_a + ones_b, 1), 0.0), 1.0) if present[a] and present[b] else None)
    return out


def _all(matrix, present, left, right, flip) -> list[np.ndarray]:
    words, row_bits = bloom_words(matrix)
    other = matrix[::-1].copy()
    return [dice_pairs(matrix, present, left, right),
            dice_pairs(matrix, present, left, right, flip=flip),
            dice_pairs(matrix, present, left, right, other, present[::-1].copy()),
            dice_words(words, row_bits, present, left, right, flip=flip, width=8 * matrix.shape[1]),
            dice_words(words, None, present, left, right),
            initials_pairs(matrix, present, left, right)]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("chunk", "threads"), [(7, 2), (1000, 2), (999, 1), (2999, 2)])
def test_dice_a_chunk_at_a_time_on_threads_gives_what_one_piece_gives(monkeypatch, seed, chunk, threads):
    matrix, present, left, right, flip = _filters(seed)
    monkeypatch.setattr(bits, "_CHUNK", 10**9)
    monkeypatch.setattr(bits, "PAIR_THREADS", 1)
    whole = _all(matrix, present, left, right, flip)
    monkeypatch.setattr(bits, "_CHUNK", chunk)
    monkeypatch.setattr(bits, "PAIR_THREADS", threads)
    for got, expected in zip(_all(matrix, present, left, right, flip), whole):
        np.testing.assert_array_equal(got, expected)
    plain = _plain_dice(matrix, present, left, right)
    assert [None if np.isnan(x) else x for x in whole[0].tolist()] == plain
    assert 0 < np.isnan(whole[-1]).sum() < len(left)  # some pairs are initials of each other, most not


def test_a_chunk_that_fails_fails_the_call(monkeypatch):
    # ``flip`` one row short, the last row in the last chunk only: the error is raised inside a
    # worker thread (every index outside ``fill`` is valid) and must reach the caller, not leave
    # that chunk's output uninitialised
    matrix, present, left, right, flip = _filters(0)
    monkeypatch.setattr(bits, "_CHUNK", 100)
    monkeypatch.setattr(bits, "PAIR_THREADS", 2)
    left, right = np.where(left == len(matrix) - 1, 0, left), np.where(right == len(matrix) - 1, 0, right)
    left[-1] = len(matrix) - 1
    with pytest.raises(IndexError):
        dice_pairs(matrix, present, left, right, flip=flip[:-1])
