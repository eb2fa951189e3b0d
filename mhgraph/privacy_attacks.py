"""Known attacks on the delivered pseudonyms, to measure how well they hold.

Two attacks from the privacy-preserving record linkage literature, run by someone who holds a
delivered column (an analyst, a leaked extract) and public knowledge of how often each plain
value occurs (published name-frequency lists), but not the key:

* **frequency attack** (Christen, Schnell, Vatsalan & Ranbaduge 2017): a deterministic
  encoding gives every occurrence of a value the same code, so the most frequent code is the
  most frequent value, the second the second, and so on. It applies to Bloom filters and keyed
  hashes alike: a keyed hash of a low-entropy value is exactly as exposed;
* **pattern-mining attack** (Christen, Ranbaduge, Vatsalan & Schnell 2018/2019): the bits one
  q-gram sets occur together in every filter of a value holding that q-gram, so bit positions
  that co-occur in the share of filters that the attacker expects for a q-gram (from the public
  list) are that q-gram's. It then partitions the filters by that q-gram and repeats on the
  next most frequent one. Knowing which q-grams a filter holds and which it lacks leaves few
  public values that fit; where exactly one does, the filter is re-identified. It works even
  when every filter is unique, where the frequency attack fails.

Results are counted the way these papers do: a *guess* is one plain value for one distinct
code; the share of distinct codes guessed correctly and the share of records whose code was
guessed correctly are reported, with the number of wrong guesses.

>>> from mhgraph.crypto import Key, bloom_encode
>>> key = Key(b"example key of at least sixteen bytes")
>>> known = {"jong": 80, "jansen": 70, "vries": 60}
>>> codes = ["jong"] * 8 + ["jansen"] * 7 + ["vries"] * 6
>>> codes = [bloom_encode(key, "family_name", v) for v in codes]
>>> guess = frequency_attack(codes, known)
>>> sorted(guess.values())
['jansen', 'jong', 'vries']
"""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

__all__ = ["AttackResult", "bigram_attack", "bigrams", "frequency_attack", "score_guesses"]


def bigrams(text: str) -> set[str]:
    """The padded bigrams the encodings use (:func:`mhgraph.crypto.bloom_encode`)."""
    padded = f"_{text}_"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


def frequency_attack(codes: Iterable[str | None], known: dict[str, float], min_count: int = 2) -> dict[str, str]:
    """Align codes and public values by frequency rank: the i-th most frequent code is guessed
    to be the i-th most frequent known value. Codes seen fewer than ``min_count`` times carry
    no rank information and are not guessed."""
    counts = Counter(c for c in codes if c)
    ranked_codes = [c for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= min_count]
    ranked_values = [v for v, _ in sorted(known.items(), key=lambda kv: (-kv[1], kv[0]))]
    return dict(zip(ranked_codes, ranked_values))


def _bits(codes: Sequence[str]) -> np.ndarray:
    """Base64 filters as a boolean ``(n, bits)`` matrix (bit ``i`` of byte ``j`` is position ``8j + i``)."""
    raw = np.frombuffer(b"".join(base64.b64decode(c) for c in codes), dtype=np.uint8).reshape(len(codes), -1)
    return np.unpackbits(raw, axis=1, bitorder="little").astype(bool)


def _dice(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dice similarity of every row of ``a`` with every row of ``b`` (0/1 matrices)."""
    return 2 * (a @ b.T) / np.maximum(a.sum(axis=1)[:, None] + b.sum(axis=1)[None, :], 1)


def _expected_ones(candidates: np.ndarray, width: int, hashes: int) -> np.ndarray:
    """How many bits a filter of each candidate value has set, about (its number of bigrams)."""
    return width * (1 - (1 - 1 / width) ** (hashes * candidates.sum(axis=1)))


def _seed_alignment(filters: np.ndarray, counts: np.ndarray, candidates: np.ndarray, hashes: int,
                    rank_weight: float = 1.0, ones_scale: float = 4.0, sweeps: int = 8) -> np.ndarray:
    """Align the most frequent filters with candidate values (the most frequent public ones,
    in order), then correct the alignment with the similarity structure (graph matching, after
    Vidanage et al. 2020).

    The start is the assignment that best fits both the frequency rank and the number of bits
    set (a filter's weight reveals its value's number of bigrams). Then filters move or swap
    values where that makes the Dice similarities between filters agree better with the bigram
    similarities between their values. ``filters`` (k, bits) and ``candidates`` (m, grams) are
    0/1 matrices; returns a candidate index per filter."""
    from scipy.optimize import linear_sum_assignment

    k = len(filters)
    rank = np.log1p(np.argsort(np.argsort(-counts, kind="stable"), kind="stable"))
    value_rank = np.log1p(np.arange(len(candidates), dtype=float))
    ones = filters.sum(axis=1)
    expected = _expected_ones(candidates, filters.shape[1], hashes)
    prior = rank_weight * np.abs(value_rank[None, :] - rank[:, None]) + np.abs(expected[None, :] - ones[:, None]) / ones_scale
    assign = linear_sum_assignment(prior)[1]
    encoded = _dice(filters, filters)
    plain = _dice(candidates, candidates)
    off = ~np.eye(k, dtype=bool)
    for _ in range(sweeps):
        fitted = plain[np.ix_(assign, assign)][off]
        slope, intercept = np.polyfit(fitted, encoded[off], 1) if fitted.std() > 0 else (1.0, 0.0)
        changed = False
        for i in range(k):
            others = np.delete(np.arange(k), i)
            # error of every candidate for filter i against the current assignment of the rest
            predicted = intercept + slope * plain[:, assign[others]]  # (m, k-1)
            error = np.abs(predicted - encoded[i, others]).mean(axis=1) * k + prior[i]
            best = int(np.argmin(error))
            if best != assign[i] and error[best] < error[assign[i]] - 1e-9:
                holder = np.flatnonzero(assign == best)
                if holder.size:
                    assign[holder[0]] = assign[i]
                assign[i] = best
                changed = True
        if not changed:
            break
    return assign


def _extend_by_anchors(anchor_filters: np.ndarray, anchor_values: np.ndarray, filters: np.ndarray,
                       candidates: np.ndarray, margin: float = 0.8, chunk: int = 64) -> np.ndarray:
    """Assign further filters to candidate values by their similarity to filters already
    identified (the anchors): a filter's Dice similarities to the anchors are a fingerprint
    that the right value's bigram similarities to the anchors' values reproduce (graph matching
    with anchor nodes, after Vidanage et al. 2020). A filter is assigned only when its best
    candidate fits clearly better than the second best (cost ratio below ``margin``) and no
    worse than the anchors fit their own values; the others get -1. All inputs are 0/1
    matrices; returns a candidate index per filter."""
    known_encoded = _dice(anchor_filters, anchor_filters)
    known_plain = _dice(anchor_values, anchor_values)
    off = ~np.eye(len(anchor_filters), dtype=bool)
    slope, intercept = np.polyfit(known_plain[off], known_encoded[off], 1)
    predicted = (intercept + slope * _dice(candidates, anchor_values)).astype(np.float32)  # (candidates, anchors)
    own = np.where(off, np.abs(intercept + slope * known_plain - known_encoded), 0).sum(axis=1) / max(off.sum(1).max(), 1)
    ceiling = float(np.quantile(own, 0.95)) * 1.5
    encoded = _dice(filters, anchor_filters).astype(np.float32)  # (filters, anchors)
    out = np.full(len(filters), -1, dtype=np.int64)
    for start in range(0, len(filters), chunk):
        cost = np.abs(predicted[None, :, :] - encoded[start : start + chunk, None, :]).mean(axis=2)
        if cost.shape[1] < 2:
            continue
        two = np.partition(cost, 1, axis=1)[:, :2]
        clear = (two[:, 0] < margin * two[:, 1]) & (two[:, 0] <= ceiling)
        out[start : start + chunk] = np.where(clear, np.argmin(cost, axis=1), -1)
    return out


def _learn_positions(bits: np.ndarray, aligned_rows: np.ndarray, aligned_members: np.ndarray,
                     present_share: float, absent_share: float, min_values: int) -> dict[int, np.ndarray]:
    """Bit positions per bigram from filters whose value is believed known: a position belongs
    to a bigram when it is set in (almost) every such filter whose value holds the bigram and
    in few of those whose value does not (other bigrams set it by chance). A position that
    qualifies for several bigrams (two that often occur together) goes to the one it separates
    best."""
    sample = bits[aligned_rows].astype(np.float32)  # (aligned, bits)
    holds = aligned_members > 0  # (aligned, grams)
    n_with = holds.sum(axis=0)
    set_with = (holds.T.astype(np.float32) @ sample) / np.maximum(n_with, 1)[:, None]  # (grams, bits)
    set_without = ((~holds).T.astype(np.float32) @ sample) / np.maximum(len(sample) - n_with, 1)[:, None]
    qualifies = (set_with >= present_share) & (set_without <= absent_share) & (n_with >= min_values)[:, None]
    separation = np.where(qualifies, set_with - set_without, -np.inf)
    owner = np.argmax(separation, axis=0)
    out: dict[int, np.ndarray] = {}
    for gram in np.flatnonzero(qualifies.any(axis=1)):
        positions = np.flatnonzero(qualifies[gram] & (owner == gram))
        if positions.size >= 4:
            out[int(gram)] = positions
    return out


def bigram_attack(codes: Iterable[str | None], known: dict[str, float], seeds: int = 30, max_anchors: int = 400,
                  margin: float = 0.8, present_share: float = 0.9, absent_share: float = 0.5,
                  min_values: int = 3, hashes: int = 8) -> tuple[dict[str, str], dict]:
    """Re-identify Bloom filters through the bigram structure they keep: filters of values that
    share bigrams share bits (Christen et al. 2017-2019; Vidanage et al. 2020).

    1. seeds: the ``seeds`` most frequent filters, aligned with the most frequent public values
       by rank and by the number of bits set, the alignment corrected by the similarity
       structure (:func:`_seed_alignment`); ``hashes`` (bits per bigram) is public;
    2. graph matching: every other filter, most frequent first, is matched to the public value
       whose bigram similarities to the values identified so far reproduce its Dice
       similarities to their filters (:func:`_extend_by_anchors`); identified filters become
       anchors in turn (up to ``max_anchors``), so unique filters are reached too;
    3. pattern mining: from all identified filters the bit positions of each bigram are learnt
       (set whenever the value holds the bigram, rarely otherwise) — what a pattern-mining
       attack recovers — and reported.

    Returns the guesses (code -> value) and the bigrams whose positions were learnt.
    """
    counts = Counter(c for c in codes if c)
    if not counts or not known:
        return {}, {"bigrams_identified": 0, "positions": {}}
    distinct = sorted(counts, key=lambda c: (-counts[c], c))
    values = sorted(known, key=lambda v: (-known[v], v))
    grams = sorted(set().union(*(bigrams(v) for v in values)))
    index = {g: i for i, g in enumerate(grams)}
    member = np.zeros((len(values), len(grams)), dtype=np.float32)
    for i, v in enumerate(values):
        member[i, [index[g] for g in bigrams(v)]] = 1.0
    bits = _bits(distinct).astype(np.float32)
    k = min(seeds, len(distinct), len(values))
    pool = min(3 * k, len(values))
    assign = _seed_alignment(bits[:k], np.array([counts[c] for c in distinct[:k]], dtype=float), member[:pool], hashes)
    identified = dict(zip(range(k), assign.tolist()))  # filter row -> value index
    for start in range(k, len(distinct), 2000):
        rows = np.array(sorted(identified), dtype=np.int64)[:max_anchors]
        taken = _extend_by_anchors(bits[rows], member[[identified[r] for r in rows]], bits[start : start + 2000],
                                   member, margin)
        identified.update({start + i: int(v) for i, v in enumerate(taken) if v >= 0})
    guesses = {distinct[r]: values[v] for r, v in identified.items()}
    rows = np.array(sorted(identified), dtype=np.int64)
    positions = _learn_positions(bits, rows, member[[identified[r] for r in rows]], present_share, absent_share,
                                 min_values)
    return guesses, {"bigrams_identified": len(positions),
                     "positions": {grams[g]: p.tolist() for g, p in sorted(positions.items())}}


@dataclass(frozen=True)
class AttackResult:
    guesses: int
    correct: int
    distinct_codes: int
    records: int
    records_reidentified: int

    @property
    def share_codes(self) -> float:
        return self.correct / self.distinct_codes if self.distinct_codes else 0.0

    @property
    def share_records(self) -> float:
        return self.records_reidentified / self.records if self.records else 0.0

    def as_dict(self) -> dict:
        return {"guesses": self.guesses, "correct": self.correct, "wrong": self.guesses - self.correct,
                "distinct_codes": self.distinct_codes, "share_codes_reidentified": round(self.share_codes, 4),
                "records": self.records, "records_reidentified": self.records_reidentified,
                "share_records_reidentified": round(self.share_records, 4)}


def score_guesses(guesses: dict[str, str], codes: Sequence[str | None], truth: Sequence[str | None]) -> AttackResult:
    """Count the guesses that are right: a guess for a code is right when the records with
    that code hold that plain value (for a code shared by several values, the majority's).

    >>> score_guesses({"c1": "jong", "c2": "vries"}, ["c1", "c1", "c2", "c3"], ["jong", "jong", "bakker", "smit"]).as_dict()["correct"]
    1
    """
    per_code: dict[str, Counter] = {}
    for code, value in zip(codes, truth):
        if code:
            per_code.setdefault(code, Counter())[value] += 1
    correct = {c for c, v in guesses.items() if c in per_code and per_code[c].most_common(1)[0][0] == v}
    records = sum(sum(c.values()) for c in per_code.values())
    reidentified = sum(per_code[c][guesses[c]] for c in correct)
    return AttackResult(len(guesses), len(correct), len(per_code), records, reidentified)
