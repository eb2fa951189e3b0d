"""The audit log as a hash chain: every line carries the hash of the line before it.

Each line is one JSON object with three chain fields besides what was logged: ``seq`` (its
line number, from 1), ``prev`` (the ``hash`` of the line before; 64 zeros on line 1) and
``hash`` (SHA-256 of the line's own canonical JSON without ``hash``). :func:`verify_audit_log`
walks the chain and names the first line that breaks it.

What the chain shows, and what it cannot (see ``docs/scheduled-runs.md``):

* a line altered in place: its content no longer matches its ``hash``;
* a line removed, inserted or moved: the next line's ``prev`` or ``seq`` no longer fits;
* a rewrite that recomputes every hash from the altered line onwards, and lines cut off the
  end, leave a chain that is intact in itself. Only a hash kept somewhere else shows them: each
  run's manifest records the line number and hash of its own audit line (its *anchor*), and
  :func:`verify_audit_log` checks anchors it is given. An anchor only covers lines up to it;
  copy the last hash that ``mhgraph audit verify`` prints to a place the log's writer cannot
  change (a partner, a ticket, write-once storage) to cover the end of the log.

Appends take an exclusive lock on the log file (``fcntl.flock``; POSIX only), so that two
processes writing at once still make one chain.

>>> import tempfile, pathlib
>>> log = pathlib.Path(tempfile.mkdtemp()) / "audit.log"
>>> first = append_entry(log, {"command": "run"})
>>> second = append_entry(log, {"command": "diff"})
>>> (first["seq"], second["seq"], second["prev"] == first["hash"])
(1, 2, True)
>>> verify_audit_log(log).intact
True
>>> _ = log.write_text(log.read_text().replace('"diff"', '"ingest"'))
>>> print(verify_audit_log(log).problem)
line 2 was altered: its content does not match its hash
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent appends are then not serialised
    fcntl = None

__all__ = ["GENESIS", "Verification", "append_entry", "entry_hash", "locked", "verify_audit_log"]

GENESIS = "0" * 64
_CHAIN_FIELDS = ("seq", "prev", "hash")
# Reading the last line of a long log goes backwards in blocks of this size.
_TAIL_BLOCK = 1 << 16


def entry_hash(entry: dict) -> str:
    """SHA-256 of the entry's canonical JSON (sorted keys, no spaces), its ``hash`` left out.

    >>> entry_hash({"seq": 1, "prev": GENESIS, "command": "run"})[:12]
    '182238e0afbc'
    """
    body = {key: value for key, value in entry.items() if key != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


@contextmanager
def locked(handle, *, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive ``flock`` on an open file for the duration of the block. With
    ``wait=False`` a lock another process holds raises :class:`BlockingIOError` at once."""
    if fcntl is None:
        yield
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    try:
        yield
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _last_line(handle, end: int) -> bytes:
    """The last line of the open (binary) file of ``end`` bytes, without its line break."""
    tail, position = b"", end
    while position > 0 and b"\n" not in tail.rstrip(b"\n"):
        step = min(_TAIL_BLOCK, position)
        position -= step
        handle.seek(position)
        tail = handle.read(step) + tail
    return tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]


def _chain_position(handle) -> tuple[int, str, bool]:
    """``(seq, prev, torn)`` for the next entry of the open log; ``torn``: the file does not end
    with a line break (a write cut short), so the next entry must start on a new line."""
    end = handle.seek(0, os.SEEK_END)
    if end == 0:
        return 1, GENESIS, False
    handle.seek(end - 1)
    torn = handle.read(1) != b"\n"
    last = _last_line(handle, end)
    try:
        entry = json.loads(last)
        return int(entry["seq"]) + 1, str(entry["hash"]), torn
    except (ValueError, KeyError, TypeError):
        # A damaged last line: chain on to its raw bytes; verification names that line.
        handle.seek(0)
        return sum(1 for _ in handle) + 1, hashlib.sha256(last).hexdigest(), torn


def append_entry(path: str | Path, entry: dict) -> dict:
    """Append ``entry`` to the log at ``path`` as the next link of its chain; return the entry
    as written (with ``seq``, ``prev`` and ``hash``). The log and its folder are created when
    missing. The file is locked from reading the last line until the new line is on disk."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clash = sorted(set(entry) & set(_CHAIN_FIELDS))
    if clash:
        raise ValueError(f"an audit entry may not set the chain field(s) {', '.join(clash)}")
    with open(path, "a+b") as handle, locked(handle):
        seq, prev, torn = _chain_position(handle)
        chained = {**entry, "seq": seq, "prev": prev}
        chained["hash"] = entry_hash(chained)
        line = json.dumps(chained, sort_keys=True, ensure_ascii=True, default=str) + "\n"
        handle.write((b"\n" if torn else b"") + line.encode("ascii"))
        handle.flush()
        os.fsync(handle.fileno())
    return chained


@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify_audit_log`: ``lines`` read, the ``last_hash`` of an intact
    chain, and, when it is broken, the first ``bad_line`` and the ``problem`` found there."""

    log: Path
    lines: int
    last_hash: str | None
    bad_line: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def _line_problem(number: int, raw: bytes, expected_prev: str) -> tuple[str | None, dict | None]:
    try:
        entry = json.loads(raw)
    except ValueError:
        return f"line {number} is not a JSON audit entry (damaged, or not written by mhgraph)", None
    if not isinstance(entry, dict) or any(key not in entry for key in _CHAIN_FIELDS):
        return f"line {number} carries no chain fields (seq, prev, hash): not written by this chain", None
    if entry["hash"] != entry_hash(entry):
        return f"line {number} was altered: its content does not match its hash", entry
    if entry["prev"] != expected_prev:
        return (f"line {number} does not follow the line before it: a line was removed, inserted or "
                "moved there", entry)
    if entry["seq"] != number:
        return f"line {number} says it is line {entry['seq']}: lines were removed or inserted before it", entry
    return None, entry


def _anchor_problem(anchor: dict, hashes: list[str], where: str) -> str | None:
    line, expected = anchor.get("line"), anchor.get("sha256")
    if not isinstance(line, int) or line < 1:
        return f"{where} holds no usable audit anchor"
    if line > len(hashes):
        return (f"{where} anchors line {line}, but the log has only {len(hashes)} line(s): "
                "the end of the log was cut off")
    if hashes[line - 1] != expected:
        return f"{where} anchors line {line} with another hash: the log was rewritten up to that line"
    return None


def verify_audit_log(path: str | Path, anchors: dict[str, dict] | None = None) -> Verification:
    """Walk the chain of the log at ``path``; check each anchor (``{where: {"line": n, "sha256":
    h}}``, e.g. from run manifests) against it. Stops at the first problem."""
    path = Path(path)
    hashes: list[str] = []
    expected_prev = GENESIS
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            problem, entry = _line_problem(number, raw.rstrip(b"\n"), expected_prev)
            if problem:
                return Verification(path, number, None, number, problem)
            expected_prev = entry["hash"]
            hashes.append(expected_prev)
    for where, anchor in sorted((anchors or {}).items()):
        problem = _anchor_problem(anchor, hashes, where)
        if problem:
            return Verification(path, len(hashes), None, min(anchor.get("line") or 1, len(hashes) + 1), problem)
    return Verification(path, len(hashes), hashes[-1] if hashes else None)
