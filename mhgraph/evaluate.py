"""Evaluation of a run against the synthetic ground truth (``truth/`` of ``mhgraph synth``).

:func:`evaluate` reads a run's output folder and a truth folder and returns one flat dict with
dotted keys (the same object ``mhgraph evaluate`` prints and writes to ``OUT_DIR/evaluation.json``):

* ``er.<type>.precision|recall|f1`` for ``person``, ``company``, ``address`` and ``permit``:
  pairwise entity-resolution quality over the mentions present in both the run's
  ``resolution`` table and ``truth/mentions.parquet`` (by ``mention_id``), split by the true
  entity type. A pair of mentions is *predicted* when the run gave both the same ``entity_id``
  and *true* when the truth did; precision = true predicted pairs / predicted pairs, recall =
  true predicted pairs / true pairs. A figure whose denominator is 0 is ``null``.
  ``er.<type>.mentions``, ``.predicted_pairs``, ``.true_pairs`` give the counts behind it.
* ``detection.*``: how well the ranked clusters find the planted networks of
  ``truth/networks.parquet``; the matching rule is in :func:`match_networks`.

>>> import polars as pl
>>> pairwise_scores(pl.Series(["e1", "e1", "e2", "e2"]), pl.Series(["t1", "t1", "t1", "t2"]))
{'precision': 0.5, 'recall': 0.333333, 'f1': 0.4, 'predicted_pairs': 2, 'true_pairs': 3}
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import polars as pl

from mhgraph.errors import InputError
from mhgraph.run_folder import check_complete_run, check_inputs_beside

__all__ = ["ENTITY_TYPES", "evaluate", "match_networks", "pairwise_scores"]

log = logging.getLogger("mhgraph.evaluate")

ENTITY_TYPES = ("person", "company", "address", "permit")


def _read(path: Path, columns: tuple[str, ...]) -> pl.DataFrame:
    if not path.is_file():
        raise InputError("file not found; expected a Parquet table here", file=str(path))
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
        raise InputError(f"not a readable Parquet file ({exc})", file=str(path)) from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"lacks the column(s) {', '.join(missing)}", file=str(path), column=missing[0])
    return frame.select(columns)


def _ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else round(numerator / denominator, 6)


def _pairs(counts: pl.Series) -> int:
    return int((counts.cast(pl.Int64) * (counts.cast(pl.Int64) - 1) // 2).sum())


def pairwise_scores(predicted: pl.Series, true: pl.Series) -> dict:
    """Pairwise precision, recall and F1 of two labelings of the same mentions (aligned series)."""
    frame = pl.DataFrame({"p": predicted, "t": true})
    both = _pairs(frame.group_by("p", "t").len().get_column("len"))
    predicted_pairs = _pairs(frame.group_by("p").len().get_column("len"))
    true_pairs = _pairs(frame.group_by("t").len().get_column("len"))
    precision, recall = _ratio(both, predicted_pairs), _ratio(both, true_pairs)
    f1 = (None if precision is None or recall is None
          else round(2 * precision * recall / (precision + recall), 6) if precision + recall else 0.0)
    return {"precision": precision, "recall": recall, "f1": f1, "predicted_pairs": predicted_pairs,
            "true_pairs": true_pairs}


def match_networks(resolution: pl.DataFrame, communities: pl.DataFrame, clusters: pl.DataFrame,
                   truth_mentions: pl.DataFrame, networks: pl.DataFrame) -> pl.DataFrame:
    """Which ranked cluster hits which truth network: ``network_id``, ``kind``, ``typology``,
    ``entities`` (true entities that appear in the run), ``cluster_id``, ``rank``, ``held``.

    **Matching rule.** A true entity *appears in the run* when at least one of its mentions is
    in the run's ``resolution``; its *run entity* is the run entity holding most of its mentions
    (ties: lowest ``entity_id``), and its cluster is that entity's community. A cluster **hits** a
    network when it holds at least half of the network's true entities that appear in the run
    (``held / entities >= 0.5``). Only *flagged* clusters count: those in ``clusters`` with a
    score above 0, in rank order. One row per (network, hitting cluster); a network no flagged
    cluster hits has one row with null ``cluster_id`` and ``rank``.
    """
    images = (
        truth_mentions.select("mention_id", true_entity="entity_id")
        .join(resolution.select("mention_id", "entity_id"), on="mention_id", how="inner")
        .group_by("true_entity", "entity_id").agg(n=pl.len())
        .sort(["true_entity", "n", "entity_id"], descending=[False, True, False])
        .group_by("true_entity", maintain_order=True).first()
        .join(communities.select("entity_id", "cluster_id"), on="entity_id", how="left")
    )
    members = (networks.select("network_id", "kind", "typology", true_entity="entity_id").unique()
               .join(images.select("true_entity", "cluster_id"), on="true_entity", how="inner"))
    sizes = members.group_by("network_id").agg(entities=pl.len())
    flagged = clusters.filter(pl.col("score") > 0).select("cluster_id", "rank")
    hits = (
        members.group_by("network_id", "cluster_id").agg(held=pl.len())
        .join(sizes, on="network_id")
        .filter(pl.col("held") >= 0.5 * pl.col("entities"))
        .join(flagged, on="cluster_id", how="inner")
    )
    kinds = networks.group_by("network_id").agg(pl.col("kind").first(), pl.col("typology").first())
    return (
        kinds.join(sizes, on="network_id", how="left").with_columns(pl.col("entities").fill_null(0))
        .join(hits.select("network_id", "cluster_id", "rank", "held"), on="network_id", how="left")
        .sort("network_id", "rank", nulls_last=True)
    )


def _detection(matches: pl.DataFrame, clusters: pl.DataFrame, k: int) -> dict:
    planted = matches.filter(pl.col("kind") == "planted")
    planted_ids = planted.get_column("network_id").unique().sort().to_list()
    first_rank = {row["network_id"]: row["rank"] for row in
                  planted.group_by("network_id").agg(pl.col("rank").min()).iter_rows(named=True)}
    flagged = clusters.filter(pl.col("score") > 0).sort("rank").get_column("cluster_id").to_list()
    hitting_planted = set(planted.get_column("cluster_id").drop_nulls().to_list())
    hitting_decoy = set(matches.filter(pl.col("kind") == "decoy").get_column("cluster_id").drop_nulls().to_list())
    relevant_so_far, precision_at = 0, {}
    for position, cluster_id in enumerate(flagged, start=1):
        relevant_so_far += cluster_id in hitting_planted
        precision_at[position] = relevant_so_far / position
    found = [first_rank[n] for n in planted_ids if first_rank.get(n) is not None]
    out = {
        "detection.planted_networks": len(planted_ids),
        "detection.decoy_networks": matches.filter(pl.col("kind") == "decoy").get_column("network_id").n_unique(),
        "detection.flagged_clusters": len(flagged),
        f"detection.recall_at_{k}": _ratio(sum(r <= k for r in found), len(planted_ids)),
        "detection.recall": _ratio(len(found), len(planted_ids)),
        "detection.average_precision": (None if not planted_ids else
                                        round(sum(precision_at[r] for r in found) / len(planted_ids), 6)),
        f"detection.decoys_in_top_{k}": sum(1 for c in flagged[:k] if c in hitting_decoy and c not in hitting_planted),
    }
    out.update({f"detection.first_rank.{n}": first_rank.get(n) for n in planted_ids})
    return out


def _truth_folder(truth_dir: Path) -> Path:
    """Accept the ``truth`` folder itself or the data folder that holds it."""
    return truth_dir / "truth" if not (truth_dir / "networks.parquet").exists() and (truth_dir / "truth").is_dir() \
        else truth_dir


def evaluate(out_dir: str | Path, truth_dir: str | Path, *, k: int = 10, write: bool = True) -> dict:
    """Score the run in ``out_dir`` against the truth in ``truth_dir``; write ``out_dir/evaluation.json``.

    Reads ``out_dir/tables/{resolution,communities,clusters}.parquet`` and
    ``truth_dir/{mentions,networks}.parquet`` (``truth_dir`` may also be the folder holding
    ``truth/``). Returns a flat dict with dotted keys:

    * ``er.<type>.precision|recall|f1|mentions|predicted_pairs|true_pairs`` (see the module doc);
    * ``detection.recall_at_10``: share of planted networks hit by one of the 10 best-ranked
      flagged clusters (:func:`match_networks` defines a hit and "flagged");
    * ``detection.average_precision``: walk the flagged clusters in rank order; a cluster is
      *relevant* when it hits a planted network; for every planted network take the precision
      (relevant clusters / clusters so far) at the rank of the first cluster that hits it, and
      average over all planted networks (a network never hit adds 0) — each network counts once;
    * ``detection.decoys_in_top_10``: how many of the 10 best-ranked flagged clusters hit a decoy
      network and no planted one;
    * ``detection.recall``, ``.planted_networks``, ``.decoy_networks``, ``.flagged_clusters``, and
      ``detection.first_rank.<network_id>`` (null when not found).

    ``k`` changes the 10. Null stands for a figure that is undefined (nothing to count).

    Refuses (``InputError``) a run that is not complete (:func:`~mhgraph.run_folder.check_complete_run`)
    and a truth whose extracts beside it are not the files the run read.
    """
    out_dir, truth = Path(out_dir), _truth_folder(Path(truth_dir))
    check_inputs_beside(check_complete_run(out_dir), truth.parent, f"the truth {truth}")
    tables = out_dir / "tables"
    resolution = _read(tables / "resolution.parquet", ("mention_id", "entity_id"))
    communities = _read(tables / "communities.parquet", ("entity_id", "cluster_id"))
    clusters = _read(tables / "clusters.parquet", ("cluster_id", "rank", "score"))
    truth_mentions = _read(truth / "mentions.parquet", ("mention_id", "entity_type", "entity_id"))
    networks = _read(truth / "networks.parquet", ("network_id", "kind", "typology", "entity_id"))

    result: dict = {}
    common = truth_mentions.join(resolution.rename({"entity_id": "run_entity"}), on="mention_id", how="inner")
    result["er.mentions.truth"] = truth_mentions.height
    result["er.mentions.run"] = resolution.height
    result["er.mentions.common"] = common.height
    for entity_type in ENTITY_TYPES:
        subset = common.filter(pl.col("entity_type") == entity_type)
        scores = pairwise_scores(subset.get_column("run_entity"), subset.get_column("entity_id"))
        result.update({f"er.{entity_type}.{name}": value for name, value in scores.items()})
        result[f"er.{entity_type}.mentions"] = subset.height
    matches = match_networks(resolution, communities, clusters, truth_mentions, networks)
    result.update(_detection(matches, clusters, k))
    if write:
        (out_dir / "evaluation.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    log.info("evaluate: person F1 %s, recall@%d %s, AP %s", result["er.person.f1"], k,
             result[f"detection.recall_at_{k}"], result["detection.average_precision"])
    return result
