"""No outcome is ever lost: a store that refuses writes holds the run back, and one that
stays unwritable stops it, with resume finishing the work exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from ircli.audit.records import AuditRecord, NewRecord
from ircli.audit.store import AuditStore
from ircli.errors import OperationFailed
from ircli.executor.engine import Tuning
from ircli.executor.events import Event, StoreFailing, StoreRecovered
from ircli.executor.journal import load_run
from ircli.platform import load_profile
from ircli.platform.model import Outcome, Profile
from tests.executor.mockrun import BASE, run

ROOT = Path(__file__).resolve().parents[2]
TARGETS = [f"s{i}" for i in range(400)]


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile(ROOT / "profiles" / "sandbox.yaml", {"IRCLI_SANDBOX_URL": BASE})


class Outage:
    """Makes ``store.append_many`` refuse writes (as SQLite does when its lock is held past
    the busy timeout, or the disk is full) from the ``after``-th write, for ``seconds``."""

    def __init__(self, store: AuditStore, *, after: int, seconds: float, cause: str) -> None:
        self.writes = 0
        self.started: float | None = None
        self.ended: float | None = None
        self.refused = 0
        real = store.append_many
        lock = threading.Lock()

        def append_many(records: Sequence[NewRecord]) -> list[AuditRecord]:
            with lock:
                self.writes += 1
                now = time.monotonic()
                if self.writes > after and self.started is None:
                    self.started = now
                failing = self.started is not None and now - self.started < seconds
                if failing:
                    self.refused += 1
                elif self.started is not None and self.ended is None:
                    self.ended = now
            if failing:
                raise OperationFailed(f"the audit store {store.url} failed: {cause}.")
            return real(records)

        store.append_many = append_many  # type: ignore[method-assign]


def suspend_counting(sent: Counter[str], times: list[float]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.path.split("/")[4]
        times.append(time.monotonic())
        if request.headers.get("Idempotency-Key") not in sent:
            sent[request.headers["Idempotency-Key"]] += 1
        time.sleep(0.002)
        return httpx.Response(200, json={"id": target, "result": "suspended", "changed": True})

    return handler


def tuning() -> Tuning:
    return Tuning(concurrency=4, rate=2_000, backoff_base=0.001, backoff_max=0.01)


@pytest.mark.parametrize("cause", ["database is locked", "database or disk is full"])
def test_a_store_refusing_writes_holds_the_run_back_and_loses_no_outcome(
    store: AuditStore, profile: Profile, cause: str
) -> None:
    outage = Outage(store, after=3, seconds=0.6, cause=cause)
    sent: Counter[str] = Counter()
    times: list[float] = []
    events: list[Event] = []
    report = run(store, profile, suspend_counting(sent, times), TARGETS, tuning=tuning(),
                 events=events)  # fmt: skip

    assert outage.refused >= 2  # the outage happened mid-run, and was retried
    assert report.status == "completed"
    assert not report.store_failed
    state = load_run(store, "RUN-T")
    assert set(state.results) == set(TARGETS)  # every outcome is on record
    assert all(r.outcome is Outcome.DONE for r in state.results.values())
    assert state.status == "completed"
    assert outage.started is not None
    assert outage.ended is not None
    # While the store refused writes, nothing new was sent: at most what was in flight.
    during = [t for t in times if outage.started + 0.05 < t < outage.ended]
    assert len(during) <= tuning().concurrency
    kinds = [type(e) for e in events]
    assert StoreFailing in kinds
    assert StoreRecovered in kinds
    assert kinds.index(StoreFailing) < kinds.index(StoreRecovered)
    assert store.verify().ok


def test_a_store_unwritable_past_the_bound_stops_the_run_and_resume_finishes_it(
    store: AuditStore, profile: Profile
) -> None:
    outage = Outage(store, after=3, seconds=3600, cause="disk I/O error")
    sent: Counter[str] = Counter()
    report = run(store, profile, suspend_counting(sent, []), TARGETS, tuning=tuning(),
                 max_outage=0.5)  # fmt: skip

    assert report.status == "interrupted"
    assert report.store_failed
    assert report.reason is not None
    assert "refused writes for" in report.reason
    assert "disk I/O error" in report.reason
    outage.started = time.monotonic() - 7200  # the disk is fixed
    state = load_run(store, "RUN-T")
    assert state.status == "crashed"  # no finish record (the store refused it), no process
    settled = state.settled()
    assert len(settled) < len(TARGETS)

    remaining = [t for t in TARGETS if t not in settled]
    resumed = run(store, profile, suspend_counting(sent, []), remaining, tuning=tuning(),
                  everything=TARGETS, unknown=state.unknown())  # fmt: skip
    assert resumed.status == "completed"
    final = load_run(store, "RUN-T")
    assert set(final.settled()) == set(TARGETS)
    assert final.status == "completed"
    assert store.verify().ok
