"""The step kinds of a playbook, each a YAML shape and the object the runner executes.

A step is a mapping with an ``id`` and exactly one kind key (``query``, ``action``, ``note``,
``status``, ``approval``, ``wait``, ``notify``, ``include``); the other keys it may have depend on
the kind. Part of the playbook model (``ircli.playbook.model`` re-exports everything here).
Each step records itself in the ``PlaybookDocument`` once read, so that later steps may refer
to its results.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from ircli.errors import InvalidInput
from ircli.executor.expiry import EXPIRING_ACTIONS, expiry_problem
from ircli.incident.lifecycle import MILESTONES, STATUSES
from ircli.incident.model import NOTE_KINDS
from ircli.platform.model import ActionSpec
from ircli.playbook.document import PlaybookDocument, StepInfo
from ircli.playbook.expr import Expression
from ircli.playbook.inputs import convert_input
from ircli.playbook.parts import (
    EXPRESSION,
    ON_ERROR,
    QUERY_VALUES,
    TEXT,
    ApprovalPolicy,
    Approvals,
    Canary,
    Controls,
    OnError,
    Params,
    Query,
    StepId,
    TargetsField,
    Undo,
    check_params,
    playbook_document,
    short,
    text_field,
)
from ircli.playbook.templates import Template
from ircli.shapes import (
    Integer,
    Located,
    Number,
    PositiveDuration,
    Shape,
    Text,
    Word,
    choice,
    named,
)
from ircli.wording import not_among

if TYPE_CHECKING:
    from ircli.playbook.model import Playbook

__all__ = [
    "KIND_KEYS",
    "MAX_WAIT",
    "ActionStep",
    "ApprovalStep",
    "IncludeStep",
    "NoteStep",
    "NotifyStep",
    "QueryStep",
    "StatusStep",
    "Step",
    "WaitStep",
]

MAX_WAIT = 24 * 3600.0


class Step(Located):
    """What every step has. ``kind`` is the YAML key that chose the subclass."""

    kind: ClassVar[str] = ""
    nullable: ClassVar[frozenset[str]] = frozenset({"when"})
    id: StepId
    description: Text = ""
    when: Annotated[Expression | None, EXPRESSION] = None
    """Skip the step (recorded as skipped) unless this holds; names: inputs, steps, run …"""

    @field_validator("when", mode="before")
    @classmethod
    def _when(cls, value: Any, info: ValidationInfo) -> Any:
        doc = playbook_document(info)
        return None if value is None else doc.expression(doc.here("when"), value)

    def cross_check(self, doc: PlaybookDocument) -> None:
        doc.earlier[self.id] = self.step_info()

    def step_info(self) -> StepInfo:
        """What later steps may know about this one."""
        return StepInfo(self.kind)


class QueryStep(Step):
    """List platform objects and keep those matching; publishes ``ids``, ``items``, ``count``."""

    kind: ClassVar[str] = "query"
    query: Query

    def step_info(self) -> StepInfo:
        return StepInfo("query", self.query.listing)


class ActionStep(Step):
    """A profile action over targets; publishes ``ids``, ``count``, ``succeeded``, ``failed``,
    ``failure_ratio``."""

    kind: ClassVar[str] = "action"
    nullable: ClassVar[frozenset[str]] = Step.nullable | {
        *("canary", "undo", "approvals", "batch", "concurrency", "rate", "retries"),
        *("timeout", "max_targets", "max_failure_ratio", "for"),
    }
    action: Word
    targets: TargetsField
    params: Params = Field(default_factory=dict)
    batch: Annotated[Integer, Field(ge=1)] | None = None
    concurrency: Annotated[Integer, Field(ge=1, le=1024)] | None = None
    rate: Annotated[Number, Field(gt=0)] | None = None
    retries: Annotated[Integer, Field(ge=0, le=100)] | None = None
    timeout: PositiveDuration | None = None
    max_targets: Annotated[Integer, Field(ge=1)] | None = None
    """Refuse (exit 3, nothing sent) when more targets than this resolve."""
    max_failure_ratio: Annotated[Number, Field(ge=0, le=1)] | None = None
    """Stop the step when failed / attempted exceeds this (after at least one batch)."""
    canary: Canary | None = None
    on_error: Annotated[OnError, choice("on_error", ON_ERROR)] = "abort"
    """On a failure beyond ``max_failure_ratio`` or a failed canary: stop the run, go on, or
    stop and apply the inverse of what this run did so far."""
    approvals: Approvals | None = None
    """A step-level approval gate (in addition to the playbook's)."""
    undo: Undo | None = None
    """Explicit revert for rollback; without it rollback uses the profile's ``inverse``."""
    expires_after: PositiveDuration | None = Field(default=None, alias="for")
    """``for: 2h``: set the targets back after this long (``flags.set``), to the step's
    ``undo`` params if given, else to what they were just before (``ircli runs due``)."""
    _spec: ActionSpec | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _needs_targets(cls, data: Any, info: ValidationInfo) -> Any:
        doc = playbook_document(info)
        doc.step_action = None  # set again once this step's action reads
        if isinstance(data, dict) and "targets" not in data:
            raise doc.fail(doc.here(), "an action step needs targets: ids, file, from or query.")
        return data

    @field_validator("action")
    @classmethod
    def _an_action(cls, name: str, info: ValidationInfo) -> str:
        doc = playbook_document(info)
        doc.action(doc.here("action"), name)
        doc.step_action = name
        return name

    @property
    def controls(self) -> Controls:
        """The execution overrides this step asks for."""
        return Controls(
            batch=self.batch,
            concurrency=self.concurrency,
            rate=self.rate,
            retries=self.retries,
            timeout=self.timeout,
            max_targets=self.max_targets,
            max_failure_ratio=self.max_failure_ratio,
        )

    def cross_check(self, doc: PlaybookDocument) -> None:
        spec = doc.action(doc.here("action"), self.action)
        doc.step_action = None
        self._spec = spec
        if spec is not None:
            listing = self.targets.listing(doc)
            if spec.target_kind and listing is not None and listing != spec.target_kind:
                source = self.targets.source
                where = doc.here("targets", source if source == "query" else "from")
                raise doc.fail(
                    where,
                    f"the action {spec.name!r} takes {spec.target_kind} ids, "
                    f"but these are {listing} ids.",
                )
            check_params(doc, doc.here("params"), self.params, spec)
            if self.batch is not None:
                if spec.batch is None:
                    raise doc.fail(
                        doc.here("batch"), f"the action {spec.name!r} has no batch endpoint."
                    )
                if self.batch > spec.batch.max_size:
                    raise doc.fail(
                        doc.here("batch"),
                        f"the action {spec.name!r} takes at most {spec.batch.max_size} ids "
                        "a batch.",
                    )
            if self.on_error == "rollback" and spec.inverse is None and self.undo is None:
                raise doc.fail(
                    doc.here("on_error"),
                    f"the action {spec.name!r} declares no inverse, so it cannot be rolled back.",
                    hint="Declare how to revert it with undo: {params: {...}}, or use abort.",
                )
        if self.expires_after is not None:
            self._check_expiry(doc)
        super().cross_check(doc)

    def _check_expiry(self, doc: PlaybookDocument) -> None:
        """``for:`` only on an action that can expire, a whole duration, and an ``undo``
        that sets back at least what the step sets."""
        where = doc.here("for")
        if self.action not in EXPIRING_ACTIONS:
            raise doc.fail(
                where,
                f"the action {self.action!r} cannot expire: for: is for "
                f"{', '.join(EXPIRING_ACTIONS)}, whose earlier state ircli reads and sets back.",
            )
        assert self.expires_after is not None
        problem = expiry_problem(self.expires_after)
        if problem is not None:
            raise doc.fail(where, problem)
        if self.undo is not None and self.undo.params:
            missing = [name for name in self.params if name not in self.undo.params]
            if missing:
                raise doc.fail(
                    doc.here("undo", "params"),
                    f"the undo of an expiring step must set {', '.join(missing)} too: the step "
                    "sets it, and the expiry is to set it back.",
                )

    def step_info(self) -> StepInfo:
        spec = self._spec
        return StepInfo("action", spec.target_kind if spec is not None else None)


class NoteBody(Shape):
    """A timeline note: ``note: text`` or ``note: {message, kind}``."""

    message: Annotated[str | Template, TEXT]
    kind: Annotated[
        Word, choice("note kind", NOTE_KINDS), WithJsonSchema({"enum": list(NOTE_KINDS)})
    ] = "note"

    @field_validator("message", mode="before")
    @classmethod
    def _message(cls, value: Any, info: ValidationInfo) -> Any:
        return text_field(value, info, required=True)


class NoteStep(Step):
    """Add a note to the incident timeline."""

    kind: ClassVar[str] = "note"
    note: Annotated[
        NoteBody, BeforeValidator(short("message"), json_schema_input_type=str | NoteBody)
    ]

    @property
    def message(self) -> str | Template:
        """The note's text."""
        return self.note.message

    @property
    def note_kind(self) -> str:
        """One of ``ircli.incident.NOTE_KINDS``."""
        return self.note.kind


class StatusChange(Shape):
    """``status: mitigated`` or ``status: {status, milestone, message}``."""

    status: (
        Annotated[
            Word, choice("incident status", STATUSES), WithJsonSchema({"enum": list(STATUSES)})
        ]
        | None
    ) = None
    milestone: (
        Annotated[Word, choice("milestone", MILESTONES), WithJsonSchema({"enum": list(MILESTONES)})]
        | None
    ) = None
    message: Annotated[str | Template, TEXT] = ""

    @field_validator("message", mode="before")
    @classmethod
    def _message(cls, value: Any, info: ValidationInfo) -> Any:
        return text_field(value, info)

    def cross_check(self, doc: PlaybookDocument) -> None:
        if self.status is None and self.milestone is None:
            raise doc.fail(doc.here(), "give a status, a milestone, or both.")


class StatusStep(Step):
    """Move the incident to a status and/or record a milestone (at least one is set)."""

    kind: ClassVar[str] = "status"
    change: Annotated[
        StatusChange,
        BeforeValidator(
            short("status", written_as="status"),
            json_schema_input_type=Literal.__getitem__(STATUSES) | StatusChange,
        ),
    ] = Field(alias="status")

    @property
    def status(self) -> str | None:
        """The status to move to."""
        return self.change.status

    @property
    def milestone(self) -> str | None:
        """The milestone to record."""
        return self.change.milestone

    @property
    def message(self) -> str | Template:
        """A note that goes with the change."""
        return self.change.message


class ApprovalStep(Step):
    """Wait for approvals (bound to the plan hash) before the next step."""

    kind: ClassVar[str] = "approval"
    approval: Approvals

    @property
    def approvals(self) -> ApprovalPolicy:
        """How many approvals, valid for how long."""
        return self.approval

    @property
    def message(self) -> str | Template:
        """Shown to the approvers."""
        return self.approval.message


_WAIT_NAMES = (*QUERY_VALUES, "elapsed")


class WaitBody(Shape):
    """Re-run ``query`` every ``every`` seconds until ``until`` holds."""

    nullable: ClassVar[frozenset[str]] = frozenset({"fail_if"})

    query: Query
    until: Annotated[Expression, EXPRESSION]
    fail_if: Annotated[Expression | None, EXPRESSION] = None
    every: PositiveDuration = 5.0
    timeout: PositiveDuration
    on_fail: Annotated[OnError, choice("on_fail", ON_ERROR)] = "abort"

    @field_validator("until", "fail_if", mode="before")
    @classmethod
    def _condition(cls, value: Any, info: ValidationInfo) -> Any:
        doc = playbook_document(info)
        if value is None and info.field_name == "fail_if":
            return None
        return doc.expression(doc.here(info.field_name or ""), value, values=_WAIT_NAMES)

    def cross_check(self, doc: PlaybookDocument) -> None:
        if self.timeout > MAX_WAIT:
            raise doc.fail(doc.here("timeout"), "a wait may last at most 24 hours.")
        if self.every > self.timeout:
            raise doc.fail(doc.here("every"), "the polling interval is longer than the timeout.")


class WaitStep(Step):
    """Re-run ``query`` every ``every`` seconds until ``until`` holds.

    Each poll: ``fail_if`` holds → failed; else ``until`` holds → done; else after ``timeout``
    → failed. A failed wait does ``on_fail`` (stop the run, go on, or stop and roll the run
    back). Both expressions see ``count``, ``ids``, ``items`` of the query result and
    ``elapsed`` seconds. Publishes the last result plus ``elapsed``.
    """

    kind: ClassVar[str] = "wait"
    wait: WaitBody

    @property
    def query(self) -> Query:
        """The query polled."""
        return self.wait.query

    @property
    def until(self) -> Expression:
        """Done when this holds."""
        return self.wait.until

    @property
    def fail_if(self) -> Expression | None:
        """Failed when this holds."""
        return self.wait.fail_if

    @property
    def every(self) -> float:
        """Seconds between polls."""
        return self.wait.every

    @property
    def timeout(self) -> float:
        """Seconds before the wait fails."""
        return self.wait.timeout

    @property
    def on_fail(self) -> OnError:
        """What a failed wait does."""
        return self.wait.on_fail

    def step_info(self) -> StepInfo:
        return StepInfo("wait", self.wait.query.listing)


class NotifyBody(Shape):
    """POST ``{"text": message, ...}`` to a configured webhook."""

    webhook: Annotated[Word, named(r"[a-z0-9][a-z0-9_-]*", "a webhook name")]
    message: Annotated[str | Template, TEXT]

    @field_validator("webhook")
    @classmethod
    def _configured(cls, name: str, info: ValidationInfo) -> str:
        doc = playbook_document(info)
        if doc.webhooks is not None and name not in doc.webhooks:
            subject = f"no webhook named {name!r} is configured"
            raise doc.fail(
                doc.here("webhook"), not_among(subject, name, sorted(doc.webhooks), "configured")
            )
        return name

    @field_validator("message", mode="before")
    @classmethod
    def _message(cls, value: Any, info: ValidationInfo) -> Any:
        return text_field(value, info, required=True)


class NotifyStep(Step):
    """POST ``{"text": message, ...}`` to a webhook named in the configuration."""

    kind: ClassVar[str] = "notify"
    notify: NotifyBody

    @property
    def webhook(self) -> str:
        """The configured webhook's name."""
        return self.notify.webhook

    @property
    def message(self) -> str | Template:
        """The text sent."""
        return self.notify.message


class IncludeBody(Shape):
    """``include: other.yaml`` or ``include: {file, inputs}``."""

    file: Word
    inputs: Mapping[str, Any] = Field(default_factory=dict)


class IncludeStep(Step):
    """Run another playbook (validated with this one) with the given inputs."""

    kind: ClassVar[str] = "include"
    include: Annotated[
        IncludeBody, BeforeValidator(short("file"), json_schema_input_type=str | IncludeBody)
    ]
    _file: Path = PrivateAttr(default=Path())
    _playbook: Any = PrivateAttr(default=None)
    _inputs: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def file(self) -> Path:
        """The included file, resolved."""
        return self._file

    @property
    def playbook(self) -> Playbook:
        """The included playbook, validated."""
        return self._playbook  # type: ignore[no-any-return]

    @property
    def inputs(self) -> dict[str, Any]:
        """The inputs given to it (typed, or templates to render at run time)."""
        return self._inputs

    def cross_check(self, doc: PlaybookDocument) -> None:
        where = doc.here("include")
        if doc.include is None:
            raise TypeError("includes are read with ircli.playbook.loader")
        self._file, playbook = doc.include(doc, doc.here("include", "file"), self.include.file)
        self._playbook = playbook
        for name, value in self.include.inputs.items():
            at = doc.here("include", "inputs", name)
            spec = playbook.inputs.get(name)
            if spec is None:
                raise doc.fail(at, playbook.no_input(name), at_key=True)
            given = doc.value(at, value)
            if not isinstance(given, Template):
                try:
                    given = convert_input(spec, given, str(doc.loaded.where(at)))
                except InvalidInput as exc:
                    raise doc.refusal(exc, at) from None
            self._inputs[name] = given
        for name, spec in playbook.inputs.items():
            if spec.required and name not in self._inputs:
                raise doc.fail(
                    where, f"the included playbook {playbook.name!r} needs the input {name!r}."
                )
        super().cross_check(doc)


STEP_KINDS: dict[str, type[Step]] = {
    step.kind: step
    for step in (
        QueryStep,
        ActionStep,
        NoteStep,
        StatusStep,
        ApprovalStep,
        WaitStep,
        NotifyStep,
        IncludeStep,
    )
}
KIND_KEYS = tuple(STEP_KINDS)
"""Each step kind, by the YAML key that chooses it."""
