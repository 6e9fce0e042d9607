"""Building the report: metrics, runs, charts, tolerance of odd records, the chain check."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ircli.audit.records import NewRecord
from ircli.audit.store import AuditStore
from ircli.errors import InvalidInput
from ircli.report import Report, build_report, render
from ircli.report.model import ContainmentPoint
from tests.report.conftest import GENERATED_AT
from tests.report.scenario import INCIDENT


def test_metrics_count_final_outcomes_requests_and_retries(report: Report) -> None:
    m = report.metrics
    tallies = {t.action: t for t in m.actions}
    assert tallies["streams.suspend"].outcomes == {
        "done": 3,
        "already_done": 1,
        "retryable": 0,
        "failed": 1,
        "protected": 0,
    }
    assert (tallies["streams.suspend"].attempts, tallies["streams.suspend"].retries) == (8, 3)
    assert tallies["accounts.freeze"].outcomes["retryable"] == 1
    assert (m.targets_affected, m.target_attempts, m.failures, m.retries) == (5, 14, 2, 6)
    # HTTP requests are what the runs recorded sending, apart from target attempts.
    assert m.http_requests == {"action": 11, "check": 1, "listing": 3, "probe": 2}
    assert m.http_requests_unrecorded == []
    assert (m.time_to_detect_seconds, m.time_to_acknowledge_seconds) == (540.0, 600.0)
    assert m.peak_actions_per_minute == 3


def test_runs_and_approvals(report: Report) -> None:
    streams, accounts = report.runs
    assert (streams.run, streams.status, streams.targets) == ("R-streams", "completed", 5)
    assert streams.playbook == {
        "name": "live-flood",
        "path": "playbooks/live-flood.yaml",
        "sha256": "cd" * 32,
    }
    assert [step.step for step in streams.steps] == ["suspend"]
    assert (accounts.run, accounts.status, accounts.plan_hash) == ("R-accounts", "incomplete", None)
    assert accounts.reason is not None
    assert accounts.reason.startswith("bot wave <script>")
    assert accounts.selection is not None
    assert accounts.selection["filters"]["status"] == "active"
    assert accounts.parameters["duration"] == "7d"
    assert accounts.http_requests == {"action": 5, "check": 1, "listing": 2, "probe": 1}
    assert [(a.approver, a.plan_hash) for a in report.approvals] == [("bob", "ef" * 32)]


def test_containment_curve_is_observed_then_lowered_by_done_suspensions(report: Report) -> None:
    assert report.charts.containment == [
        ContainmentPoint("2026-11-28T22:01:30.000000Z", 5, "query"),
        ContainmentPoint("2026-11-28T22:01:50.000000Z", 3, "suspended"),
        ContainmentPoint("2026-11-28T22:02:50.000000Z", 2, "suspended"),
        ContainmentPoint("2026-11-28T22:03:35.000000Z", 2, "query"),
    ]
    assert [phase.name for phase in report.charts.phases] == [
        "impact started → detected",
        "detected → acknowledged",
        "acknowledged → mitigated",
        "mitigated → resolved",
    ]
    minutes = [bucket.at[11:16] for bucket in report.charts.actions_per_minute]
    assert minutes == ["22:01", "22:02", "22:03"]


def test_unknown_kinds_and_missing_fields_do_not_crash(store: AuditStore, incident: str) -> None:
    for record in (
        NewRecord(kind="run.started", incident=incident, run="R-odd", params={"playbook": "x"}),
        NewRecord(kind="action.outcome", incident=incident, run="R-odd", outcome={"results": 3}),
        NewRecord(
            kind="action.outcome",
            incident=incident,
            run="R-odd",
            outcome={"results": [{"target": None}, "junk"]},
        ),
        NewRecord(kind="query.result", incident=incident, params={"listing": "streams"}),
        NewRecord(kind="approval.granted", incident=incident, params={"approver": 42}),
        NewRecord(kind="step.finished", incident=incident, run="R-odd"),
        NewRecord(kind="mystery.thing", incident=incident, params={"at": "not a time"}),
        NewRecord(kind="run.finished", incident=incident, run="R-odd"),
        NewRecord(
            kind="action.outcome",
            incident=incident,
            run="R-odd",
            outcome={"groups": [{"targets": "x"}, 5, {"outcome": "done"}]},
        ),
        NewRecord(
            kind="run.finished",
            incident=incident,
            run="R-odd",
            outcome={"counts": "lots"},
        ),
    ):
        store.append(record)
    built = build_report(store, incident, now=GENERATED_AT)
    kinds = [item.kind for item in built.timeline]
    assert "mystery.thing" in kinds
    for fmt in ("md", "html", "json", "csv", "timesketch"):
        assert render(built, fmt)
    odd = next(run for run in built.runs if run.run == "R-odd")
    assert odd.playbook is None
    assert odd.status == "finished"


def test_runs_records_without_the_incident_still_count(store: AuditStore, incident: str) -> None:
    store.append(
        NewRecord(
            kind="action.outcome",
            run="R-streams",
            params={"action": "streams.suspend"},
            outcome={"results": [{"target": "s-3", "outcome": "done", "attempts": 1}]},
        )
    )
    built = build_report(store, incident, now=GENERATED_AT)
    tally = next(t for t in built.metrics.actions if t.action == "streams.suspend")
    assert tally.outcomes["done"] == 4
    assert tally.outcomes["failed"] == 0


def test_unknown_incident_is_invalid_input(store: AuditStore, incident: str) -> None:
    with pytest.raises(InvalidInput, match="no incident 'INC-NOPE'"):
        build_report(store, "INC-NOPE", now=GENERATED_AT)


def test_a_tampered_chain_is_reported_in_the_report(
    store: AuditStore, incident: str, db_path: Path
) -> None:
    connection = sqlite3.connect(db_path)
    connection.execute("DROP TRIGGER IF EXISTS audit_records_no_update")
    connection.execute("UPDATE audit_records SET operator = 'mallory' WHERE seq = 3")
    connection.commit()
    connection.close()
    built = build_report(store, INCIDENT, now=GENERATED_AT)
    assert not built.audit.ok
    assert built.audit.first_bad_seq == 3
    assert built.audit.summary.startswith("audit chain broken at seq 3: the content does not")
    last = render(built, "md").rstrip().splitlines()[-1]
    assert last.endswith(f"\\(2/{built.audit.total} records valid\\).")


def test_timeline_lines_spell_out_numbers(store: AuditStore, incident: str) -> None:
    for kind, fields in (
        ("run.started", {"params": {"action": "accounts.freeze", "target_count": 14_937}}),
        ("run.started", {"params": {"action": "flags.set", "target_count": 1}}),
        ("step.finished", {"params": {"step": "freeze"},
                           "outcome": {"status": "done", "targets": 15_241}}),
        ("step.finished", {"params": {"step": "note"},
                           "outcome": {"status": "done", "targets": 0}}),
        ("query.result", {"params": {"listing": "accounts", "count": 15_241}}),
    ):  # fmt: skip
        store.append(NewRecord(kind=kind, incident=incident, run="R-n", **fields))
    built = build_report(store, incident, now=GENERATED_AT)
    messages = {item.message for item in built.timeline}
    assert {
        "Run R-n started: accounts.freeze on 14,937 targets",
        "Run R-n started: flags.set on 1 target",
        "Step freeze finished: done (15,241 targets)",
        "Step note finished: done",
        "Query accounts matched 15,241",
    } <= messages


def test_a_run_finished_line_counts_targets(store: AuditStore, incident: str) -> None:
    store.append(
        NewRecord(
            kind="run.finished", incident=incident, run="R-big",
            outcome={
                "status": "incomplete", "requests": 201, "elapsed_ms": 512,
                "counts": {"done": 99_999, "already_done": 0, "failed": 1, "unknown": 0},
            },
        )
    )  # fmt: skip
    store.append(NewRecord(kind="run.finished", incident=incident, run="R-pb",
                           outcome={"status": "completed", "plan_hash": "ab" * 32}))  # fmt: skip
    built = build_report(store, incident, now=GENERATED_AT)
    lines = [item.message for item in built.timeline if item.kind == "run"]
    assert "Run R-big finished: incomplete (99,999 done, 1 failed)" in lines
    assert "Run R-pb finished: completed" in lines


def test_protected_targets_are_counted_apart_and_not_as_actions(
    store: AuditStore, incident: str
) -> None:
    before = build_report(store, incident, now=GENERATED_AT)
    store.append(
        NewRecord(
            kind="action.outcome",
            incident=INCIDENT,
            run="R-accounts",
            params={"action": "accounts.freeze"},
            outcome={"groups": [{"outcome": "protected", "status": None, "attempts": 0,
                                 "latency_ms": 0, "error": "protected account: not sent",
                                 "targets": ["acc-9", "acc-10"]}]},
        )
    )  # fmt: skip
    built = build_report(store, incident, now=GENERATED_AT)
    freezes = next(t for t in built.metrics.actions if t.action == "accounts.freeze")
    assert freezes.outcomes["protected"] == 2
    assert built.metrics.protected == 2
    assert built.metrics.failures == before.metrics.failures  # held back is not a failure
    assert built.metrics.target_attempts == before.metrics.target_attempts
    assert sum(sum(b.counts.values()) for b in built.charts.actions_per_minute) == sum(
        sum(b.counts.values()) for b in before.charts.actions_per_minute
    )
    markdown = render(built, "md")
    assert "| Protected \\(targets held back, not sent\\) | 2 |" in markdown
    assert "2 protected \\(not sent\\)" in markdown  # in the summary and its run
