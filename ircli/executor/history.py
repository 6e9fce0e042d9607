"""The runs in an audit store, listed without replaying every target of every run.

A finished run's ``run.finished`` record carries its counts (written from the replayed state
at the time), so listing reads the start, finish and resume records only; a run without a
finish after its last start or resume (crashed, or still going) is replayed in full.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ircli.audit.records import AuditRecord, RecordFilter
from ircli.audit.store import AuditStore
from ircli.executor.journal import RunState, load_run
from ircli.platform.outcome import Outcome

__all__ = ["COUNT_KEYS", "RunListing", "list_run_summaries"]

COUNT_KEYS = (*(outcome.value for outcome in Outcome), "unknown", "untouched")
"""The keys of a run's counts (``RunState.counts``)."""


@dataclass(frozen=True)
class RunListing:
    """One line of ``ircli runs list``."""

    run: str
    action: str
    status: str
    operator: str
    started_at: str
    incident: str | None
    profile: str
    targets: int
    counts: Mapping[str, int]

    @classmethod
    def of(cls, state: RunState) -> RunListing:
        spec = state.spec
        return cls(
            run=spec.run,
            action=spec.action,
            status=state.status,
            operator=state.operator,
            started_at=state.started_at,
            incident=spec.incident,
            profile=spec.profile,
            targets=len(spec.targets),
            counts=state.counts(),
        )


def list_run_summaries(store: AuditStore) -> list[RunListing]:
    """Every action run in the store, newest first."""
    latest: dict[str, tuple[AuditRecord, AuditRecord | None]] = {}
    kinds = ("run.started", "run.finished", "run.resumed")
    for record in store.records(RecordFilter(kinds=kinds)):
        if record.run is None:
            continue
        if record.kind == "run.started":
            if "action" in record.params:  # playbook runs are listed by their step runs
                latest.setdefault(record.run, (record, None))
        elif record.run in latest:
            started, _ = latest[record.run]
            latest[record.run] = (started, record if record.kind == "run.finished" else None)
    listings = []
    for run, (started, finished) in reversed(latest.items()):
        counts = _counts(finished.outcome) if finished is not None else None
        if finished is None or counts is None:
            listings.append(RunListing.of(load_run(store, run)))
            continue
        params = started.params
        listings.append(
            RunListing(
                run=run,
                action=str(params.get("action")),
                status=str(finished.outcome.get("status")),
                operator=started.operator,
                started_at=started.ts,
                incident=started.incident,
                profile=str(params.get("profile")),
                targets=len(params.get("targets") or ()),
                counts=counts,
            )
        )
    return listings


def _counts(outcome: Mapping[str, Any]) -> dict[str, int] | None:
    """The counts a ``run.finished`` record holds, or None if they are not all there."""
    counts = outcome.get("counts")
    if not isinstance(counts, Mapping):
        return None
    if not all(type(counts.get(key)) is int for key in COUNT_KEYS):
        return None
    return {key: counts[key] for key in COUNT_KEYS}
