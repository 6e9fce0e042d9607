"""Incident operations over the audit store: every change is an audit record."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ircli.audit.records import AuditRecord, NewRecord, RecordFilter
from ircli.audit.store import AuditStore
from ircli.clock import format_utc
from ircli.errors import InvalidInput
from ircli.incident.lifecycle import (
    MILESTONES,
    check_transition,
    milestone_for,
    parse_severity,
    parse_status,
)
from ircli.incident.model import NOTE_KINDS, Incident, replay

__all__ = ["IncidentService", "new_incident_id"]

_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_incident_id(now: datetime) -> str:
    """``INC-YYYYMMDD-XXXX``: sortable by day, unambiguous to read aloud on a call."""
    suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(4))
    return f"INC-{now:%Y%m%d}-{suffix}"


class IncidentService:
    """Open incidents, move them through the lifecycle, and keep their timelines."""

    def __init__(
        self, store: AuditStore, *, new_id: Callable[[datetime], str] = new_incident_id
    ) -> None:
        self._store = store
        self._new_id = new_id

    def open(
        self,
        title: str,
        *,
        severity: str,
        commander: str | None = None,
        started_at: datetime | None = None,
        detected_at: datetime | None = None,
        detected_by: Mapping[str, Any] | None = None,
    ) -> Incident:
        """Open an incident (status ``detected``) and return it.

        ``detected_by``: what detected it when no person did (``ircli watch``: the watch, the
        rule, ``automated: true``), recorded with the opening."""
        title = title.strip()
        if not title:
            raise InvalidInput("the incident title must not be empty.")
        now = self._store.clock()
        detected = detected_at or now
        self._not_in_future(detected, now, "the detection time")
        if started_at is not None:
            self._not_in_future(started_at, now, "the impact start time")
            if started_at > detected:
                raise InvalidInput("the impact start time must not be after the detection time.")
        incident_id = self._new_id(now)
        self._store.append(
            NewRecord(
                kind="incident.opened",
                incident=incident_id,
                params={
                    "title": title,
                    "severity": parse_severity(severity),
                    "commander": commander,
                    "impact_started": format_utc(started_at) if started_at else None,
                    "detected": format_utc(detected),
                    **({"detected_by": dict(detected_by)} if detected_by else {}),
                },
            )
        )
        return self.get(incident_id)

    def set_status(
        self,
        incident_id: str,
        status: str,
        *,
        at: datetime | None = None,
        run: str | None = None,
        step: str | None = None,
    ) -> Incident:
        """Move the incident to ``status`` (stamping its milestone at ``at`` or now)."""
        incident = self.get(incident_id)
        new = parse_status(status)
        check_transition(incident.status, new)
        now = self._store.clock()
        moment = at or now
        self._not_in_future(moment, now, "the status time")
        milestone = milestone_for(new)
        if milestone and milestone not in incident.milestones:
            self._check_milestone_order(incident, milestone, moment)
        self._store.append(
            NewRecord(
                kind="incident.status",
                incident=incident.id,
                run=run,
                step=step,
                params={"status": new, "from": incident.status, "at": format_utc(moment)},
            )
        )
        return self.get(incident.id)

    def add_note(
        self,
        incident_id: str,
        message: str,
        *,
        kind: str = "note",
        at: datetime | None = None,
        run: str | None = None,
        step: str | None = None,
    ) -> AuditRecord:
        """Add a timeline note; returns the audit record that holds it (``run``/``step``: the
        playbook step that wrote it, so that a resumed run does not write it twice)."""
        incident = self.get(incident_id)
        if kind not in NOTE_KINDS:
            raise InvalidInput(
                f"unknown note kind {kind!r}; expected one of {', '.join(NOTE_KINDS)}."
            )
        if not message.strip():
            raise InvalidInput("the note must not be empty.")
        now = self._store.clock()
        moment = at or now
        self._not_in_future(moment, now, "the note time")
        return self._store.append(
            NewRecord(
                kind="timeline.note",
                incident=incident.id,
                run=run,
                step=step,
                params={"message": message, "note_kind": kind, "at": format_utc(moment)},
            )
        )

    def get(self, incident_id: str) -> Incident:
        """The incident's current state, rebuilt from its records."""
        incidents = replay(self._store.records(RecordFilter(incident=incident_id)))
        incident = incidents.get(incident_id)
        if incident is None:
            raise InvalidInput(
                f"no incident {incident_id!r} in the audit store {self._store.url}.",
                hint="'ircli incident list' lists this store's incidents; --db / IRCLI_DB "
                "names another store.",
            )
        return incident

    def list(self) -> list[Incident]:
        """Every incident, newest first."""
        incidents = replay(self._store.records(RecordFilter(kinds=("incident.",))))
        return sorted(incidents.values(), key=lambda incident: incident.opened_at, reverse=True)

    @staticmethod
    def _not_in_future(moment: datetime, now: datetime, what: str) -> None:
        if moment > now:
            raise InvalidInput(f"{what} {format_utc(moment)} is in the future.")

    @staticmethod
    def _check_milestone_order(incident: Incident, milestone: str, moment: datetime) -> None:
        # Compared as times, never as strings (a store may hold a short year, 999-06-01T…).
        index = MILESTONES.index(milestone)
        stamp = format_utc(moment)
        for earlier in MILESTONES[:index]:
            when = incident.milestone_time(earlier)
            if when is not None and when > moment:
                raise InvalidInput(
                    f"{milestone} at {stamp} would come before {earlier} at "
                    f"{format_utc(when)}; pass --at with a later time."
                )
        for later in MILESTONES[index + 1 :]:
            when = incident.milestone_time(later)
            if when is not None and when < moment:
                raise InvalidInput(
                    f"{milestone} at {stamp} would come after {later} at {format_utc(when)}."
                )
