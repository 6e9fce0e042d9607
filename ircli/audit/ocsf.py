"""Audit records as OCSF 1.x events, one JSON object per line, for a SIEM.

Mapping (docs/reports.md has the table and the schema sources):

* ``incident.opened`` / ``incident.status`` → **Incident Finding** (2005): Create, Update,
  Close (when the status becomes ``closed``).
* every result of an ``action.outcome`` record → **API Activity** (6003), activity Update: an
  admin API call that changed (or tried to change) one target.
* results of account actions (``accounts.*``, ``sessions.*``) → also **Account Change** (3001):
  freeze/suspend → Disable, unfreeze/unsuspend → Enable, password resets → Password Reset,
  anything else (session revokes, silences) → Other with its name.

Other record kinds have no OCSF counterpart here and are skipped. Each event carries the
record's hash as ``metadata.uid`` (``HASH:N`` for the N-th result), so it can be traced back
to the chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ircli import __version__
from ircli.audit.outcomes import outcome_results
from ircli.audit.records import AuditRecord
from ircli.clock import stored_time

__all__ = ["OCSF_VERSION", "to_ocsf", "to_ocsf_events"]

OCSF_VERSION = "1.3.0"
_PRODUCT = {"name": "ircli", "vendor_name": "ircli", "version": __version__}
_SEVERITY = {"P0": (5, "Critical"), "P1": (4, "High"), "P2": (3, "Medium"), "P3": (2, "Low")}
_SEVERITY_DEFAULT = (1, "Informational")
_INCIDENT_STATUS = {
    "detected": (1, "New"),
    "acknowledged": (2, "In Progress"),
    "investigating": (2, "In Progress"),
    "mitigating": (2, "In Progress"),
    "mitigated": (2, "In Progress"),
    "resolved": (4, "Resolved"),
    "closed": (5, "Closed"),
}
_ACCOUNT_ACTIVITY = {
    "freeze": (5, "Disable"),
    "suspend": (5, "Disable"),
    "disable": (5, "Disable"),
    "unfreeze": (2, "Enable"),
    "unsuspend": (2, "Enable"),
    "enable": (2, "Enable"),
    "lock": (9, "Lock"),
    "reset_password": (4, "Password Reset"),
    "reset_password_email": (4, "Password Reset"),
    "delete": (6, "Delete"),
}
_ACCOUNT_PREFIXES = ("accounts.", "sessions.")


def _ms(text: Any) -> int | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = stored_time(text)
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)


def _base(
    record: AuditRecord,
    *,
    category: tuple[int, str],
    klass: tuple[int, str],
    activity: tuple[int, str],
    severity: tuple[int, str],
    time: int,
    uid: str,
) -> dict[str, Any]:
    """The attributes every OCSF event requires (plus their captions)."""
    return {
        "category_uid": category[0],
        "category_name": category[1],
        "class_uid": klass[0],
        "class_name": klass[1],
        "activity_id": activity[0],
        "activity_name": activity[1],
        "type_uid": klass[0] * 100 + activity[0],
        "type_name": f"{klass[1]}: {activity[1]}",
        "severity_id": severity[0],
        "severity": severity[1],
        "time": time,
        "metadata": {
            "version": OCSF_VERSION,
            "product": dict(_PRODUCT),
            "uid": uid,
            "sequence": record.seq,
            "logged_time": _ms(record.ts) or time,
            "log_name": "ircli audit",
            "correlation_uid": record.run or record.incident,
        },
    }


def _actor(record: AuditRecord) -> dict[str, Any]:
    return {"user": {"name": record.operator}, "app_name": "ircli"}


class _Mapper:
    """Turns records into events; remembers each incident's title, severity and commander."""

    def __init__(self) -> None:
        self.incidents: dict[str, dict[str, Any]] = {}

    def events(self, record: AuditRecord) -> Iterator[dict[str, Any]]:
        if record.kind in ("incident.opened", "incident.status") and record.incident:
            yield self._incident(record, record.incident)
        elif record.kind == "action.outcome":
            for index, result in enumerate(outcome_results(record.outcome)):
                yield from self._action(record, index, result)

    def _incident(self, record: AuditRecord, incident: str) -> dict[str, Any]:
        params = record.params
        if record.kind == "incident.opened":
            self.incidents[incident] = {
                "title": str(params.get("title") or ""),
                "severity": str(params.get("severity") or ""),
                "commander": params.get("commander"),
                "created": _ms(record.ts),
            }
            status, activity, at = "detected", (1, "Create"), params.get("detected")
        else:
            status = str(params.get("status") or "")
            activity = (3, "Close") if status == "closed" else (2, "Update")
            at = params.get("at")
        known = self.incidents.get(incident, {})
        time = _ms(at) or _ms(record.ts) or 0
        status_id, status_name = _INCIDENT_STATUS.get(status, (99, "Other"))
        event = _base(
            record,
            category=(2, "Findings"),
            klass=(2005, "Incident Finding"),
            activity=activity,
            severity=_SEVERITY.get(known.get("severity", ""), _SEVERITY_DEFAULT),
            time=time,
            uid=record.hash,
        )
        finding = {"uid": incident, "title": known.get("title") or incident}
        if known.get("created") is not None:
            finding["created_time"] = known["created"]
        event.update(
            {
                "message": f"Incident {incident} {'opened' if activity[0] == 1 else status}",
                "status_id": status_id,
                "status": status_name,
                "status_detail": status,
                "finding_info_list": [finding],
                "desc": known.get("title") or incident,
                "assignee": {"name": known.get("commander") or record.operator},
            }
        )
        return event

    def _action(
        self, record: AuditRecord, index: int, result: Mapping[str, Any]
    ) -> Iterator[dict[str, Any]]:
        action = str(record.params.get("action") or "action")
        target = str(result.get("target") or record.target or "")
        outcome = str(result.get("outcome") or "unknown")
        succeeded = outcome in ("done", "already_done")
        status = result.get("status")
        error = result.get("error")
        common = {
            "message": f"{action} {target}: {outcome}",
            "status_id": 1 if succeeded else 2,
            "status": "Success" if succeeded else "Failure",
            "status_detail": outcome if not error else f"{outcome}: {error}",
            "actor": _actor(record),
            "src_endpoint": {"svc_name": "ircli"},
            "unmapped": {
                "incident": record.incident,
                "run": record.run,
                "step": record.step,
                "attempts": result.get("attempts"),
            },
        }
        if isinstance(status, int):
            common["status_code"] = str(status)
        if isinstance(result.get("latency_ms"), int):
            common["duration"] = result["latency_ms"]
        time = _ms(record.ts) or 0
        uid = f"{record.hash}:{index}"
        api = _base(
            record,
            category=(6, "Application Activity"),
            klass=(6003, "API Activity"),
            activity=(3, "Update"),
            severity=_SEVERITY_DEFAULT,
            time=time,
            uid=uid,
        )
        response: dict[str, Any] = {"code": status} if isinstance(status, int) else {}
        if error:
            response["error"] = str(error)
        api.update(common)
        api.update(
            {
                "api": {"operation": action, "request": {"uid": uid}, "response": response},
                "resources": [{"uid": target, "type": action.partition(".")[0]}],
            }
        )
        yield api
        if action.startswith(_ACCOUNT_PREFIXES):
            verb = action.partition(".")[2]
            activity = _ACCOUNT_ACTIVITY.get(verb, (99, verb.replace("_", " ").title() or "Other"))
            if action.startswith("sessions."):
                activity = (99, f"{verb.replace('_', ' ').title()} Sessions")
            change = _base(
                record,
                category=(3, "Identity & Access Management"),
                klass=(3001, "Account Change"),
                activity=activity,
                severity=_SEVERITY_DEFAULT,
                time=time,
                uid=uid,
            )
            change.update(common)
            change["user"] = {"uid": target}
            yield change


def to_ocsf_events(records: Iterable[AuditRecord]) -> Iterator[dict[str, Any]]:
    """OCSF events for ``records`` (in seq order), as dictionaries."""
    mapper = _Mapper()
    for record in records:
        yield from mapper.events(record)


def to_ocsf(records: Iterable[AuditRecord]) -> Iterator[str]:
    """One OCSF event per line (ASCII-escaped JSON), newline-terminated."""
    for event in to_ocsf_events(records):
        yield json.dumps(event, ensure_ascii=True) + "\n"
