"""The pieces steps are made of: approvals, queries, targets, canaries, undo, parameters.

Part of the playbook model (``ircli.playbook.model`` re-exports everything here). Each class is
both a YAML shape and the frozen object the runner reads; dynamic fields are compiled by their
validators into ``Expression`` and ``Template`` objects, checked against the names in scope
where they stand (``ircli.playbook.document``). Nothing here performs I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from ircli.platform.model import ActionSpec
from ircli.playbook.document import PlaybookDocument
from ircli.playbook.expr import Expression
from ircli.playbook.templates import Template
from ircli.shapes import (
    SCALAR_TYPES,
    Duration,
    Integer,
    Located,
    Number,
    PositiveDuration,
    Word,
    choice,
    document,
    named,
    query_text,
)
from ircli.yamlfile import FieldPath

__all__ = [
    "EXPRESSION",
    "TEXT",
    "ApprovalPolicy",
    "Canary",
    "Controls",
    "OnError",
    "Query",
    "Targets",
    "Undo",
    "Value",
    "check_params",
    "playbook_document",
    "short",
    "text_field",
]

OnError = Literal["abort", "continue", "rollback"]
ON_ERROR = ("abort", "continue", "rollback")
MAX_LIMIT = 10_000_000
MAX_APPROVALS = 10
MAX_INLINE_IDS = 1000
CANARY_VALUES = ("attempted", "succeeded", "failed", "failure_ratio")
QUERY_VALUES = ("count", "ids", "items")

EXPRESSION = WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 2000})
"""How an expression field looks in the schema (compiled to an ``Expression`` when read)."""
TEXT = WithJsonSchema({"type": "string"})
"""How a text with ``${…}`` references looks in the schema (a ``Template`` when it has any)."""

Value = Any
"""A parameter value: a YAML scalar/list/mapping, or a ``Template`` to render at run time
(``ircli.playbook.templates.render_value`` renders nested ones)."""


def playbook_document(info: ValidationInfo) -> PlaybookDocument:
    """The playbook being read (playbook shapes are only ever read from a document)."""
    doc = document(info, PlaybookDocument)
    if doc is None:
        raise TypeError("playbook shapes are read with ircli.playbook.loader")
    return doc  # type: ignore[no-any-return]


def short(key: str, *, written_as: str | None = None) -> Any:
    """A field that may also be written as just its ``key`` value (``note: text``);
    ``written_as`` is its YAML key when that is not the field's name."""

    def expand(value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, dict) or value is None:
            return value
        doc = playbook_document(info)
        path = doc.path_of(value) or doc.here(written_as or info.field_name or "")
        return doc.short_form(value, key, path)

    return expand


def text_field(value: Any, info: ValidationInfo, *, required: bool = False) -> Any:
    """Compile a text field (``${…}`` references) at its place: a ``Template``, or the
    string itself when it has no references."""
    doc = playbook_document(info)
    path = doc.here(info.field_name or "")
    if not isinstance(value, str):
        raise doc.wrong_type(path, value, "a string")
    if required and not value.strip():
        raise doc.fail(path, "must not be empty.")
    return doc.template(path, value)


# -- approvals -------------------------------------------------------------------------------


class ApprovalPolicy(Located):
    """N approvals by operators other than the requester, bound to the plan hash."""

    count: Annotated[Integer, Field(ge=1, le=MAX_APPROVALS)] = 1
    expires: PositiveDuration = 1800.0
    """Seconds an approval stays valid (default 30 minutes)."""
    message: Annotated[str | Template, TEXT] = ""
    """Shown to the approvers (an approval step's message)."""

    @field_validator("message", mode="before")
    @classmethod
    def _message(cls, value: Any, info: ValidationInfo) -> Any:
        return text_field(value, info)


Approvals = Annotated[
    ApprovalPolicy,
    BeforeValidator(short("count"), json_schema_input_type=int | ApprovalPolicy),
]
"""``approvals: 2`` or ``approvals: {count: 2, expires: 1h}``."""


# -- queries and targets ----------------------------------------------------------------------


class Query(Located):
    """A listing read with server-side filters, then an expression filter over the items."""

    nullable: ClassVar[frozenset[str]] = frozenset({"where", "limit"})
    listing: Word
    filters: Annotated[
        Mapping[str, str | Template],
        WithJsonSchema(
            {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
        ),
    ] = Field(default_factory=dict)
    """Query parameters passed to the listing (rendered to strings at run time)."""
    where: Annotated[Expression | None, EXPRESSION] = None
    """Kept items are those for which it holds; item fields are bare names."""
    limit: Annotated[Integer, Field(ge=1, le=MAX_LIMIT)] | None = None
    """Stop after this many *matching* items (``None``: all)."""

    @field_validator("listing")
    @classmethod
    def _a_listing(cls, name: str, info: ValidationInfo) -> str:
        doc = playbook_document(info)
        profile = doc.profile
        if profile is not None and name not in profile.listings:
            raise doc.fail(doc.here("listing"), profile.no_listing(name))
        return name

    @field_validator("filters", mode="before")
    @classmethod
    def _filters(cls, value: Any, info: ValidationInfo) -> Any:
        doc = playbook_document(info)
        if not isinstance(value, dict):
            return value
        listing = info.data.get("listing")
        profile = doc.profile
        spec = profile.listings.get(listing) if profile is not None and listing else None
        filters: dict[str, str | Template] = {}
        for name, raw in value.items():
            where = doc.here("filters", name)
            if spec is not None and name not in spec.filters:
                raise doc.fail(where, spec.no_filter(name), at_key=True)
            text = query_text(raw)
            if text is None:
                raise doc.fail(where, "a filter value must be a string, number or boolean.")
            filters[name] = doc.template(where, text) if isinstance(raw, str) else text
        return filters

    @field_validator("where", mode="before")
    @classmethod
    def _where(cls, value: Any, info: ValidationInfo) -> Any:
        doc = playbook_document(info)
        if value is None:
            return None
        # With the listing broken, its fields are unknown: any name may stand for one.
        listing = info.data.get("listing") or "?"
        return doc.expression(doc.here("where"), value, listing=listing)


class Targets(Located):
    """Where an action's target ids come from: exactly one source."""

    nullable: ClassVar[frozenset[str]] = frozenset({"column"})
    ids: Annotated[
        tuple[str | Template, ...],
        WithJsonSchema(
            {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "maxItems": MAX_INLINE_IDS,
            }
        ),
    ] = ()
    """Inline ids (a template may render to a list, which is spread)."""
    file: Annotated[str | Template | None, TEXT] = None
    """A path (may use references), relative to the playbook; read at run time with
    ``ircli.executor.targets.read_ids_file(base / path, column)``."""
    column: Word | None = None
    reference: Annotated[
        Template | None,
        WithJsonSchema({"type": "string", "description": "steps.ID.ids or inputs.NAME"}),
    ] = Field(None, alias="from")
    """``steps.ID.ids`` or a list/string input (a one-reference template)."""
    query: Query | None = None
    """An inline query whose ids are the targets."""
    _base: Path | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, data: Any, info: ValidationInfo) -> Any:
        doc = playbook_document(info)
        if not isinstance(data, dict):
            return data
        sources = [key for key in ("ids", "file", "from", "query") if key in data]
        if len(sources) != 1:
            raise doc.fail(doc.here(), "give exactly one target source: ids, file, from or query.")
        if "column" in data and sources[0] != "file":
            raise doc.fail(doc.here("column"), "column applies to a file source only.", at_key=True)
        return data

    @field_validator("ids", mode="before")
    @classmethod
    def _ids(cls, value: Any, info: ValidationInfo) -> Any:
        doc = playbook_document(info)
        where = doc.here("ids")
        if not isinstance(value, list) or not value:
            raise doc.fail(where, "expected a non-empty list of ids.")
        if len(value) > MAX_INLINE_IDS:
            raise doc.fail(
                where,
                f"more than {MAX_INLINE_IDS} inline ids.",
                hint="Put large target lists in an ids file (targets: {file: ids.txt}).",
            )
        ids = []
        for index, item in enumerate(value):
            path = doc.here("ids", index)
            ids.append(doc.template(path, doc.word(path, item)))
        return tuple(ids)

    @field_validator("file", mode="before")
    @classmethod
    def _file(cls, value: Any, info: ValidationInfo) -> Any:
        return text_field(value, info, required=True)

    @field_validator("reference", mode="before")
    @classmethod
    def _from(cls, value: Any, info: ValidationInfo) -> Any:
        doc = playbook_document(info)
        path = doc.here("from")
        text = doc.word(path, value).strip()
        if text.startswith("${") and text.endswith("}"):
            text = text[2:-1].strip()
        parts = text.split(".")
        if parts[0] == "steps" and len(parts) == 3 and parts[2] != "ids":
            raise doc.fail(path, f"targets come from a step's ids: write steps.{parts[1]}.ids.")
        template = doc.template(path, "${" + text + "}")
        if not isinstance(template, Template) or not (
            (parts[0] == "steps" and len(parts) == 3) or (parts[0] == "inputs" and len(parts) == 2)
        ):
            raise doc.fail(path, "write from: steps.ID.ids or from: inputs.NAME.")
        if parts[0] == "steps":
            earlier = doc.earlier[parts[1]]
            if earlier.kind not in ("query", "action", "wait"):
                raise doc.fail(path, f"the {earlier.kind} step {parts[1]!r} produces no ids.")
        else:
            kind = doc.inputs.get(parts[1])
            if kind not in ("list", "string"):
                raise doc.fail(
                    path, f"the input {parts[1]!r} is a {kind}; targets need a list or string."
                )
        return template

    def cross_check(self, doc: PlaybookDocument) -> None:
        self._base = doc.base

    @property
    def source(self) -> Literal["ids", "file", "from", "query"]:
        """Which of the four sources gives the ids."""
        if self.ids:
            return "ids"
        if self.file is not None:
            return "file"
        return "query" if self.query is not None else "from"

    @property
    def base(self) -> Path | None:
        """The playbook's directory (for a file source)."""
        return self._base if self.source == "file" else None

    def described(self) -> dict[str, Any]:
        """The source as the playbook writes it (references unrendered), for the step run's
        ``run.started``: what chose its targets."""
        if self.query is not None:
            query = self.query
            return {
                "query": {
                    "listing": query.listing,
                    "filters": {key: _as_written(v) for key, v in query.filters.items()},
                    "where": query.where.text if query.where is not None else None,
                    "limit": query.limit,
                }
            }
        if self.file is not None:
            return {"ids_file": _as_written(self.file), "column": self.column}
        if self.reference is not None:
            return {"from": self.reference.text}
        return {"inline_ids": len(self.ids)}

    def listing(self, doc: PlaybookDocument) -> str | None:
        """The kind of ids the source gives, when known (for matching the action)."""
        if self.query is not None:
            return self.query.listing
        if self.reference is not None and self.reference.references[0].root == "steps":
            step = self.reference.references[0].parts[1]
            return doc.earlier[step].listing
        return None


def _targets(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, list):
        return short("ids")(value, info)
    if isinstance(value, str):
        return short("from")(value, info)
    return value


TargetsField = Annotated[
    Targets,
    BeforeValidator(
        _targets,
        json_schema_input_type=Annotated[list[str], Field(min_length=1, max_length=MAX_INLINE_IDS)]
        | str
        | Targets,
    ),
]
"""``targets: [a, b]``, ``targets: steps.find.ids`` or ``targets: {ids|file|from|query: …}``."""


# -- canary, undo, controls ---------------------------------------------------------------------


class Canary(Located):
    """Run a first slice of the targets, check, then continue / pause / abort."""

    nullable: ClassVar[frozenset[str]] = frozenset({"query"})
    first: Annotated[Integer, Field(ge=1)] | None = None
    percent: Annotated[Number, Field(gt=0, le=100)] | None = None
    """Exactly one of ``first`` (targets) and ``percent`` (0 < p ≤ 100, at least 1 target)."""
    query: Query | None = None
    """Platform state the check looks at, read after the canary slice and ``settle``."""
    check: Annotated[Expression, EXPRESSION]
    """Names: ``attempted``, ``succeeded``, ``failed``, ``failure_ratio`` of the canary slice,
    plus ``count``, ``ids``, ``items`` of ``query`` when one is given."""
    settle: Annotated[Duration, Field(ge=0)] = 0.0
    """Seconds to wait after the slice before reading ``query`` and checking."""
    on_fail: Annotated[Literal["pause", "abort"], choice("on_fail", ("pause", "abort"))] = "abort"

    @model_validator(mode="before")
    @classmethod
    def _first_or_percent(cls, data: Any, info: ValidationInfo) -> Any:
        doc = playbook_document(info)
        if isinstance(data, dict) and ("first" in data) == ("percent" in data):
            raise doc.fail(doc.here(), "give exactly one of first (targets) and percent.")
        return data

    @field_validator("check", mode="before")
    @classmethod
    def _check(cls, value: Any, info: ValidationInfo) -> Any:
        doc = playbook_document(info)
        # A query written but broken is reported for itself, not as unknown names here.
        written = info.data.get("query") is not None or doc.written().get("query") is not None
        names = CANARY_VALUES + (QUERY_VALUES if written else ())
        return doc.expression(doc.here("check"), value, values=names)

    def size(self, total: int) -> int:
        """How many of ``total`` targets the canary slice takes."""
        if total <= 0:
            return 0
        if self.first is not None:
            return min(self.first, total)
        share = int(total * (self.percent or 0.0) / 100.0)
        return max(1, min(total, share))


def check_params(
    doc: PlaybookDocument, path: FieldPath, params: Mapping[str, Any], spec: ActionSpec | None
) -> None:
    """The parameters given to an action against what the profile declares."""
    if spec is None:
        return
    specs = dict(spec.param_specs)
    for name in params:
        if name not in specs:
            raise doc.fail((*path, name), spec.no_param(name), at_key=True)
    for name, param in specs.items():
        if param.required and name not in params:
            raise doc.fail(path, f"the action {spec.name!r} needs the parameter {name!r}.")
        if name in params and not isinstance(params[name], Template):
            _check_param(doc, (*path, name), spec.name, param.type, param.choices, params[name])


def _check_param(
    doc: PlaybookDocument,
    path: FieldPath,
    action: str,
    kind: str,
    choices: tuple[Any, ...],
    value: Any,
) -> None:
    expected, holds = SCALAR_TYPES[kind]
    if not holds(value):
        _, hint = doc.wrong_type_words(path, value, expected)
        raise doc.fail(
            path, f"the parameter of {action!r} must be {expected}, got {value!r}.", hint=hint
        )
    if choices and value not in choices:
        listed = ", ".join(str(x) for x in choices)
        raise doc.fail(path, f"must be one of {listed}, got {value!r}.")


def params_field(value: Any, info: ValidationInfo) -> Any:
    """Compile a ``params`` mapping: strings with ``${…}`` become templates."""
    doc = playbook_document(info)
    if not isinstance(value, dict):
        return value
    return {name: doc.value(doc.here("params", name), raw) for name, raw in value.items()}


Params = Annotated[
    Mapping[str, Any],
    BeforeValidator(params_field, json_schema_input_type=dict[str, Any]),
]


class Undo(Located):
    """How to revert an action step when the profile's inverse is missing or needs parameters
    (``flags.set`` back to ``rollout_percent: 0``); applied to the same targets on rollback."""

    action: Word = ""
    """The action that reverts (default: the step's own action, filled in when read)."""
    params: Params = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _own_action_by_default(cls, data: Any, info: ValidationInfo) -> Any:
        doc = playbook_document(info)
        if isinstance(data, dict) and "action" not in data and doc.step_action is not None:
            return doc.stand_in({**data, "action": doc.step_action}, doc.here())
        return data

    def cross_check(self, doc: PlaybookDocument) -> None:
        if not self.action:
            return  # the step's own action did not read: that is the error to report
        here = doc.here()
        spec = doc.action(doc.here("action"), self.action)
        step_spec = doc.action(here, doc.step_action) if doc.step_action else None
        if spec is not None and step_spec is not None and spec.target_kind != step_spec.target_kind:
            raise doc.fail(
                doc.here("action"),
                f"the undo action {self.action!r} takes {spec.target_kind} ids, "
                f"but {step_spec.name!r} takes {step_spec.target_kind} ids.",
            )
        check_params(doc, doc.here("params"), self.params, spec)


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


StepId = Annotated[
    Word,
    named(
        r"[a-z][a-z0-9_]*",
        "a step id (lower-case letters, digits and '_', starting with a letter)",
    ),
]


def _as_written(value: str | Template) -> str:
    return value.text if isinstance(value, Template) else value
