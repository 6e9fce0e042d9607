"""JSON Schemas generated from the shapes, for editors (``ircli profile|playbook schema``)."""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

__all__ = ["json_schema", "shape_schema"]

_NULL = {"type": "null"}


def json_schema(
    model: type[BaseModel], *, schema_id: str, title: str, description: str
) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``model``, as a JSON-ready dict."""
    body = model.model_json_schema(mode="validation", schema_generator=_Schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "title": title,
        "description": description,
        **{key: value for key, value in body.items() if key not in ("title", "description")},
    }


def shape_schema(schema: dict[str, Any], cls: Any) -> None:
    """Finish one shape's schema: each field described by its docstring, fields ircli
    derives left out, and ``null`` allowed exactly where the loader takes it."""
    properties: dict[str, Any] = schema.get("properties", {})
    aliases = {name: info.alias or name for name, info in cls.model_fields.items()}
    for name, text in _attribute_docs(cls).items():
        key = aliases.get(name, name)
        if key in properties:
            properties[key]["description"] = text
    for name in getattr(cls, "derived", ()):
        properties.pop(name, None)
        if name in schema.get("required", ()):
            schema["required"].remove(name)
    if not schema.get("required", True):
        del schema["required"]
    nullable: frozenset[str] = getattr(cls, "nullable", frozenset())
    for key, prop in properties.items():
        properties[key] = _with_null(prop) if key in nullable else _without_null(prop)
    for key, value in getattr(cls, "schema_rules", {}).items():
        if key == "required":
            schema["required"] = sorted({*schema.get("required", ()), *value})
        else:
            schema[key] = value


def _with_null(prop: dict[str, Any]) -> dict[str, Any]:
    if _NULL in prop.get("anyOf", ()) or prop.get("type") == "null":
        return prop
    outer = {k: v for k, v in prop.items() if k in ("description", "default")}
    inner = {k: v for k, v in prop.items() if k not in outer}
    return {"anyOf": [inner, _NULL], **outer}


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    options = prop.get("anyOf")
    if not options or _NULL not in options:
        return prop
    kept = [option for option in options if option != _NULL]
    rest = {k: v for k, v in prop.items() if k != "anyOf" and not (k == "default" and v is None)}
    if len(kept) == 1:
        return {**kept[0], **rest}
    return {"anyOf": kept, **rest}


def _attribute_docs(cls: type) -> dict[str, str]:
    """The docstrings written under fields (``x: int = 1`` then a string), read from the
    source only when a schema is generated: pydantic's ``use_attribute_docstrings`` does
    this for every class at import, which made loading a playbook 0.4 s slower."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not hasattr(klass, "model_fields") or klass.__module__.startswith("pydantic"):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for first, second in itertools.pairwise(body):
            if (
                isinstance(first, ast.AnnAssign)
                and isinstance(first.target, ast.Name)
                and isinstance(second, ast.Expr)
                and isinstance(second.value, ast.Constant)
                and isinstance(second.value.value, str)
            ):
                docs[first.target.id] = inspect.cleandoc(second.value.value)
    return docs


class _Schema(GenerateJsonSchema):
    """Drops pydantic's generated titles: editors show the descriptions instead."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False
