"""Time as a dependency: the core never calls ``datetime.now`` itself."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ircli.errors import InvalidInput

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "Clock",
    "format_epoch",
    "format_utc",
    "parse_duration",
    "parse_time",
    "stored_time",
    "system_clock",
]

MIN_YEAR, MAX_YEAR = 1970, 9999
"""Times ircli takes: incidents happen in this range; outside it is a typo (0999 for 1999)."""
_SHORT_YEAR = re.compile(r"^(\d{1,3})-")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}

Clock = Callable[[], datetime]
"""A zero-argument callable returning an aware UTC ``datetime``."""


def system_clock() -> datetime:
    """The real wall clock, in UTC."""
    return datetime.now(UTC)


def format_utc(moment: datetime) -> str:
    """Render an aware datetime as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (the audit's time form):
    fixed width, four-digit year (``strftime("%Y")`` does not pad years before 1000)."""
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T"
        f"{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond:06d}Z"
    )


def format_epoch(seconds: float) -> str:
    """Epoch seconds in the audit's time form (``format_utc``)."""
    return format_utc(datetime.fromtimestamp(seconds, UTC))


def stored_time(text: str) -> datetime:
    """A time read back from the audit store, as an aware UTC datetime. Lenient with what
    older versions wrote: a year of fewer than four digits (``999-06-01T…``) is padded."""
    value = _SHORT_YEAR.sub(lambda m: f"{int(m.group(1)):04d}-", text.strip(), count=1)
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_time(text: str, *, now: datetime | None = None, what: str = "time") -> datetime:
    """Parse an ISO-8601 time (``Z`` or an offset; naive means UTC) or ``now``.

    Raises ``InvalidInput`` with a one-sentence message on anything else.
    """
    value = text.strip()
    if value.lower() == "now":
        return now if now is not None else system_clock()
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"invalid {what} {text!r}: expected an ISO-8601 time such as 2026-11-28T21:04:00Z.",
        ) from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise InvalidInput(
            f"invalid {what} {text!r}: the year must be from {MIN_YEAR} to {MAX_YEAR}."
        )
    return moment


def parse_duration(value: Any) -> float | None:
    """Seconds from ``10s``, ``500ms``, ``2m``, ``2h``, ``1d`` or a number; ``None`` when not a
    duration."""
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
