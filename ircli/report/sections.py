"""The post-mortem's content as plain (unescaped) text, shared by the Markdown and HTML renderers.

Sections follow the usual post-mortem skeleton: Summary, Impact, Detection, Response, Timeline,
What went well, What went badly, Action items; then the appendices (drill, metrics, runs,
approvals, audit anchor). ircli fills in the facts; the judgement sections are marked
placeholders. A value no record gives is ``unknown``; every count has thousands separators.
Every string here may contain attacker-controlled text: renderers escape it.
"""

from __future__ import annotations

import re

from ircli.platform.sent import describe
from ircli.report.model import Report, TimelineItem
from ircli.report.runs import OUTCOMES
from ircli.report.runtext import outcome_totals, run_line
from ircli.report.series import parse_utc
from ircli.report.words import (
    UNKNOWN,
    duration,
    num,
    parameters_text,
    short_time,
    value_text,
)

__all__ = [
    "ACTION_ITEM_COLUMNS",
    "ACTION_ITEM_ROWS",
    "DRILL_COLUMNS",
    "PLACEHOLDERS",
    "action_rows",
    "anchor_lines",
    "approval_rows",
    "detection",
    "drill_lines",
    "drill_rows",
    "impact",
    "metric_rows",
    "overview_rows",
    "response",
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
    "went_well": "What went well (to be written by the team).",
    "went_badly": (
        "What went badly, the root cause and contributing factors (to be written by the team)."
    ),
}
_DETECTION_KINDS = frozenset({"detection"})
_HEX64 = re.compile(r"[0-9a-f]{64}")


def overview_rows(report: Report) -> list[tuple[str, str]]:
    """The facts table at the top."""
    incident = report.incident
    return [
        ("Incident", incident.id),
        ("Title", incident.title),
        ("Severity", incident.severity),
        ("Status", incident.status),
        ("Commander", incident.commander or UNKNOWN),
        ("Opened", f"{short_time(incident.opened_at)} UTC by {incident.opened_by}"),
        ("Report generated", f"{short_time(report.generated_at)} UTC"),
    ]


def _incident_http(report: Report) -> str:
    """The incident's HTTP requests, ``at least`` when some run recorded none."""
    metrics = report.metrics
    unrecorded = len(metrics.http_requests_unrecorded)
    if unrecorded and unrecorded == len(report.runs):
        return f"{UNKNOWN} (no run recorded a count)"
    counted = describe(metrics.http_requests)
    if unrecorded:
        return f"at least {counted}; {num(unrecorded)} run(s) recorded no count"
    return counted


def summary(report: Report) -> str:
    """One paragraph."""
    incident, metrics = report.incident, report.metrics
    totals = outcome_totals(metrics.actions)
    runs = len(report.runs)
    acted = (
        f" {num(runs)} run{'s' if runs != 1 else ''} acted on {num(sum(totals.values()))} "
        f"targets ({num(totals['done'])} done, {num(totals['already_done'])} already done, "
        f"{num(totals['failed'] + totals['retryable'])} not done"
        + (f", {num(totals['protected'])} protected (not sent)" if totals["protected"] else "")
        + ") in "
        f"{num(metrics.target_attempts)} target attempts ({num(metrics.retries)} retries); "
        f"HTTP requests sent: {_incident_http(report)}."
        if runs
        else " No runs are recorded for this incident."
    )
    commander = f" Commander: {incident.commander}." if incident.commander else ""
    return (
        f"{incident.title} — severity {incident.severity}, status {incident.status}."
        f"{commander} Time to mitigate: {duration(metrics.time_to_mitigate_seconds)}; "
        f"time to resolve: {duration(metrics.time_to_resolve_seconds)}.{acted}"
    )


def _notes(report: Report, detection: bool) -> list[tuple[str, str]]:
    """(at, line) for the notes of the detection kinds, or of every other kind."""
    return [
        (item.at, f"{short_time(item.at)} — {item.message} ({item.operator})")
        for item in report.timeline
        if item.record_kind == "timeline.note" and (item.kind in _DETECTION_KINDS) == detection
    ]


def _milestone(report: Report, name: str) -> str:
    value = report.incident.milestones.get(name)
    return f"{short_time(value)} UTC" if value else UNKNOWN


def impact(report: Report) -> list[str]:
    """Impact bullets (the human description is a placeholder)."""
    lines = [
        f"Impact started: {_milestone(report, 'impact_started')}.",
        f"Detected: {_milestone(report, 'detected')} "
        f"(time to detect {duration(report.metrics.time_to_detect_seconds)}).",
        f"Mitigated: {_milestone(report, 'mitigated')}; "
        f"resolved: {_milestone(report, 'resolved')}.",
    ]
    containment = report.charts.containment
    if containment:
        peak = max(point.live for point in containment)
        what = (
            "Malicious live streams (the sandbox's ground truth)"
            if containment[0].source == "truth"
            else "Live streams the containment counted (honest streams included)"
        )
        lines.append(
            f"{what}: peak {num(peak)}, {num(containment[-1].live)} at "
            f"{short_time(containment[-1].at)} UTC."
        )
    return lines


def detection(report: Report) -> list[str]:
    """How and when it was noticed and acknowledged."""
    return [
        f"Detected at {_milestone(report, 'detected')}; acknowledged at "
        f"{_milestone(report, 'acknowledged')} "
        f"(time to acknowledge {duration(report.metrics.time_to_acknowledge_seconds)}).",
        *(line for _, line in sorted(_notes(report, detection=True), key=_moment)),
    ]


def _moment(entry: tuple[str, str]) -> tuple[str, str]:
    moment = parse_utc(entry[0])
    return (moment.isoformat() if moment else entry[0], entry[1])


def response(report: Report) -> list[str]:
    """Everything done, in time order: runs (why, what, how it went), approvals, the
    mitigation and resolution milestones, and the responders' notes."""
    entries = [(run.started_at, run_line(run, report)) for run in report.runs]
    entries += [
        (a.at, f"{short_time(a.at)} — plan {a.plan_hash or UNKNOWN} approved by {a.approver}")
        for a in report.approvals
    ]
    for name in ("acknowledged", "mitigated", "resolved"):
        moment = report.incident.milestones.get(name)
        if moment:
            entries.append((moment, f"{short_time(moment)} — {name}"))
    entries += _notes(report, detection=False)
    return [line for _, line in sorted(entries, key=_moment)]


def metric_rows(report: Report) -> list[tuple[str, str]]:
    """The metrics table."""
    m = report.metrics
    rows = [
        ("Time to detect", duration(m.time_to_detect_seconds)),
        ("Time to acknowledge", duration(m.time_to_acknowledge_seconds)),
        ("Time to mitigate", duration(m.time_to_mitigate_seconds)),
        ("Time to resolve", duration(m.time_to_resolve_seconds)),
        ("Targets changed (done)", num(m.targets_affected)),
        ("HTTP requests sent", describe(m.http_requests)),
        ("Target attempts", num(m.target_attempts)),
        ("Failures (targets not done)", num(m.failures)),
        ("Protected (targets held back, not sent)", num(m.protected)),
        ("Retries (target attempts beyond the first)", num(m.retries)),
        ("Peak target actions per minute", num(m.peak_actions_per_minute)),
    ]
    if m.http_requests_unrecorded:
        rows.append(("Runs without a request count", ", ".join(m.http_requests_unrecorded)))
    return rows


def action_rows(report: Report) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Targets per action and outcome."""
    header = (
        "Action",
        "Targets",
        "Done",
        "Already done",
        "Retryable",
        "Failed",
        "Protected",
        "Target attempts",
        "Retries",
    )
    rows = [
        (
            t.action,
            num(t.targets),
            *(num(t.outcomes.get(outcome, 0)) for outcome in OUTCOMES),
            num(t.attempts),
            num(t.retries),
        )
        for t in report.metrics.actions
    ]
    return header, rows


def timeline_rows(items: list[TimelineItem]) -> list[tuple[str, str, str, str]]:
    """(time, kind, operator, event)."""
    return [(short_time(i.at), i.kind, i.operator, i.message) for i in items]


def approval_rows(report: Report) -> list[tuple[str, ...]]:
    """(time, approver, plan hash, expires, run)."""
    return [
        (
            short_time(a.at),
            a.approver,
            a.plan_hash or UNKNOWN,
            short_time(a.expires_at) if a.expires_at else "no expiry",
            a.run or "none",
        )
        for a in report.approvals
    ]


def anchor_lines(report: Report) -> tuple[str, str, str | None]:
    """(head, verification, command to re-check later or None)."""
    audit = report.audit
    head = f"{audit.head_seq}:{audit.head_hash}"
    command = f"ircli audit verify --anchor {head}" if _HEX64.fullmatch(audit.head_hash) else None
    return head, audit.summary, command


DRILL_COLUMNS = ("Criterion", "Expression", "Result", "Values")
_COLLATERAL_WORDS = {
    "collateral_streams": "honest streams suspended",
    "collateral_accounts": "non-bot accounts frozen",
    "collateral_password_resets": "honest accounts forced to reset their password",
    "honest_streams_ended_by_kill_switch": "honest streams ended by the kill switch",
}


def drill_lines(report: Report) -> list[str]:
    """The drill's verdict and collateral (empty when the incident is not a drill)."""
    drill = report.drill
    if drill is None:
        return []
    held = sum(1 for criterion in drill.criteria if criterion.passed)
    collateral = [
        f"{num(value) if type(value) is int else value_text(value)} {_COLLATERAL_WORDS[name]}"
        for name, value in drill.collateral.items()
    ]
    return [
        f"Drill {'passed' if drill.passed else 'FAILED'}: {num(held)} of "
        f"{num(len(drill.criteria))} criteria held (run {drill.run or UNKNOWN}, scored "
        f"{short_time(drill.recorded_at)} UTC).",
        "Collateral: " + ("; ".join(collateral) or UNKNOWN) + ".",
    ]


def drill_rows(report: Report) -> list[tuple[str, ...]]:
    """One row per pass criterion (``DRILL_COLUMNS``)."""
    if report.drill is None:
        return []
    return [
        (
            c.label,
            c.expression,
            "pass" if c.passed else "FAIL",
            c.error or parameters_text(c.values) or "none",
        )
        for c in report.drill.criteria
    ]
