"""Read typed values out of a located YAML document, failing with one located sentence.

``Fields`` wraps a ``LoadedYaml``: every check names the file, line and column of the bad
value and the path to it (``actions -> streams.suspend -> request -> method: …``). It knows
the YAML 1.1 surprises (an unquoted ``NO`` is a boolean, ``3.10`` a float) and says "quote it".
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from ircli.errors import InvalidInput
from ircli.redaction import is_secret_key
from ircli.shapes import describe, did_you_mean, parse_duration
from ircli.yamlfile import LoadedYaml

__all__ = [
    "ANY_KEY",
    "REFERENCE_HINT",
    "Fields",
    "Path",
    "did_you_mean",
    "parse_duration",
]

Path = tuple[str | int, ...]

REFERENCE_HINT = (
    # Worded without "secret:" — redaction would take what follows for a secret value.
    "Name where the secret lives instead, as the value of `secret`: {env: NAME}, "
    "{keyring: SERVICE/USER} or {file: PATH}."
)


class _AnyKey(Collection[str]):
    """Accepts every key: for free-form mappings (a JSON body, a query)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


ANY_KEY: Collection[str] = _AnyKey()


_kind = describe


class Fields:
    """Typed, located access to one loaded YAML document."""

    def __init__(self, loaded: LoadedYaml) -> None:
        self.loaded = loaded

    def fail(
        self, path: Path, message: str, *, hint: str | None = None, at_key: bool = False
    ) -> InvalidInput:
        """An ``InvalidInput`` at ``path`` (``message`` is one sentence without the location)."""
        return self.loaded.error(path, message, hint=hint, at_key=at_key)

    def _wrong_type(self, path: Path, value: Any, expected: str) -> InvalidInput:
        hint = None
        plain = self.loaded.plain_scalars.get(path)
        if plain is not None and expected.startswith("a string") and not isinstance(value, str):
            hint = f"YAML reads the unquoted {plain} as {_kind(value)}; quote it: '{plain}'."
        return self.fail(path, f"expected {expected}, got {_kind(value)}.", hint=hint)

    def mapping(
        self, path: Path, value: Any, allowed: Collection[str], required: Collection[str] = ()
    ) -> dict[str, Any]:
        """A mapping whose keys are all in ``allowed`` and include ``required``."""
        if not isinstance(value, dict):
            raise self._wrong_type(path, value, "a mapping")
        for key in value:
            if key in allowed:
                continue
            if is_secret_key(key):
                raise self.fail(
                    (*path, key),
                    "a secret may not be written in a profile.",
                    hint=REFERENCE_HINT,
                    at_key=True,
                )
            raise self.fail((*path, key), f"unknown key{did_you_mean(key, allowed)}.", at_key=True)
        for key in required:
            if key not in value:
                raise self.fail(path, f"the key {key!r} is required.")
        return value

    def string(
        self, path: Path, value: Any, *, pattern: re.Pattern[str] | None = None, what: str = ""
    ) -> str:
        """A non-empty string, optionally matching ``pattern`` (``what`` describes it)."""
        if not isinstance(value, str):
            raise self._wrong_type(path, value, "a string")
        if not value.strip():
            raise self.fail(path, "must not be empty.")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(path, f"{value!r} is not {what or 'valid here'}.")
        return value

    def text(self, path: Path, value: Any) -> str:
        """A free-text string (descriptions); may be empty."""
        if not isinstance(value, str):
            raise self._wrong_type(path, value, "a string")
        return value

    def boolean(self, path: Path, value: Any) -> bool:
        """``true`` or ``false``."""
        if not isinstance(value, bool):
            raise self._wrong_type(path, value, "true or false")
        return value

    def integer(
        self, path: Path, value: Any, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        """An integer within bounds."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong_type(path, value, "an integer")
        if minimum is not None and value < minimum:
            raise self.fail(path, f"must be at least {minimum}, got {value}.")
        if maximum is not None and value > maximum:
            raise self.fail(path, f"must be at most {maximum}, got {value}.")
        return value

    def number(
        self, path: Path, value: Any, *, minimum: float = 0.0, positive: bool = False
    ) -> float:
        """A number ≥ ``minimum`` (> 0 with ``positive``)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._wrong_type(path, value, "a number")
        if value < minimum or (positive and value <= 0):
            bound = "greater than 0" if positive else f"at least {minimum:g}"
            raise self.fail(path, f"must be {bound}, got {value}.")
        return float(value)

    def duration(self, path: Path, value: Any, *, positive: bool = True) -> float:
        """A duration in seconds: ``10s``, ``500ms``, ``2m`` or a number of seconds."""
        seconds = parse_duration(value)
        if seconds is None:
            raise self.fail(
                path, f"expected a duration such as 10s, 500ms or 2m, got {_kind(value)}."
            )
        if positive and seconds <= 0:
            raise self.fail(path, "the duration must be greater than 0.")
        return seconds

    def choice(self, path: Path, value: Any, choices: Sequence[str], *, what: str) -> str:
        """One of ``choices`` (a string), with did-you-mean."""
        text = self.string(path, value)
        if text not in choices:
            listed = ", ".join(choices)
            raise self.fail(
                path,
                f"unknown {what} {text!r}{did_you_mean(text, choices)}; expected one of {listed}.",
            )
        return text

    def string_list(self, path: Path, value: Any) -> tuple[str, ...]:
        """A list of distinct non-empty strings."""
        if not isinstance(value, list):
            raise self._wrong_type(path, value, "a list")
        items: list[str] = []
        for index, item in enumerate(value):
            text = self.string((*path, index), item)
            if text in items:
                raise self.fail((*path, index), f"{text!r} is listed twice.")
            items.append(text)
        return tuple(items)
