"""``build_report``: one incident's records → a ``Report``."""

from __future__ import annotations

import json
from datetime import datetime

from ircli.audit.chain import GENESIS_HASH, verify_records
from ircli.audit.records import AuditRecord, RecordFilter
from ircli.audit.store import AuditStore
from ircli.clock import format_utc
from ircli.errors import InvalidInput
from ircli.incident.model import Incident, replay
from ircli.report.model import ChainCheck, IncidentFacts, Metrics, MinuteBucket, Report
from ircli.report.runs import TallyBuilder, summarise_approvals, summarise_runs
from ircli.report.series import build_charts
from ircli.report.timeline import build_timeline

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
    return Report(
        generated_at=format_utc(now),
        incident=_facts(incident),
        metrics=_metrics(incident, tally, charts.actions_per_minute),
        timeline=build_timeline(records),
        runs=runs,
        approvals=summarise_approvals(records),
        charts=charts,
        audit=check_chain(store, head_seq, head.hash if head else GENESIS_HASH),
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


def _metrics(incident: Incident, tally: TallyBuilder, per_minute: list[MinuteBucket]) -> Metrics:
    durations = incident.metrics()
    actions = tally.tallies()
    return Metrics(
        time_to_detect=durations["time_to_detect"],
        time_to_acknowledge=durations["time_to_acknowledge"],
        time_to_mitigate=durations["time_to_mitigate"],
        time_to_resolve=durations["time_to_resolve"],
        targets_affected=sum(t.outcomes.get("done", 0) for t in actions),
        requests=sum(t.requests for t in actions),
        failures=sum(t.outcomes.get("failed", 0) + t.outcomes.get("retryable", 0) for t in actions),
        retries=sum(t.retries for t in actions),
        peak_actions_per_minute=max((sum(b.counts.values()) for b in per_minute), default=0),
        actions=actions,
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
