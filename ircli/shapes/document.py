"""The document being read: where validation stands in it, and located errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ircli.errors import InvalidInput
from ircli.wording import describe
from ircli.yamlfile import FieldPath, LoadedYaml

__all__ = ["MISSING", "Document", "Refusal", "child"]

ValueT = TypeVar("ValueT")
MISSING: Any = object()


class Refusal(InvalidInput, ValueError):
    """A located ``InvalidInput`` raised while a document is validated.

    Being a ``ValueError`` too, pydantic collects it beside its own errors for the other
    fields, and the one written first in the file is reported (``position``): a later part
    that depends on a broken earlier one is not blamed instead.
    """

    def __init__(self, message: str, *, hint: str | None = None, position: tuple[int, int]):
        super().__init__(message, hint=hint)
        self.position = position


def child(node: Any, part: str | int, missing: Any = MISSING) -> Any:
    """``node[part]`` for a mapping key or list index that exists, else ``missing``."""
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return missing


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
    pending: list[Refusal] = field(default_factory=list)
    """Refusals found ahead of validation (a scan of the steps), weighed with the rest."""

    def take_pending(self) -> list[Refusal]:
        """The pending refusals, handed over once."""
        pending, self.pending = self.pending, []
        return pending

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

    def value_at(self, path: FieldPath) -> Any:
        """The value written at ``path`` (``MISSING`` when there is none)."""
        node = self.loaded.data
        for part in path:
            node = child(node, part)
            if node is MISSING:
                break
        return node

    def written(self) -> dict[str, Any]:
        """The mapping being validated, as written (empty when it was a short form)."""
        node = self.value_at(self.here())
        written: dict[str, Any] = node if isinstance(node, dict) else {}
        return written

    def wrong_type(self, path: FieldPath, value: Any, expected: str) -> Refusal:
        """``expected a string, got a boolean (false).``, with a "quote it" hint where YAML
        turned an unquoted word into something else."""
        message, hint = self.wrong_type_words(path, value, expected)
        return self.fail(path, message, hint=hint)

    def wrong_type_words(self, path: FieldPath, value: Any, expected: str) -> tuple[str, Any]:
        """The sentence and hint of ``wrong_type``."""
        plain = self.loaded.plain_scalars.get(path)
        hint = None
        if plain and expected == "a string" and not isinstance(value, str):
            hint = f"YAML reads the unquoted {plain} as {describe(value)}; quote it: '{plain}'."
        return f"expected {expected}, got {describe(value)}.", hint

    def word(self, path: FieldPath, value: Any) -> str:
        """``value`` as a non-empty string, or the located reason it is not one."""
        if not isinstance(value, str):
            raise self.wrong_type(path, value, "a string")
        if not value.strip():
            raise self.fail(path, "must not be empty.")
        return value

    def fail(
        self, path: FieldPath, message: str, *, hint: str | None = None, at_key: bool = False
    ) -> Refusal:
        """A located refusal at ``path``: ``file:line:col: a -> b: message``."""
        error = self.loaded.error(path, message, hint=hint, at_key=at_key)
        location = self.loaded.key_locations.get(path) if at_key else None
        location = location or self.loaded.where(path)
        return Refusal(error.message, hint=error.hint, position=(location.line, location.column))

    def refusal(self, error: InvalidInput, path: FieldPath) -> Refusal:
        """``error`` (already worded, from elsewhere) as a refusal standing at ``path``."""
        where = self.loaded.where(path)
        return Refusal(error.message, hint=error.hint, position=(where.line, where.column))

    @contextmanager
    def inside(self, path: FieldPath) -> Iterator[None]:
        """Validate nested shapes as standing at ``path``."""
        self.stack.append(path)
        try:
            yield
        finally:
            self.stack.pop()
