"""The playbook runner: walks a validated ``Playbook`` through the normal executor.

Each step publishes its result under ``steps.<id>`` for later references. Action steps become
executor runs (``<run>.<step>``; a canary slice first as ``<run>.<step>.canary``) with the full
write-ahead journal; query, wait, note, status and notify steps are recorded in the audit chain
as ``query.result``, ``step.started`` / ``step.finished`` and timeline records. A dry run reads
the platform (queries) but sends no change, and ends with the plan and its hash.

Record kinds of the playbook run itself (``run`` = the playbook run id):
``run.started`` (params ``playbook {name, source, sha256}``, ``inputs``, ``profile``,
``dry_run``, ``protection`` — the protected accounts, resolved once before the first step —
and the playbook's ``dsa`` reasons when it has them), ``step.started``,
``query.result`` (``listing``, ``filters``, ``count``, ``sample``), ``step.finished`` (outcome
``status``, ``summary``), ``run.finished`` (outcome ``status``, ``plan_hash``, ``summary``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ircli.audit.chain import canonical_json
from ircli.audit.records import Anchor, NewRecord
from ircli.errors import GuardRefused, InvalidInput, IrcliError
from ircli.executor import service
from ircli.executor.events import EventSink, ignore
from ircli.executor.protection import resolve_protection
from ircli.executor.service import Workspace
from ircli.platform.protected import ProtectedSet
from ircli.platform.sent import counting, http_requests
from ircli.playbook.execution import Resumed, StepOutcome, StepRunner, Stopped, bind, jsonable
from ircli.playbook.model import Playbook
from ircli.playbook.plans import (
    SavedPlan,
    applied_by,
    drift,
    required_approvals,
    valid_approvers,
)

__all__ = [
    "OVER",
    "PlaybookOutcome",
    "StepOutcome",
    "open_playbook",
    "plan_hash",
    "resolve_playbook",
    "resume_playbook",
    "run_playbook",
]


@dataclass
class PlaybookOutcome:
    """What a playbook run did (or, for a dry run, would do)."""

    run: str
    status: str
    """completed, failed, aborted, interrupted, paused, refused."""
    steps: list[StepOutcome]
    plan_hash: str
    head: Anchor | None
    reason: str | None = None
    dry_run: bool = False
    plan: list[dict[str, Any]] = field(default_factory=list)
    playbook_sha256: str = ""
    inputs: Mapping[str, Any] = field(default_factory=dict)
    invalid_input: bool = False
    """Failed on bad input met mid-run (an unusable target id from an input or a file)."""

    def saved_plan(self) -> dict[str, Any]:
        """The plan file ``--plan-out`` writes (read back by ``plans.read_plan``)."""
        return {
            "run": self.run,
            "plan_hash": self.plan_hash,
            "playbook_sha256": self.playbook_sha256,
            "inputs": dict(self.inputs),
            "actions": self.plan,
        }


def plan_hash(playbook_sha: str, inputs: Mapping[str, Any], plan: list[dict[str, Any]]) -> str:
    """SHA-256 of the canonical plan: playbook text hash, inputs and every action's targets."""
    document = {"playbook": playbook_sha, "inputs": jsonable(inputs), "actions": plan}
    return hashlib.sha256(canonical_json(jsonable(document)).encode()).hexdigest()


async def run_playbook(
    workspace: Workspace,
    playbook: Playbook,
    *,
    inputs: Mapping[str, Any],
    profile_ref: str | None,
    incident: str | None,
    dry_run: bool = False,
    plan: SavedPlan | None = None,
    max_drift: float = 0.1,
    on_event: EventSink = ignore,
    stop: asyncio.Event | None = None,
    trigger: Mapping[str, Any] | None = None,
    override_protected: str | None = None,
) -> PlaybookOutcome:
    """Run (or plan, with ``dry_run``) a playbook; see the module docstring.

    ``trigger``: who or what started the run when no person typed it (``ircli watch``:
    ``automated``, the watch, rule and incident), recorded in ``run.started``.

    With ``plan`` (a saved dry run) the run applies exactly those targets, after checking that
    the playbook is unchanged, the plan was not applied before, the platform has not drifted
    by more than ``max_drift`` per step, and the approvals the playbook requires are there.
    Protected accounts are held back from every action step unless ``override_protected``:
    a person's reason to lift them for this run (``--override-protected``), never a
    playbook's.
    """
    loaded = service.load_platform(workspace, profile_ref or playbook.profile)
    bound = bind(playbook, plan.inputs if plan is not None else inputs)
    if incident is not None:
        from ircli.incident.service import IncidentService

        IncidentService(workspace.store).get(incident)
    source = Path(playbook.source)
    sha = hashlib.sha256(source.read_bytes()).hexdigest() if source.is_file() else ""
    approvers: list[str] = []
    if not dry_run:
        try:
            approvers = await _preflight(
                workspace, playbook, bound, profile_ref, incident, sha, plan, max_drift
            )
        except GuardRefused as refused:
            workspace.store.append(
                NewRecord(
                    kind="run.refused",
                    incident=incident,
                    params={"playbook": playbook.name, "reason": refused.message},
                )
            )
            raise
    protected = await _protection(workspace, loaded, playbook.name, incident, override_protected)
    run = workspace.new_run_id(workspace.store.clock())
    runner = StepRunner(
        workspace,
        loaded,
        run=run,
        incident=incident,
        dry_run=dry_run,
        on_event=on_event,
        stop=stop or asyncio.Event(),
    )
    runner.approvers = approvers
    runner.protected = protected.with_reads(None)  # the reads are this run's, not its steps'
    if plan is not None:
        runner.planned = plan.targets()
    with workspace.store.leases.hold(run, workspace.store.clock()):
        runner.record(
            "run.started",
            params={
                "summary": f"playbook {playbook.name}" + (" (dry run)" if dry_run else ""),
                "playbook": {"name": playbook.name, "source": playbook.source, "sha256": sha},
                "inputs": jsonable(bound),
                "profile": loaded.ref,
                "profile_sha256": loaded.sha256,
                "dry_run": dry_run,
                "applies_plan": plan.plan_hash if plan is not None else None,
                "approvers": approvers,
                "protection": protected.record(),
                # Read back by ``ircli report -f dsa`` for the statements of this run's actions.
                **({"dsa": playbook.dsa.model_dump(exclude_none=True)} if playbook.dsa else {}),
                **(dict(trigger) if trigger else {}),
            },
        )
        return await _walk(runner, playbook, bound, sha)


async def resume_playbook(
    workspace: Workspace,
    run: str,
    *,
    allow_changed: bool = False,
    profile_changed: bool = False,
    on_event: EventSink = ignore,
    stop: asyncio.Event | None = None,
    override_protected: str | None = None,
) -> PlaybookOutcome:
    """Continue an interrupted or crashed playbook run where it stopped.

    Finished steps are not run again: their published results are read back from the store
    (``step.result``). The interrupted step goes on: an action step resumes its executor run
    exactly once with the targets it had resolved (``step.targets``), a wait counts the time
    since it started, and notes and status changes already written are not written again.
    Refused (exit 3, recorded) when the playbook file changed, unless ``allow_changed``; when
    the profile changed, unless ``profile_changed``; and for a run that applied an approved
    plan (its later steps would act on targets nobody approved).
    """
    from ircli.audit.leases import LeaseHeld
    from ircli.playbook.loader import load_playbook
    from ircli.playbook.plans import playbook_run_started

    store = workspace.store
    first = playbook_run_started(store, run)
    if first is None:
        raise InvalidInput(f"no playbook run {run!r} in the audit store.")
    name = str(first.params["playbook"]["name"])

    def refuse(reason: str) -> None:
        store.append(NewRecord(kind="run.refused", incident=first.incident, run=run,
                               params={"playbook": name, "reason": reason}))  # fmt: skip

    with contextlib.ExitStack() as leased:
        try:
            leased.enter_context(store.leases.hold(run, store.clock()))
        except LeaseHeld as held:
            refuse(f"resume refused: {run} is running in {held.holder}")
            raise
        history = _history(store, run)  # read once the lease is ours: nobody writes it now
        started = history.started
        source = Path(started.params["playbook"]["source"])
        if started.params.get("applies_plan"):
            refuse("resume refused: the run applied an approved plan")
            raise GuardRefused(
                f"{run} applied the approved plan {str(started.params['applies_plan'])[:12]}; "
                "resuming would act on targets nobody approved; nothing was sent.",
                hint="Plan again with --dry-run --plan-out, have it approved, and apply it.",
            )
        if not source.is_file():
            raise InvalidInput(f"the playbook of {run} is gone: {source} is not a file.")
        sha = hashlib.sha256(source.read_bytes()).hexdigest()
        if sha != history.playbook_sha256 and not allow_changed:
            refuse("resume refused: the playbook changed since the run started")
            raise GuardRefused(
                f"the playbook {source} changed since {run} started (SHA-256 "
                f"{history.playbook_sha256[:12]}… then, {sha[:12]}… now); nothing was sent.",
                hint="Restore it, or resume with --allow-changed to go on with it as it is now.",
            )
        profile_ref = str(started.params.get("profile") or "") or None
        loaded = service.load_platform(workspace, profile_ref)
        if loaded.sha256 != history.profile_sha256 and not profile_changed:
            refuse("resume refused: the profile changed since the run started")
            raise GuardRefused(
                f"the profile {loaded.ref!r} changed since {run} started (SHA-256 "
                f"{history.profile_sha256[:12]}… then, {loaded.sha256[:12]}… now); "
                "nothing was sent.",
                hint="Restore it, or resume with --profile-changed to use it as it is now.",
            )
        playbook = load_playbook(source, profile=loaded.profile)
        bound = bind(playbook, dict(started.params.get("inputs") or {}))
        try:  # resolved again: who is protected may have changed since
            protected = await resolve_protection(workspace, loaded, override=override_protected)
        except IrcliError as failed:
            refuse(f"resume refused: protected accounts unresolved: {failed.message}")
            raise
        runner = StepRunner(
            workspace,
            loaded,
            run=run,
            incident=started.incident,
            dry_run=False,
            on_event=on_event,
            stop=stop or asyncio.Event(),
        )
        runner.resumed = history.resumed
        runner.profile_changed = profile_changed
        runner.protected = protected.with_reads(None)
        runner.record(
            "run.resumed",
            params={
                "summary": f"playbook {name} resumed after "
                f"{len(history.resumed.results):,} finished steps",
                "playbook_sha256": sha,
                "profile_sha256": loaded.sha256,
                "protection": protected.record(),
                "steps_done": sorted(history.resumed.results),
            },
        )
        return await _walk(runner, playbook, bound, sha)


async def _walk(
    runner: StepRunner, playbook: Playbook, bound: Mapping[str, Any], sha: str
) -> PlaybookOutcome:
    """Run the steps, then record ``run.finished`` and sum the run up."""
    status, reason, invalid = "completed", None, False
    with counting() as sent:  # the playbook's own reads; each step run counts its own
        try:
            await runner.steps(playbook, bound)
        except Stopped as stopped:
            status, reason = stopped.status, stopped.reason
        except IrcliError as exc:
            status, reason, invalid = "failed", exc.message, isinstance(exc, InvalidInput)
    digest = plan_hash(sha, bound, runner.plan)
    runner.record(
        "run.finished",
        outcome={
            "status": status,
            "reason": reason,
            "plan_hash": digest,
            "http_requests": http_requests(sent),
            "summary": f"playbook {playbook.name} {status}" + (f": {reason}" if reason else ""),
        },
    )
    return PlaybookOutcome(
        runner.run,
        status,
        runner.outcomes,
        digest,
        runner.workspace.store.head(),
        reason,
        runner.dry_run,
        runner.plan,
        sha,
        jsonable(bound),
        invalid,
    )


@dataclass
class _History:
    started: Any
    playbook_sha256: str
    profile_sha256: str
    resumed: Resumed


OVER = ("completed", "aborted", "rolled_back", "refused")
"""Playbook run statuses that resume does not reopen (a failed check would fail again)."""


def _history(store: Any, run: str) -> _History:
    """A playbook run as its records tell it; refuses what cannot be resumed."""
    from ircli.audit.records import RecordFilter

    started = None
    status = "running"
    resumed = Resumed()
    sha = profile_sha = ""
    for record in store.records(RecordFilter(run=run)):
        step = record.step
        if record.kind == "run.started":
            if "playbook" not in record.params:
                raise InvalidInput(f"{run} is not a playbook run.")  # pragma: no cover
            started = record
            sha = str(record.params["playbook"].get("sha256") or "")
            profile_sha = str(record.params.get("profile_sha256") or "")
        elif record.kind == "run.resumed":
            status = "running"
            sha = str(record.params.get("playbook_sha256") or sha)
            profile_sha = str(record.params.get("profile_sha256") or profile_sha)
        elif record.kind == "run.finished":
            status = str(record.outcome.get("status"))
        elif step is None:
            continue
        elif record.kind == "step.result":
            resumed.results[step] = record.params.get("result") or {}
        elif record.kind == "step.finished":
            resumed.statuses[step] = str(record.outcome.get("status"))
        elif record.kind == "step.started":
            resumed.started[step] = record.ts
        elif record.kind == "step.targets":
            resumed.targets[step] = [str(i) for i in record.params.get("ids") or []]
        elif record.kind in ("timeline.note", "incident.status"):
            resumed.written.add((record.kind, step))
    if started is None:
        raise InvalidInput(f"no playbook run {run!r} in the audit store.")
    if started.params.get("dry_run"):
        raise InvalidInput(
            f"{run} is a dry run: it sent nothing, so there is nothing to resume.",
            hint="Apply its plan with 'ircli run PLAYBOOK --plan FILE', or run the playbook.",
        )
    if status in OVER:
        raise InvalidInput(
            f"the run {run} is {status}; there is nothing to resume."
            if status == "completed"
            else f"the run {run} ended {status}; resuming would meet the same check again.",
            hint=None if status == "completed" else "Run the playbook again if it should act.",
        )
    return _History(started, sha, profile_sha, resumed)


async def _preflight(
    workspace: Workspace,
    playbook: Playbook,
    bound: Mapping[str, Any],
    profile_ref: str | None,
    incident: str | None,
    sha: str,
    plan: SavedPlan | None,
    max_drift: float,
) -> list[str]:
    """Guards before a real run; returns the approvers. Raises ``GuardRefused`` (exit 3).

    Whether an approval gate applies can depend on a ``when`` that reads the platform, so a
    playbook that declares gates — or a saved plan, for its drift check — is re-planned first.
    """
    declared, _ttl = required_approvals(playbook)
    if plan is None and not declared:
        return []
    fresh = await run_playbook(
        workspace,
        playbook,
        inputs=bound,
        profile_ref=profile_ref,
        incident=incident,
        dry_run=True,
    )
    reached = {step.id for step in fresh.steps if step.status != "skipped"}
    needed, _ttl = required_approvals(playbook, reached)
    if plan is None:
        if needed:
            raise GuardRefused(
                f"playbook {playbook.name!r} needs {needed} approval(s) of its plan; "
                "nothing was sent.",
                hint="Plan it with --dry-run --plan-out FILE, have another operator run "
                "'ircli runs approve RUN', then apply it with --plan FILE.",
            )
        return []
    if plan.playbook_sha256 != sha:
        raise GuardRefused(f"the playbook changed since plan {plan.run}; nothing was sent.")
    applied = applied_by(workspace.store, plan.plan_hash)
    if applied is not None:
        raise GuardRefused(f"plan {plan.plan_hash[:12]} was already applied by {applied}.")
    for step, share in drift(plan.actions, fresh.plan).items():
        if share > max_drift:
            raise GuardRefused(
                f"the platform drifted since planning: step {step!r} would now act on "
                f"{share:.0%} different targets (limit {max_drift:.0%}); nothing was sent.",
                hint="Plan again with --dry-run.",
            )
    approvers = valid_approvers(
        workspace.store,
        plan.plan_hash,
        requester=workspace.store.operator,
        now=workspace.store.clock(),
    )
    if len(approvers) < needed:
        have = ", ".join(approvers) or "none"
        raise GuardRefused(
            f"plan {plan.plan_hash[:12]} of {plan.run} waits for {needed} approval(s) by "
            f"other operators (valid now: {have}); nothing was sent."
        )
    return approvers


async def _protection(
    workspace: Workspace,
    loaded: service.LoadedProfile,
    playbook: str,
    incident: str | None,
    override: str | None,
) -> ProtectedSet:
    """The run's protected accounts, resolved before its first step; a failure is recorded
    as ``run.refused`` and raised: no step may act unprotected."""
    try:
        return await resolve_protection(workspace, loaded, override=override)
    except IrcliError as failed:
        workspace.store.append(
            NewRecord(
                kind="run.refused",
                incident=incident,
                params={"playbook": playbook, "reason": "protected accounts unresolved: "
                        + failed.message},
            )
        )  # fmt: skip
        raise


def resolve_playbook(ref: str, cwd: Path) -> Path:
    """A playbook by path, or by the name of a shipped one (``live-flood-containment``)."""
    from ircli.playbook.catalog import resolve_file, shipped_playbooks_dir

    hint = "'ircli playbook list' shows the shipped playbooks."
    return resolve_file(ref, cwd, shipped_playbooks_dir(), "playbook", hint)


def open_playbook(workspace: Workspace, ref: str, profile_ref: str | None) -> Playbook:
    """Resolve and load a playbook, validated against its profile (``--profile`` wins)."""
    from ircli.playbook.loader import load_playbook

    path = resolve_playbook(ref, workspace.cwd)
    unchecked = load_playbook(path)
    loaded = service.load_platform(workspace, profile_ref or unchecked.profile)
    return load_playbook(path, profile=loaded.profile)
