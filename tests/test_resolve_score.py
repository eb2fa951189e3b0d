import dataclasses
import json

import numpy as np
import polars as pl
import pytest
from resolve_helpers import population
from sklearn.metrics import roc_auc_score

from mhgraph.resolve import FellegiSunter, LogisticScorer, block, compare, default_settings, make_scorer
from mhgraph.resolve.block import random_pairs
from mhgraph.resolve.score import scorer_from_dict, scorer_to_dict


@pytest.fixture(scope="module")
def features_and_truth():
    mentions, truth = population(400, copies=3, seed=21, bsn_share=0.6)
    settings = default_settings()
    features = compare(block(mentions, settings), mentions, None, settings)
    same = np.array([truth[a] == truth[b] for a, b in zip(features["mention_a"], features["mention_b"])])
    return features, same


@pytest.fixture(scope="module")
def strangers():
    mentions, _ = population(400, copies=3, seed=21, bsn_share=0.6)
    settings = default_settings()
    return compare(random_pairs(mentions.sort("mention_id"), 20_000, seed=1), mentions, None, settings)


def _comparisons():
    return {c.name: c.levels for c in default_settings().types["person"].comparisons}


def test_scorer_trained_on_bsn_labels_ranks_unlabelled_true_pairs_above_false(features_and_truth):
    features, same = features_and_truth
    labelled = ~np.isnan(features["bsn_agree"].to_numpy())
    assert labelled.sum() > 200 and (~labelled).sum() > 200
    scorer = LogisticScorer(_comparisons(), label_column="bsn_agree").fit(features)
    score = scorer.predict_proba(features.filter(pl.Series(~labelled)))[:, 1]
    assert roc_auc_score(same[~labelled], score) > 0.97
    # the labels teach the model; they are never one of its inputs
    assert "bsn_agree" not in scorer.weights_
    flipped = features.with_columns(pl.lit(0.0).alias("bsn_agree"))
    assert np.array_equal(scorer.predict_proba(flipped), scorer.predict_proba(features))


def test_fellegi_sunter_without_labels_ranks_true_pairs_above_false(features_and_truth, strangers):
    features, same = features_and_truth
    scorer = FellegiSunter(_comparisons()).fit(features, background=strangers)
    assert roc_auc_score(same, scorer.predict_proba(features)[:, 1]) > 0.97
    assert 0.0 < scorer.prior_ < 1.0 and scorer.n_background_ == strangers.height
    for name in ("given_name_dice", "family_name_dice", "birth_date_dice"):
        weights = scorer.weights_[name]
        assert weights[0] > 0 > weights[-1], name  # agreement is evidence for, disagreement against
    # the prior is the share of matches among the compared pairs (here about 3 in 4), not among
    # all pairs EM saw (the random ones bring that down to 1 in 20)
    assert scorer.prior_ > 0.5 > (same.sum() / (len(same) + strangers.height)) * 5


def test_probabilities_are_calibrated_on_the_labelled_pairs(features_and_truth):
    features, _ = features_and_truth
    labelled = features.filter(pl.col("bsn_agree").is_not_nan())
    scorer = LogisticScorer(_comparisons(), label_column="bsn_agree").fit(labelled)
    probability = scorer.predict_proba(labelled)[:, 1]
    label = labelled["bsn_agree"].to_numpy()
    assert abs(probability.mean() - label.mean()) < 0.01
    confident = probability > 0.9
    assert label[confident].mean() > 0.9


def test_auto_picks_the_logistic_model_when_labels_suffice(features_and_truth):
    features, _ = features_and_truth
    person = default_settings().types["person"]
    labels = features["bsn_agree"].drop_nans()
    enough = int(min((labels == 1.0).sum(), (labels == 0.0).sum()))
    assert enough > 20
    person = dataclasses.replace(person, scoring=dataclasses.replace(person.scoring, min_labelled_pairs=enough))
    assert isinstance(make_scorer(person, features), LogisticScorer)
    person = dataclasses.replace(person, scoring=dataclasses.replace(person.scoring, min_labelled_pairs=enough + 1))
    assert isinstance(make_scorer(person, features), FellegiSunter)
    assert isinstance(make_scorer(person, features.with_columns(pl.lit(float("nan")).alias("bsn_agree"))), FellegiSunter)


def test_fitted_models_survive_a_json_round_trip(features_and_truth):
    features, _ = features_and_truth
    for scorer in (FellegiSunter(_comparisons()).fit(features),
                   LogisticScorer(_comparisons(), label_column="bsn_agree").fit(features)):
        again = scorer_from_dict(json.loads(json.dumps(scorer_to_dict(scorer))))
        assert np.allclose(again.predict_proba(features), scorer.predict_proba(features))


def test_parameters_live_in_the_constructor_and_fit_returns_the_scorer(features_and_truth):
    features, _ = features_and_truth
    scorer = FellegiSunter(_comparisons(), max_iter=3)
    assert not hasattr(scorer, "weights_")
    assert scorer.fit(features) is scorer and scorer.n_iter_ <= 3
