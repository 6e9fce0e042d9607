"""Incidents rebuilt from the audit chain: the chain is the source of truth.

Record kinds (all carry ``incident``):

* ``incident.opened``   params ``title, severity, commander, impact_started, detected``
* ``incident.status``   params ``status, from, at`` (``at`` may be backfilled)
* ``timeline.note``     params ``message, note_kind, at``
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ircli.audit.records import AuditRecord
from ircli.clock import stored_time

__all__ = ["NOTE_KINDS", "Incident", "TimelineEntry", "replay"]

NOTE_KINDS: tuple[str, ...] = (
    "detection",
    "decision",
    "action",
    "communication",
    "recovery",
    "note",
)


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an incident's timeline."""

    at: str
    kind: str
    message: str
    operator: str
    seq: int
    recorded_at: str


@dataclass
class Incident:
    """The current state of one incident."""

    id: str
    title: str
    severity: str
    commander: str | None
    status: str
    opened_by: str
    opened_at: str
    milestones: dict[str, str] = field(default_factory=dict)
    timeline: list[TimelineEntry] = field(default_factory=list)

    def milestone_time(self, name: str) -> datetime | None:
        """A milestone as a datetime, if stamped."""
        value = self.milestones.get(name)
        return stored_time(value) if value else None

    def metrics(self) -> dict[str, float | None]:
        """Seconds from impact start (or detection when unknown) to each later milestone;
        time to detect is unknown (None) when the impact start is."""
        start = self.milestone_time("impact_started") or self.milestone_time("detected")
        result: dict[str, float | None] = {}
        for metric, milestone in (
            ("time_to_detect_seconds", "detected"),
            ("time_to_acknowledge_seconds", "acknowledged"),
            ("time_to_mitigate_seconds", "mitigated"),
            ("time_to_resolve_seconds", "resolved"),
        ):
            moment = self.milestone_time(milestone)
            if milestone == "detected" and self.milestone_time("impact_started") is None:
                moment = None  # unknown: measured from itself it would read 0 s
            result[metric] = (moment - start).total_seconds() if moment and start else None
        return result

    def as_dict(self) -> dict[str, object]:
        """The JSON form used by ``--json`` and reports."""
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "commander": self.commander,
            "status": self.status,
            "opened_by": self.opened_by,
            "opened_at": self.opened_at,
            "milestones": dict(self.milestones),
            "metrics": self.metrics(),
            "timeline": [entry.__dict__ for entry in self.timeline],
        }


def replay(records: Iterable[AuditRecord]) -> dict[str, Incident]:
    """Rebuild every incident mentioned in ``records`` (in seq order)."""
    incidents: dict[str, Incident] = {}
    for record in records:
        if record.incident is None:
            continue
        if record.kind == "incident.opened":
            incidents[record.incident] = _opened(record)
            continue
        incident = incidents.get(record.incident)
        if incident is None:
            continue
        if record.kind == "incident.status":
            _apply_status(incident, record)
        elif not record.kind.startswith("action."):
            # Per-target action records stay in the audit log; runs summarise them.
            incident.timeline.append(_entry(record))
    for incident in incidents.values():
        incident.timeline.sort(key=lambda entry: (entry.at, entry.seq))
    return incidents


def _opened(record: AuditRecord) -> Incident:
    params = record.params
    incident = Incident(
        id=str(record.incident),
        title=str(params.get("title", "")),
        severity=str(params.get("severity", "")),
        commander=params.get("commander"),
        status="detected",
        opened_by=record.operator,
        opened_at=record.ts,
    )
    for milestone in ("impact_started", "detected"):
        if params.get(milestone):
            incident.milestones[milestone] = str(params[milestone])
    incident.timeline.append(
        TimelineEntry(
            at=str(params.get("detected") or record.ts),
            kind="detection",
            message=f"Incident opened ({incident.severity}): {incident.title}",
            operator=record.operator,
            seq=record.seq,
            recorded_at=record.ts,
        )
    )
    return incident


def _apply_status(incident: Incident, record: AuditRecord) -> None:
    status = str(record.params.get("status"))
    at = str(record.params.get("at") or record.ts)
    incident.status = status
    if status in ("detected", "acknowledged", "mitigated", "resolved", "closed"):
        incident.milestones.setdefault(status, at)
    incident.timeline.append(
        TimelineEntry(
            at=at,
            kind="status",
            message=f"Status changed from {record.params.get('from')} to {status}",
            operator=record.operator,
            seq=record.seq,
            recorded_at=record.ts,
        )
    )


def _entry(record: AuditRecord) -> TimelineEntry:
    params = record.params
    if record.kind == "timeline.note":
        kind = str(params.get("note_kind", "note"))
        message = str(params.get("message", ""))
    else:
        kind = record.kind
        summary = params.get("summary") or record.outcome.get("summary")
        message = str(summary or params.get("message") or record.kind)
        if record.run:
            message = f"{record.run}: {message}"
    return TimelineEntry(
        at=str(params.get("at") or record.ts),
        kind=kind,
        message=message,
        operator=record.operator,
        seq=record.seq,
        recorded_at=record.ts,
    )
