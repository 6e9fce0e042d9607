"""The timeline as CSV: one row per timeline line, every cell formula-safe.

Cells go through ``csv_cell``: no cell starts a spreadsheet formula, and no terminal escape or
bidi override survives a ``cat``.
"""

from __future__ import annotations

import csv
import io

from ircli.audit.export import csv_cell
from ircli.report.model import Report

__all__ = ["TIMELINE_COLUMNS", "render_csv"]

TIMELINE_COLUMNS = (
    "at",
    "kind",
    "operator",
    "message",
    "incident",
    "record_kind",
    "run",
    "step",
    "target",
    "seq",
    "recorded_at",
)


def render_csv(report: Report) -> str:
    """CSV text, header first, CRLF line ends (RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TIMELINE_COLUMNS)
    for item in report.timeline:
        row = {**item.__dict__, "incident": report.incident.id}
        writer.writerow([csv_cell(row[c]) for c in TIMELINE_COLUMNS])
    return buffer.getvalue()
