"""``build_report``: one incident's records → a ``Report``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from ircli.audit.chain import GENESIS_HASH, verify_records
from ircli.audit.records import AuditRecord, RecordFilter
from ircli.audit.store import AuditStore
from ircli.clock import format_utc
from ircli.errors import InvalidInput
from ircli.incident.model import Incident, replay
from ircli.platform.sent import REQUEST_KINDS, add_recorded
from ircli.report.model import (
    ChainCheck,
    DrillCriterion,
    DrillSummary,
    IncidentFacts,
    Metrics,
    MinuteBucket,
    Report,
    RunSummary,
)
from ircli.report.runs import TallyBuilder, summarise_approvals, summarise_runs
from ircli.report.series import build_charts
from ircli.report.targets import target_outcomes
from ircli.report.timeline import build_timeline, text_of

__all__ = ["build_report", "check_chain", "incident_records"]


def build_report(store: AuditStore, incident_id: str, *, now: datetime) -> Report:
    """Build the report of ``incident_id``; ``now`` is its "generated at" time.

    The audit head is read first; every record the report uses is at or before it, and the
    chain is verified from seq 1 up to it, so the report anchors the store.
    """
    head = store.head()
    head_seq = head.seq if head else 0
    records = incident_records(store, incident_id, head_seq)
    incident = replay(records).get(incident_id)
    if incident is None:
        raise InvalidInput(f"no incident {incident_id!r} in the audit store.")
    runs = summarise_runs(records)
    tally = TallyBuilder()
    for record in records:
        if record.kind == "action.outcome":
            tally.add(record)
    charts = build_charts(records, incident.milestones)
    metrics = _metrics(incident, tally, charts.actions_per_minute, runs, records)
    return Report(
        generated_at=format_utc(now),
        incident=_facts(incident),
        http_requests=sum(metrics.http_requests.values()),
        metrics=metrics,
        timeline=build_timeline(records),
        runs=runs,
        approvals=summarise_approvals(records),
        charts=charts,
        audit=check_chain(store, head_seq, head.hash if head else GENESIS_HASH),
        drill=_drill(records),
        targets=target_outcomes(records),
    )


COLLATERAL = (
    "collateral_streams",
    "collateral_accounts",
    "collateral_password_resets",
    "honest_streams_ended_by_kill_switch",
)
"""The score fields that count honest streams and accounts a drill's response touched."""


def _drill(records: list[AuditRecord]) -> DrillSummary | None:
    """The incident's last drill verdict (``drill.scored``), if it is a drill."""
    scored = next((r for r in reversed(records) if r.kind == "drill.scored"), None)
    if scored is None:
        return None
    p = scored.params
    score = dict(p["score"]) if isinstance(p.get("score"), Mapping) else {}
    criteria = [
        DrillCriterion(
            label=text_of(item.get("label")),
            expression=text_of(item.get("expression")),
            passed=item.get("passed") is True,
            values=dict(item["values"]) if isinstance(item.get("values"), Mapping) else {},
            error=None if item.get("error") is None else text_of(item.get("error")),
        )
        for item in p.get("criteria") or ()
        if isinstance(item, Mapping)
    ]
    return DrillSummary(
        recorded_at=scored.ts,
        run=None if p.get("run") is None else text_of(p.get("run")),
        passed=p.get("passed") is True,
        criteria=criteria,
        collateral={name: score[name] for name in COLLATERAL if name in score},
        score=score,
    )


def incident_records(store: AuditStore, incident_id: str, head_seq: int) -> list[AuditRecord]:
    """The incident's records, plus every record of its runs (seq order, up to the head)."""
    found = {
        record.seq: record
        for record in store.records(RecordFilter(incident=incident_id))
        if record.seq <= head_seq
    }
    for run in sorted({record.run for record in found.values() if record.run}):
        for record in store.records(RecordFilter(run=run)):
            if record.seq <= head_seq:
                found.setdefault(record.seq, record)
    return [found[seq] for seq in sorted(found)]


def _facts(incident: Incident) -> IncidentFacts:
    return IncidentFacts(
        id=incident.id,
        title=incident.title,
        severity=incident.severity,
        commander=incident.commander,
        status=incident.status,
        opened_by=incident.opened_by,
        opened_at=incident.opened_at,
        milestones=dict(incident.milestones),
    )


def _metrics(
    incident: Incident,
    tally: TallyBuilder,
    per_minute: list[MinuteBucket],
    runs: list[RunSummary],
    records: list[AuditRecord],
) -> Metrics:
    durations = incident.metrics()
    actions = tally.tallies()
    http: dict[str, int] = dict.fromkeys(REQUEST_KINDS, 0)
    for run in runs:
        add_recorded(http, run.http_requests)
    for record in records:  # refused before a run began: the reads that chose the targets
        if record.kind == "run.refused":
            add_recorded(http, record.params.get("http_requests"))
    return Metrics(
        time_to_detect_seconds=durations["time_to_detect_seconds"],
        time_to_acknowledge_seconds=durations["time_to_acknowledge_seconds"],
        time_to_mitigate_seconds=durations["time_to_mitigate_seconds"],
        time_to_resolve_seconds=durations["time_to_resolve_seconds"],
        targets_affected=sum(t.outcomes.get("done", 0) for t in actions),
        target_attempts=sum(t.attempts for t in actions),
        http_requests=http,
        http_requests_unrecorded=[
            run.run for run in runs if run.http_requests is None or run.finished_at is None
        ],
        failures=sum(t.outcomes.get("failed", 0) + t.outcomes.get("retryable", 0) for t in actions),
        retries=sum(t.retries for t in actions),
        peak_actions_per_minute=max((sum(b.counts.values()) for b in per_minute), default=0),
        actions=actions,
        protected=sum(t.outcomes.get("protected", 0) for t in actions),
    )


def check_chain(store: AuditStore, head_seq: int, head_hash: str) -> ChainCheck:
    """Verify the chain from seq 1 up to (and pinned by) the given head."""
    from ircli.audit.records import Anchor

    anchor = Anchor(head_seq, head_hash)
    try:
        result = verify_records(store.records(RecordFilter(limit=head_seq)), anchor)
    except (json.JSONDecodeError, TypeError, ValueError) as error:
        reason = f"a stored record cannot be decoded: {error}"
        return ChainCheck(head_seq, head_hash, False, 0, head_seq, None, reason, reason + ".")
    if result.ok:
        summary = f"{result.valid}/{result.total} records valid"
    else:
        summary = (
            f"audit chain broken at seq {result.first_bad_seq}: {result.reason} "
            f"({result.valid}/{result.total} records valid)."
        )
    return ChainCheck(
        head_seq=head_seq,
        head_hash=head_hash,
        ok=result.ok,
        valid=result.valid,
        total=result.total,
        first_bad_seq=result.first_bad_seq,
        reason=result.reason,
        summary=summary,
    )
