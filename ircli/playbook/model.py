"""Playbooks as data: the frozen, validated model the runner executes.

``ircli.playbook.loader`` turns a YAML file into a ``Playbook``; every dynamic part is already
checked: expressions are compiled ``Expression`` objects, strings with ``${…}`` are ``Template``
objects, and both resolve through a ``Context`` at run time (``ircli.playbook.context``). Every
step carries its YAML ``location`` and field ``path`` so run-time messages can point at it.
Nothing here performs I/O. The format is documented in docs/playbooks.md.

::

    Playbook
    ├── inputs: {name: Input}
    ├── approvals: ApprovalPolicy | None          playbook-wide gate before the first step
    └── steps: (Step, ...)                        one of:
        QueryStep      query: Query                              → steps.ID.ids/items/count
        ActionStep     action, targets: Targets, params, controls: Controls, canary, on_error
        NoteStep       message, note_kind
        StatusStep     status | milestone
        ApprovalStep   approvals: ApprovalPolicy, message
        WaitStep       query: Query, until: Expression, every, timeout, on_timeout
        NotifyStep     webhook, message
        IncludeStep    playbook: Playbook, inputs
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from ircli.playbook.expr import Expression
from ircli.playbook.templates import Template
from ircli.yamlfile import Location

__all__ = [
    "FORMAT_VERSION",
    "INPUT_TYPES",
    "ActionStep",
    "ApprovalPolicy",
    "ApprovalStep",
    "Canary",
    "Controls",
    "IncludeStep",
    "Input",
    "NoteStep",
    "NotifyStep",
    "OnError",
    "Playbook",
    "Query",
    "QueryStep",
    "StatusStep",
    "Step",
    "Targets",
    "Undo",
    "Value",
    "WaitStep",
]

FORMAT_VERSION = 1
INPUT_TYPES = ("string", "integer", "number", "boolean", "list", "duration")
InputType = Literal["string", "integer", "number", "boolean", "list", "duration"]
OnError = Literal["abort", "continue", "rollback"]

Value = Any
"""A parameter value: a YAML scalar/list/mapping, or a ``Template`` to render at run time
(``ircli.playbook.templates.render_value`` renders nested ones)."""


@dataclass(frozen=True)
class Input:
    """A typed input of the playbook (``--input name=value``)."""

    name: str
    type: InputType
    location: Location
    description: str = ""
    required: bool = False
    """True when there is no default: the run refuses to start without it."""
    default: Any = None
    """Already converted: ``duration`` → seconds (float), ``list`` → tuple of strings."""
    choices: tuple[Any, ...] = ()


@dataclass(frozen=True)
class ApprovalPolicy:
    """N approvals by operators other than the requester, bound to the plan hash."""

    count: int
    expires: float
    """Seconds an approval stays valid."""
    location: Location


@dataclass(frozen=True)
class Query:
    """A listing read with server-side filters, then an expression filter over the items."""

    listing: str
    location: Location
    path: str
    filters: Mapping[str, str | Template] = field(default_factory=dict)
    """Query parameters passed to the listing (rendered to strings at run time)."""
    where: Expression | None = None
    """Kept items are those for which it holds; item fields are bare names."""
    limit: int | None = None
    """Stop after this many *matching* items (``None``: all)."""


@dataclass(frozen=True)
class Targets:
    """Where an action's target ids come from: exactly one source."""

    source: Literal["ids", "file", "from", "query"]
    location: Location
    ids: tuple[str | Template, ...] = ()
    """``source == "ids"``: inline ids (a template may render to a list, which is spread)."""
    file: str | Template | None = None
    """``source == "file"``: a path (may use references), relative to ``base``; read at run time
    with ``ircli.executor.targets.read_ids_file(base / path, column)``."""
    base: Path | None = None
    """The playbook's directory (``source == "file"``)."""
    column: str | None = None
    reference: Template | None = None
    """``source == "from"``: ``steps.ID.ids`` or a list/string input (a one-reference template)."""
    query: Query | None = None
    """``source == "query"``: an inline query whose ids are the targets."""


@dataclass(frozen=True)
class Controls:
    """Per-step execution overrides (``None``: the profile's limit)."""

    batch: int | None = None
    concurrency: int | None = None
    rate: float | None = None
    retries: int | None = None
    timeout: float | None = None
    max_targets: int | None = None
    """Refuse (exit 3, nothing sent) when more targets than this resolve."""
    max_failure_ratio: float | None = None
    """Stop the step when failed / attempted exceeds this (after at least one batch)."""

    def overrides(self) -> dict[str, Any]:
        """The ``ircli.executor.engine.Tuning`` overrides these controls ask for."""
        return {
            "batch_size": self.batch,
            "concurrency": self.concurrency,
            "rate": self.rate,
            "retries": self.retries,
        }


@dataclass(frozen=True)
class Undo:
    """How to revert an action step when the profile's inverse is missing or needs parameters
    (``flags.set`` back to ``rollout_percent: 0``); applied to the same targets on rollback."""

    action: str
    location: Location
    params: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class Canary:
    """Run a first slice of the targets, check, then continue / pause / abort."""

    check: Expression
    """Names: ``attempted``, ``succeeded``, ``failed``, ``failure_ratio`` of the canary slice,
    plus ``count``, ``ids``, ``items`` of ``query`` when one is given."""
    location: Location
    first: int | None = None
    percent: float | None = None
    """Exactly one of ``first`` (targets) and ``percent`` (0 < p ≤ 100, at least 1 target)."""
    query: Query | None = None
    """Platform state the check looks at, read after the canary slice and ``settle``."""
    settle: float = 0.0
    """Seconds to wait after the slice before reading ``query`` and checking."""
    on_fail: Literal["pause", "abort"] = "abort"

    def size(self, total: int) -> int:
        """How many of ``total`` targets the canary slice takes."""
        if total <= 0:
            return 0
        if self.first is not None:
            return min(self.first, total)
        share = int(total * (self.percent or 0.0) / 100.0)
        return max(1, min(total, share))


@dataclass(frozen=True, kw_only=True)
class Step:
    """What every step has. ``kind`` is the YAML key that chose the subclass."""

    kind: ClassVar[str] = ""
    id: str
    location: Location
    path: str
    """``steps -> 2`` — the prefix of this step's messages."""
    description: str = ""
    when: Expression | None = None
    """Skip the step (recorded as skipped) unless this holds; names: inputs, steps, run …"""

    def expressions(self) -> Iterator[Expression]:
        """Every expression of the step (for tools that list references)."""
        if self.when is not None:
            yield self.when


@dataclass(frozen=True, kw_only=True)
class QueryStep(Step):
    """List platform objects and keep those matching; publishes ``ids``, ``items``, ``count``."""

    kind: ClassVar[str] = "query"
    query: Query


@dataclass(frozen=True, kw_only=True)
class ActionStep(Step):
    """A profile action over targets; publishes ``ids``, ``count``, ``succeeded``, ``failed``,
    ``failure_ratio``."""

    kind: ClassVar[str] = "action"
    action: str
    targets: Targets
    params: Mapping[str, Value] = field(default_factory=dict)
    controls: Controls = field(default_factory=Controls)
    canary: Canary | None = None
    on_error: OnError = "abort"
    """On a failure beyond ``max_failure_ratio`` or a failed canary: stop the run, go on, or
    stop and apply the inverse of what this run did so far."""
    approvals: ApprovalPolicy | None = None
    """A step-level approval gate (in addition to the playbook's)."""
    undo: Undo | None = None
    """Explicit revert for rollback; without it rollback uses the profile's ``inverse``."""


@dataclass(frozen=True, kw_only=True)
class NoteStep(Step):
    """Add a note to the incident timeline."""

    kind: ClassVar[str] = "note"
    message: str | Template
    note_kind: str = "note"
    """One of ``ircli.incident.NOTE_KINDS``."""


@dataclass(frozen=True, kw_only=True)
class StatusStep(Step):
    """Move the incident to a status and/or record a milestone (at least one is set)."""

    kind: ClassVar[str] = "status"
    status: str | None = None
    milestone: str | None = None
    message: str | Template = ""


@dataclass(frozen=True, kw_only=True)
class ApprovalStep(Step):
    """Wait for approvals (bound to the plan hash) before the next step."""

    kind: ClassVar[str] = "approval"
    approvals: ApprovalPolicy
    message: str | Template = ""


@dataclass(frozen=True, kw_only=True)
class WaitStep(Step):
    """Re-run ``query`` every ``every`` seconds until ``until`` holds.

    Each poll: ``fail_if`` holds → failed; else ``until`` holds → done; else after ``timeout``
    → failed. A failed wait does ``on_fail`` (stop the run, go on, or stop and roll the run
    back). Both expressions see ``count``, ``ids``, ``items`` of the query result and
    ``elapsed`` seconds. Publishes the last result plus ``elapsed``.
    """

    kind: ClassVar[str] = "wait"
    query: Query
    until: Expression
    every: float
    timeout: float
    fail_if: Expression | None = None
    on_fail: OnError = "abort"


@dataclass(frozen=True, kw_only=True)
class NotifyStep(Step):
    """POST ``{"text": message, ...}`` to a webhook named in the configuration."""

    kind: ClassVar[str] = "notify"
    webhook: str
    message: str | Template


@dataclass(frozen=True, kw_only=True)
class IncludeStep(Step):
    """Run another playbook (validated with this one) with the given inputs."""

    kind: ClassVar[str] = "include"
    file: Path
    playbook: Playbook
    inputs: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class Playbook:
    """A validated playbook."""

    name: str
    source: str
    """The file it was loaded from (as given)."""
    location: Location
    steps: tuple[Step, ...]
    description: str = ""
    profile: str | None = None
    """The default profile name or path (``--profile`` overrides it)."""
    inputs: Mapping[str, Input] = field(default_factory=dict)
    max_targets: int | None = None
    """Cap on the targets of all action steps together (checked in the plan)."""
    approvals: ApprovalPolicy | None = None
    include_depth: int = 0
    """0 for the top playbook, 1 for one it includes …"""

    def step(self, step_id: str) -> Step:
        """The step with ``step_id`` (``KeyError`` when there is none)."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    @property
    def actions(self) -> tuple[ActionStep, ...]:
        """The action steps, in order."""
        return tuple(step for step in self.steps if isinstance(step, ActionStep))
