"""Runs, action tallies and approvals, summarised from their audit records.

A target's *final* outcome within a set of records is its first successful one (``done`` or
``already_done``) if any, else its latest — the same rule resume uses — so a target retried
after a failure counts once. Attempts are the per-target attempts recorded in outcomes (one
HTTP request carrying a batch of 500 targets is 500 attempts); retries are the attempts beyond
the first. HTTP requests are what the runs recorded sending (``http_requests`` in
``run.finished``, ``run.refused`` and a ``--where`` selection), summed over a run's sessions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ircli.audit.outcomes import outcome_groups, replaces_final
from ircli.audit.records import AuditRecord
from ircli.platform.sent import run_requests
from ircli.report.model import ActionTally, Approval, RunSummary, StepSummary
from ircli.report.timeline import text_of

__all__ = [
    "OUTCOMES",
    "TallyBuilder",
    "parent_run",
    "summarise_approvals",
    "summarise_runs",
]

OUTCOMES = ("done", "already_done", "retryable", "failed", "protected")
"""A target's final outcomes; ``protected``: held back as a protected account, never sent."""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _str_or_none(value: Any) -> str | None:
    return None if value is None else text_of(value)


_ROLLBACK_RUN = re.compile(r".+\.rollback\.\d+(\..*)?")


def parent_run(run: str, started: Mapping[str, Any]) -> str | None:
    """The playbook run that ``run`` is a step run of, from its ``run.started`` params.

    A step run names its playbook run (``selection.run``); an ad-hoc or rollback run names
    none. Only records from before runs recorded their selection are read by id
    (``RUN.step``), and a rollback's (``RUN.rollback.N.action``) is no step of ``RUN``.
    """
    if "selection" in started:
        selection = started["selection"]
        parent = selection.get("run") if isinstance(selection, Mapping) else None
        return parent if isinstance(parent, str) else None
    if "." in run and not _ROLLBACK_RUN.fullmatch(run):
        return run.split(".", 1)[0]
    return None


@dataclass
class TallyBuilder:
    """Accumulates ``action.outcome`` results into per-action tallies."""

    final: dict[tuple[str, str], str] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)

    def add(self, record: AuditRecord, default_action: str | None = None) -> None:
        """Count the results of one ``action.outcome`` record."""
        action = text_of(record.params.get("action")) or default_action or "action"
        for targets, fields in outcome_groups(record.outcome):
            outcome = text_of(fields.get("outcome")) or "unknown"
            attempts = _int(fields.get("attempts"))
            self.attempts[action] = self.attempts.get(action, 0) + attempts * len(targets)
            self.retries[action] = self.retries.get(action, 0) + max(attempts - 1, 0) * len(targets)
            for target in map(text_of, targets):
                if replaces_final(self.final.get((action, target))):
                    self.final[(action, target)] = outcome

    def tallies(self) -> list[ActionTally]:
        """One tally per action, sorted by action name."""
        by_action: dict[str, dict[str, int]] = {}
        for (action, _target), outcome in self.final.items():
            counts = by_action.setdefault(action, dict.fromkeys(OUTCOMES, 0))
            counts[outcome] = counts.get(outcome, 0) + 1
        for action in self.attempts:
            by_action.setdefault(action, dict.fromkeys(OUTCOMES, 0))
        return [
            ActionTally(
                action=action,
                targets=sum(counts.values()),
                outcomes=counts,
                attempts=self.attempts.get(action, 0),
                retries=self.retries.get(action, 0),
            )
            for action, counts in sorted(by_action.items())
        ]


@dataclass
class _RunBuilder:
    run: str
    operator: str = ""
    started_at: str = ""
    finished_at: str | None = None
    status: str = "running (no finish record)"
    params: dict[str, Any] = field(default_factory=dict)
    step: str | None = None
    resumed: int = 0
    tally: TallyBuilder = field(default_factory=TallyBuilder)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    lifecycle: list[AuditRecord] = field(default_factory=list)
    """``run.started``, ``run.resumed`` and ``run.finished`` records: what ``run_requests``
    reads."""

    def add(self, record: AuditRecord) -> None:
        kind = record.kind
        if kind == "run.started" and not self.started_at:
            self.operator, self.started_at = record.operator, record.ts
            self.params, self.step = dict(record.params), record.step
            self.lifecycle.append(record)
        elif kind == "run.resumed":
            self.resumed += 1
            self.status = "running (no finish record)"
            self.finished_at = None
            self.lifecycle.append(record)
        elif kind == "run.finished":
            self.status = text_of(record.outcome.get("status")) or "finished"
            self.finished_at = record.ts
            self.lifecycle.append(record)
        elif kind == "action.outcome":
            self.tally.add(record, _str_or_none(self.params.get("action")))
        elif kind in ("step.started", "step.finished"):
            self._add_step(record)
        if not self.started_at:
            self.operator, self.started_at = record.operator, record.ts

    def _add_step(self, record: AuditRecord) -> None:
        step_id = text_of(record.params.get("step") or record.step) or "?"
        step = self.steps.setdefault(
            step_id, {"kind": None, "action": None, "started": None, "finished": None, "counts": {}}
        )
        if record.kind == "step.started":
            step["kind"] = _str_or_none(record.params.get("kind"))
            step["action"] = _str_or_none(record.params.get("action"))
            step["started"] = record.ts
        else:
            step["finished"] = record.ts
            step["counts"] = dict(record.outcome)

    def summary(self) -> RunSummary:
        p = self.params
        playbook = p.get("playbook")
        count = p.get("target_count")
        selection = p.get("selection")
        parameters = p.get("params")
        return RunSummary(
            run=self.run,
            operator=self.operator,
            started_at=self.started_at,
            finished_at=self.finished_at,
            status=self.status,
            action=_str_or_none(p.get("action")),
            step=_str_or_none(p.get("step") or self.step),
            profile=_str_or_none(p.get("profile")),
            profile_sha256=_str_or_none(p.get("profile_sha256")),
            playbook=(
                {
                    "name": text_of(playbook.get("name")),
                    # The runner records where the playbook was read from as ``source``.
                    "path": text_of(playbook.get("path") or playbook.get("source")),
                    "sha256": text_of(playbook.get("sha256")),
                }
                if isinstance(playbook, Mapping)
                else None
            ),
            plan_hash=_str_or_none(p.get("plan_hash")),
            targets=count if isinstance(count, int) else None,
            resumed=self.resumed,
            actions=self.tally.tallies(),
            steps=[
                StepSummary(
                    step=name,
                    kind=data["kind"],
                    action=data["action"],
                    started_at=data["started"],
                    finished_at=data["finished"],
                    counts=data["counts"],
                )
                for name, data in self.steps.items()
            ],
            reason=_str_or_none(p.get("reason")),
            selection=dict(selection) if isinstance(selection, Mapping) else None,
            parameters=dict(parameters) if isinstance(parameters, Mapping) else {},
            parent=parent_run(self.run, p),
            http_requests=run_requests(self.lifecycle),
        )


def summarise_runs(records: Iterable[AuditRecord]) -> list[RunSummary]:
    """Every run in ``records`` (seq order), in the order they started."""
    runs: dict[str, _RunBuilder] = {}
    for record in records:
        if record.run is None:
            continue
        builder = runs.get(record.run)
        if builder is None:
            builder = runs[record.run] = _RunBuilder(record.run)
        builder.add(record)
    return [builder.summary() for builder in runs.values()]


def summarise_approvals(records: Iterable[AuditRecord]) -> list[Approval]:
    """Every ``approval.granted`` record, oldest first."""
    return [
        Approval(
            at=text_of(r.params.get("at")) or r.ts,
            approver=text_of(r.params.get("approver")) or r.operator,
            recorded_by=r.operator,
            plan_hash=_str_or_none(r.params.get("plan_hash")),
            expires_at=_str_or_none(r.params.get("expires")),
            run=r.run,
            seq=r.seq,
        )
        for r in records
        if r.kind == "approval.granted"
    ]
