"""Quality measures against a known truth: cluster-level pairwise precision/recall/F1 and the
pair completeness and reduction ratio of blocking. Counted from cluster sizes, never by
listing all pairs, so they run on millions of mentions.

>>> import polars as pl
>>> predicted = pl.DataFrame({"mention_id": ["a", "b", "c", "d"], "entity_id": ["1", "1", "1", "2"]})
>>> truth = pl.DataFrame({"mention_id": ["a", "b", "c", "d"], "entity_id": ["x", "x", "y", "y"]})
>>> pairwise_scores(predicted, truth)["precision"]
0.3333333333333333
"""

from __future__ import annotations

import polars as pl

__all__ = ["blocking_quality", "pairwise_scores", "true_pairs"]


def _pairs_in(counts: pl.Expr) -> pl.Expr:
    return (counts * (counts - 1) // 2).sum()


def pairwise_scores(predicted: pl.DataFrame, truth: pl.DataFrame, id_column: str = "mention_id",
                    predicted_column: str = "entity_id", truth_column: str = "entity_id") -> dict:
    """Pairwise precision, recall and F1 of a clustering: a pair of mentions counts as found
    when both sit in one predicted entity, as true when both sit in one true entity."""
    joined = predicted.select(id_column, pl.col(predicted_column).alias("_p")).join(
        truth.select(id_column, pl.col(truth_column).alias("_t")), on=id_column, how="inner")
    both = joined.group_by("_p", "_t").len().select(_pairs_in(pl.col("len").cast(pl.Int64))).item()
    found = joined.group_by("_p").len().select(_pairs_in(pl.col("len").cast(pl.Int64))).item()
    real = joined.group_by("_t").len().select(_pairs_in(pl.col("len").cast(pl.Int64))).item()
    precision = both / found if found else 1.0
    recall = both / real if real else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_positives": int(both),
            "predicted_pairs": int(found), "true_pairs": int(real)}


def true_pairs(truth: pl.DataFrame, id_column: str = "mention_id", truth_column: str = "entity_id") -> pl.DataFrame:
    """All true pairs (``mention_a < mention_b``); only for truths with small entities."""
    members = truth.select(pl.col(id_column).alias("mention_a"), pl.col(truth_column).alias("_t"))
    return (members.join(members.rename({"mention_a": "mention_b"}), on="_t")
            .filter(pl.col("mention_a") < pl.col("mention_b")).select("mention_a", "mention_b"))


def blocking_quality(pairs: pl.DataFrame, truth: pl.DataFrame, possible_pairs: int | None = None,
                     id_column: str = "mention_id", truth_column: str = "entity_id") -> dict:
    """Pair completeness (share of true pairs that blocking proposed) and reduction ratio
    (share of all possible pairs it spared); ``possible_pairs`` defaults to ``n (n-1) / 2``."""
    n = truth.height
    possible = possible_pairs if possible_pairs is not None else n * (n - 1) // 2
    real = true_pairs(truth, id_column, truth_column)
    proposed = pairs.select("mention_a", "mention_b").unique()
    found = real.join(proposed, on=["mention_a", "mention_b"], how="semi").height
    return {
        "pairs": proposed.height,
        "true_pairs": real.height,
        "true_pairs_proposed": found,
        "pair_completeness": found / real.height if real.height else 1.0,
        "reduction_ratio": 1.0 - proposed.height / possible if possible else 1.0,
    }
