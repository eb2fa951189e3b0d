"""The seeded, weighted sample of the pairs between two values of a conflict key
(mhgraph.resolve.conflict_sample): drawn the same for a seed, weighted so that the model and the
expected merges stay estimates of what all pairs give, and never merged."""

import dataclasses
import importlib
import logging
import re

import numpy as np
import polars as pl
import pytest
from resolve_helpers import frame, person_row, population, shipped_settings_changed

from mhgraph.errors import InputError
from mhgraph.resolve import FellegiSunter, LogisticScorer, default_settings, explain_match, load_settings, resolve
from mhgraph.resolve.cluster import COMPLETED, never_merged
from mhgraph.resolve.conflict_sample import drawn_pairs, expected_pairs_drawn, sample_rate
from mhgraph.resolve.diagnostics import expected_pairs

COMPARISONS = {"name": (1.0, 0.8, 0.5), "born": (1.0, 0.75)}


def _labelled_pairs(seed: int = 5, n: int = 40_000) -> tuple[pl.DataFrame, np.ndarray]:
    """Pairs like blocking's at scale: most between two different BSNs (label 0.0, the pairs to
    sample), some of one BSN (1.0), some without a label; and whether each is between two BSNs."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, size=n, p=[0.75, 0.15, 0.10])  # two BSNs, one BSN, unlabelled
    match = (kind == 1) | ((kind == 2) & (rng.random(n) < 0.4))
    name = np.where(match, rng.choice([1.0, 0.9, 0.6, 0.3], n, p=[0.7, 0.2, 0.07, 0.03]),
                    rng.choice([1.0, 0.9, 0.6, 0.3], n, p=[0.2, 0.2, 0.3, 0.3]))
    born = np.where(match, rng.choice([1.0, 0.8, 0.2], n, p=[0.85, 0.1, 0.05]),
                    rng.choice([1.0, 0.8, 0.2], n, p=[0.03, 0.17, 0.8]))
    label = np.where(kind == 0, 0.0, np.where(kind == 1, 1.0, np.nan))
    return pl.DataFrame({"name": name, "born": born, "bsn_agree": label}), kind == 0


def _sampled(apart: np.ndarray, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs kept (not apart, or drawn) and their weights, each pair its own two groups."""
    rows = (np.arange(len(apart)), np.arange(len(apart)) + len(apart))
    drawn = drawn_pairs(np.arange(2 * len(apart)), rows, rate, seed)
    keep = ~apart | drawn
    return keep, np.where(apart[keep], 1.0 / rate, 1.0)


def test_the_draw_is_the_same_for_a_seed_whatever_the_order_of_the_pairs():
    rng = np.random.default_rng(0)
    units = rng.integers(0, 5_000, size=20_000)
    rows = (rng.integers(0, 20_000, size=50_000), rng.integers(0, 20_000, size=50_000))
    drawn = drawn_pairs(units, rows, 0.2, seed=3)
    assert np.array_equal(drawn, drawn_pairs(units, rows, 0.2, seed=3))
    # the pairs reversed, and each pair's two sides swapped: the same pairs of groups are drawn
    assert np.array_equal(drawn[::-1], drawn_pairs(units, (rows[1][::-1], rows[0][::-1]), 0.2, seed=3))
    # another seed draws other pairs, about as many
    other = drawn_pairs(units, rows, 0.2, seed=4)
    assert not np.array_equal(drawn, other) and abs(other.mean() - 0.2) < 0.01 and abs(drawn.mean() - 0.2) < 0.01
    # a pair of groups is drawn whole: every pair between the same two groups alike
    code = np.minimum(units[rows[0]], units[rows[1]]) * 5_000 + np.maximum(units[rows[0]], units[rows[1]])
    per_group = pl.DataFrame({"code": code, "drawn": drawn}).group_by("code").agg(pl.col("drawn").n_unique())
    assert per_group["drawn"].max() == 1
    # a larger rate draws a superset
    assert not (drawn & ~drawn_pairs(units, rows, 0.5, seed=3)).any()


def test_the_rate_compares_every_pair_up_to_the_limit():
    assert sample_rate(0, 10) == sample_rate(10, 10) == 1.0
    assert sample_rate(40, 10) == 0.25
    assert sample_rate(40, 0) == 1 / 40  # a pair's worth: weights stay finite


def test_weights_keep_the_logistic_model_of_all_pairs():
    features, apart = _labelled_pairs()
    full = LogisticScorer(COMPARISONS, label_column="bsn_agree").fit(features)
    keep, weights = _sampled(apart, 0.1, seed=0)
    assert 0.08 < apart[keep].sum() / apart.sum() < 0.12
    sample = features.filter(pl.Series(keep))
    weighted = LogisticScorer(COMPARISONS, label_column="bsn_agree").fit(sample, weights=weights)
    unweighted = LogisticScorer(COMPARISONS, label_column="bsn_agree").fit(sample)
    # within 0.25 bits of the model of all pairs, its labelled pairs counted as all
    assert abs(weighted.prior_weight_ - full.prior_weight_) < 0.25
    for name in COMPARISONS:
        assert np.abs(np.array(weighted.weights_[name]) - np.array(full.weights_[name])).max() < 0.25
    assert abs(weighted.n_labelled_ - full.n_labelled_) < 0.02 * full.n_labelled_
    # without the weights a sample of non-matches shifts the model by about log2(10) bits
    assert unweighted.prior_weight_ - full.prior_weight_ > 2.0


def test_weights_keep_the_fellegi_sunter_model_of_all_pairs():
    features, apart = _labelled_pairs(n=20_000)
    features = features.drop("bsn_agree")
    full = FellegiSunter(COMPARISONS).fit(features, population=2_000_000)
    keep, weights = _sampled(apart, 0.1, seed=1)
    sample = features.filter(pl.Series(keep))
    weighted = FellegiSunter(COMPARISONS).fit(sample, population=2_000_000, weights=weights)
    unweighted = FellegiSunter(COMPARISONS).fit(sample, population=2_000_000)
    for name in COMPARISONS:
        assert np.abs(np.array(weighted.m_[name]) - np.array(full.m_[name])).max() < 0.02
        assert np.abs(np.array(weighted.u_[name]) - np.array(full.u_[name])).max() < 0.02
    assert abs(weighted.expected_matches_ / full.expected_matches_ - 1) < 0.05
    # unweighted, the candidates' non-matches are a tenth of what they are: u moves far
    assert max(np.abs(np.array(unweighted.u_[name]) - np.array(full.u_[name])).max() for name in COMPARISONS) > 0.05


def test_weighing_every_pair_once_changes_nothing():
    features, _ = _labelled_pairs(n=5_000)
    ones = np.ones(features.height)
    plain = FellegiSunter(COMPARISONS).fit(features.drop("bsn_agree"))
    weighed = FellegiSunter(COMPARISONS).fit(features.drop("bsn_agree"), weights=ones)
    assert plain.m_ == weighed.m_ and plain.u_ == weighed.u_ and plain.prior_ == weighed.prior_
    plain = LogisticScorer(COMPARISONS, label_column="bsn_agree").fit(features)
    weighed = LogisticScorer(COMPARISONS, label_column="bsn_agree").fit(features, weights=ones)
    assert plain.weights_ == weighed.weights_ and plain.n_labelled_ == weighed.n_labelled_


def test_the_expected_merges_estimated_from_the_sample_are_those_of_all_pairs_on_average():
    rng = np.random.default_rng(2)
    n = 6_000
    unit_a, unit_b = rng.integers(0, 1_500, n), rng.integers(0, 1_500, n)
    score = rng.random(n) ** 4
    apart = rng.random(n) < 0.7
    exact = expected_pairs(unit_a, unit_b, score)
    rows = (np.arange(n), np.arange(n) + n)
    units = np.concatenate([unit_a, unit_b])
    assert expected_pairs_drawn(unit_a, unit_b, score, apart, np.ones(n, dtype=bool), 1.0) == exact
    estimates = []
    for seed in range(60):
        drawn = drawn_pairs(units, rows, 0.2, seed)
        kept = ~apart | drawn  # the pairs compared
        estimates.append(expected_pairs_drawn(unit_a[kept], unit_b[kept], score[kept], apart[kept], drawn[kept], 0.2))
    # unbiased: the mean of 60 draws within 2% (its standard error is about 0.6%)
    assert abs(np.mean(estimates) / exact - 1) < 0.02
    # counting the drawn pairs once, as if they were all, falls far short
    assert expected_pairs(unit_a[~apart | drawn], unit_b[~apart | drawn], score[~apart | drawn]) < 0.9 * exact


def _with_conflict_pairs(limit: int):
    settings = default_settings()
    person = settings.types["person"]
    person = dataclasses.replace(person, scoring=dataclasses.replace(person.scoring, conflict_pairs=limit))
    return dataclasses.replace(settings, types={**settings.types, "person": person})


def test_a_sample_of_the_pairs_between_two_bsns_still_never_merges_them(caplog):
    # every person seen three times, most with one BSN each: namesakes with two BSNs are many
    mentions, _ = population(400, copies=3, seed=21, bsn_share=0.9)
    everything = resolve(mentions, None)
    with caplog.at_level(logging.INFO, logger="mhgraph.resolve"):
        sampled = resolve(mentions, None, settings=_with_conflict_pairs(30))
    # twice the cap or more such pairs (91 with the shipped blocking), of which about 30 compared (whole pairs of
    # identity groups are drawn)
    drawn = re.search(r"person: (\d+) pairs between different values of bsn, v_number, (\d+) of them compared",
                      caplog.text)
    assert drawn and int(drawn[1]) >= 60 and 15 <= int(drawn[2]) <= 45
    for result in (everything, sampled):
        bsn = mentions.select("mention_id", "bsn").join(result.resolution, on="mention_id")
        assert bsn.group_by("entity_id").agg(pl.col("bsn").drop_nulls().n_unique())["bsn"].max() == 1
        matches = result.scan_matches().collect().join(
            mentions.select(pl.col("mention_id").alias("mention_a"), pl.col("bsn").alias("bsn_a")), on="mention_a").join(
            mentions.select(pl.col("mention_id").alias("mention_b"), pl.col("bsn").alias("bsn_b")), on="mention_b")
        assert matches.filter(pl.col("bsn_a") != pl.col("bsn_b")).height == 0
    # the matches written are those of all pairs, and the model and its expected merges nearly so
    assert sampled.resolution.equals(everything.resolution)
    assert sampled.scan_matches().collect().select("mention_a", "mention_b").equals(
        everything.scan_matches().collect().select("mention_a", "mention_b"))
    assert abs(sampled.scorers["person"].prior_weight_ - everything.scorers["person"].prior_weight_) < 0.1
    assert abs(sampled.expected_pairs["person"] / everything.expected_pairs["person"] - 1) < 0.01


def _namesakes_apart() -> pl.DataFrame:
    """A population with most persons holding one BSN, and three namesakes: two with two
    different BSNs and one without, which links them both into one candidate entity."""
    people, _ = population(200, copies=3, seed=21, bsn_share=0.9)
    extra = frame([person_row("x/a/p", "anna maria", "de vries", "1980-05-02", bsn="111111111"),
                   person_row("x/b/p", "anna maria", "de vries", "1980-05-02"),
                   person_row("x/c/p", "anna maria", "de vries", "1980-05-02", bsn="222222222"),
                   person_row("x/d/p", "piet", "smit", "1970-03-04")])
    return pl.concat([people, extra], how="diagonal")


def test_no_pair_between_two_bsns_is_completed_inside_a_candidate_entity(monkeypatch):
    # a and c (two BSNs) are one candidate entity through b; their pair, left undrawn by a cap of one,
    # would be completed, compared and dropped unwritten
    resolver = importlib.import_module("mhgraph.resolve.pipeline")
    completed = []
    real_compare_type = resolver.compare_type

    def recording_compare_type(pairs, frame, entity, relations, entities, cache, rows):
        if entity.entity_type == "person":
            done = (pairs["blocked_by"].cast(pl.String) == COMPLETED).to_numpy()
            completed.append((int(done.sum()), int((never_merged(pairs, frame, entity, rows) & done).sum())))
        return real_compare_type(pairs, frame, entity, relations, entities, cache, rows)

    monkeypatch.setattr(resolver, "compare_type", recording_compare_type)
    mentions = _namesakes_apart()
    everything = resolve(mentions, None)
    sampled = resolve(mentions, None, settings=_with_conflict_pairs(1))
    assert completed and all(apart == 0 for _, apart in completed)
    assert sampled.resolution.equals(everything.resolution)
    entity_of = dict(sampled.resolution.select("mention_id", "entity_id").iter_rows())
    assert entity_of["x/a/p"] != entity_of["x/c/p"]


def test_a_small_cap_keeps_the_overrides_and_identity_links_and_explains_an_undrawn_pair():
    mentions = _namesakes_apart()
    overrides = [{"mention_a": "x/a/p", "mention_b": "x/d/p", "decision": "must_link", "reason": "same passport"}]
    everything = resolve(mentions, None, overrides=overrides)
    sampled = resolve(mentions, None, settings=_with_conflict_pairs(1), overrides=overrides)
    matches = sampled.scan_matches().collect()
    pair = ("mention_a", "mention_b", "blocked_by")  # the scores differ a little: the model learnt from a sample
    assert matches.select(pair).equals(everything.scan_matches().collect().select(pair))
    assert sampled.resolution.equals(everything.resolution)
    by = matches.group_by(pl.col("blocked_by").cast(pl.String)).len()
    by = dict(by.iter_rows())
    assert by["override"] == 1 and by["bsn"] > 100  # the analyst's pair and the links of one BSN
    entity_of = dict(sampled.resolution.select("mention_id", "entity_id").iter_rows())
    assert entity_of["x/a/p"] == entity_of["x/d/p"]
    explanation = explain_match("x/a/p", "x/c/p", sampled, mentions)
    assert not explanation.compared and explanation.conflicting == ("bsn",)
    assert explanation.decision == "conflicting_identifier" and not explanation.same_entity
    assert "the model learns from them (or from a sample of them)" in str(explanation)


def test_a_type_scored_by_rules_compares_no_pair_between_two_bsns(caplog):
    # rules learn from no pair: those between two values of a conflict key are neither compared nor written
    settings = default_settings()
    person = settings.types["person"]
    person = dataclasses.replace(person, scoring=dataclasses.replace(
        person.scoring, method="rules", rules=({"given_name_dice": 0.9, "family_name_dice": 0.9},)))
    settings = dataclasses.replace(settings, types={**settings.types, "person": person})
    mentions = frame([person_row("a/1/p", "jan", "bakker", "1980-01-01", bsn="111111111"),
                      person_row("b/1/p", "jan", "bakker", "1980-01-01", bsn="222222222"),
                      person_row("c/1/p", "jan", "bakker", "1980-01-01")])
    with caplog.at_level(logging.INFO, logger="mhgraph.resolve"):
        resolved = resolve(mentions, None, settings=settings)
    assert "person: 1 pairs between different values of bsn, v_number, 0 of them compared" in caplog.text
    assert "scored, neither clustered nor written" not in caplog.text
    assert resolved.scan_matches().collect().height == 2
    text = str(explain_match("a/1/p", "b/1/p", resolved, mentions))
    assert "rules learn from no pair" in text and "model learns" not in text


@pytest.mark.parametrize("value, shown", [("0", "int 0"), ("-5", "int -5"), ('"2000000"', "str '2000000'"),
                                          ("true", "bool True"), ("2.5", "float 2.5")])
def test_settings_refuse_a_conflict_pairs_that_is_not_a_whole_number_of_at_least_one(tmp_path, value, shown):
    section = "[types.person.scoring]\n"
    with pytest.raises(InputError, match="conflict_pairs") as refused:
        load_settings(shipped_settings_changed(tmp_path, section, f"{section}conflict_pairs = {value}\n"))
    assert "[types.person.scoring] conflict_pairs must be a whole number of at least 1" in str(refused.value)
    assert f"got {shown}" in str(refused.value) and "settings.toml" in str(refused.value)
    path = shipped_settings_changed(tmp_path, section, f"{section}conflict_pairs = 1\n")
    assert load_settings(path).types["person"].scoring.conflict_pairs == 1
