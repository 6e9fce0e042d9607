"""Rollback: apply the declared inverse of what runs actually changed, optionally in stages.

Only targets whose outcome was ``done`` are reverted (``already_done`` ones were not changed by
the run). Each stage is an ordinary executor run (``<RUN>.rollback.<n>``, write-ahead audited
and resumable), and a check expression may stop the rollback between stages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ircli.audit.records import NewRecord
from ircli.errors import InvalidInput
from ircli.executor import service
from ircli.executor.events import EventSink, ignore
from ircli.executor.journal import RunState, load_run
from ircli.executor.protection import ROLLBACK_EXEMPT
from ircli.platform.model import Outcome

__all__ = [
    "RollbackOutcome",
    "RollbackPlan",
    "RollbackStage",
    "changed_targets",
    "parse_stages",
    "plan_rollback",
    "rollback",
]


@dataclass(frozen=True)
class RollbackStage:
    """One stage: the inverse action over a slice of what a run changed."""

    source_run: str
    action: str
    params: Mapping[str, Any]
    targets: tuple[str, ...]
    profile: str
    """The profile the source run used (name or path, as recorded)."""
    incident: str | None


@dataclass(frozen=True)
class RollbackPlan:
    """What a rollback of ``run`` would revert, newest step first."""

    run: str
    stages: tuple[RollbackStage, ...]
    profiles: _ProfileCache

    @property
    def changed(self) -> int:
        """How many targets would be reverted."""
        return sum(len(stage.targets) for stage in self.stages)


@dataclass
class RollbackOutcome:
    """What the rollback did."""

    run: str
    status: str
    """completed, stopped (a check failed), incomplete, interrupted, nothing."""
    reason: str | None = None
    reverted: int = 0
    failed: int = 0
    stages: list[dict[str, Any]] = field(default_factory=list)


def parse_stages(text: str | None) -> list[float]:
    """``1,10,50,100`` → cumulative fractions; the last stage is always 100%."""
    if not text:
        return [1.0]
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput(f"--stages {text!r}: expected percentages like 1,10,50,100.") from None
    if not values or any(not 0 < v <= 100 for v in values) or values != sorted(values):
        raise InvalidInput(f"--stages {text!r}: expected increasing percentages in (0, 100].")
    fractions = [v / 100 for v in values]
    if fractions[-1] != 1.0:
        fractions.append(1.0)
    return fractions


def changed_targets(state: RunState) -> list[str]:
    """Targets this run changed (outcome ``done``), in the run's order."""
    return [
        t
        for t in state.spec.targets
        if (result := state.results.get(t)) is not None and result.outcome is Outcome.DONE
    ]


def child_runs(workspace: service.Workspace, run: str) -> list[RunState]:
    """The executor runs of ``run``: itself if it is one, else its steps' runs (in order)."""
    ids = service.action_run_ids(workspace.store)  # oldest first; only ids, no run states
    if run in ids:
        return [load_run(workspace.store, run)]
    children = [r for r in ids if r.startswith(f"{run}.") and ".rollback." not in r]
    if not children:
        raise InvalidInput(f"no run {run!r} with actions in the audit store.")
    return [load_run(workspace.store, child) for child in children]


def plan_rollback(
    workspace: service.Workspace,
    run: str,
    undo: Mapping[str, tuple[str, Mapping[str, Any]]] | None = None,
) -> RollbackPlan:
    """What reverting ``run`` (an action run or a playbook run) takes; nothing is sent.

    ``undo`` maps a step id to an explicit (action, params) when the profile has no inverse
    (``flags.set`` back to its old value).
    """
    profiles = _ProfileCache(workspace)
    return RollbackPlan(run, tuple(_plans(workspace, run, undo or {}, profiles)), profiles)


async def rollback(
    workspace: service.Workspace,
    plan: RollbackPlan,
    *,
    stages: Sequence[float] = (1.0,),
    check: Callable[[Mapping[str, Any]], bool] | None = None,
    on_event: EventSink = ignore,
    stop: asyncio.Event | None = None,
) -> RollbackOutcome:
    """Carry out ``plan`` (from ``plan_rollback``), stage by stage.

    ``check`` sees ``attempted``, ``succeeded``, ``failed`` and ``failure_ratio`` so far and
    stops the rollback when it is false.
    """
    run, plans, profiles, total = plan.run, list(plan.stages), plan.profiles, plan.changed
    outcome = RollbackOutcome(run=f"{run}.rollback", status="nothing")
    workspace.store.append(
        NewRecord(
            kind="rollback.started",
            run=run,
            params={
                "summary": f"rollback of {run}",
                "stages": [f"{s:.1%}" for s in stages],
                "actions": [
                    {"action": s.action, "from": s.source_run, "targets": len(s.targets)}
                    for s in plans
                ],
            },
        )
    )
    if not plans:
        _finish(workspace, run, outcome)
        return outcome
    outcome.status = "completed"
    done_so_far = 0
    attempted = 0
    for number, fraction in enumerate(stages, start=1):
        goal = round(total * fraction)
        batch = _slice(plans, done_so_far, goal)
        done_so_far = goal
        for stage, targets in batch:
            loaded = profiles.get(stage.profile)
            action_plan = service.plan_action(
                workspace,
                loaded,
                action_name=stage.action,
                targets=targets,
                params=stage.params,
                max_targets=len(targets),
                incident=stage.incident,
                reason=f"rollback of {stage.source_run}",
                protected=ROLLBACK_EXEMPT,
            )
            result = await service.run_plan(
                workspace,
                action_plan,
                run_id=f"{run}.rollback.{number}.{stage.action}"[:64],
                on_event=on_event,
                stop=stop,
            )
            counts = result.counts
            succeeded = counts["done"] + counts["already_done"]
            outcome.reverted += succeeded
            outcome.failed += len(targets) - succeeded
            attempted += len(targets)
            outcome.stages.append(
                {
                    "stage": number,
                    "action": stage.action,
                    "targets": len(targets),
                    "succeeded": succeeded,
                }
            )
            if result.report.status == "interrupted":
                outcome.status, outcome.reason = "interrupted", "interrupted by the operator"
                _finish(workspace, run, outcome)
                return outcome
        values = {
            "attempted": attempted,
            "succeeded": outcome.reverted,
            "failed": outcome.failed,
            "failure_ratio": outcome.failed / attempted if attempted else 0.0,
        }
        if check is not None and fraction < 1.0 and not check(values):
            outcome.status = "stopped"
            outcome.reason = f"the check failed after stage {number} ({fraction:.0%})"
            break
    if outcome.status == "completed" and outcome.failed:
        outcome.status = "incomplete"
    _finish(workspace, run, outcome)
    return outcome


class _ProfileCache:
    """Profiles by reference, loaded once per rollback (every stage uses them again)."""

    def __init__(self, workspace: service.Workspace) -> None:
        self._workspace = workspace
        self._loaded: dict[str, service.LoadedProfile] = {}

    def get(self, ref: str) -> service.LoadedProfile:
        if ref not in self._loaded:
            self._loaded[ref] = service.load_platform(self._workspace, ref)
        return self._loaded[ref]


def _plans(
    workspace: service.Workspace,
    run: str,
    undo: Mapping[str, tuple[str, Mapping[str, Any]]],
    profiles: _ProfileCache,
) -> list[RollbackStage]:
    plans = []
    for state in reversed(child_runs(workspace, run)):
        targets = changed_targets(state)
        if not targets:
            continue
        step = state.spec.step
        if step in undo:
            action, params = undo[step]
        else:
            loaded = profiles.get(state.spec.profile)
            inverse = service.action_of(loaded.profile, state.spec.action).inverse
            if inverse is None:
                raise InvalidInput(
                    f"{state.spec.action} (run {state.spec.run}) declares no inverse in profile "
                    f"{state.spec.profile!r}; it cannot be rolled back automatically."
                )
            action, params = inverse, {}
        plans.append(
            RollbackStage(
                state.spec.run,
                action,
                params,
                tuple(targets),
                state.spec.profile,
                state.spec.incident,
            )
        )
    return plans


def _slice(
    plans: list[RollbackStage], start: int, end: int
) -> list[tuple[RollbackStage, list[str]]]:
    """The targets between positions ``start`` and ``end`` of all plans laid end to end."""
    out = []
    offset = 0
    for plan in plans:
        lo, hi = max(start - offset, 0), min(end - offset, len(plan.targets))
        if lo < hi:
            out.append((plan, list(plan.targets[lo:hi])))
        offset += len(plan.targets)
    return out


def _finish(workspace: service.Workspace, run: str, outcome: RollbackOutcome) -> None:
    workspace.store.append(
        NewRecord(
            kind="rollback.finished",
            run=run,
            outcome={
                "status": outcome.status,
                "reason": outcome.reason,
                "reverted": outcome.reverted,
                "failed": outcome.failed,
                "summary": f"rollback of {run} {outcome.status}: {outcome.reverted} reverted",
            },
        )
    )
