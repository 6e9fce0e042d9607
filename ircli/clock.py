"""Time as a dependency: the core never calls ``datetime.now`` itself."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ircli.errors import InvalidInput

__all__ = ["Clock", "format_utc", "parse_duration", "parse_time", "system_clock"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}

Clock = Callable[[], datetime]
"""A zero-argument callable returning an aware UTC ``datetime``."""


def system_clock() -> datetime:
    """The real wall clock, in UTC."""
    return datetime.now(UTC)


def format_utc(moment: datetime) -> str:
    """Render an aware datetime as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (the audit's time form)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str, *, now: datetime | None = None, what: str = "time") -> datetime:
    """Parse an ISO-8601 time (``Z`` or an offset; naive means UTC) or ``now``.

    Raises ``InvalidInput`` with a one-sentence message on anything else.
    """
    value = text.strip()
    if value.lower() == "now":
        return now if now is not None else system_clock()
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise InvalidInput(
            f"invalid {what} {text!r}: expected an ISO-8601 time such as 2026-11-28T21:04:00Z.",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_duration(value: Any) -> float | None:
    """Seconds from ``10s``, ``500ms``, ``2m`` or a number; ``None`` when not a duration."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            match = _DURATION.match(value)
            if match:
                return float(match.group(1)) * _UNITS[match.group(2)]
    except OverflowError:  # a number of hundreds of digits is no duration
        return None
    return None
