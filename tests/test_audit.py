"""The audit log as a hash chain: it verifies, and every kind of tampering is caught."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

from mhgraph.audit import GENESIS, append_entry, entry_hash, verify_audit_log
from mhgraph.manifest import append_audit_log, new_manifest, record_manifest, run_anchors

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def log_next_to_the_output(monkeypatch):
    monkeypatch.delenv("MHGRAPH_AUDIT_LOG", raising=False)


def chained_log(path: Path, n: int = 5) -> list[str]:
    for i in range(n):
        append_entry(path, {"command": "run", "run_id": f"r{i}"})
    return path.read_text().splitlines()


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines))


def test_intact_chain_verifies_with_its_last_hash(tmp_path):
    log = tmp_path / "audit.log"
    lines = chained_log(log)
    result = verify_audit_log(log)
    assert result.intact and result.lines == 5
    entries = [json.loads(line) for line in lines]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev"] == GENESIS
    assert all(later["prev"] == earlier["hash"] for earlier, later in zip(entries, entries[1:]))
    assert all(e["hash"] == entry_hash(e) for e in entries)
    assert result.last_hash == entries[-1]["hash"]


def test_altered_line_is_named(tmp_path):
    log = tmp_path / "audit.log"
    lines = chained_log(log)
    lines[2] = lines[2].replace('"r2"', '"r9"')
    write_lines(log, lines)
    result = verify_audit_log(log)
    assert not result.intact and result.bad_line == 3
    assert "line 3 was altered" in result.problem


def test_altered_last_line_is_caught_too(tmp_path):
    log = tmp_path / "audit.log"
    lines = chained_log(log)
    lines[-1] = lines[-1].replace('"run"', '"ingest"')
    write_lines(log, lines)
    assert verify_audit_log(log).bad_line == 5


def test_altered_line_with_recomputed_hash_breaks_the_next_link(tmp_path):
    log = tmp_path / "audit.log"
    lines = chained_log(log)
    entry = json.loads(lines[1])
    entry["run_purpose"] = "something else"
    entry["hash"] = entry_hash(entry)
    lines[1] = json.dumps(entry, sort_keys=True)
    write_lines(log, lines)
    result = verify_audit_log(log)
    assert result.bad_line == 3 and "does not follow the line before it" in result.problem


def test_removed_line_is_named(tmp_path):
    log = tmp_path / "audit.log"
    lines = chained_log(log)
    write_lines(log, lines[:2] + lines[3:])
    result = verify_audit_log(log)
    assert result.bad_line == 3 and "removed, inserted or moved" in result.problem


def test_removed_first_line_is_named(tmp_path):
    log = tmp_path / "audit.log"
    lines = chained_log(log)
    write_lines(log, lines[1:])
    assert verify_audit_log(log).bad_line == 1


def test_inserted_line_is_named(tmp_path):
    log = tmp_path / "audit.log"
    lines = chained_log(log)
    # a forger who knows the format: a well-formed entry chained to the line before it
    forged = {"command": "run", "run_id": "forged", "seq": 3, "prev": json.loads(lines[1])["hash"]}
    forged["hash"] = entry_hash(forged)
    write_lines(log, lines[:2] + [json.dumps(forged, sort_keys=True)] + lines[2:])
    result = verify_audit_log(log)
    assert result.bad_line == 4 and not result.intact


def test_inserted_foreign_line_is_named(tmp_path):
    log = tmp_path / "audit.log"
    lines = chained_log(log)
    write_lines(log, lines[:1] + ['{"command": "run", "run_id": "x"}'] + lines[1:])
    result = verify_audit_log(log)
    assert result.bad_line == 2 and "no chain fields" in result.problem


def test_reordered_lines_are_named(tmp_path):
    log = tmp_path / "audit.log"
    lines = chained_log(log)
    write_lines(log, [lines[0], lines[2], lines[1], *lines[3:]])
    assert verify_audit_log(log).bad_line == 2


def test_cut_off_end_is_invisible_to_the_chain_but_shown_by_an_anchor(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    log = tmp_path / "audit.log"
    chained_log(log, 3)
    manifest = new_manifest("run", "riec_integral_assessment", out)
    record_manifest(out, manifest)
    assert manifest["audit"]["line"] == 4 and manifest["audit"]["log"] == str(log)
    anchors = run_anchors([out])
    assert verify_audit_log(log, anchors).intact
    write_lines(log, log.read_text().splitlines()[:3])
    assert verify_audit_log(log).intact  # what a hash chain cannot show by itself
    result = verify_audit_log(log, anchors)
    assert not result.intact and "cut off" in result.problem


def test_rewritten_chain_is_shown_by_an_anchor(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    log = tmp_path / "audit.log"
    record_manifest(out, new_manifest("run", "riec_integral_assessment", out))
    anchors = run_anchors([out])
    log.unlink()  # rewrite the whole log, consistently
    append_entry(log, {"command": "run", "run_id": "rewritten"})
    assert verify_audit_log(log).intact
    assert "rewritten" in verify_audit_log(log, anchors).problem


def test_torn_last_line_is_named_and_the_chain_goes_on(tmp_path):
    log = tmp_path / "audit.log"
    lines = chained_log(log, 2)
    log.write_text(lines[0] + "\n" + lines[1][:20])  # a write cut short
    append_entry(log, {"command": "run", "run_id": "after"})
    assert len(log.read_text().splitlines()) == 3
    result = verify_audit_log(log)
    assert result.bad_line == 2 and "not a JSON audit entry" in result.problem


def test_entries_may_not_set_chain_fields(tmp_path):
    with pytest.raises(ValueError, match="chain field"):
        append_entry(tmp_path / "audit.log", {"seq": 7})


def _append_many(log: str, tag: str, n: int) -> None:
    for i in range(n):
        append_entry(log, {"command": "run", "run_id": f"{tag}{i}", "padding": "x" * 2000})


def test_concurrent_appends_from_two_processes_keep_one_chain(tmp_path):
    log = tmp_path / "audit.log"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(log), tag, 40)) for tag in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    result = verify_audit_log(log)
    assert result.intact, result.problem
    run_ids = [json.loads(line)["run_id"] for line in log.read_text().splitlines()]
    assert sorted(run_ids) == sorted([f"{tag}{i}" for tag in "ab" for i in range(40)])


def test_append_audit_log_keeps_its_signature_and_chains(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    manifest = new_manifest("load-neo4j", "municipal_supervision", out)
    path = append_audit_log(out, manifest)
    assert path == tmp_path / "audit.log"
    entry = json.loads(path.read_text())
    assert entry["command"] == "load-neo4j" and entry["run_purpose"] == "municipal_supervision"
    assert manifest["audit"] == {"log": str(path), "line": 1, "sha256": entry["hash"]}


def mhgraph(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mhgraph.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_audit_verify_command_exit_statuses(tmp_path):
    log = tmp_path / "audit.log"
    lines = chained_log(log, 4)
    intact = mhgraph("audit", "verify", str(log))
    assert intact.returncode == 0 and "4 line(s), chain intact" in intact.stdout
    assert json.loads(lines[-1])["hash"] in intact.stdout
    write_lines(log, lines[:1] + lines[2:])
    broken = mhgraph("audit", "verify", str(log))
    assert broken.returncode == 1 and "line 2" in broken.stderr
    missing = mhgraph("audit", "verify", str(tmp_path / "none.log"))
    assert missing.returncode == 2
