"""Safe, located YAML loading for every file ircli reads (config, profiles, playbooks).

The loader composes the node tree itself so that it can

* point at ``path:line:col`` for every value (``LoadedYaml.where``),
* refuse duplicate keys, anchors/aliases, tags, multiple documents, and oversized or deeply
  nested input, each with a located one-sentence message,
* remember which scalars were plain (unquoted), so validators can say "quote it" when YAML 1.1
  turned ``NO`` into a boolean or ``3.10`` into a float.

PyYAML is imported lazily: ``ircli --help`` must not pay for it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ircli.errors import InvalidInput

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "FieldPath",
    "LoadedYaml",
    "Location",
    "load_yaml_file",
    "load_yaml_text",
]

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 32

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Location:
    """A 1-based position in a named file."""

    source: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"


@dataclass
class LoadedYaml:
    """Plain Python data plus the position of every value and the plain-scalar texts."""

    source: str
    data: Any
    locations: dict[FieldPath, Location] = field(default_factory=dict)
    key_locations: dict[FieldPath, Location] = field(default_factory=dict)
    plain_scalars: dict[FieldPath, str] = field(default_factory=dict)
    containers: dict[int, FieldPath] = field(default_factory=dict)
    """The path of each mapping and list in ``data``, by identity (see ``path_of``)."""

    def path_of(self, value: Any) -> FieldPath | None:
        """The path of a mapping or list of ``data`` (``None`` for anything else)."""
        return self.containers.get(id(value))

    def where(self, path: FieldPath) -> Location:
        """The location of ``path``, or of its nearest located ancestor."""
        probe = tuple(path)
        while probe not in self.locations and probe:
            probe = probe[:-1]
        return self.locations.get(probe, Location(self.source, 1, 1))

    def error(
        self, path: FieldPath, message: str, *, hint: str | None = None, at_key: bool = False
    ) -> InvalidInput:
        """An ``InvalidInput`` located at ``path``: ``file:line:col: a -> b: message``.

        ``at_key`` points at the mapping key rather than its value (for unknown names).
        """
        shown = " -> ".join(str(part) for part in path)
        location = self.key_locations.get(path) if at_key else None
        prefix = f"{location or self.where(path)}: " + (f"{shown}: " if shown else "")
        return InvalidInput(prefix + message, hint=hint)


def load_yaml_file(path: Path, *, max_bytes: int = MAX_BYTES) -> LoadedYaml:
    """Read and load ``path``; every failure is an ``InvalidInput`` naming the file."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the file ({exc.strerror}).") from None
    if len(raw) > max_bytes:
        raise InvalidInput(f"{path}:1:1: the file is larger than the {max_bytes} byte limit.")
    return load_yaml_bytes(raw, str(path))


def load_yaml_bytes(raw: bytes, source: str) -> LoadedYaml:
    """Decode UTF-8 strictly (reporting the line of a bad byte) and load."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InvalidInput(f"{source}:{line}:{column}: the file is not valid UTF-8.") from None
    return load_yaml_text(text, source)


def load_yaml_text(text: str, source: str) -> LoadedYaml:
    """Load one YAML document from ``text``; ``source`` names it in messages."""
    import yaml

    if len(text) > MAX_BYTES:
        raise InvalidInput(f"{source}:1:1: the document is larger than the {MAX_BYTES} byte limit.")
    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise InvalidInput(f"{source}:{line}:{column}: the file contains a NUL byte.")
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.composer.ComposerError as exc:
            raise _marked(source, exc, _composer_message(exc)) from None
        except yaml.MarkedYAMLError as exc:
            raise _marked(source, exc, _problem(exc)) from None
    finally:
        loader.dispose()
    result = LoadedYaml(source=source, data=None)
    if node is not None:
        result.data = _Builder(result).build(node, (), 0)
    return result


def _problem(exc: Any) -> str:
    problem = str(exc.problem or exc.context or "invalid YAML").rstrip(".")
    return f"invalid YAML: {problem}."


def _composer_message(exc: Any) -> str:
    text = str(exc.problem or "")
    if "expected a single document" in str(exc.context or "") or "single document" in text:
        return "the file holds more than one YAML document; ircli reads exactly one."
    if "alias" in text:
        return "YAML anchors and aliases are not allowed."
    return _problem(exc)


def _marked(source: str, exc: Any, message: str) -> InvalidInput:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return InvalidInput(f"{source}: {message}")
    return InvalidInput(f"{source}:{mark.line + 1}:{mark.column + 1}: {message}")


class _Builder:
    """Turns a composed node tree into plain data, recording locations."""

    def __init__(self, result: LoadedYaml) -> None:
        import yaml

        self._yaml = yaml
        self._result = result
        self._constructor = yaml.SafeLoader("")
        self._seen: set[int] = set()

    def _location(self, node: Any) -> Location:
        mark = node.start_mark
        return Location(self._result.source, mark.line + 1, mark.column + 1)

    def _fail(self, node: Any, message: str) -> InvalidInput:
        return InvalidInput(f"{self._location(node)}: {message}")

    def build(self, node: Any, path: FieldPath, depth: int) -> Any:
        yaml = self._yaml
        if depth > MAX_DEPTH:
            raise self._fail(node, f"the document nests deeper than {MAX_DEPTH} levels.")
        # The composer resolves an alias to the very node it names: a node met twice is an
        # alias, and expanding it would open the door to "billion laughs".
        if id(node) in self._seen:
            raise self._fail(node, "YAML anchors and aliases are not allowed.")
        self._seen.add(id(node))
        self._result.locations[path] = self._location(node)
        if isinstance(node, yaml.MappingNode):
            return self._container(self._mapping(node, path, depth), path)
        if isinstance(node, yaml.SequenceNode):
            self._check_tag(node, "tag:yaml.org,2002:seq")
            items = [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
            return self._container(items, path)
        return self._scalar(node, path)

    def _container(self, value: Any, path: FieldPath) -> Any:
        self._result.containers[id(value)] = path
        return value

    def _check_tag(self, node: Any, expected: str) -> None:
        if node.tag != expected:
            raise self._fail(node, f"the YAML tag {node.tag!r} is not allowed.")

    def _mapping(self, node: Any, path: FieldPath, depth: int) -> dict[str, Any]:
        yaml = self._yaml
        self._check_tag(node, "tag:yaml.org,2002:map")
        data: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if (
                not isinstance(key_node, yaml.ScalarNode)
                or key_node.tag == "tag:yaml.org,2002:merge"
            ):
                raise self._fail(key_node, "mapping keys must be plain strings.")
            key = key_node.value
            if key in data:
                first = self._result.key_locations[(*path, key)]
                raise self._fail(
                    key_node, f"duplicate key {key!r} (first defined at line {first.line})."
                )
            self._result.key_locations[(*path, key)] = self._location(key_node)
            data[key] = self.build(value_node, (*path, key), depth + 1)
        return data

    def _scalar(self, node: Any, path: FieldPath) -> Any:
        allowed = {
            "tag:yaml.org,2002:str",
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
            "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:null",
        }
        if node.tag not in allowed:
            raise self._fail(node, f"the YAML tag {node.tag!r} is not allowed.")
        if not node.style:  # plain (unquoted): None from PyYAML, "" from libyaml
            self._result.plain_scalars[path] = node.value
        try:
            return self._constructor.construct_object(node, deep=True)
        except self._yaml.YAMLError as exc:
            raise self._fail(node, _problem(exc)) from None
        except ValueError:  # an integer past Python's digit limit
            limit = sys.get_int_max_str_digits()
            raise self._fail(node, f"the number is longer than {limit} digits.") from None
