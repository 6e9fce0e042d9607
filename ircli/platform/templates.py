"""Placeholders in request templates, and where each one may be used.

A placeholder is ``{target}``, ``{targets}``, ``{param.NAME}`` or ``{var.NAME}``; which ones a
template may use depends on where it is (``Scope``): ``{target}`` only in single-target
requests and checks, ``{targets}`` only in batch requests, parameters only in actions, and
variables everywhere. Anything else written like a placeholder (``{tragets}``) is an error.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ircli.redaction import is_secret_key
from ircli.shapes import Document
from ircli.wording import did_you_mean
from ircli.yamlfile import FieldPath

__all__ = ["PLACEHOLDER", "Scope", "check_values", "placeholders"]

PLACEHOLDER = re.compile(r"\{(target|targets|(?:param|var|generate)\.[A-Za-z_][A-Za-z0-9_]*)\}")
_LOOKS_LIKE_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
_WHOLE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_.]*)\}$")
NO_CREDENTIALS = "A request template may not carry credentials; authentication belongs in auth."


def placeholders(value: Any) -> set[str]:
    """Every placeholder name used anywhere in a template value."""
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, Mapping):
        return set().union(*(placeholders(v) for v in value.values())) if value else set()
    if isinstance(value, list | tuple):
        return set().union(*(placeholders(v) for v in value)) if value else set()
    return set()


@dataclass(frozen=True)
class Scope:
    """The placeholders a template may use where it stands."""

    variables: Collection[str]
    params: Collection[str] = ()
    target: bool = False
    targets: bool = False
    generated: Collection[str] = ()

    def names(self) -> list[str]:
        """Every placeholder allowed here, as written inside the braces."""
        names = [f"var.{v}" for v in self.variables] + [f"param.{p}" for p in self.params]
        names += [f"generate.{g}" for g in self.generated]
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
        if name.startswith("generate."):
            if not self.target:
                return "generated values go only into the action's single-target request"
            declared = ", ".join(self.generated) or "none"
            return f"the action's generate declares no {name[9:]!r} (declared: {declared})"
        return "it is not a placeholder"


def check_values(doc: Document, path: FieldPath, value: Any, scope: Scope) -> None:
    """Walk a template value: placeholders must be allowed, secrets never literal."""
    if isinstance(value, str):
        allowed = scope.names()
        for name in _LOOKS_LIKE_PLACEHOLDER.findall(value):
            if name in allowed:
                continue
            if name in ("target", "targets") or name.startswith(("param.", "var.", "generate.")):
                reason = scope.explain(name)
                raise doc.fail(path, f"the placeholder {{{name}}} is not allowed: {reason}.")
            raise doc.fail(path, f"unknown placeholder {{{name}}}{_suggest(name, allowed)}.")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and is_secret_key(key) and _is_literal(item):
                raise doc.fail(
                    (*path, key),
                    f"a secret may not be written in a {doc.noun}.",
                    hint=NO_CREDENTIALS,
                )
            check_values(doc, (*path, key), item, scope)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_values(doc, (*path, index), item, scope)


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
