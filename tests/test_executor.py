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
