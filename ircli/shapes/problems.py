"""Turning pydantic's validation errors into one located sentence."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ircli.shapes.document import MISSING, Document, Refusal, child
from ircli.wording import describe
from ircli.yamlfile import FieldPath

__all__ = ["first_problem"]

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "float_type": "a number",
    "dict_type": "a mapping",
    "mapping_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
}
_BOUNDS = {
    "greater_than_equal": ("must be at least", "ge"),
    "greater_than": ("must be greater than", "gt"),
    "less_than_equal": ("must be at most", "le"),
    "less_than": ("must be less than", "lt"),
}


def first_problem(
    exc: ValidationError | None,
    doc: Document,
    base: FieldPath = (),
    root: Any = MISSING,
    more: list[Refusal] | None = None,
) -> Refusal:
    """The problem written first in the file, among pydantic's errors (``exc``) and ``more``.

    ``root`` is the value validated, written at ``base`` (the document by default)."""
    root = doc.loaded.data if root is MISSING else root
    refusals = list(more or [])
    fallbacks = []  # said only when nothing better is: the items' own problems say more
    errors = exc.errors(include_url=False, include_input=False) if exc else []
    for error in errors:
        loc = tuple(error["loc"])
        found = (error.get("ctx") or {}).get("error")
        if isinstance(found, Refusal):
            refusals.append(found)
        elif error["type"] in ("union_tag_not_found", "union_tag_invalid"):
            # A step without one kind: its own refusal (from the step scan) says more.
            path, _ = _data_path(root, loc)
            fallbacks.append(doc.fail(doc.join(base, path), "the step has no kind."))
        elif error["type"] == "too_short" and len(errors) > 1:
            # A list whose every item failed is also "too short": the items say why.
            path, _ = _data_path(root, loc)
            fallbacks.append(doc.fail(doc.join(base, path), "must not be empty."))
        elif error["type"] == "missing":
            path, _ = _data_path(root, loc[:-1])
            key = loc[-1]
            refusals.append(doc.fail(doc.join(base, path), f"the key {key!r} is required."))
        else:
            path, at_key = _data_path(root, loc)
            value = _value_at(root, path)
            path = doc.join(base, path)
            message, hint = _translate(error, value, doc, path)
            refusals.append(doc.fail(path, message, hint=hint, at_key=at_key))
    return min(refusals or fallbacks, key=lambda refusal: refusal.position)


def _data_path(data: Any, loc: tuple[str | int, ...]) -> tuple[FieldPath, bool]:
    """The path into the document for pydantic's ``loc`` (which also names union members
    and fields ircli fills in, neither of which is in the file)."""
    path: list[str | int] = []
    at_key = False
    node = data
    for part in loc:
        if part == "[key]":
            at_key = True
            continue
        found = child(node, part)
        if found is not MISSING:
            path.append(part)
            node = found
    return tuple(path), at_key


def _value_at(data: Any, path: FieldPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _translate(error: Any, value: Any, doc: Document, path: FieldPath) -> tuple[str, str | None]:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "float_type" and isinstance(value, int) and not isinstance(value, bool):
        return "the number is too large.", None  # an integer no float can hold
    if kind in _EXPECTED:
        return doc.wrong_type_words(path, value, _EXPECTED[kind])
    if kind == "value_error":
        reason = str(ctx.get("error", ""))
        if reason == "duration":
            return f"expected a duration such as 10s, 500ms or 2m, got {describe(value)}.", None
        return reason, None
    if kind in _BOUNDS:
        words, key = _BOUNDS[kind]
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        shown = shown if isinstance(value, int | float) else describe(value)
        return f"{words} {ctx[key]:g}, got {shown}.", None
    if kind in ("string_too_short", "too_short"):
        return "must not be empty.", None
    if kind == "too_long":
        return f"may hold at most {ctx.get('max_length')} items.", None
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        if expected.startswith("'") and not isinstance(value, str):
            return doc.wrong_type_words(path, value, "a string")
        if expected[:1].isdigit() and (isinstance(value, bool) or not isinstance(value, int)):
            return doc.wrong_type_words(path, value, "an integer")
        return f"expected one of {expected}, got {describe(value)}.", None
    return str(error.get("msg", "is not valid")).rstrip(".") + ".", None
