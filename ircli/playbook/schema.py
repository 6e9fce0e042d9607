"""The JSON Schema (draft 2020-12) of the playbook format, for editors.

It describes the shape (keys, types, enums) so an editor can complete and flag typos as you
type; the loader remains the authority (it also checks names against the profile, references,
expressions and cross-step rules). ``docs/playbook.schema.json`` is this schema, checked by a
test; the shipped playbooks point at it with ``# yaml-language-server: $schema=…``.
"""

from __future__ import annotations

from typing import Any

from ircli.incident.lifecycle import MILESTONES, STATUSES
from ircli.incident.model import NOTE_KINDS
from ircli.playbook.model import INPUT_TYPES

__all__ = ["SCHEMA_ID", "playbook_schema"]

SCHEMA_ID = "https://ircli.invalid/schemas/playbook-1.json"
_DURATION = {
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m)?\s*$"},
    ]
}
_EXPRESSION = {"type": "string", "minLength": 1, "maxLength": 2000}
_SCALAR = {"type": ["string", "number", "boolean", "null"]}
_ON_ERROR = {"enum": ["abort", "continue", "rollback"]}
_ID = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


def _step(kind_key: str, kind_schema: Any, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    properties = {
        "id": _ID,
        "description": {"type": "string"},
        "when": _EXPRESSION,
        kind_key: kind_schema,
        **(extra or {}),
    }
    return _object(properties, ("id", kind_key))


def playbook_schema() -> dict[str, Any]:
    """The schema as a JSON-ready dict."""
    query = _object(
        {
            "listing": {"type": "string"},
            "filters": {"type": "object", "additionalProperties": _SCALAR},
            "where": _EXPRESSION,
            "limit": {"type": "integer", "minimum": 1},
        },
        ("listing",),
    )
    approvals = {
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": 10},
            _object(
                {
                    "count": {"type": "integer", "minimum": 1, "maximum": 10},
                    "expires": _DURATION,
                    "message": {"type": "string"},
                }
            ),
        ]
    }
    targets = {
        "anyOf": [
            {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1000},
            {"type": "string", "description": "steps.ID.ids or inputs.NAME"},
            _object({"ids": {"type": "array", "items": {"type": "string"}, "minItems": 1}}),
            _object({"file": {"type": "string"}, "column": {"type": "string"}}, ("file",)),
            _object({"from": {"type": "string"}}, ("from",)),
            _object({"query": {"$ref": "#/$defs/query"}}, ("query",)),
        ]
    }
    canary = _object(
        {
            "first": {"type": "integer", "minimum": 1},
            "percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
            "check": _EXPRESSION,
            "query": {"$ref": "#/$defs/query"},
            "settle": _DURATION,
            "on_fail": {"enum": ["pause", "abort"]},
        },
        ("check",),
    )
    params = {"type": "object"}
    action_extra = {
        "targets": targets,
        "params": params,
        "batch": {"type": "integer", "minimum": 1},
        "concurrency": {"type": "integer", "minimum": 1, "maximum": 1024},
        "rate": {"type": "number", "exclusiveMinimum": 0},
        "retries": {"type": "integer", "minimum": 0, "maximum": 100},
        "timeout": _DURATION,
        "max_targets": {"type": "integer", "minimum": 1},
        "max_failure_ratio": {"type": "number", "minimum": 0, "maximum": 1},
        "canary": canary,
        "on_error": _ON_ERROR,
        "approvals": {"$ref": "#/$defs/approvals"},
        "undo": _object({"action": {"type": "string"}, "params": params}),
    }
    steps = [
        _step("query", {"$ref": "#/$defs/query"}),
        _step("action", {"type": "string"}, action_extra),
        _step(
            "note",
            {
                "anyOf": [
                    {"type": "string", "minLength": 1},
                    _object(
                        {"message": {"type": "string"}, "kind": {"enum": list(NOTE_KINDS)}},
                        ("message",),
                    ),
                ]
            },
        ),
        _step(
            "status",
            {
                "anyOf": [
                    {"enum": list(STATUSES)},
                    _object(
                        {
                            "status": {"enum": list(STATUSES)},
                            "milestone": {"enum": list(MILESTONES)},
                            "message": {"type": "string"},
                        }
                    ),
                ]
            },
        ),
        _step("approval", {"$ref": "#/$defs/approvals"}),
        _step(
            "wait",
            _object(
                {
                    "query": {"$ref": "#/$defs/query"},
                    "until": _EXPRESSION,
                    "fail_if": _EXPRESSION,
                    "every": _DURATION,
                    "timeout": _DURATION,
                    "on_fail": _ON_ERROR,
                },
                ("query", "until", "timeout"),
            ),
        ),
        _step(
            "notify",
            _object(
                {
                    "webhook": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
                    "message": {"type": "string"},
                },
                ("webhook", "message"),
            ),
        ),
        _step(
            "include",
            {
                "anyOf": [
                    {"type": "string"},
                    _object({"file": {"type": "string"}, "inputs": {"type": "object"}}, ("file",)),
                ]
            },
        ),
    ]
    input_spec = _object(
        {
            "type": {"enum": list(INPUT_TYPES)},
            "description": {"type": "string"},
            "required": {"type": "boolean"},
            "default": {},
            "choices": {"type": "array", "minItems": 1},
        }
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "ircli playbook",
        "description": "An ircli incident-response playbook (format 1); see docs/playbooks.md.",
        "type": "object",
        "properties": {
            "playbook": {"const": 1},
            "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
            "description": {"type": "string"},
            "profile": {"type": "string"},
            "inputs": {
                "type": "object",
                "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
                "additionalProperties": {"anyOf": [input_spec, {"type": "null"}]},
            },
            "max_targets": {"type": "integer", "minimum": 1},
            "approvals": {"$ref": "#/$defs/approvals"},
            "steps": {
                "type": "array",
                "minItems": 1,
                "maxItems": 200,
                "items": {"oneOf": steps},
            },
        },
        "required": ["playbook", "name", "steps"],
        "additionalProperties": False,
        "$defs": {"query": query, "approvals": approvals},
    }
