import os
import subprocess
import sys
import time
from concurrent.futures import CancelledError
from pathlib import Path

import polars as pl
import pytest

from mhgraph.errors import MhgraphError
from mhgraph.executor import DaskExecutor, ProcessExecutor, SerialExecutor, make_executor


def _row_count(frame: pl.DataFrame) -> int:
    return frame.height


def test_results_come_back_in_partition_order():
    frames = [pl.DataFrame({"x": range(n)}) for n in (3, 0, 5, 1)]
    for executor in (SerialExecutor(), ProcessExecutor(2), ProcessExecutor(1)):
        assert executor.map(_row_count, frames) == [3, 0, 5, 1]
        assert executor.map(_row_count, []) == []


def test_a_failing_partition_raises_its_error():
    with pytest.raises(ZeroDivisionError):
        ProcessExecutor(2).map(_inverse, [1, 0])


def _inverse(x: int) -> float:
    return 1 / x


def test_executor_names():
    assert isinstance(make_executor("serial"), SerialExecutor)
    assert make_executor("processes:3").workers == 3
    assert make_executor(None).workers >= 1
    serial = SerialExecutor()
    assert make_executor(serial) is serial
    for bad in ("threads", "processes:x", "serial:2", ""):
        with pytest.raises(MhgraphError, match="unknown executor"):
            make_executor(bad)


def test_dask_executor_by_name_and_by_address():
    with make_executor("dask:1") as local:
        assert isinstance(local, DaskExecutor)
        assert local.map(_row_count, [pl.DataFrame({"x": [1, 2]})]) == [2]
        with DaskExecutor(address=local.client.scheduler.address) as remote:  # what a cluster's address gives
            assert remote.map(_inverse, [2, 4]) == [0.5, 0.25]


def _own_pid(_: object) -> int:
    return os.getpid()


def test_a_submitted_call_runs_beside_the_caller_and_brings_its_result_or_error():
    """Local processes run a submitted call in a process of its own while the caller goes on;
    the serial executor (and a single worker) runs it at once, here."""
    frame = pl.DataFrame({"x": range(4)})
    for executor, elsewhere in ((SerialExecutor(), False), (ProcessExecutor(1), False), (ProcessExecutor(2), True)):
        assert executor.submit(_row_count, frame).result() == 4
        assert (executor.submit(_own_pid, None).result() != os.getpid()) is elsewhere
        with pytest.raises(ZeroDivisionError):
            executor.submit(_inverse, 0).result()
    with make_executor("dask:1") as dask:
        assert dask.submit(_row_count, frame).result() == 4
        assert dask.submit(_own_pid, None).result() != os.getpid()


def _note_pid_and_wait(path: str) -> None:
    Path(path).write_text(str(os.getpid()))
    time.sleep(600)


def test_a_worker_ends_when_the_process_that_started_it_is_killed(tmp_path):
    """A run killed while detection works beside it leaves no worker behind holding its output pipes."""
    note = tmp_path / "worker.pid"
    parent = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[1]);"
                               "from test_executor import _note_pid_and_wait; from mhgraph.executor import ProcessExecutor;"
                               "ProcessExecutor(2).submit(_note_pid_and_wait, sys.argv[2]); time.sleep(600)",
                               str(Path(__file__).parent), str(note)], stdout=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not note.is_file() or not note.read_text():
        assert time.monotonic() < deadline and parent.poll() is None, "the worker never started"
        time.sleep(0.1)
    worker = int(note.read_text())
    parent.kill()
    assert parent.communicate(timeout=120)[0] == b""  # end of file: no worker holds the pipe any more
    while Path(f"/proc/{worker}").exists() and "Z" not in Path(f"/proc/{worker}/stat").read_text().split()[2]:
        assert time.monotonic() < deadline, "the worker outlived its parent"
        time.sleep(0.1)


def test_cancel_ends_a_submitted_call_and_the_process_it_runs_in(tmp_path):
    """A call still running in a worker of its own is taken back by ending that worker; a call
    that is done (or ran at once, serially) cannot be."""
    note = tmp_path / "worker.pid"
    running = ProcessExecutor(2).submit(_note_pid_and_wait, str(note))
    deadline = time.monotonic() + 120
    while not note.is_file() or not note.read_text():
        assert time.monotonic() < deadline, "the worker never started"
        time.sleep(0.1)
    assert int(note.read_text()) == running.pid
    assert running.cancel() and running.done()
    assert not Path(f"/proc/{running.pid}").exists()
    assert not running.cancel()
    with pytest.raises(CancelledError):
        running.result()
    assert not SerialExecutor().submit(abs, -1).cancel()


def test_a_submitted_call_s_process_has_ended_when_its_result_is_back():
    """Its memory (at a million persons detection's, about a gigabyte) is not held into the next stage."""
    running = ProcessExecutor(2).submit(_own_pid, None)
    assert running.result() == running.pid
    assert not Path(f"/proc/{running.pid}").exists()
