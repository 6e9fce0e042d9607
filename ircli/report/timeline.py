"""Audit records → timeline lines. Known kinds get a sentence; unknown kinds a generic line.

Per-target ``action.intent`` records are left out (the runs and metrics count them); each
``action.outcome`` record becomes one line summarising its results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ircli.audit.outcomes import outcome_tally
from ircli.audit.records import AuditRecord
from ircli.platform.sent import describe
from ircli.report.model import TimelineItem

__all__ = ["build_timeline", "text_of"]

_SKIPPED = frozenset({"action.intent"})


def text_of(value: Any) -> str:
    """A short display form of any JSON value (``None`` → empty)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={text_of(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(text_of(item) for item in value)
    return str(value)


def _number(value: Any) -> str:
    return f"{value:,}" if type(value) is int else text_of(value)


def _targets(count: int) -> str:
    return f"{count:,} target" + ("" if count == 1 else "s")


def _counts_text(counts: Mapping[str, Any]) -> str:
    parts = [
        f"{value:,} {text_of(key).replace('_', ' ')}"
        for key, value in counts.items()
        if type(value) is int and value
    ]
    return ", ".join(parts) or "nothing"


def _step(record: AuditRecord) -> str:
    return text_of(record.params.get("step") or record.step)


def _describe(record: AuditRecord) -> tuple[str, str, str] | None:
    """(at, kind, message) for a record, or None to leave it out."""
    p, o, kind = record.params, record.outcome, record.kind
    at = str(p.get("at") or record.ts)
    if kind == "incident.opened":
        at = str(p.get("detected") or record.ts)
        return (
            at,
            "detection",
            f"Incident opened ({text_of(p.get('severity'))}): {text_of(p.get('title'))}",
        )
    if kind == "incident.status":
        return (
            at,
            "status",
            f"Status changed from {text_of(p.get('from'))} to {text_of(p.get('status'))}",
        )
    if kind == "timeline.note":
        return at, text_of(p.get("note_kind")) or "note", text_of(p.get("message"))
    if kind == "run.started":
        playbook = p.get("playbook")
        what = text_of(playbook.get("name")) if isinstance(playbook, Mapping) else ""
        what = what or text_of(p.get("action")) or "run"
        count = p.get("target_count")
        on = f" on {_targets(count)}" if type(count) is int else ""
        plan = f" (plan {text_of(p.get('plan_hash'))[:12]})" if p.get("plan_hash") else ""
        return at, "run", f"Run {record.run or ''} started: {what}{on}{plan}"
    if kind == "run.resumed":
        return (
            at,
            "run",
            f"Run {record.run or ''} resumed ({_counts_text(p.get('known') or {})} known)",
        )
    if kind == "run.finished":
        # An action run's counts (targets by outcome); a playbook run has none of its own.
        counts = o.get("counts")
        counted = f" ({_counts_text(counts)})" if isinstance(counts, Mapping) else ""
        sent = o.get("http_requests")
        requests = f"; HTTP requests: {describe(sent)}" if isinstance(sent, Mapping) else ""
        return (
            at,
            "run",
            f"Run {record.run or ''} finished: {text_of(o.get('status'))}{counted}{requests}",
        )
    if kind == "step.started":
        action = f" {text_of(p.get('action'))}" if p.get("action") else ""
        return (
            at,
            "step",
            f"Step {_step(record)} started ({text_of(p.get('kind'))}{action})",
        )
    if kind == "step.finished":
        if "status" in o:  # what the playbook runner writes: a status and a target count
            count = o.get("targets")
            on = f" ({_targets(count)})" if type(count) is int and count else ""
            return at, "step", f"Step {_step(record)} finished: {text_of(o['status'])}{on}"
        return at, "step", f"Step {_step(record)} finished: {_counts_text(o)}"
    if kind == "query.result":
        flt = f" {text_of(p.get('filter'))!r}" if p.get("filter") else ""
        return (
            at,
            "query",
            f"Query {text_of(p.get('listing'))}{flt} matched {_number(p.get('count'))}",
        )
    if kind == "approval.granted":
        approver = text_of(p.get("approver")) or record.operator
        plan = text_of(p.get("plan_hash"))[:12]
        expires = f", expires {text_of(p.get('expires'))}" if p.get("expires") else ""
        return at, "approval", f"Plan {plan} approved by {approver}{expires}"
    if kind == "action.outcome":
        action = text_of(p.get("action")) or "action"
        on = f" {record.target}" if record.target else ""
        return (
            record.ts,
            "action",
            f"{action}{on}: {_counts_text(outcome_tally(o))}",
        )
    if kind in _SKIPPED:
        return None
    return at, kind, text_of(p.get("summary") or p.get("message")) or kind


def build_timeline(records: Iterable[AuditRecord]) -> list[TimelineItem]:
    """The timeline of ``records``, ordered by (time, seq)."""
    items = []
    for record in records:
        described = _describe(record)
        if described is None:
            continue
        at, kind, message = described
        items.append(
            TimelineItem(
                at=at,
                kind=kind,
                message=message,
                operator=record.operator,
                seq=record.seq,
                recorded_at=record.ts,
                record_kind=record.kind,
                run=record.run,
                step=record.step,
                target=record.target,
            )
        )
    items.sort(key=lambda item: (item.at, item.seq))
    return items
