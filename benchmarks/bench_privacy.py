"""How well the delivered pseudonyms hold against known attacks; writes benchmarks/results/privacy.json.

The attacker holds a delivered column and public knowledge, not the key:

* family names: the 1,000 most frequent Dutch family names with their published numbers of
  bearers (``benchmarks/data/``, Meertens Instituut / CBG, 2007);
* given names: no public list with counts was available here, so the attacker is given the
  synthetic generator's own vocabulary without counts (``mhgraph/synth/data/names.txt``) — a
  stronger attacker than a real one;
* match keys: the expected frequency of each (family name, initial, birth year) combination
  from the same lists;
* all names under one domain (``names_bf``): the expected frequency of each (given name,
  family name) combination from the same lists, as many of the most likely as the column has
  codes seen twice or more (at least 2,000).

Two attacks (:mod:`mhgraph.privacy_attacks`): the frequency attack (rank alignment; applies to
keyed hashes and Bloom filters alike) and the bigram attack (frequency seeds corrected by
similarity, graph matching, pattern mining). Every figure is the share of distinct codes and
of records re-identified correctly, with the wrong guesses.

Data sets:

* ``sample`` (development): every person column of every delivered extract in data/sample,
  as delivered (the generator draws names uniformly from short lists, unlike a population);
* ``population`` (validation, seed fixed before measuring): persons whose family names follow
  the published distribution — a top-1,000 name with the probability the list gives (its
  bearers are a third of the population), otherwise a name from a sample of the rarer ones —
  with given names from the generator's Dutch list and birth dates uniform over 1955-2005,
  pseudonymised with the project's own encodings, once per hardening in ``mhgraph.crypto``.

The linkage-quality cost of each hardening (``--only er_cost``): the entity-resolution
benchmarks of ``bench_er.py`` (FEBRL4, FEBRL3, fake_1000 and historical figures 50k as
validation, the development synthetic set without BSNs) delivered through the public route with
``mhgraph pseudonymise --name-hardening``, and the synthetic partner data at medium noise with
and without BSNs: person pairwise precision, recall and F1 with the shipped settings.

Run (one at a time; the machine is shared)::

    .venv/bin/python benchmarks/bench_privacy.py
    .venv/bin/python benchmarks/bench_privacy.py --only population --population 100000 --hardening none,salt
    .venv/bin/python benchmarks/bench_privacy.py --only er_cost --hardening none,salt,blip
    .venv/bin/python benchmarks/bench_privacy.py --only er_cost --hardening blip --er-sets febrl4,fake_1000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import logging
import os
import platform
import time
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl

from bench_pipeline import _source_state, add_commit_option  # first: ROOT's mhgraph is the one imported
from mhgraph import normalise
from mhgraph.crypto import HARDENINGS, Key, bloom_encode, person_match_keys
from mhgraph.privacy_attacks import bigram_attack, frequency_attack, score_guesses
from mhgraph.spec import SPEC_DIR, load_specs

HERE = Path(__file__).parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "privacy.json"
SAMPLE = ROOT / "data" / "sample"
FAMILY_LIST = HERE / "data" / "nl_family_names_top1000_2007.csv"
FAMILY_TAIL = HERE / "data" / "nl_family_names_tail_sample.txt"
GENERATOR_NAMES = ROOT / "mhgraph" / "synth" / "data" / "names.txt"
DUTCH_NATIONALS_2007 = 15_700_000  # Dutch nationals in the municipal register, 1 January 2007 (about)
POPULATION_SEED = 20261206
KEY = Key(b"privacy benchmark key - not a partner key")
YEARS = range(1955, 2006)

log = logging.getLogger("bench_privacy")


# ------------------------------------------------------------------------------- knowledge

def family_knowledge() -> dict[str, float]:
    """Published bearers per family-name core (as the partners normalise names)."""
    known: Counter = Counter()
    with FAMILY_LIST.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            known[normalise.family_name_core(row["family_name"])] += int(row["bearers_2007"])
    return dict(known)


def generator_given_names(nationality: str | None = None) -> list[str]:
    names = []
    for line in GENERATOR_NAMES.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if line.startswith("#") or len(parts) < 5 or parts[0] != "given":
            continue
        if nationality is None or parts[1] == nationality:
            names.append(normalise.given_name_forms(parts[4]))
    return sorted(set(names))


def match_key_2_knowledge(family: dict[str, float], given: list[str], needed: int) -> dict[str, float]:
    """Expected frequency of 'family core|initial|year' (how match key 2 is composed), for the
    ``needed`` most likely combinations: family share x initial share x a uniform birth year."""
    initials = Counter(name[0] for name in given if name)
    total = sum(initials.values())
    families = sorted(family.items(), key=lambda kv: -kv[1])[: max(10, needed)]
    combos = [(f"{f}|{i}|{y}", count * n / total) for f, count in families for i, n in initials.items() for y in YEARS]
    combos.sort(key=lambda kv: (-kv[1], kv[0]))
    return dict(combos[:needed])


def names_knowledge(family: dict[str, float], given: list[str], needed: int) -> dict[str, float]:
    """Expected frequency of the name words of a (given name, family name) pair (how
    ``names_bf`` is composed: :func:`mhgraph.normalise.name_words`), for the ``needed`` most
    likely pairs: family share x a uniform given name."""
    families = sorted(family.items(), key=lambda kv: (-kv[1], kv[0]))[: max(10, needed)]
    combos: Counter = Counter()
    for f, count in families:
        for g in given:
            words = normalise.name_words(g, f)
            if words:
                combos[words] += count / len(given)
    return dict(sorted(combos.items(), key=lambda kv: (-kv[1], kv[0]))[:needed])


# ----------------------------------------------------------------------------------- data

def sample_columns() -> dict[str, tuple[list, list]]:
    """Per encoded person field, every delivered code of data/sample with its plain value."""
    out: dict[str, tuple[list, list]] = {f: ([], []) for f in ("family_name_bf", "given_name_bf", "names_bf",
                                                                 "match_key_2")}
    for spec in load_specs(SPEC_DIR):
        delivered_path = SAMPLE / spec.file
        if not delivered_path.is_file():
            continue
        if delivered_path.suffix == ".xlsx":
            delivered = pl.read_excel(delivered_path, infer_schema_length=0)
        else:
            text = delivered_path.read_bytes().decode(spec.encoding or "utf-8")
            delivered = pl.read_csv(text.encode(), separator=spec.delimiter or ",", infer_schema=False)
        plain = pl.read_parquet(SAMPLE / "truth" / "plaintext" / f"{spec.name}.parquet")
        joined = delivered.join(plain.select(pl.col(c).cast(pl.String) for c in plain.columns),
                                on=spec.record_id, suffix="__plain")
        for block in spec.entities:
            if block.type != "person":
                continue
            given = joined[block.plaintext["given_name"]].to_list() if "given_name" in block.plaintext else None
            family = joined[block.plaintext["family_name"]].to_list() if "family_name" in block.plaintext else None
            born = joined[block.plaintext["birth_date"]].to_list() if "birth_date" in block.plaintext else None
            if "family_name_bf" in block.fields and family is not None:
                out["family_name_bf"][0].extend(joined[block.fields["family_name_bf"]].to_list())
                out["family_name_bf"][1].extend(normalise.family_name_core(v) for v in family)
            if "given_name_bf" in block.fields and given is not None:
                out["given_name_bf"][0].extend(joined[block.fields["given_name_bf"]].to_list())
                out["given_name_bf"][1].extend(normalise.given_name_forms(v) for v in given)
            if "names_bf" in block.fields and given is not None and family is not None:
                out["names_bf"][0].extend(joined[block.fields["names_bf"]].to_list())
                out["names_bf"][1].extend(normalise.name_words(g, f) for g, f in zip(given, family))
            if "match_key_2" in block.fields and None not in (given, family, born):
                out["match_key_2"][0].extend(joined[block.fields["match_key_2"]].to_list())
                out["match_key_2"][1].extend(_match_key_2_plain(g, f, b) for g, f, b in zip(given, family, born))
    return out


def _match_key_2_plain(given, family, born) -> str | None:
    g, f, b = normalise.given_name(given), normalise.family_name_core(family), normalise.parse_date(born)
    return f"{f}|{g[0]}|{b.year}" if (g and f and b) else None


def population(n: int, seed: int) -> pl.DataFrame:
    """``n`` persons drawn as described in the module docstring (plain values)."""
    rng = np.random.default_rng(seed)
    with FAMILY_LIST.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    top = np.array([r["family_name"] for r in rows], dtype=object)
    bearers = np.array([int(r["bearers_2007"]) for r in rows], dtype=float)
    tail = np.array([x for x in FAMILY_TAIL.read_text(encoding="utf-8").splitlines() if x], dtype=object)
    from_top = rng.random(n) < bearers.sum() / DUTCH_NATIONALS_2007
    family = np.where(from_top, top[rng.choice(len(top), n, p=bearers / bearers.sum())],
                      tail[rng.integers(0, len(tail), n)])
    given = np.array(generator_given_names("NL"), dtype=object)[rng.integers(0, len(generator_given_names("NL")), n)]
    first, last = dt.date(1955, 1, 1).toordinal(), dt.date(2005, 12, 31).toordinal()
    born = [dt.date.fromordinal(int(d)).isoformat() for d in rng.integers(first, last + 1, n)]
    return pl.DataFrame({"record_id": [f"P{i:07d}" for i in range(n)], "given": given.tolist(),
                         "family": family.tolist(), "born": born})


def encode_population(people: pl.DataFrame, hardening: str) -> dict[str, tuple[list, list]]:
    """The person fields as a partner delivers them, with ``hardening`` on the name filters."""
    family = [normalise.family_name_core(v) for v in people["family"].to_list()]
    given = [normalise.given_name_forms(v) for v in people["given"].to_list()]
    years = [v[:4] for v in people["born"].to_list()]
    salts = {"salt": years, "blip": people["record_id"].to_list()}.get(hardening, [None] * people.height)
    words = [normalise.name_words(g, f) for g, f in zip(people["given"].to_list(), people["family"].to_list())]
    keys = [person_match_keys(KEY, g, f, b) for g, f, b in
            zip(people["given"].to_list(), people["family"].to_list(), people["born"].to_list())]
    return {
        "family_name_bf": ([bloom_encode(KEY, "family_name", v, hardening, s) for v, s in zip(family, salts)], family),
        "given_name_bf": ([bloom_encode(KEY, "given_name", v, hardening, s) for v, s in zip(given, salts)], given),
        "names_bf": ([bloom_encode(KEY, "names", w, hardening, s) for w, s in zip(words, salts)], words),
        "match_key_2": ([k[1] for k in keys],
                        [_match_key_2_plain(g, f, b) for g, f, b in
                         zip(people["given"].to_list(), people["family"].to_list(), people["born"].to_list())]),
    }


# -------------------------------------------------------------------------------- attacks

def exposure(codes: list) -> dict:
    """How frequency-exposed a column is, whatever the attacker knows."""
    counts = Counter(c for c in codes if c)
    records = sum(counts.values())
    return {"records": records, "distinct_codes": len(counts),
            "max_records_per_code": max(counts.values(), default=0),
            "share_records_in_codes_of_10_or_more": round(sum(n for n in counts.values() if n >= 10) / max(records, 1), 4)}


def attack_column(name: str, codes: list, truth: list, known: dict[str, float], bigram: bool) -> dict:
    pairs = [(c, t) for c, t in zip(codes, truth) if c and t]
    codes, truth = [c for c, _ in pairs], [t for _, t in pairs]
    out = {"exposure": exposure(codes), "known_values": len(known)}
    started = time.perf_counter()
    out["frequency_attack"] = score_guesses(frequency_attack(codes, known), codes, truth).as_dict()
    if bigram:
        guesses, stats = bigram_attack(codes, known)
        out["bigram_attack"] = {**score_guesses(guesses, codes, truth).as_dict(),
                                "bigrams_with_positions_learnt": stats["bigrams_identified"]}
    out["seconds"] = round(time.perf_counter() - started, 1)
    log.info("%s: %s", name, {k: v.get("share_records_reidentified") for k, v in out.items() if isinstance(v, dict)
                              and "share_records_reidentified" in v})
    return out


def attack_set(columns: dict[str, tuple[list, list]], family: dict, nationality: str | None = None) -> dict:
    given = generator_given_names(nationality)
    given_known = {g: 1.0 for g in given}
    needed = sum(1 for n in Counter(c for c in columns["match_key_2"][0] if c).values() if n >= 2)
    out = {
        "family_name_bf": attack_column("family_name_bf", *columns["family_name_bf"], family, True),
        "given_name_bf": attack_column("given_name_bf", *columns["given_name_bf"], given_known, True),
        "match_key_2": attack_column("match_key_2", *columns["match_key_2"],
                                     match_key_2_knowledge(family, given, max(needed, 1)), False),
    }
    if any(columns["names_bf"][0]):  # a delivery of all names under one domain
        repeated = sum(1 for n in Counter(c for c in columns["names_bf"][0] if c).values() if n >= 2)
        out["names_bf"] = attack_column("names_bf", *columns["names_bf"],
                                        names_knowledge(family, given, max(repeated, 2000)), True)
    return out


def _person_f1(resolution: pl.DataFrame, truth: pl.DataFrame) -> dict:
    from mhgraph.resolve import pairwise_scores

    scores = pairwise_scores(resolution, truth)
    return {k: round(v, 4) for k, v in scores.items() if k in ("precision", "recall", "f1")}


ER_SETS = ("febrl4", "febrl3", "fake_1000", "historical", "dev_synthetic")


def _route_quality(result: dict) -> dict:
    """Pairwise person quality and pair completeness of one ``bench_er`` result."""
    runs = result.get("runs", [result])  # the synthetic sets: one run per key
    scores = {k: round(float(np.mean([r["resolve"][k] for r in runs])), 4) for k in ("precision", "recall", "f1")}
    completeness = [r["blocking"]["pair_completeness"] for r in runs if "blocking" in r]
    return {"pair_completeness": round(float(np.mean(completeness)), 4) if completeness else None, **scores}


def er_cost(hardening: str, sets: list[str]) -> dict:
    """Person linkage quality when every partner delivers with ``hardening``: ``bench_er``'s
    ``sets`` through the public route (``mhgraph pseudonymise --name-hardening``, ``ingest``,
    ``resolve`` with the shipped settings), and the synthetic partner data at medium noise with
    and without BSNs."""
    import functools
    import shutil
    import sys
    import tempfile

    import mhgraph.synth as synth
    from mhgraph.ingest import ingest
    from mhgraph.pseudonymise import pseudonymise_frame
    from mhgraph.resolve import resolve

    sys.path.insert(0, str(HERE))
    import bench_er

    shipped_cli, shipped_work = bench_er.mhgraph, bench_er.WORK

    def hardened_cli(*args: str) -> str:
        return shipped_cli(*args, *(["--name-hardening", hardening] if args[0] == "pseudonymise" else []))

    bench_er.mhgraph, bench_er.WORK = hardened_cli, shipped_work / f"privacy_{hardening}"
    shutil.rmtree(bench_er.WORK, ignore_errors=True)  # bench_er reuses a delivered run: deliver afresh
    out: dict = {}
    try:
        for name in sets:
            role, run = bench_er.PARTS[name]
            started = time.perf_counter()
            out[name] = {"role": role, **_route_quality(run()), "seconds": round(time.perf_counter() - started, 1)}
            log.info("er cost %s %s: %s", hardening, name, out[name])
    finally:
        bench_er.mhgraph, bench_er.WORK = shipped_cli, shipped_work
    synth_delivery = synth.pseudonymise_frame
    synth.pseudonymise_frame = functools.partial(pseudonymise_frame, hardening=hardening)
    folder = Path(tempfile.mkdtemp(prefix="privacy-er-"))
    try:
        synth.synthesize(folder, persons=5000, seed=11, noise="medium")
        ingested = ingest(folder)
        truth = pl.read_parquet(folder / "truth" / "mentions.parquet").filter(pl.col("entity_type") == "person")
        with_bsn = resolve(ingested.mentions, ingested.relations).resolution
        without = ingested.mentions.with_columns(
            pl.when(pl.col("entity_type") == "person").then(None).otherwise(pl.col("bsn")).alias("bsn"))
        out["synthetic_medium"] = {"role": "development", "with_bsn": _person_f1(with_bsn, truth),
                                   "without_bsn": _person_f1(resolve(without, ingested.relations).resolution, truth)}
    finally:
        synth.pseudonymise_frame = synth_delivery
        shutil.rmtree(folder, ignore_errors=True)
    log.info("er cost %s: %s", hardening, out)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="sample,population")
    parser.add_argument("--population", type=int, default=100_000)
    parser.add_argument("--hardening", default=",".join(HARDENINGS))
    parser.add_argument("--er-sets", default=",".join(ER_SETS), help="er_cost: the sets of bench_er.py to deliver")
    add_commit_option(parser)
    args = parser.parse_args(argv)
    source = _source_state(args.commit)  # before anything is measured: a copy that cannot say its commit stops here
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.is_file() else {}
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "loadavg_before": [round(x, 2) for x in os.getloadavg()]}
    results["attacker_knowledge"] = {
        "family_names": "top 1,000 Dutch family names with published bearers, 2007 (benchmarks/data/README.md)",
        "given_names": "the synthetic generator's own given-name vocabulary, no counts (stronger than a real attacker)",
        "match_key_2": "family-name counts x initial shares of the given names x uniform birth year 1955-2005",
        "names_bf": "family-name counts x uniform given names, the most likely pairs (at least 2,000)",
    }
    family = family_knowledge()
    only = set(args.only.split(","))
    if "sample" in only:
        started = time.perf_counter()
        hardening = sorted({json.loads(p.read_text(encoding="utf-8")).get("name_hardening", "none")
                            for p in SAMPLE.glob("*.meta.json")})
        results["sample"] = {"data": "data/sample as delivered (development)", "hardening": ",".join(hardening),
                             "given_names_known": "all nationalities of the generator",
                             **attack_set(sample_columns(), family),
                             "seconds": round(time.perf_counter() - started, 1), "source": source}
    if "population" in only:
        people = population(args.population, POPULATION_SEED)
        runs = results.get("population", {}).get("hardening", {})
        for hardening in args.hardening.split(","):
            started = time.perf_counter()
            runs[hardening] = {**attack_set(encode_population(people, hardening), family, "NL"),
                               "seconds": round(time.perf_counter() - started, 1), "source": source}
        results["population"] = {"data": f"{args.population} persons, seed {POPULATION_SEED} (validation)",
                                 "persons": args.population, "hardening": runs}
    if "er_cost" in only:
        costs = results.get("er_cost", {})
        for hardening in args.hardening.split(","):
            measured = er_cost(hardening, args.er_sets.split(","))
            costs.setdefault(hardening, {}).update(  # keep the other sets, each with the commit that measured it
                {name: {**figures, "source": source} for name, figures in measured.items()})
        results["er_cost"] = costs
        results.pop("er_cost_new_resolver", None)  # measured by hand before the route above existed
    results["machine"]["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    results["recorded"] = dt.datetime.now().isoformat(timespec="seconds")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
