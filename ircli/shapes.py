"""The declarative model's base: typed shapes that read YAML documents with located errors.

Profiles (``ircli.platform.model``) and playbooks (``ircli.playbook.model``) are pydantic models
derived from ``Shape``; each shape is declared once, and the JSON Schemas for editors are
generated from the same classes. ``read_document`` validates a ``LoadedYaml`` against a model
and turns every failure into one ``InvalidInput`` sentence::

    playbooks/flood.yaml:14:9: steps -> 2 -> action: unknown action 'streams.supend'
    (did you mean 'streams.suspend'?)

Validators that need more than the value (the profile, earlier steps, where a field was written)
read the ``Document`` passed as validation context, and raise located errors through it. A
shape built in code, without a document, skips those checks.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import re
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PrivateAttr,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from ircli.clock import parse_duration
from ircli.errors import InvalidInput
from ircli.redaction import is_secret_key
from ircli.wording import describe, did_you_mean
from ircli.yamlfile import FieldPath, LoadedYaml, Location

__all__ = [
    "Document",
    "Duration",
    "Located",
    "Number",
    "Shape",
    "Text",
    "Word",
    "choice",
    "document",
    "format_version",
    "json_schema",
    "named",
    "nested",
    "read_document",
]

ShapeT = TypeVar("ShapeT", bound="Shape")
ValueT = TypeVar("ValueT")


# -- the document being read ----------------------------------------------------------------


@dataclass
class Document:
    """Validation context: the YAML being read and where validation stands in it.

    ``noun`` (``profile``, ``playbook``) words the messages; subclasses add what their
    validators need (the environment, the profile, the steps seen so far).
    """

    loaded: LoadedYaml
    noun: str
    secret_hint: str
    stack: list[FieldPath] = field(default_factory=list)
    moved: dict[int, FieldPath] = field(default_factory=dict)
    shorts: dict[FieldPath, str] = field(default_factory=dict)

    def path_of(self, value: Any) -> FieldPath | None:
        """The path of a mapping or list read from the file (or standing in for one)."""
        found = self.moved.get(id(value))
        return found if found is not None else self.loaded.path_of(value)

    def here(self, *more: str | int) -> FieldPath:
        """The path of the shape being validated, extended by ``more``.

        In a short form (``note: text`` for ``note: {message: text}``) the main key stands
        where the short form was written."""
        return self.join(self.stack[-1] if self.stack else (), more)

    def join(self, path: FieldPath, more: FieldPath) -> FieldPath:
        """``path`` extended by ``more``, through short forms (see ``here``)."""
        for part in more:
            if self.shorts.get(path) != part:
                path = (*path, part)
        return path

    def short_form(self, value: Any, key: str, path: FieldPath) -> dict[str, Any]:
        """``{key: value}`` for a value written in short form at ``path``."""
        self.shorts[path] = key
        return self.stand_in({key: value}, path)

    def stand_in(self, new: ValueT, path: FieldPath) -> ValueT:
        """Record that ``new`` (a short form expanded in code) was written at ``path``."""
        self.moved[id(new)] = path
        return new

    def written(self) -> dict[str, Any]:
        """The mapping being validated, as written (empty when it was a short form)."""
        node = self.loaded.data
        for part in self.here():
            node = _child(node, part, _MISSING)
            if node is _MISSING:
                return {}
        written: dict[str, Any] = node if isinstance(node, dict) else {}
        return written

    def wrong_type(self, path: FieldPath, value: Any, expected: str) -> InvalidInput:
        """``expected a string, got a boolean (false).``, with a "quote it" hint where YAML
        turned an unquoted word into something else."""
        message, hint = _wrong_type(self, path, value, expected)
        return self.fail(path, message, hint=hint)

    def fail(
        self, path: FieldPath, message: str, *, hint: str | None = None, at_key: bool = False
    ) -> InvalidInput:
        """An ``InvalidInput`` at ``path``: ``file:line:col: a -> b: message``."""
        return self.loaded.error(path, message, hint=hint, at_key=at_key)

    @contextmanager
    def inside(self, path: FieldPath) -> Iterator[None]:
        """Validate nested shapes as standing at ``path``."""
        self.stack.append(path)
        try:
            yield
        finally:
            self.stack.pop()


def document(info: ValidationInfo, kind: type[Document] = Document) -> Any:
    """The ``Document`` being read, or ``None`` for a shape built in code."""
    context = info.context
    return context if isinstance(context, kind) else None


# -- the base shape ------------------------------------------------------------------------


class Shape(BaseModel):
    """A frozen model read from YAML: unknown keys are refused with a did-you-mean."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        arbitrary_types_allowed=True,
        hide_input_in_errors=True,
        validate_default=False,
        json_schema_extra=lambda schema, cls: _drop_derived(schema, cls),
    )
    derived: ClassVar[frozenset[str]] = frozenset()
    """Fields set by ircli (a name taken from the mapping key, a location), never read."""

    @model_validator(mode="wrap")
    @classmethod
    def _located(cls, data: Any, handler: Callable[[Any], Any], info: ValidationInfo) -> Any:
        doc = document(info)
        if doc is None or not isinstance(data, dict):
            return handler(data)
        path = doc.path_of(data)
        if path is None:
            path = doc.here()
        _check_keys(cls, data, doc, path)
        with doc.inside(path):
            try:
                shape = handler(data)
            except ValidationError as exc:
                # Report it now: later parts may refer to this one, and would fail for it.
                raise _first_problem(exc, doc, path, data) from None
            if isinstance(shape, Located):
                shape._written_at = path
                shape._location_in_file = doc.loaded.where(path)
            shape.cross_check(doc)
            return shape

    def cross_check(self, doc: Any) -> None:
        """Checks beyond the shape (names against the profile, references …), run while a
        document is read; ``doc`` is that ``Document``. Raise ``doc.fail(…)``."""

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The keys a document may write for this shape."""
        return tuple(
            info.alias or name for name, info in cls.model_fields.items() if name not in cls.derived
        )


class Located(Shape):
    """A shape that remembers where it was written, for messages at run time."""

    _written_at: FieldPath = PrivateAttr(default=())
    _location_in_file: Location | None = PrivateAttr(default=None)

    @property
    def location(self) -> Location:
        """``file:line:col`` of the shape (``<code>:1:1`` when built in code)."""
        return self._location_in_file or Location("<code>", 1, 1)

    @property
    def path(self) -> str:
        """``steps -> 2`` — the path to the shape inside its file."""
        return " -> ".join(str(part) for part in self._written_at)


def _check_keys(cls: type[Shape], data: dict[str, Any], doc: Document, path: FieldPath) -> None:
    allowed = cls.keys()
    injected = doc.moved.get(id(data)) is not None
    for key in data:
        if key in allowed or (injected and key in cls.derived):
            continue
        if isinstance(key, str) and is_secret_key(key):
            raise doc.fail(
                (*path, key),
                f"a secret may not be written in a {doc.noun}.",
                hint=doc.secret_hint,
                at_key=True,
            )
        raise doc.fail((*path, key), f"unknown key{did_you_mean(key, allowed)}.", at_key=True)


def read_document(model: type[ShapeT], doc: Document) -> ShapeT:
    """Validate ``doc.loaded.data`` as ``model``; the first problem is one located sentence."""
    try:
        return model.model_validate(doc.loaded.data, context=doc)
    except ValidationError as exc:
        raise _first_problem(exc, doc) from None


def nested(model: type[ShapeT], value: Any, info: ValidationInfo) -> ShapeT:
    """Validate ``value`` as ``model`` from inside another validator (short forms)."""
    doc = document(info)
    if doc is None:
        return model.model_validate(value)
    path = doc.path_of(value)
    if path is None:
        path = doc.here(info.field_name) if info.field_name else doc.here()
    try:
        with doc.inside(path):
            return model.model_validate(value, context=doc)
    except ValidationError as exc:
        raise _first_problem(exc, doc, path, value) from None


# -- reusable field types ----------------------------------------------------------------------


Text = StrictStr
"""Free text (descriptions); may be empty."""
Word = Annotated[StrictStr, Field(min_length=1)]
"""A non-empty string."""
Integer = StrictInt
Boolean = StrictBool


Number = StrictFloat
"""An integer or a decimal (never a boolean or a numeric string)."""


def _duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds is None:
        raise ValueError("duration")
    return seconds


Duration = Annotated[
    float,
    BeforeValidator(_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m)?\s*$"},
            ],
            "description": "seconds, or a duration such as 10s, 500ms or 2m",
        }
    ),
]
"""Seconds, from ``10s``, ``500ms``, ``2m`` or a number."""


def format_version(noun: str, supported: int = 1) -> BeforeValidator:
    """Refuse another format version: ``unsupported profile format 2; this ircli reads 1.``"""

    def check(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and value != supported:
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


# -- turning pydantic's errors into one sentence ----------------------------------------------


_MISSING: Any = object()


def _child(node: Any, part: str | int, missing: Any) -> Any:
    """``node[part]`` for a mapping key or list index that exists, else ``missing``."""
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return missing


def _data_path(data: Any, loc: tuple[str | int, ...]) -> tuple[FieldPath, bool]:
    """The path into the document for pydantic's ``loc`` (which also names union members)."""
    path: list[str | int] = []
    at_key = False
    node = data
    for part in loc:
        if part == "[key]":
            at_key = True
            continue
        child = _child(node, part, _MISSING)
        if child is not _MISSING:
            path.append(part)
            node = child
    return tuple(path), at_key


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "float_type": "a number",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
}


def _wrong_type(doc: Document, path: FieldPath, value: Any, expected: str) -> tuple[str, Any]:
    plain = doc.loaded.plain_scalars.get(path)
    hint = None
    if plain is not None and expected == "a string" and not isinstance(value, str):
        hint = f"YAML reads the unquoted {plain} as {describe(value)}; quote it: '{plain}'."
    return f"expected {expected}, got {describe(value)}.", hint


def _translate(error: Any, value: Any, doc: Document, path: FieldPath) -> tuple[str, str | None]:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _EXPECTED:
        return _wrong_type(doc, path, value, _EXPECTED[kind])
    if kind == "value_error":
        reason = str(ctx.get("error", ""))
        if reason == "number":
            return f"expected a number, got {describe(value)}.", None
        if reason == "duration":
            return f"expected a duration such as 10s, 500ms or 2m, got {describe(value)}.", None
        return reason, None
    bounds = {
        "greater_than_equal": ("must be at least", "ge"),
        "greater_than": ("must be greater than", "gt"),
        "less_than_equal": ("must be at most", "le"),
        "less_than": ("must be less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"{words} {ctx[key]:g}, got {value:g}.", None
    if kind == "string_too_short":
        return "must not be empty.", None
    if kind == "too_short":
        return "must not be empty.", None
    if kind == "too_long":
        return f"may hold at most {ctx.get('max_length')} items.", None
    if kind in ("literal_error", "enum"):
        return f"expected one of {ctx.get('expected')}, got {describe(value)}.", None
    return str(error.get("msg", "is not valid")).rstrip(".") + ".", None


def _first_problem(
    exc: ValidationError, doc: Document, base: FieldPath = (), root: Any = _MISSING
) -> InvalidInput:
    root = doc.loaded.data if root is _MISSING else root
    problems: list[tuple[FieldPath, str, str | None, bool]] = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = tuple(error["loc"])
        if error["type"] == "missing":
            path, _ = _data_path(root, loc[:-1])
            key = loc[-1]
            problems.append((doc.join(base, path), f"the key {key!r} is required.", None, False))
            continue
        path, at_key = _data_path(root, loc)
        value = _value_at(root, path)
        path = doc.join(base, path)
        message, hint = _translate(error, value, doc, path)
        problems.append((path, message, hint, at_key))

    def position(problem: tuple[FieldPath, str, str | None, bool]) -> tuple[int, int]:
        path, _, _, at_key = problem
        where = doc.loaded.key_locations.get(path) if at_key else None
        where = where or doc.loaded.where(path)
        return where.line, where.column

    path, message, hint, at_key = min(problems, key=position)
    return doc.fail(path, message, hint=hint, at_key=at_key)


def _value_at(data: Any, path: FieldPath) -> Any:
    for part in path:
        data = data[part]
    return data


# -- schemas ------------------------------------------------------------------------------------


def _drop_derived(schema: dict[str, Any], cls: Any) -> None:
    """Fields ircli derives (a name from its key, the source file) are not written; the
    others are described by their docstrings."""
    properties = schema.get("properties", {})
    for name, text in _attribute_docs(cls).items():
        info = cls.model_fields.get(name)
        key = (info.alias or name) if info is not None else name
        if key in properties:
            properties[key]["description"] = text
    for name in getattr(cls, "derived", ()):
        schema.get("properties", {}).pop(name, None)
        if name in schema.get("required", ()):
            schema["required"].remove(name)
        if not schema.get("required", True):
            del schema["required"]


def _attribute_docs(cls: type) -> dict[str, str]:
    """The docstrings written under fields (``x: int = 1`` then ``\"\"\"…\"\"\"``), read from the
    source only when a schema is generated: pydantic's ``use_attribute_docstrings`` does this
    for every class at import, which made loading a playbook 0.4 s slower."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, Shape)) or klass is Shape:
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


def json_schema(model: type[Shape], *, schema_id: str, title: str, description: str) -> Any:
    """The JSON Schema (draft 2020-12) of ``model``, as a JSON-ready dict."""
    body = model.model_json_schema(mode="validation", schema_generator=_Schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "title": title,
        "description": description,
        **{key: value for key, value in body.items() if key not in ("title", "description")},
    }
