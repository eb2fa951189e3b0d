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

__all__ = ["ENTITY_TYPES", "FOUND_SHARE", "detection_summary", "evaluate", "group_recall", "grouped_figures",
           "match_networks", "network_outcomes", "pairwise_scores", "partner_ablation", "partner_group",
           "read_run_and_truth"]

log = logging.getLogger("mhgraph.evaluate")

ENTITY_TYPES = ("person", "company", "address", "permit")
# A flagged cluster finds a network when it holds at least this share of the whole network.
FOUND_SHARE = 0.5
# Columns of truth/networks.parquet that describe a network's variant (absent in older truth folders).
_VARIANT_COLUMNS = ("strength", "origin", "lookalike_of")


def _read(path: Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()) -> pl.DataFrame:
    """The ``columns`` of a Parquet table, and the ``optional`` ones (null where the file lacks them)."""
    if not path.is_file():
        raise InputError("file not found; expected a Parquet table here", file=str(path))
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
        raise InputError(f"not a readable Parquet file ({exc})", file=str(path)) from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"lacks the column(s) {', '.join(missing)}", file=str(path), column=missing[0])
    return frame.select(*columns, *(pl.col(c) if c in frame.columns else pl.lit(None, dtype=pl.String).alias(c)
                                    for c in optional))


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
    """Which flagged cluster finds, or is made of, which truth network: ``network_id``,
    ``kind``, ``typology``, ``strength``, ``origin``, ``lookalike_of`` (null where the truth has
    no such column), ``entities``, ``coverage``, ``cluster_id``, ``rank``, ``held``, ``finds``.

    **Matching rule (whole network as denominator).** A network's ``entities`` are all its true
    members that appear in at least one delivered record (``truth/mentions.parquet``), whether
    or not the run took them in: a member the run never saw — quarantined, or from a partner
    left out — still counts. A member the run did see has a *run entity* (the one holding most
    of its mentions; ties: lowest ``entity_id``), and its cluster is that entity's community.
    Only *flagged* clusters count: those the ranking flagged (``flagged``: score at least the
    ``flag_score`` of :mod:`mhgraph.rank`, the clusters put in front of an analyst), in rank order.

    * A cluster **finds** a network (``finds``) when it holds at least :data:`FOUND_SHARE` of
      the network's entities (``held / entities``). Recall and average precision count this only.
    * A cluster **belongs to** a network when it finds it or when at least :data:`FOUND_SHARE` of
      the cluster's own entities are the network's (a fragment of it). A flagged cluster that
      belongs to no planted network is a false positive; one that belongs to a look-alike as
      well is a look-alike in the ranking.

    One row per (network, flagged cluster it finds or that belongs to it); a network with none
    has one row with null ``cluster_id`` and ``rank``. ``coverage`` is the largest share of the
    network any community holds, flagged or not: below :data:`FOUND_SHARE`, entity resolution or
    community detection lost the network before ranking could find it.
    """
    images = (
        truth_mentions.select("mention_id", true_entity="entity_id")
        .join(resolution.select("mention_id", "entity_id"), on="mention_id", how="inner")
        .group_by("true_entity", "entity_id").agg(n=pl.len())
        .sort(["true_entity", "n", "entity_id"], descending=[False, True, False])
        .group_by("true_entity", maintain_order=True).first()
        .join(communities.select("entity_id", "cluster_id"), on="entity_id", how="left")
    )
    delivered = truth_mentions.select(true_entity="entity_id").unique()
    members = (networks.select("network_id", true_entity="entity_id").unique()
               .join(delivered, on="true_entity", how="semi"))
    sizes = members.group_by("network_id").agg(entities=pl.len())
    cluster_sizes = communities.group_by("cluster_id").agg(cluster_size=pl.len())
    held = (members.join(images.select("true_entity", "cluster_id"), on="true_entity", how="inner")
            .filter(pl.col("cluster_id").is_not_null())
            .group_by("network_id", "cluster_id").agg(held=pl.len())
            .join(sizes, on="network_id")
            .join(cluster_sizes, on="cluster_id", how="left"))
    coverage = held.group_by("network_id").agg(coverage=(pl.col("held") / pl.col("entities")).max().round(6))
    flagged = clusters.filter(pl.col("flagged")).select("cluster_id", "rank")
    hits = (held.with_columns(finds=pl.col("held") >= FOUND_SHARE * pl.col("entities"))
            .filter(pl.col("finds") | (pl.col("held") >= FOUND_SHARE * pl.col("cluster_size")))
            .join(flagged, on="cluster_id", how="inner"))
    described = networks.group_by("network_id").agg(
        *(pl.col(c).first() if c in networks.columns else pl.lit(None, dtype=pl.String).alias(c)
          for c in ("kind", "typology", *_VARIANT_COLUMNS)))
    return (
        described.join(sizes, on="network_id", how="left").with_columns(pl.col("entities").fill_null(0))
        .join(coverage, on="network_id", how="left").with_columns(pl.col("coverage").fill_null(0.0))
        .join(hits.select("network_id", "cluster_id", "rank", "held", "finds"), on="network_id", how="left")
        .sort("network_id", "rank", nulls_last=True)
    )


def network_outcomes(matches: pl.DataFrame) -> pl.DataFrame:
    """One row per network of :func:`match_networks`: its description, ``entities``,
    ``coverage``, ``rank`` (the best-ranked flagged cluster that finds it; null if none) and
    ``belongs_rank`` (the best-ranked flagged cluster that finds it or is made of it: where a
    look-alike shows up in the ranking)."""
    return (matches.group_by("network_id", maintain_order=True)
            .agg(*(pl.col(c).first() for c in ("kind", "typology", *_VARIANT_COLUMNS, "entities", "coverage")),
                 rank=pl.col("rank").filter(pl.col("finds")).min(), belongs_rank=pl.col("rank").min())
            .sort("network_id"))


def detection_summary(matches: pl.DataFrame, clusters: pl.DataFrame, k: int = 10) -> dict:
    """The ranking figures of :func:`evaluate` (``recall_at_K``, ``average_precision``, ...), un-prefixed."""
    planted = matches.filter(pl.col("kind") == "planted")
    planted_ids = planted.get_column("network_id").unique().sort().to_list()
    first_rank = {row["network_id"]: row["rank"] for row in network_outcomes(planted).iter_rows(named=True)}
    flagged = clusters.filter(pl.col("flagged")).sort("rank").get_column("cluster_id").to_list()
    finding_planted = set(planted.filter(pl.col("finds")).get_column("cluster_id").to_list())
    of_planted = set(planted.get_column("cluster_id").drop_nulls().to_list())
    of_decoy = set(matches.filter(pl.col("kind") == "decoy").get_column("cluster_id").drop_nulls().to_list())
    relevant_so_far, precision_at = 0, {}
    for position, cluster_id in enumerate(flagged, start=1):
        relevant_so_far += cluster_id in finding_planted
        precision_at[position] = relevant_so_far / position
    found = [first_rank[n] for n in planted_ids if first_rank.get(n) is not None]
    top = flagged[:k]
    return {
        "planted_networks": len(planted_ids),
        "decoy_networks": matches.filter(pl.col("kind") == "decoy").get_column("network_id").n_unique(),
        "flagged_clusters": len(flagged),
        f"recall_at_{k}": _ratio(sum(r <= k for r in found), len(planted_ids)),
        "recall": _ratio(len(found), len(planted_ids)),
        "average_precision": (None if not planted_ids else
                              round(sum(precision_at[r] for r in found) / len(planted_ids), 6)),
        f"decoys_in_top_{k}": sum(1 for c in top if c in of_decoy and c not in of_planted),
        f"false_positives_in_top_{k}": sum(1 for c in top if c not in of_planted),
    }


def group_recall(outcomes: pl.DataFrame, by: list[str], k: int = 10) -> pl.DataFrame:
    """Per group of planted networks: ``networks``, ``found_at_K``, ``recall_at_K``, ``found``
    (at any rank) and ``mean_rank`` (of those found)."""
    planted = outcomes.filter(pl.col("kind") == "planted")
    return (planted.group_by(by).agg(
        networks=pl.len(),
        **{f"found_at_{k}": (pl.col("rank") <= k).sum()},
        found=pl.col("rank").is_not_null().sum(),
        mean_rank=pl.col("rank").mean().round(2),
    ).with_columns(**{f"recall_at_{k}": (pl.col(f"found_at_{k}") / pl.col("networks")).round(6)}).sort(by))


def grouped_figures(outcomes: pl.DataFrame, k: int) -> dict:
    """``by_strength``, ``by_typology``, the typology × strength table and the EU/non-EU
    comparison at equal strength (typologies that occur with both origins only), flattened."""
    out = {}
    for name, by in (("by_strength", ["strength"]), ("by_typology", ["typology"]),
                     ("by_typology_strength", ["typology", "strength"])):
        for row in group_recall(outcomes, by, k).iter_rows(named=True):
            label = ".".join(str(row[c]) for c in by)
            out[f"detection.{name}.{label}.recall_at_{k}"] = row[f"recall_at_{k}"]
            out[f"detection.{name}.{label}.networks"] = row["networks"]
    both = outcomes.filter(pl.col("origin").is_not_null()).group_by("typology").agg(
        pl.col("origin").n_unique().alias("origins")).filter(pl.col("origins") > 1).get_column("typology")
    fair = outcomes.filter(pl.col("typology").is_in(both.implode()))
    for row in group_recall(fair, ["strength", "origin"], k).iter_rows(named=True):
        prefix = f"fairness.{row['strength']}.{row['origin']}"
        out.update({f"{prefix}.networks": row["networks"], f"{prefix}.recall_at_{k}": row[f"recall_at_{k}"],
                    f"{prefix}.recall": _ratio(row["found"], row["networks"]), f"{prefix}.mean_rank": row["mean_rank"]})
    return out


def partner_group(partner: str) -> str:
    """The unit a partner ablation leaves out or keeps: a partner, with every municipal permit
    register counted as one, ``municipalities`` (they hold the same kind of piece)."""
    return "municipalities" if partner.startswith("gemeente_") else partner


def partner_ablation(out_dir: str | Path, truth_dir: str | Path, *, k: int = 10) -> dict[str, dict]:
    """Rerun the run in ``out_dir`` with each partner left out and with each partner alone.

    The run's own ingested ``mentions`` and ``relations`` (``OUT_DIR/tables``) are filtered to
    the partners of each configuration and go through resolve, graph, detect, indicators and
    rank again with the shipped defaults and the run's own purposes, seed and resolver
    (``run_manifest.json``); the run itself is the configuration ``all``. Each configuration is
    scored with the whole network as denominator (:func:`match_networks`), so a network whose
    pieces lie with a partner left out counts as missed unless the rest still shows half of it.

    Returns ``{configuration: {"partners": [...], "outcomes": network_outcomes, **detection_summary}}``
    for ``all``, ``only_<group>`` and ``without_<group>`` per group of :func:`partner_group`.
    """
    from mhgraph.pipeline import analyse  # the whole pipeline, only needed here

    out_dir, truth = Path(out_dir), _truth_folder(Path(truth_dir))
    manifest_path = out_dir / "run_manifest.json"
    if not manifest_path.is_file():
        raise InputError("file not found; a partner ablation needs the run's manifest", file=str(manifest_path))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    tables = out_dir / "tables"
    mentions, relations = pl.read_parquet(tables / "mentions.parquet"), pl.read_parquet(tables / "relations.parquet")
    truth_mentions, networks = _truth_mentions(truth), _truth_networks(truth)
    groups = sorted({partner_group(p) for p in mentions.get_column("partner").unique().to_list()})
    configurations = {"all": groups}
    configurations.update({f"only_{g}": [g] for g in groups})
    configurations.update({f"without_{g}": [x for x in groups if x != g] for g in groups})
    group_of = pl.col("partner").map_elements(partner_group, return_dtype=pl.String)
    out = {}
    for name, kept in configurations.items():
        if name == "all":
            run = {t: _read(tables / f"{t}.parquet", c) for t, c in (
                ("resolution", ("mention_id", "entity_id")), ("communities", ("entity_id", "cluster_id")),
                ("clusters", ("cluster_id", "rank", "score", "flagged")))}
        else:
            log.info("partner ablation: %s (%s)", name, ", ".join(kept))
            run, _ = analyse(mentions.filter(group_of.is_in(kept)), relations.filter(group_of.is_in(kept)),
                             allowed_purposes=set(manifest["allowed_source_purposes"]),
                             seed=manifest.get("seed", 42), resolver=manifest.get("resolver", "full"))
        matches = match_networks(run["resolution"], run["communities"], run["clusters"], truth_mentions, networks)
        out[name] = {"partners": kept, "outcomes": network_outcomes(matches),
                     **detection_summary(matches, run["clusters"], k)}
    return out


def _truth_folder(truth_dir: Path) -> Path:
    """Accept the ``truth`` folder itself or the data folder that holds it."""
    return truth_dir / "truth" if not (truth_dir / "networks.parquet").exists() and (truth_dir / "truth").is_dir() \
        else truth_dir


def read_run_and_truth(out_dir: str | Path, truth_dir: str | Path) -> tuple[pl.DataFrame, ...]:
    """The tables :func:`match_networks` takes, in its order: the run's ``resolution``,
    ``communities`` and ``clusters``, and the truth's ``mentions`` and ``networks``."""
    tables, truth = Path(out_dir) / "tables", _truth_folder(Path(truth_dir))
    return (_read(tables / "resolution.parquet", ("mention_id", "entity_id")),
            _read(tables / "communities.parquet", ("entity_id", "cluster_id")),
            _read(tables / "clusters.parquet", ("cluster_id", "rank", "score", "flagged")),
            _truth_mentions(truth), _truth_networks(truth))


def _truth_mentions(truth: Path) -> pl.DataFrame:
    return _read(truth / "mentions.parquet", ("mention_id", "entity_type", "entity_id"))


def _truth_networks(truth: Path) -> pl.DataFrame:
    return _read(truth / "networks.parquet", ("network_id", "kind", "typology", "entity_id"), optional=_VARIANT_COLUMNS)


def evaluate(out_dir: str | Path, truth_dir: str | Path, *, k: int = 10, write: bool = True,
             ablate_partners: bool = False) -> dict:
    """Score the run in ``out_dir`` against the truth in ``truth_dir``; write ``out_dir/evaluation.json``.

    Reads ``out_dir/tables/{resolution,communities,clusters}.parquet`` and
    ``truth_dir/{mentions,networks}.parquet`` (``truth_dir`` may also be the folder holding
    ``truth/``). Returns a flat dict with dotted keys:

    * ``er.<type>.precision|recall|f1|mentions|predicted_pairs|true_pairs`` (see the module doc);
    * ``detection.recall_at_10``: share of planted networks found by one of the 10 best-ranked
      flagged clusters (:func:`match_networks` defines "finds", "belongs to" and "flagged");
    * ``detection.average_precision``: walk the flagged clusters in rank order; a cluster is
      *relevant* when it finds a planted network; for every planted network take the precision
      (relevant clusters / clusters so far) at the rank of the first cluster that finds it, and
      average over all planted networks (a network never found adds 0) — each network counts once;
    * ``detection.decoys_in_top_10``: how many of the 10 best-ranked flagged clusters belong to a
      lawful look-alike and to no planted network; ``detection.false_positives_in_top_10``: how
      many belong to no planted network at all (look-alikes and ordinary clusters);
    * ``detection.recall``, ``.planted_networks``, ``.decoy_networks``, ``.flagged_clusters``,
      ``detection.first_rank.<network_id>`` (null when not found) and
      ``detection.coverage.<network_id>`` (the largest share of it any community holds);
    * with strengths in the truth, ``detection.by_strength.<strength>.*``,
      ``detection.by_typology.<typology>.*`` and ``detection.by_typology_strength.<t>.<s>.*``
      (``recall_at_10``, ``networks``), and ``fairness.<strength>.<origin>.*`` over the
      typologies the truth holds with both origins (:func:`grouped_figures`);
    * with ``ablate_partners``, ``ablation.<configuration>.*`` (:func:`partner_ablation`).

    ``k`` changes the 10. Null stands for a figure that is undefined (nothing to count).

    Refuses (``InputError``) a run whose tables are not complete or not those its manifest lists
    (:func:`~mhgraph.run_folder.check_complete_run`), and a truth whose extracts beside it are
    not the files the run read.
    """
    out_dir, truth = Path(out_dir), _truth_folder(Path(truth_dir))
    check_inputs_beside(check_complete_run(out_dir, within="tables/"), truth.parent, f"the truth {truth}")
    resolution, communities, clusters, truth_mentions, networks = read_run_and_truth(out_dir, truth)

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
    result.update({f"detection.{name}": value for name, value in detection_summary(matches, clusters, k).items()})
    outcomes = network_outcomes(matches)
    result.update({f"detection.first_rank.{row['network_id']}": row["rank"]
                   for row in outcomes.filter(pl.col("kind") == "planted").iter_rows(named=True)})
    result.update({f"detection.coverage.{row['network_id']}": row["coverage"] for row in outcomes.iter_rows(named=True)})
    if networks.get_column("strength").drop_nulls().len():
        result.update(grouped_figures(outcomes, k))
    if ablate_partners:
        for name, figures in partner_ablation(out_dir, truth, k=k).items():
            result[f"ablation.{name}.partners"] = ",".join(figures["partners"])
            result.update({f"ablation.{name}.{figure}": figures[figure] for figure in (
                f"recall_at_{k}", "average_precision", f"decoys_in_top_{k}", "flagged_clusters")})
    if write:
        (out_dir / "evaluation.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    log.info("evaluate: person F1 %s, recall@%d %s, AP %s", result["er.person.f1"], k,
             result[f"detection.recall_at_{k}"], result["detection.average_precision"])
    return result
