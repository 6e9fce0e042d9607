"""Saved plans, drift, and approvals bound to a plan hash.

A plan is what a dry run resolved: for each action step, the action, parameters and sorted
target ids, under a hash (``ircli.playbook.runner.plan_hash``). Approvals are audit records
(``approval.granted``) naming that hash, the approver and an expiry; an operator cannot approve
their own plan, and a plan is applied at most once.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ircli.audit.chain import member_text
from ircli.audit.records import AuditRecord, NewRecord, RecordFilter
from ircli.audit.store import AuditStore
from ircli.clock import format_utc
from ircli.errors import GuardRefused, InvalidInput
from ircli.playbook.model import ActionStep, ApprovalStep, Playbook

__all__ = [
    "DEFAULT_APPROVAL_TTL",
    "SavedPlan",
    "applied_by",
    "approve",
    "drift",
    "playbook_run_started",
    "read_plan",
    "required_approvals",
    "valid_approvers",
]

DEFAULT_APPROVAL_TTL = 3600.0


@dataclass(frozen=True)
class SavedPlan:
    """A dry run's plan as written by ``--plan-out``."""

    run: str
    plan_hash: str
    playbook_sha256: str
    inputs: Mapping[str, Any]
    actions: Sequence[Mapping[str, Any]]

    def targets(self) -> dict[str, list[str]]:
        """Planned target ids by step id."""
        return {str(a["step"]): [str(t) for t in a["targets"]] for a in self.actions}


def read_plan(path: Path) -> SavedPlan:
    """Load a plan file; anything malformed is ``InvalidInput``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        plan = SavedPlan(
            run=str(data["run"]),
            plan_hash=str(data["plan_hash"]),
            playbook_sha256=str(data["playbook_sha256"]),
            inputs=dict(data["inputs"]),
            actions=[dict(a) for a in data["actions"]],
        )
        for action in plan.actions:
            if not isinstance(action.get("targets"), list) or "step" not in action:
                raise TypeError
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the plan ({exc.strerror}).") from None
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(
            f"{path}: not a plan written by 'ircli run --dry-run --plan-out'."
        ) from None
    return plan


def drift(
    planned: Sequence[Mapping[str, Any]], fresh: Sequence[Mapping[str, Any]]
) -> dict[str, float]:
    """Per step: the share of planned targets that changed (symmetric difference / planned)."""
    now = {str(a["step"]): set(map(str, a["targets"])) for a in fresh}
    result = {}
    for action in planned:
        step = str(action["step"])
        before = set(map(str, action["targets"]))
        after = now.get(step, set())
        result[step] = len(before ^ after) / max(1, len(before))
    return result


def applied_by(store: AuditStore, plan_hash: str) -> str | None:
    """The run that applied ``plan_hash`` already, if any."""
    applying = member_text("applies_plan", plan_hash)
    for record in store.records(RecordFilter(kinds=("run.started",), params_contain=(applying,))):
        if record.params.get("applies_plan") == plan_hash:
            return record.run
    return None


def required_approvals(
    playbook: Playbook, reached: Collection[str] | None = None
) -> tuple[int, float]:
    """How many approvals the playbook needs (the strictest gate) and their lifetime.

    ``reached``: the step ids a plan did not skip; gates of skipped steps do not count.
    """
    policies = [playbook.approvals] if playbook.approvals else []
    for step in playbook.steps:
        if reached is not None and step.id not in reached:
            continue
        gate = step.approvals if isinstance(step, ApprovalStep | ActionStep) else None
        if gate is not None:
            policies.append(gate)
    if not policies:
        return 0, DEFAULT_APPROVAL_TTL
    return max(p.count for p in policies), min(p.expires for p in policies)


def playbook_run_started(store: AuditStore, run: str) -> AuditRecord | None:
    """The ``run.started`` record of playbook run ``run``, if it is one."""
    for record in store.records(RecordFilter(run=run, kinds=("run.started",))):
        if "playbook" in record.params:
            return record
    return None


def _plan_run(store: AuditStore, run: str) -> tuple[AuditRecord, AuditRecord]:
    started = finished = None
    for record in store.records(RecordFilter(run=run, kinds=("run.started", "run.finished"))):
        if record.kind == "run.started":
            started = record
        else:
            finished = record
    if started is None or "playbook" not in started.params:
        raise InvalidInput(f"no playbook run {run!r} in the audit store.")
    if not started.params.get("dry_run") or finished is None:
        raise InvalidInput(f"{run} is not a finished dry run; approvals are given to plans.")
    return started, finished


def approve(store: AuditStore, run: str, *, now: datetime, ttl: float) -> AuditRecord:
    """Approve the plan of dry run ``run`` as the store's operator; refuses self-approval."""
    started, finished = _plan_run(store, run)
    if started.operator == store.operator:
        raise GuardRefused(
            f"{store.operator} planned {run} and cannot approve it; another operator must."
        )
    plan_hash = str(finished.outcome.get("plan_hash"))
    expires = now + timedelta(seconds=ttl)
    return store.append(
        NewRecord(
            kind="approval.granted",
            incident=started.incident,
            run=run,
            params={
                "plan_hash": plan_hash,
                "approver": store.operator,
                "requester": started.operator,
                "expires": format_utc(expires),
                "summary": f"{store.operator} approved plan {plan_hash[:12]} of {run}",
            },
        )
    )


def valid_approvers(
    store: AuditStore, plan_hash: str, *, requester: str, now: datetime
) -> list[str]:
    """Distinct operators with an unexpired approval of ``plan_hash``, the requester excluded."""
    stamp = format_utc(now)
    approvers: list[str] = []
    for record in store.records(RecordFilter(kinds=("approval.granted",))):
        params = record.params
        if params.get("plan_hash") != plan_hash or str(params.get("expires")) <= stamp:
            continue
        if record.operator != requester and record.operator not in approvers:
            approvers.append(record.operator)
    return approvers
