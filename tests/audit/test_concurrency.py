"""Many processes appending to one store (a SQLite file, a PostgreSQL database): nothing lost,
no fork, the chain verifies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ircli.audit.store import open_store
from tests.audit.rawsql import rows as query

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 8
APPENDS = {"sqlite": 2_000, "postgresql": 500}
"""Appends per process: a PostgreSQL append is a few round trips to a server on the same two
cores (8 × 2,000 took 52 s there, 26 s on SQLite); 4,000 in all still hand the lock over
thousands of times."""


@pytest.mark.slow
def test_eight_processes_append_without_loss_or_fork(db: str, backend: str) -> None:
    appends = APPENDS[backend]
    # Every writer finds the store missing and creates it: the migration is raced too.
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.audit.writer", db, str(appends), f"w{n}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    acknowledged: dict[int, str] = {}
    try:
        for writer in writers:
            out, err = writer.communicate(timeout=600)
            assert writer.returncode == 0, err
            for line in out.splitlines():
                seq, digest = line.split()
                assert int(seq) not in acknowledged
                acknowledged[int(seq)] = digest
    finally:  # one writer failing must not leave the others running into the next test
        for writer in writers:
            if writer.returncode is None:
                writer.kill()
                writer.communicate()
    assert len(acknowledged) == PROCESSES * appends

    rows = query(db, "SELECT seq, hash, prev_hash, target FROM audit_records")
    times = [ts for (ts,) in query(db, "SELECT ts FROM audit_records ORDER BY seq")]
    assert times == sorted(times)  # the time is taken under the write lock: never backwards
    assert sorted(seq for seq, *_ in rows) == list(range(1, PROCESSES * appends + 1))
    assert len({prev for _, _, prev, _ in rows}) == len(rows)  # no two share a prev_hash
    assert {seq: digest for seq, digest, _, _ in rows} == acknowledged
    targets = {target for *_, target in rows}
    assert targets == {f"w{n}-{i}" for n in range(PROCESSES) for i in range(appends)}
    with open_store(db, operator="checker") as store:
        result = store.verify()
    assert result.ok
    assert result.total == PROCESSES * appends
