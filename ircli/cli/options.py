"""Option shapes shared by several command modules."""

from __future__ import annotations

from datetime import datetime

from ircli.clock import parse_time

__all__ = ["parse_optional_time"]


def parse_optional_time(text: str | None, now: datetime, flag: str) -> datetime | None:
    """Parse an optional time option, naming the flag in the error."""
    return None if text is None else parse_time(text, now=now, what=f"{flag} time")
