"""A run's output folder holds one complete run or the previous one, never a mix of two.

The last test reruns ``mhgraph run`` on a small synthetic set into one folder and interrupts it
at seeded random moments over the length of a run (start-up, stages, export, the move), with SIGINT and with SIGKILL, and after every interruption finds the folder
either byte for byte as before or holding a complete new run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mhgraph import run_folder
from mhgraph.errors import InputError
from mhgraph.file_names import shown_path
from mhgraph.manifest import file_digest
from mhgraph.run_folder import MANIFEST_NAME, RunFolder, check_inputs_beside, file_digests
from mhgraph.synth import synthesize

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
ATTEMPTS = 20  # half SIGINT, half SIGKILL


def _write_run(out: Path, text: str) -> None:
    with RunFolder(out) as folder:
        (folder.work / "tables").mkdir()
        (folder.work / "tables" / "t.parquet").write_text(text)
        (folder.work / MANIFEST_NAME).write_text(json.dumps({"text": text}))
        folder.commit()


def _leftovers(out: Path) -> list[str]:
    """Hidden siblings of ``out``: partial runs, runs put aside, and the lock file."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def test_a_committed_run_replaces_the_previous_one_whole(tmp_path):
    out = tmp_path / "run"
    _write_run(out, "first")
    (out / "evaluation.json").write_text("{}")  # written later by mhgraph evaluate
    _write_run(out, "second")
    assert file_digests(out).keys() == {MANIFEST_NAME, "tables/t.parquet"}  # no stale evaluation.json
    assert (out / "tables" / "t.parquet").read_text() == "second"
    assert _leftovers(out) == []


def test_a_failed_run_leaves_the_previous_one_byte_for_byte(tmp_path):
    out = tmp_path / "run"
    _write_run(out, "first")
    before = file_digests(out)
    with pytest.raises(RuntimeError), RunFolder(out) as folder:
        (folder.work / MANIFEST_NAME).write_text("half")
        raise RuntimeError("a stage failed")
    assert file_digests(out) == before
    assert _leftovers(out) == []


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "run"
    with RunFolder(out):
        with pytest.raises(InputError, match="another command is using this run folder"):
            RunFolder(out).__enter__()
        refused = subprocess.run([sys.executable, "-m", "mhgraph.cli", "-q", "run", str(SAMPLE), "--out", str(out)],
                                 capture_output=True, text=True, timeout=300)
        assert (tmp_path / ".run.lock").is_file()  # still held: the refused runs left it alone
    assert refused.returncode == 2
    assert "another command is using this run folder" in refused.stderr
    assert _leftovers(out) == []  # the run that ended removed its lock file
    _write_run(out, "after the lock is released")
    assert _leftovers(out) == []


def test_a_folder_of_other_files_is_never_replaced(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds files but no run"):
        RunFolder(tmp_path).__enter__()
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_without_an_atomic_exchange_a_stop_between_the_renames_is_repaired(tmp_path, monkeypatch):
    monkeypatch.setattr(run_folder, "_exchange", lambda a, b: False)  # a system without renameat2
    out = tmp_path / "run"
    _write_run(out, "first")
    _write_run(out, "second")
    assert (out / "tables" / "t.parquet").read_text() == "second"
    out.rename(tmp_path / ".run.previous-0000")  # what a stop between the two renames leaves
    (tmp_path / ".run.partial-0000").mkdir()     # and a half-written new run
    with RunFolder(out) as folder:  # the next run puts the previous one back and clears the rest
        assert (out / "tables" / "t.parquet").read_text() == "second"
        assert _leftovers(out) == [".run.lock", folder.work.name]  # the lock this run holds, and its work


def _complete(out: Path) -> dict | None:
    """The manifest of the complete run ``out`` holds, or None when it holds anything else."""
    try:
        manifest = json.loads((out / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None
    return manifest if manifest.get("files") == file_digests(out, skip=(MANIFEST_NAME,)) else None


@pytest.mark.slow
def test_interrupted_reruns_leave_the_previous_or_the_new_complete_run(tmp_path):
    out = tmp_path / "run"
    synthesize(tmp_path / "in", persons=300, seed=5)
    env = {**os.environ, "MHGRAPH_AUDIT_LOG": str(tmp_path / "audit.log"), "RUST_BACKTRACE": "0"}
    command = [sys.executable, "-m", "mhgraph.cli", "-q", "run", str(tmp_path / "in"), "--out", str(out)]
    started = time.monotonic()
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)
    full_run = time.monotonic() - started
    assert _complete(out) is not None
    rng = random.Random(20260115)
    outcomes = {"previous": 0, "new": 0}
    for attempt in range(ATTEMPTS):
        before = file_digests(out)
        sig = signal.SIGINT if attempt % 2 == 0 else signal.SIGKILL
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.1, 1.05) * full_run)
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=600)
        now = file_digests(out)
        if now == before:
            outcomes["previous"] += 1
        else:
            manifest = _complete(out)
            assert manifest is not None, f"attempt {attempt} ({sig.name}) left a mix: {sorted(now)}"
            outcomes["new"] += 1
        if sig == signal.SIGINT:  # 130: stopped cleanly; -2: stopped by the signal while Python started up
            assert process.returncode in (0, 130, -signal.SIGINT), stderr
            assert process.returncode != 130 or b"Traceback" not in stderr
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)
    assert _complete(out) is not None
    assert _leftovers(out) == []  # what the killed runs left was cleared by the next run
    print(f"interrupted reruns: {outcomes}")
    assert sum(outcomes.values()) == ATTEMPTS, outcomes


def test_a_run_stopped_by_the_scheduler_clears_what_it_wrote(tmp_path):
    """SIGTERM (systemd, cron's kill) unwinds like Ctrl-C: no half-written folder is left behind."""
    out = tmp_path / "run"
    synthesize(tmp_path / "in", persons=300, seed=2)
    env = {**os.environ, "MHGRAPH_AUDIT_LOG": str(tmp_path / "audit.log"), "RUST_BACKTRACE": "0"}
    process = subprocess.Popen([sys.executable, "-m", "mhgraph.cli", "-q", "run", str(tmp_path / "in"), "--out",
                                str(out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not any(tmp_path.glob(".run.partial-*")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=300)
    assert process.returncode == 128 + signal.SIGTERM, process.returncode  # stopped while writing
    assert _leftovers(out) == [] and not out.exists()


def test_a_lock_file_removed_while_being_taken_is_not_trusted(tmp_path):
    """A run that ends removes its lock file; one that opened it just before must lock the new file."""
    path = tmp_path / ".run.lock"
    with open(path, "a+b") as handle:
        assert run_folder._same_file(path, handle)
        path.unlink()
        assert not run_folder._same_file(path, handle)
        path.touch()  # another run's new lock file
        assert not run_folder._same_file(path, handle)


# Two partner file names with a BSN whose shown names agree: 18 characters, sha256 f78f.
COLLIDING_NAMES = ("loon_949093403.csv", "loon_435371551.csv")


def _inputs(*paths: Path) -> dict:
    return {"inputs": [{"file": shown_path(path.name), "sha256": file_digest(path)} for path in paths]}


def test_two_inputs_whose_shown_names_agree_are_each_matched_to_their_own_file(tmp_path):
    first, second = (tmp_path / name for name in COLLIDING_NAMES)
    assert shown_path(first.name) == shown_path(second.name)
    first.write_text("extract A\n")
    second.write_text("extract B\n")
    for manifest in (_inputs(first, second), _inputs(second, first)):
        check_inputs_beside(manifest, tmp_path, "the truth")


def test_a_file_whose_shown_name_agrees_with_an_input_neither_stands_in_for_it_nor_hides_it(tmp_path):
    own, other = (tmp_path / name for name in COLLIDING_NAMES)
    own.write_text("extract A\n")
    manifest = _inputs(own)
    other.write_text("someone else's file\n")
    check_inputs_beside(manifest, tmp_path, "the truth")
    own.unlink()
    with pytest.raises(InputError, match="is not the file the run read") as refused:
        check_inputs_beside(manifest, tmp_path, "the truth")
    assert "949093403" not in str(refused.value) and "435371551" not in str(refused.value)
    # the one file beside it cannot be both inputs of a run that read two files showing this name
    other.write_text("extract A\n")
    with pytest.raises(InputError, match="which is not beside it"):
        check_inputs_beside({"inputs": manifest["inputs"] * 2}, tmp_path, "the truth")
