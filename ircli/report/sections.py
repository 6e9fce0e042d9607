"""The post-mortem's content as plain (unescaped) text, shared by the Markdown and HTML renderers.

Sections follow the usual SRE post-mortem skeleton: summary, impact, detection, response,
recovery, metrics, timeline, runs, approvals, action items, and the audit anchor. Every string
here may contain attacker-controlled text: renderers escape it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ircli.report.model import Report, RunSummary, TimelineItem
from ircli.report.runs import OUTCOMES
from ircli.report.series import parse_utc
from ircli.report.timeline import text_of

__all__ = [
    "ACTION_ITEM_COLUMNS",
    "ACTION_ITEM_ROWS",
    "PLACEHOLDERS",
    "action_rows",
    "anchor_lines",
    "approval_rows",
    "detection",
    "duration",
    "impact",
    "metric_rows",
    "overview_rows",
    "recovery",
    "response",
    "run_rows",
    "short_time",
    "step_rows",
    "summary",
    "timeline_rows",
]

ACTION_ITEM_COLUMNS = (
    "#",
    "Action item",
    "Type (mitigate / prevent / detect)",
    "Owner",
    "Due",
    "Ticket",
)
ACTION_ITEM_ROWS = 3
PLACEHOLDERS = {
    "impact": "Describe who was affected, how, and for how long (to be written by the team).",
    "root_cause": "Root cause and contributing factors (to be written by the team).",
}
_DETECTION_KINDS = frozenset({"detection"})
_RECOVERY_KINDS = frozenset({"recovery"})
_RESPONSE_KINDS = frozenset({"decision", "action", "communication", "note"})
_HEX64 = re.compile(r"[0-9a-f]{64}")


def duration(seconds: float | None) -> str:
    """``1h 02m 03s`` / ``9m 00s`` / ``-``."""
    if seconds is None:
        return "-"
    total = int(seconds)
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    return (
        f"{sign}{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{sign}{minutes}m {secs:02d}s"
    )


def short_time(at: str | None) -> str:
    """``2026-11-28 22:04:00`` (UTC) for an audit time; anything else as it is."""
    moment = parse_utc(at)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else (at or "-")


def overview_rows(report: Report) -> list[tuple[str, str]]:
    """The facts table at the top."""
    incident = report.incident
    return [
        ("Incident", incident.id),
        ("Title", incident.title),
        ("Severity", incident.severity),
        ("Status", incident.status),
        ("Commander", incident.commander or "-"),
        ("Opened", f"{short_time(incident.opened_at)} UTC by {incident.opened_by}"),
        ("Report generated", f"{short_time(report.generated_at)} UTC"),
    ]


def _totals(report: Report) -> dict[str, int]:
    totals = dict.fromkeys(OUTCOMES, 0)
    for tally in report.metrics.actions:
        for outcome, count in tally.outcomes.items():
            totals[outcome] = totals.get(outcome, 0) + count
    return totals


def summary(report: Report) -> str:
    """One paragraph."""
    incident, metrics = report.incident, report.metrics
    totals = _totals(report)
    runs = len(report.runs)
    acted = (
        f" {runs} run{'s' if runs != 1 else ''} acted on {sum(totals.values())} targets "
        f"({totals['done']} done, {totals['already_done']} already done, "
        f"{totals['failed'] + totals['retryable']} not done) with {metrics.requests} requests "
        f"and {metrics.retries} retries."
        if runs
        else " No runs are recorded for this incident."
    )
    commander = f" Commander: {incident.commander}." if incident.commander else ""
    return (
        f"{incident.title} — severity {incident.severity}, status {incident.status}."
        f"{commander} Time to mitigate: {duration(metrics.time_to_mitigate)}; "
        f"time to resolve: {duration(metrics.time_to_resolve)}.{acted}"
    )


def _notes(report: Report, kinds: frozenset[str]) -> list[str]:
    return [
        f"{short_time(item.at)} — {item.message} ({item.operator})"
        for item in report.timeline
        if item.record_kind == "timeline.note" and item.kind in kinds
    ]


def _milestone(report: Report, name: str) -> str:
    value = report.incident.milestones.get(name)
    return f"{short_time(value)} UTC" if value else "not recorded"


def impact(report: Report) -> list[str]:
    """Impact bullets (the human description is a placeholder)."""
    lines = [
        f"Impact started: {_milestone(report, 'impact_started')}.",
        f"Detected: {_milestone(report, 'detected')} "
        f"(time to detect {duration(report.metrics.time_to_detect)}).",
        f"Mitigated: {_milestone(report, 'mitigated')}; "
        f"resolved: {_milestone(report, 'resolved')}.",
    ]
    containment = report.charts.containment
    if containment:
        peak = max(point.live for point in containment)
        lines.append(
            f"Malicious live streams (from the run's own records): peak {peak}, "
            f"{containment[-1].live} at {short_time(containment[-1].at)} UTC."
        )
    return lines


def detection(report: Report) -> list[str]:
    """How and when it was noticed and acknowledged."""
    return [
        f"Detected at {_milestone(report, 'detected')}; acknowledged at "
        f"{_milestone(report, 'acknowledged')} "
        f"(time to acknowledge {duration(report.metrics.time_to_acknowledge)}).",
        *_notes(report, _DETECTION_KINDS),
    ]


def response(report: Report) -> list[str]:
    """Runs, approvals and the responders' notes."""
    lines = [_run_line(run) for run in report.runs]
    if report.approvals:
        lines.append(f"{len(report.approvals)} plan approval(s) recorded (see Approvals).")
    known = _DETECTION_KINDS | _RECOVERY_KINDS
    other = frozenset(i.kind for i in report.timeline if i.record_kind == "timeline.note") - known
    return lines + _notes(report, _RESPONSE_KINDS | other)


def _run_line(run: RunSummary) -> str:
    what = (run.playbook or {}).get("name") or run.action or "run"
    done = sum(t.outcomes.get("done", 0) for t in run.actions)
    targets = sum(t.targets for t in run.actions)
    return (
        f"Run {run.run} ({what}) by {run.operator} at {short_time(run.started_at)} UTC: "
        f"{run.status}; {done}/{targets} targets done."
    )


def recovery(report: Report) -> list[str]:
    """Mitigation, resolution and recovery notes."""
    return [
        f"Mitigated at {_milestone(report, 'mitigated')} "
        f"(time to mitigate {duration(report.metrics.time_to_mitigate)}); resolved at "
        f"{_milestone(report, 'resolved')} "
        f"(time to resolve {duration(report.metrics.time_to_resolve)}).",
        *_notes(report, _RECOVERY_KINDS),
    ]


def metric_rows(report: Report) -> list[tuple[str, str]]:
    """The metrics table."""
    m = report.metrics
    return [
        ("Time to detect", duration(m.time_to_detect)),
        ("Time to acknowledge", duration(m.time_to_acknowledge)),
        ("Time to mitigate", duration(m.time_to_mitigate)),
        ("Time to resolve", duration(m.time_to_resolve)),
        ("Targets changed (done)", str(m.targets_affected)),
        ("Requests", str(m.requests)),
        ("Failures (targets not done)", str(m.failures)),
        ("Retries", str(m.retries)),
        ("Peak target actions per minute", str(m.peak_actions_per_minute)),
    ]


def action_rows(report: Report) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Targets per action and outcome."""
    header = (
        "Action",
        "Targets",
        "Done",
        "Already done",
        "Retryable",
        "Failed",
        "Requests",
        "Retries",
    )
    rows = [
        (
            t.action,
            str(t.targets),
            *(str(t.outcomes.get(outcome, 0)) for outcome in OUTCOMES),
            str(t.requests),
            str(t.retries),
        )
        for t in report.metrics.actions
    ]
    return header, rows


def timeline_rows(items: list[TimelineItem]) -> list[tuple[str, str, str, str]]:
    """(time, kind, operator, event)."""
    return [(short_time(i.at), i.kind, i.operator, i.message) for i in items]


def run_rows(report: Report) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """One row per run, with its plan and playbook hashes."""
    header = (
        "Run",
        "Started",
        "Finished",
        "Status",
        "What",
        "Targets",
        "Plan hash",
        "Playbook",
        "Playbook SHA-256",
        "Profile SHA-256",
    )
    rows: list[tuple[str, ...]] = []
    for run in report.runs:
        playbook = run.playbook or {}
        rows.append(
            (
                run.run,
                short_time(run.started_at),
                short_time(run.finished_at),
                run.status + (f" (resumed {run.resumed}×)" if run.resumed else ""),
                run.action or playbook.get("name") or "-",
                "-" if run.target_count is None else str(run.target_count),
                run.plan_hash or "-",
                playbook.get("path") or playbook.get("name") or "-",
                playbook.get("sha256") or "-",
                run.profile_sha256 or "-",
            )
        )
    return header, rows


def step_rows(report: Report) -> list[tuple[str, ...]]:
    """(run, step, kind, action, finished, outcome) for playbook steps."""
    return [
        (
            run.run,
            step.step,
            step.kind or "-",
            step.action or "-",
            short_time(step.finished_at),
            _step_outcome(step.counts),
        )
        for run in report.runs
        for step in run.steps
    ]


def _step_outcome(fields: Mapping[str, Any]) -> str:
    """``done, 15,241 targets`` from a ``step.finished`` outcome (else its fields)."""
    if "status" not in fields:
        return ", ".join(f"{k}={v}" for k, v in fields.items()) or "-"
    count = fields.get("targets")
    parts = [text_of(fields["status"]) or "?"]
    if type(count) is int and count:
        parts.append(f"{count:,} target{'' if count == 1 else 's'}")
    return ", ".join(parts)


def approval_rows(report: Report) -> list[tuple[str, ...]]:
    """(time, approver, plan hash, expires, run)."""
    return [
        (short_time(a.at), a.approver, a.plan_hash or "-", short_time(a.expires), a.run or "-")
        for a in report.approvals
    ]


def anchor_lines(report: Report) -> tuple[str, str, str | None]:
    """(head, verification, command to re-check later or None)."""
    audit = report.audit
    head = f"{audit.head_seq}:{audit.head_hash}"
    command = f"ircli audit verify --anchor {head}" if _HEX64.fullmatch(audit.head_hash) else None
    return head, audit.summary, command
