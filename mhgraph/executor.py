"""Executors: one function mapped over independent partitions, on this machine or on a cluster.

A stage that can be split (graph building per slice of entities, community detection per group
of connected components) is written as a function of one partition — a table in, a table out —
and handed to an executor, which runs it over every partition and returns the results in the
order of the partitions. Which executor runs it, and how many workers it has, never changes the
result: the partitions are fixed by the data, not by the executor.

A stage that does not wait for another (community detection beside the indicator rules, which
do not read the communities) is handed over whole with ``submit``: it runs elsewhere while the
caller goes on, and its future's ``result()`` waits for it; ``cancel()`` takes it back, and with
local processes ends the worker that runs it (a caller that fails first does not wait for it).
The serial executor runs it at once: one stage after the other.

* :class:`SerialExecutor` — in this process, one partition after the other.
* :class:`ProcessExecutor` — local worker processes, one per core by default: what ``mhgraph run``
  uses. Workers are started fresh (``spawn``), never forked from a process whose Polars and
  igraph threads are already running.
* :class:`DaskExecutor` — the same partitions on a Dask cluster (``dask.distributed``, the
  ``distributed`` extra). Dask is plain Python, installs from PyPI without a JVM or a daemon of
  its own, runs as a local cluster on one machine (what the tests use), and the same code
  reaches a cluster through a scheduler address (Kubernetes, YARN and HPC batch systems have
  their Dask deployers). Functions and their partitions travel as pickles; Polars frames
  pickle as Arrow IPC.

:func:`make_executor` turns a name (what ``mhgraph run --executor`` takes) into one.

>>> SerialExecutor().map(abs, [-1, 2, -3])
[1, 2, 3]
>>> SerialExecutor().submit(abs, -4).result()
4
>>> make_executor("processes:2")
ProcessExecutor(workers=2)
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from typing import Protocol, TypeVar

from mhgraph.errors import MhgraphError

__all__ = ["DaskExecutor", "Executor", "ProcessExecutor", "SerialExecutor", "make_executor"]

log = logging.getLogger("mhgraph.executor")

Partition = TypeVar("Partition")
Result = TypeVar("Result")


class Executor(Protocol):
    """Anything with ``map(function, partitions) -> list of results, in partition order`` and
    ``submit(function, *args, **kwargs) -> future`` (its ``result()`` waits for the call's result,
    ``done()`` says whether it has one, ``cancel()`` takes back a call that is not done)."""

    def map(self, function: Callable[[Partition], Result], partitions: Iterable[Partition]) -> list[Result]: ...

    # whether ``submit`` runs the call in another process on this machine, which can read the
    # caller's files rather than be sent a pickled copy of its tables
    separate_process: bool

    def submit(self, function: Callable[..., Result], *args, **kwargs) -> Future: ...


class SerialExecutor:
    """Every partition in this process, one after the other."""

    separate_process = False

    def map(self, function, partitions):
        return [function(partition) for partition in partitions]

    def submit(self, function, *args, **kwargs) -> Future:
        """Run ``function`` now; the future holds its result (or raises its error)."""
        done = Future()
        try:
            done.set_result(function(*args, **kwargs))
        except Exception as exc:  # raised where the result is asked for, as from any other executor
            done.set_exception(exc)
        return done

    def __repr__(self) -> str:
        return "SerialExecutor()"


class ProcessExecutor:
    """Local worker processes (``workers``, default one per core). A single partition, or a
    single worker, runs in this process: starting a worker would only cost time. ``submit``
    starts one worker process for the call (with a single worker: runs it here, at once); that
    process may map over partitions with an executor of its own, and its future's ``cancel()``
    ends it."""

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)

    @property
    def separate_process(self) -> bool:
        """Whether ``submit`` starts a worker process (on this machine) rather than run the call here."""
        return self.workers > 1

    def map(self, function, partitions):
        partitions = list(partitions)
        workers = min(self.workers, len(partitions))
        if workers <= 1:
            return SerialExecutor().map(function, partitions)
        with _worker_pool(workers) as pool:
            return list(pool.map(function, partitions))

    def submit(self, function, *args, **kwargs) -> Future:
        if not self.separate_process:
            return SerialExecutor().submit(function, *args, **kwargs)
        pool = _worker_pool(1)
        running = pool.submit(function, *args, **kwargs)
        # the pool starts its worker in submit (3.14 has terminate_workers; 3.11 only this attribute)
        worker, = pool._processes.values()
        pool.shutdown(wait=False)  # the call still runs; its process ends when it is done
        return CallInOwnProcess(running, worker)

    def __repr__(self) -> str:
        return f"ProcessExecutor(workers={self.workers})"


class CallInOwnProcess:
    """The future of a call that runs in a worker process of its own (``pid``). A running call
    cannot be taken back from a process pool, so ``cancel()`` ends its process: otherwise a
    caller that fails before it asks for the result waits at exit until the call is done."""

    def __init__(self, future: Future, worker: multiprocessing.process.BaseProcess):
        self._future, self._worker = future, worker
        self._ended = False
        self.pid = worker.pid

    def result(self, timeout: float | None = None):
        """The call's result, once its process has ended: the worker's memory is back before the
        caller goes on (the pool lets it go only some time after it sent the result)."""
        if self._ended:
            raise CancelledError(f"the call in worker process {self.pid} was ended")
        result = self._future.result(timeout)
        self._worker.join()
        return result

    def done(self) -> bool:
        return self._ended or self._future.done()

    def cancel(self) -> bool:
        """End the call and its process unless it is done; ``True`` if it was ended."""
        if self.done():
            return False
        self._worker.terminate()
        self._worker.join()
        self._ended = True
        return True


def _worker_pool(workers: int) -> ProcessPoolExecutor:
    """Fresh (``spawn``) worker processes that end when the process that started them ends."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_end_with_parent)


def _end_with_parent() -> None:
    """In a worker: end it when its parent ends (killed, say), rather than leave it waiting for
    work that never comes, holding the parent's output pipes open."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_once_ready, args=(parent.sentinel,), daemon=True).start()


def _exit_once_ready(sentinel) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


class DaskExecutor:
    """The partitions as tasks on a Dask cluster.

    ``address``: a scheduler address (``tcp://host:8786``); without one a local cluster of
    ``workers`` processes is started on this machine for the executor's lifetime (close it with
    :meth:`close` or use the executor as a context manager). A worker that reads or writes
    files needs the same paths as the caller (a shared file system or object store).
    """

    separate_process = False  # its workers may run elsewhere, without the caller's files

    def __init__(self, address: str | None = None, workers: int | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # the optional extra
            raise MhgraphError("the Dask executor needs the `distributed` package: "
                               "pip install 'mhgraph[distributed]'") from exc
        self.address = address
        self._cluster = None
        if address is None:
            self._cluster = LocalCluster(n_workers=max(1, workers or os.cpu_count() or 1), threads_per_worker=1,
                                         processes=True, dashboard_address=None)
            address = self._cluster.scheduler_address
        self.client = Client(address)
        log.info("Dask executor on %s", address)

    def map(self, function, partitions):
        partitions = list(partitions)
        if not partitions:
            return []
        futures = self.client.map(function, partitions, pure=False)
        return self.client.gather(futures)

    def submit(self, function, *args, **kwargs):
        """One task on the cluster; its Dask future has ``result()``."""
        return self.client.submit(function, *args, pure=False, **kwargs)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DaskExecutor(address={self.address!r})"


def make_executor(name: str | Executor | None = None) -> Executor:
    """The executor a name stands for: ``serial``, ``processes`` or ``processes:N`` (the default,
    one per core), ``dask`` (a local Dask cluster), ``dask:N`` (of N workers) or ``dask:ADDRESS``
    (the scheduler at ``tcp://…``). An executor object is returned as it is.

    >>> make_executor("serial")
    SerialExecutor()
    """
    if name is None:
        return ProcessExecutor()
    if not isinstance(name, str):
        return name
    kind, _, argument = name.partition(":")
    if kind == "serial" and not argument:
        return SerialExecutor()
    if kind == "processes" and (not argument or argument.isdigit()):
        return ProcessExecutor(int(argument) if argument else None)
    if kind == "dask":
        if not argument or argument.isdigit():
            return DaskExecutor(workers=int(argument) if argument else None)
        return DaskExecutor(address=argument)
    raise MhgraphError(f"unknown executor {name!r}; choose serial, processes[:N], dask[:N] or dask:tcp://HOST:PORT")
