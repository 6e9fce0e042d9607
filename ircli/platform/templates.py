"""Read request templates from a profile and check every placeholder they use.

A placeholder is ``{target}``, ``{targets}``, ``{param.NAME}`` or ``{var.NAME}``; which ones a
template may use depends on where it is (``Scope``): ``{target}`` only in single-target
requests and checks, ``{targets}`` only in batch requests, parameters only in actions, and
variables everywhere. Anything else written like a placeholder (``{tragets}``) is an error.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from ircli.platform.fields import ANY_KEY, Fields, Path, did_you_mean
from ircli.platform.model import RequestTemplate
from ircli.redaction import is_secret_key

__all__ = ["METHODS", "Scope", "check_values", "read_path", "read_query", "read_request"]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_LOOKS_LIKE_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
_WHOLE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_.]*)\}$")
_REQUEST_KEYS = ("method", "path", "query", "json", "form")
_NO_CREDENTIALS = "A request template may not carry credentials; authentication belongs in auth."


@dataclass(frozen=True)
class Scope:
    """The placeholders a template may use where it stands."""

    variables: Collection[str]
    params: Collection[str] = ()
    target: bool = False
    targets: bool = False

    def names(self) -> list[str]:
        """Every placeholder allowed here, as written inside the braces."""
        names = [f"var.{v}" for v in self.variables] + [f"param.{p}" for p in self.params]
        if self.target:
            names.insert(0, "target")
        if self.targets:
            names.insert(0, "targets")
        return names

    def explain(self, name: str) -> str:
        """Why ``{name}`` is not allowed here (one clause)."""
        if name == "target":
            return "{target} is not available in a batch request; use {targets}"
        if name == "targets":
            return "{targets} is only available in a batch request"
        if name.startswith("param."):
            declared = ", ".join(self.params) or "none"
            return f"the parameter {name[6:]!r} is not declared (declared: {declared})"
        if name.startswith("var."):
            declared = ", ".join(self.variables) or "none"
            return f"the variable {name[4:]!r} is not declared (declared: {declared})"
        return "it is not a placeholder"


def read_request(fields: Fields, path: Path, value: Any, scope: Scope) -> RequestTemplate:
    """A ``RequestTemplate`` from ``{method, path, query, json, form}``, fully checked."""
    data = fields.mapping(path, value, _REQUEST_KEYS, required=("method", "path"))
    method = fields.string((*path, "method"), data["method"]).upper()
    if method not in METHODS:
        raise fields.fail(
            (*path, "method"),
            f"unknown HTTP method {data['method']!r}{did_you_mean(method, METHODS)}; "
            f"expected one of {', '.join(METHODS)}.",
        )
    url_path = read_path(fields, (*path, "path"), data["path"], scope)
    query = read_query(fields, (*path, "query"), data.get("query", {}), scope)
    if "json" in data and "form" in data:
        raise fields.fail(path, "a request has either a json body or a form body, not both.")
    form = None
    if "form" in data:
        form = dict(fields.mapping((*path, "form"), data["form"], ANY_KEY))
        check_values(fields, (*path, "form"), form, scope)
    if "json" in data:
        check_values(fields, (*path, "json"), data["json"], scope)
    return RequestTemplate(method, url_path, query, data.get("json"), form)


def read_path(fields: Fields, path: Path, value: Any, scope: Scope) -> str:
    """A URL path template (starting with ``/``, no query, no ``{targets}``)."""
    url_path = fields.string(path, value)
    if not url_path.startswith("/"):
        raise fields.fail(path, "the path must start with '/'.")
    if "?" in url_path or "#" in url_path:
        raise fields.fail(path, "the path may not hold a query or fragment; use query: instead.")
    if "{targets}" in url_path:
        raise fields.fail(path, "{targets} is a list and cannot go into the path.")
    check_values(fields, path, url_path, scope)
    return url_path


def read_query(fields: Fields, path: Path, value: Any, scope: Scope) -> dict[str, Any]:
    """Query parameters: scalars or lists of scalars, placeholders allowed."""
    data = _query(fields, path, value)
    check_values(fields, path, data, scope)
    return data


def _query(fields: Fields, path: Path, value: Any) -> dict[str, Any]:
    data = fields.mapping(path, value, ANY_KEY)
    for key, item in data.items():
        items = item if isinstance(item, list) else [item]
        for index, scalar in enumerate(items):
            where = (*path, key, index) if isinstance(item, list) else (*path, key)
            if scalar is None or isinstance(scalar, dict | list):
                raise fields.fail(where, "a query value must be a string, number or boolean.")
    return dict(data)


def check_values(fields: Fields, path: Path, value: Any, scope: Scope) -> None:
    """Walk a template value: placeholders must be allowed, secrets never literal."""
    if isinstance(value, str):
        allowed = scope.names()
        for name in _LOOKS_LIKE_PLACEHOLDER.findall(value):
            if name in allowed:
                continue
            known = name in ("target", "targets") or name.startswith(("param.", "var."))
            if known:
                reason = scope.explain(name)
                raise fields.fail(path, f"the placeholder {{{name}}} is not allowed: {reason}.")
            raise fields.fail(path, f"unknown placeholder {{{name}}}{_suggest(name, allowed)}.")
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and is_secret_key(key) and _is_literal(item):
                raise fields.fail(
                    (*path, key),
                    "a secret may not be written in a profile.",
                    hint=_NO_CREDENTIALS,
                )
            check_values(fields, (*path, key), item, scope)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_values(fields, (*path, index), item, scope)


def _suggest(name: str, allowed: list[str]) -> str:
    hint = did_you_mean(name, allowed)
    return hint.replace("'", "{", 1).replace("'", "}", 1) if hint else hint


def _is_literal(value: Any) -> bool:
    """A value written out in the profile (not a placeholder, not empty)."""
    if value is None or value == "" or isinstance(value, bool):
        return False
    if isinstance(value, str):
        return _WHOLE.match(value) is None
    return not isinstance(value, dict | list)
