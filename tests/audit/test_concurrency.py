"""Many processes appending to one SQLite file: nothing lost, no fork, chain verifies."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ircli.audit.store import open_store

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 8
APPENDS = 2_000


@pytest.mark.slow
def test_eight_processes_append_without_loss_or_fork(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.audit.writer", str(db), str(APPENDS), f"w{n}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    acknowledged: dict[int, str] = {}
    for writer in writers:
        out, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, err
        for line in out.splitlines():
            seq, digest = line.split()
            assert int(seq) not in acknowledged
            acknowledged[int(seq)] = digest
    assert len(acknowledged) == PROCESSES * APPENDS

    connection = sqlite3.connect(db)
    rows = connection.execute("SELECT seq, hash, prev_hash, target FROM audit_records").fetchall()
    times = [ts for (ts,) in connection.execute("SELECT ts FROM audit_records ORDER BY seq")]
    connection.close()
    assert times == sorted(times)  # the time is taken under the write lock: never backwards
    assert sorted(seq for seq, *_ in rows) == list(range(1, PROCESSES * APPENDS + 1))
    assert len({prev for _, _, prev, _ in rows}) == len(rows)  # no two share a prev_hash
    assert {seq: digest for seq, digest, _, _ in rows} == acknowledged
    targets = {target for *_, target in rows}
    assert targets == {f"w{n}-{i}" for n in range(PROCESSES) for i in range(APPENDS)}
    with open_store(str(db), operator="checker") as store:
        result = store.verify()
    assert result.ok
    assert result.total == PROCESSES * APPENDS
