"""Expiries as the audit store holds them, and setting back those that are due.

Each (run, target) of an expiring run (``ircli.executor.expiry``) is in one of
``EXPIRY_STATES``:

* ``pending``: not yet due;
* ``due``: due and not set back;
* ``reverted``: a revert run set it back (``reverted_by``);
* ``superseded``: a later run changed the same target through the same profile
  (``superseded_by``): that change wins, nothing is set back;
* ``not_changed``: the run never changed it (it failed, or sent nothing): nothing to set back.

``due_reverts`` lists what is due; ``revert_due`` sets each back as an ordinary run (new id,
``selection: {source: expiry, expired_run: RUN}``, ``reason: expiry of RUN``, ``automated:
true``) under a lease named after the expiry, so two processes (cron and ``ircli watch``)
never both revert it; a superseded one is recorded once (``expiry.superseded``). A revert that
fails stays due and is tried again next time. Reading the store needs no HTTP client: ``runs
list`` shows the states.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ircli.audit.chain import member_text
from ircli.audit.records import AuditRecord, NewRecord, RecordFilter
from ircli.clock import format_utc, stored_time
from ircli.errors import AuditIntegrityError, GuardRefused, InvalidInput, OperationFailed
from ircli.executor.events import EventSink, ignore
from ircli.executor.journal import RunState, load_run

if TYPE_CHECKING:
    from ircli.audit.store import AuditStore
    from ircli.executor.service import LoadedProfile, Workspace

__all__ = [
    "EXPIRY_STATES",
    "SUPERSEDED_KIND",
    "Expiry",
    "ExpiryScan",
    "RevertResult",
    "due_reverts",
    "expired_run",
    "expiries",
    "expiry_lease",
    "revert_due",
]

EXPIRY_STATES = ("pending", "due", "reverted", "superseded", "not_changed")
SUPERSEDED_KIND = "expiry.superseded"
"""The record of an expiry found superseded when due (so it is reported once)."""
_SELECTION = "expiry"
"""``selection.source`` of a revert run."""


@dataclass(frozen=True)
class Expiry:
    """One target of an expiring run, and where its expiry stands."""

    run: str
    target: str
    action: str
    profile: str
    incident: str | None
    expires_at: datetime
    revert_action: str
    revert_params: Mapping[str, Any]
    status: str
    """One of ``EXPIRY_STATES``."""
    reverted_by: str | None = None
    superseded_by: str | None = None
    noted: bool = False
    """Its supersession is on record (``expiry.superseded``): reported already."""

    @property
    def open(self) -> bool:
        """Whether it is still to be set back (pending or due)."""
        return self.status in ("pending", "due")

    def due_at(self, now: datetime) -> bool:
        """Whether ``revert_due`` has work with it at ``now``: set it back, or record that a
        later change superseded it."""
        if self.expires_at > now:
            return False
        return self.status == "due" or (self.status == "superseded" and not self.noted)

    def as_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "target": self.target,
            "action": self.action,
            "profile": self.profile,
            "incident": self.incident,
            "expires_at": format_utc(self.expires_at),
            "status": self.status,
            "revert_action": self.revert_action,
            "revert_params": dict(self.revert_params),
            "reverted_by": self.reverted_by,
            "superseded_by": self.superseded_by,
        }


_Reading = tuple[str, dict[str, dict[str, Any]], datetime]
"""A ``run.started``'s expiry: the revert action, values by target, and when."""


class ExpiryScan:
    """The ``run.started`` records expiries are read from, kept between calls: each read
    takes only the records appended since the last (``seq``). ``ircli watch`` keeps one
    while it runs; a command reads once with a new one.

    Kept: every expiring run, and every later run of an action an expiring run changes or
    sets back with (only a later change can supersede or revert it). The database picks them
    by their params' text, so a store of many runs is not parsed run by run."""

    def __init__(self) -> None:
        self._after = 0
        self._actions: set[str] = set()
        self.expiring: list[tuple[AuditRecord, _Reading]] = []
        self.changes: list[AuditRecord] = []

    def read(self, store: AuditStore) -> None:
        """Take in the ``run.started`` records appended since the last read. The database
        hands over only those that expire or run an action of interest (their params' text
        says so); when a record adds an action, the read starts again after it, asking for
        that action too."""
        while True:
            where = RecordFilter(
                kinds=("run.started",),
                after_seq=self._after,
                params_contain=(
                    '"expiry":{',
                    *(member_text("action", action) for action in sorted(self._actions)),
                ),
            )
            grew = False
            for record in store.records(where):
                if record.run is not None and "action" in record.params:
                    grew = self._take(record)
                self._after = record.seq  # (a malformed expiry is met again on the next read)
                if grew:
                    break
            if not grew:
                return

    def _take(self, record: AuditRecord) -> bool:
        """Keep ``record`` if it matters; whether it added an action of interest."""
        grew = False
        if record.params.get("expiry") is not None:
            reading = _reading(record)
            self.expiring.append((record, reading))
            actions = {str(record.params["action"]), reading[0]}
            grew = not actions <= self._actions
            self._actions |= actions
        if record.params["action"] in self._actions:
            self.changes.append(record)
        return grew


def expiries(store: AuditStore, now: datetime, scan: ExpiryScan | None = None) -> list[Expiry]:
    """Every target of every expiring run in ``store``, oldest run first, in its state at
    ``now``; through ``scan`` when given (brought up to date), else from a fresh read."""
    scan = scan or ExpiryScan()
    scan.read(store)
    if not scan.expiring:
        return []
    noted = {
        (record.run, record.target)
        for record in store.records(RecordFilter(kinds=(SUPERSEDED_KIND,)))
    }
    states = _States(store)
    found = []
    for record, (revert_action, by_target, expires_at) in scan.expiring:
        for target, params in by_target.items():
            expiry = Expiry(
                run=str(record.run),
                target=target,
                action=str(record.params["action"]),
                profile=str(record.params.get("profile")),
                incident=record.incident,
                expires_at=expires_at,
                revert_action=revert_action,
                revert_params=params,
                status="pending",
                noted=(record.run, target) in noted,
            )
            found.append(_standing(expiry, record, scan.changes, states, now))
    return found


def due_reverts(
    store: AuditStore,
    now: datetime,
    *,
    profile: str | None = None,
    scan: ExpiryScan | None = None,
) -> list[Expiry]:
    """The expiries ``revert_due`` has work with at ``now`` (on ``profile`` only, if given):
    due and not set back, or superseded and not yet recorded so."""
    return [
        expiry
        for expiry in expiries(store, now, scan)
        if expiry.due_at(now) and (profile is None or expiry.profile == profile)
    ]


def _reading(record: AuditRecord) -> _Reading:
    """A ``run.started``'s expiry (``_Reading``)."""
    expiry = record.params["expiry"]
    try:
        by_target = expiry["revert_params"]
        if not isinstance(by_target, Mapping) or not all(
            isinstance(values, Mapping) for values in by_target.values()
        ):
            raise TypeError("revert_params")
        return (
            str(expiry["revert_action"]),
            {str(target): dict(values) for target, values in by_target.items()},
            stored_time(str(expiry["expires_at"])),
        )
    except (KeyError, TypeError, ValueError):
        raise AuditIntegrityError(
            f"audit record {record.seq} (run.started of run {record.run}) holds a malformed "
            "expiry; what to set back when it is due cannot be known."
        ) from None


class _States:
    """Run states, each rebuilt once."""

    def __init__(self, store: AuditStore) -> None:
        self._store = store
        self._states: dict[str, RunState] = {}

    def __call__(self, run: str) -> RunState:
        if run not in self._states:
            self._states[run] = load_run(self._store, run)
        return self._states[run]


def _standing(
    expiry: Expiry,
    record: AuditRecord,
    changes: Sequence[AuditRecord],
    states: _States,
    now: datetime,
) -> Expiry:
    """``expiry`` with its status: a revert that set it back wins, then a later change of the
    same target on the same profile, then whether the run changed it at all, then the time."""
    target, run = expiry.target, expiry.run
    for change in changes:
        if change.seq <= record.seq or target not in (change.params.get("targets") or ()):
            continue
        reverts = expired_run(change.params) == run
        if reverts and _succeeded(states(str(change.run)), target):
            return replace(expiry, status="reverted", reverted_by=change.run)
    for change in changes:
        if (
            change.seq > record.seq
            and expired_run(change.params) != run
            and change.params.get("profile") == expiry.profile
            and target in (change.params.get("targets") or ())
            and _applied(states(str(change.run)), target)
        ):
            return replace(expiry, status="superseded", superseded_by=change.run)
    if not _applied(states(run), target):
        return replace(expiry, status="not_changed")
    return replace(expiry, status="due" if expiry.expires_at <= now else "pending")


def expired_run(params: Mapping[str, Any]) -> str | None:
    """The run whose expiry a run's ``run.started`` params say it sets back (else None)."""
    selection = params.get("selection")
    if isinstance(selection, Mapping) and selection.get("source") == _SELECTION:
        run = selection.get("expired_run")
        return run if isinstance(run, str) else None
    return None


def _succeeded(state: RunState, target: str) -> bool:
    result = state.results.get(target)
    return result is not None and result.outcome.succeeded


def _applied(state: RunState, target: str) -> bool:
    """Whether the run changed ``target``, or may have: done or already so, or sent without a
    final answer (a retryable or unknown outcome). A final failure, or no request, changed
    nothing."""
    result = state.results.get(target)
    if result is not None:
        return result.outcome.succeeded or not result.outcome.final
    return target in state.intended


# -- setting back what is due ---------------------------------------------------------------


@dataclass(frozen=True)
class RevertResult:
    """What ``revert_due`` did with one due expiry."""

    expiry: Expiry
    status: str
    """reverted, failed, superseded, busy (another process holds it), interrupted."""
    run: str | None = None
    """The revert run, when one started."""
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            **self.expiry.as_json(),
            "status": self.status,
            "revert_run": self.run,
            "error": self.error,
        }


def expiry_lease(expiry: Expiry) -> str:
    """The lease held while ``expiry`` is settled: one process at a time."""
    return f"expiry {expiry.run} {expiry.target}"


async def revert_due(
    workspace: Workspace,
    now: datetime,
    *,
    profile: str | None = None,
    on_event: EventSink = ignore,
    stop: asyncio.Event | None = None,
    scan: ExpiryScan | None = None,
) -> list[RevertResult]:
    """Settle every expiry due at ``now`` (on ``profile`` only, if given): set each back with
    an audited run, or record that a later change superseded it. A failure is returned as
    ``failed`` (and the expiry stays due, for next time); the others are settled all the same.
    What ``ircli runs due`` runs, and ``ircli watch`` every 10 s (keeping its ``scan``)."""
    profiles: dict[str, LoadedProfile] = {}  # loaded once: several expiries name the same
    scan = scan or ExpiryScan()
    results = []
    for expiry in due_reverts(workspace.store, now, profile=profile, scan=scan):
        if stop is not None and stop.is_set():
            results.append(RevertResult(expiry, "interrupted"))
            continue
        result = await _settle(workspace, expiry, now, profiles, scan, on_event, stop)
        if result is not None:
            results.append(result)
    return results


async def _settle(
    workspace: Workspace,
    expiry: Expiry,
    now: datetime,
    profiles: dict[str, LoadedProfile],
    scan: ExpiryScan,
    on_event: EventSink,
    stop: asyncio.Event | None,
) -> RevertResult | None:
    """One due expiry, under its lease; None when another process settled it meanwhile."""
    from ircli.audit.leases import LeaseHeld

    store = workspace.store
    with contextlib.ExitStack() as leased:
        try:
            leased.enter_context(store.leases.hold(expiry_lease(expiry), now))
        except LeaseHeld as held:
            return RevertResult(expiry, "busy", error=f"being settled by {held.holder}")
        # Read again under the lease: another process may have settled it just before.
        current = next(
            (
                e
                for e in expiries(store, now, scan)
                if (e.run, e.target) == (expiry.run, expiry.target)
            ),
            None,
        )
        if current is None or not current.due_at(now):
            return None
        if current.status == "superseded":
            store.append(
                NewRecord(
                    kind=SUPERSEDED_KIND,
                    incident=current.incident,
                    run=current.run,
                    target=current.target,
                    params={
                        "superseded_by": current.superseded_by,
                        "automated": True,
                        "summary": f"expiry of {current.run} on {current.target}: not set back, "
                        f"{current.superseded_by} changed it since",
                    },
                )
            )
            return RevertResult(current, "superseded")
        return await _revert(workspace, current, profiles, on_event, stop)


async def _revert(
    workspace: Workspace,
    expiry: Expiry,
    profiles: dict[str, LoadedProfile],
    on_event: EventSink,
    stop: asyncio.Event | None,
) -> RevertResult:
    """Set ``expiry``'s target back: an ordinary run, automated, naming the run it reverts."""
    from ircli.executor import service

    try:
        if expiry.profile not in profiles:
            profiles[expiry.profile] = service.load_platform(workspace, expiry.profile)
        loaded = profiles[expiry.profile]
        plan = service.plan_action(
            workspace,
            loaded,
            action_name=expiry.revert_action,
            targets=[expiry.target],
            params=expiry.revert_params,
            max_targets=1,
            incident=expiry.incident,
            reason=f"expiry of {expiry.run}",
            selection={"source": _SELECTION, "expired_run": expiry.run},
        )
        outcome = await service.run_plan(
            workspace, replace(plan, automated=True), on_event=on_event, stop=stop
        )
    except (OperationFailed, InvalidInput, GuardRefused) as error:
        return RevertResult(expiry, "failed", error=error.message)
    run, report = outcome.spec.run, outcome.report
    if _succeeded(outcome.state, expiry.target):
        return RevertResult(expiry, "reverted", run=run)
    if report.status == "interrupted":
        return RevertResult(expiry, "interrupted", run=run)
    result = outcome.state.results.get(expiry.target)
    cause = (result.error if result is not None else None) or report.reason or report.status
    ended = "" if report.status == "completed" else f" ({report.status})"
    return RevertResult(
        expiry,
        "failed",
        run=run,
        error=f"the revert run {run}{ended} did not set it back at {loaded.profile.base_url}: "
        f"{cause.rstrip('.')}; it is tried again next time.",
    )
