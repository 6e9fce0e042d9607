"""The data behind the charts, derived from the incident's own audit records.

* **Actions per minute**: every result in an ``action.outcome`` record is one target action
  (but ``protected``: held back, never sent), counted in the UTC minute the record was
  written, by action name.
* **Phases**: bands from each recorded milestone (impact started, detected, acknowledged,
  mitigated, resolved) to the next recorded one; the last runs to the end. A milestone never
  recorded gets no band ("detected → mitigated" when nobody acknowledged).
* **Containment curve** (malicious live streams over time): in a drill, the sandbox's ground
  truth (``drill.scored``: malicious streams only, every half second). Otherwise an estimate:
  each ``query.result`` on a stream listing *observes* the count at that moment (honest
  streams the query matched included); each later ``streams.suspend`` outcome lowers the
  estimate by its ``done`` results (``already_done`` streams were not live). Without any
  stream ``query.result``, a ``streams.suspend`` run's ``target_count`` at ``run.started`` is the
  observation. Streams that start between two observations are invisible until the next one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from ircli.audit.outcomes import outcome_tally
from ircli.audit.records import AuditRecord
from ircli.clock import format_utc, stored_time
from ircli.report.model import Charts, ContainmentPoint, MinuteBucket, Phase
from ircli.report.timeline import text_of

__all__ = ["CONTAINMENT_ACTION", "build_charts", "parse_utc"]

CONTAINMENT_ACTION = "streams.suspend"
_LABELS = {
    "impact_started": "impact started",
    "detected": "detected",
    "acknowledged": "acknowledged",
    "mitigated": "mitigated",
    "resolved": "resolved",
}
_ORDER = ("impact_started", "detected", "acknowledged", "mitigated", "resolved")


def parse_utc(text: str | None) -> datetime | None:
    """An audit time string as an aware datetime, or None if it is not one."""
    if not text:
        return None
    try:
        return stored_time(text)
    except ValueError:
        return None


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _actions_per_minute(records: Iterable[AuditRecord]) -> list[MinuteBucket]:
    buckets: dict[datetime, dict[str, int]] = {}
    for record in records:
        moment = parse_utc(record.ts)
        if record.kind != "action.outcome" or moment is None:
            continue
        action = text_of(record.params.get("action")) or "action"
        tally = outcome_tally(record.outcome)
        total = sum(tally.values()) - tally["protected"]  # held back: nothing was sent
        if total:
            counts = buckets.setdefault(_minute(moment), {})
            counts[action] = counts.get(action, 0) + total
    return [
        MinuteBucket(at=format_utc(minute), counts=dict(sorted(counts.items())))
        for minute, counts in sorted(buckets.items())
    ]


def _is_stream_query(record: AuditRecord) -> bool:
    count = record.params.get("count")
    return (
        record.kind == "query.result"
        and "stream" in text_of(record.params.get("listing")).lower()
        and isinstance(count, int)
        and not isinstance(count, bool)
    )


def _ground_truth(records: list[AuditRecord]) -> list[ContainmentPoint]:
    """The last drill's malicious live streams over time (``drill.scored``), if any."""
    for record in reversed(records):
        series = record.params.get("malicious_live") if record.kind == "drill.scored" else None
        if isinstance(series, list) and series:
            return [
                ContainmentPoint(str(point[0]), point[1], "truth")
                for point in series
                if isinstance(point, list) and len(point) == 2 and type(point[1]) is int
            ]
    return []


def _containment(records: list[AuditRecord]) -> list[ContainmentPoint]:
    truth = _ground_truth(records)
    if truth:
        return truth
    has_queries = any(_is_stream_query(record) for record in records)
    points: list[ContainmentPoint] = []
    observed: int | None = None
    for record in records:
        params: Mapping[str, object] = record.params
        if _is_stream_query(record):
            observed = int(str(params["count"]))
            points.append(ContainmentPoint(record.ts, observed, "query"))
        elif (
            not has_queries
            and record.kind == "run.started"
            and params.get("action") == CONTAINMENT_ACTION
            and isinstance(params.get("target_count"), int)
        ):
            observed = int(str(params["target_count"]))
            points.append(ContainmentPoint(record.ts, observed, "selected"))
        elif (
            record.kind == "action.outcome"
            and params.get("action") == CONTAINMENT_ACTION
            and observed is not None
        ):
            done = outcome_tally(record.outcome).get("done", 0)
            if done:
                observed = max(observed - done, 0)
                points.append(ContainmentPoint(record.ts, observed, "suspended"))
    return points


def _phases(milestones: Mapping[str, str], end: datetime) -> list[Phase]:
    """A band from each recorded milestone to the next recorded one (or the window's end),
    named by both: no band claims a milestone that was never recorded."""
    stamped = {name: parse_utc(milestones.get(name)) for name in _ORDER}
    phases = []
    for milestone in _ORDER[:-1]:
        start = stamped[milestone]
        if start is None:
            continue
        following = [
            (later, stamped[later])
            for later in _ORDER[_ORDER.index(milestone) + 1 :]
            if stamped[later] is not None
        ]
        later, finish = following[0] if following else (None, end)
        assert finish is not None
        name = f"{_LABELS[milestone]} → {_LABELS[later] if later else 'now'}"
        phases.append(Phase(name, format_utc(start), format_utc(max(finish, start))))
    return phases


def build_charts(records: list[AuditRecord], milestones: Mapping[str, str]) -> Charts:
    """Chart data for an incident whose records (seq order) and milestones are given."""
    per_minute = _actions_per_minute(records)
    containment = _containment(records)
    moments = [parse_utc(milestones.get(name)) for name in _ORDER]
    moments += [parse_utc(bucket.at) for bucket in per_minute]
    moments += [parse_utc(point.at) for point in containment]
    known = [moment for moment in moments if moment is not None]
    if per_minute:
        last = parse_utc(per_minute[-1].at)
        if last is not None:
            known.append(last + timedelta(minutes=1))
    start = min(known) if known else datetime(1970, 1, 1, tzinfo=UTC)
    end = max(known) if known else start
    end = max(end, start + timedelta(minutes=1))
    return Charts(
        window_start_at=format_utc(start),
        window_end_at=format_utc(end),
        phases=_phases(milestones, end),
        actions_per_minute=per_minute,
        containment=containment,
    )
