"""Load a platform profile (YAML) into a ``Profile``, validating every key.

Every problem is one ``InvalidInput`` sentence located at ``file:line:col`` with the path to
the bad value. The format is documented in docs/profiles.md. Values that may come from the
environment (``base_url``, ``variables``) are resolved against the ``env`` mapping passed in;
with ``env=None`` they are left as ``${NAME:-default}`` descriptions (for ``profile show``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ircli.platform.fields import ANY_KEY, REFERENCE_HINT, Fields, did_you_mean
from ircli.platform.fields import Path as FieldPath
from ircli.platform.model import (
    ActionSpec,
    AuthSpec,
    BatchSpec,
    CheckSpec,
    Limits,
    ListingSpec,
    Outcome,
    Pagination,
    ParamSpec,
    Profile,
    RequestTemplate,
    SecretRef,
    StatusRule,
)
from ircli.platform.params import read_params
from ircli.platform.render import placeholders
from ircli.platform.templates import Scope, read_path, read_query, read_request
from ircli.redaction import is_secret_key
from ircli.yamlfile import LoadedYaml, load_yaml_file, load_yaml_text

__all__ = ["FORMAT_VERSION", "is_loopback_url", "load_profile", "load_profile_text"]

FORMAT_VERSION = 1
_TOP = (
    "profile",
    "name",
    "description",
    "base_url",
    "variables",
    "auth",
    "limits",
    "idempotency_header",
    "health",
    "listings",
    "actions",
)
_PROFILE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LISTING_NAME = re.compile(r"[a-z][a-z0-9_]*")
_ACTION_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
_HEADER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_OUTCOMES = tuple(o.value for o in Outcome)
_AUTH_KEYS = {
    "none": ("type",),
    "bearer": ("type", "secret"),
    "header": ("type", "header", "secret"),
    "basic": ("type", "username", "secret"),
}
_SECRET_SOURCES = ("env", "keyring", "file")
_LIMIT_KINDS = {
    "concurrency": "count",
    "rate": "rate",
    "burst": "count",
    "timeout": "duration",
    "connect_timeout": "duration",
    "retries": "count0",
    "retry_budget": "fraction",
    "backoff_base": "duration",
    "backoff_max": "duration",
    "max_retry_after": "duration",
    "breaker_failures": "count",
    "breaker_probe": "duration",
}
_PAGINATION_KEYS = {
    "none": (),
    "cursor": ("param", "next", "limit_param", "page_size"),
    "page": ("param", "limit_param", "page_size", "first_page"),
    "offset": ("param", "limit_param", "page_size"),
    "link": ("limit_param", "page_size"),
}
_PAGINATION_PARAM = {"cursor": "cursor", "page": "page", "offset": "offset"}
_LISTING_KEYS = ("description", "path", "query", "filters", "items", "id", "pagination")
_ACTION_KEYS = (
    "description",
    "target",
    "params",
    "request",
    "batch",
    "classify",
    "idempotent",
    "check",
    "inverse",
)
_BATCH_KEYS = ("max_size", "request", "results", "id", "status", "map")
_RULE_KEYS = ("status", "field", "equals", "outcome")


def load_profile(path: Path, env: Mapping[str, str] | None = None) -> Profile:
    """Load and validate the profile at ``path``; resolve env values when ``env`` is given."""
    return parse_profile(load_yaml_file(path), env)


def load_profile_text(
    text: str, source: str = "<profile>", env: Mapping[str, str] | None = None
) -> Profile:
    """Like ``load_profile`` for YAML text (``source`` names it in messages)."""
    return parse_profile(load_yaml_text(text, source), env)


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_profile(loaded: LoadedYaml, env: Mapping[str, str] | None = None) -> Profile:
    """A ``Profile`` from an already loaded YAML document."""
    f = Fields(loaded)
    if loaded.data is None:
        raise f.fail((), "the profile is empty.")
    data = f.mapping((), loaded.data, _TOP, required=("profile", "name", "base_url"))
    version = f.integer(("profile",), data["profile"])
    if version != FORMAT_VERSION:
        raise f.fail(("profile",), f"unsupported profile format {version}; this ircli reads 1.")
    name = f.string(
        ("name",),
        data["name"],
        pattern=_PROFILE_NAME,
        what="a profile name (lower-case letters, digits, '-' and '_')",
    )
    base_url, url_default = _base_url(f, data["base_url"], env)
    variables = _variables(f, data.get("variables", {}), env)
    scope = Scope(variables=tuple(variables))
    header = data.get("idempotency_header")
    if header is not None:
        header = f.string(("idempotency_header",), header, pattern=_HEADER, what="a header name")
    health = None
    if data.get("health") is not None:
        health = read_request(f, ("health",), data["health"], scope)
    listings = _listings(f, data.get("listings", {}), scope)
    return Profile(
        name=name,
        base_url=base_url,
        description=f.text(("description",), data.get("description", "")),
        auth=_auth(f, data.get("auth", {"type": "none"}), url_default),
        limits=_limits(f, data.get("limits", {})),
        idempotency_header=header,
        variables=variables,
        listings=listings,
        actions=_actions(f, data.get("actions", {}), scope, listings),
        health=health,
        source=loaded.source,
    )


# -- values from the environment -----------------------------------------------------------


def _env_value(
    f: Fields, path: FieldPath, value: Any, env: Mapping[str, str] | None
) -> tuple[str, str | None]:
    """The value (or its ``${NAME:-default}`` description) and the default it falls back on."""
    if isinstance(value, str) or not isinstance(value, dict):
        return f.string(path, value), f.string(path, value)
    spec = f.mapping(path, value, ("env", "default"), required=("env",))
    name = f.string((*path, "env"), spec["env"], pattern=_IDENTIFIER, what="a variable name")
    default = None if "default" not in spec else f.text((*path, "default"), spec["default"])
    if env is None:
        return (f"${{{name}}}" if default is None else f"${{{name}:-{default}}}"), default
    if env.get(name):
        return env[name], default
    if default is not None:
        return default, default
    raise f.fail(
        path,
        f"the environment variable {name} is not set and there is no default.",
        hint=f"Set {name}.",
    )


def _base_url(f: Fields, value: Any, env: Mapping[str, str] | None) -> tuple[str, str | None]:
    url, default = _env_value(f, ("base_url",), value, env)
    for candidate in (url, default):
        if candidate is None or candidate.startswith("${"):
            continue
        parts = urlsplit(candidate)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise f.fail(("base_url",), f"{candidate!r} is not an http(s) URL.")
        if parts.password is not None or parts.username is not None:
            raise f.fail(
                ("base_url",),
                "a secret may not be written in a profile.",
                hint=REFERENCE_HINT,
            )
        if parts.query or parts.fragment:
            raise f.fail(("base_url",), f"{candidate!r} may not hold a query or fragment.")
    return url.rstrip("/"), default


def _variables(f: Fields, value: Any, env: Mapping[str, str] | None) -> dict[str, str]:
    data = f.mapping(("variables",), value, ANY_KEY)
    variables: dict[str, str] = {}
    for name, item in data.items():
        path = ("variables", name)
        if not _IDENTIFIER.fullmatch(name):
            raise f.fail(path, f"{name!r} is not a variable name.", at_key=True)
        if is_secret_key(name):
            raise f.fail(
                path,
                "a secret may not be written in a profile.",
                hint=REFERENCE_HINT,
                at_key=True,
            )
        variables[name] = _env_value(f, path, item, env)[0]
    return variables


# -- auth and limits ---------------------------------------------------------------------------


def _auth(f: Fields, value: Any, url_default: str | None) -> AuthSpec:
    path: FieldPath = ("auth",)
    kind = f.choice(
        (*path, "type"),
        f.mapping(path, value, ANY_KEY, required=("type",))["type"],
        tuple(_AUTH_KEYS),
        what="auth type",
    )
    for key in value:
        if key not in _AUTH_KEYS[kind] and any(key in keys for keys in _AUTH_KEYS.values()):
            raise f.fail((*path, key), f"{key!r} does not apply to {kind} auth.", at_key=True)
    data = f.mapping(path, value, _AUTH_KEYS[kind], required=_AUTH_KEYS[kind])
    if kind == "none":
        return AuthSpec()
    secret = _secret(f, (*path, "secret"), data["secret"], url_default)
    if kind == "header":
        header = f.string((*path, "header"), data["header"], pattern=_HEADER, what="a header name")
        return AuthSpec("header", secret, header=header)
    if kind == "basic":
        return AuthSpec("basic", secret, username=f.string((*path, "username"), data["username"]))
    return AuthSpec("bearer", secret)


def _secret(f: Fields, path: FieldPath, value: Any, url_default: str | None) -> SecretRef:
    if not isinstance(value, dict):
        raise f.fail(
            path,
            "the secret must be a reference, never the value itself.",
            hint=REFERENCE_HINT,
        )
    data = f.mapping(path, value, (*_SECRET_SOURCES, "loopback_default"))
    sources = [s for s in _SECRET_SOURCES if s in data]
    if len(sources) != 1:
        raise f.fail(path, "name exactly one source: env, keyring or file.", hint=REFERENCE_HINT)
    source = sources[0]
    name = f.string((*path, source), data[source])
    if source == "env" and not _IDENTIFIER.fullmatch(name):
        raise f.fail((*path, "env"), f"{name!r} is not an environment variable name.")
    if source == "keyring" and not re.fullmatch(r".+/[^/]+", name):
        raise f.fail((*path, "keyring"), "expected SERVICE/USER, for example ircli/mastodon.")
    fallback = None
    if "loopback_default" in data:
        where = (*path, "loopback_default")
        if source != "env":
            raise f.fail(where, "loopback_default only applies to an env secret.", at_key=True)
        if url_default is None or not is_loopback_url(url_default):
            raise f.fail(
                where,
                "loopback_default is only allowed when base_url defaults to a loopback address.",
                at_key=True,
            )
        fallback = f.string(where, data["loopback_default"])
    return SecretRef(source, name, fallback)  # type: ignore[arg-type]


def _limits(f: Fields, value: Any) -> Limits:
    data = f.mapping(("limits",), value, tuple(_LIMIT_KINDS))
    values: dict[str, Any] = {}
    for key, item in data.items():
        path = ("limits", key)
        kind = _LIMIT_KINDS[key]
        if kind == "count":
            values[key] = f.integer(path, item, minimum=1)
        elif kind == "count0":
            values[key] = f.integer(path, item, minimum=0)
        elif kind == "rate":
            values[key] = f.number(path, item, positive=True)
        elif kind == "fraction":
            values[key] = f.number(path, item)
        else:
            values[key] = f.duration(path, item)
    return dataclasses.replace(Limits(), **values)


# -- listings ------------------------------------------------------------------------------------


def _listings(f: Fields, value: Any, scope: Scope) -> dict[str, ListingSpec]:
    listings: dict[str, ListingSpec] = {}
    for name, item in f.mapping(("listings",), value, ANY_KEY).items():
        path = ("listings", name)
        f.string(path, name, pattern=_LISTING_NAME, what="a listing name (e.g. streams)")
        data = f.mapping(path, item, _LISTING_KEYS, required=("path",))
        listings[name] = ListingSpec(
            name=name,
            path=read_path(f, (*path, "path"), data["path"], scope),
            query=read_query(f, (*path, "query"), data.get("query", {}), scope),
            filters=f.string_list((*path, "filters"), data.get("filters", [])),
            items=f.text((*path, "items"), data.get("items", "")),
            id=f.string((*path, "id"), data.get("id", "id")),
            pagination=_pagination(f, (*path, "pagination"), data.get("pagination")),
            description=f.text((*path, "description"), data.get("description", "")),
        )
    return listings


def _pagination(f: Fields, path: FieldPath, value: Any) -> Pagination:
    if value is None:
        return Pagination("none")
    kind = f.choice(
        (*path, "type"),
        f.mapping(path, value, ANY_KEY, required=("type",))["type"],
        tuple(_PAGINATION_KEYS),
        what="pagination type",
    )
    allowed = ("type", *_PAGINATION_KEYS[kind])
    for key in value:
        if key not in allowed and any(key in keys for keys in _PAGINATION_KEYS.values()):
            raise f.fail((*path, key), f"{key!r} does not apply to {kind} pagination.", at_key=True)
    data = f.mapping(path, value, allowed)
    limit_param = data.get("limit_param", "limit")
    if limit_param is not None:
        limit_param = f.string((*path, "limit_param"), limit_param)
    return Pagination(
        kind=kind,  # type: ignore[arg-type]
        param=f.string((*path, "param"), data.get("param", _PAGINATION_PARAM.get(kind, "-"))),
        next=f.string((*path, "next"), data.get("next", "next_cursor")),
        limit_param=limit_param,
        page_size=f.integer((*path, "page_size"), data.get("page_size", 100), minimum=1),
        first_page=f.integer((*path, "first_page"), data.get("first_page", 1), minimum=0),
    )


# -- actions -----------------------------------------------------------------------------------


def _actions(
    f: Fields, value: Any, scope: Scope, listings: Mapping[str, ListingSpec]
) -> dict[str, ActionSpec]:
    data = f.mapping(("actions",), value, ANY_KEY)
    actions = {name: _action(f, name, item, scope, listings) for name, item in data.items()}
    for name, action in actions.items():
        if action.inverse is not None and action.inverse not in actions:
            raise f.fail(
                ("actions", name, "inverse"),
                f"unknown action {action.inverse!r}{did_you_mean(action.inverse, actions)}.",
            )
        if action.inverse == name:
            raise f.fail(("actions", name, "inverse"), "an action cannot be its own inverse.")
    return actions


def _action(
    f: Fields, name: str, value: Any, scope: Scope, listings: Mapping[str, ListingSpec]
) -> ActionSpec:
    path = ("actions", name)
    f.string(path, name, pattern=_ACTION_NAME, what="an action name (e.g. streams.suspend)")
    data = f.mapping(path, value, _ACTION_KEYS, required=("request", "idempotent"))
    specs = read_params(f, (*path, "params"), data.get("params", []))
    single = Scope(scope.variables, tuple(specs), target=True)
    request = read_request(f, (*path, "request"), data["request"], single)
    _needs(f, (*path, "request"), request, "target")
    _optional_params_not_in_path(f, (*path, "request"), request, specs)
    target = ""
    if "target" in data:
        target = f.string((*path, "target"), data["target"])
        if target not in listings:
            raise f.fail(
                (*path, "target"), f"unknown listing {target!r}{did_you_mean(target, listings)}."
            )
    batch = None
    if data.get("batch") is not None:
        batch_scope = Scope(scope.variables, tuple(specs), targets=True)
        batch = _batch(f, (*path, "batch"), data["batch"], batch_scope)
    check = None
    if data.get("check") is not None:
        check = _check(f, (*path, "check"), data["check"], single)
        _optional_params_not_in_path(f, (*path, "check", "request"), check.request, specs)
    inverse = None
    if data.get("inverse") is not None:
        inverse = f.string((*path, "inverse"), data["inverse"])
    return ActionSpec(
        name=name,
        request=request,
        rules=_rules(f, (*path, "classify"), data.get("classify", [])),
        batch=batch,
        idempotent=f.boolean((*path, "idempotent"), data["idempotent"]),
        check=check,
        inverse=inverse,
        params=tuple(specs),
        required=tuple(n for n, s in specs.items() if s.required),
        description=f.text((*path, "description"), data.get("description", "")),
        target_kind=target,
        param_specs=specs,
    )


def _needs(f: Fields, path: FieldPath, request: RequestTemplate, name: str) -> None:
    if name not in placeholders(request):
        raise f.fail(
            path, f"the request never uses {{{name}}}, so every target would get the same request."
        )


def _optional_params_not_in_path(
    f: Fields, path: FieldPath, request: RequestTemplate, specs: Mapping[str, ParamSpec]
) -> None:
    for used in placeholders(request.path):
        spec = specs.get(used[6:]) if used.startswith("param.") else None
        if spec is not None and not spec.required and spec.default is None:
            raise f.fail(
                (*path, "path"),
                f"the optional parameter {spec.name!r} has no "
                "default, so it cannot go into the path.",
            )


def _batch(f: Fields, path: FieldPath, value: Any, scope: Scope) -> BatchSpec:
    data = f.mapping(path, value, _BATCH_KEYS, required=("max_size", "request", "results", "map"))
    request = read_request(f, (*path, "request"), data["request"], scope)
    _needs(f, (*path, "request"), request, "targets")
    words = f.mapping((*path, "map"), data["map"], ANY_KEY)
    if not words:
        raise f.fail((*path, "map"), "map at least one result word to an outcome.")
    return BatchSpec(
        request=request,
        max_size=f.integer((*path, "max_size"), data["max_size"], minimum=1),
        results=f.text((*path, "results"), data["results"]),
        result_id=f.string((*path, "id"), data.get("id", "id")),
        result_status=f.string((*path, "status"), data.get("status", "status")),
        status_map={
            word: Outcome(f.choice((*path, "map", word), item, _OUTCOMES, what="outcome"))
            for word, item in words.items()
        },
    )


def _check(f: Fields, path: FieldPath, value: Any, scope: Scope) -> CheckSpec:
    data = f.mapping(path, value, ("request", "field", "equals"), required=("request", "field"))
    request = read_request(f, (*path, "request"), data["request"], scope)
    _needs(f, (*path, "request"), request, "target")
    if request.method != "GET":
        raise f.fail((*path, "request", "method"), "a check must be a GET request.")
    return CheckSpec(
        request=request,
        field=f.string((*path, "field"), data["field"]),
        equals=_equals(f, (*path, "equals"), data.get("equals", [])),
    )


def _rules(f: Fields, path: FieldPath, value: Any) -> tuple[StatusRule, ...]:
    if not isinstance(value, list):
        raise f.fail(path, "expected a list of rules ({status, field, equals, outcome}).")
    rules = []
    for index, item in enumerate(value):
        where = (*path, index)
        data = f.mapping(where, item, _RULE_KEYS, required=("outcome",))
        if "status" not in data and "field" not in data:
            raise f.fail(where, "a rule needs a status, a field, or both.")
        statuses = data.get("status", [])
        statuses = statuses if isinstance(statuses, list) else [statuses]
        codes = tuple(
            f.integer((*where, "status"), code, minimum=100, maximum=599) for code in statuses
        )
        field = None if "field" not in data else f.string((*where, "field"), data["field"])
        if "equals" in data and field is None:
            raise f.fail((*where, "equals"), "equals needs a field to compare.")
        outcome = f.choice((*where, "outcome"), data["outcome"], _OUTCOMES, what="outcome")
        rules.append(
            StatusRule(
                Outcome(outcome),
                codes,
                field,
                _equals(f, (*where, "equals"), data.get("equals", [])),
            )
        )
    return tuple(rules)


def _equals(f: Fields, path: FieldPath, value: Any) -> tuple[Any, ...]:
    values = value if isinstance(value, list) else [value]
    for index, item in enumerate(values):
        if isinstance(item, dict | list):
            where = (*path, index) if isinstance(value, list) else path
            raise f.fail(where, "equals compares with strings, numbers, booleans or null.")
    return tuple(values)
