"""Vectorised work on Bloom-filter columns: decoding, pairwise Dice and MinHash signatures.

Bloom filters arrive as base64 text (see :mod:`mhgraph.crypto`). Here a whole column becomes
one ``(n, bytes)`` ``uint8`` matrix, so that Dice over millions of pairs and the LSH
signatures used for blocking are numpy operations, not Python loops.

>>> from mhgraph.crypto import Key, bloom_encode
>>> key = Key(b"example key of at least sixteen bytes")
>>> column = [bloom_encode(key, "family_name", n) for n in ("jansen", "janssen", "pietersen")]
>>> matrix, present = decode_bloom(column + [None])
>>> matrix.shape, present.tolist()
((4, 32), [True, True, True, False])
>>> dice_pairs(matrix, present, np.array([0, 0]), np.array([1, 2])).round(2).tolist()
[0.96, 0.44]
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

__all__ = ["EMPTY_BIN", "INITIAL_MAX_BITS", "INITIALS_MAX_BITS", "bloom_words", "decode_bloom", "dice_at_least", "dice_at_least_apart", "dice_pairs", "dice_words",
           "initials_pairs",
           "minhash_bins", "unflipped_counts"]

_CHUNK = 250_000  # pairs at a time: smaller pieces go through memory faster (a third less time than a million)
# The chunks of Dice over many pairs (comparison, commonness) are worked out on this many
# threads: numpy lets go of the interpreter lock in its loops, and each chunk writes its own part.
PAIR_THREADS = 2
EMPTY_BIN = 16  # the MinHash value of a bin with no set bit
# A filter with at most this many bits set holds at most six bigrams: initials ("j", "j p k")
# or a short name ("jan", "anna"); a longer name sets more (eight positions per bigram).
INITIALS_MAX_BITS = 48
# ... and one with at most this many a single letter (two bigrams): an initial and nothing else.
INITIAL_MAX_BITS = 16


def decode_bloom(column) -> tuple[np.ndarray, np.ndarray]:
    """Decode base64 filters (a Polars Series or a list) into a ``uint8`` matrix and a
    presence mask. All present filters must have the same length."""
    series = column if isinstance(column, pl.Series) else pl.Series(list(column), dtype=pl.String)
    decoded = series.str.decode("base64").rechunk().to_arrow()
    offsets = np.frombuffer(decoded.buffers()[1], dtype=np.int64)[decoded.offset : decoded.offset + len(decoded) + 1]
    lengths = np.diff(offsets)
    present = lengths > 0
    width = int(lengths.max()) if len(lengths) else 0
    matrix = np.zeros((len(lengths), width), dtype=np.uint8)
    if present.any():
        if (lengths[present] != width).any():
            raise ValueError(f"column {series.name!r}: Bloom filters of different lengths")
        data = np.frombuffer(decoded.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
        matrix[present] = data.reshape(-1, width)  # missing filters take no bytes
    return matrix, present


def _words(matrix: np.ndarray) -> np.ndarray:
    """The filters as rows of 64-bit words, zero-padded to whole words: a few word operations
    per pair instead of one per byte (a copy of the column, cheap next to the pairs)."""
    width = -(-matrix.shape[1] // 8) * 8
    if width != matrix.shape[1] or not matrix.flags.c_contiguous:
        padded = np.zeros((matrix.shape[0], width), dtype=np.uint8)
        padded[:, : matrix.shape[1]] = matrix
        matrix = padded
    return matrix.view(np.uint64)


def _bit_counts(words: np.ndarray, dtype=np.int32) -> np.ndarray:
    """The bits set in each row of ``words``: word position by word position, several times
    faster than a sum along rows of a few words each."""
    counts = np.bitwise_count(words)
    out = counts[:, 0].astype(dtype) if counts.shape[1] else np.zeros(len(counts), dtype=dtype)
    for position in range(1, counts.shape[1]):
        out += counts[:, position]
    return out


def bits_set(matrix: np.ndarray) -> np.ndarray:
    """The bits set in each filter (row) of ``matrix``.

    >>> bits_set(np.array([[3, 0], [255, 1]], dtype=np.uint8)).tolist()
    [2, 9]
    """
    return _bit_counts(_words(matrix))


def _row_bits(words: np.ndarray, n_pairs: int) -> np.ndarray | None:
    """The bits set in every row, when there are enough pairs that counting each row once
    beats counting the rows of each pair (``None`` otherwise)."""
    return _bit_counts(words) if 4 * n_pairs > words.shape[0] else None


def _pair_bits(left_words: np.ndarray, right_words: np.ndarray, a: np.ndarray, b: np.ndarray,
               left_bits: np.ndarray | None = None, right_bits: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bits set in row ``a[i]`` of ``left_words``, in row ``b[i]`` of ``right_words``, and in
    both; ``left_bits`` / ``right_bits``: the counts of all rows, when known."""
    rows_a, rows_b = np.take(left_words, a, axis=0), np.take(right_words, b, axis=0)
    ones_a = left_bits[a] if left_bits is not None else _bit_counts(rows_a)
    ones_b = right_bits[b] if right_bits is not None else _bit_counts(rows_b)
    rows_a &= rows_b
    return ones_a, ones_b, _bit_counts(rows_a)


def bloom_words(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The filters as rows of 64-bit words and the bits set in each row: what
    :func:`dice_words` reads, worth keeping when one column is compared in many calls."""
    words = _words(matrix)
    return words, _bit_counts(words)


def dice_words(words: np.ndarray, bits: np.ndarray | None, present: np.ndarray, left: np.ndarray, right: np.ndarray,
               right_side: tuple[np.ndarray, np.ndarray | None, np.ndarray] | None = None,
               flip: np.ndarray | None = None, width: int | None = None) -> np.ndarray:
    """:func:`dice_pairs` on filters already in words (``bits``: the bits set in every row, or
    ``None`` to count those of the pairs' rows); ``right_side``: the words, bits and presence
    of the right-hand column, when it is another; ``flip`` and the filters' ``width`` in bits
    (default: the words') as in :func:`dice_pairs`."""
    right_words, right_bits, right_present = right_side or (words, bits, present)
    width = width or 64 * words.shape[1]
    out = np.empty(len(left))

    def fill(start: int) -> None:
        a, b = left[start : start + _CHUNK], right[start : start + _CHUNK]
        ones_a, ones_b, both = _pair_bits(words, right_words, a, b, bits, right_bits)
        if flip is not None:
            ones_a, ones_b, both = unflipped_counts(ones_a, ones_b, both, width, flip[a], flip[b])
        out[start : start + _CHUNK] = np.clip(2.0 * both / np.maximum(ones_a + ones_b, 1), 0.0, 1.0)

    _chunk_by_chunk(fill, len(left))
    out[~(present[left] & right_present[right])] = np.nan
    return out


def _chunk_by_chunk(fill, n_pairs: int) -> None:
    """``fill(start)`` for every :data:`_CHUNK` of ``n_pairs`` pairs, on :data:`PAIR_THREADS`
    threads when there are several chunks: each fills its own part of an output."""
    starts = range(0, n_pairs, _CHUNK)
    if len(starts) < 2 or PAIR_THREADS < 2:
        for start in starts:
            fill(start)
        return
    with ThreadPoolExecutor(max_workers=PAIR_THREADS) as pool:
        for _ in pool.map(fill, starts):  # (re-raises what a chunk raised)
            pass


@functools.lru_cache(maxsize=64)
def _shared_bits_needed(minimum: float, width: int) -> np.ndarray:
    """For every total of set bits ``t`` of two filters (``0 .. 2 * width``), the fewest bits
    they must share for :func:`dice_words` not to fall below ``minimum`` (``width + 1``: never),
    found with the same arithmetic as there, so that the two tests agree on every pair. Kept
    per (minimum, width): a rule asks for it once per window distance."""
    shared = np.arange(width + 1)
    totals = np.maximum(np.arange(2 * width + 1), 1)
    reached = ~(np.clip(2.0 * shared[None, :] / totals[:, None], 0.0, 1.0) < minimum)  # rises with the bits shared
    return np.where(reached.any(axis=1), reached.argmax(axis=1), width + 1).astype(np.int16)


def dice_at_least(words: np.ndarray, bits: np.ndarray, present: np.ndarray, left: np.ndarray, right: np.ndarray,
                  minimum: float) -> np.ndarray:
    """Whether each pair's :func:`dice_words` is not below ``minimum`` or a side is missing
    (NaN), without computing it: the shared bits each pair needs are looked up by the bits its
    sides set (``bits``, counted once per row) and compared with those it shares.

    >>> words, bits = bloom_words(np.array([[0b1111, 0], [0b0111, 0], [0b0001, 0], [0, 0]], dtype=np.uint8))
    >>> present = np.array([True, True, True, False])
    >>> dice_at_least(words, bits, present, np.array([0, 0, 0]), np.array([1, 2, 3]), 0.5).tolist()
    [True, False, True]
    """
    bits = bits.astype(np.int16, copy=False)
    needed = _shared_bits_needed(minimum, 64 * words.shape[1])
    out = ~(present[left] & present[right])
    for start in range(0, len(left), _CHUNK):
        a, b = left[start : start + _CHUNK], right[start : start + _CHUNK]
        rows = np.take(words, a, axis=0)
        rows &= np.take(words, b, axis=0)
        out[start : start + _CHUNK] |= _bit_counts(rows, np.int16) >= needed[bits[a] + bits[b]]
    return out


def dice_at_least_apart(columns: np.ndarray, bits: np.ndarray, present: np.ndarray, distance: int,
                        minimum: float) -> np.ndarray:
    """:func:`dice_at_least` for every pair of rows ``(i, i + distance)``, with the filters
    given as ``columns``: their words transposed, one contiguous row per word position
    (``bloom_words(matrix)[0].T``). No row is looked up: each word position is read as two
    overlapping runs of memory. ``distance`` lies strictly between 0 and the number of rows
    ``n`` (the answer has ``n - distance`` pairs; a pair of a row with itself is no pair).

    >>> words, bits = bloom_words(np.array([[0b1111, 0], [0b0111, 0], [0b0001, 0], [0, 0]], dtype=np.uint8))
    >>> present = np.array([True, True, True, False])
    >>> dice_at_least_apart(np.ascontiguousarray(words.T), bits, present, 2, 0.5).tolist()  # rows 0 and 2, 1 and 3
    [False, True]
    """
    if not 0 < distance < columns.shape[1]:
        raise ValueError(f"distance must lie strictly between 0 and the {columns.shape[1]} rows, got {distance}")
    needed = _shared_bits_needed(minimum, 64 * columns.shape[0])
    shared = np.zeros(columns.shape[1] - distance, dtype=np.int16)
    for word in columns:
        shared += np.bitwise_count(word[:-distance] & word[distance:])
    bits = bits.astype(np.int16, copy=False)
    return ~(present[:-distance] & present[distance:]) | (shared >= needed[bits[:-distance] + bits[distance:]])


def dice_pairs(matrix: np.ndarray, present: np.ndarray, left: np.ndarray, right: np.ndarray,
               right_matrix: np.ndarray | None = None, right_present: np.ndarray | None = None,
               flip: np.ndarray | None = None) -> np.ndarray:
    """Dice similarity between rows ``left[i]`` and ``right[i]``; NaN where a side is missing.

    The right-hand rows come from ``right_matrix`` when given (crossed comparisons). ``flip``:
    per row, the probability with which each of its bits was flipped by the hardening (0 for
    a filter that was not hardened); the Dice is then that of the filters before the flips, as
    far as the counts tell (:func:`unflipped_counts`).
    """
    words = _words(matrix)
    right_side = None
    if right_matrix is not None:
        right_words = _words(right_matrix)
        right_side = right_words, _row_bits(right_words, len(left)), right_present
    return dice_words(words, _row_bits(words, len(left)), present, left, right, right_side,
                      flip=flip, width=8 * matrix.shape[1])


def unflipped_counts(ones_a, ones_b, both, width: int, flip_a, flip_b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimated bits set in each filter and in both *before* each bit of filter a (b) was
    flipped with probability ``flip_a`` (``flip_b``), from the counts after: the randomised
    response inverted. A flip turns a bit on as often as off, so it adds about ``flip ×
    width`` random bits that two filters of one name do not share; hardened with
    ``mhgraph.crypto.BLIP_FLIP`` two filters of one name keep a raw Dice near 0.75, whatever
    the name, and a name with a typo falls among strangers. Corrected, they come back near 1
    and near their Dice without hardening.

    Two filters of one name, 37 bits each, after 5% flips: 46 bits each, 34 shared (raw Dice 0.74):

    >>> a, b, both = unflipped_counts(np.array([46]), np.array([46]), np.array([34]), 256, 0.05, 0.05)
    >>> round(float(a[0]), 1), round(float(both[0]), 1), round(float(2 * both[0] / (a[0] + b[0])), 2)
    (36.9, 37.1, 1.01)
    """
    ones_a, ones_b, both = (np.asarray(x, dtype=float) for x in (ones_a, ones_b, both))
    only_a, only_b = ones_a - both, ones_b - both
    neither = width - ones_a - only_b
    keep_a, keep_b = 1.0 - flip_a, 1.0 - flip_b
    true_both = (keep_a * keep_b * both - keep_a * flip_b * only_a - flip_a * keep_b * only_b
                 + flip_a * flip_b * neither) / ((1.0 - 2 * flip_a) * (1.0 - 2 * flip_b))
    true_a = (ones_a - flip_a * width) / (1.0 - 2 * flip_a)
    true_b = (ones_b - flip_b * width) / (1.0 - 2 * flip_b)
    return np.maximum(true_a, 1.0), np.maximum(true_b, 1.0), np.maximum(true_both, 0.0)


def initials_pairs(matrix: np.ndarray, present: np.ndarray, left: np.ndarray, right: np.ndarray,
                   below_dice: float = 0.5) -> np.ndarray:
    """Whether one side may be the initials (or a short form) of the other, for pairs whose
    Dice is below ``below_dice`` and whose shorter filter is short — at most
    :data:`INITIALS_MAX_BITS` bits set and at most 60% of the other's: 1.0 when at least half
    of its bits are set in the other ("j p" shares ``_j`` and `` p`` with "jan peter"), 0.0
    when fewer are; NaN for every other pair (two names of like length, "anna" and "emma",
    are no initials) and where a side is missing."""
    words = _words(matrix)
    bits = _row_bits(words, len(left))
    out = np.empty(len(left))

    def fill(start: int) -> None:
        ones_a, ones_b, both = _pair_bits(words, words, left[start : start + _CHUNK], right[start : start + _CHUNK],
                                          bits, bits)
        shorter = np.minimum(ones_a, ones_b)
        value = (2 * both >= shorter).astype(float)
        dice = 2.0 * both / np.maximum(ones_a + ones_b, 1)
        short = (shorter <= INITIALS_MAX_BITS) & (5 * shorter <= 3 * np.maximum(ones_a, ones_b))
        value[~short | (dice >= below_dice)] = np.nan
        out[start : start + _CHUNK] = value

    _chunk_by_chunk(fill, len(left))
    out[~(present[left] & present[right])] = np.nan
    return out


def minhash_bins(matrix: np.ndarray, n_bins: int, seed: int = 0, byte_major: bool = False) -> np.ndarray:
    """MinHash over the set bits, one value per bin: ``(n, n_bins)`` ``uint8``. ``byte_major``:
    ``matrix`` comes transposed, ``(bytes, n)`` and C-ordered, as the computation reads it
    (or as a list of such rows, one per byte position, e.g. of several columns).

    A bin is two bytes of the filter (Bloom bit positions are already spread at random by the
    keyed hash), read in a random bit order: its value is the rank of the first set bit in
    that order, 16 when none is. Two filters agree on a bin with a probability that grows with
    their similarity; those that agree on all bins of a band share a block. Bytes are drawn
    without replacement (seeded) until all are used, then again.
    """
    rng = np.random.default_rng(seed)
    n_bytes = len(matrix) if byte_major else matrix.shape[1]
    rounds = -(-2 * n_bins // n_bytes)
    byte_of = np.concatenate([rng.permutation(n_bytes) for _ in range(rounds)])[: 2 * n_bins].reshape(n_bins, 2)
    rank_of_bit = np.stack([rng.permutation(16) for _ in range(n_bins)]).astype(np.uint8)
    # one lookup table per bin: for every 16-bit value, the lowest rank among its set bits; the
    # values whose highest set bit is ``bit`` are that bit added to a value already done
    tables = np.empty((n_bins, 1 << 16), dtype=np.uint8)
    tables[:, 0] = EMPTY_BIN
    for bit in range(16):
        np.minimum(tables[:, : 1 << bit], rank_of_bit[:, bit : bit + 1], out=tables[:, 1 << bit : 2 << bit])
    columns = matrix if byte_major else np.ascontiguousarray(matrix.T)  # one byte of all filters after another
    out = np.empty((n_bins, len(columns[0])), dtype=np.uint8)
    for b in range(n_bins):
        high, low = byte_of[b]
        value = np.left_shift(columns[high], 8, dtype=np.uint16)
        value |= columns[low]
        np.take(tables[b], value, out=out[b])
    return out.T
