"""``report -f targets.csv``: one row per run, action and target, with its final outcome."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

from ircli.audit.records import AuditRecord
from ircli.report import Report, render
from ircli.report.targets import TARGET_COLUMNS, target_outcomes

SCENARIO_CSV = """\
incident,run,step,action,target,outcome,status,attempts,error,first_recorded_at,last_recorded_at,operator
INC-20261128-TEST,R-streams,suspend,streams.suspend,s-1,done,200,1,,2026-11-28T22:01:30.000000Z,2026-11-28T22:01:50.000000Z,alice
INC-20261128-TEST,R-streams,suspend,streams.suspend,s-2,done,200,3,,2026-11-28T22:01:30.000000Z,2026-11-28T22:01:50.000000Z,alice
INC-20261128-TEST,R-streams,suspend,streams.suspend,s-3,failed,403,1,forbidden <b>by</b> policy,2026-11-28T22:01:30.000000Z,2026-11-28T22:01:50.000000Z,alice
INC-20261128-TEST,R-streams,suspend,streams.suspend,s-4,already_done,409,1,,2026-11-28T22:02:50.000000Z,2026-11-28T22:02:50.000000Z,alice
INC-20261128-TEST,R-streams,suspend,streams.suspend,"s-9""><svg onload=alert(1)>",done,200,2,,2026-11-28T22:02:50.000000Z,2026-11-28T22:02:50.000000Z,alice
INC-20261128-TEST,R-accounts,freeze,accounts.freeze,a-1,done,200,1,,2026-11-28T22:03:35.000000Z,2026-11-28T22:03:35.000000Z,alice
INC-20261128-TEST,R-accounts,freeze,accounts.freeze,a-2,retryable,429,4,rate limited,2026-11-28T22:03:35.000000Z,2026-11-28T22:03:35.000000Z,alice
INC-20261128-TEST,R-accounts,freeze,sessions.revoke,a-1,done,204,1,,2026-11-28T22:03:35.000000Z,2026-11-28T22:03:35.000000Z,alice
"""  # noqa: E501 - the exact document


def test_the_scenario_as_targets_csv(report: Report) -> None:
    assert render(report, "targets.csv") == SCENARIO_CSV.replace("\n", "\r\n")
    assert "targets" not in report.as_dict()  # the JSON report stays one row per run


def record(seq: int, kind: str, run: str = "R", **fields: Any) -> AuditRecord:
    values: dict[str, Any] = {"operator": "alice", "incident": "INC", "step": "s",
                              "target": None, "params": {}, "outcome": {}, **fields}  # fmt: skip
    return AuditRecord(seq=seq, ts=f"2026-11-28T22:00:{seq:02d}.000000Z", kind=kind, run=run,
                       prev_hash="", hash="", **values)  # fmt: skip


def result(outcome: str, status: int | None, attempts: int, error: str | None, *ids: str) -> Any:
    return {"outcome": outcome, "status": status, "attempts": attempts, "latency_ms": 5,
            "error": error, "targets": list(ids)}  # fmt: skip


def test_first_success_else_latest_and_attempts_add_up() -> None:
    freeze = {"action": "accounts.freeze"}
    records = [
        record(1, "run.started", operator="dana", params={**freeze, "targets": list("xyzw")}),
        record(2, "action.intent", operator="bob", params={**freeze, "targets": list("xyzw")}),
        record(3, "action.outcome", params=freeze, outcome={"groups": [
            result("retryable", 429, 1, "rate limited", "x"),
            result("done", 200, 1, None, "y"),
            result("failed", 500, 3, "HTTP 500", "z"),
        ]}),
        record(4, "run.resumed"),
        record(5, "action.intent", params={**freeze, "targets": ["x", "y", "z"]}),
        record(6, "action.outcome", params=freeze, outcome={"groups": [
            result("done", 200, 2, None, "x"),
            result("already_done", 409, 1, None, "y"),
            result("retryable", None, 1, "timed out", "z"),
        ]}),
        record(7, "action.outcome", run="OTHER", params=freeze,
               outcome={"groups": [result("done", 200, 1, None, "x")]}),
    ]  # fmt: skip
    rows = {(row.run, row.target): row for row in target_outcomes(records)}
    summary = {key: (row.outcome, row.status, row.attempts, row.error)
               for key, row in rows.items()}  # fmt: skip
    assert summary == {
        ("R", "x"): ("done", 200, 3, None),
        ("R", "y"): ("done", 200, 2, None),  # the first success stays, with its status
        ("R", "z"): ("retryable", None, 4, "timed out"),  # no success: the latest
        ("R", "w"): ("unknown", None, 0, None),  # intent, no outcome: the request may have left
        ("OTHER", "x"): ("done", 200, 1, None),
    }
    assert (rows["R", "x"].first_recorded_at, rows["R", "x"].last_recorded_at) == (
        "2026-11-28T22:00:02.000000Z", "2026-11-28T22:00:06.000000Z"
    )  # fmt: skip
    assert rows["R", "w"].last_recorded_at == "2026-11-28T22:00:02.000000Z"
    assert rows["R", "x"].operator == "dana"  # who started the run
    assert rows["OTHER", "x"].operator == "alice"  # no start record: its first record's


def test_hostile_targets_are_inert_in_every_cell(report: Report) -> None:
    hostile = ["=HYPERLINK(\"http://evil\")", "+1", "-2", "@SUM(A1)", "\u202eexe.txt",
               "x\x1b[31mred", "\uff1dcmd", "\tx", "plain"]  # fmt: skip
    records = [
        record(1, "action.intent", params={"action": "=cmd|' /C calc'!A0", "targets": hostile}),
        record(2, "action.outcome", params={"action": "a"},
               outcome={"groups": [result("failed", 400, 1, "=2+2", *hostile)]}),
    ]  # fmt: skip
    text = render(replace(report, targets=target_outcomes(records)), "targets.csv")
    assert "\x1b" not in text
    assert "\u202e" not in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == TARGET_COLUMNS
    targets = [row["target"] for row in rows]
    assert targets == [
        "'=HYPERLINK(\"http://evil\")", "'+1", "'-2", "'@SUM(A1)", "\\u202eexe.txt",
        "x\\x1b[31mred", "'\uff1dcmd", "'\tx", "plain",
        "'=HYPERLINK(\"http://evil\")", "'+1", "'-2", "'@SUM(A1)", "\\u202eexe.txt",
        "x\\x1b[31mred", "'\uff1dcmd", "'\tx", "plain",
    ]  # fmt: skip
    assert rows[0]["action"] == "'=cmd|' /C calc'!A0"
    assert rows[-1]["error"] == "'=2+2"
