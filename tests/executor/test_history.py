"""Listing runs: a finished run from its finish record, any other by replaying it."""

from __future__ import annotations

import asyncio
import json

import pytest

from ircli.audit.records import NewRecord
from ircli.audit.store import AuditStore
from ircli.executor import history
from ircli.executor.history import RunListing, list_run_summaries
from ircli.executor.journal import RunJournal, RunSpec, RunState, TargetResult, load_run
from ircli.platform.model import Outcome
from tests.conftest import CliRunner

DONE = TargetResult(Outcome.DONE, 200, 1, 40)
GONE = TargetResult(Outcome.FAILED, 404, 1, 12, "HTTP 404: not_found")


def start(store: AuditStore, run: str, targets: list[str]) -> RunJournal:
    spec = RunSpec(
        run=run, step="adhoc", action="accounts.freeze", targets=tuple(targets), params={},
        profile="sandbox", profile_sha256="0" * 64,
    )  # fmt: skip
    journal = RunJournal(store, spec)
    journal.started()
    asyncio.run(journal.intend(targets, batch=False))
    return journal


def settle(journal: RunJournal, *pairs: tuple[str, TargetResult]) -> None:
    for target, result in pairs:
        journal.add((target,), result)
    asyncio.run(journal.flush())


def finish(store: AuditStore, journal: RunJournal, status: str) -> None:
    counts = load_run(store, journal.spec.run).counts()
    journal.finished(status, {"counts": counts, "requests": 3})


def test_listing_matches_a_full_replay(store: AuditStore, monkeypatch: pytest.MonkeyPatch) -> None:
    finished = start(store, "R-1", ["a", "b", "c"])
    settle(finished, ("a", DONE), ("b", GONE))
    finish(store, finished, "incomplete")
    crashed = start(store, "R-2", ["d", "e"])  # no finish record: replayed
    settle(crashed, ("d", DONE))
    resumed = start(store, "R-3", ["f"])
    finish(store, resumed, "interrupted")
    resumed.resumed({"untouched": 1}, "0" * 64)  # resumed after its finish: replayed again
    settle(resumed, ("f", DONE))
    replayed: list[str] = []

    def spy(store: AuditStore, run: str) -> RunState:
        replayed.append(run)
        return load_run(store, run)

    monkeypatch.setattr(history, "load_run", spy)
    listed = list_run_summaries(store)
    assert replayed == ["R-3", "R-2"]  # R-1 finished: listed from its finish record
    assert [listing.run for listing in listed] == ["R-3", "R-2", "R-1"]
    assert listed == [RunListing.of(load_run(store, run)) for run in ("R-3", "R-2", "R-1")]
    assert listed[0].status == "crashed"  # no finish since its resume, and no lease held
    with store.leases.hold("R-3", store.clock()):  # a live process runs it
        assert list_run_summaries(store)[0].status == "running"
    assert dict(listed[2].counts) == {
        "done": 1, "already_done": 0, "retryable": 0, "failed": 1, "protected": 0, "unknown": 1,
        "untouched": 0,
    }  # fmt: skip


def test_a_finish_record_without_counts_is_replayed(store: AuditStore) -> None:
    journal = start(store, "R-odd", ["a", "b"])
    settle(journal, ("a", DONE))
    store.append(NewRecord(kind="run.finished", run="R-odd", outcome={"status": "completed"}))
    [listing] = list_run_summaries(store)
    assert (listing.counts["done"], listing.counts["unknown"]) == (1, 1)
    assert listing.status == "completed"


def test_playbook_runs_are_listed_by_their_step_runs(store: AuditStore) -> None:
    store.append(NewRecord(kind="run.started", run="PB-1", params={"playbook": {"name": "x"}}))
    store.append(NewRecord(kind="run.finished", run="PB-1", outcome={"status": "completed"}))
    step = start(store, "PB-1.freeze", ["a"])
    settle(step, ("a", DONE))
    finish(store, step, "completed")
    assert [listing.run for listing in list_run_summaries(store)] == ["PB-1.freeze"]


def test_runs_list_shows_the_newest_50_unless_told_otherwise(
    store: AuditStore, cli: CliRunner
) -> None:
    for n in range(60):
        finish(store, start(store, f"R-{n:03d}", ["a"]), "completed")
    newest = [f"R-{n:03d}" for n in range(59, -1, -1)]

    listed = cli("--json", "runs", "list")
    assert [run["run"] for run in json.loads(listed.stdout)] == newest[:50]
    assert "the newest 50 of 60 runs; --limit N or --all for more." in listed.stderr
    listed = cli("--json", "runs", "list", "--all")
    assert [run["run"] for run in json.loads(listed.stdout)] == newest
    assert "newest" not in listed.stderr
    listed = cli("runs", "list", "--limit", "3")
    assert listed.exit_code == 0, listed.stderr
    assert [run for run in newest if run in listed.stdout] == newest[:3]
    assert "the newest 3 of 60 runs" in listed.stderr
    assert cli("runs", "list", "--limit", "0").exit_code == 2
