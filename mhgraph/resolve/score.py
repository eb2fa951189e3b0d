"""Scoring: a match probability for every compared pair, with scikit-learn-shaped models.

Each comparison's value is cut into discrete levels (``levels`` thresholds, high to low;
NaN is its own level that weighs nothing). Two additive models weigh the levels:

* :class:`FellegiSunter` — unsupervised: m- and u-probabilities of every level and the match
  prior are fitted by expectation-maximisation on the compared pairs plus a sample of random
  pairs (no labels at all);
* :class:`LogisticScorer` — supervised by free labels: pairs where both mentions carry an
  identifier (a pseudonymised BSN) are matches when it agrees and non-matches when it differs.
  The identifier itself is never a model input; the model learns how much name, date and
  relational similarity means "same person" for the pairs that lack it.

Both express every level as a weight in bits (log2 odds), so that the score of a pair is the
prior weight plus the weights of its levels — readable field by field by :mod:`explain`.
Both are fitted under one constraint, *monotonic evidence*: for every comparison a more similar
level never weighs less than a less similar one (an identical family name never counts against
a match). Where the data alone would pull the other way — the labelled pairs are those that
blocking proposed, and relatives with one family name are most of its non-matches — the weights
are held level instead, the fitted model records the unconstrained weights in ``inverted_`` and a
warning is logged.
:class:`RuleScorer` covers types where only stated rules may merge (companies).
Models are saved as plain JSON (:func:`scorer_to_dict` / :func:`scorer_from_dict`).

>>> import polars as pl
>>> features = pl.DataFrame({"name": [1.0, 0.95, 0.3, 0.2, 1.0, 0.25] * 20,
...                          "label": [1.0, 1.0, 0.0, 0.0, 1.0, 0.0] * 20})
>>> model = LogisticScorer({"name": (1.0, 0.9, 0.5)}, label_column="label").fit(features)
>>> model.predict_proba(pl.DataFrame({"name": [1.0, 0.1]}))[:, 1].round(2).tolist()
[0.97, 0.05]
"""

from __future__ import annotations

import logging
import math

import numpy as np
import polars as pl

from mhgraph.resolve.settings import LOGISTIC_PATTERN_LIMIT, EntitySettings

__all__ = [
    "FellegiSunter",
    "LogisticScorer",
    "RuleScorer",
    "floor_unrelated",
    "level_labels",
    "levels_of",
    "make_scorer",
    "match_counts_judged_by_others",
    "pool_adjacent_violators",
    "scorer_from_dict",
    "scorer_to_dict",
]

log = logging.getLogger("mhgraph.resolve.score")

_LN2 = math.log(2.0)
# Differences in bits below this are noise, not an inversion worth a warning.
_INVERSION_TOLERANCE_BITS = 0.05


def levels_of(values: np.ndarray, thresholds) -> np.ndarray:
    """Level of each value: 0 for at or above the first threshold, ... ``len(thresholds)``
    below the last; -1 for NaN.

    >>> levels_of(np.array([1.0, 0.93, 0.2, np.nan]), (1.0, 0.9)).tolist()
    [0, 1, 2, -1]
    """
    out = np.full(len(values), len(thresholds), dtype=np.int8)
    for j in range(len(thresholds) - 1, -1, -1):
        out[values >= thresholds[j]] = j
    out[np.isnan(values)] = -1
    return out


def level_labels(thresholds) -> list[str]:
    """Readable names of the levels, best first: ``['>= 1.0', '>= 0.9', '< 0.9']``."""
    return [f">= {t}" for t in thresholds] + [f"< {thresholds[-1]}"]


def pool_adjacent_violators(m: np.ndarray, u: np.ndarray) -> np.ndarray:
    """m-probabilities with adjacent levels pooled so that the ratio m/u never rises from a
    more similar level (first) to a less similar one; ``u`` and the total of ``m`` stay as they are.

    Within a pooled run of levels every level gets the run's ratio ``sum(m) / sum(u)`` (the
    isotonic regression of m/u weighted by u), so their weights in bits are equal.

    >>> pool_adjacent_violators(np.array([0.5, 0.1, 0.3, 0.1]), np.array([0.1, 0.2, 0.2, 0.5])).round(3).tolist()
    [0.5, 0.2, 0.2, 0.1]
    """
    runs: list[list] = []  # [m total, u total, first level, last level]
    for level, (m_level, u_level) in enumerate(zip(m, u)):
        runs.append([m_level, u_level, level, level])
        while len(runs) > 1 and runs[-2][0] * runs[-1][1] < runs[-1][0] * runs[-2][1]:
            m_last, u_last, _, last = runs.pop()
            runs[-1][0] += m_last
            runs[-1][1] += u_last
            runs[-1][3] = last
    pooled = np.array(m, dtype=float)
    for m_total, u_total, first, last in runs:
        pooled[first : last + 1] = u[first : last + 1] * (m_total / u_total)
    return pooled


def _column(features: pl.DataFrame, name: str) -> np.ndarray:
    if name not in features.columns:
        return np.full(features.height, np.nan)
    return features[name].cast(pl.Float64).fill_null(np.nan).to_numpy()


class _Additive:
    """Shared by the two weighing models: levels in, bits out."""

    comparisons: dict[str, tuple[float, ...]]

    def _levels(self, features: pl.DataFrame) -> dict[str, np.ndarray]:
        return {name: levels_of(_column(features, name), tuple(t)) for name, t in self.comparisons.items()}

    def _weight(self, features: pl.DataFrame, name: str) -> np.ndarray:
        """Weight in bits of comparison ``name`` per pair (0 where the value is NaN)."""
        weights = np.append(np.asarray(self.weights_[name], dtype=float), 0.0)  # index -1 -> 0
        return weights[levels_of(_column(features, name), tuple(self.comparisons[name]))]

    def _weights(self, features: pl.DataFrame) -> dict[str, np.ndarray]:
        """Weight in bits per comparison and pair (0 where the value is NaN)."""
        return {name: self._weight(features, name) for name in self.comparisons}

    def contributions(self, features: pl.DataFrame) -> pl.DataFrame:
        """Weight in bits that each comparison adds to each pair (0 where the value is NaN)."""
        return pl.DataFrame(self._weights(features), schema={name: pl.Float64 for name in self.comparisons})

    def decision_function(self, features: pl.DataFrame) -> np.ndarray:
        """Total weight in bits: prior weight plus the weight of every comparison."""
        total = np.full(features.height, float(self.prior_weight_))
        for name in self.comparisons:  # one comparison's weights at a time: millions of pairs times each is large
            total += self._weight(features, name)
        return total

    def match_probability(self, features: pl.DataFrame) -> np.ndarray:
        """Probability of a match per pair (the second column of :meth:`predict_proba`),
        ``1 / (1 + exp(-bits * ln 2))``, worked out in place in the fresh array that
        :meth:`decision_function` returns (``features`` is left as it is): at tens of millions of
        pairs each temporary array of the formula, and the two columns, are hundreds of MB.

        >>> model = scorer_from_dict({"model": "LogisticScorer", "params": {"comparisons": {"name": [1.0]}},
        ...                           "fitted": {"weights_": {"name": [3.0, -2.0]}, "prior_weight_": -1.0}})
        >>> model.match_probability(pl.DataFrame({"name": [1.0, 0.2, None]})).round(3).tolist()
        [0.8, 0.111, 0.333]
        """
        probability = self.decision_function(features)
        probability *= _LN2
        np.clip(probability, -700, 700, out=probability)
        np.negative(probability, out=probability)
        np.exp(probability, out=probability)
        probability += 1.0
        return np.divide(1.0, probability, out=probability)

    def predict_proba(self, features: pl.DataFrame) -> np.ndarray:
        """``(n, 2)``: probability of non-match and of match, like scikit-learn."""
        match = self.match_probability(features)
        return np.column_stack([1.0 - match, match])

    def _inversions(self, unconstrained: dict[str, np.ndarray]) -> dict[str, list[float]]:
        """The comparisons whose ``unconstrained`` weights (bits per level, best first) give a
        less similar level more weight than a more similar one. Each is logged (INFO: it is a
        property of the training data, kept in the model as ``inverted_``, not a failure)."""
        inverted = {}
        for name, weights in unconstrained.items():
            highest_below = np.maximum.accumulate(weights[::-1])[::-1][1:]  # most weight further down
            gap = highest_below - weights[:-1]
            if len(gap) and gap.max() > _INVERSION_TOLERANCE_BITS:
                better = int(np.argmax(gap))
                worse = better + 1 + int(np.argmax(weights[better + 1 :]))
                labels = level_labels(self.comparisons[name])
                log.info("%s: without the monotonic constraint the data would weigh level '%s' %.2f bits above "
                            "level '%s'; the fitted weights hold them level instead", name, labels[worse],
                            gap[better], labels[better])
                inverted[name] = weights.tolist()
        return inverted


# Bounds on the match prior, as expected true pairs per mention: outside them the estimate says
# more about a broken model than about the data (fewer than one duplicate in ten thousand
# mentions, or every mention with a hundred others of the same entity).
PRIOR_BOUNDS_PER_MENTION = (1e-4, 100.0)
# Largest change of any weight (bits) or of the prior weight at which EM counts as converged.
_CONVERGED_BITS = 1e-3


_NO_FREQUENCY = 1  # the code of "no term frequency": log2 of a frequency is never above 0
_STEPS_PER_BIT = 4  # term frequencies enter EM rounded to a quarter bit, so that pairs group into patterns


def _sigmoid(log_odds: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))


def match_counts_judged_by_others(counted: np.ndarray, judged: np.ndarray, u_counts: np.ndarray) -> np.ndarray:
    """Expected matches per level of one comparison (most similar first, least similar ``K``
    last), with the matches above level ``K`` spread over the levels as the *other* comparisons
    see them.

    EM counts a pair towards a level's m by its match probability (``counted``), which the
    level's own weight pulls down: a level rare among matches (a date of birth with the month
    rewritten) weighs strongly against, so its pairs count little, so its m stays low. The other
    comparisons judge those pairs without that circle (``judged``: each level's pairs weighted
    by the match probability of every comparison but this one). Under the model's own
    independence of comparisons among matches, ``judged`` is spread over the levels like the
    matches are, whatever the other comparisons' strength. But the others also call matches
    the non-matches that agree on everything else (namesakes), which the levels' own evidence
    refuses; they show at level ``K``, where true matches are rarest:

        E   = max(judged[K] - counted[K], 0)         namesakes the others call matches
        c_k = E · u_k / u_K                          of them at level k (spread like non-matches)
        n_k = max(judged[k] - c_k - 2·sqrt(judged[k]), 0)                for k < K
        out[k] = n_k / sum(n) · sum(counted[:K])  for k < K;   out[K] = counted[K]

    So EM keeps the total of the levels above ``K`` and the count of ``K`` itself; only their
    spread comes from the other comparisons. ``2·sqrt(judged[k])`` (two standard deviations of
    a count) keeps an excess that namesakes alone could make (blocking picks namesakes with near
    dates more often than ``u`` says) from counting: a register where only namesakes have
    near-miss dates keeps its near-miss levels at almost no m. Where non-matches never reach
    level ``K`` (``u_K = 0``) nothing says how namesakes spread, and none are taken off.

    >>> match_counts_judged_by_others(np.array([900.0, 10.0, 0.5]), np.array([400.0, 100.0, 20.5]),
    ...                               np.array([1.0, 50.0, 950.0])).round(1).tolist()
    [746.3, 163.7, 0.5]
    """
    excess = max(judged[-1] - counted[-1], 0.0)
    namesakes = excess * u_counts[:-1] / u_counts[-1] if u_counts[-1] > 0 else np.zeros(len(u_counts) - 1)
    spread = np.maximum(judged[:-1] - namesakes - 2.0 * np.sqrt(judged[:-1]), 0.0)
    out = counted.astype(float)
    if spread.sum() > 0:
        out[:-1] = spread / spread.sum() * counted[:-1].sum()
    return out


def floor_unrelated(m: np.ndarray, u: np.ndarray, share: float) -> np.ndarray:
    """m-probabilities raised to at least ``share · u`` per level, the other levels scaled down
    to keep the total 1: so that no level weighs below ``log2(share)`` bits.

    A ``share`` of true pairs may carry a value unrelated to the other record's (a marriage
    name, a transliteration, a name in the wrong field), which reaches each level as often as
    a stranger's does. EM cannot see that share at the least similar level: a pair there
    counts towards its m by its match probability, which that level's own weight pulls down,
    until the level weighs like proof against (m near 0, -15 bits where the true pairs show 1%).

    >>> floor_unrelated(np.array([0.9, 0.1, 0.0]), np.array([0.01, 0.09, 0.9]), 0.02).round(3).tolist()
    [0.884, 0.098, 0.018]
    """
    low = m < share * u
    if not low.any():
        return m
    out = np.where(low, share * u, m)
    rest = 1.0 - out[low].sum()
    out[~low] *= rest / m[~low].sum()
    return out


def _pattern_table(levels: dict[str, np.ndarray], frequencies: list[np.ndarray],
                   commonness: tuple[np.ndarray, ...] = (), weights: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of levels (one column per comparison) followed by the rounded log2 of
    the agreed value's frequency (one column per term-frequency comparison) and of its
    commonness (one column per comparison with common values; 0 where it has none), and how
    often each row occurs (the sum of the rows' ``weights``, when given)."""
    def rounded_log(values: np.ndarray, missing: int) -> np.ndarray:
        code = np.full(len(values), missing, dtype=np.int16)
        known = values > 0
        code[known] = np.round(np.log2(values[known]) * _STEPS_PER_BIT).astype(np.int16)
        return code

    columns = [v.astype(np.int16) for v in levels.values()]
    columns += [rounded_log(frequency, _NO_FREQUENCY) for frequency in frequencies]
    columns += [rounded_log(common, 0) for common in commonness]
    if not columns:
        return np.zeros((1, 0), dtype=np.int16), np.array([0.0])
    # a hash group-by: numpy's row-wise unique sorts every row, minutes on millions of pairs
    table = pl.DataFrame({str(i): c for i, c in enumerate(columns)})
    keys = table.columns
    counted = (table.group_by(keys).len() if weights is None
               else table.with_columns(len=weights).group_by(keys).agg(pl.col("len").sum()))
    grouped = counted.sort(keys)
    return grouped.drop("len").to_numpy().astype(np.int16), grouped["len"].to_numpy().astype(float)


class FellegiSunter(_Additive):
    """Fellegi-Sunter model fitted by EM without labels, calibrated on the whole population of pairs.

    Parameters: ``comparisons`` (feature name -> level thresholds), ``max_iter``, ``tol``
    (EM stops when no weight and not the prior weight moves by more than ``tol`` bits),
    ``pseudo_count``, ``term_frequency`` (comparisons whose exact agreement weighs by the
    frequency of the agreed value, read from the column ``NAME_tf``), ``common_values``
    (comparisons whose exact agreement weighs ``log2`` of the agreed value's commonness less
    than the level, read from the column ``NAME_common``).

    ``fit(features, background, population)``: ``features`` are the compared (candidate) pairs,
    ``background`` a uniform sample of the *other* pairs of the population (pairs no blocking
    rule proposed), ``population`` how many pairs the population holds in all. Each background
    pair stands for ``(population - candidates) / background`` pairs. EM then fits one mixture
    to the whole population, by that stratified sample:

    * ``u`` (how often non-matches reach each level) comes from everything EM calls a
      non-match, in practice from the random pairs: a date of birth years apart is what random
      pairs show, so it weighs strongly against a match;
    * ``m`` comes from the candidate pairs only (a random pair that happens to look like a
      match would stand for thousands of pairs and swamp it); above each comparison's least
      similar level it is spread as the other comparisons judge the pairs, less what
      namesakes explain (:func:`match_counts_judged_by_others`), so that a level rare among
      matches is not starved by its own weight;
    * the prior ``λ`` is the expected number of matches in the population — among the
      candidates, and among the other pairs as the random pairs stand for them (the true pairs
      that blocking missed) — divided by the population: the chance that two mentions drawn at
      random are one entity, kept within :data:`PRIOR_BOUNDS_PER_MENTION`.

    Because the non-match class is the whole population, candidates that agree on the blocked
    field (one family name) but on nothing else are non-matches, as they should be; with a
    prior taken among the candidates they were the match class.

    Fitted: ``m_``, ``u_`` (per comparison, per level), ``prior_`` (λ), ``prior_weight_`` (bits),
    ``weights_`` (bits per level), ``population_``, ``n_background_``, ``expected_matches_``
    (among the candidates), ``expected_unproposed_matches_`` (among the other pairs), ``n_iter_``,
    ``converged_``, ``log_likelihood_``, ``prior_bounded_`` ("" or why the bound applied),
    ``inverted_``.
    """

    def __init__(self, comparisons: dict, max_iter: int = 200, tol: float = _CONVERGED_BITS,
                 pseudo_count: float = 1.0, term_frequency=(), unrelated_share=None, common_values=()):
        self.comparisons = comparisons
        self.max_iter = max_iter
        self.tol = tol
        self.pseudo_count = pseudo_count
        self.term_frequency = tuple(term_frequency)
        self.common_values = tuple(common_values)
        self.unrelated_share = dict(unrelated_share or {})

    def _m_step(self, candidates, match, non_match, background, background_non_match, u_pseudo, monotonic=True,
                by_others=None):
        """m from the candidates weighted by their match probability, u from candidates and
        background weighted by their non-match probability."""
        m, u = {}, {}
        for j, name in enumerate(self.comparisons):
            size = len(self.comparisons[name]) + 1
            level = candidates[:, j]
            seen = level >= 0
            m_counts = np.bincount(level[seen], weights=match[seen], minlength=size)
            u_counts = np.bincount(level[seen], weights=non_match[seen], minlength=size) + u_pseudo
            if background is not None:
                level_b = background[:, j]
                seen_b = level_b >= 0
                u_counts += np.bincount(level_b[seen_b], weights=background_non_match[seen_b], minlength=size)
            if by_others is not None:
                judged = np.bincount(level[seen], weights=by_others[seen, j], minlength=size)
                m_counts = match_counts_judged_by_others(m_counts, judged, u_counts)
            m_counts = m_counts + self.pseudo_count
            m[name], u[name] = m_counts / m_counts.sum(), u_counts / u_counts.sum()
            if self.unrelated_share.get(name):
                m[name] = floor_unrelated(m[name], u[name], self.unrelated_share[name])
            if monotonic:
                m[name] = pool_adjacent_violators(m[name], u[name])
        return m, u

    def _frequency_columns(self) -> dict[str, int]:
        """Comparison name -> column of its rounded log frequency in the pattern table."""
        names = [n for n in self.term_frequency if n in self.comparisons]
        return {name: len(self.comparisons) + i for i, name in enumerate(names)}

    def _commonness_columns(self) -> dict[str, int]:
        """Comparison name -> column of its rounded log commonness in the pattern table (after
        the frequencies)."""
        names = [n for n in self.common_values if n in self.comparisons]
        first = len(self.comparisons) + len(self._frequency_columns())
        return {name: first + i for i, name in enumerate(names)}

    def _patterns(self, features: pl.DataFrame, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:func:`_pattern_table` of ``features``."""
        return _pattern_table(self._levels(features), [_column(features, f"{n}_tf") for n in self._frequency_columns()],
                              tuple(_column(features, f"{n}_common") for n in self._commonness_columns()), weights)

    def _log_u(self, patterns: np.ndarray, u: dict) -> list[np.ndarray]:
        """Natural log of u per comparison and pattern (0 where missing); exact agreement on a
        term-frequency comparison takes the frequency of the agreed value, and on a comparison
        with ``common_values`` the level's u times the agreed value's commonness."""
        extra, common = self._frequency_columns(), self._commonness_columns()
        out = []
        for j, name in enumerate(self.comparisons):
            log_u = np.append(np.log(u[name]), 0.0)[patterns[:, j]]
            if name in extra:
                code = patterns[:, extra[name]]
                exact = (patterns[:, j] == 0) & (code != _NO_FREQUENCY)
                log_u[exact] = code[exact] / _STEPS_PER_BIT * _LN2
            if name in common:
                exact = patterns[:, j] == 0
                log_u[exact] = np.minimum(log_u[exact] + patterns[exact, common[name]] / _STEPS_PER_BIT * _LN2, 0.0)
            out.append(log_u)
        return out

    def _log_odds(self, patterns: np.ndarray, m: dict, u: dict, prior: float) -> np.ndarray:
        return self._evidence(patterns, m, u, prior).sum(axis=1)

    def _evidence(self, patterns: np.ndarray, m: dict, u: dict, prior: float) -> np.ndarray:
        """Natural log odds per pattern: the prior's in the first column, then each comparison's."""
        out = np.empty((len(patterns), len(self.comparisons) + 1))
        out[:, 0] = math.log(prior / (1.0 - prior))
        for j, (name, log_u) in enumerate(zip(self.comparisons, self._log_u(patterns, u))):
            level = patterns[:, j]
            weight = np.append(np.log(m[name]), 0.0)[level] - log_u
            weight[level == 0] = np.maximum(weight[level == 0], 0.0)  # however common, agreement is no evidence against
            out[:, j + 1] = weight
        return out

    def fit(self, features: pl.DataFrame, background: pl.DataFrame | None = None,
            population: int | None = None, weights: np.ndarray | None = None) -> FellegiSunter:
        """Fit on the compared pairs ``features``, the random other pairs ``background`` and
        the number of pairs in the ``population`` (default: the pairs given). ``weights``: how
        many candidate pairs each of ``features`` stands for (default 1 each; a sample's
        inverse-probability weights, :mod:`mhgraph.resolve.conflict_sample`)."""
        if features.height == 0:
            raise ValueError("no pairs to fit on")
        if self.max_iter < 1:
            raise ValueError(f"max_iter must be at least 1 EM iteration, got {self.max_iter}")
        candidates, counts = self._patterns(features, weights)
        n_candidates = float(counts.sum())  # the candidate pairs the features stand for
        extra = background is not None and background.height > 0
        strangers, stranger_counts = self._patterns(background) if extra else (None, None)
        n_background = background.height if extra else 0
        population = int(population or round(n_candidates) + n_background)
        stand_for = max(population - n_candidates, n_background) / n_background if extra else 0.0
        if extra:
            stranger_counts = stranger_counts * stand_for
        u_pseudo = stand_for if extra else self.pseudo_count
        units = (1.0 + math.sqrt(1.0 + 8.0 * population)) / 2.0  # n mentions give n(n-1)/2 pairs
        low, high = (b * units / 2.0 / population for b in PRIOR_BOUNDS_PER_MENTION)
        high = min(high, 0.5)
        # start: candidates whose observed comparisons mostly sit at the top level are matches
        k = len(self.comparisons)
        top = (candidates[:, :k] == 0).sum(axis=1)
        seen = (candidates[:, :k] >= 0).sum(axis=1)
        match = np.where((top >= 0.6 * seen) & (seen >= 2), 0.9, 0.05)
        strangers_match = np.zeros(len(stranger_counts)) if extra else None
        weights_before, moved = None, math.inf
        self.converged_ = False
        self.n_iter_ = 0
        for iteration in range(1, self.max_iter + 1):
            m, u = self._m_step(candidates, counts * match, counts * (1 - match), strangers,
                                stranger_counts * (1 - strangers_match) if extra else None, u_pseudo,
                                by_others=counts[:, None] * match_by_others if iteration > 1 else None)
            unproposed = float((stranger_counts * strangers_match).sum()) if extra else 0.0
            prior = float(np.clip(((counts * match).sum() + unproposed) / population, low, high))
            evidence = self._evidence(candidates, m, u, prior)
            odds = evidence.sum(axis=1)
            match = _sigmoid(odds)
            # each comparison's m from the candidates as the OTHER comparisons judge them
            match_by_others = _sigmoid(odds[:, None] - evidence[:, 1:])
            if extra:
                strangers_match = _sigmoid(self._log_odds(strangers, m, u, prior))
            weights_now = np.concatenate([[math.log2(prior)]] + [np.log2(m[k] / u[k]) for k in m])
            self.n_iter_ = iteration
            if weights_before is not None:
                moved = float(np.abs(weights_now - weights_before).max())
            if moved < self.tol:
                self.converged_ = True
                break
            weights_before = weights_now
        if not self.converged_:
            log.warning("Fellegi-Sunter: EM did not converge in %d iterations (weights still moving by %.3g bits)",
                        self.max_iter, moved)
        raw_m, raw_u = self._m_step(candidates, counts * match, counts * (1 - match), strangers,
                                    stranger_counts * (1 - strangers_match) if extra else None, u_pseudo,
                                    monotonic=False, by_others=counts[:, None] * match_by_others)
        self.inverted_ = self._inversions({k: np.log2(raw_m[k]) - np.log2(raw_u[k]) for k in raw_m})
        expected = float((counts * match).sum())
        unproposed = float((stranger_counts * strangers_match).sum()) if extra else 0.0
        self.prior_bounded_ = ""
        if not low <= (expected + unproposed) / population <= high:
            per_mention = (expected + unproposed) / units * 2
            self.prior_bounded_ = (f"the data put {per_mention:.4g} true pairs per mention; bounded to "
                                   f"{PRIOR_BOUNDS_PER_MENTION[0]:g}–{PRIOR_BOUNDS_PER_MENTION[1]:g}")
            log.warning("Fellegi-Sunter: %s", self.prior_bounded_)
        self.m_ = {k: v.tolist() for k, v in m.items()}
        self.u_ = {k: v.tolist() for k, v in u.items()}
        self.prior_ = prior
        self.prior_weight_ = math.log2(prior / (1.0 - prior))
        self.weights_ = {k: (np.log2(m[k]) - np.log2(u[k])).tolist() for k in m}
        self.population_ = population
        self.n_background_ = n_background
        self.expected_matches_ = expected
        self.expected_unproposed_matches_ = unproposed
        self.log_likelihood_ = float(self._log_likelihood(candidates, counts, m, u, prior)
                                     + (self._log_likelihood(strangers, stranger_counts, m, u, prior) if extra else 0.0))
        log.info("Fellegi-Sunter: %d candidate and %d random pairs standing for %d pairs; %s after %d iterations; "
                 "prior %.3g (%.1f expected matches among the candidates, %.1f among the other pairs)",
                 round(n_candidates), n_background, population, "converged" if self.converged_ else "NOT converged",
                 self.n_iter_, prior, expected, unproposed)
        return self

    def _log_likelihood(self, patterns, counts, m, u, prior) -> float:
        log_m = np.zeros(len(patterns))
        for j, name in enumerate(self.comparisons):
            log_m += np.append(np.log(m[name]), 0.0)[patterns[:, j]]
        log_u = np.sum(self._log_u(patterns, u), axis=0)
        return float((counts * np.logaddexp(math.log(prior) + log_m, math.log(1 - prior) + log_u)).sum())

    def _weight(self, features: pl.DataFrame, name: str) -> np.ndarray:
        """Weight in bits of comparison ``name`` per pair; exact agreement on a comparison with
        ``term_frequency`` weighs ``log2(m / frequency of the agreed value)`` instead of
        ``log2(m / u)`` — less for a common value than a near-agreement does on average, but
        never below 0: an identical name never counts against a match. On a comparison with
        ``common_values`` exact agreement weighs ``log2(commonness)`` less than its level (a date
        of birth held by eight times as many people as a typical date: 3 bits less), never
        below 0 either."""
        out = super()._weight(features, name)
        if name in self.term_frequency:
            frequency = _column(features, f"{name}_tf")
            exact = (levels_of(_column(features, name), tuple(self.comparisons[name])) == 0) & (frequency > 0)
            if exact.any():
                out[exact] = np.maximum(np.log2(self.m_[name][0]) - np.log2(frequency[exact]), 0.0)
        if name in self.common_values:
            commonness = _column(features, f"{name}_common")
            exact = (levels_of(_column(features, name), tuple(self.comparisons[name])) == 0) & (commonness > 0)
            if exact.any():
                out[exact] = np.maximum(out[exact] - np.log2(commonness[exact]), 0.0)
        return out


class LogisticScorer(_Additive):
    """Logistic regression on comparison levels with monotonic evidence, trained on identifier labels.

    Parameters: ``comparisons`` (feature name -> level thresholds), ``label_column`` (1.0 =
    match, 0.0 = non-match, NaN = unlabelled; e.g. ``bsn_agree``), ``regularisation``
    (scikit-learn's ``C``: the inverse strength of the L2 penalty), ``max_iter``.
    Fitted: ``weights_`` (bits per level), ``prior_weight_`` (bits), ``n_labelled_``,
    ``n_matches_`` and ``inverted_`` (comparisons whose unconstrained fit would weigh a less
    similar level above a more similar one, with those weights in bits).

    Each comparison enters as a thermometer code of its ordered levels: one feature "observed"
    (its weight, free in sign, is that of the least similar level) and one feature "at least as
    similar as threshold k" for every threshold, whose coefficient is bounded below by 0. So a more
    similar level never lowers the match probability, and a missing value weighs 0. The penalised
    log-likelihood is maximised under these bounds (L-BFGS-B); the intercept is not penalised, so
    the mean probability equals the match share of the labelled pairs.
    """

    def __init__(self, comparisons: dict, label_column: str = "bsn_agree", regularisation: float = 1.0,
                 max_iter: int = 1000):
        self.comparisons = comparisons
        self.label_column = label_column
        self.regularisation = regularisation
        self.max_iter = max_iter

    def _thermometer(self, levels: dict[str, np.ndarray]) -> np.ndarray:
        blocks = []
        for name, level in levels.items():
            seen = level >= 0
            at_least = seen[:, None] & (level[:, None] <= np.arange(len(self.comparisons[name]))[None, :])
            blocks.append(np.column_stack([seen, at_least]))
        return np.hstack(blocks).astype(float)

    def _fit_coefficients(self, design: np.ndarray, pairs: np.ndarray, matches: np.ndarray,
                          monotonic: bool) -> np.ndarray:
        """Intercept and coefficients (natural log odds) maximising the L2-penalised likelihood of
        ``matches`` out of ``pairs`` for each distinct row of ``design``."""
        from scipy.optimize import minimize
        from scipy.special import expit
        from threadpoolctl import threadpool_limits

        total = pairs.sum()

        def loss(theta):
            z = theta[0] + design @ theta[1:]
            residual = pairs * expit(z) - matches
            value = (pairs * np.logaddexp(0.0, z) - matches * z).sum() + theta[1:] @ theta[1:] / (2 * self.regularisation)
            gradient = np.concatenate([[residual.sum()], design.T @ residual + theta[1:] / self.regularisation])
            return value / total, gradient / total

        bounds = [(None, None)]  # intercept
        for thresholds in self.comparisons.values():
            bounds += [(None, None)] + [(0.0 if monotonic else None, None)] * len(thresholds)
        # one BLAS thread: the problem is a few hundred patterns, and on a busy machine threads
        # waiting for each other made every iteration a thousand times slower
        with threadpool_limits(1):
            result = minimize(loss, np.zeros(design.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                              options={"maxiter": self.max_iter, "ftol": 1e-13, "gtol": 1e-9})
        if not result.success:
            log.warning("logistic scorer: the optimiser stopped before converging (%s)", result.message)
        return result.x

    def _level_weights(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Bits per level, best first, from the thermometer coefficients."""
        weights, start = {}, 1
        for name, thresholds in self.comparisons.items():
            observed, steps = theta[start], theta[start + 1 : start + 1 + len(thresholds)]
            above_worst = np.append(np.cumsum(steps[::-1])[::-1], 0.0)
            weights[name] = (observed + above_worst) / _LN2 + 0.0  # + 0.0: no '-0.00' in explanations
            start += 1 + len(thresholds)
        return weights

    def fit(self, features: pl.DataFrame, background: pl.DataFrame | None = None,
            weights: np.ndarray | None = None) -> LogisticScorer:
        """Fit on the labelled pairs among ``features`` (``background`` is not needed);
        ``weights``: how many pairs each stands for (default 1 each; a sample's
        inverse-probability weights, :mod:`mhgraph.resolve.conflict_sample`)."""
        label = _column(features, self.label_column)
        keep = ~np.isnan(label)
        y = label[keep]
        weight = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)[keep]
        if len(np.unique(y)) < 2:
            raise ValueError(f"{self.label_column}: labelled pairs of both classes are needed to train")
        # pairs with the same levels on every comparison are one row, weighted by their count; the
        # levels of the labelled pairs are the digits of one number per pair (level + 1 in base
        # levels + 2, the first comparison first: the numbers sort as the rows of levels do),
        # grouped on that number instead of on a dozen columns, which lays out every row at once
        bases = [len(thresholds) + 2 for thresholds in self.comparisons.values()]
        if math.prod(bases) >= LOGISTIC_PATTERN_LIMIT:  # refused with the settings already
            raise ValueError("too many comparisons and levels to number their patterns")
        code = np.zeros(len(y), dtype=np.int64)
        for (name, thresholds), base in zip(self.comparisons.items(), bases):
            code = code * base + levels_of(_column(features, name), tuple(thresholds))[keep] + 1
        grouped = (pl.DataFrame({"code": code, "y": y * weight, "weight": weight}).group_by("code")
                   .agg(pl.col("weight").sum().alias("pairs"), pl.col("y").sum().alias("matches")).sort("code"))
        del code
        digits = grouped["code"].to_numpy()
        patterns = np.empty((len(digits), len(bases)), dtype=np.int8)
        for i in reversed(range(len(bases))):
            digits, patterns[:, i] = np.divmod(digits, bases[i])
        patterns -= 1
        counts, matches = grouped["pairs"].to_numpy(), grouped["matches"].to_numpy().astype(float)
        design = self._thermometer({name: patterns[:, i] for i, name in enumerate(self.comparisons)})
        theta = self._fit_coefficients(design, counts.astype(float), matches, monotonic=True)
        free = self._fit_coefficients(design, counts.astype(float), matches, monotonic=False)
        self.weights_ = {name: weights.tolist() for name, weights in self._level_weights(theta).items()}
        self.prior_weight_ = float(theta[0] / _LN2)
        self.n_labelled_, self.n_matches_ = round(weight.sum()), round((weight * y).sum())
        self.inverted_ = self._inversions(self._level_weights(free))
        log.info("logistic scorer trained on %d labelled pairs (%d matches, %d distinct level patterns)",
                 self.n_labelled_, self.n_matches_, len(patterns))
        return self


class RuleScorer:
    """Match (probability 1) when all features of one rule reach their values, else 0.

    ``rules``: a sequence of ``{feature: minimum}`` mappings. Fitting learns nothing.

    >>> RuleScorer([{"name_dice": 0.9, "shared_address": 1.0}]).predict_proba(
    ...     pl.DataFrame({"name_dice": [0.95, 0.95], "shared_address": [1.0, float("nan")]}))[:, 1].tolist()
    [1.0, 0.0]
    """

    def __init__(self, rules=()):
        self.rules = rules

    def fit(self, features: pl.DataFrame, background: pl.DataFrame | None = None,
            weights: np.ndarray | None = None) -> RuleScorer:
        return self

    def fired(self, features: pl.DataFrame) -> np.ndarray:
        """Index of the first rule each pair satisfies, -1 for none."""
        out = np.full(features.height, -1)
        for i in range(len(self.rules) - 1, -1, -1):
            ok = np.ones(features.height, dtype=bool)
            for name, minimum in self.rules[i].items():
                ok &= _column(features, name) >= minimum  # NaN never satisfies a rule
            out[ok] = i
        return out

    def match_probability(self, features: pl.DataFrame) -> np.ndarray:
        """1.0 where a rule fires, else 0.0, in a fresh array (``features`` is left as it is).

        >>> RuleScorer([{"name_dice": 0.9}]).match_probability(pl.DataFrame({"name_dice": [0.95, 0.5, None]})).tolist()
        [1.0, 0.0, 0.0]
        """
        return (self.fired(features) >= 0).astype(float)

    def predict_proba(self, features: pl.DataFrame) -> np.ndarray:
        match = self.match_probability(features)
        return np.column_stack([1.0 - match, match])


_CLASSES = {cls.__name__: cls for cls in (FellegiSunter, LogisticScorer, RuleScorer)}
_PARAMS = {
    "FellegiSunter": ("comparisons", "max_iter", "tol", "pseudo_count", "term_frequency", "unrelated_share",
                      "common_values"),
    "LogisticScorer": ("comparisons", "label_column", "regularisation", "max_iter"),
    "RuleScorer": ("rules",),
}


def scorer_to_dict(scorer) -> dict:
    """Parameters and fitted values as plain JSON-ready data (no pickle)."""
    name = type(scorer).__name__
    params = {p: getattr(scorer, p) for p in _PARAMS[name]}
    if "comparisons" in params:
        params["comparisons"] = {k: list(v) for k, v in params["comparisons"].items()}
    if "rules" in params:
        params["rules"] = [dict(rule) for rule in params["rules"]]
    fitted = {k: v for k, v in vars(scorer).items() if k.endswith("_") and not k.startswith("_")}
    return {"model": name, "params": params, "fitted": fitted}


def scorer_from_dict(data: dict):
    """The scorer that :func:`scorer_to_dict` wrote."""
    scorer = _CLASSES[data["model"]](**data["params"])
    if "comparisons" in data["params"]:
        scorer.comparisons = {k: tuple(v) for k, v in data["params"]["comparisons"].items()}
    for key, value in data["fitted"].items():
        setattr(scorer, key, value)
    return scorer


def make_scorer(entity: EntitySettings, features: pl.DataFrame, weights: np.ndarray | None = None):
    """An unfitted scorer for one entity type, as its settings ask.

    ``auto`` picks :class:`LogisticScorer` when the first label key gives at least
    ``min_labelled_pairs`` matches and as many non-matches among ``features``, else
    :class:`FellegiSunter`; each pair counted ``weights`` times (default once), so that a
    sampled pair counts for those it stands for.
    """
    from mhgraph.resolve.compare import identifier_feature

    scoring = entity.scoring
    comparisons = {c.name: tuple(c.levels) for c in entity.comparisons}
    if scoring.method == "rules":
        return RuleScorer(tuple(scoring.rules))
    method = scoring.method
    label_column = identifier_feature(entity.label_keys[0]) if entity.label_keys else None
    if method == "auto":
        method = "fellegi_sunter"
        if label_column and label_column in features.columns:
            label = _column(features, label_column)
            weight = np.ones(len(label)) if weights is None else weights
            matches, non_matches = round(weight[label == 1.0].sum()), round(weight[label == 0.0].sum())
            if min(matches, non_matches) >= scoring.min_labelled_pairs:
                method = "logistic"
            log.info("%s: %d labelled matches, %d labelled non-matches: %s scorer", entity.entity_type,
                     matches, non_matches, method)
    if method == "logistic":
        if not label_column:
            raise ValueError(f"{entity.entity_type}: logistic scoring needs label_keys in the settings")
        return LogisticScorer(comparisons, label_column=label_column, regularisation=scoring.regularisation)
    return FellegiSunter(comparisons, max_iter=scoring.max_iter,
                         term_frequency=[c.name for c in entity.comparisons if c.term_frequency],
                         unrelated_share={c.name: c.unrelated_share for c in entity.comparisons if c.unrelated_share},
                         common_values=[c.name for c in entity.comparisons if c.common_values_over])
