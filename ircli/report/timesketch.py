"""The timeline as Timesketch JSONL: one event per line.

Timesketch requires ``message``, ``datetime`` (ISO 8601) and ``timestamp_desc``; ``timestamp``
(microseconds since the epoch) is added, and every other field is an extra attribute. Lines are
ASCII-escaped JSON, so no control character reaches a terminal.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ircli.report.model import Report, TimelineItem
from ircli.report.series import parse_utc

__all__ = ["REQUIRED_FIELDS", "render_timesketch", "timesketch_event"]

REQUIRED_FIELDS = ("message", "datetime", "timestamp", "timestamp_desc")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timesketch_event(item: TimelineItem, incident: str) -> dict[str, Any]:
    """One Timesketch event for a timeline line."""
    moment = parse_utc(item.at) or parse_utc(item.recorded_at)
    backfilled = item.at != item.recorded_at and parse_utc(item.at) is not None
    micros, iso = 0, "1970-01-01T00:00:00.000000+00:00"
    if moment is not None:
        utc = moment.astimezone(UTC)
        micros = (utc - _EPOCH) // timedelta(microseconds=1)
        iso = utc.isoformat(timespec="microseconds")
    return {
        "message": item.message,
        "datetime": iso,
        "timestamp": micros,
        "timestamp_desc": "Event time (as reported)" if backfilled else "Recorded in audit store",
        "data_type": "ircli:timeline",
        "incident": incident,
        "kind": item.kind,
        "record_kind": item.record_kind,
        "operator": item.operator,
        "seq": item.seq,
        "recorded": item.recorded_at,
        "run": item.run,
        "step": item.step,
        "target": item.target,
    }


def render_timesketch(report: Report) -> str:
    """JSONL text, one event per timeline line."""
    return "".join(
        json.dumps(timesketch_event(item, report.incident.id), ensure_ascii=True) + "\n"
        for item in report.timeline
    )
