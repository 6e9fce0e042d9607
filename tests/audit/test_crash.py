"""A writer killed with SIGKILL at random moments never leaves a damaged or forked store (a
SQLite file, a PostgreSQL database)."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ircli.audit.store import open_store
from tests.audit.rawsql import rows

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


def run_and_kill(db: str, rng: random.Random, batch: int) -> dict[int, str]:
    """Start a writer, let it acknowledge some records, SIGKILL it; return what it acked."""
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.audit.writer", db, "1000000", "crash", str(batch)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert writer.stdout is not None
    acknowledged: dict[int, str] = {}
    first = threading.Event()

    def read() -> None:
        assert writer.stdout is not None
        for line in writer.stdout:
            seq, digest = line.split()
            acknowledged[int(seq)] = digest
            first.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert first.wait(timeout=60), "the writer never acknowledged a record"
    time.sleep(rng.uniform(0.0, 0.3))
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    reader.join(timeout=30)
    writer.stdout.close()
    return acknowledged


@pytest.mark.slow
def test_sigkilled_writer_loses_nothing_acknowledged(db: str, backend: str) -> None:
    rng = random.Random(20261128)
    acknowledged: dict[int, str] = {}
    for attempt in range(KILLS):
        acknowledged.update(run_and_kill(db, rng, batch=1 if attempt % 2 else 50))

        if backend == "sqlite":  # (PostgreSQL's server rolls a dead client's transaction back)
            assert rows(db, "PRAGMA integrity_check") == [("ok",)]
        stored = dict(rows(db, "SELECT seq, hash FROM audit_records"))
        missing = {seq for seq in acknowledged if stored.get(seq) != acknowledged[seq]}
        assert not missing, f"after kill {attempt + 1}: acknowledged records lost: {missing}"
        with open_store(db, operator="checker") as store:
            result = store.verify()
        assert result.ok, result.reason
        assert result.total == len(stored)
    assert len(acknowledged) > KILLS
