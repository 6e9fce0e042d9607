"""A small incident in a store, written the way the incident service and the executor write it.

Hostile text (script tags, Markdown links and images, formulas, terminal escapes, Rich markup,
bidi overrides) sits in the title, notes, targets and run parameters, so every format's
escaping is exercised by the same data.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ircli.audit.records import NewRecord
from ircli.audit.store import AuditStore
from ircli.incident.service import IncidentService
from tests.conftest import START, FixedClock

INCIDENT = "INC-20261128-TEST"
BEACON = "http://127.0.0.1:9/beacon"
HOSTILE = (
    "<script>document.title='PWNED'</script> <img src=x onerror=\"document.title='PWNED'\"> "
    f'[link](javascript:alert(1)) ![x]({BEACON}.png) =HYPERLINK("{BEACON}","x") '
    "\x1b[31mred\x1b[0m [bold]loud[/bold] \u202eexe.txt www.evil.example ops@evil.example"
)
FORMULA_NOTE = "=cmd|'/c calc'!A1"
HOSTILE_TARGET = 's-9"><svg onload=alert(1)>'
PLAN = "ef" * 32
PLAYBOOK_SHA = "cd" * 32


def _result(
    target: str, outcome: str, status: int | None, attempts: int, error: str | None = None
) -> dict[str, Any]:
    return {
        "target": target,
        "outcome": outcome,
        "status": status,
        "attempts": attempts,
        "latency_ms": 40 * attempts,
        "error": error,
    }


def _groups(*results: dict[str, Any]) -> dict[str, Any]:
    """An outcome in the grouped form the executor writes (targets that ended alike)."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for result in results:
        fields = {key: value for key, value in result.items() if key != "target"}
        group = groups.setdefault(tuple(fields.values()), {**fields, "targets": []})
        group["targets"].append(result["target"])
    return {"groups": list(groups.values())}


def build(store: AuditStore, clock: FixedClock) -> str:
    """Write the scenario; returns the incident id."""
    service = IncidentService(store, new_id=lambda _now: INCIDENT)
    service.open(
        f"Live flood {HOSTILE}",
        severity="P1",
        commander="dana",
        started_at=START - timedelta(minutes=9),
    )
    clock.advance(60)
    service.set_status(INCIDENT, "acknowledged")
    service.add_note(INCIDENT, f"First reports: {HOSTILE}", kind="detection")
    service.add_note(INCIDENT, FORMULA_NOTE, kind="decision")
    clock.advance(30)

    def append(kind: str, run: str | None = None, **fields: Any) -> None:
        store.append(NewRecord(kind=kind, incident=INCIDENT, run=run, **fields))

    streams = ["s-1", "s-2", "s-3", "s-4", HOSTILE_TARGET]
    append(
        "run.started",
        "R-streams",
        step="suspend",
        params={
            "action": "streams.suspend",
            "step": "suspend",
            "params": {},
            "profile": "sandbox",
            "profile_sha256": "ab" * 32,
            "batch_size": 2,
            "target_count": len(streams),
            "targets": streams,
            "playbook": {
                "name": "live-flood",
                "path": "playbooks/live-flood.yaml",
                "sha256": PLAYBOOK_SHA,
            },
            "plan_hash": PLAN,
        },
    )
    append(
        "approval.granted",
        "R-streams",
        params={"approver": "bob", "plan_hash": PLAN, "expires": "2026-11-28T23:00:00.000000Z"},
    )
    append(
        "query.result",
        "R-streams",
        step="select",
        params={
            "listing": "streams",
            "filter": "live and score > 0.9",
            "count": 5,
            "sample": streams[:2],
        },
    )
    append(
        "step.started",
        "R-streams",
        step="suspend",
        params={"step": "suspend", "kind": "action", "action": "streams.suspend"},
    )
    append(
        "action.intent",
        "R-streams",
        step="suspend",
        params={"action": "streams.suspend", "targets": streams[:3], "batch": False},
    )
    clock.advance(20)
    append(
        "action.outcome",
        "R-streams",
        step="suspend",
        params={"action": "streams.suspend"},
        outcome=_groups(
            _result("s-1", "done", 200, 1),
            _result("s-2", "done", 200, 3),
            _result("s-3", "failed", 403, 1, "forbidden <b>by</b> policy"),
        ),
    )
    clock.advance(60)
    append(
        "action.intent",
        "R-streams",
        step="suspend",
        params={"action": "streams.suspend", "targets": streams[3:], "batch": False},
    )
    append(
        "action.outcome",
        "R-streams",
        step="suspend",
        params={"action": "streams.suspend"},
        outcome=_groups(
            _result("s-4", "already_done", 409, 1),
            _result(HOSTILE_TARGET, "done", 200, 2),
        ),
    )
    append(
        "step.finished",
        "R-streams",
        step="suspend",
        params={"step": "suspend", "kind": "action", "summary": "4 of 5 targets done"},
        outcome={"status": "done", "targets": 5},
    )
    append(
        "run.finished",
        "R-streams",
        step="suspend",
        outcome={
            "status": "completed",
            "counts": {"done": 3, "already_done": 1, "retryable": 0, "failed": 1},
            "requests": 8,
            "retries": 2,
            "elapsed_ms": 1500,
            "http_requests": {"action": 6, "check": 0, "listing": 1, "probe": 1},
        },
    )
    clock.advance(45)
    append(
        "run.started",
        "R-accounts",
        step="freeze",
        params={
            "action": "accounts.freeze",
            "step": "freeze",
            "profile": "sandbox",
            "target_count": 2,
            "targets": ["a-1", "a-2"],
            "reason": f"bot wave {HOSTILE}",
            "params": {"reason": f"bot wave {HOSTILE}", "duration": "7d"},
            "selection": {
                "source": "--where",
                "listing": "accounts",
                "filters": {"status": "active", "cluster": HOSTILE_TARGET},
                "http_requests": {"action": 0, "check": 0, "listing": 2, "probe": 0},
            },
        },
    )
    append(
        "action.intent",
        "R-accounts",
        step="freeze",
        params={"action": "accounts.freeze", "targets": ["a-1", "a-2"], "batch": True},
    )
    append(
        "action.outcome",
        "R-accounts",
        step="freeze",
        params={"action": "accounts.freeze"},
        outcome=_groups(
            _result("a-1", "done", 200, 1),
            _result("a-2", "retryable", 429, 4, "rate limited"),
        ),
    )
    append(
        "action.outcome",
        "R-accounts",
        step="freeze",
        target="a-1",
        params={"action": "sessions.revoke"},
        # The per-target form of earlier development builds: still read.
        outcome={"results": [_result("a-1", "done", 204, 1)]},
    )
    append(
        "run.finished",
        "R-accounts",
        step="freeze",
        outcome={
            "status": "incomplete",
            "counts": {"done": 1, "retryable": 1, "unknown": 0},
            "requests": 5,
            "retries": 3,
            "http_requests": {"action": 5, "check": 1, "listing": 0, "probe": 1},
        },
    )
    append(
        "query.result",
        "R-streams",
        params={"listing": "streams", "filter": "live and score > 0.9", "count": 2},
    )
    append("drill.score", params={"summary": "score <i>0.9</i> [x](http://evil)"})
    clock.advance(60)
    service.set_status(INCIDENT, "mitigated")
    service.add_note(INCIDENT, "Kill switch back to 100% | all clear", kind="recovery")
    clock.advance(120)
    service.set_status(INCIDENT, "resolved")
    return INCIDENT
