"""Run leases: one holder at a time; a lease whose holder died is free again (a locked file
beside a SQLite store, an advisory lock on PostgreSQL)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ircli.audit.leases import LeaseHeld
from ircli.audit.store import AuditStore, open_store
from ircli.clock import format_utc
from tests.audit.conftest import sqlite_only
from tests.conftest import FixedClock


def holder_named(backend: str, pid: int) -> str:
    """How a refused lease names its holder: a SQLite lease file, or the PostgreSQL session
    holding the advisory lock, says who holds it (PostgreSQL keeps 63 bytes of it: a long
    host name is cut)."""
    return f"process {pid} on {socket.gethostname()[:8]}"


def test_a_held_lease_refuses_a_second_holder_and_names_the_first(
    store: AuditStore, clock: FixedClock, db_path: Path, backend: str
) -> None:
    with store.leases.hold("RUN-1", clock()):
        assert store.leases.holder("RUN-1") is not None
        with pytest.raises(LeaseHeld) as held, store.leases.hold("RUN-1", clock()):
            pass  # pragma: no cover - refused before the block
        assert holder_named(backend, os.getpid()) in held.value.message
        assert f"(since {format_utc(clock())})" in held.value.message
        assert "RUN-1 is running in" in held.value.message
        with store.leases.hold("RUN-2", clock()):  # another run: its own lease
            pass
    assert store.leases.holder("RUN-1") is None
    with store.leases.hold("RUN-1", clock()):  # released: free again
        pass
    if backend == "sqlite":
        assert list(Path(f"{db_path}.leases").iterdir()) == []  # released leases leave no file


@sqlite_only
def test_a_lock_file_left_behind_is_taken_over(store: AuditStore, clock: FixedClock) -> None:
    with store.leases.hold("RUN-1", clock()):
        (path,) = Path(f"{store.url.removeprefix('sqlite:///')}.leases").iterdir()
        contents = path.read_bytes()
    path.write_bytes(contents)  # as a process that died mid-run leaves it, unlocked
    assert store.leases.holder("RUN-1") is None
    with store.leases.hold("RUN-1", clock()):
        assert store.leases.holder("RUN-1") is not None


def test_the_lease_of_a_killed_process_is_free(db: str, clock: FixedClock, backend: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from ircli.audit.store import open_store\n"
         "from ircli.clock import system_clock\n"
         "store = open_store(sys.argv[1], operator='a')\n"
         "with store.leases.hold('RUN-1', system_clock()):\n"
         "    print('held', flush=True)\n"
         "    time.sleep(600)\n",
         db],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with open_store(db, operator="b", clock=clock) as store:
            held = store.leases.holder("RUN-1")
            assert held is not None
            assert held.startswith(holder_named(backend, holder.pid))
            holder.kill()
            holder.wait(timeout=30)
            deadline = time.monotonic() + 30
            while store.leases.holder("RUN-1") is not None:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            with store.leases.hold("RUN-1", clock()):
                pass
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.communicate()


def test_an_in_memory_store_leases_within_the_process(clock: FixedClock) -> None:
    with open_store("sqlite:///:memory:", operator="a", clock=clock) as store:
        with store.leases.hold("RUN-1", clock()):
            assert store.leases.holder("RUN-1") == "this process"
            with pytest.raises(LeaseHeld), store.leases.hold("RUN-1", clock()):
                pass  # pragma: no cover
        assert store.leases.holder("RUN-1") is None
