"""Action parameters: how given values are checked against what the profile declares.

A profile declares parameters (``ircli.platform.model.ParamSpec``) as a list of names (each a
required string) or as a mapping of name to ``{type, required, default, choices,
description}``. ``bind_params`` turns what a user
or playbook gave (strings from the command line, typed values from YAML) into the values the
request templates receive, or refuses with one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ircli.errors import InvalidInput
from ircli.platform.model import PARAM_TYPES, ActionSpec, ParamSpec

__all__ = ["PARAM_TYPES", "bind_params"]

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def bind_params(action: ActionSpec, given: Mapping[str, Any]) -> dict[str, Any]:
    """Check and convert the parameters given for ``action``; fill defaults.

    Strings (from the command line) are converted to the declared type; other values must
    already have it. Unknown names, missing required ones, bad values and values outside
    ``choices`` are ``InvalidInput``.
    """
    specs = dict(action.param_specs)
    for name in given:
        if name not in specs:
            raise InvalidInput(action.no_param(name))
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        if name not in given:
            if spec.required:
                raise InvalidInput(f"the action {action.name!r} needs the parameter {name!r}.")
            values[name] = spec.default
            continue
        value = _convert(action.name, spec, given[name])
        if spec.choices and value not in spec.choices:
            listed = ", ".join(str(c) for c in spec.choices)
            raise InvalidInput(
                f"the parameter {name!r} of {action.name!r} must be one of {listed}, "
                f"got {given[name]!r}."
            )
        values[name] = value
    return values


def _convert(action: str, spec: ParamSpec, value: Any) -> Any:
    def refuse() -> InvalidInput:
        return InvalidInput(
            f"the parameter {spec.name!r} of {action!r} must be {_article(spec.type)}, "
            f"got {value!r}."
        )

    if spec.type == "string":
        if isinstance(value, str):
            return value
        raise refuse()
    if spec.type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise refuse()
    if isinstance(value, bool):
        raise refuse()
    if spec.type == "integer":
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            return int(value)
        raise refuse()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise refuse() from None
    raise refuse()


def _article(kind: str) -> str:
    return {"integer": "an integer", "boolean": "true or false"}.get(kind, f"a {kind}")
