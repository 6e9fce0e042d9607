"""Playbooks, declared once: the YAML shape, the JSON Schema and the model the runner executes.

``ircli.playbook.loader`` reads a YAML file into a ``Playbook``; every dynamic part is already
checked: expressions are compiled ``Expression`` objects, strings with ``${…}`` are ``Template``
objects, and both resolve through a ``Context`` at run time (``ircli.playbook.context``). Every
step carries its YAML ``location`` and field ``path`` so run-time messages can point at it.
Nothing here performs I/O. The format is documented in docs/playbooks.md.

::

    Playbook
    ├── inputs: {name: Input}
    ├── approvals: ApprovalPolicy | None          playbook-wide gate before the first step
    ├── dsa: Reasons | None                       why, for DSA statements of reasons (dsarules)
    └── steps: (Step, ...)                        one of (ircli.playbook.steps):
        QueryStep      query: Query                              → steps.ID.ids/items/count
        ActionStep     action, targets: Targets, params, controls, canary, on_error, undo, for
        NoteStep       message, note_kind
        StatusStep     status | milestone
        ApprovalStep   approvals: ApprovalPolicy, message
        WaitStep       query: Query, until: Expression, every, timeout, on_timeout
        NotifyStep     webhook, message
        IncludeStep    playbook: Playbook, inputs
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ircli.dsarules import Reasons
from ircli.platform.catalog import looks_like_path
from ircli.playbook.document import PlaybookDocument
from ircli.playbook.inputs import INPUT_TYPES, Input
from ircli.playbook.parts import (
    ApprovalPolicy,
    Approvals,
    Canary,
    Controls,
    OnError,
    Query,
    Targets,
    Undo,
    Value,
    playbook_document,
)
from ircli.playbook.steps import (
    KIND_KEYS,
    STEP_KINDS,
    ActionStep,
    ApprovalStep,
    IncludeStep,
    NoteStep,
    NotifyStep,
    QueryStep,
    StatusStep,
    Step,
    WaitStep,
)
from ircli.shapes import (
    Integer,
    Located,
    Refusal,
    Text,
    Word,
    format_version,
    json_schema,
    named,
    names_from_keys,
)
from ircli.wording import did_you_mean, not_among

__all__ = [
    "FORMAT_VERSION",
    "INPUT_TYPES",
    "KIND_KEYS",
    "MAX_STEPS",
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
    "playbook_schema",
]

FORMAT_VERSION = 1
MAX_STEPS = 200
MAX_INPUTS = 64
SCHEMA_ID = "https://ircli.invalid/schemas/playbook-1.json"
_COMMON = ("id", "description", "when")
_INPUT_NAME = r"[a-z][a-z0-9_]*"


def _kind_tag(value: Any) -> str | None:
    """The tag of a step's model: its kind key (checked by ``Playbook._read_steps`` first)."""
    if isinstance(value, dict):
        for key in value:
            if key in STEP_KINDS:
                return f"<{key}>"
    return None


AnyStep = Annotated[
    Annotated[QueryStep, Tag("<query>")]
    | Annotated[ActionStep, Tag("<action>")]
    | Annotated[NoteStep, Tag("<note>")]
    | Annotated[StatusStep, Tag("<status>")]
    | Annotated[ApprovalStep, Tag("<approval>")]
    | Annotated[WaitStep, Tag("<wait>")]
    | Annotated[NotifyStep, Tag("<notify>")]
    | Annotated[IncludeStep, Tag("<include>")],
    Discriminator(_kind_tag),
]
"""One step; the kind key chooses the model (tags are never keys, so errors name the YAML)."""


InputName = Annotated[str, named(_INPUT_NAME, "an input name (lower-case letters, digits and '_')")]


def _named_inputs(value: Any, info: ValidationInfo) -> Any:
    """``{name: {...} | null}`` → ``{name: {name: name, ...}}``."""
    doc = playbook_document(info)
    if not isinstance(value, dict):
        return value
    if len(value) > MAX_INPUTS:
        raise doc.fail(doc.here("inputs"), f"a playbook may declare at most {MAX_INPUTS} inputs.")
    return _inputs_by_key(value, info)


_inputs_by_key = names_from_keys("inputs", null_is_empty=True)


class Playbook(Located):
    """A validated playbook."""

    derived: ClassVar[frozenset[str]] = frozenset({"source", "include_depth"})
    nullable: ClassVar[frozenset[str]] = frozenset({"profile", "max_targets", "approvals"})
    playbook: Annotated[Literal[1], format_version("playbook")] = Field(
        description="The playbook format version."
    )
    name: Annotated[
        Word,
        named(r"[a-z0-9][a-z0-9_-]*", "a playbook name (lower-case letters, digits, '-' and '_')"),
    ]
    description: Text = ""
    profile: Word | None = None
    """The default profile: a name, or a path from the playbook's folder (``--profile``
    overrides it)."""
    inputs: Annotated[
        Mapping[InputName, Input],
        BeforeValidator(_named_inputs, json_schema_input_type=dict[InputName, Input | None]),
    ] = Field(default_factory=dict, json_schema_extra={"additionalProperties": False})
    max_targets: Annotated[Integer, Field(ge=1)] | None = None
    """Cap on the targets of all action steps together (checked in the plan)."""
    approvals: Approvals | None = None
    """A gate before the first step."""
    dsa: Reasons | None = None
    """Why its actions were taken, for EU DSA statements of reasons: decision_ground,
    category, decision_facts … (``ircli report -f dsa``; docs/dsa.md)."""
    steps: Annotated[tuple[AnyStep, ...], Field(min_length=1, max_length=MAX_STEPS)]
    source: str = Field("", exclude=True)
    """The file it was loaded from (as given)."""
    include_depth: int = Field(0, exclude=True)
    """0 for the top playbook, 1 for one it includes …"""

    @model_validator(mode="before")
    @classmethod
    def _read_steps(cls, data: Any, info: ValidationInfo) -> Any:
        """Step ids and kinds first: later steps are named in earlier steps' messages."""
        doc = playbook_document(info)
        inputs = data.get("inputs") if isinstance(data, dict) else None
        if isinstance(inputs, dict):  # as written, until they are validated (before the steps)
            doc.inputs = {
                str(name): str(spec.get("type", "string")) if isinstance(spec, dict) else "string"
                for name, spec in inputs.items()
            }
        steps = data.get("steps") if isinstance(data, dict) else None
        if not isinstance(steps, list):
            return data
        # What this scan finds waits in doc.pending: an earlier field's problem comes first.
        if not steps:
            doc.pending.append(doc.fail(("steps",), "the playbook has no steps."))
        if len(steps) > MAX_STEPS:
            doc.pending.append(
                doc.fail(("steps",), f"a playbook may have at most {MAX_STEPS} steps.")
            )
        ids: dict[str, int] = {}
        for index, raw in enumerate(steps[:MAX_STEPS]):
            path = ("steps", index)
            if not isinstance(raw, dict):
                doc.pending.append(doc.wrong_type(path, raw, "a mapping"))
                continue
            try:
                _one_kind(doc, path, raw)
            except Refusal as refusal:
                doc.pending.append(refusal)
            step_id = raw.get("id")
            if isinstance(step_id, str) and step_id in ids:
                doc.pending.append(
                    doc.fail(
                        (*path, "id"),
                        f"the step id {step_id!r} is already used by step {ids[step_id]}.",
                    )
                )
            if isinstance(step_id, str):
                ids[step_id] = index
        doc.all_steps = frozenset(ids)
        return data

    @field_validator("profile")
    @classmethod
    def _profile_beside_the_playbook(cls, value: str | None, info: ValidationInfo) -> str | None:
        """``profile: ./x.yaml`` is found from the playbook's folder, so the two can live side
        by side in a repository; a bare name is searched for among the profiles."""
        if value is None or not looks_like_path(value):
            return value
        path = Path(value).expanduser()
        return value if path.is_absolute() else str(playbook_document(info).base / path)

    @field_validator("inputs")
    @classmethod
    def _remember_inputs(cls, value: Mapping[str, Input], info: ValidationInfo) -> Any:
        playbook_document(info).inputs = {name: spec.type for name, spec in value.items()}
        return value

    def no_input(self, name: str) -> str:
        """Why this playbook takes no input ``name`` (one sentence)."""
        subject = f"the playbook {self.name!r} has no input {name!r}"
        return not_among(subject, name, self.inputs, "its inputs")

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


def _one_kind(doc: PlaybookDocument, path: tuple[str | int, ...], data: dict[str, Any]) -> None:
    kinds = [key for key in data if key in STEP_KINDS]
    if not kinds:
        for key in data:
            if key not in _COMMON:
                close = did_you_mean(key, KIND_KEYS)
                raise doc.fail(
                    (*path, key),
                    f"unknown key{close}; a step needs one of: {', '.join(KIND_KEYS)}.",
                    at_key=True,
                )
        raise doc.fail(path, f"the step has no kind; give one of: {', '.join(KIND_KEYS)}.")
    if len(kinds) > 1:
        raise doc.fail(
            (*path, kinds[1]),
            f"a step has exactly one kind, this one has {kinds[0]!r} and {kinds[1]!r}.",
            at_key=True,
        )


def playbook_schema() -> Any:
    """The JSON Schema (draft 2020-12) of the playbook format, generated from ``Playbook``."""
    return json_schema(
        Playbook,
        schema_id=SCHEMA_ID,
        title="ircli playbook",
        description="An ircli incident-response playbook (format 1); see docs/playbooks.md.",
    )
