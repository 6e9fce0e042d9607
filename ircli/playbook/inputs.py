"""Playbook inputs: how they are declared (``inputs:``) and how given values are bound.

Types: ``string``, ``integer``, ``number``, ``boolean``, ``list`` (of strings; ``a,b,c`` on the
command line), ``duration`` (``90s``, ``5m``, ``500ms`` or seconds; bound as float seconds).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ircli.clock import parse_duration
from ircli.errors import InvalidInput
from ircli.playbook.document import PlaybookDocument
from ircli.playbook.parts import playbook_document
from ircli.shapes import Boolean, Located, Text, check_scalar, choice
from ircli.wording import describe
from ircli.yamlfile import FieldPath

if TYPE_CHECKING:
    from ircli.playbook.model import Playbook

__all__ = ["INPUT_TYPES", "Input", "bind_inputs", "convert_input"]

INPUT_TYPES = ("string", "integer", "number", "boolean", "list", "duration")
InputType = Literal["string", "integer", "number", "boolean", "list", "duration"]

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _typed(doc: PlaybookDocument, path: FieldPath, value: Any, kind: str) -> Any:
    """A value written in YAML for an input of ``kind`` (typed, converted)."""
    if kind == "duration":
        seconds = parse_duration(value)
        if seconds is None:
            raise doc.fail(
                path, f"expected a duration such as 10s, 500ms or 2m, got {describe(value)}."
            )
        return seconds
    if kind == "list":
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        if not isinstance(value, list):
            raise doc.fail(path, "expected a list (or a comma-separated string).")
        return tuple(doc.word((*path, index), item) for index, item in enumerate(value))
    return check_scalar(doc, path, value, kind)


class Input(Located):
    """A typed input of the playbook (``--input name=value``)."""

    derived: ClassVar[frozenset[str]] = frozenset({"name"})
    name: str = Field(exclude=True)
    type: Annotated[InputType, choice("input type", INPUT_TYPES)] = "string"
    description: Text = ""
    required: Boolean = False
    """True when there is no default: the run refuses to start without it."""
    choices: Annotated[tuple[Any, ...], Field(min_length=1)] = ()
    default: Any = None
    """Already converted: ``duration`` → seconds (float), ``list`` → tuple of strings."""

    @model_validator(mode="before")
    @classmethod
    def _required_unless_default(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and "required" not in data:
            doc = playbook_document(info)
            return doc.stand_in({**data, "required": "default" not in data}, doc.here())
        return data

    @field_validator("choices")
    @classmethod
    def _typed_choices(cls, value: tuple[Any, ...], info: ValidationInfo) -> tuple[Any, ...]:
        doc = playbook_document(info)
        kind = info.data.get("type")
        if kind is None:  # the type itself is wrong: that is the error to report
            return value
        if kind == "list":
            raise doc.fail(doc.here("choices"), "a list input cannot have choices.")
        return tuple(_typed(doc, doc.here("choices", i), c, kind) for i, c in enumerate(value))

    @field_validator("default")
    @classmethod
    def _typed_default(cls, value: Any, info: ValidationInfo) -> Any:
        doc = playbook_document(info)
        if "type" not in info.data:
            return value
        default = _typed(doc, doc.here("default"), value, info.data["type"])
        if info.data.get("choices") and default not in info.data["choices"]:
            raise doc.fail(doc.here("default"), "the default is not one of the choices.")
        return default

    def cross_check(self, doc: PlaybookDocument) -> None:
        if self.required and "default" in self.model_fields_set and "required" in doc.written():
            raise doc.fail(doc.here("required"), "an input with a default cannot be required.")


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
            raise InvalidInput(f"{where}: {playbook.no_input(name)}")
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
