"""CSV timeline (formula-safe) and Timesketch JSONL (required fields)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from ircli.report import Report, render_csv, render_timesketch
from ircli.report.csvtimeline import TIMELINE_COLUMNS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def test_csv_is_the_timeline_and_no_cell_starts_a_formula(report: Report) -> None:
    text = render_csv(report)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == TIMELINE_COLUMNS
    assert len(rows) == len(report.timeline) + 1
    for row in rows[1:]:
        for cell in row:
            assert not cell.lstrip().startswith(FORMULA_STARTS), cell
    decision = next(row for row in rows if row[1] == "decision")
    assert decision[3] == "'=cmd|'/c calc'!A1"
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "\\x1b[31mred" in text


def test_timesketch_events_have_the_required_fields(report: Report) -> None:
    lines = render_timesketch(report).splitlines()
    assert len(lines) == len(report.timeline)
    for line, item in zip(lines, report.timeline, strict=True):
        assert line.isascii()
        event = json.loads(line)
        assert isinstance(event["message"], str)
        assert event["message"]
        assert isinstance(event["timestamp_desc"], str)
        assert event["timestamp_desc"]
        moment = datetime.fromisoformat(event["datetime"])
        assert moment.utcoffset() is not None
        assert event["timestamp"] == round(moment.timestamp() * 1_000_000)
        assert (event["incident"], event["seq"], event["kind"]) == (
            report.incident.id,
            item.seq,
            item.kind,
        )
        for extra in ("operator", "run", "step", "target", "record_kind", "recorded"):
            assert extra in event
    first = json.loads(lines[0])
    assert first["datetime"] == "2026-11-28T22:00:00.000000+00:00"
    assert first["timestamp"] == 1_795_903_200_000_000
