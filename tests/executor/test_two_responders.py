"""Two responders at once: two ``ircli`` processes, different operators, act on one incident
against the sandbox with the store on a PostgreSQL server. Both complete, the chain verifies,
and the report shows both.

The test holds the store's head lock until both processes wait for it, so they are certainly in
flight together (no sleeps racing them), then lets them go.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from ircli.audit.engines import PG_LOCK_KEY
from tests.executor.conftest import Ircli, Platform, account_ids, write_ids
from tests.pg import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]

DEADLINE = 180  # seconds for each step on a busy machine


@pytest.fixture
def head_lock(postgres_url: str) -> Iterator[Any]:
    """A connection to the store's database, to hold the lock every append takes."""
    import psycopg

    url = make_url(postgres_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as connection:
        yield connection


def wait_for_waiters(lock: Any, processes: list[subprocess.Popen[str]], count: int) -> None:
    """Until ``count`` sessions wait for the head lock; fail at once if a process ended."""
    deadline = time.monotonic() + DEADLINE
    while True:
        waiting = lock.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()[0]
        if waiting >= count:
            return
        for process in processes:
            if process.poll() is not None:
                _out, err = process.communicate()
                pytest.fail(f"{process.args} ended (exit {process.returncode}) early: {err}")
        if time.monotonic() > deadline:
            pytest.fail(f"only {waiting} of {count} processes reached the head lock")
        time.sleep(0.05)


def test_two_operators_on_one_incident_at_once(
    ircli: Ircli, platform: Platform, postgres_url: str, head_lock: Any, tmp_path: Path
) -> None:
    store = {"IRCLI_DB": postgres_url}
    incident = ircli.json("incident", "open", "Bot flood", "--severity", "P1", **store)["id"]
    bots = write_ids(tmp_path / "bots.txt", account_ids(300, start=100))

    head_lock.execute("SELECT pg_advisory_lock(%s)", (PG_LOCK_KEY,))
    dana = ircli.start(
        "run", "account-takeover-single", "--input", "account=acc_0000003",
        "--incident", incident, "--yes", IRCLI_OPERATOR="dana", **store,
    )  # fmt: skip
    lee = ircli.start(
        "accounts", "freeze", "--ids-file", str(bots), "--batch", "50", "--incident", incident,
        "--reason", "bot swarm", "--yes", IRCLI_OPERATOR="lee", **store,
    )  # fmt: skip
    try:
        try:
            wait_for_waiters(head_lock, [dana, lee], 2)
        finally:
            head_lock.execute("SELECT pg_advisory_unlock(%s)", (PG_LOCK_KEY,))
        results = {name: process.communicate(timeout=DEADLINE)
                   for name, process in (("dana", dana), ("lee", lee))}  # fmt: skip
    finally:
        for process in (dana, lee):
            if process.poll() is None:  # the test failed on the way: leave nothing running
                process.kill()
                process.communicate()

    assert (dana.returncode, lee.returncode) == (0, 0), results
    # Both waited at the lock, which PostgreSQL grants in turn: their first records come next.
    records = ircli.json("audit", "log", **store)
    assert {(r["operator"], r["kind"]) for r in records[1:3]} == {
        ("dana", "run.started"),
        ("lee", "run.started"),
    }
    verified = ircli("audit", "verify", **store)
    assert verified.returncode == 0, verified.stderr
    report = ircli.json("report", incident, **store)
    assert {run["operator"] for run in report["runs"]} == {"dana", "lee"}
    assert report["audit"]["ok"] is True
    markdown = ircli("report", incident, **store).stdout
    assert "by dana" in markdown
    assert "by lee" in markdown
    frozen = platform.get("/api/v1/accounts/acc_0000399")
    assert frozen["status"] == "frozen"
