"""Playbooks as data: the YAML format, its validation, and the expression language.

The public API is re-exported here lazily so that importing the model does not import PyYAML.
Format and language: docs/playbooks.md.

::

    load_playbook(path, *, profile=None, listing_fields=None, webhooks=None) -> Playbook
    load_playbook_text(text, source, *, profile=None, ...) -> Playbook
    bind_inputs(playbook, given) -> dict[str, Any]                typed inputs, defaults filled
    compile_expression(text, scope, origin) -> Expression         expr
    Expression.evaluate(context, item=None) / .test(...) / .filter(items, context)
    Template.render(context); render_value(value, context)        templates
    Context(inputs, steps, now, run, incident, playbook, values)  context
    skipped_result(kind) -> dict                                  what a skipped step publishes
    playbook_schema() -> dict                                     JSON Schema (draft 2020-12)
    available_playbooks() / shipped_playbooks_dir()               catalog
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Context",
    "Expression",
    "Origin",
    "Reference",
    "Scope",
    "Template",
    "available_playbooks",
    "bind_inputs",
    "compile_expression",
    "load_playbook",
    "load_playbook_text",
    "playbook_schema",
    "render_value",
    "shipped_playbooks_dir",
    "skipped_result",
]

_HOMES = {
    "Context": "context",
    "Origin": "context",
    "Reference": "context",
    "Scope": "context",
    "skipped_result": "context",
    "Expression": "expr",
    "compile_expression": "expr",
    "Template": "templates",
    "render_value": "templates",
    "bind_inputs": "inputs",
    "load_playbook": "loader",
    "load_playbook_text": "loader",
    "playbook_schema": "model",
    "available_playbooks": "catalog",
    "shipped_playbooks_dir": "catalog",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ircli.playbook' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ircli.playbook.{home}"), name)
