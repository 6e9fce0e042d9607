"""Playbook inputs: how they are declared (``inputs:``) and how given values are bound.

Types: ``string``, ``integer``, ``number``, ``boolean``, ``list`` (of strings; ``a,b,c`` on the
command line), ``duration`` (``90s``, ``5m``, ``500ms`` or seconds; bound as float seconds).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ircli.errors import InvalidInput
from ircli.platform.fields import ANY_KEY, Fields, Path, did_you_mean, parse_duration
from ircli.playbook.model import INPUT_TYPES, Input, Playbook

__all__ = ["bind_inputs", "convert_input", "read_inputs"]

INPUT_NAME = re.compile(r"[a-z][a-z0-9_]*")
_KEYS = ("type", "description", "required", "default", "choices")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_MAX_INPUTS = 64


def read_inputs(f: Fields, path: Path, value: Any) -> dict[str, Input]:
    """The ``inputs:`` section: ``name: {type, description, required, default, choices}``."""
    data = f.mapping(path, value, ANY_KEY)
    if len(data) > _MAX_INPUTS:
        raise f.fail(path, f"a playbook may declare at most {_MAX_INPUTS} inputs.")
    inputs: dict[str, Input] = {}
    for name, raw in data.items():
        where = (*path, name)
        if not INPUT_NAME.fullmatch(name):
            raise f.fail(
                where,
                f"{name!r} is not an input name (lower-case letters, digits and '_').",
                at_key=True,
            )
        spec = f.mapping(where, raw if raw is not None else {}, _KEYS)
        kind = "string"
        if "type" in spec:
            kind = f.choice((*where, "type"), spec["type"], INPUT_TYPES, what="input type")
        choices: tuple[Any, ...] = ()
        if "choices" in spec:
            if not isinstance(spec["choices"], list) or not spec["choices"]:
                raise f.fail((*where, "choices"), "expected a non-empty list of values.")
            if kind == "list":
                raise f.fail((*where, "choices"), "a list input cannot have choices.")
            choices = tuple(
                _yaml_value(f, (*where, "choices", i), c, kind)
                for i, c in enumerate(spec["choices"])
            )
        default = None
        if "default" in spec:
            default = _yaml_value(f, (*where, "default"), spec["default"], kind)
            if choices and default not in choices:
                raise f.fail((*where, "default"), "the default is not one of the choices.")
        required = "default" not in spec
        if "required" in spec:
            required = f.boolean((*where, "required"), spec["required"])
            if required and "default" in spec:
                raise f.fail((*where, "required"), "an input with a default cannot be required.")
        inputs[name] = Input(
            name=name,
            type=kind,  # type: ignore[arg-type]
            location=f.loaded.where(where),
            description=f.text((*where, "description"), spec.get("description", "")),
            required=required,
            default=default,
            choices=choices,
        )
    return inputs


def _yaml_value(f: Fields, path: Path, value: Any, kind: str) -> Any:
    """A value written in YAML for an input of ``kind`` (typed, with YAML-1.1 hints)."""
    if kind == "string":
        return f.text(path, value)
    if kind == "integer":
        return f.integer(path, value)
    if kind == "number":
        return f.number(path, value, minimum=float("-inf"))
    if kind == "boolean":
        return f.boolean(path, value)
    if kind == "duration":
        return f.duration(path, value, positive=False)
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(
        f.string((*path, index), item) for index, item in enumerate(_as_list(f, path, value))
    )


def _as_list(f: Fields, path: Path, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise f.fail(path, "expected a list (or a comma-separated string).")
    return value


def convert_input(spec: Input, value: Any, where: str) -> Any:
    """``value`` (a command-line string or an already typed value) as ``spec.type``."""

    def refuse() -> InvalidInput:
        return InvalidInput(
            f"{where}: the input {spec.name!r} must be {_article(spec.type)}, got {value!r}."
        )

    kind = spec.type
    converted: Any
    if kind == "string":
        if not isinstance(value, str):
            raise refuse()
        converted = value
    elif kind == "boolean":
        if isinstance(value, bool):
            converted = value
        elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            converted = value.strip().lower() in _TRUE
        else:
            raise refuse()
    elif kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            converted = value
        elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,18}\s*", value):
            converted = int(value)
        else:
            raise refuse()
    elif kind == "number":
        converted = _number(value, refuse)
    elif kind == "duration":
        seconds = parse_duration(value)
        if seconds is None:
            raise refuse()
        converted = seconds
    else:
        converted = _list(value, refuse)
    if spec.choices and converted not in spec.choices:
        listed = ", ".join(str(c) for c in spec.choices)
        raise InvalidInput(
            f"{where}: the input {spec.name!r} must be one of {listed}, got {value!r}."
        )
    return converted


def _number(value: Any, refuse: Any) -> float:
    if isinstance(value, bool):
        raise refuse()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise refuse() from None
        if number == number and abs(number) != float("inf"):
            return number
    raise refuse()


def _list(value: Any, refuse: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise refuse()


def _article(kind: str) -> str:
    return {
        "integer": "an integer",
        "boolean": "true or false",
        "list": "a comma-separated list",
        "duration": "a duration such as 90s or 5m",
    }.get(kind, f"a {kind}")


def bind_inputs(playbook: Playbook, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every input of ``playbook`` as a typed value: given ones converted, defaults filled.

    ``given`` holds command-line strings (``--input threshold=500``) or typed values (from an
    ``include``). Unknown names and missing required inputs are ``InvalidInput``.
    """
    where = playbook.source
    for name in given:
        if name not in playbook.inputs:
            declared = ", ".join(playbook.inputs) or "none"
            raise InvalidInput(
                f"{where}: the playbook {playbook.name!r} has no input {name!r}"
                f"{did_you_mean(name, playbook.inputs)}; its inputs: {declared}."
            )
    values: dict[str, Any] = {}
    for name, spec in playbook.inputs.items():
        if name in given:
            values[name] = convert_input(spec, given[name], where)
        elif spec.required:
            raise InvalidInput(
                f"{where}: the playbook {playbook.name!r} needs the input {name!r}.",
                hint=f"Give it with --input {name}=VALUE"
                + (f" ({spec.description})." if spec.description else "."),
            )
        else:
            values[name] = spec.default
    return values
