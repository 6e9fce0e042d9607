"""Platform profiles as data: what a platform's admin API looks like to ircli.

A profile (YAML, loaded by ``ircli.platform.loader``) becomes these frozen dataclasses. Request
templates may reference ``{target}``, ``{targets}``, ``{param.NAME}`` and ``{var.NAME}``; see
``ircli.platform.render``. Nothing here performs I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "DEFAULT_RULES",
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
    "RequestTemplate",
    "SecretRef",
    "StatusRule",
]


class Outcome(StrEnum):
    """How one attempt of an action on one target ended."""

    DONE = "done"
    """The platform applied the change."""
    ALREADY_DONE = "already_done"
    """The target was already in the requested state; nothing changed."""
    RETRYABLE = "retryable"
    """A transient refusal (429, 5xx, timeout): try again later, with the same key."""
    FAILED = "failed"
    """A permanent refusal (404, 403, 422 …): do not retry."""

    # Plain attributes, set below: enum properties cost a descriptor call on a hot path.
    final: bool
    """Whether no further attempt is needed."""
    succeeded: bool
    """Whether the target is now in the requested state."""


for _outcome in Outcome:
    _outcome.final = _outcome is not Outcome.RETRYABLE
    _outcome.succeeded = _outcome in (Outcome.DONE, Outcome.ALREADY_DONE)


@dataclass(frozen=True)
class RequestTemplate:
    """One HTTP request, with placeholders."""

    method: str
    path: str
    query: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    form: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class StatusRule:
    """Classify a response: all given conditions must hold; the first matching rule wins."""

    outcome: Outcome
    status: tuple[int, ...] = ()
    """HTTP status codes; empty means any."""
    field: str | None = None
    """A dotted path into the JSON body (``changed``, ``error.code``)."""
    equals: tuple[Any, ...] = ()
    """The value at ``field`` must be one of these (empty: the field only has to exist)."""


DEFAULT_RULES: tuple[StatusRule, ...] = (
    StatusRule(Outcome.DONE, status=(200, 201, 202, 204)),
    StatusRule(Outcome.RETRYABLE, status=(408, 425, 429, 500, 502, 503, 504)),
)
"""Appended after a profile's own rules; anything still unmatched is ``FAILED``."""


@dataclass(frozen=True)
class BatchSpec:
    """A batch endpoint: one request for up to ``max_size`` targets, per-target results."""

    request: RequestTemplate
    max_size: int
    results: str
    """Dotted path to the list of per-target results in the response body."""
    result_id: str
    """Field of a result holding the target id."""
    result_status: str
    """Field of a result holding its status word."""
    status_map: Mapping[str, Outcome]
    """Status word → outcome; a word not listed is ``FAILED``; a target missing is retried."""


@dataclass(frozen=True)
class CheckSpec:
    """A read that tells whether the action has taken effect on a target (reconciliation)."""

    request: RequestTemplate
    field: str
    equals: tuple[Any, ...]


@dataclass(frozen=True)
class ParamSpec:
    """A parameter an action takes (``reason``, ``enabled`` …), as the profile declares it."""

    name: str
    type: Literal["string", "integer", "number", "boolean"] = "string"
    required: bool = True
    default: Any = None
    """The value when not given (an optional parameter without one is sent as JSON null)."""
    choices: tuple[Any, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class ActionSpec:
    """A named action (``streams.suspend``) and how to perform it."""

    name: str
    request: RequestTemplate
    rules: tuple[StatusRule, ...] = ()
    batch: BatchSpec | None = None
    idempotent: bool = True
    """True when resending the same request (same idempotency key) has no second effect."""
    check: CheckSpec | None = None
    inverse: str | None = None
    params: tuple[str, ...] = ()
    """Parameter names the templates use (``reason``, ``value`` …)."""
    required: tuple[str, ...] = ()
    description: str = ""
    target_kind: str = ""
    """The listing whose ids this action takes (``streams``); used by ``--where``."""
    param_specs: Mapping[str, ParamSpec] = field(default_factory=dict)
    """Type, default and choices of each parameter (see ``ircli.platform.params``)."""

    def all_rules(self) -> tuple[StatusRule, ...]:
        """The profile's rules followed by the defaults."""
        return (*self.rules, *DEFAULT_RULES)


@dataclass(frozen=True)
class Pagination:
    """How a listing pages."""

    kind: Literal["none", "cursor", "page", "offset", "link"] = "none"
    param: str = "cursor"
    """Query parameter carrying the cursor / page number / offset."""
    next: str = "next_cursor"
    """Dotted path of the next cursor in the body (cursor pagination)."""
    limit_param: str | None = "limit"
    page_size: int = 100
    first_page: int = 1


@dataclass(frozen=True)
class ListingSpec:
    """A listing endpoint of platform objects."""

    name: str
    path: str
    query: Mapping[str, Any] = field(default_factory=dict)
    filters: tuple[str, ...] = ()
    """Query parameters a user may pass through (``--where`` / playbook filters)."""
    items: str = ""
    """Dotted path to the item list; empty when the body is the list."""
    id: str = "id"
    pagination: Pagination = field(default_factory=Pagination)
    description: str = ""


@dataclass(frozen=True)
class SecretRef:
    """Where a secret lives. Never the secret itself."""

    source: Literal["env", "keyring", "file"]
    name: str
    """Env var name; ``service/username`` for the keyring; a path for a file (must be 0600)."""
    loopback_default: str | None = None
    """For ``env`` only: a published development value used when the variable is unset and
    the base URL is a loopback address (the sandbox's dev token); never anywhere else."""


@dataclass(frozen=True)
class AuthSpec:
    """How requests authenticate."""

    kind: Literal["none", "bearer", "header", "basic"] = "none"
    secret: SecretRef | None = None
    header: str = "Authorization"
    """Header name for ``header`` auth."""
    username: str | None = None
    """User for ``basic`` auth (the password is ``secret``)."""


@dataclass(frozen=True)
class Limits:
    """Default execution limits; playbook steps and flags may override them."""

    concurrency: int = 32
    rate: float = 1000.0
    """Requests per second (token bucket)."""
    burst: int | None = None
    timeout: float = 10.0
    connect_timeout: float = 5.0
    retries: int = 5
    """Attempts after the first, per target."""
    retry_budget: float = 0.2
    """Retries may add at most this fraction of the run's first attempts (plus a floor of 20)."""
    backoff_base: float = 0.05
    backoff_max: float = 5.0
    max_retry_after: float = 60.0
    """A ``Retry-After`` longer than this pauses the run instead of sleeping through it."""
    breaker_failures: int = 20
    """Consecutive transport failures / 5xx that open the circuit breaker."""
    breaker_probe: float = 1.0
    """Seconds between probes while the breaker is open."""


@dataclass(frozen=True)
class Profile:
    """A platform's admin API, as ircli drives it."""

    name: str
    base_url: str
    description: str = ""
    auth: AuthSpec = field(default_factory=AuthSpec)
    limits: Limits = field(default_factory=Limits)
    idempotency_header: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    listings: Mapping[str, ListingSpec] = field(default_factory=dict)
    actions: Mapping[str, ActionSpec] = field(default_factory=dict)
    health: RequestTemplate | None = None
    """A cheap read used to probe the platform while the circuit breaker is open."""
    source: str = ""
    """The file the profile came from (for messages)."""
