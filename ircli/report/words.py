"""How a report words values: counts, durations, times, parameters.

One number format (thousands separators), ``unknown`` for what no record gives.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ircli.report.series import parse_utc

__all__ = [
    "UNKNOWN",
    "duration",
    "num",
    "parameters_text",
    "short_time",
    "value_text",
]

UNKNOWN = "unknown"


def num(value: int) -> str:
    """``17,759``: every count in a report has thousands separators."""
    return f"{value:,}"


def duration(seconds: float | None) -> str:
    """``1h 02m 03s`` / ``9m 00s`` / ``unknown``."""
    if seconds is None:
        return UNKNOWN
    total = int(seconds)
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    return (
        f"{sign}{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{sign}{minutes}m {secs:02d}s"
    )


def short_time(at: str | None) -> str:
    """``2026-11-28 22:04:00`` (UTC) for an audit time; anything else as it is."""
    moment = parse_utc(at)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else (at or UNKNOWN)


def value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def parameters_text(parameters: Mapping[str, Any]) -> str:
    """``enabled=false, rollout_percent=0``."""
    return ", ".join(f"{key}={value_text(value)}" for key, value in parameters.items())
