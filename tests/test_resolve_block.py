import logging

import numpy as np
import polars as pl
from resolve_helpers import frame, person_row, population

from mhgraph.resolve import block, blocking_quality, default_settings
from mhgraph.resolve.block import pairs_from_blocks


def _truth(truth: dict) -> pl.DataFrame:
    return pl.DataFrame({"mention_id": list(truth), "entity_id": [str(v) for v in truth.values()]})


def test_blocking_finds_the_true_pairs_of_a_generated_set():
    mentions, truth = population(300, copies=3, seed=3, bsn_share=0.0)
    pairs = block(mentions, default_settings())
    quality = blocking_quality(pairs, _truth(truth))
    assert quality["true_pairs"] == 900
    assert quality["pair_completeness"] >= 0.95
    assert quality["reduction_ratio"] >= 0.8
    # the pairs that are missed are between two noisy copies: each still pairs with a third one
    linked = pl.DataFrame({"mention_id": list(truth), "person": list(truth.values())})
    proposed = pairs.join(linked.rename({"mention_id": "mention_a", "person": "pa"}), on="mention_a").join(
        linked.rename({"mention_id": "mention_b", "person": "pb"}), on="mention_b").filter(pl.col("pa") == pl.col("pb"))
    reached = set(proposed["mention_a"]) | set(proposed["mention_b"])
    assert len(reached) >= 0.99 * len(truth)
    assert (pairs["mention_a"] < pairs["mention_b"]).all()
    assert pairs.select("mention_a", "mention_b").is_unique().all()


def test_one_huge_block_is_windowed_not_quadratic(caplog):
    n = 2000
    rows = [person_row(f"s/{i:05d}/p", "jan", "jansen", "1980-01-01", bsn="123456782") for i in range(n)]
    settings = default_settings()
    person = settings.types["person"]
    with caplog.at_level(logging.INFO, logger="mhgraph.resolve.block"):
        pairs = block(frame(rows), settings)
    rules = len(person.blocking)
    worst = max(r.window for r in person.blocking)
    # identity key: a star of n - 1 pairs; each rule: at most `window` neighbours per mention
    assert pairs.height <= (n - 1) + rules * n * worst
    assert pairs.height < n * (n - 1) // 2 / 10
    assert (pairs.filter(pl.col("blocked_by") == "bsn").height) == n - 1
    assert "oversized" in caplog.text


def test_pairs_from_blocks_windows_only_the_oversized_block():
    codes = np.array([0] * 6 + [1] * 3 + [-1])
    left, right, report = pairs_from_blocks(codes, np.arange(10), max_block_size=4, window=1)
    found = set(zip(left.tolist(), right.tolist()))
    assert found == {(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (6, 7), (6, 8), (7, 8)}
    assert report["oversized"] == 1 and report["oversized_mentions"] == 6


def test_blocking_does_not_depend_on_row_order():
    mentions, _ = population(100, copies=2, seed=4)
    settings = default_settings()
    first = block(mentions, settings).sort("mention_a", "mention_b")
    shuffled = block(mentions.sample(fraction=1.0, shuffle=True, seed=9), settings).sort("mention_a", "mention_b")
    assert first.equals(shuffled)


def test_identity_keys_link_addresses_and_permits_within_a_partner():
    mentions = pl.DataFrame({
        "mention_id": ["a/1/adres", "b/1/adres", "c/1/adres", "g/1/vergunning", "g/2/vergunning", "h/1/vergunning"],
        "entity_type": ["address"] * 3 + ["permit"] * 3,
        "partner": ["x", "y", "z", "gemeente_arnhem", "gemeente_arnhem", "gemeente_emmen"],
        "address_key": ["k1", "k1", None, None, None, None],
        "building_key": ["b1", "b1", "b1", None, None, None],
        "permit_number": [None, None, None, "ARN-1", "ARN-1", "ARN-1"],
    })
    pairs = block(mentions, default_settings())
    assert sorted(pairs.select("mention_a", "mention_b", "blocked_by").rows()) == [
        ("a/1/adres", "b/1/adres", "address_key"),
        ("g/1/vergunning", "g/2/vergunning", "partner+permit_number"),
    ]
