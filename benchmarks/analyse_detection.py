"""What evidence the misses and the false positives of the ranking had, on the development worlds.

Works on the worlds ``benchmarks/tune_ranking.py prepare`` keeps (development seeds only) and
writes one table, ``benchmarks/results/detection_analysis.md``:

* every planted network that no top-10 flagged cluster finds: its typology, strength and
  origin, the share of it its own community holds, that community's rank and score, the rules
  that fired there at full strength (``full``) and only at their weak level (``weak``), the
  rules that fire there only when their thresholds are relaxed further (``RELAXED``: what the
  network shows far under each threshold), the rules that fired on the network's own entities
  in *other* communities (``split off``: evidence community detection separated from it) and
  the score of the tenth flagged cluster (``10th``: what it would have had to beat);
* every top-10 cluster that belongs to no planted network: a lawful look-alike (its kind) or
  an ordinary cluster, with the rules that fired and those that fire relaxed;
* every medium and weak network of a typology planted with both worker origins, found or not,
  with the same columns: where equally exploited EU and non-EU networks differ;
* per rule, how many communities its relaxed form reaches (in planted networks, in look-alikes,
  elsewhere): the base rate a weaker form of the rule would have to beat.

    .venv/bin/python benchmarks/analyse_detection.py [--noise medium] [--limit N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from bench_pipeline import _source_state, add_commit_option  # first: ROOT's mhgraph is the one imported
from mhgraph.evaluate import match_networks
from mhgraph.indicators import compute_indicators
from mhgraph.rank import rank_clusters
from mhgraph.synth.typologies import BOTH_ORIGINS
from tune_ranking import KEPT, WORK, development_worlds

OUT = Path(__file__).parent / "results" / "detection_analysis.md"

# Each threshold at about half its shipped strictness: what "just under the threshold" reaches.
RELAXED = {
    "crowded_address": {"min_persons": 4},
    "worker_lives_at_workplace": {"min_workers": 1},
    "wage_below_minimum": {"min_employees": 1, "min_share": 0.0, "tolerance": 0.0},
    "minimum_pay_for_few_hours": {"min_employees": 1, "min_share": 0.0, "max_weekly_hours": 24},
    "sponsor_of_many_migrants": {"min_sponsored": 2, "min_missing_share": 0.1},
    "sponsor_churn": {"min_persons": 1, "max_days_at_sponsor": 366, "max_gap_days": 183},
    "exchange_permit_labour": {"max_wage_share": 1.0},
    "straw_director": {"min_short": 2, "max_days": 1100},
    "shared_company_address": {"min_companies": 3, "min_linked": 2},
    "phoenix_company": {"max_gap_days": 366, "min_shared_employees": 1},
    "permits_linked_to_operator": {"min_holders": 1},
    "waterbed_move": {"max_days": 2200},
    "link_to_earlier_refusal": {"max_hops": 7, "max_days": 2200},
}


def _rules_per_cluster(hits: pl.DataFrame, communities: pl.DataFrame) -> dict[str, str]:
    located = hits.filter(pl.col("indicator") != "high_risk_sector").drop("cluster_id").join(
        communities.select(focus_entity="entity_id", cluster_id="cluster_id"), on="focus_entity")
    return {row["cluster_id"]: ", ".join(row["indicator"]) for row in
            located.group_by("cluster_id").agg(pl.col("indicator").unique().sort()).iter_rows(named=True)}


def analyse_world(folder: Path, k: int = 10) -> tuple[list[dict], list[dict], pl.DataFrame]:
    t = {name: pl.read_parquet(folder / f"{name}.parquet") for name in KEPT}
    truth_mentions = pl.read_parquet(folder / "data" / "truth" / "mentions.parquet")
    networks = pl.read_parquet(folder / "data" / "truth" / "networks.parquet")
    hits = compute_indicators(t["nodes"], t["edges"], t["communities"])
    relaxed = compute_indicators(t["nodes"], t["edges"], t["communities"], thresholds=RELAXED, graded=False)
    clusters = rank_clusters(t["communities"], t["nodes"], t["edges"], hits)
    strict = _rules_per_cluster(hits.filter(pl.col("grade") == "full"), t["communities"])
    weak = _rules_per_cluster(hits.filter(pl.col("grade") == "weak"), t["communities"])
    loose = _rules_per_cluster(relaxed, t["communities"])
    everyone = clusters.with_columns(flagged=pl.lit(True))
    elsewhere = _split_off(t, truth_mentions, networks, hits)
    tenth = clusters.filter(pl.col("flagged")).head(k).get_column("score").min()
    homes = (match_networks(t["resolution"], t["communities"], everyone, truth_mentions, networks)
             .filter(pl.col("finds")).sort("held", descending=True).unique("network_id", keep="first")
             .select("network_id", home="cluster_id"))
    matches = match_networks(t["resolution"], t["communities"], clusters, truth_mentions, networks)
    described = networks.group_by("network_id").agg(pl.col("kind", "typology", "strength", "origin").first())
    best = (matches.filter(pl.col("finds")).group_by("network_id").agg(pl.col("rank").min())
            .rename({"rank": "found_rank"}))
    by_rank = {row["cluster_id"]: row for row in clusters.iter_rows(named=True)}
    planted = []
    outcome = (described.filter(pl.col("kind") == "planted").join(best, on="network_id", how="left")
               .join(homes, on="network_id", how="left")
               .join(matches.group_by("network_id").agg(pl.col("coverage").first()), on="network_id"))
    for row in outcome.sort("typology", "strength").iter_rows(named=True):
        home = by_rank.get(row["home"], {})
        planted.append({"world": folder.name, **{c: row[c] for c in ("typology", "strength", "origin")},
                        "coverage": round(row["coverage"], 2), "rank": home.get("rank"), "score": home.get("score"),
                        **_evidence(row["home"], strict, weak, loose),
                        "split off": elsewhere.get(row["network_id"], ""), "10th": tenth,
                        "found": row["found_rank"] is not None and row["found_rank"] <= k})
    of_planted = set(matches.filter(pl.col("kind") == "planted").get_column("cluster_id").drop_nulls())
    decoy_of = {r["cluster_id"]: r["typology"] for r in matches.filter(pl.col("kind") == "decoy").iter_rows(named=True)
                if r["cluster_id"] is not None}
    wrong = []
    for row in clusters.filter(pl.col("flagged")).head(k).iter_rows(named=True):
        if row["cluster_id"] in of_planted:
            continue
        wrong.append({"world": folder.name, "rank": row["rank"], "score": row["score"],
                      "kind": decoy_of.get(row["cluster_id"], "ordinary"), "size": row["size"],
                      **_evidence(row["cluster_id"], strict, weak, loose)})
    planted_clusters = set(homes.join(described.filter(pl.col("kind") == "planted"), on="network_id")
                           .get_column("home").drop_nulls())
    decoy_clusters = set(homes.join(described.filter(pl.col("kind") == "decoy"), on="network_id")
                         .get_column("home").drop_nulls())
    reach = (relaxed.drop("cluster_id").join(t["communities"].select(focus_entity="entity_id", cluster_id="cluster_id"),
                                             on="focus_entity")
             .select("indicator", "cluster_id").unique()
             .with_columns(where=pl.when(pl.col("cluster_id").is_in(list(planted_clusters))).then(pl.lit("planted"))
                           .when(pl.col("cluster_id").is_in(list(decoy_clusters))).then(pl.lit("look-alike"))
                           .otherwise(pl.lit("elsewhere"))))
    return planted, wrong, reach


def _split_off(t: dict, truth_mentions: pl.DataFrame, networks: pl.DataFrame,
               hits: pl.DataFrame) -> dict[str, str]:
    """``network_id -> rules`` that fired (full or weak) on the network's own entities outside
    the community that holds most of them."""
    images = (truth_mentions.select("mention_id", true_entity="entity_id")
              .join(t["resolution"].select("mention_id", "entity_id"), on="mention_id")
              .group_by("true_entity", "entity_id").agg(n=pl.len())
              .sort(["true_entity", "n", "entity_id"], descending=[False, True, False])
              .group_by("true_entity", maintain_order=True).first())
    members = (networks.select("network_id", true_entity="entity_id").unique().join(images, on="true_entity")
               .join(t["communities"].select("entity_id", "cluster_id"), on="entity_id"))
    homes = members.group_by("network_id", "cluster_id").agg(n=pl.len()).sort(
        ["network_id", "n", "cluster_id"], descending=[False, True, False]).unique("network_id", keep="first")
    away = (hits.filter(pl.col("indicator") != "high_risk_sector").select("indicator", "grade", entity_id="focus_entity")
            .join(members, on="entity_id")
            .join(homes.select("network_id", home="cluster_id"), on="network_id")
            .filter(pl.col("cluster_id") != pl.col("home"))
            .with_columns(rule=pl.col("indicator") + pl.when(pl.col("grade") == "weak").then(pl.lit(" (weak)"))
                          .otherwise(pl.lit("")))
            .group_by("network_id").agg(pl.col("rule").unique().sort()))
    return {r["network_id"]: ", ".join(r["rule"]) for r in away.iter_rows(named=True)}


def _evidence(cluster_id: str | None, strict: dict, weak: dict, loose: dict) -> dict[str, str]:
    """The rules behind a community: full hits, weak hits, and those only the relaxed thresholds find."""
    full, below = strict.get(cluster_id, ""), weak.get(cluster_id, "")
    seen = set(f"{full}, {below}".split(", "))
    return {"full": full, "weak": below,
            "relaxed": ", ".join(r for r in loose.get(cluster_id, "").split(", ") if r and r not in seen)}


def _table(rows: list[dict]) -> str:
    if not rows:
        return "(none)\n"
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join("" if r[c] is None else str(r[c]) for c in head) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", nargs="*")
    parser.add_argument("--limit", type=int)
    add_commit_option(parser)
    args = parser.parse_args(argv)
    source = _source_state(args.commit)  # before anything is read: a copy that cannot say its commit stops here
    planted, wrong, reaches = [], [], []
    for seed, noise in development_worlds(args.noise)[: args.limit]:
        folder = WORK / f"{seed}-{noise}"
        if not (folder / "communities.parquet").is_file():
            continue
        p, w, r = analyse_world(folder)
        planted += p
        wrong += w
        reaches.append(r)
        print(f"{folder.name}: {sum(not n['found'] for n in p)} missed, {len(w)} top-10 clusters of no planted network",
              flush=True)
    missed = [{c: v for c, v in n.items() if c != "found"} for n in planted if not n["found"]]
    shown = ("found", "split off", "10th")
    compared = sorted(({c: v for c, v in n.items() if c not in shown[1:]} for n in planted if n["typology"] in BOTH_ORIGINS and n["strength"] in ("medium", "weak")),
                      key=lambda n: (n["strength"], n["typology"], n["origin"], n["world"]))
    reach = (pl.concat(reaches).group_by("indicator", "where").agg(clusters=pl.len())
             .pivot(on="where", index="indicator", values="clusters").fill_null(0).sort("indicator"))
    OUT.write_text(
        "# What the misses and false positives had (development worlds, shipped defaults)\n\n"
        f"Written by `benchmarks/analyse_detection.py` at commit {source['commit']} (changed under mhgraph/: "
        f"{'unknown' if source['mhgraph_changed_files'] is None else ', '.join(source['mhgraph_changed_files']) or 'nothing'}). "
        "`full`: rules that fired in the network's own community; "
        "`weak`: rules that fired there only at their weak level (counted only beside another family); "
        "`relaxed`: rules that fire there only with the thresholds of `RELAXED`; `split off`: rules that fired "
        "on the network's own entities in other communities; `10th`: the score of the tenth flagged cluster.\n\n"
        f"## Planted networks not in the top 10 ({len(missed)})\n\n{_table(missed)}\n"
        f"## Top-10 clusters of no planted network ({len(wrong)})\n\n{_table(wrong)}\n"
        "## EU and non-EU workers at equal strength (medium and weak; typologies with both origins)\n\n"
        f"{_table(compared)}\n"
        "## Communities each relaxed rule reaches (summed over the worlds)\n\n"
        f"{_table(reach.to_dicts())}", encoding="utf-8")
    print(f"written {OUT}")


if __name__ == "__main__":
    main()
