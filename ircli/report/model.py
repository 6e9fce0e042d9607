"""The report as data: everything every format shows, built once from the audit store.

Renderers (Markdown, HTML, JSON, CSV, Timesketch) read a ``Report`` and nothing else, so the
formats cannot disagree. ``Report.as_dict`` is the JSON document (``schema_version`` first,
keys in declaration order).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

__all__ = [
    "SCHEMA_VERSION",
    "ActionTally",
    "Approval",
    "ChainCheck",
    "Charts",
    "ContainmentPoint",
    "DrillCriterion",
    "DrillSummary",
    "IncidentFacts",
    "Metrics",
    "MinuteBucket",
    "Phase",
    "Report",
    "RunSummary",
    "StepSummary",
    "TargetOutcome",
    "TimelineItem",
]

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class IncidentFacts:
    """Who, what and when of the incident, as its records say."""

    id: str
    title: str
    severity: str
    commander: str | None
    status: str
    opened_by: str
    opened_at: str
    milestones: dict[str, str]


@dataclass(frozen=True)
class TimelineItem:
    """One line of the report's timeline (``at`` may be backfilled; ``recorded_at`` never is)."""

    at: str
    kind: str
    message: str
    operator: str
    seq: int
    recorded_at: str
    record_kind: str
    run: str | None = None
    step: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class ActionTally:
    """One action's targets by final outcome, and the attempts it took (a target sent in a
    batch of 500 is one attempt of that one HTTP request)."""

    action: str
    targets: int
    outcomes: dict[str, int]
    attempts: int
    retries: int


@dataclass(frozen=True)
class StepSummary:
    """A playbook step as its ``step.started`` / ``step.finished`` records describe it."""

    step: str
    kind: str | None
    action: str | None
    started_at: str | None
    finished_at: str | None
    counts: dict[str, Any]


@dataclass(frozen=True)
class RunSummary:
    """One run: what it was meant to do, under which plan, and how it ended."""

    run: str
    operator: str
    started_at: str
    finished_at: str | None
    status: str
    action: str | None
    step: str | None
    profile: str | None
    profile_sha256: str | None
    playbook: dict[str, str] | None
    plan_hash: str | None
    targets: int | None
    resumed: int
    actions: list[ActionTally]
    steps: list[StepSummary]
    reason: str | None
    """Why, in the operator's words (``--reason``; a step run: the playbook step)."""
    selection: dict[str, Any] | None
    """What chose the targets, as ``run.started`` recorded it: ``source`` ``--id``,
    ``--ids-file`` (``ids_file``, ``sha256``), ``--where`` (``listing``, ``filters``) or
    ``playbook`` (``run``, ``step`` and the step's ``query`` / ``from`` / ``ids_file``)."""
    parameters: dict[str, Any]
    """The action's parameters (a flag's values, a suspension's reason …)."""
    parent: str | None
    """The playbook run a step run belongs to."""
    http_requests: dict[str, int] | None
    """HTTP requests the run sent, by kind (``ircli.platform.sent``), summed over its
    sessions; None when no record of the run carries them (it never finished, or an older
    ircli wrote it)."""


@dataclass(frozen=True)
class Approval:
    """An ``approval.granted`` record."""

    at: str
    approver: str
    recorded_by: str
    plan_hash: str | None
    expires_at: str | None
    run: str | None
    seq: int


@dataclass(frozen=True)
class Metrics:
    """The numbers a post-mortem asks for first."""

    time_to_detect_seconds: float | None
    time_to_acknowledge_seconds: float | None
    time_to_mitigate_seconds: float | None
    time_to_resolve_seconds: float | None
    targets_affected: int
    target_attempts: int
    http_requests: dict[str, int]
    """Every HTTP request ircli recorded sending for the incident, by kind."""
    http_requests_unrecorded: list[str]
    """Runs whose requests no record holds (crashed, or written by an older ircli)."""
    failures: int
    retries: int
    peak_actions_per_minute: int
    actions: list[ActionTally]
    protected: int = 0
    """Targets held back as protected accounts (never sent)."""


@dataclass(frozen=True)
class Phase:
    """A shaded band on the charts: from one milestone to the next."""

    name: str
    start_at: str
    end_at: str


@dataclass(frozen=True)
class MinuteBucket:
    """Target actions recorded during one UTC minute, by action."""

    at: str
    """The UTC minute's start."""
    counts: dict[str, int]


@dataclass(frozen=True)
class ContainmentPoint:
    """Malicious live streams at ``at``: observed by a query or estimated after suspensions."""

    at: str
    live: int
    source: str
    """``truth`` (a drill's ground truth: malicious streams only), ``query`` (a
    ``query.result`` count), ``selected`` (a run's target count) or ``suspended`` (the last
    observation minus ``streams.suspend`` done outcomes since)."""


@dataclass(frozen=True)
class Charts:
    """The data behind the HTML charts (also part of the JSON report)."""

    window_start_at: str
    window_end_at: str
    phases: list[Phase]
    actions_per_minute: list[MinuteBucket]
    containment: list[ContainmentPoint]


@dataclass(frozen=True)
class DrillCriterion:
    """One pass criterion of a drill, as ``drill.scored`` recorded it."""

    label: str
    expression: str
    passed: bool
    values: dict[str, Any]
    error: str | None


@dataclass(frozen=True)
class DrillSummary:
    """A drill's verdict: the score, each criterion, and the collateral."""

    recorded_at: str
    run: str | None
    passed: bool
    criteria: list[DrillCriterion]
    collateral: dict[str, Any]
    """Honest streams and accounts touched (``collateral_*`` and the kill switch's cost)."""
    score: dict[str, Any]


@dataclass(frozen=True)
class ChainCheck:
    """The audit head when the report was built, and the chain verified up to it."""

    head_seq: int
    head_hash: str
    ok: bool
    valid: int
    total: int
    first_bad_seq: int | None
    reason: str | None
    summary: str
    """``N/N records valid``, or the failure in one sentence."""


@dataclass(frozen=True)
class TargetOutcome:
    """One target of one run and action, and how it ended (``ircli.report.targets``)."""

    run: str
    step: str | None
    action: str
    target: str
    outcome: str
    status: int | None
    attempts: int
    error: str | None
    first_recorded_at: str
    last_recorded_at: str
    operator: str


@dataclass(frozen=True)
class Report:
    """One incident's report."""

    generated_at: str
    incident: IncidentFacts
    http_requests: int
    """Every HTTP request ircli sent to the platform for the incident (all kinds)."""
    metrics: Metrics
    timeline: list[TimelineItem]
    runs: list[RunSummary]
    approvals: list[Approval]
    charts: Charts
    audit: ChainCheck
    drill: DrillSummary | None = None
    schema_version: int = field(default=SCHEMA_VERSION)
    targets: list[TargetOutcome] = field(default_factory=list)
    """One row per (run, action, target): ``targets.csv`` only, not in the JSON document."""

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``schema_version`` first, then fields in declaration order."""
        data = asdict(replace(self, targets=[]))
        version = data.pop("schema_version")
        del data["targets"]
        return {"schema_version": version, **data}
