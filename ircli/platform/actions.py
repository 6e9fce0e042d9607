"""Actions in a profile: request templates, how responses are classified, parameters.

Part of the profile model (``ircli.platform.model`` re-exports everything here): each class is
both a YAML shape and the frozen object the executor reads, and the ``cross_check`` methods
hold what a shape alone cannot say (placeholders against their scope, targets against the
profile's listings). Nothing here performs I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from ircli.dsarules import DecisionMapping
from ircli.platform.outcome import Outcome
from ircli.platform.templates import Scope, check_values, placeholders
from ircli.shapes import (
    Boolean,
    Document,
    Integer,
    Shape,
    Text,
    Word,
    check_scalar,
    choice,
    document,
    named,
    names_from_keys,
)
from ircli.wording import did_you_mean, not_among
from ircli.yamlfile import FieldPath, LoadedYaml, Location

if TYPE_CHECKING:
    from ircli.platform.model import ListingSpec

__all__ = [
    "DEFAULT_RULES",
    "METHODS",
    "PARAM_TYPES",
    "REFERENCE_HINT",
    "ActionSpec",
    "BatchSpec",
    "CheckSpec",
    "Outcome",
    "ParamSpec",
    "ProfileDocument",
    "RequestTemplate",
    "StatusRule",
    "check_names",
    "check_query",
]

REFERENCE_HINT = (
    # Worded without "secret:" — redaction would take what follows for a secret value.
    "Name where the secret lives instead, as the value of `secret`: {env: NAME}, "
    "{keyring: SERVICE/USER} or {file: PATH}."
)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
Header = Annotated[Word, named(r"[A-Za-z0-9][A-Za-z0-9-]*", "a header name")]
MANAGED_HEADERS = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "connection", "authorization"}
)
"""Headers ircli sets itself (from the body, the connection and ``auth``)."""
PARAM_TYPES = ("string", "integer", "number", "boolean")
IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"


_PLATFORM_OUTCOMES = tuple(o.value for o in Outcome if o is not Outcome.PROTECTED)
OutcomeWord = Annotated[
    Outcome,
    choice("outcome", _PLATFORM_OUTCOMES),
    WithJsonSchema({"enum": list(_PLATFORM_OUTCOMES), "type": "string"}),
]
"""How a platform's answer ended; never ``protected``, which is ircli's own word."""
Scalar = str | int | float | bool | None


@dataclass
class ProfileDocument(Document):
    """What a profile's validators need while it is read."""

    env: Mapping[str, str] | None = None
    """Resolve ``{env: NAME}`` values from this; ``None`` leaves ``${NAME:-default}`` texts."""
    url_default: str | None = None
    url_read: bool = False
    """Whether ``base_url`` was read (``url_default`` is then known)."""
    variables: tuple[str, ...] | None = None
    """The declared variables, once read (``None``: their checks wait)."""
    listings: Mapping[str, ListingSpec] | None = None
    """The listings, once read without error (``None``: checks against them wait)."""
    secret_variables: Mapping[str, Any] = field(default_factory=dict)
    """Variables named like secrets, as the references written (for ``Profile.secrets``)."""

    @classmethod
    def of(cls, loaded: LoadedYaml, env: Mapping[str, str] | None) -> ProfileDocument:
        """The document for a loaded profile."""
        return cls(loaded, "profile", REFERENCE_HINT, env=env)


# -- requests ----------------------------------------------------------------------------------


def _method(value: Any) -> Any:
    if isinstance(value, str) and value.strip():
        method = value.upper()
        if method not in METHODS:
            raise ValueError(
                f"unknown HTTP method {value!r}{did_you_mean(method, METHODS)}; "
                f"expected one of {', '.join(METHODS)}."
            )
        return method
    return value


def _url_path(value: Any) -> Any:
    if isinstance(value, str) and value.strip():
        if not value.startswith("/"):
            raise ValueError("the path must start with '/'.")
        if "?" in value or "#" in value:
            raise ValueError("the path may not hold a query or fragment; use query: instead.")
        if "{targets}" in value:
            raise ValueError("{targets} is a list and cannot go into the path.")
    return value


UrlPath = Annotated[Word, BeforeValidator(_url_path)]


class RequestTemplate(Shape):
    """One HTTP request, with placeholders."""

    nullable: ClassVar[frozenset[str]] = frozenset({"json"})
    method: Annotated[Word, BeforeValidator(_method)] = Field(
        json_schema_extra={"enum": [*METHODS, *(m.lower() for m in METHODS)]}
    )
    path: UrlPath
    query: Mapping[str, Any] = Field(default_factory=dict)
    """Scalars or lists of scalars."""
    body: Any = Field(None, alias="json")
    """A JSON body (any YAML value)."""
    form: Mapping[str, Any] | None = None
    """A form body, instead of ``json``."""
    headers: Mapping[Header, Text] = Field(default_factory=dict)
    """Extra headers (an API version, a tenant); values may hold placeholders such as
    ``{var.NAME}`` or ``{param.NAME}``, checked for control characters before anything is
    sent."""

    _headers_at: Location | None = PrivateAttr(default=None)

    @property
    def headers_location(self) -> Location:
        """``file:line:col`` of the ``headers`` (``<code>:1:1`` when built in code)."""
        return self._headers_at or Location("<code>", 1, 1)

    def cross_check(self, doc: Document) -> None:
        if "body" in self.model_fields_set and "form" in self.model_fields_set:
            raise doc.fail(doc.here(), "a request has either a json body or a form body, not both.")
        check_query(doc, doc.here("query"), self.query)
        if self.headers:
            self._headers_at = doc.loaded.where(doc.here("headers"))
        for name in self.headers:
            if name.lower() in MANAGED_HEADERS:
                raise doc.fail(
                    doc.here("headers", name),
                    f"ircli sets the {name} header itself; it cannot be given here.",
                    hint="Authentication goes in `auth`; the body's type follows `json`/`form`.",
                    at_key=True,
                )

    def placeholders(self) -> set[str]:
        """Every placeholder the request uses."""
        return (
            placeholders(self.path)
            | placeholders(dict(self.query))
            | placeholders(self.body)
            | placeholders(dict(self.form or {}))
            | placeholders(dict(self.headers))
        )

    def check_scope(self, doc: Document, path: FieldPath, scope: Scope) -> None:
        """Every placeholder must be allowed where the request stands."""
        check_values(doc, (*path, "path"), self.path, scope)
        check_values(doc, (*path, "query"), dict(self.query), scope)
        if "body" in self.model_fields_set:
            check_values(doc, (*path, "json"), self.body, scope)
        if self.form is not None:
            check_values(doc, (*path, "form"), dict(self.form), scope)
        check_values(doc, (*path, "headers"), dict(self.headers), scope)

    def needs(self, doc: Document, path: FieldPath, name: str) -> None:
        """Refuse a request that never uses ``{name}`` (every target would get the same)."""
        if name not in self.placeholders():
            raise doc.fail(
                path,
                f"the request never uses {{{name}}}, so every target would get the same request.",
            )


def check_query(doc: Document, path: FieldPath, query: Mapping[str, Any]) -> None:
    """Query values are scalars or lists of scalars."""
    for key, item in query.items():
        items = item if isinstance(item, list | tuple) else [item]
        for index, scalar in enumerate(items):
            where = (*path, key, index) if isinstance(item, list | tuple) else (*path, key)
            if scalar is None or isinstance(scalar, dict | list | tuple):
                raise doc.fail(where, "a query value must be a string, number or boolean.")


# -- classification, batches, checks ----------------------------------------------------------


def _listed(value: Any) -> Any:
    return value if isinstance(value, list | tuple) else [value]


def _equals(doc: Document, path: FieldPath, values: tuple[Any, ...], written: Any) -> None:
    for index, item in enumerate(values):
        if isinstance(item, dict | list | tuple):
            where = (*path, index) if isinstance(written, list) else path
            raise doc.fail(where, "equals compares with strings, numbers, booleans or null.")


class StatusRule(Shape):
    """Classify a response: all given conditions must hold; the first matching rule wins."""

    nullable: ClassVar[frozenset[str]] = frozenset({"equals"})  # equals: null compares

    outcome: OutcomeWord
    status: Annotated[
        tuple[Annotated[Integer, Field(ge=100, le=599)], ...],
        BeforeValidator(_listed, json_schema_input_type=int | list[int]),
    ] = ()
    """HTTP status codes; empty means any."""
    field: Word | None = None
    """A dotted path into the JSON body (``changed``, ``error.code``)."""
    equals: Annotated[
        tuple[Any, ...], BeforeValidator(_listed, json_schema_input_type=Scalar | list[Scalar])
    ] = ()
    """The value at ``field`` must be one of these (empty: the field only has to exist)."""

    def cross_check(self, doc: Document) -> None:
        here = doc.here()
        if "status" not in self.model_fields_set and self.field is None:
            raise doc.fail(here, "a rule needs a status, a field, or both.")
        if "equals" in self.model_fields_set and self.field is None:
            raise doc.fail((*here, "equals"), "equals needs a field to compare.")
        _equals(doc, (*here, "equals"), self.equals, doc.written().get("equals"))


DEFAULT_RULES: tuple[StatusRule, ...] = (
    StatusRule(outcome=Outcome.DONE, status=(200, 201, 202, 204)),
    StatusRule(outcome=Outcome.RETRYABLE, status=(408, 425, 429, 500, 502, 503, 504)),
)
"""Appended after a profile's own rules; anything still unmatched is ``FAILED``."""


class BatchSpec(Shape):
    """A batch endpoint: one request for up to ``max_size`` targets, per-target results."""

    request: RequestTemplate
    max_size: Annotated[Integer, Field(ge=1)]
    results: Text
    """Dotted path to the list of per-target results in the response body."""
    result_id: Word = Field("id", alias="id")
    """Field of a result holding the target id."""
    result_status: Word = Field("status", alias="status")
    """Field of a result holding its status word."""
    status_map: Mapping[str, OutcomeWord] = Field(
        alias="map", json_schema_extra={"minProperties": 1}
    )
    """Status word → outcome; a word not listed is ``FAILED``; a target missing is retried."""

    def cross_check(self, doc: Document) -> None:
        if not self.status_map:
            raise doc.fail(doc.here("map"), "map at least one result word to an outcome.")


class CheckSpec(Shape):
    """A read that tells whether the action has taken effect on a target (reconciliation)."""

    nullable: ClassVar[frozenset[str]] = frozenset({"equals"})  # equals: null compares

    request: RequestTemplate
    field: Word
    equals: Annotated[
        tuple[Any, ...], BeforeValidator(_listed, json_schema_input_type=Scalar | list[Scalar])
    ] = ()

    def cross_check(self, doc: Document) -> None:
        here = doc.here()
        if self.request.method != "GET":
            raise doc.fail((*here, "request", "method"), "a check must be a GET request.")
        _equals(doc, (*here, "equals"), self.equals, doc.written().get("equals"))


# -- parameters ------------------------------------------------------------------------------


class ParamSpec(Shape):
    """A parameter an action takes (``reason``, ``enabled`` …), as the profile declares it."""

    derived: ClassVar[frozenset[str]] = frozenset({"name"})
    nullable: ClassVar[frozenset[str]] = frozenset({"default"})  # refused by its type
    name: Annotated[str, named(IDENTIFIER, "a parameter name")] = Field(exclude=True)
    type: Annotated[
        Literal["string", "integer", "number", "boolean"], choice("type", PARAM_TYPES)
    ] = "string"
    required: Boolean = True
    """Required unless it has a default (a parameter with a default cannot be required)."""
    default: Any = None
    """The value when not given (an optional parameter without one is sent as JSON null)."""
    choices: Annotated[tuple[Any, ...], Field(min_length=1)] = ()
    description: Text = ""

    @model_validator(mode="before")
    @classmethod
    def _required_unless_default(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and "required" not in data:
            doc = document(info)
            filled = {**data, "required": "default" not in data}
            return doc.stand_in(filled, doc.here()) if doc else filled
        return data

    def cross_check(self, doc: Document) -> None:
        here = doc.here()
        for index, value in enumerate(self.choices):
            check_scalar(doc, (*here, "choices", index), value, self.type)
        if "default" in self.model_fields_set:
            check_scalar(doc, (*here, "default"), self.default, self.type)
            if self.choices and self.default not in self.choices:
                raise doc.fail((*here, "default"), "the default is not one of the choices.")
            if self.required and "required" in doc.written():
                raise doc.fail(
                    (*here, "required"), "a parameter with a default cannot be required."
                )


def _declared_params(value: Any, info: ValidationInfo) -> Any:
    """``[a, b]`` or ``{a: {...}, b: null}`` → ``{a: {name: a, ...}, ...}``."""
    doc = document(info)
    if isinstance(value, list):
        if doc is None:
            return {name: {"name": name} for name in value}
        check_names(doc, doc.here("params"), value)
        return {
            name: doc.stand_in({"name": name}, doc.here("params", index))
            for index, name in enumerate(value)
        }
    return _params_by_key(value, info)


_params_by_key = names_from_keys("params", null_is_empty=True)


def check_names(doc: Document, path: FieldPath, names: list[Any]) -> None:
    """A list of distinct non-empty strings."""
    for index, name in enumerate(names):
        doc.word((*path, index), name)
        if names.index(name) != index:
            raise doc.fail((*path, index), f"{name!r} is listed twice.")


# -- actions -----------------------------------------------------------------------------------


class GenerateSpec(Shape):
    """A value generated for each target (a new password), sent to the platform and to the
    account's owner (``deliver``), never stored or shown: it appears as ``[GENERATED]``."""

    length: Annotated[Integer, Field(ge=8, le=256)] = 24
    alphabet: Literal["alphanumeric", "printable"] = "alphanumeric"
    """``alphanumeric`` (A-Z, a-z, 0-9) or ``printable`` (with punctuation, no quotes,
    backslash or space)."""


class DeliverSpec(Shape):
    """Where generated values go. Without ``command``: a private file per run."""

    command: Annotated[tuple[Word, ...], Field(min_length=1)] | None = None
    """A program and its arguments, given one JSON line per target done on its stdin."""


class ActionSpec(Shape):
    """A named action (``streams.suspend``) and how to perform it."""

    nullable: ClassVar[frozenset[str]] = frozenset({"batch", "check", "inverse"})
    derived: ClassVar[frozenset[str]] = frozenset({"name"})
    name: Annotated[
        str, named(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*", "an action name (e.g. streams.suspend)")
    ] = Field(exclude=True)
    description: Text = ""
    target_kind: Word = Field("", alias="target")
    """The listing whose ids this action takes (``streams``); used by ``--where``."""
    param_specs: Annotated[
        Mapping[str, ParamSpec],
        BeforeValidator(
            _declared_params, json_schema_input_type=list[str] | dict[str, ParamSpec | None]
        ),
    ] = Field(default_factory=dict, alias="params")
    """Type, default and choices of each parameter (a list of names: required strings)."""
    request: RequestTemplate
    batch: BatchSpec | None = None
    rules: tuple[StatusRule, ...] = Field((), alias="classify")
    idempotent: Boolean
    """True when resending the same request (same idempotency key) has no second effect."""
    check: CheckSpec | None = None
    inverse: Word | None = None
    generate: Mapping[
        Annotated[str, named(IDENTIFIER, "a generated value's name")], GenerateSpec
    ] = Field(default_factory=dict)
    """Values generated per target, as ``{generate.NAME}`` in the request's body."""
    deliver: DeliverSpec | None = None
    """Where the generated values go (default: a private file per run)."""
    affects: tuple[Word, ...] | None = None
    """The listings whose results this action changes (a freeze ends the account's streams:
    ``[accounts, streams]``). A playbook's dry run resolves a later query of one of them at
    run time. Not given: every listing (the safe assumption); ``[]``: none."""
    dsa: DecisionMapping | None = None
    """The EU DSA decision this action carries out on its targets, for statements of reasons
    (``ircli report -f dsa``; docs/dsa.md). Not given: the action decides nothing there."""

    @property
    def params(self) -> tuple[str, ...]:
        """Parameter names the templates use (``reason``, ``value`` …)."""
        return tuple(self.param_specs)

    @property
    def required(self) -> tuple[str, ...]:
        """The parameters that must be given."""
        return tuple(name for name, spec in self.param_specs.items() if spec.required)

    def no_param(self, name: str) -> str:
        """Why ``name`` cannot be given to this action (one sentence)."""
        subject = f"the action {self.name!r} takes no parameter {name!r}"
        return not_among(subject, name, self.param_specs, "its parameters")

    def all_rules(self) -> tuple[StatusRule, ...]:
        """The profile's rules followed by the defaults."""
        return (*self.rules, *DEFAULT_RULES)

    def cross_check(self, doc: Document) -> None:
        if not isinstance(doc, ProfileDocument):
            return
        here = doc.here()
        # Placeholders are checked once the variables are known, and targets once the
        # listings are (when those failed, that failure is the one to report).
        variables = doc.variables
        single = Scope(variables or (), self.params, target=True)
        if variables is not None:
            generating = replace(single, generated=tuple(self.generate))
            self.request.check_scope(doc, (*here, "request"), generating)
        self._generated_only_in_the_body(doc, here)
        self.request.needs(doc, (*here, "request"), "target")
        self._optional_params_not_in_path(doc, (*here, "request"), self.request)
        listings = doc.listings
        if self.target_kind and listings is not None and self.target_kind not in listings:
            raise doc.fail(
                (*here, "target"),
                f"unknown listing {self.target_kind!r}{did_you_mean(self.target_kind, listings)}.",
            )
        for index, listing in enumerate(self.affects or ()):
            if listings is not None and listing not in listings:
                raise doc.fail(
                    (*here, "affects", index),
                    f"unknown listing {listing!r}{did_you_mean(listing, listings)}.",
                )
        if self.batch is not None:
            batch_scope = Scope(variables or (), self.params, targets=True)
            if variables is not None:
                self.batch.request.check_scope(doc, (*here, "batch", "request"), batch_scope)
            self.batch.request.needs(doc, (*here, "batch", "request"), "targets")
        if self.check is not None:
            if variables is not None:
                self.check.request.check_scope(doc, (*here, "check", "request"), single)
            self.check.request.needs(doc, (*here, "check", "request"), "target")
            self._optional_params_not_in_path(doc, (*here, "check", "request"), self.check.request)

    def _generated_only_in_the_body(self, doc: Document, here: FieldPath) -> None:
        """A generated value goes in the body: never the path, query or a header (URLs and
        headers end up in proxies' logs and error texts). ``deliver`` needs ``generate``."""
        request = self.request
        for part, value in (
            ("path", request.path),
            ("query", dict(request.query)),
            ("headers", dict(request.headers)),
        ):
            if any(name.startswith("generate.") for name in placeholders(value)):
                raise doc.fail(
                    (*here, "request", part),
                    f"a generated value may not go into the {part}: proxies, servers and error "
                    "messages show it; put it in the json or form body.",
                )
        if self.deliver is not None and not self.generate:
            raise doc.fail((*here, "deliver"), "deliver needs values to deliver: add generate.")

    def _optional_params_not_in_path(
        self, doc: Document, path: FieldPath, request: RequestTemplate
    ) -> None:
        for used in placeholders(request.path):
            spec = self.param_specs.get(used[6:]) if used.startswith("param.") else None
            if spec is not None and not spec.required and spec.default is None:
                raise doc.fail(
                    (*path, "path"),
                    f"the optional parameter {spec.name!r} has no "
                    "default, so it cannot go into the path.",
                )
