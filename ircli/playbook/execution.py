"""Executing a playbook's steps: the part of the runner that walks steps and acts.

``StepRunner`` publishes each step's result under ``steps.<id>``, turns action steps into
executor runs and records query, wait, note, status and notify steps in the audit chain (see
``ircli.playbook.runner`` for the run as a whole). ``Stopped`` ends a run early with a status.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ircli.audit.chain import audit_safe
from ircli.audit.records import NewRecord
from ircli.clock import format_utc
from ircli.errors import InvalidInput, OperationFailed
from ircli.executor import service
from ircli.executor.events import EventSink
from ircli.executor.expiry import ExpiryRequest, expiring
from ircli.executor.service import LoadedProfile, Workspace
from ircli.platform.protected import ProtectedSet
from ircli.playbook.context import Context, skipped_result
from ircli.playbook.model import (
    ActionStep,
    ApprovalStep,
    IncludeStep,
    NoteStep,
    NotifyStep,
    Playbook,
    Query,
    QueryStep,
    StatusStep,
    Step,
    Targets,
    WaitStep,
)
from ircli.playbook.templates import Template, render_value

__all__ = [
    "SAMPLE",
    "Resumed",
    "StepOutcome",
    "StepRunner",
    "Stopped",
    "bind",
    "jsonable",
    "undo_map",
]

SAMPLE = 20
READ_LATENCY_ASSUMED = 0.05
"""Seconds a request takes, for estimates, until this run has timed a read of its own."""


def step_run_id(name: str) -> str:
    """A step run's id: ``<run>.<step>[.canary]``, at most 64 characters; a longer one keeps
    its start and ends in a hash of the whole (a canary and its step never share an id)."""
    if len(name) <= 64:
        return name
    import hashlib

    return f"{name[:51]}~{hashlib.sha256(name.encode()).hexdigest()[:12]}"


def step_batch_limit(loaded: LoadedProfile, step: ActionStep) -> int:
    """The largest batch the profile's batch endpoint for ``step``'s action takes (1: none)."""
    action = loaded.profile.actions.get(step.action)
    return action.batch.max_size if action is not None and action.batch else 1


@dataclass
class StepOutcome:
    """What one step did."""

    id: str
    kind: str
    status: str
    """done, skipped, failed, planned."""
    summary: str = ""
    targets: int = 0
    sample: list[str] = field(default_factory=list)
    estimate_seconds: float | None = None
    at_run_time: bool = False
    """Dry run: resolved against today's platform, which earlier steps will have changed;
    the step resolves its targets again when it runs (``targets`` is an upper bound)."""


@dataclass
class Resumed:
    """What the audit store already holds of a playbook run being resumed."""

    results: dict[str, Any] = field(default_factory=dict)
    """Published results of the steps that finished (``step.result``), by step id."""
    statuses: dict[str, str] = field(default_factory=dict)
    """Their ``step.finished`` status, by step id."""
    started: dict[str, str] = field(default_factory=dict)
    """When each step started (``step.started``), by step id."""
    targets: dict[str, list[str]] = field(default_factory=dict)
    """Each action step's resolved targets (``step.targets``), by step id."""
    written: set[tuple[str, str]] = field(default_factory=set)
    """(kind, step id) of the notes and status changes the run wrote."""


class Stopped(Exception):
    """The run stops here with ``status`` (abort, pause, interrupt)."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class StepRunner:
    def __init__(
        self,
        workspace: Workspace,
        loaded: LoadedProfile,
        *,
        run: str,
        incident: str | None,
        dry_run: bool,
        on_event: EventSink,
        stop: asyncio.Event,
    ) -> None:
        self.workspace = workspace
        self.loaded = loaded
        self.run = run
        self.incident = incident
        self.dry_run = dry_run
        self.on_event = on_event
        self.stop = stop
        self.plan: list[dict[str, Any]] = []
        self.outcomes: list[StepOutcome] = []
        self.targets_total = 0
        self.planned: dict[str, list[str]] | None = None
        """Targets by step id from an approved plan (``--plan``): used instead of resolving."""
        self.approvers: list[str] = []
        self.playbook: Playbook | None = None
        self.resumed: Resumed | None = None
        """Set when resuming: finished steps are read back, not run again."""
        self.profile_changed = False
        """Resuming: the operator accepted a changed profile (passed to step runs)."""
        self.affected: set[str] = set()
        """In a dry run, the listings earlier action steps would change (``*``: any): a later
        query of one of them is resolved at run time, as is a step that uses its result."""
        self.late: set[str] = set()
        """Step ids resolved at run time (their dry-run result is today's, an upper bound)."""
        self.read_seconds: list[float] = []
        """How long a listing request of this run took, per query (for estimates)."""
        self.protected = ProtectedSet()
        """The run's protected accounts (resolved by the runner before its first step)."""
        self.owners: dict[str, dict[str, str]] = {}
        """For listings whose objects belong to an account (``owned``): id → account id, from
        every item this run's queries read, so that such objects of protected accounts are
        held back too."""
        self._headers: dict[str, str] | None = None

    # -- records ---------------------------------------------------------------------------

    def record(self, kind: str, step: str | None = None, **fields: Any) -> None:
        self.workspace.store.append(
            NewRecord(kind=kind, incident=self.incident, run=self.run, step=step, **fields)
        )

    def headers(self) -> dict[str, str]:
        from ircli.platform import auth_headers

        if self._headers is None:
            self._headers = auth_headers(
                self.loaded.profile, self.workspace.env, self.workspace.redactor
            )
        return self._headers

    # -- walking steps ---------------------------------------------------------------------

    async def steps(
        self, playbook: Playbook, inputs: Mapping[str, Any], prefix: str = ""
    ) -> dict[str, Mapping[str, Any]]:
        results: dict[str, Mapping[str, Any]] = {}
        if self.playbook is None:
            self.playbook = playbook
        resumed = self.resumed
        for step in playbook.steps:
            if self.stop.is_set():
                raise Stopped("interrupted", "interrupted by the operator")
            step_id = f"{prefix}{step.id}"
            if resumed is not None and step_id in resumed.results:
                # Finished before the resume: its result, exactly as it was, for later steps.
                results[step.id] = resumed.results[step_id]
                if isinstance(step, ActionStep):  # the playbook's cap counts them too
                    self.targets_total += int(results[step.id].get("count") or 0)
                status = resumed.statuses.get(step_id, "done")
                self.outcomes.append(
                    StepOutcome(
                        step_id, step.kind, status, f"{step_id}: {status} before the resume"
                    )
                )
                continue
            context = self._context(playbook, inputs, results)
            if step.when is not None and not step.when.test(context):
                results[step.id] = skipped_result(step.kind)
                self._finish(step_id, step.kind, "skipped", f"skipped: {step.id} (when)")
                self._publish(step_id, results[step.id])
                continue
            if resumed is None or step_id not in resumed.started:
                self.record(
                    "step.started",
                    step_id,
                    params={"kind": step.kind, "summary": f"step {step_id}"},
                )
            results[step.id] = await self._step(playbook, step, step_id, context, inputs)
            self._publish(step_id, results[step.id])
        return results

    def _publish(self, step_id: str, result: Mapping[str, Any]) -> None:
        """Record what a finished step publishes (``step.result``): a resumed run reads it
        back, so later steps see the same targets and items."""
        if not self.dry_run:
            self.record("step.result", step_id, params={"result": jsonable(dict(result))})

    def _wrote(self, kind: str, step_id: str) -> bool:
        """Whether the run being resumed already wrote this note or status change."""
        return self.resumed is not None and (kind, step_id) in self.resumed.written

    def _context(
        self, playbook: Playbook, inputs: Mapping[str, Any], results: Mapping[str, Any]
    ) -> Context:
        return Context(
            inputs=inputs,
            steps=results,
            now=self.workspace.store.clock(),
            run={
                "id": self.run,
                "operator": self.workspace.store.operator,
                "dry_run": self.dry_run,
            },
            incident={"id": self.incident or ""},
            playbook={"name": playbook.name},
        )

    def _finish(self, step_id: str, kind: str, status: str, summary: str, **extra: Any) -> None:
        outcome = StepOutcome(step_id, kind, status, summary, **extra)
        self.outcomes.append(outcome)
        self.record(
            "step.finished",
            step_id,
            params={"kind": kind, "summary": summary},
            outcome={"status": status, "targets": outcome.targets},
        )

    async def _step(
        self,
        playbook: Playbook,
        step: Step,
        step_id: str,
        context: Context,
        inputs: Mapping[str, Any],
    ) -> Mapping[str, Any]:
        if isinstance(step, QueryStep):
            items = await self.query(step.query, context, step_id)
            ids = self._ids(step.query, items)
            later = self._late_query(step.query)
            summary = f"{step_id}: {len(ids):,} {step.query.listing}"
            if later:
                self.late.add(step.id)
                summary += " today; resolved at run time (earlier steps change what it reads)"
            self._finish(
                step_id,
                "query",
                "done",
                summary,
                targets=len(ids),
                sample=ids[:SAMPLE],
                at_run_time=later,
            )
            return {"ids": ids, "items": items, "count": len(ids)}
        if isinstance(step, ActionStep):
            return await self.action(playbook, step, step_id, context)
        if isinstance(step, NoteStep):
            message = str(_render(step.message, context))
            if not self._wrote("timeline.note", step_id):
                self._note(message, step.note_kind, step_id)
            self._finish(step_id, "note", "planned" if self.dry_run else "done", message)
            return {}
        if isinstance(step, StatusStep):
            return self.status(step, step_id, context)
        if isinstance(step, WaitStep):
            return await self.wait(step, step_id, context)
        if isinstance(step, NotifyStep):
            return await self.notify(step, step_id, context)
        if isinstance(step, IncludeStep):
            sub_inputs = bind(step.playbook, render_value(dict(step.inputs), context))
            await self.steps(step.playbook, sub_inputs, prefix=f"{step_id}.")
            self._finish(step_id, "include", "done", f"included {step.playbook.name}")
            return {"status": "completed"}
        if isinstance(step, ApprovalStep):
            # Approvals are checked against the plan hash before the run starts.
            summary = f"approved by {', '.join(self.approvers)}" if self.approvers else "dry run"
            self._finish(step_id, "approval", "done", summary)
            return {"approvers": list(self.approvers)}
        raise OperationFailed(f"{step.location}: the step kind {step.kind!r} is not supported.")

    # -- queries ---------------------------------------------------------------------------

    async def query(self, query: Query, context: Context, step_id: str) -> list[dict[str, Any]]:
        from ircli.platform import iter_items
        from ircli.platform.listing import Skipped

        filters = {k: str(_render(v, context)) for k, v in query.filters.items()}
        skipped = Skipped()
        began = time.monotonic()
        async with self._client(1) as client:
            raw = [
                item
                async for item in iter_items(
                    client.http, self.loaded.profile, query.listing, filters,
                    headers=self.headers(), skipped=skipped,
                )
            ]  # fmt: skip
        # Per request: the listing's pages (page_size items each; at least one) shared it.
        listing = self.loaded.profile.listings[query.listing]
        size = listing.pagination.page_size if listing.pagination is not None else len(raw)
        pages = max(1, -(-len(raw) // max(1, size)))
        self.read_seconds.append((time.monotonic() - began) / pages)
        self._note_owners(query.listing, raw)
        items = list(query.where.filter(raw, context)) if query.where else raw
        if query.limit is not None:
            items = items[: query.limit]
        ids = self._ids(query, items)
        self.record(
            "query.result",
            step_id,
            params={
                "listing": query.listing,
                "filters": filters,
                "filter": query.where.text if query.where is not None else None,
                "count": len(ids),
                "scanned": len(raw),
                "sample": ids[:SAMPLE],
                **skipped.as_params(),
                "summary": f"{step_id}: {len(ids):,} {query.listing} found"
                + (f" ({skipped.count:,} skipped: unusable ids)" if skipped.count else ""),
            },
        )
        return [dict(item) for item in items]

    def _note_owners(self, listing: str, items: Sequence[Mapping[str, Any]]) -> None:
        """Remember the account of each item of a listing whose objects belong to one."""
        field = self.protected.owned.get(listing)
        if field is None or self.protected.override:
            return
        id_field = self.loaded.profile.listings[listing].id
        owners = self.owners.setdefault(listing, {})
        for item in items:
            if field in item and id_field in item:
                owners[str(item[id_field])] = str(item[field])

    def _ids(self, query: Query, items: Sequence[Mapping[str, Any]]) -> list[str]:
        """Each matching object's id, once (a listing paged under a live flood can repeat
        one; caps, canaries and failure counts are per target)."""
        id_field = self.loaded.profile.listings[query.listing].id
        return list(dict.fromkeys(str(item[id_field]) for item in items if id_field in item))

    def _client(self, concurrency: int) -> Any:
        return service.platform_client(
            self.loaded.profile, self.headers(), self.workspace.env, concurrency
        )

    # -- actions ---------------------------------------------------------------------------

    async def targets(self, targets: Targets, context: Context, step_id: str) -> list[str]:
        from ircli.executor.targets import read_ids_file, unique_ids

        if targets.source == "ids":
            ids: list[str] = []
            for value in targets.ids:
                rendered = _render(value, context)
                ids.extend(
                    map(str, rendered) if isinstance(rendered, list | tuple) else [str(rendered)]
                )
            return unique_ids(ids, f"{step_id} targets")
        if targets.source == "file":
            assert targets.file is not None
            assert targets.base is not None
            return read_ids_file(targets.base / str(_render(targets.file, context)), targets.column)
        if targets.source == "from":
            assert targets.reference is not None
            value = targets.reference.render(context)
            values = value if isinstance(value, list | tuple) else [value]
            return unique_ids(map(str, values), f"{step_id} targets")
        assert targets.query is not None
        items = await self.query(targets.query, context, step_id)
        return self._ids(targets.query, items)

    async def action(
        self, playbook: Playbook, step: ActionStep, step_id: str, context: Context
    ) -> Mapping[str, Any]:
        if self.planned is not None and step_id in self.planned:
            ids = self.planned[step_id]
        elif self.resumed is not None and step_id in self.resumed.targets:
            ids = self.resumed.targets[step_id]  # as resolved before the interruption
        else:
            ids = await self.targets(step.targets, context, step_id)
            if not self.dry_run:
                self.record("step.targets", step_id, params={"ids": ids, "count": len(ids)})
        kind = self.loaded.profile.actions[step.action].target_kind
        held = self.protected.held(kind, ids, self.owners.get(kind))
        if held:  # never sent: recorded by the step's first run, counted apart
            free = set(ids).difference(held)
            ids = [target for target in ids if target in free]
        params = render_value(dict(step.params), context)
        controls = step.controls
        at_run_time = self._late_targets(step.targets)
        warnings: list[str] = []
        cap = controls.max_targets
        if cap is not None and len(ids) > cap:
            why = f"step {step.id!r} resolved {len(ids):,} targets, over its max_targets of {cap:,}"
            if not self.dry_run:
                raise Stopped("refused", f"{step.location}: {why}")
            warnings.append(f"today {why}: refused at run time if still so")
        self.targets_total += len(ids)
        if playbook.max_targets is not None and self.targets_total > playbook.max_targets:
            why = (
                f"the playbook's actions add up to {self.targets_total:,} targets, over its "
                f"max_targets of {playbook.max_targets:,}"
            )
            if not self.dry_run:
                raise Stopped("refused", why)
            warnings.append(f"today {why}: refused at run time if still so")
        estimate = self.estimate(step, len(ids))
        if not at_run_time:  # what --plan pins; a step resolved at run time is not pinned
            self.plan.append(
                {"step": step_id, "action": step.action, "params": params, "targets": sorted(ids)}
            )
        if at_run_time:
            self.late.add(step.id)
        protected = len(held)
        kept = f"; {protected:,} protected (not sent)" if held else ""
        if not ids:
            if held and not self.dry_run:  # their refusal is on record, in a run of the step
                await self._execute(step, params, [], f"{self.run}.{step_id}", held=held)
            summary = f"{step.action}: no targets"
            if at_run_time:
                summary += " today; resolved at run time (earlier steps change its targets)"
            self._finish(step_id, "action", "done", summary + kept, at_run_time=at_run_time)
            return {"ids": [], "count": 0, "succeeded": 0, "failed": 0, "failure_ratio": 0.0,
                    "protected": protected}  # fmt: skip
        if self.dry_run:
            summary = f"{step.action} on {len(ids):,} targets (dry run: nothing sent)"
            if at_run_time:
                summary = (
                    f"{step.action}: resolved at run time (earlier steps change its targets); "
                    f"today {len(ids):,} targets, an upper bound (dry run: nothing sent)"
                )
            if step.expires_after is not None:
                warnings.insert(0, f"set back {step.expires_after:,.0f} s after it runs")
            self._finish(
                step_id,
                "action",
                "planned",
                "; ".join([summary + kept, *warnings]),
                targets=len(ids),
                sample=ids[:SAMPLE],
                estimate_seconds=estimate,
                at_run_time=at_run_time,
            )
            spec = self.loaded.profile.actions.get(step.action)
            changes = spec.affects if spec is not None else None
            self.affected.update(changes if changes is not None else ("*",))
            return {
                "ids": ids,
                "count": len(ids),
                "succeeded": len(ids),
                "failed": 0,
                "failure_ratio": 0.0,
                "protected": protected,
            }
        expiry = _expiry_request(step, context)
        succeeded = failed = 0
        remaining = list(ids)
        if step.canary is not None:
            size = step.canary.size(len(ids))
            slice_, remaining = remaining[:size], remaining[size:]
            done, bad = await self._execute(
                step, params, slice_, f"{self.run}.{step_id}.canary", expiry, held
            )
            held = []  # on record with the canary
            succeeded, failed = succeeded + done, failed + bad
            values: dict[str, Any] = {
                "attempted": len(slice_),
                "succeeded": done,
                "failed": bad,
                "failure_ratio": bad / len(slice_) if slice_ else 0.0,
            }
            if step.canary.query is not None:
                if step.canary.settle:
                    await asyncio.sleep(step.canary.settle)
                items = await self.query(step.canary.query, context, step_id)
                values.update(
                    items=items, ids=self._ids(step.canary.query, items), count=len(items)
                )
            if not step.canary.check.test(_with(context, values)):
                status = "paused" if step.canary.on_fail == "pause" else "aborted"
                self._finish(step_id, "action", "failed", f"{step.action}: canary check failed")
                raise Stopped(
                    status,
                    f"{step.location}: the canary of step {step.id!r} "
                    f"failed its check ({done} done, {bad} failed)",
                )
        if remaining:
            done, bad = await self._execute(
                step, params, remaining, f"{self.run}.{step_id}", expiry, held
            )
            succeeded, failed = succeeded + done, failed + bad
        ratio = failed / len(ids)
        summary = f"{step.action}: {succeeded:,} of {len(ids):,} done, {failed:,} not{kept}"
        limit = controls.max_failure_ratio
        over = limit is not None and ratio > limit
        self._finish(
            step_id,
            "action",
            "failed" if over or (failed and limit is None) else "done",
            summary,
            targets=len(ids),
            sample=ids[:SAMPLE],
            estimate_seconds=estimate,
        )
        if over and step.on_error == "rollback":
            await self.roll_back(playbook, context, f"step {step.id!r} failed for {ratio:.1%}")
        if over and step.on_error != "continue":
            raise Stopped(
                "aborted",
                f"{step.location}: step {step.id!r} failed for "
                f"{ratio:.1%} of its targets, over max_failure_ratio {limit}",
            )
        return {
            "ids": ids,
            "count": len(ids),
            "succeeded": succeeded,
            "failed": failed,
            "failure_ratio": ratio,
            "protected": protected,
        }

    def _late_query(self, query: Query) -> bool:
        """Dry run: whether earlier steps would change what ``query`` reads."""
        if not self.dry_run or not self.affected:
            return False
        if "*" in self.affected or query.listing in self.affected:
            return True
        texts = [_text(value) for value in query.filters.values()]
        return self._mentions_late([*texts, query.where.text if query.where else ""])

    def _late_targets(self, targets: Targets) -> bool:
        """Dry run: whether an action's targets come from a step resolved at run time."""
        if not self.dry_run:
            return False
        if targets.query is not None:
            return self._late_query(targets.query)
        texts = [_text(value) for value in (*targets.ids, targets.reference, targets.file)]
        return self._mentions_late(texts)

    def _mentions_late(self, texts: Sequence[str]) -> bool:
        return any(found in self.late for text in texts for found in _STEP_REFERENCE.findall(text))

    def estimate(self, step: ActionStep, targets: int) -> float | None:
        """Seconds ``step`` should take: its requests (targets, or batches of them) paced by
        the rate, or, when slower, by the concurrency at the mean latency of this run's
        listing requests so far (``READ_LATENCY_ASSUMED`` before any)."""
        if not targets:
            return 0.0
        limits = self.loaded.profile.limits
        controls = step.controls
        rate = controls.rate or limits.rate
        concurrency = controls.concurrency or limits.concurrency
        batch = min(controls.batch, step_batch_limit(self.loaded, step)) if controls.batch else 1
        requests = -(-targets // batch)
        reads = self.read_seconds
        latency = sum(reads) / len(reads) if reads else READ_LATENCY_ASSUMED
        by_rate = requests / rate if rate else 0.0
        by_latency = -(-requests // concurrency) * latency
        return round(max(by_rate, by_latency), 2)

    async def _execute(
        self,
        step: ActionStep,
        params: Mapping[str, Any],
        ids: list[str],
        run: str,
        expiry: ExpiryRequest | None = None,
        held: Sequence[str] = (),
    ) -> tuple[int, int]:
        """Run ``step``'s action on ``ids`` as the executor run ``run`` (resumed if it was
        started before a resume); ``held`` are targets it records as protected, never sent.
        Returns how many of ``ids`` succeeded and how many did not."""
        controls = step.controls
        kind = self.loaded.profile.actions[step.action].target_kind
        plan = service.plan_action(
            self.workspace,
            self.loaded,
            action_name=step.action,
            targets=[*ids, *held],
            params=params,
            max_targets=max(len(ids), 1),
            incident=self.incident,
            batch_size=controls.batch,
            overrides={**controls.overrides(), "timeout": controls.timeout},
            reason=f"playbook step {step.id}",
            selection={
                "source": "playbook",
                "run": self.run,
                "step": step.id,
                **step.targets.described(),
            },
            protected=self.protected,
            owners=self.owners.get(kind),
        )
        plan = _with_step(plan, step.id)
        if expiry is not None:
            plan = expiring(plan, expiry)
        run_id = step_run_id(run)
        earlier = self._step_run(run_id)
        if earlier is not None and earlier.status == "completed":
            counts = earlier.counts()  # finished before the interruption: nothing to send
            done = counts["done"] + counts["already_done"]
            return done, len(ids) - done
        if earlier is not None:  # interrupted inside it: exactly-once, as runs resume does
            outcome = await service.resume_run(
                self.workspace,
                run_id,
                on_event=self.on_event,
                stop=self.stop,
                profile_changed=self.profile_changed,
                protected=self.protected,
            )
        else:
            outcome = await service.run_plan(
                self.workspace, plan, run_id=run_id, on_event=self.on_event, stop=self.stop
            )
        counts = outcome.counts
        if outcome.report.status == "interrupted":
            raise Stopped("interrupted", f"interrupted during step {step.id!r}")
        if outcome.report.status == "paused":
            raise Stopped("paused", f"step {step.id!r} paused ({outcome.report.reason})")
        done = counts["done"] + counts["already_done"]
        return done, len(ids) - done

    def _step_run(self, run_id: str) -> Any:
        """The step's executor run if it was started before the resume (else None)."""
        if self.resumed is None:
            return None
        from ircli.executor.journal import load_run

        try:
            return load_run(self.workspace.store, run_id)
        except InvalidInput:
            return None

    async def roll_back(self, playbook: Playbook | None, context: Context, why: str) -> None:
        """``on_error: rollback``: undo what this run changed so far, then stop."""
        from ircli.executor.rollback import plan_rollback, rollback

        undo = undo_map(playbook, context) if playbook is not None else {}
        plan = plan_rollback(self.workspace, self.run, undo)
        outcome = await rollback(self.workspace, plan, on_event=self.on_event, stop=self.stop)
        raise Stopped(
            "rolled_back",
            f"{why}; rolled back {outcome.reverted} change(s) ({outcome.status})",
        )

    # -- other steps -----------------------------------------------------------------------

    def _note(self, message: str, kind: str, step_id: str) -> None:
        if self.dry_run:
            return
        if self.incident is None:
            self.record(
                "timeline.note",
                step_id,
                params={
                    "message": message,
                    "note_kind": kind,
                    "at": format_utc(self.workspace.store.clock()),
                },
            )
            return
        from ircli.incident.service import IncidentService

        IncidentService(self.workspace.store).add_note(
            self.incident, message, kind=kind, run=self.run, step=step_id
        )

    def status(self, step: StatusStep, step_id: str, context: Context) -> Mapping[str, Any]:
        from ircli.incident.service import IncidentService

        target = step.status or step.milestone
        message = str(_render(step.message, context)) if step.message else ""
        if self.dry_run or self.incident is None or target is None:
            why = "dry run" if self.dry_run else "no incident"
            self._finish(step_id, "status", "skipped", f"status {target} ({why})")
            return {}
        incidents = IncidentService(self.workspace.store)
        if not self._wrote("incident.status", step_id):
            try:
                incidents.set_status(self.incident, target, run=self.run, step=step_id)
            except InvalidInput as exc:
                self._finish(step_id, "status", "skipped", f"status {target}: {exc.message}")
                return {}
        if message and not self._wrote("timeline.note", step_id):
            incidents.add_note(self.incident, message, kind="action", run=self.run, step=step_id)
        self._finish(
            step_id, "status", "done", f"incident {target}" + (f": {message}" if message else "")
        )
        return {}

    async def wait(self, step: WaitStep, step_id: str, context: Context) -> Mapping[str, Any]:
        started = time.monotonic()
        if self.resumed is not None and step_id in self.resumed.started:
            # Resumed mid-wait: the time already waited counts (since the step started).
            from ircli.clock import parse_time

            began = parse_time(self.resumed.started[step_id], now=self.workspace.store.clock())
            started -= max(0.0, (self.workspace.store.clock() - began).total_seconds())
        while True:
            items = await self.query(step.query, context, step_id)
            ids = self._ids(step.query, items)
            elapsed = time.monotonic() - started
            values = {"count": len(ids), "ids": ids, "items": items, "elapsed": elapsed}
            local = _with(context, values)
            failed = step.fail_if is not None and step.fail_if.test(local)
            if not failed and step.until.test(local):
                self._finish(
                    step_id,
                    "wait",
                    "done",
                    f"{step_id}: condition held after {elapsed:.0f} s ({len(ids)} matching)",
                )
                return {**values, "ok": True}
            if failed or elapsed >= step.timeout or self.dry_run:
                why = (
                    "dry run: not waited"
                    if self.dry_run
                    else ("fail_if held" if failed else f"timed out after {step.timeout:.0f} s")
                )
                self._finish(
                    step_id,
                    "wait",
                    "skipped" if self.dry_run else "failed",
                    f"{step_id}: {why} ({len(ids)} matching)",
                )
                if not self.dry_run and step.on_fail == "rollback":
                    await self.roll_back(self.playbook, context, f"wait {step.id!r}: {why}")
                if not self.dry_run and step.on_fail != "continue":
                    raise Stopped("aborted", f"{step.location}: wait {step.id!r}: {why}")
                return {**values, "ok": False}
            if await _sleep_or_stop(self.stop, min(step.every, step.timeout - elapsed)):
                raise Stopped("interrupted", "interrupted by the operator")

    async def notify(self, step: NotifyStep, step_id: str, context: Context) -> Mapping[str, Any]:
        from ircli.playbook.webhooks import post_webhook, webhook_url, webhook_variable

        message = str(_render(step.message, context))
        url = webhook_url(self.workspace.webhooks, self.workspace.env, step.webhook)
        if self.dry_run or not url:
            why = (
                "dry run"
                if self.dry_run
                else (
                    f"no webhook {step.webhook!r} in the config (webhooks:) nor "
                    f"{webhook_variable(step.webhook)}"
                )
            )
            self._finish(step_id, "notify", "skipped", f"notify {step.webhook}: {why}")
            return {}
        payload = {"text": message, "run": self.run, "incident": self.incident}
        status, detail = await post_webhook(url, payload)
        self._finish(step_id, "notify", status, f"notify {step.webhook}: {detail}")
        return {}


def _with(context: Context, values: Mapping[str, Any]) -> Context:
    from dataclasses import replace

    return replace(context, values=values)


def _expiry_request(step: ActionStep, context: Context) -> ExpiryRequest | None:
    """A step's ``for:``: set back with its ``undo`` (rendered) if that gives params, else
    to the state read before the change."""
    if step.expires_after is None:
        return None
    undo = step.undo
    if undo is None or not undo.params:
        return ExpiryRequest(int(step.expires_after), undo.action if undo else None)
    params = render_value(dict(undo.params), context)
    return ExpiryRequest(int(step.expires_after), undo.action, params)


def _with_step(plan: service.ActionPlan, step: str) -> service.ActionPlan:
    from dataclasses import replace

    return replace(plan, step=step)


_STEP_REFERENCE = re.compile(r"\bsteps\.([A-Za-z0-9_-]+)")


def _text(value: Any) -> str:
    """A template's text, or a plain value as text (None: empty)."""
    if value is None:
        return ""
    return str(getattr(value, "text", value))


def _render(value: Any, context: Context) -> Any:
    return value.render(context) if isinstance(value, Template) else value


def bind(playbook: Playbook, given: Mapping[str, Any]) -> dict[str, Any]:
    from ircli.playbook.inputs import bind_inputs

    return bind_inputs(playbook, given)


async def _sleep_or_stop(stop: asyncio.Event, delay: float) -> bool:
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, delay))
    except TimeoutError:
        return False
    return True


def undo_map(playbook: Playbook, context: Context) -> dict[str, tuple[str, Any]]:
    """Each action step's explicit ``undo`` (action, rendered params), by step id."""
    return {
        step.id: (step.undo.action, render_value(dict(step.undo.params), context))
        for step in playbook.steps
        if isinstance(step, ActionStep) and step.undo is not None
    }


def jsonable(value: Any) -> Any:
    """A value made storable in the audit chain (tuples, floats, dates …)."""
    return audit_safe(json.loads(json.dumps(value, default=str)))
