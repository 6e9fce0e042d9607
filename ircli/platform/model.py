"""Platform profiles: what a platform's admin API looks like to ircli, declared once.

Each class is both the YAML shape of a profile (docs/profiles.md, ``ircli profile schema``) and
the frozen object the executor reads. ``ircli.platform.loader`` reads a file into a ``Profile``;
the ``cross_check`` methods hold the rules a shape alone cannot say (placeholders against their
scope, actions against listings). The action shapes live in ``ircli.platform.actions`` and are
re-exported here. Request templates may reference ``{target}``, ``{targets}``,
``{param.NAME}`` and ``{var.NAME}``; see ``ircli.platform.render``. Nothing here performs I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from ircli.platform.actions import (
    DEFAULT_RULES,
    IDENTIFIER,
    METHODS,
    PARAM_TYPES,
    REFERENCE_HINT,
    ActionSpec,
    BatchSpec,
    CheckSpec,
    Header,
    Outcome,
    ParamSpec,
    ProfileDocument,
    RequestTemplate,
    StatusRule,
    UrlPath,
    check_query,
)
from ircli.platform.protected import Protected
from ircli.platform.templates import Scope, check_values
from ircli.redaction import is_secret_key
from ircli.shapes import (
    Boolean,
    Document,
    Integer,
    Located,
    Number,
    PositiveDuration,
    Shape,
    Text,
    Word,
    choice,
    document,
    format_version,
    json_schema,
    named,
    names_from_keys,
    nested,
)
from ircli.wording import did_you_mean, not_among

__all__ = [
    "DEFAULT_RULES",
    "FORMAT_VERSION",
    "METHODS",
    "PARAM_TYPES",
    "REFERENCE_HINT",
    "ActionSpec",
    "AuthSpec",
    "BatchSpec",
    "CheckSpec",
    "Limits",
    "ListingSpec",
    "Outcome",
    "Pagination",
    "ParamSpec",
    "Profile",
    "ProfileDocument",
    "RequestTemplate",
    "SecretRef",
    "StatusRule",
    "TlsSpec",
    "is_loopback_url",
    "profile_schema",
]

FORMAT_VERSION = 1
SECRET_SOURCES = frozenset({"env", "keyring", "file"})
VARIABLE_REFERENCE_HINT = (
    # Worded without "name: value" pairs, which redaction would take for a secret.
    "Write the variable as a reference to where the secret lives, {env: NAME}, "
    "{keyring: SERVICE/USER} or {file: PATH}; ircli reads it when the profile is used."
)


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- listings ----------------------------------------------------------------------------------

_PAGINATION_KEYS = {
    "none": (),
    "cursor": ("param", "next", "limit_param", "page_size"),
    "page": ("param", "limit_param", "page_size", "first_page"),
    "offset": ("param", "limit_param", "page_size"),
    "link": ("limit_param", "page_size"),
}
_PAGINATION_PARAM = {"cursor": "cursor", "page": "page", "offset": "offset", "link": "-"}


def _keys_of_type(
    data: Any,
    info: ValidationInfo,
    table: Mapping[str, tuple[str, ...]],
    noun: str,
    *,
    required: bool,
) -> str | None:
    """The ``type`` of a mapping whose other keys depend on it; refuses a key that belongs to
    another type (``'header' does not apply to bearer auth``) and, with ``required``, a key
    its type needs."""
    doc = document(info)
    if not isinstance(data, dict) or doc is None:
        return None
    here = doc.here()
    if "type" not in data:
        raise doc.fail(here, "the key 'type' is required.")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in table:
        return None
    known = {key for keys in table.values() for key in keys}
    for key in data:
        if key != "type" and key not in table[kind] and key in known:
            raise doc.fail((*here, key), f"{key!r} does not apply to {kind} {noun}.", at_key=True)
    for key in table[kind] if required else ():
        if key not in data:
            raise doc.fail(here, f"the key {key!r} is required.")
    return kind


def _schema_by_type(table: Mapping[str, tuple[str, ...]], *, required: bool) -> dict[str, Any]:
    """Schema rules for a mapping whose other keys depend on its ``type``, as
    ``_keys_of_type`` checks them."""
    every = sorted({key for keys in table.values() for key in keys})
    rules = []
    for kind, keys in table.items():
        then: dict[str, Any] = {}
        others = [key for key in every if key not in keys]
        if others:
            then["not"] = {"anyOf": [{"required": [key]} for key in others]}
        if required and keys:
            then["required"] = list(keys)
        if then:
            when = {"properties": {"type": {"const": kind}}, "required": ["type"]}
            rules.append({"if": when, "then": then})
    return {"required": ["type"], "allOf": rules}


class Pagination(Shape):
    """How a listing pages."""

    schema_rules: ClassVar[dict[str, Any]] = _schema_by_type(_PAGINATION_KEYS, required=False)
    nullable: ClassVar[frozenset[str]] = frozenset({"limit_param"})
    kind: Annotated[
        Literal["none", "cursor", "page", "offset", "link"],
        choice("pagination type", tuple(_PAGINATION_KEYS)),
    ] = Field("none", alias="type")
    param: Word = "cursor"
    """Query parameter carrying the cursor / page number / offset."""
    next: Word = "next_cursor"
    """Dotted path of the next cursor in the body (cursor pagination)."""
    limit_param: Word | None = "limit"
    page_size: Annotated[Integer, Field(ge=1)] = 100
    first_page: Annotated[Integer, Field(ge=0)] = 1

    @model_validator(mode="before")
    @classmethod
    def _keys_of_its_type(cls, data: Any, info: ValidationInfo) -> Any:
        kind = _keys_of_type(data, info, _PAGINATION_KEYS, "pagination", required=False)
        if kind is None or kind == "none" or "param" in data:
            return data
        doc = document(info)
        return doc.stand_in({**data, "param": _PAGINATION_PARAM[kind]}, doc.here())


_NO_PAGINATION = Pagination.model_validate({})


class ListingSpec(Shape):
    """A listing endpoint of platform objects."""

    nullable: ClassVar[frozenset[str]] = frozenset({"pagination"})
    derived: ClassVar[frozenset[str]] = frozenset({"name"})
    name: Annotated[str, named(r"[a-z][a-z0-9_]*", "a listing name (e.g. streams)")] = Field(
        exclude=True
    )
    description: Text = ""
    path: UrlPath
    query: Mapping[str, Any] = Field(default_factory=dict)
    filters: tuple[Word, ...] = ()
    """Query parameters a user may pass through (``--where`` / playbook filters)."""
    items: Text = ""
    """Dotted path to the item list; empty when the body is the list."""
    id: Word = "id"
    pagination: Annotated[
        Pagination, BeforeValidator(lambda value: _NO_PAGINATION if value is None else value)
    ] = _NO_PAGINATION
    """How it pages (none when not given)."""

    def no_filter(self, name: str) -> str:
        """Why ``name`` cannot be passed to this listing (one sentence)."""
        subject = f"the listing {self.name!r} has no filter {name!r}"
        return not_among(subject, name, self.filters, "its filters")

    def cross_check(self, doc: Document) -> None:
        here = doc.here()
        for index, name in enumerate(self.filters):
            if self.filters.index(name) != index:
                raise doc.fail((*here, "filters", index), f"{name!r} is listed twice.")
        check_query(doc, (*here, "query"), self.query)
        if isinstance(doc, ProfileDocument) and doc.variables is not None:
            scope = Scope(doc.variables)
            check_values(doc, (*here, "path"), self.path, scope)
            check_values(doc, (*here, "query"), dict(self.query), scope)


# -- auth and limits ---------------------------------------------------------------------------


class SecretRef(Located):
    """Where a secret lives (exactly one of ``env``, ``keyring``, ``file``). Never the secret."""

    env: Annotated[Word, named(IDENTIFIER, "an environment variable name")] | None = None
    keyring: (
        Annotated[Word, named(r".+/[^/]+", "SERVICE/USER, for example ircli/mastodon")] | None
    ) = None
    file: Word | None = None
    """A path; the file must be private (0600)."""
    loopback_default: Word | None = None
    """For ``env`` only: a published development value used when the variable is unset and
    the base URL is a loopback address (the sandbox's dev token); never anywhere else."""

    @property
    def source(self) -> Literal["env", "keyring", "file"]:
        """Which kind of place holds the secret."""
        if self.env is not None:
            return "env"
        return "keyring" if self.keyring is not None else "file"

    @property
    def name(self) -> str:
        """Env var name; ``service/username`` for the keyring; a path for a file."""
        return self.env or self.keyring or self.file or ""

    @model_validator(mode="before")
    @classmethod
    def _a_reference(cls, data: Any, info: ValidationInfo) -> Any:
        doc = document(info)
        if doc is not None and not isinstance(data, dict):
            raise doc.fail(
                doc.here("secret"),
                "the secret must be a reference, never the value itself.",
                hint=REFERENCE_HINT,
            )
        return data

    def cross_check(self, doc: Document) -> None:
        here = doc.here()
        given = [s for s in ("env", "keyring", "file") if getattr(self, s) is not None]
        if len(given) != 1:
            raise doc.fail(
                here, "name exactly one source: env, keyring or file.", hint=REFERENCE_HINT
            )
        if self.loopback_default is None:
            return
        where = (*here, "loopback_default")
        if self.env is None:
            raise doc.fail(where, "loopback_default only applies to an env secret.", at_key=True)
        if not isinstance(doc, ProfileDocument) or not doc.url_read:
            return  # base_url did not read: that is the error to report
        if doc.url_default is None or not is_loopback_url(doc.url_default):
            raise doc.fail(
                where,
                "loopback_default is only allowed when base_url defaults to a loopback address.",
                at_key=True,
            )


_AUTH_KEYS = {
    "none": (),
    "bearer": ("secret",),
    "header": ("header", "secret"),
    "basic": ("username", "secret"),
}


class AuthSpec(Shape):
    """How requests authenticate."""

    schema_rules: ClassVar[dict[str, Any]] = _schema_by_type(_AUTH_KEYS, required=True)
    kind: Annotated[
        Literal["none", "bearer", "header", "basic"], choice("auth type", tuple(_AUTH_KEYS))
    ] = Field("none", alias="type")
    secret: SecretRef | None = None
    header: Header = "Authorization"
    """Header name for ``header`` auth."""
    username: Word | None = None
    """User for ``basic`` auth (the password is ``secret``)."""

    @model_validator(mode="before")
    @classmethod
    def _keys_of_its_type(cls, data: Any, info: ValidationInfo) -> Any:
        _keys_of_type(data, info, _AUTH_KEYS, "auth", required=True)
        return data


class TlsSpec(Located):
    """How ircli checks the platform's certificate and, for mutual TLS, proves who it is.

    Paths are relative to the profile's folder; ``~`` is the home directory. The system's
    certificate store is used unless ``ca_bundle`` names another (``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR`` move the system store, as for other OpenSSL programs).
    """

    verify: Boolean = True
    """Verify the platform's certificate and host name. Off only for a lab you trust."""
    ca_bundle: Word | None = None
    """A PEM file of the certificate authorities to trust instead of the system store."""
    client_cert: Word | None = None
    """A PEM client certificate, for platforms that ask for mutual TLS."""
    client_key: Word | None = None
    """Its private key (PEM, unencrypted), if not in ``client_cert``; must be private (0600)."""

    def cross_check(self, doc: Document) -> None:
        if self.client_key is not None and self.client_cert is None:
            raise doc.fail(doc.here("client_key"), "a client_key needs its client_cert.")
        if self.ca_bundle is not None and not self.verify:
            raise doc.fail(
                doc.here("ca_bundle"),
                "a ca_bundle with verify: false would never be used; drop one of them.",
            )


class Limits(Shape):
    """Default execution limits; playbook steps and flags may override them."""

    concurrency: Annotated[Integer, Field(ge=1)] = 32
    rate: Annotated[Number, Field(gt=0)] = 1000.0
    """Requests per second (token bucket)."""
    burst: Annotated[Integer, Field(ge=1)] | None = None
    timeout: PositiveDuration = 10.0
    connect_timeout: PositiveDuration = 5.0
    retries: Annotated[Integer, Field(ge=0)] = 5
    """Attempts after the first, per target."""
    retry_budget: Annotated[Number, Field(ge=0)] = 0.2
    """Retries may add at most this fraction of the run's first attempts (plus a floor of 20)."""
    backoff_base: PositiveDuration = 0.05
    backoff_max: PositiveDuration = 5.0
    max_retry_after: PositiveDuration = 60.0
    """A ``Retry-After`` longer than this pauses the run instead of sleeping through it."""
    breaker_failures: Annotated[Integer, Field(ge=1)] = 20
    """Consecutive transport failures / 5xx that open the circuit breaker."""
    breaker_probe: PositiveDuration = 1.0
    """Seconds between probes while the breaker is open."""


# -- values from the environment ---------------------------------------------------------------


class EnvValue(Shape):
    """A value read from an environment variable, with an optional default."""

    env: Annotated[Word, named(IDENTIFIER, "a variable name")]
    default: Text | None = None


def _from_env(value: Any, info: ValidationInfo) -> Any:
    """``{env: NAME, default: …}`` → the value (or ``${NAME:-default}`` when not resolving)."""
    doc = document(info, ProfileDocument)
    if isinstance(value, str) and not value.strip():
        raise ValueError("must not be empty.")
    if not isinstance(value, dict) or doc is None:
        return value
    spec = nested(EnvValue, value, info)
    default = spec.default
    if doc.env is None:
        return f"${{{spec.env}}}" if default is None else f"${{{spec.env}:-{default}}}"
    if doc.env.get(spec.env):
        return doc.env[spec.env]
    if default is not None:
        return default
    raise doc.fail(
        doc.path_of(value) or doc.here(),
        f"the environment variable {spec.env} is not set and there is no default.",
        hint=f"Set {spec.env}.",
    )


FromEnv = Annotated[Text, BeforeValidator(_from_env, json_schema_input_type=str | EnvValue)]
"""A non-empty string, or ``{env: NAME, default: …}`` (whose default may be empty)."""


class Profile(Shape):
    """A platform's admin API, as ircli drives it."""

    derived: ClassVar[frozenset[str]] = frozenset({"source", "secrets"})
    nullable: ClassVar[frozenset[str]] = frozenset({"health", "idempotency_header"})
    profile: Annotated[Literal[1], format_version("profile")] = Field(
        description="The profile format version."
    )
    name: Annotated[
        Word,
        named(r"[a-z0-9][a-z0-9_-]*", "a profile name (lower-case letters, digits, '-' and '_')"),
    ]
    description: Text = ""
    base_url: FromEnv
    variables: Mapping[Annotated[str, named(IDENTIFIER, "a variable name")], FromEnv] = Field(
        default_factory=dict, json_schema_extra={"additionalProperties": False}
    )
    auth: AuthSpec = AuthSpec.model_validate({})
    secrets: Mapping[str, SecretRef] = Field(
        default_factory=dict, exclude=True, validate_default=True
    )
    """Variables named like secrets, as references; read at run time (``resolve_secrets``)."""
    tls: TlsSpec = TlsSpec()
    """HTTPS certificate checks and client certificates (``https://`` base URLs)."""
    limits: Limits = Limits()
    idempotency_header: Header | None = None
    health: RequestTemplate | None = None
    """A cheap read used to probe the platform while the circuit breaker is open."""
    listings: Annotated[Mapping[str, ListingSpec], BeforeValidator(names_from_keys("listings"))] = (
        Field(default_factory=dict)
    )
    actions: Annotated[Mapping[str, ActionSpec], BeforeValidator(names_from_keys("actions"))] = (
        Field(default_factory=dict)
    )
    protected: Protected | None = None
    """Accounts no action may touch (``ircli.platform.protected``, docs/profiles.md)."""
    source: str = Field("", exclude=True)
    """The file the profile came from (for messages)."""

    @model_validator(mode="before")
    @classmethod
    def _defaults_known(cls, data: Any, info: ValidationInfo) -> Any:
        """No variables or listings written: the checks against them can run at once."""
        doc = document(info, ProfileDocument)
        if isinstance(data, dict) and doc is not None:
            if "variables" not in data:
                doc.variables = ()
            if "listings" not in data:
                doc.listings = {}
        return data

    @field_validator("base_url")
    @classmethod
    def _a_url(cls, value: str, info: ValidationInfo) -> str:
        doc = document(info, ProfileDocument)
        if doc is None:
            return value
        raw = doc.loaded.data.get("base_url") if isinstance(doc.loaded.data, dict) else None
        default = raw.get("default") if isinstance(raw, dict) else raw
        doc.url_default = default if isinstance(default, str) else None
        doc.url_read = True
        for candidate in (value, doc.url_default):
            if candidate is None or candidate.startswith("${"):
                continue
            parts = urlsplit(candidate)
            if parts.password is not None or parts.username is not None:
                raise doc.fail(
                    ("base_url",), "a secret may not be written in a profile.", hint=REFERENCE_HINT
                )
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise doc.fail(("base_url",), f"{candidate!r} is not an http(s) URL.")
            if parts.query or parts.fragment:
                raise doc.fail(("base_url",), f"{candidate!r} may not hold a query or fragment.")
        return value.rstrip("/")

    @field_validator("variables", mode="before")
    @classmethod
    def _no_secret_variables(cls, value: Any, info: ValidationInfo) -> Any:
        """A variable named like a secret (``admin_token``) must be a reference to where the
        secret lives; those are set aside for ``secrets`` and read only at run time."""
        doc = document(info, ProfileDocument)
        if doc is None or not isinstance(value, dict):
            return value
        references: dict[str, Any] = {}
        for name, item in value.items():
            if not (isinstance(name, str) and is_secret_key(name)):
                continue
            if isinstance(item, dict) and len(item) == 1 and set(item) <= SECRET_SOURCES:
                references[name] = item
                continue
            raise doc.fail(
                ("variables", name),
                "a secret may not be written in a profile.",
                hint=VARIABLE_REFERENCE_HINT,
                at_key=not isinstance(item, dict),
            )
        doc.variables = tuple(str(name) for name in value)
        doc.secret_variables = references
        return {name: item for name, item in value.items() if name not in references}

    @field_validator("secrets", mode="before")
    @classmethod
    def _secret_variables(cls, value: Any, info: ValidationInfo) -> Any:
        doc = document(info, ProfileDocument)
        if doc is None:
            return value
        return {name: nested(SecretRef, item, info) for name, item in doc.secret_variables.items()}

    @field_validator("listings")
    @classmethod
    def _remember_listings(
        cls, value: Mapping[str, ListingSpec], info: ValidationInfo
    ) -> Mapping[str, ListingSpec]:
        doc = document(info, ProfileDocument)
        if doc is not None:
            doc.listings = value
        return value

    def no_listing(self, name: str) -> str:
        """Why there is no listing ``name`` (one sentence)."""
        subject = f"the profile {self.name!r} has no listing {name!r}"
        return not_among(subject, name, self.listings, "its listings")

    def cross_check(self, doc: Document) -> None:
        if (
            self.health is not None
            and isinstance(doc, ProfileDocument)
            and doc.variables is not None
        ):
            self.health.check_scope(doc, ("health",), Scope(doc.variables))
        for name, action in self.actions.items():
            if action.inverse is None:
                continue
            where = ("actions", name, "inverse")
            if action.inverse not in self.actions:
                raise doc.fail(
                    where,
                    f"unknown action {action.inverse!r}"
                    f"{did_you_mean(action.inverse, self.actions)}.",
                )
            if action.inverse == name:
                raise doc.fail(where, "an action cannot be its own inverse.")


SCHEMA_ID = "https://ircli.invalid/schemas/profile-1.json"


def profile_schema() -> Any:
    """The JSON Schema (draft 2020-12) of the profile format, generated from ``Profile``."""
    return json_schema(
        Profile,
        schema_id=SCHEMA_ID,
        title="ircli platform profile",
        description="How ircli drives a platform's admin API (format 1); see docs/profiles.md.",
    )
