"""The base shape: a frozen pydantic model read from a located YAML document."""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic.fields import FieldInfo

from ircli.redaction import is_secret_key
from ircli.shapes.document import MISSING, Document, Refusal
from ircli.shapes.problems import first_problem
from ircli.shapes.schema import shape_schema
from ircli.shapes.types import is_duration
from ircli.wording import did_you_mean
from ircli.yamlfile import FieldPath, Location

__all__ = ["Located", "Shape", "document", "names_from_keys", "nested", "read_document"]

ShapeT = TypeVar("ShapeT", bound="Shape")


def document(info: ValidationInfo, kind: type[Document] = Document) -> Any:
    """The ``Document`` being read, or ``None`` for a shape built in code."""
    context = info.context
    return context if isinstance(context, kind) else None


class Shape(BaseModel):
    """A frozen model read from YAML.

    While a document is read, each shape refuses unknown keys (with a did-you-mean) and
    secrets written inline, refuses ``null`` except under the keys in ``nullable``, and runs
    ``cross_check`` for the rules a shape alone cannot say. Its problems become one
    ``Refusal`` that the enclosing shape weighs against its own: the problem written first in
    the file is the one reported, even when a later part that depends on it fails too.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        arbitrary_types_allowed=True,
        hide_input_in_errors=True,
        validate_default=False,
        json_schema_extra=lambda schema, cls: shape_schema(schema, cls),
    )
    derived: ClassVar[frozenset[str]] = frozenset()
    """Fields set by ircli (a name taken from the mapping key), never written."""
    nullable: ClassVar[frozenset[str]] = frozenset()
    """Keys whose ``null`` means "not given"; anywhere else ``null`` is refused."""
    schema_rules: ClassVar[dict[str, Any]] = {}
    """Rules the schema states beyond the fields (``required`` keys, ``allOf`` of if/then),
    for what validators check in code."""

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
        nulls = _nulls(cls, data, doc, path)
        with doc.inside(path):
            try:
                shape = handler(data)
            except ValidationError as exc:
                # Reported as one refusal, which the enclosing shape weighs against its own
                # problems: the one written first in the file wins.
                written = doc.value_at(path)
                root = data if written is MISSING else written
                pending = nulls + (doc.take_pending() if not path else [])
                raise first_problem(exc, doc, path, root, pending) from None
            pending = nulls + (doc.take_pending() if not path else [])
            if pending:
                raise min(pending, key=lambda refusal: refusal.position)
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
    written = doc.value_at(path)
    written_keys = written if isinstance(written, dict) else {}
    for key in data:
        if key in allowed or (key in cls.derived and key not in written_keys):
            continue
        if isinstance(key, str) and is_secret_key(key):
            raise doc.fail(
                (*path, key),
                f"a secret may not be written in a {doc.noun}.",
                hint=doc.secret_hint,
                at_key=True,
            )
        raise doc.fail((*path, key), f"unknown key{did_you_mean(key, allowed)}.", at_key=True)


def _nulls(cls: type[Shape], data: dict[str, Any], doc: Document, path: FieldPath) -> list[Refusal]:
    """A refusal for each ``null`` under a key that does not take one."""
    fields = {info.alias or name: info for name, info in cls.model_fields.items()}
    return [
        doc.wrong_type(doc.join(path, (key,)), None, _expected(fields[key]))
        for key, value in data.items()
        if value is None and key not in cls.nullable and key in fields
    ]


def _expected(info: FieldInfo) -> str:
    """How a message names what a field takes (``a string``, ``a mapping`` …)."""
    if is_duration(info.metadata):
        return "a duration such as 10s, 500ms or 2m"
    options = [info.annotation]
    while any(get_origin(o) in (Union, types.UnionType, Annotated) for o in options):
        unwrapped: list[Any] = []
        for option in options:
            if get_origin(option) in (Union, types.UnionType):
                unwrapped += [a for a in get_args(option) if a is not type(None)]
            elif get_origin(option) is Annotated:
                if is_duration(get_args(option)[1:]):
                    return "a duration such as 10s, 500ms or 2m"
                unwrapped.append(get_args(option)[0])
            else:
                unwrapped.append(option)
        options = unwrapped
    for option in options:
        origin = get_origin(option) or option
        if origin is str or getattr(origin, "__name__", "") == "Expression":
            return "a string"
        if origin is Literal:
            values = get_args(option)
            return "a string" if isinstance(values[0], str) else "an integer"
    for option in options:
        origin = get_origin(option) or option
        if isinstance(origin, type) and issubclass(origin, BaseModel | Mapping | dict):
            return "a mapping"
        if origin in (tuple, list):
            return "a list"
        if origin is bool:
            return "true or false"
        if origin is int:
            return "an integer"
        if origin is float:
            return "a number"
    return "a value"


def names_from_keys(field: str, *, null_is_empty: bool = False) -> Callable[..., Any]:
    """A before-validator for ``{name: {...}}`` under ``field``: each item gets its key as
    ``name`` (a field ircli derives); with ``null_is_empty``, ``name: null`` stands for ``{}``."""

    def fill(value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, dict):
            return value
        doc = document(info)
        named = {}
        for name, item in value.items():
            if isinstance(item, dict) or (null_is_empty and item is None):
                filled = {**(item or {}), "name": name}
                item = doc.stand_in(filled, doc.here(field, name)) if doc else filled
            named[name] = item
        return named

    return fill


def read_document(model: type[ShapeT], doc: Document) -> ShapeT:
    """Validate ``doc.loaded.data`` as ``model``; the first problem is one located sentence."""
    try:
        return model.model_validate(doc.loaded.data, context=doc)
    except ValidationError as exc:
        raise first_problem(exc, doc) from None


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
        raise first_problem(exc, doc, path, value) from None
