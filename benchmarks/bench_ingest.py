"""Ingest throughput (rows/s) and peak memory on large payroll extracts.

Writes a delivered-format ``belastingdienst_loonaangifte.csv`` of N rows straight away —
random but well-formed keyed hashes and Bloom filters drawn from seeded pools, so that
persons and employers repeat as in a real payroll — instead of running the pseudonymiser
N times. Then ingests it in a fresh process (so that the peak resident memory is that run's
alone), streamed to Parquet (``ingest(..., out_dir=...)``, what ``mhgraph ingest`` does),
and for the smaller sizes also in memory.

    .venv/bin/python benchmarks/bench_ingest.py                 # 1M and 10M rows
    .venv/bin/python benchmarks/bench_ingest.py --rows 100000   # a quick look

Results go to ``benchmarks/results/ingest.json``. The machine is shared (2 cores): the load
average before and after each run is recorded next to each figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from bench_pipeline import _source_state, add_commit_option  # first: ROOT's mhgraph is the one imported
from mhgraph.pseudonymise import META_SUFFIX, NAME_HARDENING
from mhgraph.spec import SPEC_DIR, load_spec

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "ingest.json"
SPEC = "belastingdienst_loonaangifte"
CHUNK_ROWS = 500_000
IN_MEMORY_MAX_ROWS = 1_000_000


def _pool(rng: np.random.Generator, size: int, n_bytes: int, encoding: str) -> pl.Series:
    raw = rng.integers(0, 256, size=(size, n_bytes), dtype=np.uint8)
    binary = pl.Series([row.tobytes() for row in raw], dtype=pl.Binary)
    text = binary.bin.encode(encoding)
    return text.str.slice(0, 32) if encoding == "hex" else text


def write_payroll(path: Path, rows: int, seed: int = 7) -> int:
    """Write a delivered payroll extract of ``rows`` rows and its sidecar; return the extract's size in bytes."""
    rng = np.random.default_rng(seed)
    persons, employers, addresses = max(rows // 3, 10), max(rows // 50, 5), max(rows // 5, 10)
    hashes = {name: _pool(rng, size, 16, "hex") for name, size in
              (("person", persons), ("wage_tax", employers), ("kvk", employers), ("key1", persons),
               ("key2", persons), ("address", addresses), ("building", addresses))}
    blooms = {name: _pool(rng, size, 32, "base64") for name, size in
              (("employer_name", employers), ("given", persons), ("family", persons), ("names", persons),
               ("born", persons))}
    towns = pl.Series(["Arnhem", "Emmen", "Eindhoven", "Westland", "Venlo", "'s-Hertogenbosch"])
    contracts = pl.Series(["onbepaalde tijd", "bepaalde tijd", "oproep", "uitzend"])
    age_bands = pl.Series(["18", "19", "20", "21+", "21+", "21+", "21+", "21+"])
    with open(path, "wb") as out:
        for start in range(0, rows, CHUNK_ROWS):
            n = min(CHUNK_ROWS, rows - start)
            person = pl.Series(rng.integers(0, persons, n))
            employer = pl.Series(rng.integers(0, employers, n))
            address = pl.Series(rng.integers(0, addresses, n))
            begin = pl.Series(np.datetime64("2022-01-01") + rng.integers(0, 1000, n)).cast(pl.Date)
            frame = pl.DataFrame({
                "regelnummer": pl.int_range(start + 1, start + n + 1, eager=True).cast(pl.String).str.zfill(10),
                "werkgever_loonheffingennummer": hashes["wage_tax"].gather(employer),
                "werkgever_kvk_nummer": hashes["kvk"].gather(employer),
                "werkgever_naam_bf": blooms["employer_name"].gather(employer),
                "werknemer_bsn": hashes["person"].gather(person),
                "werknemer_voornaam_bf": blooms["given"].gather(person),
                "werknemer_achternaam_bf": blooms["family"].gather(person),
                "werknemer_names_bf": blooms["names"].gather(person),
                "werknemer_geboortedatum_bf": blooms["born"].gather(person),
                "werknemer_sleutel_1": hashes["key1"].gather(person),
                "werknemer_sleutel_2": hashes["key2"].gather(person),
                "werknemer_adres_sleutel": hashes["address"].gather(address),
                "werknemer_adres_pand": hashes["building"].gather(address),
                "werknemer_adres_gemeente": towns.gather(address % towns.len()),
                "datum_aanvang": begin.dt.strftime("%Y-%m-%d"),
                "datum_einde": begin.dt.offset_by("90d").dt.strftime("%d-%m-%Y"),
                "brutoloon": pl.Series(rng.integers(80_000, 500_000, n) / 100).cast(pl.String).str.replace(".", ",", literal=True),
                "uren": pl.Series(rng.integers(20, 180, n)).cast(pl.String),
                "contractsoort": contracts.gather(pl.Series(rng.integers(0, 4, n))),
                "werknemer_leeftijdsklasse": age_bands.gather(person % age_bands.len()),
            })
            frame.write_csv(out, include_header=start == 0)
    # The sidecar mhgraph pseudonymise writes beside every extract: ingest refuses a file without one.
    spec = load_spec(SPEC_DIR / f"{SPEC}.toml")
    Path(str(path) + META_SUFFIX).write_text(json.dumps({
        "source": spec.name, "partner": spec.partner, "purpose": spec.purpose, "name_hardening": NAME_HARDENING,
        "rows": rows, "key_fingerprint": "random-pools-no-key", "created": "2025-01-01"}), encoding="utf-8")
    return path.stat().st_size


# Peak memory is the child's own VmHWM: getrusage's ru_maxrss would start from the parent's
# peak (Linux keeps it across fork and exec), and the parent just generated the file.
_CHILD = """
import json, sys, time
from mhgraph.ingest import ingest
input_dir, out_dir = sys.argv[1], sys.argv[2]
start = time.perf_counter()
result = ingest(input_dir, out_dir=out_dir if out_dir != "-" else None)
seconds = time.perf_counter() - start
source = result.summary["sources"][0]
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_kb / 1024,
                  "rows_read": source["rows_read"], "rows_accepted": source["rows_accepted"],
                  "rows_quarantined": source["rows_quarantined"], "mentions": source["mentions"],
                  "relations": source["relations"]}))
"""


def measure(input_dir: Path, out_dir: Path | None) -> dict:
    """Ingest in a fresh interpreter and report time, peak RSS and counts."""
    load_before = os.getloadavg()
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, str(input_dir), str(out_dir) if out_dir else "-"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["rows_per_second"] = round(result["rows_read"] / result["seconds"])
    result["seconds"] = round(result["seconds"], 2)
    result["peak_rss_mb"] = round(result["peak_rss_mb"])
    result["loadavg_before"] = [round(x, 2) for x in load_before]
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--tmp", default=None, help="folder for the generated extract (default: system temp)")
    add_commit_option(parser)
    args = parser.parse_args(argv)
    source = _source_state(args.commit)  # before anything is generated: a copy that cannot say its commit stops here
    runs = []
    for rows in args.rows:
        work = Path(tempfile.mkdtemp(prefix="mhgraph-bench-ingest-", dir=args.tmp))
        try:
            (work / "in").mkdir()
            started = time.perf_counter()
            size = write_payroll(work / "in" / f"{SPEC}.csv", rows)
            print(f"{rows:,} rows: wrote {size / 1e9:.2f} GB in {time.perf_counter() - started:.0f} s", flush=True)
            modes = [("streamed", work / "out")] + ([("in_memory", None)] if rows <= IN_MEMORY_MAX_ROWS else [])
            for mode, out_dir in modes:
                result = {"rows": rows, "file_gb": round(size / 1e9, 3), "mode": mode, **measure(work / "in", out_dir)}
                print(json.dumps(result), flush=True)
                runs.append(result)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    report = {
        "benchmark": "ingest of a delivered belastingdienst_loonaangifte CSV (20 columns)",
        "command": " ".join([".venv/bin/python benchmarks/bench_ingest.py", *map(str, argv or sys.argv[1:])]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "polars": pl.__version__,
                    "note": "2 cores shared with other work; see the load averages per run"},
        "source": source,
        "runs": runs,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
