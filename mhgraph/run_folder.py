"""A run's output folder, written whole or not at all.

A run writes into a hidden temporary sibling of its output folder (``.NAME.partial-…``) and
moves it into place only when everything is written: the old and the new folder are swapped
in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, and the
previous run is put back by the next run should the machine stop between them). So a folder
that holds a run holds one complete run: an interrupted (Ctrl-C, ``kill -9``, power cut) or
failed run leaves the previous output untouched, byte for byte, and a case meeting never gets
lists from two runs.

Only one run writes into a folder at a time: the run holds an exclusive lock on
``.NAME.lock`` beside the folder (released by the operating system when the process ends, so
a killed run leaves no stale lock; a run that ends removes the file); a second run into the same
folder is refused. ``mhgraph resolve`` and ``explain-match`` hold the same lock while they read
a run folder (:func:`folder_lock`), so that no run swaps it under them. What a
killed run left behind (``.NAME.partial-…``) is removed by the next run into that folder.

An existing folder is replaced only when it holds a run (its ``run_manifest.json``) or
nothing at all: a folder of other files is never moved away.

The manifest lists every file of the run with its SHA-256 (``files``), so that anyone can tell
a complete run from a damaged or mixed one (:func:`check_complete_run`), and the input files
with theirs (``inputs``), so that a truth or a report can be matched to the extracts the run
read (:func:`check_inputs_beside`).

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
>>> with RunFolder(out) as folder:
...     _ = (folder.work / "run_manifest.json").write_text("{}")
...     folder.commit()
>>> sorted(p.name for p in out.iterdir())
['run_manifest.json']
"""

from __future__ import annotations

import ctypes
import errno
import functools
import json
import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path

from mhgraph.clib import c_function
from mhgraph.errors import InputError
from mhgraph.file_names import shown_path
from mhgraph.manifest import file_digest

__all__ = ["MANIFEST_NAME", "RunFolder", "check_complete_run", "check_inputs_beside", "file_digests", "folder_lock",
           "holds_a_run"]

MANIFEST_NAME = "run_manifest.json"
_PARTIAL = ".partial-"
_PREVIOUS = ".previous-"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent runs are then not refused
    fcntl = None


def holds_a_run(folder: Path) -> bool:
    """True when ``folder`` holds a run's manifest."""
    return (folder / MANIFEST_NAME).is_file()


def file_digests(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` by its relative path (``/``-separated), sorted.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt").write_text("a")
    >>> file_digests(folder)
    {'a.txt': 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb'}
    """
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {name: file_digest(path) for path in files if (name := path.relative_to(folder).as_posix()) not in skip}


def _examples(names: list[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def check_complete_run(out_dir: str | Path, within: str = "") -> dict:
    """The manifest of the complete run in ``out_dir``; :class:`InputError` when the folder holds
    no run, or files the manifest lists under ``within`` (e.g. ``"tables/"``; all by default)
    are missing or differ (an interrupted run, or tables changed afterwards). Files added to a
    run later (``evaluation.json``) are not checked; a page rewritten by ``mhgraph report`` is,
    unless ``within`` leaves it out."""
    out_dir = Path(out_dir)
    try:
        manifest = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"not a complete run: there is no {MANIFEST_NAME}, which mhgraph run writes last",
                         file=str(out_dir)) from None
    except ValueError:
        raise InputError(f"not a complete run: {MANIFEST_NAME} is not valid JSON", file=str(out_dir)) from None
    listed = manifest.get("files")
    if not isinstance(listed, dict) or not listed:
        raise InputError(f"{MANIFEST_NAME} lists no files, so the run cannot be checked for completeness; run it "
                         "again with this version of mhgraph", file=str(out_dir))
    listed = {name: digest for name, digest in listed.items() if name.startswith(within)}
    present = file_digests(out_dir)
    missing = sorted(set(listed) - set(present))
    changed = sorted(name for name in listed if name in present and present[name] != listed[name])
    if missing or changed:
        raise InputError(
            f"not a complete run: {len(missing)} file(s) its manifest lists are missing ({_examples(missing)}) and "
            f"{len(changed)} differ ({_examples(changed)}); the run was interrupted or changed afterwards, run it "
            "again", file=str(out_dir))
    return manifest


def check_inputs_beside(manifest: dict, folder: str | Path, what: str) -> None:
    """Refuse ``what`` (e.g. a truth) in ``folder`` unless the extracts beside it are the very
    files the run read: same names (as :func:`~mhgraph.file_names.shown_path` shows them, as the
    manifest's ``inputs`` keep them), same SHA-256. Two files may show the same name (same length,
    same first hex digits of the name's hash): an input is then matched by its digest to one of
    them that no other input took."""
    folder = Path(folder)
    inputs = manifest.get("inputs") or []
    if not inputs:
        raise InputError(f"the run manifest names no input files, so {what} cannot be matched to the run",
                         file=str(folder))
    present: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file():
            present.setdefault(shown_path(path.name), []).append(path)
    digest = functools.cache(file_digest)  # a file is read once however many inputs it is tried for
    taken: set[Path] = set()
    for entry in inputs:
        candidates = [path for path in present.get(entry["file"], [folder / entry["file"]])
                      if path.is_file() and path not in taken]
        if not candidates:
            raise InputError(f"{what} does not belong to this run: the run read {entry['file']}, which is not beside "
                             f"it (it is checked against the extracts it was written with)",
                             file=str(folder / entry["file"]))
        same = next((path for path in candidates if digest(path) == entry["sha256"]), None)
        if same is None:
            raise InputError(f"{what} does not belong to this run: {entry['file']} beside it is not the file the "
                             "run read (another seed, another delivery, or changed since)", file=str(candidates[0]))
        taken.add(same)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step; False where the system cannot."""
    renameat2 = c_function("renameat2", use_errno=True)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


class RunFolder:
    """The output folder ``final`` of one run: write into :attr:`work`, then :meth:`commit`.

    Used as a context manager: entering takes the lock and makes the temporary folder;
    leaving without a commit (an error, Ctrl-C) removes the temporary folder and leaves
    ``final`` as it was. Raises :class:`~mhgraph.errors.InputError` when another run holds the
    lock, or when ``final`` is a file or a folder of other things than a run.
    """

    def __init__(self, final: str | Path):
        self.final = Path(os.path.abspath(final))
        self.work = self.final.parent / f".{self.final.name}{_PARTIAL}{secrets.token_hex(4)}"
        self._lock = None
        self.committed = False

    def _siblings(self, marker: str) -> list[Path]:
        return sorted(self.final.parent.glob(f".{self.final.name}{marker}*"))

    def __enter__(self) -> RunFolder:
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _take_lock(self.final)
        try:
            self._recover()
            if self.final.exists() and not self.final.is_dir():
                raise InputError("the output folder is a file", file=str(self.final))
            if self.final.is_dir() and any(self.final.iterdir()) and not holds_a_run(self.final):
                raise InputError(
                    f"the output folder holds files but no run ({MANIFEST_NAME}); a run replaces the whole "
                    "folder, so choose an empty or new folder, or the folder of an earlier run", file=str(self.final))
            self.work.mkdir()
        except BaseException:
            _release(self._lock)
            raise
        return self

    def _recover(self) -> None:
        """Put back a previous run that a stop between two renames left aside; remove leftovers."""
        previous = self._siblings(_PREVIOUS)
        if previous and not self.final.exists():
            previous.pop().rename(self.final)
        for leftover in previous + self._siblings(_PARTIAL):
            shutil.rmtree(leftover, ignore_errors=True)

    def commit(self) -> None:
        """Move the finished run into place, in one step; the previous run is then removed."""
        _sync_tree(self.work)
        if not self.final.exists():
            self.work.rename(self.final)
        elif _exchange(self.work, self.final):
            shutil.rmtree(self.work)
        else:
            aside = self.final.parent / f".{self.final.name}{_PREVIOUS}{secrets.token_hex(4)}"
            self.final.rename(aside)
            self.work.rename(self.final)
            shutil.rmtree(aside)
        _sync_dir(self.final.parent)
        self.committed = True

    def final_path(self, path: Path) -> Path:
        """Where ``path`` (under :attr:`work`) is once the run is committed."""
        return self.final / Path(path).relative_to(self.work)

    def __exit__(self, *exc) -> None:
        try:
            if not self.committed:
                shutil.rmtree(self.work, ignore_errors=True)
        finally:
            _release(self._lock)


@contextmanager
def folder_lock(folder: str | Path):
    """Hold the lock a run into ``folder`` takes (``.NAME.lock`` beside it) while reading the
    folder, so that no run replaces it meanwhile; :class:`~mhgraph.errors.InputError` when a run
    (or another reader) holds it.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> with folder_lock(out):
    ...     RunFolder(out).__enter__()  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    mhgraph.errors.InputError: another command is using this run folder right now
    """
    handle = _take_lock(Path(os.path.abspath(folder)))
    try:
        yield
    finally:
        _release(handle)


def _take_lock(final: Path):
    """The open lock file of ``final``, locked; ``None`` where the system has no locks."""
    if fcntl is None:
        return None
    path = final.parent / f".{final.name}.lock"
    while True:
        handle = open(path, "a+b")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise InputError("another command is using this run folder right now (a run writing it, or resolve or "
                             "explain-match reading it); wait for it to finish, or choose another folder",
                             file=str(final)) from None
        if _same_file(path, handle):
            return handle
        handle.close()  # the command that held it removed it meanwhile: lock the new one


def _release(handle) -> None:
    if handle is not None:
        # Removed while still held, so that a command waiting on this file finds it gone and takes a new one.
        Path(handle.name).unlink(missing_ok=True)
        handle.close()  # closing the file releases the lock


def _same_file(path: Path, handle) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
    except FileNotFoundError:
        return False


def _sync_dir(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # not every system opens folders
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _sync_tree(folder: Path) -> None:
    """Flush every file and folder to disk, so that a power cut after the swap finds them whole."""
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb+") as handle:
                os.fsync(handle.fileno())
    for path in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        _sync_dir(path)
