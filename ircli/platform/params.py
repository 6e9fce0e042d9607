"""Action parameters: how a profile declares them and how given values are checked.

A profile declares parameters as a list of names (each a required string) or as a mapping of
name to ``{type, required, default, choices, description}``. ``bind_params`` turns what a user
or playbook gave (strings from the command line, typed values from YAML) into the values the
request templates receive, or refuses with one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ircli.errors import InvalidInput
from ircli.platform.fields import ANY_KEY, Fields, Path, did_you_mean
from ircli.platform.model import ActionSpec, ParamSpec

__all__ = ["PARAM_TYPES", "bind_params", "read_params"]

PARAM_TYPES = ("string", "integer", "number", "boolean")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYS = ("type", "required", "default", "choices", "description")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def read_params(fields: Fields, path: Path, value: Any) -> dict[str, ParamSpec]:
    """The declared parameters of an action (``params:``)."""
    if isinstance(value, list):
        names = fields.string_list(path, value)
        for index, name in enumerate(names):
            fields.string((*path, index), name, pattern=_NAME, what="a parameter name")
        return {name: ParamSpec(name) for name in names}
    data = fields.mapping(path, value, ANY_KEY)
    specs: dict[str, ParamSpec] = {}
    for name, raw in data.items():
        where = (*path, name)
        if not _NAME.fullmatch(name):
            raise fields.fail(where, f"{name!r} is not a parameter name.", at_key=True)
        spec = fields.mapping(where, raw if raw is not None else {}, _KEYS)
        kind = "string"
        if "type" in spec:
            kind = fields.choice((*where, "type"), spec["type"], PARAM_TYPES, what="type")
        choices: tuple[Any, ...] = ()
        if "choices" in spec:
            if not isinstance(spec["choices"], list) or not spec["choices"]:
                raise fields.fail((*where, "choices"), "expected a non-empty list of values.")
            choices = tuple(
                _typed(fields, (*where, "choices", i), c, kind)
                for i, c in enumerate(spec["choices"])
            )
        default = None
        if "default" in spec:
            default = _typed(fields, (*where, "default"), spec["default"], kind)
            if choices and default not in choices:
                raise fields.fail((*where, "default"), "the default is not one of the choices.")
        required = "default" not in spec
        if "required" in spec:
            required = fields.boolean((*where, "required"), spec["required"])
            if required and "default" in spec:
                raise fields.fail(
                    (*where, "required"), "a parameter with a default cannot be required."
                )
        description = fields.text((*where, "description"), spec.get("description", ""))
        specs[name] = ParamSpec(name, kind, required, default, choices, description)  # type: ignore[arg-type]
    return specs


def _typed(fields: Fields, path: Path, value: Any, kind: str) -> Any:
    if kind == "string":
        return fields.text(path, value)
    if kind == "integer":
        return fields.integer(path, value)
    if kind == "number":
        return fields.number(path, value, minimum=float("-inf"))
    return fields.boolean(path, value)


def bind_params(action: ActionSpec, given: Mapping[str, Any]) -> dict[str, Any]:
    """Check and convert the parameters given for ``action``; fill defaults.

    Strings (from the command line) are converted to the declared type; other values must
    already have it. Unknown names, missing required ones, bad values and values outside
    ``choices`` are ``InvalidInput``.
    """
    specs = dict(action.param_specs) or {name: ParamSpec(name) for name in action.params}
    for name in given:
        if name not in specs:
            declared = ", ".join(specs) or "none"
            raise InvalidInput(
                f"the action {action.name!r} takes no parameter {name!r}"
                f"{did_you_mean(name, specs)}; its parameters: {declared}."
            )
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
