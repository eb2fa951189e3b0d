"""The entity-resolution benchmark refuses to score a run whose resolve failed."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_er.py"


def _bench_er():
    spec = importlib.util.spec_from_file_location("bench_er_under_test", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    sys.path.insert(0, str(BENCH.parent))  # as when run as a script: it imports bench_pipeline beside it
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH.parent))
    return module


def test_a_failed_resolve_stops_the_benchmark_instead_of_scoring_the_old_folder(tmp_path):
    # a folder without ingested tables: `mhgraph resolve` reports the error and returns 1
    # without raising, so the child process itself exits 0
    bench = _bench_er()
    with pytest.raises(SystemExit, match="resolve failed on"):
        bench.timed_resolve(tmp_path)


def test_a_cached_delivery_is_reused_only_while_its_specs_and_plaintext_are_unchanged(tmp_path):
    import polars as pl

    bench = _bench_er()
    plain = pl.DataFrame({"id": ["r1", "r2", "r3"], "voornaam": ["Jan", "Piet", "Anna"],
                          "achternaam": ["Jansen", "de Vries", "Bakker"]})
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    columns = {"given_name": "voornaam", "family_name": "achternaam"}
    (spec_dir / "reg.toml").write_text(bench.person_spec("reg", "id", columns), encoding="utf-8")
    key = bench.KEYS[0]

    run = bench.deliver(tmp_path / "work", spec_dir, {"reg": plain}, key)
    first = (run / "tables" / "mentions.parquet").stat().st_mtime_ns
    bench.deliver(tmp_path / "work", spec_dir, {"reg": plain}, key)
    assert (run / "tables" / "mentions.parquet").stat().st_mtime_ns == first

    changed = plain.with_columns(pl.Series("voornaam", ["Jan", "Pieter", "Anna"]))
    bench.deliver(tmp_path / "work", spec_dir, {"reg": changed}, key)
    second = (run / "tables" / "mentions.parquet").stat().st_mtime_ns
    assert second != first

    (spec_dir / "reg.toml").write_text(bench.person_spec("reg", "id", {"family_name": "achternaam"}),
                                      encoding="utf-8")
    bench.deliver(tmp_path / "work", spec_dir, {"reg": changed}, key)
    assert (run / "tables" / "mentions.parquet").stat().st_mtime_ns != second


def test_the_delivery_stamp_covers_every_module_pseudonymise_and_ingest_load_and_the_row_order(tmp_path):
    """Every mhgraph module that importing pseudonymise and ingest loads (purpose, reference,
    safe_output among them) is part of the stamp, resolve is not; a changed line in one of them,
    or the same rows in another order, is another delivery."""
    import shutil

    import polars as pl

    bench = _bench_er()
    code = {path.relative_to(bench.ROOT).as_posix() for path in bench.delivery_code()}
    ingest = {path.relative_to(bench.ROOT).as_posix() for path in (bench.ROOT / "mhgraph" / "ingest").glob("*.py")}
    assert {"mhgraph/pseudonymise.py", "mhgraph/crypto.py", "mhgraph/purpose.py", "mhgraph/reference.py",
            "mhgraph/safe_output.py", *ingest} <= code
    assert not any(name.startswith("mhgraph/resolve/") for name in code) and "mhgraph/__init__.py" not in code

    plain = pl.DataFrame({"id": ["r1", "r2", "r3"], "voornaam": ["Jan", "Piet", "Anna"]})
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    (spec_dir / "reg.toml").write_text(bench.person_spec("reg", "id", {"given_name": "voornaam"}), encoding="utf-8")
    key = bench.KEYS[0]
    stamp = bench.delivery_stamp(spec_dir, {"reg": plain}, key)
    assert bench.delivery_stamp(spec_dir, {"reg": plain.clone()}, key) == stamp
    assert bench.delivery_stamp(spec_dir, {"reg": plain.reverse()}, key) != stamp

    shutil.copytree(bench.ROOT / "mhgraph", tmp_path / "copy" / "mhgraph")
    bench.ROOT = tmp_path / "copy"
    assert bench.delivery_stamp(spec_dir, {"reg": plain}, key) == stamp
    for name in ("purpose.py", "reference.py", "safe_output.py"):
        path = bench.ROOT / "mhgraph" / name
        path.write_text(path.read_text() + "\n# changed\n")
        changed = bench.delivery_stamp(spec_dir, {"reg": plain}, key)
        assert changed != stamp
        stamp = changed


def test_the_delivery_stamp_covers_imports_inside_functions_relative_imports_the_cli_and_the_name_data(tmp_path):
    """A module imported inside a function or by a relative import, the command line (defaults of
    pseudonymise and ingest) and the diminutives behind ``given_name_bf`` are part of the stamp:
    a change to any of them is another delivery. What follows the delivery (resolve) is not."""
    import shutil

    import polars as pl

    bench = _bench_er()
    plain = pl.DataFrame({"id": ["r1", "r2"], "voornaam": ["Jan", "Piet"]})
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    (spec_dir / "reg.toml").write_text(bench.person_spec("reg", "id", {"given_name": "voornaam"}), encoding="utf-8")
    key = bench.KEYS[0]
    shutil.copytree(bench.ROOT / "mhgraph", tmp_path / "copy" / "mhgraph")
    bench.ROOT = tmp_path / "copy"
    package = bench.ROOT / "mhgraph"
    (package / "late_helper.py").write_text("VALUE = 1\n")
    (package / "ingest" / "late_rule.py").write_text("VALUE = 1\n")
    with (package / "pseudonymise.py").open("a") as module:
        module.write("\n\ndef _late():\n    from mhgraph import late_helper\n    return late_helper\n")
    with (package / "ingest" / "run.py").open("a") as module:
        module.write("\n\ndef _late():\n    from .late_rule import VALUE\n    return VALUE\n")
    names = {path.relative_to(bench.ROOT).as_posix() for path in bench.delivery_code()}
    assert {"mhgraph/late_helper.py", "mhgraph/ingest/late_rule.py", "mhgraph/cli.py",
            "mhgraph/data/diminutives_en.csv", "mhgraph/data/diminutives_eu.csv"} <= names
    assert not any(name.startswith("mhgraph/resolve/") for name in names)

    stamp = bench.delivery_stamp(spec_dir, {"reg": plain}, key)
    for name in ("late_helper.py", "ingest/late_rule.py", "cli.py", "data/diminutives_en.csv",
                 "data/diminutives_eu.csv"):
        path = package / name
        path.write_bytes(path.read_bytes() + b"\n")
        changed = bench.delivery_stamp(spec_dir, {"reg": plain}, key)
        assert changed != stamp, name
        stamp = changed
    (package / "resolve" / "score.py").write_text("# changed\n", encoding="utf-8")
    assert bench.delivery_stamp(spec_dir, {"reg": plain}, key) == stamp


def test_cached_synthetic_extracts_are_written_again_when_the_generator_or_what_it_imports_changes(tmp_path):
    """``mhgraph synth``'s extracts are reused while neither its arguments nor its code changed:
    a line changed in the generator is written again; the stamp follows what it imports
    (pseudonymise), its vocabularies and the specs too; a change to resolve is no change to them."""
    import shutil

    bench = _bench_er()
    shutil.copytree(bench.ROOT / "mhgraph", tmp_path / "copy" / "mhgraph")
    bench.ROOT = tmp_path / "copy"
    package = bench.ROOT / "mhgraph"
    arguments = ("--persons", "1000", "--seed", "5")
    folder = bench.synthesised(tmp_path / "work" / "synthetic_extracts", arguments)
    truth = folder / "truth" / "mentions.parquet"
    first = truth.stat().st_mtime_ns
    assert bench.synthesised(folder, arguments) == folder and truth.stat().st_mtime_ns == first

    with (package / "synth" / "noise.py").open("a") as module:
        module.write("\n# changed\n")
    bench.synthesised(folder, arguments)
    again = truth.stat().st_mtime_ns
    assert again != first

    (package / "resolve" / "score.py").write_text("# changed\n", encoding="utf-8")
    bench.synthesised(folder, arguments)
    assert truth.stat().st_mtime_ns == again

    stamp = bench.synth_stamp(arguments)
    assert bench.synth_stamp(("--persons", "1000", "--seed", "6")) != stamp
    for name in ("pseudonymise.py", "synth/data/names.txt", "specs/kvk_inschrijvingen.toml"):
        path = package / name
        path.write_bytes(path.read_bytes() + b"\n")
        changed = bench.synth_stamp(arguments)
        assert changed != stamp, name
        stamp = changed
