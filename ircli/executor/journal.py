"""The write-ahead journal of a run, kept in the audit chain, and its replay for resume.

Record kinds written here (all carry ``run`` and ``step``; ``incident`` when given):

* ``run.started``    params: the ``RunSpec`` (action, parameters, profile, target ids …)
* ``action.intent``  params: ``action``, ``targets`` (ids about to be sent), ``batch``
* ``action.outcome`` outcome: ``groups`` — targets that ended alike share one entry of
  ``outcome, status, attempts, latency_ms, error, targets`` (``ircli.audit.outcomes``)
* ``run.finished``   outcome: ``status`` (completed, incomplete, interrupted, paused, failed)
  and counts
* ``run.resumed``    params: what was already known when a resume began

An intent record is durable before any of its targets' requests leaves; outcomes are
buffered and flushed in groups, and leave the buffer only once committed. Writes run in a
worker thread so commits never block the event loop. A write the store refuses (its lock held
past the busy timeout, a full disk, an I/O error) is retried with backoff; meanwhile
``writable`` is cleared so that no new request leaves. A store that stays unwritable for
``max_outage`` seconds ends the run (``StoreUnwritable``): what was sent has its intent on
record, so ``runs resume`` finishes it exactly once.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ircli.audit.outcomes import all_text, outcome_groups
from ircli.audit.records import AuditRecord, NewRecord, RecordFilter
from ircli.audit.store import AuditStore
from ircli.errors import AuditIntegrityError, InvalidInput, OperationFailed
from ircli.platform.outcome import Outcome

__all__ = [
    "RunJournal",
    "RunSpec",
    "RunState",
    "Settled",
    "StoreUnwritable",
    "TargetResult",
    "count_outcomes",
    "idempotency_key",
    "load_run",
    "merge_results",
]

FLUSH_EVERY = 0.05
FLUSH_SIZE = 2000
STORE_MAX_OUTAGE = 60.0
"""Seconds a run waits for a store that refuses writes before it stops."""
STORE_RETRY_FIRST = 0.2
STORE_RETRY_MAX = 5.0


class StoreUnwritable(OperationFailed):
    """The audit store refused the run's writes for longer than the run may wait."""


def idempotency_key(run: str, step: str, action: str, targets: Iterable[str]) -> str:
    """The same key for the same (run, step, action, target set), on every attempt."""
    digest = hashlib.sha256("\0".join((run, step, action, *sorted(targets))).encode()).hexdigest()
    return f"ircli-{digest[:40]}"


@dataclass(frozen=True)
class RunSpec:
    """Everything needed to (re)start a one-action run from the audit store alone."""

    run: str
    step: str
    action: str
    targets: tuple[str, ...]
    params: Mapping[str, Any]
    profile: str
    """The profile as given (name or path) — resolved again on resume."""
    profile_sha256: str
    incident: str | None = None
    batch_size: int | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """Limits overridden on the command line (concurrency, rate …)."""
    reason: str | None = None
    """Why, in the operator's words (recorded even when the platform takes no reason)."""
    selection: Mapping[str, Any] | None = None
    """How the targets were chosen: ``--id``, an ids file (name, SHA-256), ``--where``
    (listing, filters, items skipped for unusable ids, the reads it took) or a playbook step."""
    dsa_decision: Mapping[str, Any] | None = None
    """The action's EU DSA decision (the profile's ``dsa:``) as the run used it, for its
    statements of reasons whatever becomes of the profile; ``None``: it decides nothing."""
    expiry: Mapping[str, Any] | None = None
    """When the change expires and what is set back then (``ircli.executor.expiry``; where
    each expiry stands, ``ircli.executor.reverts``)."""
    automated: bool = False
    """Started by ircli itself (an expiry's revert), not by a person."""
    protection: Mapping[str, Any] | None = None
    """The protected accounts the run went with: how many, their SHA-256, where from, and
    whether a person overrode them (``ProtectedSet.record``); ``None`` in older records."""

    def as_params(self) -> dict[str, Any]:
        # Only the runs that have them carry ``expiry`` and ``automated``.
        optional = {"expiry": self.expiry, "automated": self.automated or None}
        return {
            "summary": f"{self.action} on {len(self.targets):,} targets",
            "reason": self.reason,
            "action": self.action,
            "step": self.step,
            "params": dict(self.params),
            "profile": self.profile,
            "profile_sha256": self.profile_sha256,
            "batch_size": self.batch_size,
            # The chain holds no floats (docs/audit.md): decimals travel as strings.
            "overrides": {
                k: repr(v) if isinstance(v, float) else v for k, v in self.overrides.items()
            },
            "selection": dict(self.selection) if self.selection is not None else None,
            "dsa_decision": dict(self.dsa_decision) if self.dsa_decision is not None else None,
            "protection": dict(self.protection) if self.protection is not None else None,
            "target_count": len(self.targets),
            "targets": list(self.targets),
            **{key: value for key, value in optional.items() if value is not None},
        }


@dataclass(frozen=True, slots=True)
class TargetResult:
    """The final word on a target in this execution. Targets that ended alike (a batch)
    share one instance: results are keyed by target id, not carried inside."""

    outcome: Outcome
    status: int | None
    attempts: int
    latency_ms: int
    error: str | None = None

    def fields(self) -> dict[str, Any]:
        """The result as an outcome record stores it for a group of targets."""
        return {
            "outcome": self.outcome.value,
            "status": self.status,
            "attempts": self.attempts,
            "latency_ms": self.latency_ms,
            "error": self.error,
        }

    def as_json(self, target: str) -> dict[str, Any]:
        """The result of one target, for output."""
        return {"target": target, **self.fields()}

    @classmethod
    def from_json(cls, fields: Mapping[str, Any]) -> TargetResult:
        """Read ``fields()`` back; ``ValueError`` when a value has the wrong type."""
        status, attempts, latency, error = (
            fields["status"], fields["attempts"], fields["latency_ms"], fields.get("error")
        )  # fmt: skip
        if not (
            (status is None or type(status) is int)
            and type(attempts) is int
            and type(latency) is int
            and (error is None or type(error) is str)
        ):
            raise ValueError("a status, attempt count, latency or error has the wrong type")
        return cls(Outcome(fields["outcome"]), status, attempts, latency, error)


def count_outcomes(results: Iterable[TargetResult]) -> dict[str, int]:
    """How many results ended each way (every outcome named, zeros included)."""
    counts = {outcome.value: 0 for outcome in Outcome}
    for outcome, count in Counter(result.outcome for result in results).items():
        counts[outcome.value] = count
    return counts


Settled = tuple[Sequence[str], TargetResult]
"""Targets and the result they share."""


class RunJournal:
    """Writes a run's records; intents synchronously-durable, outcomes in groups."""

    def __init__(
        self,
        store: AuditStore,
        spec: RunSpec,
        crash: Callable[[str], None] | None = None,
        *,
        max_outage: float = STORE_MAX_OUTAGE,
    ) -> None:
        self._store = store
        self._crash = crash
        self.spec = spec
        self._pending: list[Settled] = []
        self._lock = asyncio.Lock()
        self.intended: set[str] = set()
        """Targets whose intent this journal made durable."""
        self.max_outage = max_outage
        self.writable = asyncio.Event()
        """Set while the store takes writes; cleared from a refused write until one succeeds."""
        self.writable.set()
        self.failure: StoreUnwritable | None = None
        """Set once the store stayed unwritable too long: later writes are tried only once."""
        self.on_trouble: Callable[[str | None, float], None] = lambda _cause, _retry_in: None
        """Told ``(cause, retry_in)`` when a write is refused, ``(None, 0)`` when writes work
        again."""
        self._failing_since: float | None = None
        self.hurry = False
        """Set when the run is aborted: a refused write is not retried."""

    @property
    def store_url(self) -> str:
        """The store, as named to people (password masked)."""
        return self._store.url

    @property
    def pending(self) -> int:
        """Targets whose outcome is buffered, not yet committed."""
        return sum(len(targets) for targets, _result in self._pending)

    def _record(self, kind: str, **fields: Any) -> NewRecord:
        return NewRecord(
            kind=kind, incident=self.spec.incident, run=self.spec.run, step=self.spec.step, **fields
        )

    def started(self, protected: Sequence[str] = ()) -> None:
        """Record ``run.started``, and in the same transaction the outcome ``protected`` of
        the targets held back (a crash between the two could let a resume send them)."""
        started = self._record("run.started", params=self.spec.as_params())
        self._store.append_many([started, *self._protected(protected)])

    def resumed(
        self,
        known: Mapping[str, int],
        profile_sha256: str,
        protection: Mapping[str, Any] | None = None,
        held: Sequence[str] = (),
    ) -> None:
        """Record ``run.resumed``: what the store already knew, the SHA-256 of the profile
        the run goes on with (a later resume compares against it) and the protection it goes
        on with; with it, the outcome ``protected`` of the targets left that it holds back."""
        params = {"known": dict(known), "profile_sha256": profile_sha256}
        if protection is not None:
            params["protection"] = dict(protection)
        resumed = self._record("run.resumed", params=params)
        self._store.append_many([resumed, *self._protected(held)])

    def _protected(self, targets: Sequence[str]) -> list[NewRecord]:
        """The ``action.outcome`` records of targets held back as protected (none sent)."""
        from ircli.executor.protection import PROTECTED

        if not targets:
            return []
        chunks = [list(targets[i : i + FLUSH_SIZE]) for i in range(0, len(targets), FLUSH_SIZE)]
        return [self._outcome_record([(chunk, PROTECTED)]) for chunk in chunks]

    async def intend(self, targets: list[str], *, batch: bool) -> None:
        """Make the intent for ``targets`` durable; returns once committed."""
        record = self._record(
            "action.intent",
            target=targets[0] if len(targets) == 1 else None,
            params={"action": self.spec.action, "targets": targets, "batch": batch},
        )
        await self._append([record])
        self.intended.update(targets)

    def add(self, targets: Sequence[str], result: TargetResult) -> None:
        """Buffer the outcome of ``targets`` (flushed by ``flush`` or the background flusher)."""
        self._pending.append((targets, result))

    async def flush(self) -> None:
        """Write every buffered outcome now; they leave the buffer once committed."""
        async with self._lock:
            written = list(self._pending)
            if not written:
                return
            records = [self._outcome_record(chunk) for chunk in _chunks(written, FLUSH_SIZE)]
            # The run's end cancels the periodic flusher: a write under way finishes anyway.
            write = asyncio.ensure_future(self._append(records))
            try:
                await asyncio.shield(write)
            except asyncio.CancelledError:
                await write
                raise
            finally:
                if write.done() and not write.cancelled() and write.exception() is None:
                    del self._pending[: len(written)]
            if self._crash is not None:
                self._crash("after-outcome")

    async def _append(self, records: list[NewRecord]) -> None:
        """Append ``records``, retrying with backoff while the store refuses writes."""
        delay = STORE_RETRY_FIRST
        while True:
            try:
                await asyncio.to_thread(self._store.append_many, records)
            except OperationFailed as error:
                if self.failure is not None:
                    raise self.failure from None
                if self.hurry:  # the operator aborts: one attempt, no waiting
                    self.failure = StoreUnwritable(
                        f"the audit store {self._store.url} refused writes "
                        f"({error.message.rstrip('.')}); run {self.spec.run} stopped."
                    )
                    raise self.failure from None
                now = time.monotonic()
                if self._failing_since is None:
                    self._failing_since = now
                    self.writable.clear()
                if now - self._failing_since >= self.max_outage:
                    self.failure = StoreUnwritable(
                        f"the audit store {self._store.url} refused writes for "
                        f"{now - self._failing_since:.0f} s ({error.message.rstrip('.')}); "
                        f"run {self.spec.run} stopped."
                    )
                    raise self.failure from None
                self.on_trouble(error.message, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, STORE_RETRY_MAX)
                continue
            if self._failing_since is not None:
                self._failing_since = None
                self.writable.set()
                self.on_trouble(None, 0.0)
            return

    def _outcome_record(self, chunk: list[Settled]) -> NewRecord:
        """One ``action.outcome`` record; targets that ended alike share a group."""
        merged: dict[TargetResult, list[str]] = {}
        for targets, result in chunk:
            merged.setdefault(result, []).extend(targets)
        groups = [{**result.fields(), "targets": targets} for result, targets in merged.items()]
        lists = list(merged.values())
        return self._record(
            "action.outcome",
            target=lists[0][0] if len(lists) == 1 and len(lists[0]) == 1 else None,
            params={"action": self.spec.action},
            outcome={"groups": groups},
        )

    async def flush_periodically(self) -> None:
        """Flush every ``FLUSH_EVERY`` seconds until cancelled."""
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            await self.flush()

    def finished(self, status: str, summary: Mapping[str, Any]) -> None:
        """Record ``run.finished`` (after a final flush)."""
        self._store.append(self._record("run.finished", outcome={"status": status, **summary}))


def _chunks(items: list[Settled], size: int) -> Iterable[list[Settled]]:
    """``items`` in runs of about ``size`` targets (a group is never split)."""
    chunk: list[Settled] = []
    count = 0
    for item in items:
        chunk.append(item)
        count += len(item[0])
        if count >= size:
            yield chunk
            chunk, count = [], 0
    if chunk:
        yield chunk


@dataclass
class RunState:
    """A run as the audit store knows it."""

    spec: RunSpec
    status: str
    """The last ``run.finished`` status; without one, ``running`` while a live process holds
    the run's lease, else ``crashed``."""
    intended: set[str] = field(default_factory=set)
    results: dict[str, TargetResult] = field(default_factory=dict)
    operator: str = ""
    started_at: str = ""
    profile_sha256: str = ""
    """The profile's SHA-256 as last used: at the start, or at a resume that accepted a change."""

    def settled(self) -> set[str]:
        """Targets with a final outcome (done, already done, failed)."""
        return {t for t, r in self.results.items() if r.outcome.final}

    def unknown(self) -> list[str]:
        """Targets whose intent is recorded but no outcome at all: the write-ahead gap of a
        crash (their request may have left). Targets known not sent, or given up on, have a
        ``retryable`` result instead."""
        return [t for t in self.spec.targets if t in self.intended and t not in self.results]

    def counts(self) -> dict[str, int]:
        """Targets by state; the values add up to the number of targets."""
        results = self.results
        counts = count_outcomes(results.values())
        open_targets = [t for t in self.spec.targets if t not in results]
        counts["unknown"] = sum(1 for t in open_targets if t in self.intended)
        counts["untouched"] = len(open_targets) - counts["unknown"]
        return counts


def load_run(store: AuditStore, run: str) -> RunState:
    """Rebuild a run's state from its records alone."""
    state: RunState | None = None
    for record in store.records(RecordFilter(run=run)):
        if record.kind == "run.started" and "action" not in record.params:
            raise InvalidInput(
                f"{run} is a playbook run, not an action run; 'ircli runs resume {run}' "
                "resumes it as a whole."
            )
        if record.kind == "run.started":
            spec = _spec_of(record, run)
            state = RunState(
                spec,
                "running",
                operator=record.operator,
                started_at=record.ts,
                profile_sha256=spec.profile_sha256,
            )
        elif state is None:
            continue
        elif record.kind == "action.intent":
            targets = record.params.get("targets")
            if not isinstance(targets, list) or not all_text(targets):
                raise _malformed(record, "its targets are not a list of ids")
            state.intended.update(targets)
        elif record.kind == "action.outcome":
            try:
                for targets, fields in outcome_groups(record.outcome, strict=True):
                    result = TargetResult.from_json(fields)
                    merge_results(state.results, dict.fromkeys(targets, result))
            except (ValueError, TypeError) as error:
                raise _malformed(record, str(error)) from None
        elif record.kind == "run.finished":
            state.status = str(record.outcome.get("status"))
        elif record.kind == "run.resumed":
            state.status = "running"
            if isinstance(changed := record.params.get("profile_sha256"), str):
                state.profile_sha256 = changed
    if state is None:
        raise InvalidInput(f"no run {run!r} in the audit store.")
    if state.status == "running" and store.leases.holder(run) is None:
        state.status = "crashed"  # no finish record, and no live process holds its lease
    return state


def _spec_of(record: AuditRecord, run: str) -> RunSpec:
    """The ``RunSpec`` a ``run.started`` record holds."""
    params = record.params
    try:
        targets = params["targets"]
        if not isinstance(targets, list) or not all_text(targets):
            raise TypeError("targets")
        return RunSpec(
            run=run,
            step=str(record.step),
            action=str(params["action"]),
            targets=tuple(targets),
            params=dict(params["params"]),
            profile=str(params["profile"]),
            profile_sha256=str(params["profile_sha256"]),
            incident=record.incident,
            batch_size=params.get("batch_size"),
            overrides={
                k: float(v) if isinstance(v, str) else v
                for k, v in dict(params.get("overrides") or {}).items()
            },
            reason=params.get("reason"),
            selection=params.get("selection"),
            dsa_decision=params.get("dsa_decision"),
            expiry=params.get("expiry"),
            automated=params.get("automated") is True,
            protection=params.get("protection"),
        )
    except (KeyError, TypeError, ValueError):
        raise _malformed(record, "it lacks the action, targets, parameters or profile") from None


def _malformed(record: AuditRecord, why: str) -> AuditIntegrityError:
    """A run record resume cannot trust: guessing could resend what was done."""
    return AuditIntegrityError(
        f"audit record {record.seq} ({record.kind} of run {record.run}) is malformed: {why}; "
        "the run's state cannot be rebuilt safely."
    )


def merge_results(results: dict[str, TargetResult], new: Mapping[str, TargetResult]) -> None:
    """Add ``new`` results; a success already known is kept (a resumed run's
    ``already_done`` does not hide the first run's ``done``)."""
    if results.keys().isdisjoint(new):
        results.update(new)
        return
    for target, result in new.items():
        previous = results.get(target)
        if previous is None or not previous.outcome.succeeded:
            results[target] = result
