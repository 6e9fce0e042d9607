"""The run journal: outcomes grouped in the chain, read back the same in either form."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ircli.audit.records import NewRecord, RecordFilter
from ircli.audit.store import AuditStore
from ircli.errors import AuditIntegrityError
from ircli.executor import journal as journal_module
from ircli.executor.journal import RunJournal, RunSpec, TargetResult, load_run, merge_results
from ircli.platform.model import Outcome

DONE = TargetResult(Outcome.DONE, 200, 1, 40)
ALREADY = TargetResult(Outcome.ALREADY_DONE, 200, 1, 41)
GONE = TargetResult(Outcome.FAILED, 404, 1, 12, "HTTP 404: not_found")
LATER = TargetResult(Outcome.RETRYABLE, 503, 3, 900, "gave up: HTTP 503")


def journal(store: AuditStore, targets: list[str]) -> RunJournal:
    spec = RunSpec(
        run="RUN-J", step="adhoc", action="accounts.freeze", targets=tuple(targets),
        params={}, profile="sandbox", profile_sha256="0" * 64,
    )  # fmt: skip
    opened = RunJournal(store, spec)
    opened.started()
    return opened


def outcome_records(store: AuditStore) -> list[Any]:
    return list(store.records(RecordFilter(run="RUN-J", kinds=("action.outcome",))))


def test_targets_that_ended_alike_share_one_group(store: AuditStore) -> None:
    run = journal(store, ["a", "b", "c", "d"])
    run.add(("a", "b"), DONE)
    run.add(("d",), GONE)
    run.add(("c",), DONE)
    asyncio.run(run.flush())
    [record] = outcome_records(store)
    assert record.target is None
    assert record.outcome == {
        "groups": [
            {"outcome": "done", "status": 200, "attempts": 1, "latency_ms": 40, "error": None,
             "targets": ["a", "b", "c"]},
            {"outcome": "failed", "status": 404, "attempts": 1, "latency_ms": 12,
             "error": "HTTP 404: not_found", "targets": ["d"]},
        ]
    }  # fmt: skip


def test_a_record_for_one_target_names_it(store: AuditStore) -> None:
    run = journal(store, ["a"])
    run.add(("a",), DONE)
    asyncio.run(run.flush())
    assert [record.target for record in outcome_records(store)] == ["a"]


def test_a_flush_splits_between_groups_never_inside_one(
    store: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "FLUSH_SIZE", 3)
    run = journal(store, list("abcdef"))
    run.add(("a", "b"), DONE)
    run.add(("c", "d"), GONE)
    run.add(("e", "f"), ALREADY)
    asyncio.run(run.flush())
    records = outcome_records(store)
    assert [[group["targets"] for group in r.outcome["groups"]] for r in records] == [
        [["a", "b"], ["c", "d"]],
        [["e", "f"]],
    ]


def test_load_run_reads_grouped_and_per_target_records(store: AuditStore) -> None:
    run = journal(store, ["a", "b", "c", "d"])
    # A record in the per-target form written by earlier development builds.
    store.append(
        NewRecord(
            kind="action.outcome", run="RUN-J", step="adhoc",
            params={"action": "accounts.freeze"},
            outcome={"results": [
                DONE.as_json("a"),
                LATER.as_json("b"),
            ]},
        )
    )  # fmt: skip
    run.add(("a", "b"), ALREADY)  # a resumed attempt: a was done already, b now is
    run.add(("c",), GONE)
    asyncio.run(run.flush())
    state = load_run(store, "RUN-J")
    assert state.results == {"a": DONE, "b": ALREADY, "c": GONE}
    assert state.counts() == {
        "done": 1, "already_done": 1, "retryable": 0, "failed": 1, "protected": 0, "unknown": 0,
        "untouched": 1,
    }  # fmt: skip


def test_merge_keeps_the_first_success() -> None:
    results = {"a": DONE, "b": LATER}
    merge_results(results, {"a": ALREADY, "b": DONE, "c": GONE})
    assert results == {"a": DONE, "b": DONE, "c": GONE}
    fresh: dict[str, TargetResult] = {}
    merge_results(fresh, dict.fromkeys(["x", "y"], ALREADY))
    assert fresh == {"x": ALREADY, "y": ALREADY}


@pytest.mark.parametrize(
    ("kind", "fields", "why"),
    [
        ("action.outcome", {"outcome": {"groups": [{"outcome": "done", "targets": "a"}]}},
         "group 1 has no list of target ids"),
        ("action.outcome", {"outcome": {"groups": [{**DONE.fields(), "outcome": "won"}]}},
         "group 1 has no list of target ids"),
        ("action.outcome",
         {"outcome": {"groups": [{**DONE.fields(), "outcome": "won", "targets": ["a"]}]}},
         "'won' is not a valid Outcome"),
        ("action.outcome",
         {"outcome": {"groups": [{**DONE.fields(), "attempts": "1", "targets": ["a"]}]}},
         "a status, attempt count, latency or error has the wrong type"),
        ("action.intent", {"params": {"targets": "a"}}, "its targets are not a list of ids"),
    ],
)  # fmt: skip
def test_a_malformed_run_record_stops_the_rebuild(
    store: AuditStore, kind: str, fields: dict[str, Any], why: str
) -> None:
    journal(store, ["a", "b"])
    bad = store.append(NewRecord(kind=kind, run="RUN-J", step="adhoc", **fields))
    with pytest.raises(AuditIntegrityError) as raised:
        load_run(store, "RUN-J")
    assert str(raised.value) == (
        f"audit record {bad.seq} ({kind} of run RUN-J) is malformed: {why}; "
        "the run's state cannot be rebuilt safely."
    )


def test_counts_tell_unknown_from_untouched(store: AuditStore) -> None:
    run = journal(store, ["a", "b", "c", "d"])
    asyncio.run(run.intend(["a", "b", "c"], batch=False))
    run.add(("a",), DONE)
    asyncio.run(run.flush())
    state = load_run(store, "RUN-J")
    assert state.unknown() == ["b", "c"]  # intended, no outcome: their requests may have left
    # d has neither an intent nor an outcome: counted untouched, not unknown
    assert state.counts() == {
        "done": 1, "already_done": 0, "retryable": 0, "failed": 0, "protected": 0, "unknown": 2,
        "untouched": 1,
    }  # fmt: skip


def test_a_malformed_start_record_is_named(store: AuditStore) -> None:
    bad = store.append(
        NewRecord(kind="run.started", run="RUN-K", step="adhoc",
                  params={"action": "accounts.freeze", "targets": "a"})
    )  # fmt: skip
    with pytest.raises(AuditIntegrityError, match=f"^audit record {bad.seq} \\(run.started"):
        load_run(store, "RUN-K")
