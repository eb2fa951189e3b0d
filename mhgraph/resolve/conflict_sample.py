"""A seeded sample of the pairs between two different values of a conflict key, for the model.

Clustering never merges a pair whose two mentions hold two different BSNs (V-numbers, KvK
numbers: :func:`~mhgraph.resolve.cluster.never_merged`) and the matches leave it out; only the
model learns from such pairs (the logistic scorer's non-matches, part of Fellegi-Sunter's
population) and the expected-merges diagnostic counts them. At a million persons they are two
in three of the pairs blocking proposes, so comparing them all cost more than any other step.

So once there are more than ``conflict_pairs`` (a scoring setting) of them, a share ``rate`` is
compared: those between the pairs of identity groups whose seeded hash falls below ``rate``,
every pair of a drawn pair of groups, each weighing ``1 / rate`` in the model's counts (an
inverse-probability weight, so the counts' expectations are those of all pairs). Drawn by pair
of groups rather than by pair, so that the expected-merges diagnostic (the best score of each
two groups) stays an unbiased estimate too (:func:`expected_pairs_drawn`). For given mentions
the draw depends on the two groups and the seed alone, not on the order of the pairs; but a
group is known by its number among all groups of the type, so a mention added or taken away
(a new group, or renumbered ones) draws a different sample.

>>> units = np.array([0, 1, 2, 3])
>>> drawn = drawn_pairs(units, (np.array([0, 0, 1]), np.array([1, 2, 3])), 0.5, seed=0)
>>> drawn.tolist() == drawn_pairs(units, (np.array([1, 0, 0]), np.array([3, 2, 1])), 0.5, seed=0)[::-1].tolist()
True
"""

from __future__ import annotations

import numpy as np

from mhgraph.resolve.diagnostics import expected_pairs

__all__ = ["drawn_pairs", "expected_pairs_drawn", "sample_rate"]

_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


def sample_rate(conflicting: int, limit: int) -> float:
    """The share of ``conflicting`` pairs compared so that about ``limit`` are: 1.0 (all) up to
    ``limit`` (at least one pair's worth, so that every weight is finite).

    >>> sample_rate(1_000, 2_000), sample_rate(16_000_000, 2_000_000)
    (1.0, 0.125)
    """
    return 1.0 if conflicting <= limit else max(limit, 1) / conflicting


def drawn_pairs(units: np.ndarray, rows: tuple[np.ndarray, np.ndarray], rate: float, seed: int) -> np.ndarray:
    """Per pair (``rows``: its two mentions), whether its two identity groups (``units``, a
    group number per mention) are drawn: a splitmix64 hash of the two groups, in either order,
    and of ``seed``, below ``rate`` of its range."""
    a, b = units[rows[0]].astype(np.uint64), units[rows[1]].astype(np.uint64)
    code = np.minimum(a, b) * np.uint64(int(units.max(initial=0)) + 1) + np.maximum(a, b)
    del a, b
    code += np.uint64(seed * int(_MIX[0]) % 2**64)  # arrays of unsigned integers wrap around, as the hash wants
    for shift, factor in ((30, _MIX[1]), (27, _MIX[2])):
        code ^= code >> np.uint64(shift)
        code *= factor
    code ^= code >> np.uint64(31)
    return (code >> np.uint64(11)) < np.uint64(round(rate * 2.0**53))


def expected_pairs_drawn(unit_a: np.ndarray, unit_b: np.ndarray, score: np.ndarray, apart: np.ndarray,
                         drawn: np.ndarray, rate: float) -> float | None:
    """:func:`~mhgraph.resolve.diagnostics.expected_pairs` of every proposed pair, estimated
    from those compared: all pairs not ``apart`` (between two values of a conflict key) and the
    ``apart`` ones of the ``drawn`` pairs of groups. Per two groups the best score of the pairs
    not apart, plus, where the two groups are drawn, how much their apart pairs raise it, times
    ``1 / rate``: unbiased, and exact at ``rate`` 1. Without any ``apart`` pair (none proposed,
    or none compared, as for a type scored by rules), that of the pairs at hand.

    >>> a, b, score = np.array([0, 0, 1]), np.array([1, 1, 2]), np.array([0.5, 0.75, 0.25])
    >>> expected_pairs_drawn(a, b, score, np.array([False, True, False]), np.array([True, True, False]), 0.5)
    1.25
    """
    if len(score) == 0:
        return None
    if rate >= 1.0 or not apart.any():
        return expected_pairs(unit_a, unit_b, score)
    base = expected_pairs(unit_a[~apart], unit_b[~apart], score[~apart]) or 0.0
    drawn_base = expected_pairs(unit_a[drawn & ~apart], unit_b[drawn & ~apart], score[drawn & ~apart]) or 0.0
    drawn_all = expected_pairs(unit_a[drawn], unit_b[drawn], score[drawn]) or 0.0
    return base + (drawn_all - drawn_base) / rate
