"""The runs in an audit store, listed without replaying every target of every run.

A finished run's ``run.finished`` record carries its counts (written from the replayed state
at the time), so listing reads the start, finish and resume records only; a run without a
finish after its last start or resume (crashed, or still going) is replayed in full.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ircli.audit.records import AuditRecord, RecordFilter
from ircli.audit.store import AuditStore
from ircli.executor.journal import RunState, load_run
from ircli.platform.outcome import Outcome

__all__ = [
    "COUNT_KEYS",
    "PlaybookListing",
    "RunListing",
    "list_playbook_runs",
    "list_run_summaries",
    "newest_runs",
]

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


def newest_runs(store: AuditStore, limit: int) -> tuple[list[str], int]:
    """The ids of the newest ``limit`` runs (action and playbook runs), newest first, and how
    many runs the store holds: read from their start records alone."""
    started = RecordFilter(kinds=("run.started",))
    newest = store.records(replace(started, limit=limit, newest_first=True))
    return [str(record.run) for record in newest], store.count(started)


def _run_records(
    store: AuditStore, kinds: tuple[str, ...], runs: Sequence[str] | None
) -> Iterable[AuditRecord]:
    """The records of ``kinds`` of every run (``runs``: of those only, through the run
    index), oldest run first."""
    if runs is None:
        return store.records(RecordFilter(kinds=kinds))
    return itertools.chain.from_iterable(
        store.records(RecordFilter(run=run, kinds=kinds)) for run in reversed(runs)
    )


def list_run_summaries(store: AuditStore, runs: Sequence[str] | None = None) -> list[RunListing]:
    """Every action run in the store (or those of ``runs``, newest first), newest first."""
    latest: dict[str, tuple[AuditRecord, AuditRecord | None]] = {}
    kinds = ("run.started", "run.finished", "run.resumed")
    for record in _run_records(store, kinds, runs):
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
    counts = {Outcome.PROTECTED.value: 0, **counts}  # recorded before targets were protected
    if not all(type(counts.get(key)) is int for key in COUNT_KEYS):
        return None
    return {key: counts[key] for key in COUNT_KEYS}


@dataclass(frozen=True)
class PlaybookListing:
    """A playbook run in ``ircli runs list``: its progress through the steps."""

    run: str
    playbook: str
    status: str
    """completed, failed … as finished; else ``running`` (its lease held) or ``crashed``."""
    operator: str
    started_at: str
    incident: str | None
    dry_run: bool
    steps_done: int
    """Steps that finished (done, planned or skipped)."""
    steps_failed: int
    stopped_in: str | None
    """The step that started and did not finish, when the run is not over."""


def list_playbook_runs(
    store: AuditStore, runs: Sequence[str] | None = None
) -> list[PlaybookListing]:
    """Every playbook run in the store (or those of ``runs``, newest first), newest first."""
    kinds = ("run.started", "run.resumed", "run.finished", "step.started", "step.finished")
    tallies: dict[str, dict[str, Any]] = {}
    for record in _run_records(store, kinds, runs):
        if record.run is None:
            continue
        if record.kind == "run.started":
            if "playbook" in record.params:
                tallies[record.run] = {"started": record, "status": "running", "open": {},
                                       "done": set(), "failed": set()}  # fmt: skip
            continue
        tally = tallies.get(record.run)
        if tally is None:
            continue
        if record.kind == "run.finished":
            tally["status"] = str(record.outcome.get("status"))
        elif record.kind == "run.resumed":
            tally["status"] = "running"
        elif record.kind == "step.started" and record.step is not None:
            tally["open"][record.step] = True
        elif record.kind == "step.finished" and record.step is not None:
            tally["open"].pop(record.step, None)
            failed = record.outcome.get("status") == "failed"
            (tally["failed"] if failed else tally["done"]).add(record.step)
    listings = []
    for name, tally in reversed(tallies.items()):
        started: AuditRecord = tally["started"]
        status = tally["status"]
        if status == "running" and store.leases.holder(name) is None:
            status = "crashed"
        listings.append(
            PlaybookListing(
                run=name,
                playbook=str(started.params["playbook"].get("name")),
                status=status,
                operator=started.operator,
                started_at=started.ts,
                incident=started.incident,
                dry_run=bool(started.params.get("dry_run")),
                steps_done=len(tally["done"]),
                steps_failed=len(tally["failed"]),
                stopped_in=next(reversed(tally["open"]), None) if status != "completed" else None,
            )
        )
    return listings
