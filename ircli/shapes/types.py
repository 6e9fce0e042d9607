"""Field types shared by the profile and playbook models, and the checks they make."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)
from pydantic_core import core_schema

from ircli.clock import parse_duration
from ircli.shapes.document import Document
from ircli.wording import describe, did_you_mean
from ircli.yamlfile import FieldPath

__all__ = [
    "SCALAR_TYPES",
    "Boolean",
    "Duration",
    "Integer",
    "Number",
    "PositiveDuration",
    "Text",
    "Word",
    "check_scalar",
    "choice",
    "format_version",
    "is_duration",
    "named",
    "query_text",
]

Text = StrictStr
"""Free text (descriptions); may be empty."""


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty.")
    return value


Word = Annotated[StrictStr, Field(min_length=1), AfterValidator(_not_blank)]
"""A string that is not empty or only blanks."""
Integer = StrictInt
Boolean = StrictBool
Number = StrictFloat
"""An integer or a decimal (never a boolean or a numeric string)."""

_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*$"},
    ],
    "description": "seconds, or a duration such as 10s, 500ms, 2m or 2h",
}


def _duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds is None:
        raise ValueError("duration")
    return seconds


def _positive_duration(value: Any) -> float:
    seconds = _duration(value)
    if seconds <= 0:
        raise ValueError("the duration must be greater than 0.")
    return seconds


def is_duration(metadata: Any) -> bool:
    """Whether a field's metadata makes it a duration (for naming it in messages)."""
    return any(getattr(m, "func", None) in (_duration, _positive_duration) for m in metadata)


Duration = Annotated[float, BeforeValidator(_duration), WithJsonSchema(_DURATION_SCHEMA)]
"""Seconds, from ``10s``, ``500ms``, ``2m``, ``2h``, ``1d`` or a number (0 allowed)."""
PositiveDuration = Annotated[
    float, BeforeValidator(_positive_duration), WithJsonSchema(_DURATION_SCHEMA)
]
"""A duration greater than 0."""

SCALAR_TYPES: dict[str, tuple[str, Any]] = {
    "string": ("a string", lambda v: isinstance(v, str)),
    "integer": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "number": ("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    "boolean": ("true or false", lambda v: isinstance(v, bool)),
}
"""A declared scalar type → how messages name it, and whether a YAML value has it."""


def query_text(value: Any) -> str | None:
    """A filter value written in YAML as a listing is sent it: booleans ``true``/``false``,
    numbers their text, strings as written; ``None`` for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value if isinstance(value, str) else None


def check_scalar(doc: Document, path: FieldPath, value: Any, kind: str) -> Any:
    """``value`` (written in YAML) must have the scalar type ``kind``; numbers become floats."""
    expected, holds = SCALAR_TYPES[kind]
    if not holds(value):
        raise doc.wrong_type(path, value, expected)
    if kind != "number":
        return value
    try:
        return float(value)
    except OverflowError:
        raise doc.fail(path, "the number is too large.") from None


def format_version(noun: str, supported: int = 1) -> BeforeValidator:
    """Refuse another format version: ``unsupported profile format 2; this ircli reads 1.``"""

    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer, got {describe(value)}.")
        if value != supported:
            raise ValueError(f"unsupported {noun} format {value}; this ircli reads {supported}.")
        return value

    return BeforeValidator(check)


def choice(what: str, values: Sequence[str]) -> BeforeValidator:
    """Refuse a value outside ``values`` with ``unknown WHAT 'x' (did you mean …)``."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and value not in values:
            raise ValueError(
                f"unknown {what} {value!r}{did_you_mean(value, values)}; "
                f"expected one of {', '.join(values)}."
            )
        return value

    return BeforeValidator(check)


@dataclass(frozen=True)
class named:  # lower-case: it reads like a function in Annotated[str, named(...)]
    """Refuse a string that does not match ``pattern``: ``'x' is not WHAT.``; the schema
    carries the pattern."""

    pattern: str
    what: str

    def _check(self, value: Any) -> Any:
        if isinstance(value, str) and value.strip() and not re.fullmatch(self.pattern, value):
            raise ValueError(f"{value!r} is not {self.what}.")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_before_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        result = handler(schema)
        result["pattern"] = f"^(?:{self.pattern})$"
        return result
